package loader_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Gateway mode in XDP. On a port whose xt_ports entry has gateway set,
// the XDP program routes a plain IP packet into a tunnel when xt_routes
// has its destination (gw_encap), and forwards a decapsulated packet out
// of another gateway port when the FIB says so (gw_decap); both with the
// next hop's MACs from bpf_fib_lookup, TTL one less. The lookup sees the
// namespace of the ingress netdev, so every run happens in a gwNet
// namespace, with that netdev as the XDP context's ingress_ifindex.

const (
	xdpTX = 3 // XDP_TX: out of the netdev the frame came in on

	wanMTU = 1500 // xtu0's (newNextHop)
	lanMTU = 1400 // xtp0's
	// Outer headers: IPv4 + GRE with a key; IPv4; IPv6 + encapsulation
	// limit option + GRE with a key.
	gwOuterGREKey    = 20 + 8
	gwOuterIPIP      = 20
	gwOuterIP6GREKey = 40 + 8 + 8
	// The largest inner packets that fit the WAN's MTU once encapsulated.
	gwInnerFitsGRE    = wanMTU - gwOuterGREKey
	gwInnerFitsIPIP   = wanMTU - gwOuterIPIP
	gwInnerFitsIP6GRE = wanMTU - gwOuterIP6GREKey
)

var (
	lanMAC    = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0d, 0x01} // xtp0, the LAN port
	clientMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0d, 0x02} // addrClient, addr6Client on xtp0

	addrLAN        = netip.MustParseAddr("10.9.0.254") // xtp0's own
	addrLANNoNeigh = netip.MustParseAddr("10.9.0.2")   // on xtp0's subnet, no neighbour
	addr6LAN       = netip.MustParseAddr("fd00:9::fe")
	addr6NoRoute   = netip.MustParseAddr("2001:db8:ffff::1") // no IPv6 route
)

// gwNet is a nextHop namespace (packet_nexthop_test.go) with its IPv6
// underlay (withIPv6) made into a gateway: xtu0 is the WAN port, the
// underlay towards the remotes; its veth peer xtp0 the LAN port:
//
//	xtp0 (MAC lanMAC, MTU 1400) 10.9.0.254/24, fd00:9::fe/64, up
//	10.9.0.1 (addrClient), fd00:9::1 (addr6Client) lladdr clientMAC, permanent
//
// Forwarding is on for IPv6, and for IPv4 when asked.
type gwNet struct {
	*nextHop
	wan, lan int // ifindex of xtu0, xtp0
}

func newGatewayNet(t *testing.T, forwarding bool) *gwNet {
	t.Helper()
	n := newNextHop(t, forwarding).withIPv6(t)
	g := &gwNet{nextHop: n, wan: n.link, lan: n.peer}
	h, err := netlink.NewHandleAt(n.ns)
	if err != nil {
		t.Fatalf("netlink in the test netns: %v", err)
	}
	defer h.Close()
	lan, err := h.LinkByIndex(g.lan)
	if err != nil {
		t.Fatalf("xtp0: %v", err)
	}
	if err := h.LinkSetHardwareAddr(lan, lanMAC); err != nil {
		t.Fatalf("set the MAC of xtp0: %v", err)
	}
	if err := h.LinkSetMTU(lan, lanMTU); err != nil {
		t.Fatalf("set the MTU of xtp0: %v", err)
	}
	for _, a := range []*netlink.Addr{
		{IPNet: &net.IPNet{IP: ip(addrLAN), Mask: net.CIDRMask(24, 32)}},
		{IPNet: &net.IPNet{IP: ip(addr6LAN), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD},
	} {
		if err := h.AddrAdd(lan, a); err != nil {
			t.Fatalf("add %s to xtp0: %v", a, err)
		}
	}
	for _, c := range []struct {
		ip     netip.Addr
		family int
	}{{addrClient, unix.AF_INET}, {addr6Client, unix.AF_INET6}} {
		if err := h.NeighAdd(&netlink.Neigh{
			LinkIndex: g.lan, Family: c.family, State: netlink.NUD_PERMANENT, IP: ip(c.ip), HardwareAddr: clientMAC,
		}); err != nil {
			t.Fatalf("add neighbour %s lladdr %s: %v", c.ip, clientMAC, err)
		}
	}
	// The kernel routes `xtunnel route add` puts beside its own (here via
	// the WAN port): gateway encap takes only what the stack would forward.
	g.kernelRoutes(t, prefixSite, prefixSite6)
	if lan, err = h.LinkByIndex(g.lan); err != nil || lan.Attrs().MTU != lanMTU || lan.Attrs().HardwareAddr.String() != lanMAC.String() {
		t.Fatalf("xtp0 %v, err %v: want MTU %d, MAC %s", lan, err, lanMTU, lanMAC)
	}
	return g
}

// kernelRoutes adds kernel routes for ps via the WAN port, standing in
// for the ones `xtunnel route add` puts into the tunnel netdev.
func (g *gwNet) kernelRoutes(t *testing.T, ps ...netip.Prefix) {
	t.Helper()
	h, err := netlink.NewHandleAt(g.ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, p := range ps {
		if err := h.RouteAdd(&netlink.Route{LinkIndex: g.wan, Scope: netlink.SCOPE_LINK,
			Dst: &net.IPNet{IP: ip(p.Addr()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}); err != nil {
			t.Fatalf("add route %s dev xtu0: %v", p, err)
		}
	}
}

// gwPorts are the netdevs of ifindexes, attached in gateway mode.
func gwPorts(ifindexes ...int) []maps.Port {
	var ps []maps.Port
	for _, i := range ifindexes {
		ps = append(ps, maps.Port{Ifindex: i, Gateway: true})
	}
	return ps
}

// dataplane loads the programs inside g (devmap entries are netdevs of
// the calling thread's namespace) with the ports, tunnels and routes.
func (g *gwNet) dataplane(t *testing.T, ports []maps.Port, tuns []maps.Tunnel, routes []maps.Route) *dataplane {
	t.Helper()
	var d *dataplane
	g.in(t, func() {
		d = routedDataplane(t, tuns, routes)
		for _, p := range ports {
			if err := d.tables.PutPort(p); err != nil {
				t.Fatalf("put port %+v: %v", p, err)
			}
		}
	})
	return d
}

// xdpMd is struct xdp_md as BPF_PROG_TEST_RUN takes it: data 0, data_end
// the frame's length; ingress_ifindex a netdev of the calling thread's
// namespace, whose receive queue rx_queue_index the frame arrives on.
type xdpMd struct {
	Data, DataEnd, DataMeta      uint32
	IngressIfindex, RxQueueIndex uint32
	EgressIfindex                uint32
}

// run runs the XDP program inside g on frame arriving on ingress.
func (g *gwNet) run(t *testing.T, d *dataplane, frame []byte, ingress int) result {
	t.Helper()
	var res result
	g.in(t, func() {
		before := d.reasons(t)
		opts := &ebpf.RunOptions{
			Data:    append([]byte(nil), frame...),
			DataOut: make([]byte, len(frame)+256),
			Context: xdpMd{DataEnd: uint32(len(frame)), IngressIfindex: uint32(ingress)},
		}
		ret, err := d.objs.Underlay.Run(opts)
		if err != nil {
			t.Fatalf("run %s on %d bytes from ifindex %d: %v", d.objs.Underlay, len(frame), ingress, err)
		}
		after := d.reasons(t)
		names, err := reasonNames()
		if err != nil {
			t.Fatalf("reason names: %v", err)
		}
		res = result{ret: ret, out: opts.DataOut, moved: map[string]uint64{}}
		for i := range after {
			if after[i] != before[i] {
				res.moved[names[i]] = after[i] - before[i]
			}
		}
	})
	return res
}

// intoTunnel routes prefix into the point-to-point tunnel tun.
func intoTunnel(tun maps.Tunnel, prefix netip.Prefix) maps.Route {
	return maps.Route{Prefix: prefix, Ifindex: tun.Ifindex}
}

// gwEncapFrame is what gateway mode must make of the packet in: in one
// hop further, encapsulated for the peer w as the TC program does it,
// sent to dst from the WAN port.
func gwEncapFrame(t *testing.T, tun maps.Tunnel, in ipPacket, w peerWant, dst net.HardwareAddr) []byte {
	t.Helper()
	out := in.hop()
	return withMACs(externalFrame(t, tun, out.etherType(), out.bytes(t), w), dst, linkMAC)
}

func TestGatewayEncap(t *testing.T) {
	requireRootForBPF(t)
	g := newGatewayNet(t, true)
	gk, g0, ii, i6 := greTunnel(42), greTunnel(-1), ipipTunnel(), ip6greTunnel(42)
	ext := externalTunnel(tunnel.GRE, addrLocal)
	ttlInherit := func(tun *maps.Tunnel) { tun.TTL = 0 }
	v4, v6 := ipPacket{dst: addrInSub}, ipPacket{dst: addr6InSub}

	cases := []struct {
		name    string
		tun     maps.Tunnel
		routes  []maps.Route
		in      ipPacket
		ingress int // 0: the LAN port
		ret     uint32
		want    peerWant
		dst     net.HardwareAddr // the next hop's MAC
	}{
		{name: "gre key lan to wan", tun: gk, routes: []maps.Route{intoTunnel(gk, prefixSite)}, in: v4,
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 42, ttl: 64}, dst: neighMAC},
		{name: "gre key wan to wan", tun: gk, routes: []maps.Route{intoTunnel(gk, prefixSite)}, in: v4, ingress: g.wan,
			ret: xdpTX, want: peerWant{remote: addrRemote, key: 42, ttl: 64}, dst: neighMAC},
		{name: "gre no key ttl inherit", tun: with(g0, ttlInherit), routes: []maps.Route{intoTunnel(g0, prefixSite)}, in: ipPacket{dst: addrInSub, ttl: 30},
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: -1, ttl: 29}, dst: neighMAC},
		{name: "gre ttl 2", tun: with(gk, ttlInherit), routes: []maps.Route{intoTunnel(gk, prefixSite)}, in: ipPacket{dst: addrInSub, ttl: 2},
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 42, ttl: 1}, dst: neighMAC},
		{name: "gre tos inherit", tun: with(gk, func(tun *maps.Tunnel) { tun.TOSInherit = true }), routes: []maps.Route{intoTunnel(gk, prefixSite)},
			in: ipPacket{dst: addrInSub, tos: 0x28 | ect0}, ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 42, ttl: 64, tos: 0x2a}, dst: neighMAC},
		{name: "gre inner v6", tun: gk, routes: []maps.Route{intoTunnel(gk, prefixSite6)}, in: v6,
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 42, ttl: 64}, dst: neighMAC},
		{name: "gre inner v6 hop limit inherit", tun: with(gk, ttlInherit), routes: []maps.Route{intoTunnel(gk, prefixSite6)}, in: ipPacket{dst: addr6InSub, ttl: 9},
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 42, ttl: 8}, dst: neighMAC},
		{name: "gre largest that fits", tun: gk, routes: []maps.Route{intoTunnel(gk, prefixSite)}, in: ipPacket{dst: addrInSub, size: gwInnerFitsGRE},
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 42, ttl: 64}, dst: neighMAC},
		{name: "ipip", tun: ii, routes: []maps.Route{intoTunnel(ii, prefixSite)}, in: v4,
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: -1, ttl: 64}, dst: neighMAC},
		{name: "ipip largest that fits", tun: ii, routes: []maps.Route{intoTunnel(ii, prefixSite)}, in: ipPacket{dst: addrInSub, size: gwInnerFitsIPIP},
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: -1, ttl: 64}, dst: neighMAC},
		{name: "ip6gre inner v4", tun: i6, routes: []maps.Route{intoTunnel(i6, prefixSite)}, in: v4,
			ret: xdpRedirect, want: peerWant{remote: addr6Remote, key: 42, ttl: 64}, dst: neighMAC},
		{name: "ip6gre inner v6 hop limit inherit", tun: with(i6, ttlInherit), routes: []maps.Route{intoTunnel(i6, prefixSite6)}, in: ipPacket{dst: addr6InSub, ttl: 9},
			ingress: g.wan, ret: xdpTX, want: peerWant{remote: addr6Remote, key: 42, ttl: 8}, dst: neighMAC},
		{name: "ip6gre largest that fits", tun: i6, routes: []maps.Route{intoTunnel(i6, prefixSite6)}, in: ipPacket{dst: addr6InSub, size: gwInnerFitsIP6GRE},
			ret: xdpRedirect, want: peerWant{remote: addr6Remote, key: 42, ttl: 64}, dst: neighMAC},

		// External: the route gives peer and key, and TTL, TOS, source.
		{name: "external gre peer", tun: ext, routes: []maps.Route{peerRoute(ext, prefixSite, addrRemote, 9)}, in: v4,
			ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 9, ttl: 64}, dst: neighMAC},
		{name: "external gre peer via the router", tun: ext, routes: []maps.Route{withRoute(peerRoute(ext, prefixSite, addrRelay, 9), func(r *maps.Route) {
			r.TTL, r.TOS, r.Local = 7, 0x28, addrRouteSrc
		})}, in: v4, ret: xdpRedirect, want: peerWant{remote: addrRelay, key: 9, local: addrRouteSrc, ttl: 7, tos: 0x28}, dst: gatewayMAC},
		{name: "external gre route tos over tos inherit", tun: with(ext, func(tun *maps.Tunnel) { tun.TOSInherit = true }),
			routes: []maps.Route{withRoute(peerRoute(ext, prefixSite, addrRemote, 9), func(r *maps.Route) { r.TOS = 0x28 })},
			in:     ipPacket{dst: addrInSub, tos: 0x04 | ect1}, ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 9, ttl: 64, tos: 0x29}, dst: neighMAC},
		{name: "external gre lpm", tun: ext, routes: []maps.Route{peerRoute(ext, prefixSite, addrRemote, 1), peerRoute(ext, prefixSiteSub, addrRelay, 2)},
			in: v4, ingress: g.wan, ret: xdpTX, want: peerWant{remote: addrRelay, key: 2, ttl: 64}, dst: gatewayMAC},
		{name: "external gre lpm shorter", tun: ext, routes: []maps.Route{peerRoute(ext, prefixSite, addrRemote, 1), peerRoute(ext, prefixSiteSub, addrRelay, 2)},
			in: ipPacket{dst: addrOutOfSub}, ret: xdpRedirect, want: peerWant{remote: addrRemote, key: 1, ttl: 64}, dst: neighMAC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := g.dataplane(t, gwPorts(g.wan, g.lan), []maps.Tunnel{c.tun}, c.routes)
			ingress := c.ingress
			if ingress == 0 {
				ingress = g.lan
			}
			res := g.run(t, d, c.in.frame(t), ingress)
			checkVerdict(t, res, c.ret, "gw_encap")
			checkFrame(t, res.out, gwEncapFrame(t, c.tun, c.in, c.want, c.dst))
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(c.in.bytes(t)))})
		})
	}
}

// TestGatewayEncapPass: a packet routed into a tunnel that XDP cannot
// send goes to the stack untouched, with the reason counted; one that is
// not for gateway mode at all (no route, no gateway port) is passed as
// before gateway mode (pass_not_tunnel).
func TestGatewayEncapPass(t *testing.T) {
	requireRootForBPF(t)
	g, noFwd := newGatewayNet(t, true), newGatewayNet(t, false)
	gk, ii, i6 := greTunnel(42), ipipTunnel(), ip6greTunnel(42)
	ext := externalTunnel(tunnel.GRE, addrLocal)
	to := func(tun maps.Tunnel, remote netip.Addr) maps.Tunnel { tun.Remote = remote; return tun }
	v4, v6 := ipPacket{dst: addrInSub}, ipPacket{dst: addr6InSub}
	into := func(tun maps.Tunnel) []maps.Route {
		return []maps.Route{intoTunnel(tun, prefixSite), intoTunnel(tun, prefixSite6)}
	}

	cases := []struct {
		name   string
		net    *gwNet // nil: g
		ports  []maps.Port
		tun    maps.Tunnel
		routes []maps.Route
		in     ipPacket
		reason string
	}{
		{name: "ttl 1", tun: gk, routes: into(gk), in: ipPacket{dst: addrInSub, ttl: 1}, reason: "pass_gw_ttl"},
		{name: "hop limit 1", tun: gk, routes: into(gk), in: ipPacket{dst: addr6InSub, ttl: 1}, reason: "pass_gw_ttl"},
		{name: "external ttl 1", tun: ext, routes: []maps.Route{peerRoute(ext, prefixSite, addrRemote, 9)}, in: ipPacket{dst: addrInSub, ttl: 1},
			reason: "pass_gw_ttl"},

		{name: "no neighbour for the remote", tun: to(gk, addrUnknown), routes: into(gk), in: v4, reason: "pass_gw_no_neigh"},
		{name: "no neighbour for the router", tun: to(ii, addrBehindUnresolved), routes: into(ii), in: v4, reason: "pass_gw_no_neigh"},
		{name: "ip6gre no neighbour", tun: to(i6, addr6Unknown), routes: into(i6), in: v6, reason: "pass_gw_no_neigh"},
		{name: "external peer without neighbour", tun: ext, routes: []maps.Route{peerRoute(ext, prefixSite, addrUnknown, 9)}, in: v4,
			reason: "pass_gw_no_neigh"},

		{name: "too big", tun: gk, routes: into(gk), in: ipPacket{dst: addrInSub, size: gwInnerFitsGRE + 1}, reason: "pass_gw_mtu"},
		{name: "ipip too big", tun: ii, routes: into(ii), in: ipPacket{dst: addrInSub, size: gwInnerFitsIPIP + 1}, reason: "pass_gw_mtu"},
		{name: "ip6gre too big", tun: i6, routes: into(i6), in: ipPacket{dst: addr6InSub, size: gwInnerFitsIP6GRE + 1}, reason: "pass_gw_mtu"},

		{name: "gre ocsum", tun: with(gk, func(tun *maps.Tunnel) { tun.OCsum = true }), routes: into(gk), in: v4, reason: "pass_gw_slow"},
		{name: "gre oseq", tun: with(gk, func(tun *maps.Tunnel) { tun.OSeq = true }), routes: into(gk), in: v6, reason: "pass_gw_slow"},

		{name: "egress not attached", ports: gwPorts(g.lan), tun: gk, routes: into(gk), in: v4, reason: "pass_gw_port"},
		{name: "no route to the remote", tun: to(gk, addrNoRoute), routes: into(gk), in: v4, reason: "pass_gw_fib"},
		{name: "no ipv6 route to the remote", tun: to(i6, addr6NoRoute), routes: into(i6), in: v4, reason: "pass_gw_fib"},
		{name: "ipv4 forwarding off", net: noFwd, tun: gk, routes: into(gk), in: v4, reason: "pass_gw_fib"},

		// Not gateway traffic: the verdict of before.
		{name: "ingress without gateway flag", ports: []maps.Port{{Ifindex: g.lan}, {Ifindex: g.wan, Gateway: true}}, tun: gk, routes: into(gk), in: v4,
			reason: "pass_not_tunnel"},
		{name: "ingress not attached", ports: gwPorts(g.wan), tun: gk, routes: into(gk), in: v4, reason: "pass_not_tunnel"},
		{name: "no route for the destination", tun: gk, routes: into(gk), in: ipPacket{dst: addrOffSite}, reason: "pass_not_tunnel"},
		// A default route into the tunnel does not take the gateway's own
		// addresses: the stack delivers those.
		{name: "default route, destination the gateway's own", tun: gk,
			routes: []maps.Route{intoTunnel(gk, netip.MustParsePrefix("0.0.0.0/0"))}, in: ipPacket{dst: addrLAN}, reason: "pass_not_tunnel"},
		{name: "default route, destination the gateway's own v6", tun: gk,
			routes: []maps.Route{intoTunnel(gk, netip.MustParsePrefix("::/0"))}, in: ipPacket{dst: addr6LAN}, reason: "pass_not_tunnel"},
		{name: "route into a tunnel without the family", tun: ii, routes: into(ii), in: v6, reason: "pass_not_tunnel"},
		{name: "external without a route of its own", tun: ext, routes: []maps.Route{withRoute(peerRoute(ext, prefixSite, addrRemote, 9), func(r *maps.Route) {
			r.Ifindex = 1000
		})}, in: v4, reason: "pass_not_tunnel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.net
			if n == nil {
				n = g
			}
			ports := c.ports
			if ports == nil {
				ports = gwPorts(n.wan, n.lan)
			}
			d := n.dataplane(t, ports, []maps.Tunnel{c.tun}, c.routes)
			frame := c.in.frame(t)
			res := n.run(t, d, frame, n.lan)
			checkVerdict(t, res, xdpPass, c.reason)
			checkFrame(t, res.out, frame)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{})
		})
	}
}

// TestGatewayDecap: a tunnel packet arriving on a gateway port whose
// inner destination the FIB puts behind a gateway port is decapsulated
// and forwarded there in XDP, one hop further (gw_decap); else it goes to
// the tunnel's overlay as without gateway mode (decap), unchanged.
func TestGatewayDecap(t *testing.T) {
	requireRootForBPF(t)
	g, noFwd := newGatewayNet(t, true), newGatewayNet(t, false)
	gk, ii, i6 := greTunnel(42), ipipTunnel(), ip6greTunnel(42)
	ext := externalTunnel(tunnel.GRE, addrLocal)
	extRoutes := []maps.Route{peerRoute(ext, prefixSite, addrRemote, 9)}
	// Replies from the remote site to the LAN's client.
	v4 := ipPacket{src: addrInSub, dst: addrClient}
	v6 := ipPacket{src: addr6InSub, dst: addr6Client}
	toDst := func(dst netip.Addr) ipPacket { return ipPacket{src: addrInSub, dst: dst} }
	greKey := func(k uint32) outer { return outer{gre: keyed(k)} }
	ipipOuter := outer{ipip: true}
	withCE := func(o outer) outer { o.tos = ce; return o }
	type frameFunc func(t *testing.T, tun maps.Tunnel, in ipPacket) []byte
	over := func(o outer) frameFunc {
		return func(t *testing.T, tun maps.Tunnel, in ipPacket) []byte {
			return o.frame(t, tun, in.etherType(), in.bytes(t))
		}
	}
	over6 := func(t *testing.T, tun maps.Tunnel, in ipPacket) []byte {
		return outer6{gre: &layers.GRE{KeyPresent: true, Key: 42}, exts: []ext6{extEncapLimit(4)}}.frame(t, tun, in.etherType(), in.bytes(t))
	}

	overFOU := func(t *testing.T, tun maps.Tunnel, in ipPacket) []byte {
		f, _ := fouFrame(t, tun, fouOuter{dport: fouTestPort}, in.etherType(), in.bytes(t))
		return f
	}

	cases := []struct {
		name   string
		net    *gwNet // nil: g
		ports  []maps.Port
		tun    maps.Tunnel
		routes []maps.Route
		fou    *tunnel.FOUPort // a FOU port open
		frame  frameFunc
		in     ipPacket
		ret    uint32
		want   *ipPacket        // forwarded: the packet that leaves; nil: in one hop further
		dst    net.HardwareAddr // forwarded: the next hop's MAC; nil: to the overlay (decap)
		src    net.HardwareAddr // forwarded: the egress port's MAC
	}{
		{name: "gre v4 to the lan", tun: gk, frame: over(greKey(42)), in: v4, ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "gre v6 to the lan", tun: gk, frame: over(greKey(42)), in: v6, ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "gre ttl 2", tun: gk, frame: over(greKey(42)), in: ipPacket{src: addrInSub, dst: addrClient, ttl: 2}, ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "gre largest that fits the lan", tun: gk, frame: over(greKey(42)), in: ipPacket{src: addrInSub, dst: addrClient, size: lanMTU},
			ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		// RFC 6040 first: the inner packet leaves CE.
		{name: "gre outer ce onto ect0", tun: gk, frame: over(withCE(greKey(42))), in: ipPacket{src: addrInSub, dst: addrClient, tos: 0x28 | ect0},
			ret: xdpRedirect, want: &ipPacket{src: addrInSub, dst: addrClient, tos: 0x28 | ce, ttl: 63}, dst: clientMAC, src: lanMAC},
		{name: "ipip v4 to the lan", tun: ii, frame: over(ipipOuter), in: v4, ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "ip6gre v6 to the lan", tun: i6, frame: over6, in: v6, ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "fou ipip v4 to the lan", tun: withFOU(ii, tunnel.EncapFOU, fouTestSPort), fou: &tunnel.FOUPort{Port: fouTestPort, IPProto: 4},
			frame: overFOU, in: v4, ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "external peer to the lan", tun: ext, routes: extRoutes, frame: over(outer{src: addrRemote, gre: keyed(9)}), in: v4,
			ret: xdpRedirect, dst: clientMAC, src: lanMAC},
		{name: "back out of the wan", tun: gk, frame: over(greKey(42)), in: toDst(addrRelay), ret: xdpTX, dst: gatewayMAC, src: linkMAC},

		// To the overlay, as without gateway mode.
		{name: "lan without gateway flag", ports: []maps.Port{{Ifindex: g.wan, Gateway: true}, {Ifindex: g.lan}}, tun: gk, frame: over(greKey(42)), in: v4,
			ret: xdpRedirect},
		{name: "lan not attached", ports: gwPorts(g.wan), tun: gk, frame: over(greKey(42)), in: v4, ret: xdpRedirect},
		{name: "ingress without gateway flag", ports: []maps.Port{{Ifindex: g.wan}, {Ifindex: g.lan, Gateway: true}}, tun: gk, frame: over(greKey(42)), in: v4,
			ret: xdpRedirect},
		{name: "inner destination local", tun: gk, frame: over(greKey(42)), in: toDst(addrLAN), ret: xdpRedirect},
		{name: "inner destination local v6", tun: gk, frame: over(greKey(42)), in: ipPacket{src: addr6InSub, dst: addr6LAN}, ret: xdpRedirect},
		{name: "inner destination without route", tun: gk, frame: over(greKey(42)), in: toDst(addrOffSite), ret: xdpRedirect},
		{name: "inner destination without neighbour", tun: gk, frame: over(greKey(42)), in: toDst(addrLANNoNeigh), ret: xdpRedirect},
		{name: "inner ttl 1", tun: gk, frame: over(greKey(42)), in: ipPacket{src: addrInSub, dst: addrClient, ttl: 1}, ret: xdpRedirect},
		{name: "inner hop limit 1", tun: gk, frame: over(greKey(42)), in: ipPacket{src: addr6InSub, dst: addr6Client, ttl: 1}, ret: xdpRedirect},
		{name: "too big for the lan", tun: gk, frame: over(greKey(42)), in: ipPacket{src: addrInSub, dst: addrClient, size: lanMTU + 1}, ret: xdpRedirect},
		{name: "ipv4 forwarding off", net: noFwd, tun: gk, frame: over(greKey(42)), in: v4, ret: xdpRedirect},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.net
			if n == nil {
				n = g
			}
			ports := c.ports
			if ports == nil {
				ports = gwPorts(n.wan, n.lan)
			}
			d := n.dataplane(t, ports, []maps.Tunnel{c.tun}, c.routes)
			if c.fou != nil {
				if err := d.tables.PutFOU(*c.fou); err != nil {
					t.Fatalf("put fou port %+v: %v", *c.fou, err)
				}
			}
			res := n.run(t, d, c.frame(t, c.tun, c.in), n.wan)
			l3 := c.in.bytes(t)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{RxPackets: 1, RxBytes: uint64(len(l3))})
			if c.dst == nil {
				checkVerdict(t, res, c.ret, "decap")
				checkFrame(t, res.out, ethFrame(t, c.tun.MAC, c.tun.PeerMAC, c.in.etherType(), l3))
				return
			}
			checkVerdict(t, res, c.ret, "gw_decap")
			want := c.in.hop()
			if c.want != nil {
				want = *c.want
			}
			checkFrame(t, res.out, ethFrame(t, c.dst, c.src, want.etherType(), want.bytes(t)))
		})
	}
}

// TestGatewayEncapNotRouted: with default routes (0.0.0.0/0, ::/0) into
// a tunnel, what a router never forwards by a unicast route (multicast,
// limited broadcast, IPv6 link-local) and what the stack drops as
// malformed (a total length past the frame or short of the header) is
// not encapsulated: passed as before gateway mode, untouched.
func TestGatewayEncapNotRouted(t *testing.T) {
	requireRootForBPF(t)
	g := newGatewayNet(t, true)
	g.kernelRoutes(t, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
	gk := greTunnel(42)
	routes := []maps.Route{
		intoTunnel(gk, netip.MustParsePrefix("0.0.0.0/0")), intoTunnel(gk, netip.MustParsePrefix("::/0")),
	}
	to := func(dst string) func(*testing.T) []byte {
		return func(t *testing.T) []byte { return ipPacket{dst: netip.MustParseAddr(dst)}.frame(t) }
	}
	// v4Len is an IPv4 frame whose total length says n.
	v4Len := func(n uint16) func(*testing.T) []byte {
		return func(t *testing.T) []byte {
			f := ipPacket{dst: addrInSub}.frame(t)
			binary.BigEndian.PutUint16(f[14+2:], n)
			fixIPv4Checksum(f, 14)
			return f
		}
	}
	cases := []struct {
		name  string
		frame func(*testing.T) []byte
	}{
		// The stack delivers its own addresses before it routes: a default
		// route into the tunnel (xtunnel's and the kernel's) does not take them.
		{name: "the gateway's own ipv4", frame: to(addrLAN.String())},
		{name: "the gateway's own ipv6", frame: to(addr6LAN.String())},
		{name: "ipv4 multicast", frame: to("224.0.0.251")},
		{name: "ipv4 multicast, last", frame: to("239.255.255.255")},
		{name: "ipv4 limited broadcast", frame: to("255.255.255.255")},
		{name: "ipv6 multicast", frame: to("ff02::1:ff00:1")},
		{name: "ipv6 link-local", frame: to("fe80::1")},
		{name: "ipv6 link-local, last of fe80::/10", frame: to("febf:ffff::1")},
		{name: "ipv4 total length past the frame", frame: v4Len(uint16(len(ipPacket{dst: addrInSub}.bytes(t)) + 1))},
		{name: "ipv4 total length short of the header", frame: v4Len(19)},
		// ICMPv6 (58): a UDP one is pass_truncated before gateway mode.
		{name: "ipv6 payload length past the frame", frame: func(t *testing.T) []byte {
			f := ipPacket{dst: addr6InSub}.frame(t)
			binary.BigEndian.PutUint16(f[14+4:], uint16(len(f)-14-40+1))
			f[14+6] = byte(layers.IPProtocolICMPv6)
			return f
		}},
	}
	d := g.dataplane(t, gwPorts(g.wan, g.lan), []maps.Tunnel{gk}, routes)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frame := c.frame(t)
			res := g.run(t, d, frame, g.lan)
			checkVerdict(t, res, xdpPass, "pass_not_tunnel")
			checkFrame(t, res.out, frame)
		})
	}
	checkCounters(t, d.counters(t, gk.ID), maps.Counters{})

	// The routes are in force: unicast next to those is encapsulated.
	for _, in := range []ipPacket{{dst: addrOffSite}, {dst: netip.MustParseAddr("223.255.255.255")}, {dst: netip.MustParseAddr("fec0::1")}} {
		t.Run("unicast "+in.dst.String(), func(t *testing.T) {
			res := g.run(t, d, in.frame(t), g.lan)
			checkVerdict(t, res, xdpRedirect, "gw_encap")
			checkFrame(t, res.out, gwEncapFrame(t, gk, in, peerWant{remote: addrRemote, key: 42, ttl: 64}, neighMAC))
		})
	}
}

// TestGatewayEncapFOU: UDP encapsulations (FOU, GUE) in gateway mode,
// with a fixed source port or one from the inner flow (stable for a flow,
// spread over flows, in 32768..60999).
func TestGatewayEncapFOU(t *testing.T) {
	requireRootForBPF(t)
	g := newGatewayNet(t, true)
	v4, v6 := ipPacket{dst: addrInSub}, ipPacket{dst: addr6InSub}
	cases := []struct {
		name string
		tun  maps.Tunnel
		in   ipPacket
	}{
		{name: "fou ipip", tun: withFOU(ipipTunnel(), tunnel.EncapFOU, fouTestSPort), in: v4},
		{name: "gue ipip", tun: withFOU(ipipTunnel(), tunnel.EncapGUE, fouTestSPort), in: v4},
		{name: "fou sit", tun: withFOU(sitTunnel(tunnel.ModeDefault), tunnel.EncapFOU, fouTestSPort), in: v6},
		{name: "fou gre key", tun: withFOU(greTunnel(42), tunnel.EncapFOU, fouTestSPort), in: v4},
		{name: "gue gre key inner v6", tun: withFOU(greTunnel(42), tunnel.EncapGUE, fouTestSPort), in: v6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			routes := []maps.Route{intoTunnel(c.tun, prefixSite), intoTunnel(c.tun, prefixSite6)}
			d := g.dataplane(t, gwPorts(g.wan, g.lan), []maps.Tunnel{c.tun}, routes)
			res := g.run(t, d, c.in.frame(t), g.lan)
			checkVerdict(t, res, xdpRedirect, "gw_encap")
			out := c.in.hop()
			checkFrame(t, res.out, withMACs(fouEncapWant(t, c.tun, out.etherType(), out.bytes(t), fouTestSPort), neighMAC, linkMAC))
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(c.in.bytes(t)))})
		})
	}

	t.Run("auto source port", func(t *testing.T) {
		tun := withFOU(ipipTunnel(), tunnel.EncapFOU, 0)
		d := g.dataplane(t, gwPorts(g.wan, g.lan), []maps.Tunnel{tun}, []maps.Route{intoTunnel(tun, prefixSite)})
		sportOf := func(in ipPacket) uint16 {
			t.Helper()
			res := g.run(t, d, in.frame(t), g.lan)
			checkVerdict(t, res, xdpRedirect, "gw_encap")
			if len(res.out) < 14+20+8 {
				t.Fatalf("output of %d bytes", len(res.out))
			}
			sport := binary.BigEndian.Uint16(res.out[14+20:])
			if sport < 32768 || sport > 60999 {
				t.Errorf("source port %d outside 32768..60999", sport)
			}
			out := in.hop()
			checkFrame(t, res.out, withMACs(fouEncapWant(t, tun, out.etherType(), out.bytes(t), sport), neighMAC, linkMAC))
			return sport
		}
		ports := map[uint16]bool{}
		for i := 0; i < 8; i++ {
			in := ipPacket{dst: addrInSub, sport: uint16(1000 + i)}
			a, b := sportOf(in), sportOf(in)
			if a != b {
				t.Errorf("flow %d: source ports %d and %d for the same 5-tuple", i, a, b)
			}
			ports[a] = true
		}
		if len(ports) < 4 {
			t.Errorf("8 flows got source ports %v; want the flow hash to spread them", ports)
		}
	})
}
