package loader_test

// Frames bpf_skb_adjust_room and bpf_redirect_neigh do not take (not IP:
// ARP, or an in-line VLAN tag in front of IP) are grown with
// bpf_skb_change_head and leave through fib_xmit: bpf_fib_lookup as if
// they arrived on the tunnel's veth peer, whose forwarding must be on,
// then bpf_redirect to the device it names, with the next hop's MACs.
// These runs happen in a nextHop namespace (packet_nexthop_test.go): the
// tunnel's peer is xtp0 there, its link xtu0; the remote's MAC is
// neighMAC, xtu0's linkMAC.

import (
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
)

// withIPv6 adds an IPv6 underlay to n: addr6Local/64 on xtu0 (no DAD),
// addr6Remote lladdr neighMAC, IPv6 forwarding on everywhere (the lookup
// reads the input device's, xtp0's).
func (n *nextHop) withIPv6(t *testing.T) *nextHop {
	t.Helper()
	h, err := netlink.NewHandleAt(n.ns)
	if err != nil {
		t.Fatalf("netlink in the test netns: %v", err)
	}
	defer h.Close()
	link, err := h.LinkByIndex(n.link)
	if err != nil {
		t.Fatalf("xtu0: %v", err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip(addr6Local), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD}
	if err := h.AddrAdd(link, addr); err != nil {
		t.Fatalf("add %s to xtu0: %v", addr, err)
	}
	if err := h.NeighAdd(&netlink.Neigh{
		LinkIndex: n.link, Family: unix.AF_INET6, State: netlink.NUD_PERMANENT,
		IP: ip(addr6Remote), HardwareAddr: neighMAC,
	}); err != nil {
		t.Fatalf("add neighbour %s lladdr %s: %v", addr6Remote, neighMAC, err)
	}
	n.in(t, func() {
		const all = "/proc/sys/net/ipv6/conf/all/forwarding"
		if err := os.WriteFile(all, []byte("1"), 0); err != nil {
			t.Fatalf("write %s in the test netns: %v", all, err)
		}
		for _, dev := range []string{"xtu0", "xtp0"} {
			b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + dev + "/forwarding")
			if err != nil || string(b) != "1\n" {
				t.Fatalf("net.ipv6.conf.%s.forwarding = %q, %v in the test netns; want 1", dev, b, err)
			}
		}
	})
	return n
}

// onPeer is tun with its veth peer xtp0 and its link xtu0.
func (n *nextHop) onPeer(tun maps.Tunnel) maps.Tunnel {
	tun.PeerIfindex, tun.LinkIfindex = n.peer, n.link
	return tun
}

// dataplane loads the programs with tun installed from inside n (its
// devmap entry must be a netdev there).
func (n *nextHop) dataplane(t *testing.T, tun maps.Tunnel) *dataplane {
	t.Helper()
	var d *dataplane
	n.in(t, func() { d = ethDataplane(t, tun) })
	return d
}

// ethSend is ethSend inside n: xt_tc_encap on the overlay (lo in a test
// run), and for a slow-TX tunnel xt_tc_peer on the peer, xtp0.
func (n *nextHop) ethSend(t *testing.T, d *dataplane, tun maps.Tunnel, frame []byte) result {
	t.Helper()
	var res result
	n.in(t, func() {
		res = d.run(t, d.objs.Encap, frame)
		if maps.SlowTX(tun.Spec) {
			checkVerdict(t, res, tcOK, "tx_slow")
			res = d.runCtx(t, d.objs.Peer, frame, skbCtx{Ifindex: uint32(n.peer)})
		}
	})
	return res
}

func TestEthEncapFIB(t *testing.T) {
	requireRootForBPF(t)
	nh := newNextHop(t, true).withIPv6(t)
	arp := ethInner{dst: broadcast, arp: true}
	tagged := ethInner{vlan: 0x6064, in: inner{tos: 0x28 | ect1}} // priority 3, VLAN 100
	tagged6 := ethInner{vlan: 0xe00a, in: inner{v6: true}}        // priority 7, VLAN 10
	udpcsum := func(tun maps.Tunnel) maps.Tunnel { tun.UDPCsum = true; return tun }

	cases := []ethCase{
		{name: "gretap arp", tun: gretapTunnel(false, 42), e: arp},
		{name: "gretap vlan tagged", tun: gretapTunnel(false, -1), e: tagged, wire: func(w *ethWire) { w.tos = ect1 }},
		{name: "gretap csum seq arp", tun: with(gretapTunnel(false, -1), func(tun *maps.Tunnel) { tun.OCsum, tun.OSeq = true, true }), e: arp},
		{name: "gretap csum vlan tagged v6", tun: with(gretapTunnel(false, 9), func(tun *maps.Tunnel) { tun.OCsum = true }), e: tagged6},
		{name: "ip6gretap arp", tun: gretapTunnel(true, -1), e: arp},
		{name: "ip6gretap vlan tagged", tun: gretapTunnel(true, 42), e: tagged, wire: func(w *ethWire) { w.tos = ect1 }},
		{name: "vxlan arp", tun: vxlanTunnel(false), e: arp},
		{name: "vxlan vlan tagged", tun: vxlanTunnel(false), e: tagged6},
		{name: "vxlan udpcsum arp", tun: udpcsum(vxlanTunnel(false)), e: arp},
		{name: "vxlan6 arp", tun: vxlanTunnel(true), e: arp},
		{name: "vxlan6 vlan tagged", tun: vxlanTunnel(true), e: tagged, wire: func(w *ethWire) { w.tos = ect1 }},
		{name: "vxlan6 udp6zerocsumtx arp", tun: with(vxlanTunnel(true), func(tun *maps.Tunnel) { tun.UDP6ZeroCsumTx = true }), e: arp},
		{name: "geneve options arp", tun: geneveTunnel(t, false, optA, optB), e: arp},
		{name: "geneve6 vlan tagged", tun: geneveTunnel(t, true, optCrit), e: tagged6},
		// ERSPAN says what it knows of the frame's tag: VLAN ID, its
		// priority as class of service, and (type II) En 3, tag kept.
		{name: "erspan v1 vlan tagged", tun: erspanTunnel(false, 1), e: tagged, wire: func(w *ethWire) { w.tos = ect1 }},
		{name: "erspan v1 arp", tun: erspanTunnel(false, 1), e: arp},
		{name: "erspan v2 vlan tagged", tun: erspanTunnel(false, 2), e: tagged6},
		{name: "ip6erspan v1 vlan tagged", tun: erspanTunnel(true, 1), e: tagged6},
		{name: "ip6erspan v2 arp", tun: erspanTunnel(true, 2), e: arp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if skbIP(c.e) {
				t.Fatalf("%s: an IP frame does not leave through the FIB", c.name)
			}
			nh.checkEthEncap(t, c)
		})
	}
}

// checkEthEncap is checkEthEncap for c.tun on xtp0 and xtu0 in n: a frame
// that is not IP leaves with the next hop's MACs from the FIB, an IP one
// (bpf_redirect_neigh) with the placeholders. It returns the output.
func (n *nextHop) checkEthEncap(t *testing.T, c ethCase) []byte {
	t.Helper()
	c.tun = n.onPeer(c.tun)
	d := n.dataplane(t, c.tun)
	frame, p := c.sent(t)
	res := n.ethSend(t, d, c.tun, frame)
	checkVerdict(t, res, tcRedirect, "encap")
	w := sendWire(c.tun)
	if c.ip || skbIP(c.e) {
		w.ethDst, w.ethSrc = c.tun.MAC, c.tun.PeerMAC
	} else {
		w.ethDst, w.ethSrc = neighMAC, linkMAC
	}
	if c.wire != nil {
		c.wire(&w)
	}
	takeVarying(t, c.tun, res.out, &w)
	want, _ := ethWireFrame(t, c.tun, w, p)
	checkFrame(t, res.out, want)
	checkEthChecksums(t, c.tun, res.out, w.udpCsum)
	checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(p.b))})
	if t.Failed() {
		t.Logf("input %x", frame)
	}
	return res.out
}

// TestEthEncapFIBFail: without a next hop from the FIB (no neighbour for
// the remote, no route, forwarding off on the peer) such a frame is
// dropped as tx_no_neigh; it is not sent anywhere else.
func TestEthEncapFIBFail(t *testing.T) {
	requireRootForBPF(t)
	nh, noFwd := newNextHop(t, true), newNextHop(t, false)
	arp := ethInner{dst: broadcast, arp: true}
	to := func(tun maps.Tunnel, remote netip.Addr) maps.Tunnel { tun.Remote = remote; return tun }
	cases := []struct {
		name string
		ns   *nextHop
		tun  maps.Tunnel
		e    ethInner
	}{
		{name: "no neighbour", ns: nh, tun: to(gretapTunnel(false, -1), addrUnknown), e: arp},
		{name: "no route", ns: nh, tun: to(vxlanTunnel(false), addrNoRoute), e: ethInner{vlan: 5, in: inner{}}},
		{name: "no route ipv6", ns: nh, tun: gretapTunnel(true, -1), e: arp},
		{name: "forwarding off on the peer", ns: noFwd, tun: erspanTunnel(false, 2), e: arp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tun := c.ns.onPeer(c.tun)
			d := c.ns.dataplane(t, tun)
			res := c.ns.ethSend(t, d, tun, c.e.bytes(t))
			checkVerdict(t, res, tcShot, "tx_no_neigh")
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
		})
	}
}
