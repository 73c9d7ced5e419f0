package loader_test

// A frame sent on a VLAN device over an Ethernet tunnel's overlay carries
// its tag aside (skb->vlan_present), which BPF_PROG_TEST_RUN cannot set:
// it refuses a context with vlan_tci. So here the programs run attached
// (TCX) in a nextHop namespace, behind a two-instruction program that
// puts the tag in the skb's metadata as the 8021q driver would (this
// kernel may have no 8021q):
//
//	ov0 (the overlay, peer ovp0): bpf_skb_vlan_push(0x8100, tci), then
//	xt_tc_encap on its egress; xt_tc_peer on ovp0's ingress
//	the tunnel's link xtu0, its remote addrRemote lladdr neighMAC
//
// A frame sent on ov0 (a packet socket) leaves encapsulated on xtu0 and
// is captured on xtp0. IPv4 forwarding is off there: a frame with its tag
// in line would leave through fib_xmit, which needs it on the peer, and be
// dropped (tx_no_neigh). So a frame that arrives shows that the program
// took the tag from the metadata and wrote it into the inner header.

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
)

func TestEthEncapVLANOffload(t *testing.T) {
	requireRootForBPF(t)
	for _, tun := range []maps.Tunnel{
		gretapTunnel(false, 42), vxlanTunnel(false), geneveTunnel(t, false, optA),
		erspanTunnel(false, 1), erspanTunnel(false, 2),
	} {
		name := fmt.Sprintf("%s v%d slow=%v", tun.Type, tun.ERSPANVer, maps.SlowTX(tun.Spec))
		t.Run(name, func(t *testing.T) { checkVLANOffload(t, tun, false) })
	}
	// The control: the same tag in line goes to fib_xmit, which fails
	// with forwarding off on the peer.
	t.Run("tag in line", func(t *testing.T) { checkVLANOffload(t, vxlanTunnel(false), true) })
}

// vlanPush is a TC program that puts an 802.1Q tag with tci in the skb's
// metadata and hands the skb to the next program (TCX_NEXT).
func vlanPush(t *testing.T, tci uint16) *ebpf.Program {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.SchedCLS,
		Instructions: asm.Instructions{
			// r1 is the skb already.
			asm.Mov.Imm(asm.R2, int32(htons(unix.ETH_P_8021Q))),
			asm.Mov.Imm(asm.R3, int32(tci)),
			asm.FnSkbVlanPush.Call(),
			asm.Mov.Imm(asm.R0, -1), // TCX_NEXT
			asm.Return(),
		},
		License: "GPL",
	})
	if err != nil {
		t.Fatalf("load the vlan push program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

// checkVLANOffload sends a frame on tun's overlay with the tag in the
// metadata, or (inline) in the frame.
func checkVLANOffload(t *testing.T, tun maps.Tunnel, inline bool) {
	t.Helper()
	const tci = 0xa064 // priority 5, VLAN 100
	nh := newNextHop(t, false)
	overlay, peer := vethOverlay(t, nh)
	tun.Ifindex, tun.PeerIfindex, tun.LinkIfindex = overlay, peer, nh.link
	d := nh.dataplane(t, tun)
	type attach struct {
		prog  *ebpf.Program
		at    ebpf.AttachType
		iface int
	}
	progs := []attach{{d.objs.Encap, ebpf.AttachTCXEgress, overlay}, {d.objs.Peer, ebpf.AttachTCXIngress, peer}}
	if !inline {
		progs = append([]attach{{vlanPush(t, tci), ebpf.AttachTCXEgress, overlay}}, progs...)
	}
	nh.in(t, func() {
		for _, a := range progs {
			l, err := link.AttachTCX(link.TCXOptions{Program: a.prog, Attach: a.at, Interface: a.iface})
			if err != nil {
				t.Skipf("attach TCX (kernel 6.6+): %v", err)
			}
			t.Cleanup(func() { l.Close() })
		}
	})
	capt := nh.capture(t, nh.peer)
	before := d.reasons(t)

	sent := ethInner{in: inner{tos: 0xb8}}
	if inline {
		sent.vlan = tci
	}
	nh.in(t, func() {
		// Protocol 0: skb->protocol from the frame's ethertype, as the
		// stack would have it (IPv4; 802.1Q for the tag in line).
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: overlay}
		err = unix.Sendto(fd, sent.bytes(t), 0, to)
		if inline && errors.Is(err, unix.ENOBUFS) {
			err = nil // dropped by TC egress (TC_ACT_SHOT): NET_XMIT_DROP
		}
		if err != nil {
			t.Fatalf("send on ov0: %v", err)
		}
	})
	got := capt.frames(t, fromTunnelIPv4(tun))
	after := d.reasons(t)
	names, err := reasonNames()
	if err != nil {
		t.Fatal(err)
	}
	moved := map[string]uint64{}
	for i := range after {
		if after[i] != before[i] {
			moved[names[i]] = after[i] - before[i]
		}
	}
	want := map[string]uint64{"encap": 1}
	if inline {
		want = map[string]uint64{"tx_no_neigh": 1}
	}
	if maps.SlowTX(tun.Spec) {
		want["tx_slow"] = 1
	}
	if fmt.Sprint(moved) != fmt.Sprint(want) {
		t.Errorf("reasons moved %v, want %v", moved, want)
	}
	if inline {
		if len(got) != 0 {
			t.Errorf("captured %d encapsulated frames on xtp0, want none", len(got))
		}
		checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
		return
	}
	if len(got) != 1 {
		t.Fatalf("captured %d encapsulated frames on xtp0, want 1", len(got))
	}

	// The frame carried has the tag in line; ERSPAN says VLAN 100,
	// class of service 5 and (type II) En 3.
	tagged := sent
	tagged.vlan = tci
	p := tagged.payload(t)
	w := sendWire(tun)
	w.ethDst, w.ethSrc = neighMAC, linkMAC
	takeVarying(t, tun, got[0], &w)
	wantFrame, _ := ethWireFrame(t, tun, w, p)
	checkFrame(t, got[0], wantFrame)
	checkEthChecksums(t, tun, got[0], w.udpCsum)
	checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(p.b))})
}

// fromTunnelIPv4 reports whether frame b is IPv4 from tun's local address.
func fromTunnelIPv4(tun maps.Tunnel) func([]byte) bool {
	src := tun.Local.As4()
	return func(b []byte) bool {
		return len(b) > 34 && b[12] == 0x08 && b[13] == 0x00 && string(b[14+12:14+16]) == string(src[:])
	}
}

// vethOverlay makes ov0 (peer ovp0) in n, up, with IPv6 off so that
// nothing but the test's frame is sent on it.
func vethOverlay(t *testing.T, n *nextHop) (overlay, peer int) {
	t.Helper()
	n.in(t, func() {
		for _, f := range []string{"/proc/sys/net/ipv6/conf/default/disable_ipv6", "/proc/sys/net/ipv6/conf/all/disable_ipv6"} {
			if err := os.WriteFile(f, []byte("1"), 0); err != nil {
				t.Fatalf("write %s in the test netns: %v", f, err)
			}
		}
	})
	h, err := netlink.NewHandleAt(n.ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "ov0"}, PeerName: "ovp0"}); err != nil {
		t.Fatalf("add veth ov0: %v", err)
	}
	var idx [2]int
	for i, name := range []string{"ovp0", "ov0"} {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatalf("set %s up: %v", name, err)
		}
		idx[i] = l.Attrs().Index
	}
	return idx[1], idx[0]
}
