package bench

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"

	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/lab"
	"github.com/xtunnel/xtunnel/tunnel"
)

// The kernel as a peer: one source of VXLAN frames, two receivers on
// the same veth pair (host A's ethA sends, host B's ethB receives): the
// kernel's VXLAN driver, and xtunnel's vxlan link decapsulating into its
// overlay netdev.
const (
	vxlanVNI     = "42"
	vxlanNetdevK = "kvx0" // the kernel's vxlan netdev on host B
	vxlanNetdevX = "xvx0" // xtunnel's
)

// vxlanFar is the far end of the VXLAN tunnel: an on-link address behind
// ethA, the source of the frames.
var vxlanFar = netip.MustParseAddr("198.51.100.9")

// VXLANPeerReport compares the two receivers.
type VXLANPeerReport struct {
	Rounds int      `json:"rounds"`
	Frames uint32   `json:"frames_per_trial"`
	Method string   `json:"method"`
	Rows   []PPSRow `json:"rows"` // the kernel's, then xtunnel's (Ratio: to the kernel's, Target)
}

const vxlanPeerMethod = "a live-frames source (an XDP program returning XDP_TX, BPF_PROG_RUN with " +
	"BPF_F_TEST_XDP_LIVE_FRAMES on host A's ethA, through the frame-restoring wrapper) sends pre-built VXLAN frames " +
	"(VNI 42, port 4789, built by xtunnel's encap) across the veth to host B's ethB; there either the kernel's vxlan " +
	"netdev (ip link add kvx0 type vxlan id 42 local B remote A dstport 4789 dev ethB, an XDP_PASS program on ethB so " +
	"that XDP frames are accepted) or xtunnel (attach ethB, link add xvx0 type vxlan id 42 ..., decap into the " +
	"overlay) decapsulates them; Mpps = rx packets of the tunnel netdev / wall time of the source's call, both on " +
	"the one pinned CPU that also runs the receive softirqs; rounds alternate the two, and the ratio pairs them by round"

// measureVXLANPeer measures the kernel's VXLAN driver and xtunnel's
// vxlan decap on the same traffic, interleaved. Host B must have no
// xtunnel state (setupGateway's is gone).
func measureVXLANPeer(ctx context.Context, l *lab.Lab, cfg LiveConfig, cpu int, reasons *reasonIndex,
	progress func(string)) (rep *VXLANPeerReport, err error) {
	progress("kernel vxlan: source on host A, the kernel's vxlan and xtunnel's in turn on host B")
	links, err := lookupLinks(l.HostA, lab.DevA)
	if err != nil {
		return nil, err
	}
	ethA := links[0]
	if links, err = lookupLinks(l.HostB, lab.DevB); err != nil {
		return nil, err
	}
	ethB := links[0]
	underB := netip.MustParseAddr(lab.UnderlayB)

	var undo cleanups
	defer func() { err = joinErr(err, undo.run()) }()

	// The kernel's netdev stays for the whole measurement: while xtunnel
	// is attached its XDP program takes the frames first.
	if err := ipNS(ctx, l.HostB, "link", "add", vxlanNetdevK, "type", "vxlan", "id", vxlanVNI, "local", underB.String(),
		"remote", vxlanFar.String(), "dstport", "4789", "dev", lab.DevB); err != nil {
		return nil, err
	}
	undo.add(func() error { return ipNS(context.Background(), l.HostB, "link", "del", vxlanNetdevK) })
	for _, args := range [][]string{
		{"link", "set", vxlanNetdevK, "addrgenmode", "none"},
		{"link", "set", vxlanNetdevK, "up"},
	} {
		if err := ipNS(ctx, l.HostB, args...); err != nil {
			return nil, err
		}
	}
	pass, err := newCounter(xdpPass)
	if err != nil {
		return nil, err
	}
	defer pass.Close()
	txProg, err := emptyProgram(ebpf.XDP, xdpTX)
	if err != nil {
		return nil, err
	}
	defer txProg.Close()

	spec, err := tunnel.ParseLinkAdd([]string{"name", "xtb", "type", "vxlan", "id", vxlanVNI,
		"local", vxlanFar.String(), "remote", underB.String(), "dstport", "4789"})
	if err != nil {
		return nil, err
	}
	// The inner frame: an IPv4 packet to a MAC that is neither netdev's,
	// which both stacks drop right after decapsulation (not for this
	// host), so the receivers do the same work after it.
	inner, err := plainFrame(netip.MustParseAddr("10.9.9.1"), netip.MustParseAddr("10.9.9.2"), innerDst, innerSrc)
	if err != nil {
		return nil, err
	}
	frame, err := encapsulated(spec, inner, ethB.MAC, ethA.MAC, reasons)
	if err != nil {
		return nil, err
	}
	src, err := newRestorer(frame, txProg)
	if err != nil {
		return nil, err
	}
	defer src.Close()

	kernel := &PPSRow{Path: "kernel vxlan decap", Tunnel: "vxlan", Ingress: lab.DevB, Egress: vxlanNetdevK, FrameBytes: len(frame)}
	xt := &PPSRow{Path: "xtunnel vxlan decap", Tunnel: "vxlan", Ingress: lab.DevB, Egress: vxlanNetdevX, FrameBytes: len(frame)}
	var kMpps, kFrac, xMpps, xFrac []float64

	// One trial: set the receiver up, send, count at the tunnel netdev,
	// take the receiver down again.
	trial := func(useKernel bool, n uint32) (mpps, frac float64, err error) {
		var down func() error
		netdev := vxlanNetdevX
		if useKernel {
			netdev = vxlanNetdevK
			a, err := attachXDP(pass.Prog, ethB)
			if err != nil {
				return 0, 0, err
			}
			down = a.Close
		} else {
			if down, err = xtunnelVXLAN(l, underB); err != nil {
				return 0, 0, err
			}
		}
		defer func() { err = joinErr(err, down()) }()
		before, err := rxPackets(l.HostB, netdev)
		if err != nil {
			return 0, 0, err
		}
		took, err := liveRun(src.Prog, ethA, frame, n, cpu)
		if err != nil {
			return 0, 0, err
		}
		time.Sleep(20 * time.Millisecond)
		after, err := rxPackets(l.HostB, netdev)
		if err != nil {
			return 0, 0, err
		}
		got := float64(after - before)
		return got / took.Seconds() / 1e6, got / float64(n), nil
	}

	// Warm-up, not recorded.
	for _, k := range []bool{true, false} {
		if _, _, err := trial(k, cfg.Frames/10); err != nil {
			return nil, err
		}
	}
	progress(fmt.Sprintf("kernel vxlan: 2 receivers x %d rounds x %d frames", cfg.Rounds, cfg.Frames))
	for r := 0; r < cfg.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := 0; i < 2; i++ {
			useKernel := (i+r)%2 == 0
			mpps, frac, err := trial(useKernel, cfg.Frames)
			if err != nil {
				return nil, err
			}
			if useKernel {
				kMpps, kFrac = append(kMpps, mpps), append(kFrac, frac)
			} else {
				xMpps, xFrac = append(xMpps, mpps), append(xFrac, frac)
			}
		}
	}
	kernel.Mpps, kernel.Delivered, kernel.Samples = stat(kMpps), stat(kFrac), kMpps
	kernel.Ratio = stat(ratios(kMpps, kMpps))
	xt.Mpps, xt.Delivered, xt.Samples = stat(xMpps), stat(xFrac), xMpps
	xt.Ratio = stat(ratios(xMpps, kMpps))
	xt.Target = atLeast(xt.Ratio.Median, TargetVXLANPeer)
	return &VXLANPeerReport{Rounds: cfg.Rounds, Frames: cfg.Frames, Method: vxlanPeerMethod,
		Rows: []PPSRow{*kernel, *xt}}, nil
}

// xtunnelVXLAN attaches xtunnel to host B's ethB and creates its vxlan
// link from the far end; the returned function takes both away again
// (detach removes the link and the state).
func xtunnelVXLAN(l *lab.Lab, local netip.Addr) (down func() error, err error) {
	var dp *dataplane.Dataplane
	err = inNS(l.HostB, -1, func() error {
		if dp, err = dataplane.Open(dataplane.Options{BPFFS: l.BPFFS}); err != nil {
			return err
		}
		if _, err := dp.Attach(lab.DevB); err != nil {
			return err
		}
		spec, err := tunnel.ParseLinkAdd([]string{"name", vxlanNetdevX, "type", "vxlan", "id", vxlanVNI,
			"local", local.String(), "remote", vxlanFar.String(), "dstport", "4789", "dev", lab.DevB})
		if err != nil {
			return err
		}
		if _, _, err := dp.AddLink(spec); err != nil {
			return err
		}
		ov, err := netlink.LinkByName(vxlanNetdevX)
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(ov)
	})
	down = func() error {
		if dp == nil {
			return nil
		}
		return inNS(l.HostB, -1, func() error {
			var err error
			if ports, _ := dp.Ports(); hasPort(ports, lab.DevB) {
				err = dp.Detach(lab.DevB)
			}
			return joinErr(err, dp.Close())
		})
	}
	if err != nil {
		return nil, joinErr(err, down())
	}
	return down, nil
}

// rxPackets reads a netdev's rx packet counter in ns.
func rxPackets(ns, dev string) (uint64, error) {
	var n uint64
	err := inNS(ns, -1, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("[%s] %s: %w", ns, dev, err)
		}
		if st := l.Attrs().Statistics; st != nil {
			n = st.RxPackets
			return nil
		}
		return fmt.Errorf("[%s] %s: no statistics", ns, dev)
	})
	return n, err
}
