package loader_test

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// The MPLS encap path picks its next hop itself. bpf_skb_adjust_room and
// bpf_redirect_neigh take IP skbs only, so an MPLS inner packet is grown
// with bpf_skb_change_head and sent with bpf_fib_lookup (OUTPUT, from the
// tunnel's link) + bpf_redirect: the Ethernet header is the next hop's MAC
// and the link's MAC, not the tun.MAC / tun.PeerMAC placeholders that IP
// payloads carry until bpf_redirect_neigh rewrites them. The lookup sees
// the routes and neighbours of the calling thread's network namespace
// (dev_net(skb->dev), skb->dev being its loopback device under
// BPF_PROG_TEST_RUN), so these runs happen in a namespace of their own
// with a known underlay, never in the host's:
//
//	xtu0 (MAC linkMAC) 198.51.100.1/24, up; its peer xtp0 up
//	198.51.100.2 (addrRemote) lladdr neighMAC, permanent
//	198.51.100.254 (addrGateway) lladdr gatewayMAC, permanent
//	203.0.113.0/24 via 198.51.100.254 dev xtu0
//	100.64.0.0/24 via 198.51.100.253 dev xtu0 (no neighbour for .253)
//	net.ipv4.conf.{all,xtu0}.forwarding = 1: bpf_fib_lookup reads the
//	link's own setting, OUTPUT lookups included, and returns
//	BPF_FIB_LKUP_RET_FWD_DISABLED when it is off
//
// Nothing else: 198.51.100.3 (addrUnknown) is on link without a
// neighbour, 192.0.2.0/24 has no route.

var (
	linkMAC    = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0c, 0x01} // xtu0
	neighMAC   = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0c, 0x02} // addrRemote on xtu0
	gatewayMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0c, 0xfe} // addrGateway on xtu0

	addrGateway = netip.MustParseAddr("198.51.100.254")
	prefixVia   = netip.MustParsePrefix("203.0.113.0/24") // routed via addrGateway; holds addrRelay
	addrNoRoute = netip.MustParseAddr("192.0.2.99")

	addrGatewayUnresolved = netip.MustParseAddr("198.51.100.253")
	prefixViaUnresolved   = netip.MustParsePrefix("100.64.0.0/24") // routed via addrGatewayUnresolved
	addrBehindUnresolved  = netip.MustParseAddr("100.64.0.1")
)

// nextHop is a namespace with the underlay above.
type nextHop struct {
	*underlay
	link int // ifindex of xtu0
	peer int // ifindex of xtp0: up, no address, no route
}

// newNextHop makes the namespace; forwarding says whether IPv4 forwarding
// is on in it.
func newNextHop(t *testing.T, forwarding bool) *nextHop {
	t.Helper()
	rootFwd := readSysctl(t, "all/forwarding")
	u := newUnderlay(t, 1500)
	n := &nextHop{underlay: u, link: u.ifindex[1500]}
	h, err := netlink.NewHandleAt(u.ns)
	if err != nil {
		t.Fatalf("netlink in the test netns: %v", err)
	}
	defer h.Close()
	link, err := h.LinkByIndex(n.link)
	if err != nil {
		t.Fatalf("xtu0: %v", err)
	}
	peer, err := h.LinkByName("xtp0")
	if err != nil {
		t.Fatalf("xtp0: %v", err)
	}
	n.peer = peer.Attrs().Index
	if err := h.LinkSetHardwareAddr(link, linkMAC); err != nil {
		t.Fatalf("set the MAC of xtu0: %v", err)
	}
	for _, l := range []netlink.Link{peer, link} {
		if err := h.LinkSetUp(l); err != nil {
			t.Fatalf("set %s up: %v", l.Attrs().Name, err)
		}
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip(addrLocal), Mask: net.CIDRMask(24, 32)}}
	if err := h.AddrAdd(link, addr); err != nil {
		t.Fatalf("add %s to xtu0: %v", addr, err)
	}
	for _, nb := range []struct {
		ip  netip.Addr
		mac net.HardwareAddr
	}{{addrRemote, neighMAC}, {addrGateway, gatewayMAC}} {
		if err := h.NeighAdd(&netlink.Neigh{
			LinkIndex: n.link, Family: unix.AF_INET, State: netlink.NUD_PERMANENT,
			IP: ip(nb.ip), HardwareAddr: nb.mac,
		}); err != nil {
			t.Fatalf("add neighbour %s lladdr %s: %v", nb.ip, nb.mac, err)
		}
	}
	for _, r := range []struct {
		dst netip.Prefix
		gw  netip.Addr
	}{{prefixVia, addrGateway}, {prefixViaUnresolved, addrGatewayUnresolved}} {
		dst := &net.IPNet{IP: ip(r.dst.Addr()), Mask: net.CIDRMask(r.dst.Bits(), 32)}
		if err := h.RouteAdd(&netlink.Route{LinkIndex: n.link, Dst: dst, Gw: ip(r.gw)}); err != nil {
			t.Fatalf("add route %s via %s: %v", r.dst, r.gw, err)
		}
	}

	// Confirm what the lookup will see: MAC and forwarding of xtu0.
	if link, err = h.LinkByIndex(n.link); err != nil || !bytes.Equal(link.Attrs().HardwareAddr, linkMAC) {
		t.Fatalf("xtu0 %v, err %v: want MAC %s", link, err, linkMAC)
	}
	if forwarding {
		// /proc/sys/net is the opening thread's namespace: write from inside.
		n.in(t, func() {
			writeSysctl(t, "all/forwarding", "1")
			writeSysctl(t, "xtu0/forwarding", "1") // set by all already; xtu0 exists only here
		})
	}
	want := "0"
	if forwarding {
		want = "1"
	}
	n.in(t, func() {
		for _, dev := range []string{"xtu0", "xtp0"} {
			if got := readSysctl(t, dev+"/forwarding"); got != want {
				t.Fatalf("net.ipv4.conf.%s.forwarding = %s in the test netns, want %s", dev, got, want)
			}
		}
	})
	if got := readSysctl(t, "all/forwarding"); got != rootFwd {
		t.Fatalf("net.ipv4.conf.all.forwarding of the host changed from %s to %s", rootFwd, got)
	}
	return n
}

// readSysctl reads net.ipv4.conf.<name> of the calling thread's namespace.
func readSysctl(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/conf/" + name)
	if err != nil {
		t.Fatalf("read net.ipv4.conf.%s: %v", strings.ReplaceAll(name, "/", "."), err)
	}
	return strings.TrimSpace(string(b))
}

func writeSysctl(t *testing.T, name, v string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+name, []byte(v), 0); err != nil {
		t.Fatalf("write net.ipv4.conf.%s: %v", strings.ReplaceAll(name, "/", "."), err)
	}
}

// on is tun sending out of xtu0.
func (n *nextHop) on(tun maps.Tunnel) maps.Tunnel {
	tun.LinkIfindex = n.link
	return tun
}

// withMACs is frame with Ethernet destination dst and source src.
func withMACs(frame []byte, dst, src net.HardwareAddr) []byte {
	f := append([]byte(nil), frame...)
	if len(f) >= 12 {
		copy(f[0:6], dst)
		copy(f[6:12], src)
	}
	return f
}

// TestEncapMPLSNextHop: the MPLS path sends to the next hop bpf_fib_lookup
// finds from the tunnel's link, and drops (tx_no_neigh, TC_ACT_SHOT) when
// the lookup does not succeed: no neighbour entry (BPF_FIB_LKUP_RET_NO_NEIGH:
// the helper neither creates one nor resolves it), no route from the link
// (BPF_FIB_LKUP_RET_NOT_FWDED), or IPv4 forwarding off on the link
// (BPF_FIB_LKUP_RET_FWD_DISABLED). The packet is not sent anywhere else.
func TestEncapMPLSNextHop(t *testing.T) {
	requireRootForBPF(t)
	nh, noFwd := newNextHop(t, true), newNextHop(t, false)
	mplsip, sit := ipipModeTunnel(tunnel.ModeMPLSIP), sitTunnel(tunnel.ModeMPLSIP)
	to := func(tun maps.Tunnel, remote netip.Addr) maps.Tunnel { tun.Remote = remote; return tun }
	mpls := inner{mpls: true}
	df64 := outerWant{ttl: 64, df: true}
	if !prefixVia.Contains(addrRelay) || !prefixViaUnresolved.Contains(addrBehindUnresolved) {
		t.Fatalf("%s must hold %s, %s must hold %s", prefixVia, addrRelay, prefixViaUnresolved, addrBehindUnresolved)
	}

	cases := []struct {
		name string
		ns   *nextHop
		tun  maps.Tunnel // LinkIfindex: xtu0 unless link is set
		link int
		dst  net.HardwareAddr // the next hop's MAC; nil: dropped as tx_no_neigh
	}{
		{name: "on link", ns: nh, tun: mplsip, dst: neighMAC},
		{name: "sit on link", ns: nh, tun: sit, dst: neighMAC},
		{name: "via gateway", ns: nh, tun: to(mplsip, addrRelay), dst: gatewayMAC},

		{name: "no neighbour", ns: nh, tun: to(mplsip, addrUnknown)},
		{name: "sit no neighbour", ns: nh, tun: to(sit, addrUnknown)},
		{name: "no neighbour for the gateway", ns: nh, tun: to(mplsip, addrBehindUnresolved)},
		{name: "no route", ns: nh, tun: to(mplsip, addrNoRoute)},
		{name: "no route from the link", ns: nh, tun: mplsip, link: nh.peer},
		{name: "forwarding disabled", ns: noFwd, tun: mplsip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tun := c.ns.on(c.tun)
			if c.link != 0 {
				tun.LinkIfindex = c.link
			}
			d := newDataplane(t, tun)
			l3 := mpls.bytes(t)
			res := c.ns.run(t, d, ethFrame(t, wireDstMAC, wireSrcMAC, mpls.etherType(), l3))
			if c.dst == nil {
				checkVerdict(t, res, tcShot, "tx_no_neigh")
				checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
				return
			}
			checkVerdict(t, res, tcRedirect, "encap")
			want := encapFrame4(t, tun, tun.Remote, mpls.etherType(), l3, df64, 0)
			checkFrame(t, res.out, withMACs(want, c.dst, linkMAC))
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
		})
	}
}
