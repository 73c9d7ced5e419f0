package loader_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Tests of sit (IPv6, IPv4 or MPLS over IPv4; 6to4 and ISATAP with remote
// any).

var (
	addrRelay = netip.MustParseAddr("203.0.113.7") // another 6to4 / ISATAP node

	// 6to4 (RFC 3056): 2002:V4ADDR::/48. c633:6402 is 198.51.100.2 (addrRemote).
	dst6to4      = netip.MustParseAddr("2002:c633:6402::1")
	dst6to4Relay = netip.MustParseAddr("2002:cb00:7107:1::5") // 203.0.113.7
	dst6to4Zero  = netip.MustParseAddr("2002::1")             // 0.0.0.0 embedded
	// ISATAP (RFC 5214): interface identifier 0:5efe:V4ADDR, or 200:5efe:V4ADDR
	// for a globally unique IPv4 address.
	dstISATAP       = netip.MustParseAddr("fe80::5efe:c633:6402")
	dstISATAPGlobal = netip.MustParseAddr("2001:db8:1:0:200:5efe:c633:6402")
	dstISATAPGroup  = netip.MustParseAddr("fe80::300:5efe:c633:6402") // group bit set: not ISATAP
)

// sitTunnel is a sit tunnel in mode from addrLocal to addrRemote.
func sitTunnel(mode tunnel.Mode) maps.Tunnel {
	tun := newTunnel(tunnel.SIT, addrLocal, addrRemote)
	tun.Mode = mode
	return tun
}

// sitAnyTunnel is a sit tunnel at local with remote any: 6to4, or ISATAP
// with isatap set.
func sitAnyTunnel(local netip.Addr, isatap bool) maps.Tunnel {
	tun := newTunnel(tunnel.SIT, local, netip.Addr{})
	tun.ISATAP = isatap
	return tun
}

// peerAt is the tunnel at the other end of tun when that end is set up
// independently: local at the other end, remote any or fixed.
func peerAt(tun maps.Tunnel, local, remote netip.Addr) maps.Tunnel {
	m := mirror(tun)
	m.Local, m.Remote = local, remote
	return m
}

// encapFrame4 is what the TC program must make of the inner packet l3 on an
// IPv4-underlay tunnel without GRE (ipip, sit), sent to dst: built
// independently with gopacket.
func encapFrame4(t *testing.T, tun maps.Tunnel, dst netip.Addr, typ layers.EthernetType, l3 []byte, o outerWant, id uint16) []byte {
	t.Helper()
	ip4 := &layers.IPv4{
		Version: 4, IHL: 5, TOS: o.tos, Id: id, TTL: o.ttl,
		Protocol: ipProtoOf(t, typ), SrcIP: ip(tun.Local), DstIP: ip(dst),
	}
	if o.df {
		ip4.Flags = layers.IPv4DontFragment
	}
	return serialize(t,
		&layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv4},
		ip4, gopacket.Payload(l3))
}

// encap4Case is one inner packet sent into an IPv4-underlay tunnel without GRE.
type encap4Case struct {
	name string
	tun  maps.Tunnel
	in   inner
	dst  netip.Addr // outer destination; zero: the tunnel's remote
	want outerWant
}

// runEncap4 runs the cases. MPLS inner packets run in a nextHop namespace
// (packet_nexthop_test.go), the tunnel's link being xtu0: their frame is
// addressed to the remote's neighbour (neighMAC) from xtu0 (linkMAC)
// instead of tun.MAC / tun.PeerMAC; the rest of the frame is the same.
func runEncap4(t *testing.T, cases []encap4Case) {
	t.Helper()
	var nh *nextHop
	for _, c := range cases {
		if c.in.mpls && nh == nil {
			nh = newNextHop(t, true)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tun := c.tun
			if c.in.mpls {
				tun = nh.on(tun)
			}
			d := newDataplane(t, tun)
			l3 := c.in.bytes(t)
			frame := ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3)
			var res result
			if c.in.mpls {
				res = nh.run(t, d, frame)
			} else {
				res = d.run(t, d.objs.Encap, frame)
			}
			checkVerdict(t, res, tcRedirect, "encap")
			dst := c.dst
			if !dst.IsValid() {
				dst = tun.Remote
			}
			var id uint16
			if !c.want.df && len(res.out) >= 14+20 {
				id = binary.BigEndian.Uint16(res.out[14+4:]) // random without DF
			}
			want := encapFrame4(t, tun, dst, c.in.etherType(), l3, c.want, id)
			if c.in.mpls {
				want = withMACs(want, neighMAC, linkMAC)
			}
			checkFrame(t, res.out, want)
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
		})
	}
}

func TestEncapSIT(t *testing.T) {
	requireRootForBPF(t)
	ip6ip, ipip, anyMode := sitTunnel(tunnel.ModeDefault), sitTunnel(tunnel.ModeIPIP), sitTunnel(tunnel.ModeAny)
	v4, v6 := inner{ttl: 33}, inner{v6: true, ttl: 33}
	to := func(dst netip.Addr) inner { return inner{v6: true, ttl: 33, dst: dst} }
	df64 := outerWant{ttl: 64, df: true}

	runEncap4(t, []encap4Case{
		{name: "default mode ip6ip", tun: ip6ip, in: v6, want: df64},
		{name: "mode ip6ip", tun: sitTunnel(tunnel.ModeIP6IP), in: v6, want: df64},
		{name: "mode ipip", tun: ipip, in: v4, want: df64},
		{name: "mode any inner v4", tun: anyMode, in: v4, want: df64},
		{name: "mode any inner v6", tun: anyMode, in: v6, want: df64},
		{name: "mode any inner mpls", tun: anyMode, in: inner{mpls: true, ttl: 33}, want: df64},
		{name: "mode mplsip", tun: sitTunnel(tunnel.ModeMPLSIP), in: inner{mpls: true}, want: df64},

		{name: "ttl inherit v6", tun: with(ip6ip, func(tun *maps.Tunnel) { tun.TTL = 0 }), in: v6, want: outerWant{ttl: 33, df: true}},
		{name: "tos fixed v6 ect1", tun: with(ip6ip, func(tun *maps.Tunnel) { tun.TOS = 0x10 }), in: inner{v6: true, tos: 0xb8 | ect1},
			want: outerWant{tos: 0x11, ttl: 64, df: true}},
		{name: "tos inherit v6 ce", tun: with(ip6ip, func(tun *maps.Tunnel) { tun.TOSInherit = true }), in: inner{v6: true, tos: 0xb8 | ce},
			want: outerWant{tos: 0xba, ttl: 64, df: true}},
		{name: "nopmtudisc v6", tun: with(ip6ip, func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 }), in: v6,
			want: outerWant{ttl: 33}},
		{name: "nopmtudisc ipip inner df", tun: with(ipip, func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 }),
			in: inner{ttl: 33, df: true}, want: outerWant{ttl: 33, df: true}},

		// Remote any: the outer destination comes from the inner one.
		{name: "6to4", tun: sitAnyTunnel(addrLocal, false), in: to(dst6to4), dst: addrRemote, want: df64},
		{name: "6to4 mode ip6ip", tun: with(sitAnyTunnel(addrLocal, false), func(tun *maps.Tunnel) { tun.Mode = tunnel.ModeIP6IP }),
			in: to(dst6to4), dst: addrRemote, want: df64},
		{name: "6to4 other node", tun: sitAnyTunnel(addrLocal, false), in: to(dst6to4Relay), dst: addrRelay, want: df64},
		{name: "6to4 ttl and tos inherit", tun: with(sitAnyTunnel(addrLocal, false), func(tun *maps.Tunnel) { tun.TTL, tun.TOSInherit = 0, true }),
			in: inner{v6: true, ttl: 5, tos: 0x28 | ect0, dst: dst6to4}, dst: addrRemote, want: outerWant{tos: 0x2a, ttl: 5, df: true}},
		{name: "isatap link-local", tun: sitAnyTunnel(addrLocal, true), in: to(dstISATAP), dst: addrRemote, want: df64},
		{name: "isatap global u bit", tun: sitAnyTunnel(addrLocal, true), in: to(dstISATAPGlobal), dst: addrRemote, want: df64},
	})
}

// TestEncapSITDrop covers what sit refuses to send.
func TestEncapSITDrop(t *testing.T) {
	requireRootForBPF(t)
	frameOf := func(in inner) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
		}
	}
	v4, v6, mpls := frameOf(inner{}), frameOf(inner{v6: true}), frameOf(inner{mpls: true})
	to := func(dst netip.Addr) func(t *testing.T) []byte { return frameOf(inner{v6: true, dst: dst}) }
	anyMode := func(tun maps.Tunnel) maps.Tunnel { tun.Mode = tunnel.ModeAny; return tun }
	cases := []struct {
		name   string
		tun    maps.Tunnel
		frame  func(t *testing.T) []byte
		reason string
	}{
		{name: "ip6ip inner v4", tun: sitTunnel(tunnel.ModeDefault), frame: v4, reason: "tx_inner_family"},
		{name: "ip6ip inner mpls", tun: sitTunnel(tunnel.ModeIP6IP), frame: mpls, reason: "tx_inner_family"},
		{name: "ipip inner v6", tun: sitTunnel(tunnel.ModeIPIP), frame: v6, reason: "tx_inner_family"},
		{name: "mplsip inner v6", tun: sitTunnel(tunnel.ModeMPLSIP), frame: v6, reason: "tx_inner_family"},
		{name: "6to4 inner v4", tun: sitAnyTunnel(addrLocal, false), frame: v4, reason: "tx_inner_family"},

		{name: "6to4 destination outside 2002::/16", tun: sitAnyTunnel(addrLocal, false), frame: v6, reason: "tx_no_remote"},
		{name: "6to4 destination 2001::/16", tun: sitAnyTunnel(addrLocal, false), frame: to(netip.MustParseAddr("2001:c633:6402::1")), reason: "tx_no_remote"},
		{name: "6to4 embedded 0.0.0.0", tun: sitAnyTunnel(addrLocal, false), frame: to(dst6to4Zero), reason: "tx_no_remote"},
		{name: "6to4 isatap destination", tun: sitAnyTunnel(addrLocal, false), frame: to(dstISATAP), reason: "tx_no_remote"},
		{name: "isatap destination without isatap id", tun: sitAnyTunnel(addrLocal, true), frame: v6, reason: "tx_no_remote"},
		{name: "isatap group bit", tun: sitAnyTunnel(addrLocal, true), frame: to(dstISATAPGroup), reason: "tx_no_remote"},
		{name: "isatap 6to4 destination", tun: sitAnyTunnel(addrLocal, true), frame: to(dst6to4), reason: "tx_no_remote"},
		// Remote any with other inners is refused by the parser; the
		// dataplane has no remote for them either.
		{name: "6to4 mode any inner v4", tun: anyMode(sitAnyTunnel(addrLocal, false)), frame: v4, reason: "tx_no_remote"},
		{name: "6to4 mode any inner mpls", tun: anyMode(sitAnyTunnel(addrLocal, false)), frame: mpls, reason: "tx_no_remote"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			res := d.run(t, d.objs.Encap, c.frame(t))
			checkVerdict(t, res, tcShot, c.reason)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxDropped: 1})
		})
	}
}

// proto4 is an IPv4 underlay frame without GRE carrying IP protocol p.
func proto4(p layers.IPProtocol) outer {
	return outer{ipip: true, ip: func(h *layers.IPv4) { h.Protocol = p }}
}

// from is o with the outer source src.
func from(o outer, src netip.Addr) outer { o.src = src; return o }

func TestDecapSIT(t *testing.T) {
	requireRootForBPF(t)
	ip6ip, ipip, anyMode := sitTunnel(tunnel.ModeDefault), sitTunnel(tunnel.ModeIPIP), sitTunnel(tunnel.ModeAny)
	sixToFour, isatap := sitAnyTunnel(addrLocal, false), sitAnyTunnel(addrLocal, true)
	anyRemoteAnyMode := with(sixToFour, func(tun *maps.Tunnel) { tun.Mode = tunnel.ModeAny })
	v4, v6, mpls := inner{}, inner{v6: true}, inner{mpls: true}
	p4, p41, p137 := proto4(layers.IPProtocolIPv4), proto4(layers.IPProtocolIPv6), proto4(layers.IPProtocolMPLSInIP)

	cases := []decapCase{
		{name: "ip6ip", tun: ip6ip, in: v6, outer: p41, ret: xdpRedirect, reason: "decap"},
		{name: "ip6ip vlan", tun: ip6ip, in: v6, outer: outer{ipip: true, vlans: 1, ip: p41.ip}, ret: xdpRedirect, reason: "decap"},
		{name: "mode ip6ip", tun: sitTunnel(tunnel.ModeIP6IP), in: v6, outer: p41, ret: xdpRedirect, reason: "decap"},
		{name: "mode ipip", tun: ipip, in: v4, outer: p4, ret: xdpRedirect, reason: "decap"},
		{name: "mode any inner v4", tun: anyMode, in: v4, outer: p4, ret: xdpRedirect, reason: "decap"},
		{name: "mode any inner v6", tun: anyMode, in: v6, outer: p41, ret: xdpRedirect, reason: "decap"},
		{name: "mode any inner mpls", tun: anyMode, in: mpls, outer: p137, ret: xdpRedirect, reason: "decap"},
		{name: "mode mplsip", tun: sitTunnel(tunnel.ModeMPLSIP), in: mpls, outer: p137, ret: xdpRedirect, reason: "decap"},

		// Wrong mode for the inner family: no decap key for that protocol.
		{name: "ip6ip receiving ipv4 (4)", tun: ip6ip, in: v4, outer: p4, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ip6ip receiving mpls (137)", tun: ip6ip, in: mpls, outer: p137, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ipip receiving ipv6 (41)", tun: ipip, in: v6, outer: p41, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "mplsip receiving ipv6 (41)", tun: sitTunnel(tunnel.ModeMPLSIP), in: v6, outer: p41, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre to sit endpoints", tun: anyMode, in: v6, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "unknown remote", tun: ip6ip, in: v6, outer: from(p41, addrUnknown), ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "destination not ours", tun: ip6ip, in: v6, outer: outer{ipip: true, dst: addrUnknown, ip: p41.ip}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "outer fragment", tun: ip6ip, in: v6, outer: outer{ipip: true, ip: func(h *layers.IPv4) {
			h.Protocol, h.Flags = layers.IPProtocolIPv6, layers.IPv4MoreFragments
		}}, ret: xdpPass, reason: "pass_fragment"},

		// Matched, inner header wrong.
		{name: "proto 41 carrying v4", tun: anyMode, in: v4, outer: p41, ret: xdpDrop, reason: "drop_inner_trunc"},
		{name: "proto 4 carrying v6", tun: anyMode, in: v6, outer: p4, ret: xdpDrop, reason: "drop_inner_trunc"},

		// ECN onto the inner IPv6 traffic class.
		{name: "ecn ce onto ect0 v6", tun: ip6ip, in: inner{v6: true, tos: 0xb8 | ect0}, outer: outer{ipip: true, tos: ce, ip: p41.ip},
			ret: xdpRedirect, reason: "decap", want: &inner{v6: true, tos: 0xb8 | ce}},
		{name: "ecn ce onto not-ect v6", tun: ip6ip, in: v6, outer: outer{ipip: true, tos: ce, ip: p41.ip}, ret: xdpDrop, reason: "drop_ecn"},

		// Remote any (6to4, ISATAP): protocol 41 from any source.
		{name: "6to4 from the 6to4 peer", tun: sixToFour, in: inner{v6: true, dst: dst6to4}, outer: from(p41, addrRemote), ret: xdpRedirect, reason: "decap"},
		{name: "6to4 from another node", tun: sixToFour, in: v6, outer: from(p41, addrRelay), ret: xdpRedirect, reason: "decap"},
		{name: "isatap from any node", tun: isatap, in: v6, outer: from(p41, addrRelay), ret: xdpRedirect, reason: "decap"},
		{name: "6to4 destination not ours", tun: sixToFour, in: v6, outer: outer{ipip: true, src: addrRelay, dst: addrUnknown, ip: p41.ip}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "6to4 receiving ipv4 (4)", tun: sixToFour, in: v4, outer: from(p4, addrRemote), ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "6to4 receiving gre", tun: sixToFour, in: v6, outer: outer{src: addrRemote}, ret: xdpPass, reason: "pass_no_tunnel"},
		// Remote any in mode any (refused by the parser, possible in the
		// maps): decap keys exist for 4 and 137 with remote any, but only
		// protocol 41 falls back to the remote-any lookup (decap.h classify).
		{name: "remote any mode any receiving ipv6 (41)", tun: anyRemoteAnyMode, in: v6, outer: from(p41, addrRelay), ret: xdpRedirect, reason: "decap"},
		{name: "remote any mode any receiving ipv4 (4)", tun: anyRemoteAnyMode, in: v4, outer: from(p4, addrRemote), ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "remote any mode any receiving mpls (137)", tun: anyRemoteAnyMode, in: mpls, outer: from(p137, addrRemote), ret: xdpPass, reason: "pass_no_tunnel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == nil {
				want = &c.in
			}
			frame := c.outer.frame(t, c.tun, c.in.etherType(), c.in.bytes(t))
			checkDecap(t, c.tun, frame, c.ret, c.reason, want)
		})
	}
}

// TestDecapSITTruncated cuts a sit frame at every length from 14: nothing
// is redirected, every cut is pass_truncated (the total length says more).
func TestDecapSITTruncated(t *testing.T) {
	requireRootForBPF(t)
	for _, tun := range []maps.Tunnel{sitTunnel(tunnel.ModeDefault), sitAnyTunnel(addrLocal, false)} {
		name := "fixed remote"
		if !tun.Remote.IsValid() {
			name = "remote any"
		}
		t.Run(name, func(t *testing.T) {
			d := newDataplane(t, tun)
			in := inner{v6: true}
			frame := from(proto4(layers.IPProtocolIPv6), addrRemote).frame(t, tun, in.etherType(), in.bytes(t))
			for n := 14; n < len(frame); n++ {
				res := d.run(t, d.objs.Underlay, frame[:n])
				if res.ret != xdpPass || len(res.moved) != 1 || res.moved["pass_truncated"] != 1 {
					t.Errorf("len %d of %d: verdict %d, reasons %v; want %d, pass_truncated", n, len(frame), res.ret, res.moved, xdpPass)
				}
			}
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{})
		})
	}
}

func TestRoundTripSIT(t *testing.T) {
	requireRootForBPF(t)
	cases := []struct {
		name   string
		tx, rx maps.Tunnel
		in     inner
	}{
		{name: "ip6ip", tx: sitTunnel(tunnel.ModeDefault), rx: mirror(sitTunnel(tunnel.ModeDefault)), in: inner{v6: true}},
		{name: "ip6ip inherit ttl tos ce", tx: with(sitTunnel(tunnel.ModeDefault), func(tun *maps.Tunnel) { tun.TTL, tun.TOSInherit = 0, true }),
			rx: mirror(sitTunnel(tunnel.ModeDefault)), in: inner{v6: true, ttl: 3, tos: 0x28 | ce}},
		{name: "ipip", tx: sitTunnel(tunnel.ModeIPIP), rx: mirror(sitTunnel(tunnel.ModeIPIP)), in: inner{}},
		{name: "any inner v4", tx: sitTunnel(tunnel.ModeAny), rx: mirror(sitTunnel(tunnel.ModeAny)), in: inner{}},
		{name: "any inner v6", tx: sitTunnel(tunnel.ModeAny), rx: mirror(sitTunnel(tunnel.ModeAny)), in: inner{v6: true}},
		{name: "any inner mpls", tx: sitTunnel(tunnel.ModeAny), rx: mirror(sitTunnel(tunnel.ModeAny)), in: inner{mpls: true}},
		{name: "6to4 to 6to4", tx: sitAnyTunnel(addrLocal, false), rx: peerAt(sitAnyTunnel(addrLocal, false), addrRemote, netip.Addr{}),
			in: inner{v6: true, dst: dst6to4}},
		{name: "6to4 to fixed remote", tx: sitAnyTunnel(addrLocal, false), rx: peerAt(sitAnyTunnel(addrLocal, false), addrRemote, addrLocal),
			in: inner{v6: true, dst: dst6to4}},
		{name: "fixed remote to 6to4", tx: sitTunnel(tunnel.ModeDefault), rx: peerAt(sitTunnel(tunnel.ModeDefault), addrRemote, netip.Addr{}),
			in: inner{v6: true}},
		{name: "isatap to isatap", tx: sitAnyTunnel(addrLocal, true), rx: peerAt(sitAnyTunnel(addrLocal, true), addrRemote, netip.Addr{}),
			in: inner{v6: true, dst: dstISATAP}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRoundTrip(t, c.tx, c.rx, c.in)
		})
	}
}

// ipv4Of is the IPv4 address embedded in a 6to4 or ISATAP address, for
// documentation of the test addresses.
func ipv4Of(a netip.Addr, off int) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte(b[off : off+4]))
}

// TestSITTestAddresses keeps the addresses above honest.
func TestSITTestAddresses(t *testing.T) {
	for _, c := range []struct {
		addr netip.Addr
		off  int
		want netip.Addr
	}{
		{dst6to4, 2, addrRemote}, {dst6to4Relay, 2, addrRelay},
		{dstISATAP, 12, addrRemote}, {dstISATAPGlobal, 12, addrRemote},
	} {
		if got := ipv4Of(c.addr, c.off); got != c.want {
			t.Errorf("%s embeds %s, want %s", c.addr, got, c.want)
		}
	}
	if !net.ParseIP(dst6to4Zero.String()).Equal(net.ParseIP("2002::1")) {
		t.Error("dst6to4Zero")
	}
}
