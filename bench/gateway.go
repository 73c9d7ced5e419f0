package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"

	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/lab"
	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// LiveConfig sizes the live-frames measurements (gateway forwarding and
// the kernel's VXLAN as a peer).
type LiveConfig struct {
	Rounds int    // interleaved rounds: every configuration once per round
	Frames uint32 // frames per trial (one BPF_PROG_RUN call)
}

// DefaultLiveConfig takes about 25 s on an idle 2-core machine.
var DefaultLiveConfig = LiveConfig{Rounds: 5, Frames: 1_000_000}

// gwType is a tunnel measured through gateway mode: the words of its
// `xtunnel link add` (after the name, local, remote and dev) and of the
// receive port it needs (`xtunnel fou add`).
type gwType struct {
	Name  string
	Class string // "ip" (ipip, gre) or "udp" (FOU, GUE, geneve): which target applies
	words []string
	fou   []string
}

// gwTypes are the tunnels gateway mode forwards in XDP: the IP ones
// (an Ethernet tunnel's frames go to its bridge, not to the FIB). Each
// gets its own remote end, so that ipip and ipip over FOU, which share
// an outer protocol, are told apart by address.
var gwTypes = []gwType{
	{Name: "ipip", Class: "ip", words: []string{"type", "ipip"}},
	{Name: "gre", Class: "ip", words: []string{"type", "gre"}},
	{Name: "ipip-fou", Class: "udp", words: []string{"type", "ipip", "encap", "fou", "encap-sport", "auto", "encap-dport", "5555"},
		fou: []string{"port", "5555", "ipproto", "4"}},
	{Name: "ipip-gue", Class: "udp", words: []string{"type", "ipip", "encap", "gue", "encap-dport", "5556"},
		fou: []string{"port", "5556", "gue"}},
	{Name: "geneve-l3", Class: "udp", words: []string{"type", "geneve", "id", "80", "innerprotoinherit"}},
}

// Gateway addresses: host B (lab.DevB, lab.UnderlayB) is the gateway;
// the tunnels' far ends are on-link addresses behind lab.DevA, one per
// type, 198.51.100.10 and up; the site behind each is 10.1.(10+i).0/24.
// Decapsulated packets go to lab.CliB4 behind host B's vcli.
func gwRemote(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}) }
func gwSite(i int) netip.Addr   { return netip.AddrFrom4([4]byte{10, 1, byte(10 + i), 2}) }

// PPSRow is one packets-per-second figure of live frames.
type PPSRow struct {
	Path       string `json:"path"`   // "decap→forward", "encap→forward", "mac-swap baseline", "kernel vxlan decap", "xtunnel vxlan decap"
	Tunnel     string `json:"tunnel"` // "gre", ...; "" for a baseline
	Class      string `json:"class,omitempty"`
	Ingress    string `json:"ingress"` // the netdev the frames arrive on
	Egress     string `json:"egress"`  // where they leave (and are counted)
	FrameBytes int    `json:"frame_bytes"`
	// Mpps is delivered frames over the wall time of the BPF_PROG_RUN
	// call, in millions per second; median, min, max over rounds.
	Mpps Stat `json:"mpps"`
	// Delivered is the fraction of the frames sent that the far end
	// counted.
	Delivered Stat `json:"delivered"`
	// Ratio is Mpps over the baseline's Mpps, paired round by round.
	Ratio   Stat      `json:"ratio"`
	Target  *Target   `json:"target,omitempty"`
	Samples []float64 `json:"samples_mpps"`
	// Reasons are the reason counters the trials moved, summed (xtunnel
	// rows): every frame must have taken the path.
	Reasons map[string]uint64 `json:"reasons,omitempty"`
}

// GatewayReport is the live-frames measurement of gateway mode.
type GatewayReport struct {
	Rounds int      `json:"rounds"`
	Frames uint32   `json:"frames_per_trial"`
	CPU    int      `json:"cpu"`
	Method string   `json:"method"`
	Rows   []PPSRow `json:"rows"`
}

const gatewayMethod = "BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES (batch 64) on the program attached in gateway mode, " +
	"IngressIfindex an attached veth of the gateway namespace: verdicts are carried out (XDP_TX, XDP_REDIRECT through " +
	"xt_devmap), the frames cross the veth to an XDP counter (XDP_DROP) on its far end; Mpps = frames the far end counted / " +
	"wall time of the call, on one pinned CPU; every trial checks that the reason counter (gw_decap, gw_encap) grew by " +
	"exactly the frames sent; rounds interleave every configuration; ratio: against the MAC-swap XDP_TX program run on " +
	"the same ingress netdev in the same round"

// gwTrial is one configuration of the gateway measurement.
type gwTrial struct {
	row     *PPSRow
	prog    progRunner
	ingress nsLink
	far     *counter
	frame   []byte
	reason  int // reason counter that must grow by the frames sent; -1: none
	base    *gwTrial
	restore *restorer
	mpps    []float64
	frac    []float64
}

// progRunner is what a trial runs: the program and the tables whose
// reasons it counts (nil for the baselines).
type progRunner struct {
	prog   *ebpf.Program
	tables *maps.Tables
}

// gatewayLab is the gateway set up in a lab's host B.
type gatewayLab struct {
	l        *lab.Lab
	dp       *dataplane.Dataplane
	objs     *loader.Objects // the programs, loaded on the dataplane's pinned maps
	ethA     nsLink          // host A's underlay: far end of ethB
	ethB     nsLink
	vcli     nsLink // host B's site netdev
	eth0     nsLink // cliB's: far end of vcli
	farA     *counter
	farCli   *counter
	attached []*xdpAttachment
}

// setupGateway attaches xtunnel in gateway mode to host B's ethB and
// vcli, creates one tunnel of each gwTypes to its own far end, routes
// each far end's site into its tunnel, adds permanent neighbours (the
// far ends behind ethB, cliB behind vcli) and puts an XDP counter on the
// far end of both veths.
func setupGateway(l *lab.Lab) (g *gatewayLab, err error) {
	g = &gatewayLab{l: l}
	defer func() {
		if err != nil {
			err = joinErr(err, g.Close())
			g = nil
		}
	}()
	links, err := lookupLinks(l.HostB, lab.DevB, "vcli")
	if err != nil {
		return g, err
	}
	g.ethB, g.vcli = links[0], links[1]
	if links, err = lookupLinks(l.HostA, lab.DevA); err != nil {
		return g, err
	}
	g.ethA = links[0]
	if links, err = lookupLinks(l.CliB, "eth0"); err != nil {
		return g, err
	}
	g.eth0 = links[0]

	for _, far := range []struct {
		c   **counter
		dev nsLink
	}{{&g.farA, g.ethA}, {&g.farCli, g.eth0}} {
		c, err := newCounter(xdpDrop)
		if err != nil {
			return g, err
		}
		*far.c = c
		a, err := attachXDP(c.Prog, far.dev)
		if err != nil {
			return g, err
		}
		g.attached = append(g.attached, a)
	}

	underB := netip.MustParseAddr(lab.UnderlayB)
	err = inNS(l.HostB, -1, func() error {
		dp, err := dataplane.Open(dataplane.Options{BPFFS: l.BPFFS})
		if err != nil {
			return err
		}
		g.dp = dp
		for _, dev := range []string{lab.DevB, "vcli"} {
			if _, err := dp.AttachGateway(dev); err != nil {
				return err
			}
		}
		for i, gt := range gwTypes {
			if gt.fou != nil {
				p, err := tunnel.ParseFOUAdd(gt.fou)
				if err != nil {
					return fmt.Errorf("%s: fou add %v: %w", gt.Name, gt.fou, err)
				}
				if err := dp.AddFOU(p); err != nil {
					return fmt.Errorf("%s: %w", gt.Name, err)
				}
			}
			spec, err := gt.spec(gwName(i), underB, gwRemote(i))
			if err != nil {
				return err
			}
			if _, _, err := dp.AddLink(spec); err != nil {
				return fmt.Errorf("%s: %w", gt.Name, err)
			}
			ov, err := netlink.LinkByName(spec.Name)
			if err != nil {
				return err
			}
			if err := netlink.LinkSetUp(ov); err != nil {
				return fmt.Errorf("%s: up: %w", spec.Name, err)
			}
			site := netip.PrefixFrom(gwSite(i), 24).Masked()
			if err := dp.AddRoutes([]tunnel.Route{{Prefix: site, Dev: spec.Name}}); err != nil {
				return fmt.Errorf("%s: %w", gt.Name, err)
			}
			if err := permanentNeigh(g.ethB.Index, gwRemote(i), g.ethA.MAC); err != nil {
				return err
			}
		}
		return permanentNeigh(g.vcli.Index, netip.MustParseAddr(lab.CliB4), g.eth0.MAC)
	})
	if err != nil {
		return g, err
	}
	// The programs as attached, on the same pinned maps: what runs on
	// ethB and vcli now.
	g.objs, err = loader.Load(filepath.Join(g.dp.Dir(), "maps"))
	return g, err
}

func gwName(i int) string { return fmt.Sprintf("xgw%d", i) }

// spec is the tunnel of type g from local to remote, parsed from its
// link add words, on ethB.
func (g gwType) spec(name string, local, remote netip.Addr) (tunnel.Spec, error) {
	words := append([]string{"name", name}, g.words...)
	words = append(words, "local", local.String(), "remote", remote.String(), "dev", lab.DevB)
	s, err := tunnel.ParseLinkAdd(words)
	if err != nil {
		return s, fmt.Errorf("%s: link add %v: %w", g.Name, words, err)
	}
	return s, nil
}

// permanentNeigh resolves ip on ifindex to mac for good (the calling
// thread's namespace), so bpf_fib_lookup finds a neighbour.
func permanentNeigh(ifindex int, ip netip.Addr, mac net.HardwareAddr) error {
	fam := netlink.FAMILY_V4
	if ip.Is6() {
		fam = netlink.FAMILY_V6
	}
	err := netlink.NeighSet(&netlink.Neigh{LinkIndex: ifindex, Family: fam, State: netlink.NUD_PERMANENT,
		IP: ip.AsSlice(), HardwareAddr: mac})
	if err != nil {
		return fmt.Errorf("neighbour %s: %w", ip, err)
	}
	return nil
}

// Close detaches xtunnel from host B (which removes its tunnels and
// routes) and the far-end counters, and closes what the bench holds.
func (g *gatewayLab) Close() error {
	var errs cleanups
	for _, a := range g.attached {
		errs.add(a.Close)
	}
	if g.objs != nil {
		g.objs.Close()
	}
	for _, c := range []*counter{g.farA, g.farCli} {
		if c != nil {
			c.Close()
		}
	}
	if g.dp != nil {
		dp := g.dp
		errs.add(func() error {
			return inNS(g.l.HostB, -1, func() error {
				var err error
				for _, dev := range []string{"vcli", lab.DevB} {
					if ports, _ := dp.Ports(); hasPort(ports, dev) {
						err = joinErr(err, dp.Detach(dev))
					}
				}
				for _, gt := range gwTypes {
					if gt.fou != nil {
						if p, perr := tunnel.ParseFOUAdd(gt.fou); perr == nil {
							dp.DelFOU(p) // gone with the state already, most likely
						}
					}
				}
				return joinErr(err, dp.Close())
			})
		})
	}
	return errs.run()
}

func hasPort(ps []dataplane.Port, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// measureGateway measures decap→forward and encap→forward of every
// gwTypes through the gateway, and the MAC-swap baseline on each of the
// two ingress netdevs, interleaved over cfg.Rounds.
func measureGateway(ctx context.Context, l *lab.Lab, cfg LiveConfig, cpu int, reasons *reasonIndex,
	progress func(string)) (*GatewayReport, error) {
	gwDecap, gwEncap := reasons.index("gw_decap"), reasons.index("gw_encap")
	if gwDecap < 0 || gwEncap < 0 {
		return nil, fmt.Errorf("the BPF object has no reason gw_decap or gw_encap: gateway mode is missing")
	}
	progress("gateway: attaching in gateway mode, one tunnel per type, neighbours, far-end counters")
	g, err := setupGateway(l)
	if err != nil {
		return nil, fmt.Errorf("gateway setup: %w", err)
	}
	defer g.Close()
	swap, err := macSwapProgram()
	if err != nil {
		return nil, err
	}
	defer swap.Close()
	tables := maps.New(g.objs.Maps)

	rep := &GatewayReport{Rounds: cfg.Rounds, Frames: cfg.Frames, CPU: cpu, Method: gatewayMethod}
	cliB := netip.MustParseAddr(lab.CliB4)
	underB := netip.MustParseAddr(lab.UnderlayB)

	// Baselines: a plain frame in, MACs swapped, XDP_TX back out of the
	// same veth to its far end's counter.
	var trials []*gwTrial
	baseline := map[string]*gwTrial{}
	for _, b := range []struct {
		in, out nsLink
		far     *counter
		src     netip.Addr
		dst     netip.Addr
	}{
		{g.ethB, g.ethA, g.farA, gwSite(0), cliB},
		{g.vcli, g.eth0, g.farCli, cliB, gwSite(0)},
	} {
		frame, err := plainFrame(b.src, b.dst, b.in.MAC, b.out.MAC)
		if err != nil {
			return nil, err
		}
		tr := &gwTrial{
			row: &PPSRow{Path: "mac-swap baseline", Ingress: b.in.Name, Egress: b.out.Name + " (XDP_TX)",
				FrameBytes: len(frame)},
			prog: progRunner{prog: swap}, ingress: b.in, far: b.far, frame: frame, reason: -1,
		}
		tr.base = tr
		baseline[b.in.Name] = tr
		trials = append(trials, tr)
	}
	// The harness alone: the frame restored, then dropped.
	drop, err := emptyProgram(ebpf.XDP, xdpDrop)
	if err != nil {
		return nil, err
	}
	defer drop.Close()
	b0 := baseline[g.ethB.Name]
	trials = append(trials, &gwTrial{
		row:  &PPSRow{Path: "frame restore alone", Ingress: g.ethB.Name, Egress: "XDP_DROP", FrameBytes: len(b0.frame)},
		prog: progRunner{prog: drop}, ingress: g.ethB, frame: b0.frame, reason: -1, base: b0,
	})
	for i, gt := range gwTypes {
		spec, err := gt.spec("xtb", gwRemote(i), underB) // the far end's view
		if err != nil {
			return nil, err
		}
		in, err := plainFrame(gwSite(i), cliB, wireDst, wireSrc)
		if err != nil {
			return nil, err
		}
		outer, err := encapsulated(spec, in, g.ethB.MAC, g.ethA.MAC, reasons)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gt.Name, err)
		}
		plain, err := plainFrame(cliB, gwSite(i), g.vcli.MAC, g.eth0.MAC)
		if err != nil {
			return nil, err
		}
		dec := &gwTrial{
			row: &PPSRow{Path: "decap→forward", Tunnel: gt.Name, Class: gt.Class, Ingress: g.ethB.Name,
				Egress: g.vcli.Name + " (redirect)", FrameBytes: len(outer)},
			prog: progRunner{prog: g.objs.Underlay, tables: tables}, ingress: g.ethB, far: g.farCli,
			frame: outer, reason: gwDecap, base: baseline[g.ethB.Name],
		}
		enc := &gwTrial{
			row: &PPSRow{Path: "encap→forward", Tunnel: gt.Name, Class: gt.Class, Ingress: g.vcli.Name,
				Egress: g.ethB.Name + " (redirect)", FrameBytes: len(plain)},
			prog: progRunner{prog: g.objs.Underlay, tables: tables}, ingress: g.vcli, far: g.farA,
			frame: plain, reason: gwEncap, base: baseline[g.vcli.Name],
		}
		trials = append(trials, dec, enc)
	}

	defer func() {
		for _, tr := range trials {
			if tr.restore != nil {
				tr.restore.Close()
			}
		}
	}()
	progress(fmt.Sprintf("gateway: %d configurations x %d rounds x %d frames (live frames)", len(trials), cfg.Rounds, cfg.Frames))
	// A short warm-up of each (not recorded): neighbours, caches, pages.
	for _, tr := range trials {
		if _, _, err := tr.run(cfg.Frames/10, cpu, reasons); err != nil {
			return nil, err
		}
	}
	for r := 0; r < cfg.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range trials {
			tr := trials[(i+r)%len(trials)]
			mpps, frac, err := tr.run(cfg.Frames, cpu, reasons)
			if err != nil {
				return nil, err
			}
			tr.mpps = append(tr.mpps, mpps)
			tr.frac = append(tr.frac, frac)
		}
	}
	for _, tr := range trials {
		tr.row.Mpps, tr.row.Delivered, tr.row.Samples = stat(tr.mpps), stat(tr.frac), tr.mpps
		tr.row.Ratio = stat(ratios(tr.mpps, tr.base.mpps))
		if tr.reason >= 0 { // xtunnel's paths; not the baselines or the harness
			tr.row.Target = atLeast(tr.row.Ratio.Median, gwTarget(tr.row.Path, tr.row.Class))
		}
		rep.Rows = append(rep.Rows, *tr.row)
	}
	return rep, nil
}

// gwTarget is the target for a path and class of tunnel.
func gwTarget(path, class string) float64 {
	switch {
	case path == "decap→forward" && class == "ip":
		return TargetDecapIP
	case path == "decap→forward":
		return TargetDecapUDP
	case class == "ip":
		return TargetEncapIP
	}
	return TargetEncapUDP
}

// run sends n frames and returns Mpps (delivered / wall time) and the
// delivered fraction. For xtunnel's program the reason counter must
// grow by exactly n.
func (tr *gwTrial) run(n uint32, cpu int, reasons *reasonIndex) (mpps, frac float64, err error) {
	var before []uint64
	if tr.prog.tables != nil {
		if before, err = tr.prog.tables.Reasons(); err != nil {
			return 0, 0, err
		}
	}
	var sent0 uint64
	if tr.far != nil {
		if sent0, err = tr.far.Count(); err != nil {
			return 0, 0, err
		}
	}
	if tr.restore == nil {
		if tr.restore, err = newRestorer(tr.frame, tr.prog.prog); err != nil {
			return 0, 0, err
		}
	}
	took, err := liveRun(tr.restore.Prog, tr.ingress, tr.frame, n, cpu)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: %w", tr.row.Path, tr.row.Tunnel, err)
	}
	got := sent0 + uint64(n) // nothing is sent: every frame counts
	if tr.far != nil {
		time.Sleep(20 * time.Millisecond) // what is still queued on the far end
		if got, err = tr.far.Count(); err != nil {
			return 0, 0, err
		}
	}
	if tr.prog.tables != nil {
		after, err := tr.prog.tables.Reasons()
		if err != nil {
			return 0, 0, err
		}
		moved := reasons.moved(before, after)
		if moved[reasons.names[tr.reason]] != uint64(n) {
			return 0, 0, fmt.Errorf("%s %s: %d frames moved reasons %s; want %s %d: the frames did not all take the path",
				tr.row.Path, tr.row.Tunnel, n, formatCounts(moved), reasons.names[tr.reason], n)
		}
		if tr.row.Reasons == nil {
			tr.row.Reasons = map[string]uint64{}
		}
		for k, v := range moved {
			tr.row.Reasons[k] += v
		}
	}
	delivered := float64(got - sent0)
	return delivered / took.Seconds() / 1e6, delivered / float64(n), nil
}
