package loader_test

import (
	"fmt"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Tests of MPLS in IP (RFC 4023, IP protocol 137): ipip in mode mplsip or
// any. The inner packet is one MPLS label stack entry (ethertype 0x8847)
// over an IPv4 packet.

// ipipModeTunnel is an ipip tunnel in mode from addrLocal to addrRemote.
func ipipModeTunnel(mode tunnel.Mode) maps.Tunnel {
	tun := ipipTunnel()
	tun.Mode = mode
	return tun
}

func TestEncapMPLS(t *testing.T) {
	requireRootForBPF(t)
	mplsip, anyMode := ipipModeTunnel(tunnel.ModeMPLSIP), ipipModeTunnel(tunnel.ModeAny)
	mpls := inner{mpls: true, ttl: 17}
	df64 := outerWant{ttl: 64, df: true}

	runEncap4(t, []encap4Case{
		{name: "mplsip", tun: mplsip, in: mpls, want: df64},
		{name: "mplsip ttl inherit from the label stack entry", tun: with(mplsip, func(tun *maps.Tunnel) { tun.TTL = 0 }), in: mpls,
			want: outerWant{ttl: 17, df: true}},
		{name: "mplsip tos fixed", tun: with(mplsip, func(tun *maps.Tunnel) { tun.TOS = 0x10 }), in: mpls,
			want: outerWant{tos: 0x10, ttl: 64, df: true}},
		// MPLS has no TOS to inherit: the inner IPv4 TOS under the label is not read.
		{name: "mplsip tos inherit", tun: with(mplsip, func(tun *maps.Tunnel) { tun.TOSInherit = true }), in: inner{mpls: true, tos: 0xb8 | ect0},
			want: outerWant{ttl: 64, df: true}},
		{name: "mplsip nopmtudisc", tun: with(mplsip, func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 }), in: mpls,
			want: outerWant{ttl: 17}},
		{name: "any inner mpls", tun: anyMode, in: mpls, want: df64},
		{name: "any inner v4", tun: anyMode, in: inner{ttl: 33}, want: df64},
	})
}

// TestEncapMPLSDrop covers MPLS where the mode does not carry it, and
// inner families mplsip does not carry.
func TestEncapMPLSDrop(t *testing.T) {
	requireRootForBPF(t)
	frameOf := func(in inner) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
		}
	}
	v4, v6, mpls := frameOf(inner{}), frameOf(inner{v6: true}), frameOf(inner{mpls: true})
	cases := []struct {
		name   string
		tun    maps.Tunnel
		frame  func(t *testing.T) []byte
		reason string
	}{
		{name: "mplsip inner v4", tun: ipipModeTunnel(tunnel.ModeMPLSIP), frame: v4, reason: "tx_inner_family"},
		{name: "mplsip inner v6", tun: ipipModeTunnel(tunnel.ModeMPLSIP), frame: v6, reason: "tx_inner_family"},
		{name: "ipip default inner mpls", tun: ipipTunnel(), frame: mpls, reason: "tx_inner_family"},
		{name: "ipip mode ipip inner mpls", tun: ipipModeTunnel(tunnel.ModeIPIP), frame: mpls, reason: "tx_inner_family"},
		{name: "any inner v6", tun: ipipModeTunnel(tunnel.ModeAny), frame: v6, reason: "tx_inner_family"},
		{name: "gre inner mpls", tun: greTunnel(42), frame: mpls, reason: "tx_inner_family"},
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

// TestEncapMPLSTruncated: an MPLS frame with less than one label stack
// entry is dropped as tx_truncated.
func TestEncapMPLSTruncated(t *testing.T) {
	requireRootForBPF(t)
	tun := ipipModeTunnel(tunnel.ModeMPLSIP)
	d := newDataplane(t, tun)
	in := inner{mpls: true}
	frame := ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
	for n := 14; n < 18; n++ {
		res := d.run(t, d.objs.Encap, frame[:n])
		if res.ret != tcShot || len(res.moved) != 1 || res.moved["tx_truncated"] != 1 {
			t.Errorf("len %d: verdict %d, reasons %v; want %d, tx_truncated", n, res.ret, res.moved, tcShot)
		}
	}
	checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 4})
}

func TestDecapMPLS(t *testing.T) {
	requireRootForBPF(t)
	mplsip, anyMode := ipipModeTunnel(tunnel.ModeMPLSIP), ipipModeTunnel(tunnel.ModeAny)
	mpls, v4 := inner{mpls: true}, inner{}
	p4, p137 := proto4(layers.IPProtocolIPv4), proto4(layers.IPProtocolMPLSInIP)

	cases := []decapCase{
		{name: "mplsip", tun: mplsip, in: mpls, outer: p137, ret: xdpRedirect, reason: "decap"},
		{name: "mplsip vlan", tun: mplsip, in: mpls, outer: outer{ipip: true, vlans: 1, ip: p137.ip}, ret: xdpRedirect, reason: "decap"},
		{name: "mplsip label stack entry ttl 1", tun: mplsip, in: inner{mpls: true, ttl: 1}, outer: p137, ret: xdpRedirect, reason: "decap"},
		{name: "any inner mpls", tun: anyMode, in: mpls, outer: p137, ret: xdpRedirect, reason: "decap"},
		{name: "any inner v4", tun: anyMode, in: v4, outer: p4, ret: xdpRedirect, reason: "decap"},
		// MPLS has no ECN field to take the outer CE: passed on unchanged.
		{name: "mplsip outer ce", tun: mplsip, in: mpls, outer: outer{ipip: true, tos: ce, ip: p137.ip}, ret: xdpRedirect, reason: "decap"},

		{name: "mplsip receiving ipv4 (4)", tun: mplsip, in: v4, outer: p4, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ipip receiving mpls (137)", tun: ipipTunnel(), in: mpls, outer: p137, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "mplsip unknown remote", tun: mplsip, in: mpls, outer: from(p137, addrUnknown), ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "mplsip outer fragment", tun: mplsip, in: mpls, outer: outer{ipip: true, ip: func(h *layers.IPv4) {
			h.Protocol, h.Flags, h.FragOffset = layers.IPProtocolMPLSInIP, 0, 10
		}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "gre carrying mpls", tun: greTunnel(42), in: mpls, outer: outer{gre: keyed(42)}, ret: xdpDrop, reason: "drop_inner_proto"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frame := c.outer.frame(t, c.tun, c.in.etherType(), c.in.bytes(t))
			checkDecap(t, c.tun, frame, c.ret, c.reason, &c.in)
		})
	}
}

// TestDecapMPLSTruncated: fewer than 4 bytes (one label stack entry) after
// the outer header is drop_inner_trunc, whether the frame ends there or is
// padded to the Ethernet minimum; cuts of a whole frame (total length
// larger than the frame) are pass_truncated.
func TestDecapMPLSTruncated(t *testing.T) {
	requireRootForBPF(t)
	tun := ipipModeTunnel(tunnel.ModeMPLSIP)
	lse := serialize(t, &layers.MPLS{Label: 1000, StackBottom: true, TTL: 64})
	for n := 0; n < 4; n++ {
		// serialize pads the Ethernet frame to 60 bytes; the total length says 20+n.
		padded := serialize(t,
			&layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, TTL: 62, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolMPLSInIP,
				SrcIP: ip(tun.Remote), DstIP: ip(tun.Local)},
			gopacket.Payload(lse[:n]))
		if len(padded) != 60 || padded[14+3] != byte(20+n) {
			t.Fatalf("frame of %d bytes, total length %d: want 60, %d", len(padded), padded[14+3], 20+n)
		}
		for _, f := range []struct {
			name  string
			frame []byte
		}{{"exact", padded[:14+20+n]}, {"padded", padded}} {
			t.Run(fmt.Sprintf("%s, %d bytes after the outer header", f.name, n), func(t *testing.T) {
				checkDecap(t, tun, f.frame, xdpDrop, "drop_inner_trunc", nil)
			})
		}
	}

	t.Run("cut at every length", func(t *testing.T) {
		d := newDataplane(t, tun)
		in := inner{mpls: true}
		frame := proto4(layers.IPProtocolMPLSInIP).frame(t, tun, in.etherType(), in.bytes(t))
		for n := 14; n < len(frame); n++ {
			res := d.run(t, d.objs.Underlay, frame[:n])
			if res.ret != xdpPass || len(res.moved) != 1 || res.moved["pass_truncated"] != 1 {
				t.Errorf("len %d of %d: verdict %d, reasons %v; want %d, pass_truncated", n, len(frame), res.ret, res.moved, xdpPass)
			}
		}
		checkCounters(t, d.counters(t, tun.ID), maps.Counters{})
	})
}

func TestRoundTripMPLS(t *testing.T) {
	requireRootForBPF(t)
	cases := []struct {
		name string
		tun  maps.Tunnel
		in   inner
	}{
		{name: "ipip mplsip", tun: ipipModeTunnel(tunnel.ModeMPLSIP), in: inner{mpls: true}},
		{name: "ipip mplsip ttl inherit", tun: with(ipipModeTunnel(tunnel.ModeMPLSIP), func(tun *maps.Tunnel) { tun.TTL = 0 }),
			in: inner{mpls: true, ttl: 9}},
		{name: "ipip any inner mpls", tun: ipipModeTunnel(tunnel.ModeAny), in: inner{mpls: true}},
		{name: "ipip any inner v4", tun: ipipModeTunnel(tunnel.ModeAny), in: inner{}},
		{name: "sit mplsip", tun: sitTunnel(tunnel.ModeMPLSIP), in: inner{mpls: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRoundTrip(t, c.tun, mirror(c.tun), c.in)
		})
	}
}
