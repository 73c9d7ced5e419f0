package loader_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Tests of the IPv6 underlay: ip6gre (GRE over IPv6) and ip6tnl (IPv4 or
// IPv6 over IPv6, with the RFC 2473 encapsulation limit option).

// ip6greTunnel is an ip6gre tunnel from addr6Local to addr6Remote; key < 0
// means none.
func ip6greTunnel(key int64) maps.Tunnel {
	tun := newTunnel(tunnel.IP6GRE, addr6Local, addr6Remote)
	if key >= 0 {
		tun.IKey = tunnel.Key{Set: true, Value: uint32(key)}
		tun.OKey = tun.IKey
	}
	return tun
}

// ip6tnlTunnel is an ip6tnl tunnel in mode from addr6Local to addr6Remote,
// with the default encapsulation limit (4).
func ip6tnlTunnel(mode tunnel.Mode) maps.Tunnel {
	tun := newTunnel(tunnel.IP6TNL, addr6Local, addr6Remote)
	tun.Mode = mode
	return tun
}

// ipProtoOf is the IP protocol number that carries an inner packet of
// ethertype typ without GRE.
func ipProtoOf(t *testing.T, typ layers.EthernetType) layers.IPProtocol {
	t.Helper()
	switch typ {
	case layers.EthernetTypeIPv4:
		return layers.IPProtocolIPv4
	case layers.EthernetTypeIPv6:
		return layers.IPProtocolIPv6
	case layers.EthernetTypeMPLSUnicast:
		return layers.IPProtocolMPLSInIP
	}
	t.Fatalf("no IP protocol carries ethertype %v", typ)
	return 0
}

// encapLimitOpt is the destination options header an ip6tnl puts before
// its payload: the Tunnel Encapsulation Limit option (RFC 2473 4.1.1, type
// 4, length 1) padded to 8 bytes with a PadN option, as Linux sends it.
func encapLimitOpt(limit uint8, next layers.IPProtocol) *layers.IPv6Destination {
	d := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{
		{OptionType: 4, OptionData: []byte{limit}}, // Tunnel Encapsulation Limit
		{OptionType: 1, OptionData: []byte{0}},     // PadN, one byte of padding
	}}
	d.NextHeader = next
	return d
}

// ext6 is an IPv6 extension header: its protocol number, and its bytes for
// the header that follows it.
type ext6 struct {
	proto layers.IPProtocol
	bytes func(t *testing.T, next layers.IPProtocol) []byte
}

func extEncapLimit(limit uint8) ext6 {
	return ext6{layers.IPProtocolIPv6Destination, func(t *testing.T, next layers.IPProtocol) []byte {
		return serialize(t, encapLimitOpt(limit, next))
	}}
}

var (
	// A destination options header with 6 bytes of padding only.
	extPadDst = ext6{layers.IPProtocolIPv6Destination, func(t *testing.T, next layers.IPProtocol) []byte {
		d := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 4)}}}
		d.NextHeader = next
		return serialize(t, d)
	}}
	// A hop-by-hop options header with a router alert (RFC 2711) and PadN.
	extHopByHop = ext6{layers.IPProtocolIPv6HopByHop, func(t *testing.T, next layers.IPProtocol) []byte {
		h := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{
			{OptionType: 5, OptionData: []byte{0, 0}}, {OptionType: 1},
		}}
		h.NextHeader = next
		return serialize(t, h)
	}}
	// A first fragment (offset 0, more fragments), identification 42.
	extFragment = ext6{layers.IPProtocolIPv6Fragment, func(_ *testing.T, next layers.IPProtocol) []byte {
		return []byte{byte(next), 0, 0x00, 0x01, 0, 0, 0, 42}
	}}
	// An atomic fragment (offset 0, no more fragments; RFC 6946).
	extAtomicFragment = ext6{layers.IPProtocolIPv6Fragment, func(_ *testing.T, next layers.IPProtocol) []byte {
		return []byte{byte(next), 0, 0, 0, 0, 0, 0, 43}
	}}
	// A type 2 routing header (Mobile IPv6, RFC 6275) with one address.
	extRouting = ext6{layers.IPProtocolIPv6Routing, func(_ *testing.T, next layers.IPProtocol) []byte {
		return append([]byte{byte(next), 2, 2, 1, 0, 0, 0, 0}, net.ParseIP("2001:db8::99")...)
	}}
	// A destination options header of hdrlen 32 (264 bytes): two PadN options.
	extBigDst = ext6{layers.IPProtocolIPv6Destination, func(_ *testing.T, next layers.IPProtocol) []byte {
		b := append([]byte{byte(next), 32, 1, 253}, make([]byte, 253)...)
		b = append(b, 1, 5, 0, 0, 0, 0, 0)
		if len(b) != 264 {
			panic("extBigDst is not 264 bytes")
		}
		return b
	}}
)

// outer6 describes an IPv6 underlay frame around an inner packet.
type outer6 struct {
	src, dst netip.Addr        // zero: the tunnel's remote -> local
	tc       uint8             // traffic class
	flow     uint32            // flow label
	exts     []ext6            // extension headers after the IPv6 header, in order
	gre      *layers.GRE       // GRE header (ip6gre); Protocol 0: the inner packet's ethertype
	proto    layers.IPProtocol // without GRE: the protocol after the extension headers; 0: the inner packet's
	vlan     bool              // one 802.1Q tag
	raw      func(b []byte, ipOff int)
}

// frame builds the underlay frame for tun around the inner packet l3.
func (o outer6) frame(t *testing.T, tun maps.Tunnel, innerType layers.EthernetType, l3 []byte) []byte {
	t.Helper()
	src, dst := o.src, o.dst
	if !src.IsValid() {
		src = tun.Remote
	}
	if !dst.IsValid() {
		dst = tun.Local
	}
	next := o.proto
	if o.gre != nil {
		next = layers.IPProtocolGRE
	} else if next == 0 {
		next = ipProtoOf(t, innerType)
	}
	var ext []byte
	for i := len(o.exts) - 1; i >= 0; i-- {
		ext = append(o.exts[i].bytes(t, next), ext...)
		next = o.exts[i].proto
	}
	ls := []gopacket.SerializableLayer{}
	if o.vlan {
		ls = append(ls, &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv6})
	} else {
		ls = append(ls, &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeIPv6})
	}
	ls = append(ls, &layers.IPv6{
		Version: 6, TrafficClass: o.tc, FlowLabel: o.flow, HopLimit: 62,
		NextHeader: next, SrcIP: ip(src), DstIP: ip(dst),
	}, gopacket.Payload(ext))
	if o.gre != nil {
		gre := *o.gre
		if gre.Protocol == 0 {
			gre.Protocol = innerType
		}
		ls = append(ls, &gre)
	}
	b := serialize(t, append(ls, gopacket.Payload(l3))...)
	if o.raw != nil {
		ipOff := 14
		if o.vlan {
			ipOff += 4
		}
		o.raw(b, ipOff)
	}
	return b
}

// outer6Want is what the outer IPv6 header of an encapsulated packet must say.
type outer6Want struct {
	tc    uint8  // traffic class
	hop   uint8  // hop limit
	flow  uint32 // flow label
	limit int    // encapsulation limit option sent with this value; -1: no option
}

// encapFrame6 is what the TC program must make of the inner packet l3 on an
// IPv6-underlay tunnel, built independently with gopacket.
func encapFrame6(t *testing.T, tun maps.Tunnel, typ layers.EthernetType, l3 []byte, w outer6Want) []byte {
	t.Helper()
	proto := layers.IPProtocolGRE
	if !tun.Type.IsGRE() {
		proto = ipProtoOf(t, typ)
	}
	ip6 := &layers.IPv6{
		Version: 6, TrafficClass: w.tc, FlowLabel: w.flow, HopLimit: w.hop,
		NextHeader: proto, SrcIP: ip(tun.Local), DstIP: ip(tun.Remote),
	}
	ls := []gopacket.SerializableLayer{
		&layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv6}, ip6,
	}
	if w.limit >= 0 {
		ip6.NextHeader = layers.IPProtocolIPv6Destination
		ls = append(ls, encapLimitOpt(uint8(w.limit), proto))
	}
	if tun.Type.IsGRE() {
		ls = append(ls, &layers.GRE{KeyPresent: tun.OKey.Set, Key: tun.OKey.Value, Protocol: typ})
	}
	return serialize(t, append(ls, gopacket.Payload(l3))...)
}

// TestEncapLimitOptionLayout pins the gopacket-built option to the bytes
// RFC 2473 and Linux (ip6_tnl_dst_opt_init) give it.
func TestEncapLimitOptionLayout(t *testing.T) {
	got := serialize(t, encapLimitOpt(7, layers.IPProtocolIPv6))
	if want := []byte{41, 0, 4, 1, 7, 1, 1, 0}; !bytes.Equal(got, want) {
		t.Fatalf("encapsulation limit header %x, want %x", got, want)
	}
}

// encap6Case is one inner packet sent into an IPv6-underlay tunnel.
type encap6Case struct {
	name string
	tun  maps.Tunnel
	in   inner
	want outer6Want
}

func runEncap6(t *testing.T, cases []encap6Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			l3 := c.in.bytes(t)
			res := d.run(t, d.objs.Encap, ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3))
			checkVerdict(t, res, tcRedirect, "encap")
			checkFrame(t, res.out, encapFrame6(t, c.tun, c.in.etherType(), l3, c.want))
			if c.want.limit >= 0 && len(res.out) >= 14+48 {
				// The option, literally: [next header, 0, 4, 1, limit, 1, 1, 0].
				proto := byte(ipProtoOf(t, c.in.etherType()))
				if c.tun.Type.IsGRE() {
					proto = byte(layers.IPProtocolGRE)
				}
				want := []byte{proto, 0, 4, 1, byte(c.want.limit), 1, 1, 0}
				if got := res.out[14+40 : 14+48]; res.out[14+6] != 60 || !bytes.Equal(got, want) {
					t.Errorf("next header %d, destination options %x; want 60, %x", res.out[14+6], got, want)
				}
			}
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
		})
	}
}

func TestEncapIP6GRE(t *testing.T) {
	requireRootForBPF(t)
	gk, g := ip6greTunnel(42), ip6greTunnel(-1)
	v4 := inner{ttl: 33}
	v6 := inner{v6: true, ttl: 33} // flow label 0x12345
	tos := func(in inner, tos uint8) inner { in.tos = tos; return in }
	hopInherit := func(tun *maps.Tunnel) { tun.TTL = 0 }
	tcInherit := func(tun *maps.Tunnel) { tun.TOSInherit = true }
	tcFixed := func(v uint8) func(*maps.Tunnel) { return func(tun *maps.Tunnel) { tun.TOS = v } }
	flowFixed := func(tun *maps.Tunnel) { tun.FlowLabel = 0xabcde }
	flowInherit := func(tun *maps.Tunnel) { tun.FlowInherit = true }
	// ip6gre sends the encapsulation limit option (default 4) as Linux does.
	w := func(tc uint8, hop uint8, flow uint32) outer6Want {
		return outer6Want{tc: tc, hop: hop, flow: flow, limit: 4}
	}
	limit := func(n int) func(*maps.Tunnel) { return func(tun *maps.Tunnel) { tun.EncapLimit = n } }

	runEncap6(t, []encap6Case{
		// Next header 47 right after the IPv6 header.
		{name: "encaplimit none key inner v4", tun: with(gk, limit(tunnel.EncapLimitNone)), in: v4, want: outer6Want{hop: 64, limit: -1}},
		{name: "encaplimit none key inner v6", tun: with(gk, limit(tunnel.EncapLimitNone)), in: v6, want: outer6Want{hop: 64, limit: -1}},
		{name: "encaplimit none no key inner v4", tun: with(g, limit(tunnel.EncapLimitNone)), in: v4, want: outer6Want{hop: 64, limit: -1}},
		{name: "encaplimit none no key inner v6 everything inherited", tun: with(with(g, limit(tunnel.EncapLimitNone)), func(tun *maps.Tunnel) {
			tun.TTL, tun.TOSInherit, tun.FlowInherit = 0, true, true
		}), in: inner{v6: true, ttl: 9, tos: 0xa0 | ce}, want: outer6Want{tc: 0xa2, hop: 9, flow: 0x12345, limit: -1}},
		{name: "encaplimit 7", tun: with(gk, limit(7)), in: v6, want: outer6Want{hop: 64, limit: 7}},
		{name: "encaplimit 0", tun: with(g, limit(tunnel.EncapLimitZero)), in: v4, want: outer6Want{hop: 64, limit: 0}},

		{name: "key inner v4", tun: gk, in: v4, want: w(0, 64, 0)},
		{name: "key inner v6", tun: gk, in: v6, want: w(0, 64, 0)},
		{name: "no key inner v4", tun: g, in: v4, want: w(0, 64, 0)},
		{name: "no key inner v6", tun: g, in: v6, want: w(0, 64, 0)},
		{name: "okey differs from ikey", tun: with(g, func(tun *maps.Tunnel) {
			tun.IKey, tun.OKey = tunnel.Key{Set: true, Value: 10}, tunnel.Key{Set: true, Value: 0xdeadbeef}
		}), in: v6, want: w(0, 64, 0)},
		{name: "only ikey", tun: with(g, func(tun *maps.Tunnel) { tun.IKey = tunnel.Key{Set: true, Value: 10} }), in: v4, want: w(0, 64, 0)},

		{name: "hoplimit fixed", tun: with(gk, func(tun *maps.Tunnel) { tun.TTL = 200 }), in: v6, want: w(0, 200, 0)},
		{name: "hoplimit inherit v4", tun: with(gk, hopInherit), in: v4, want: w(0, 33, 0)},
		{name: "hoplimit inherit v6", tun: with(g, hopInherit), in: inner{v6: true, ttl: 7}, want: w(0, 7, 0)},

		{name: "tclass fixed inner v4", tun: with(gk, tcFixed(0x28)), in: tos(v4, 0x10), want: w(0x28, 64, 0)},
		{name: "tclass fixed ecn bits ignored", tun: with(gk, tcFixed(0x2b)), in: v6, want: w(0x28, 64, 0)},
		{name: "tclass fixed inner v4 ect1", tun: with(gk, tcFixed(0x28)), in: tos(v4, 0x10|ect1), want: w(0x29, 64, 0)},
		{name: "tclass fixed inner v6 ect0", tun: with(gk, tcFixed(0x28)), in: tos(v6, 0xb8|ect0), want: w(0x2a, 64, 0)},
		{name: "tclass fixed inner v6 ce", tun: with(g, tcFixed(0x28)), in: tos(v6, 0xb8|ce), want: w(0x2a, 64, 0)},
		{name: "tclass inherit v4", tun: with(gk, tcInherit), in: tos(v4, 0xb8|ect1), want: w(0xb9, 64, 0)},
		{name: "tclass inherit v4 ce", tun: with(gk, tcInherit), in: tos(v4, 0xb8|ce), want: w(0xba, 64, 0)},
		{name: "tclass inherit v6", tun: with(gk, tcInherit), in: tos(v6, 0x04|ect1), want: w(0x05, 64, 0)},
		{name: "tclass inherit v6 all bits", tun: with(gk, tcInherit), in: tos(v6, 0xfc|ect0), want: w(0xfe, 64, 0)},
		{name: "tclass inherit v6 ce", tun: with(g, tcInherit), in: tos(v6, 0xb8|ce), want: w(0xba, 64, 0)},

		{name: "flowlabel default 0 inner v6", tun: gk, in: v6, want: w(0, 64, 0)},
		{name: "flowlabel fixed inner v6", tun: with(gk, flowFixed), in: v6, want: w(0, 64, 0xabcde)},
		{name: "flowlabel fixed inner v4", tun: with(gk, flowFixed), in: v4, want: w(0, 64, 0xabcde)},
		{name: "flowlabel inherit inner v6", tun: with(gk, flowInherit), in: v6, want: w(0, 64, 0x12345)},
		{name: "flowlabel inherit inner v4", tun: with(gk, flowInherit), in: v4, want: w(0, 64, 0)},
		{name: "everything inherited v6", tun: with(g, func(tun *maps.Tunnel) {
			tun.TTL, tun.TOSInherit, tun.FlowInherit = 0, true, true
		}), in: inner{v6: true, ttl: 9, tos: 0xa0 | ect1}, want: w(0xa1, 9, 0x12345)},
	})
}

func TestEncapIP6TNL(t *testing.T) {
	requireRootForBPF(t)
	d66 := ip6tnlTunnel(tunnel.ModeDefault)
	v4 := inner{ttl: 33}
	v6 := inner{v6: true, ttl: 33}
	limit := func(n int) func(*maps.Tunnel) { return func(tun *maps.Tunnel) { tun.EncapLimit = n } }
	mode := func(m tunnel.Mode) func(*maps.Tunnel) { return func(tun *maps.Tunnel) { tun.Mode = m } }
	w := func(limit int) outer6Want { return outer6Want{hop: 64, limit: limit} }

	runEncap6(t, []encap6Case{
		{name: "default mode ip6ip6 encaplimit 4", tun: d66, in: v6, want: w(4)},
		{name: "mode ip6ip6", tun: with(d66, mode(tunnel.ModeIP6IP6)), in: v6, want: w(4)},
		{name: "mode ipip6", tun: with(d66, mode(tunnel.ModeIPIP6)), in: v4, want: w(4)},
		{name: "mode any inner v4", tun: with(d66, mode(tunnel.ModeAny)), in: v4, want: w(4)},
		{name: "mode any inner v6", tun: with(d66, mode(tunnel.ModeAny)), in: v6, want: w(4)},

		{name: "encaplimit none", tun: with(d66, limit(tunnel.EncapLimitNone)), in: v6, want: w(-1)},
		{name: "encaplimit none ipip6", tun: with(with(d66, limit(tunnel.EncapLimitNone)), mode(tunnel.ModeIPIP6)), in: v4, want: w(-1)},
		{name: "encaplimit 7", tun: with(d66, limit(7)), in: v6, want: w(7)},
		{name: "encaplimit 7 any inner v4", tun: with(with(d66, limit(7)), mode(tunnel.ModeAny)), in: v4, want: w(7)},
		{name: "encaplimit 0", tun: with(d66, limit(tunnel.EncapLimitZero)), in: v6, want: w(0)},
		{name: "encaplimit 255", tun: with(d66, limit(255)), in: v6, want: w(255)},

		{name: "hoplimit inherit", tun: with(d66, func(tun *maps.Tunnel) { tun.TTL = 0 }), in: v6,
			want: outer6Want{hop: 33, limit: 4}},
		{name: "tclass fixed ecn ce", tun: with(d66, func(tun *maps.Tunnel) { tun.TOS = 0x48 }), in: inner{v6: true, tos: ce},
			want: outer6Want{tc: 0x4a, hop: 64, limit: 4}},
		{name: "tclass inherit ipip6", tun: with(with(d66, mode(tunnel.ModeIPIP6)), func(tun *maps.Tunnel) { tun.TOSInherit = true }),
			in: inner{tos: 0x88 | ect0}, want: outer6Want{tc: 0x8a, hop: 64, limit: 4}},
		{name: "flowlabel fixed", tun: with(d66, func(tun *maps.Tunnel) { tun.FlowLabel = 0xfffff }), in: v6,
			want: outer6Want{hop: 64, flow: 0xfffff, limit: 4}},
		{name: "flowlabel inherit inner v6", tun: with(d66, func(tun *maps.Tunnel) { tun.FlowInherit = true }), in: v6,
			want: outer6Want{hop: 64, flow: 0x12345, limit: 4}},
		{name: "flowlabel inherit inner v4", tun: with(with(d66, mode(tunnel.ModeAny)), func(tun *maps.Tunnel) { tun.FlowInherit = true }),
			in: v4, want: outer6Want{hop: 64, limit: 4}},
	})
}

// TestEncapIP6Drop covers what IPv6-underlay tunnels refuse to send.
func TestEncapIP6Drop(t *testing.T) {
	requireRootForBPF(t)
	frameOf := func(in inner) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
		}
	}
	v4, v6, mpls := frameOf(inner{}), frameOf(inner{v6: true}), frameOf(inner{mpls: true})
	arp := func(t *testing.T) []byte {
		return serialize(t, &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeARP}, &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: wireSrcMAC, SourceProtAddress: net.IPv4(10, 9, 0, 1).To4(),
			DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: net.IPv4(10, 9, 0, 2).To4(),
		})
	}
	cases := []struct {
		name   string
		tun    maps.Tunnel
		frame  func(t *testing.T) []byte
		reason string
	}{
		{name: "ip6ip6 inner v4", tun: ip6tnlTunnel(tunnel.ModeDefault), frame: v4, reason: "tx_inner_family"},
		{name: "mode ip6ip6 inner v4", tun: ip6tnlTunnel(tunnel.ModeIP6IP6), frame: v4, reason: "tx_inner_family"},
		{name: "ipip6 inner v6", tun: ip6tnlTunnel(tunnel.ModeIPIP6), frame: v6, reason: "tx_inner_family"},
		{name: "ip6tnl any mpls", tun: ip6tnlTunnel(tunnel.ModeAny), frame: mpls, reason: "tx_inner_family"},
		{name: "ip6gre mpls", tun: ip6greTunnel(42), frame: mpls, reason: "tx_inner_family"},
		{name: "ip6gre arp", tun: ip6greTunnel(42), frame: arp, reason: "tx_not_ip"},
		{name: "ip6tnl arp", tun: ip6tnlTunnel(tunnel.ModeAny), frame: arp, reason: "tx_not_ip"},
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

// decap6Case is one IPv6 underlay frame and what the XDP program must do.
type decap6Case struct {
	name   string
	tun    maps.Tunnel
	in     inner
	outer  outer6
	ret    uint32
	reason string
	want   *inner // inner packet after decap when it differs from in (ECN)
}

func runDecap6(t *testing.T, cases []decap6Case) {
	t.Helper()
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

func TestDecapIP6GRE(t *testing.T) {
	requireRootForBPF(t)
	gk, g := ip6greTunnel(42), ip6greTunnel(-1)
	v4, v6 := inner{}, inner{v6: true}
	withTOS := func(in inner, tos uint8) inner { in.tos = tos; return in }
	key := func(k uint32) *layers.GRE { return &layers.GRE{KeyPresent: true, Key: k} }

	runDecap6(t, []decap6Case{
		{name: "key inner v4", tun: gk, in: v4, outer: outer6{gre: key(42)}, ret: xdpRedirect, reason: "decap"},
		{name: "key inner v6", tun: gk, in: v6, outer: outer6{gre: key(42)}, ret: xdpRedirect, reason: "decap"},
		{name: "no key inner v4", tun: g, in: v4, outer: outer6{gre: &layers.GRE{}}, ret: xdpRedirect, reason: "decap"},
		{name: "no key inner v6", tun: g, in: v6, outer: outer6{gre: &layers.GRE{}}, ret: xdpRedirect, reason: "decap"},
		{name: "flow label and traffic class", tun: gk, in: v6, outer: outer6{gre: key(42), tc: 0xb8, flow: 0x54321}, ret: xdpRedirect, reason: "decap"},
		{name: "vlan", tun: gk, in: v4, outer: outer6{gre: key(42), vlan: true}, ret: xdpRedirect, reason: "decap"},
		// Linux ip6gre sends the encapsulation limit option by default.
		{name: "encaplimit option", tun: gk, in: v4, outer: outer6{gre: key(42), exts: []ext6{extEncapLimit(4)}}, ret: xdpRedirect, reason: "decap"},
		{name: "hop-by-hop and encaplimit", tun: g, in: v6, outer: outer6{gre: &layers.GRE{}, exts: []ext6{extHopByHop, extEncapLimit(4)}}, ret: xdpRedirect, reason: "decap"},

		{name: "wrong key", tun: gk, in: v4, outer: outer6{gre: key(43)}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "no key, tunnel has one", tun: gk, in: v4, outer: outer6{gre: &layers.GRE{}}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "unknown remote", tun: gk, in: v4, outer: outer6{gre: key(42), src: addr6Unknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "destination not ours", tun: gk, in: v4, outer: outer6{gre: key(42), dst: addr6Unknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ip6tnl packet to ip6gre endpoints", tun: g, in: v6, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre csum icsum", tun: withGREOpts(gk, true, false), in: v4, outer: outer6{gre: &layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre csum, tunnel without icsum", tun: gk, in: v4, outer: outer6{gre: &layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42}}, ret: xdpDrop, reason: "drop_gre_csum"},
		{name: "gre no csum, tunnel with icsum", tun: withGREOpts(g, true, false), in: v6, outer: outer6{gre: &layers.GRE{}}, ret: xdpDrop, reason: "drop_gre_csum"},
		{name: "gre seq", tun: g, in: v4, outer: outer6{gre: &layers.GRE{SeqPresent: true, Seq: 3}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre seq iseq", tun: withGREOpts(g, false, true), in: v6, outer: outer6{gre: &layers.GRE{SeqPresent: true, Seq: 3}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre no seq, tunnel with iseq", tun: withGREOpts(g, false, true), in: v4, outer: outer6{gre: &layers.GRE{}}, ret: xdpDrop, reason: "drop_gre_seq"},
		{name: "gre version 1", tun: g, in: v4, outer: outer6{gre: &layers.GRE{Version: 1}}, ret: xdpPass, reason: "pass_gre_version"},
		{name: "fragment", tun: gk, in: v4, outer: outer6{gre: key(42), exts: []ext6{extFragment}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "payload length ends inside gre", tun: gk, in: v4, outer: outer6{gre: key(42), raw: func(b []byte, ipOff int) {
			binary.BigEndian.PutUint16(b[ipOff+4:], 6)
		}}, ret: xdpPass, reason: "pass_truncated"},
		{name: "outer version 4 in ipv6 ethertype", tun: gk, in: v4, outer: outer6{gre: key(42), raw: func(b []byte, ipOff int) {
			b[ipOff] = 0x40 | b[ipOff]&0x0f
		}}, ret: xdpPass, reason: "pass_bad_ihl"},

		{name: "gre proto arp", tun: gk, in: v4, outer: outer6{gre: &layers.GRE{KeyPresent: true, Key: 42, Protocol: layers.EthernetTypeARP}}, ret: xdpDrop, reason: "drop_inner_proto"},
		{name: "gre proto mpls", tun: gk, in: inner{mpls: true}, outer: outer6{gre: key(42)}, ret: xdpDrop, reason: "drop_inner_proto"},
		{name: "gre proto ipv6 carrying v4", tun: gk, in: v4, outer: outer6{gre: &layers.GRE{KeyPresent: true, Key: 42, Protocol: layers.EthernetTypeIPv6}}, ret: xdpDrop, reason: "drop_inner_trunc"},

		// RFC 6040 with the ECN field in the outer traffic class.
		{name: "ecn ce onto ect0 v4", tun: gk, in: withTOS(v4, 0x28|ect0), outer: outer6{gre: key(42), tc: 0x10 | ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v4, 0x28|ce))},
		{name: "ecn ce onto ect1 v6", tun: gk, in: withTOS(v6, 0xb8|ect1), outer: outer6{gre: key(42), tc: ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v6, 0xb8|ce))},
		{name: "ecn ce onto ce v6", tun: gk, in: withTOS(v6, 0xb8|ce), outer: outer6{gre: key(42), tc: ce}, ret: xdpRedirect, reason: "decap"},
		{name: "ecn ce onto not-ect v4", tun: gk, in: withTOS(v4, 0x28), outer: outer6{gre: key(42), tc: ce}, ret: xdpDrop, reason: "drop_ecn"},
		{name: "ecn ce onto not-ect v6", tun: g, in: v6, outer: outer6{gre: &layers.GRE{}, tc: ce}, ret: xdpDrop, reason: "drop_ecn"},
		{name: "ecn ect0 onto not-ect v6", tun: gk, in: v6, outer: outer6{gre: key(42), tc: ect0}, ret: xdpRedirect, reason: "decap"},
	})
}

func TestDecapIP6TNL(t *testing.T) {
	requireRootForBPF(t)
	t66, t46, tany := ip6tnlTunnel(tunnel.ModeDefault), ip6tnlTunnel(tunnel.ModeIPIP6), ip6tnlTunnel(tunnel.ModeAny)
	v4, v6 := inner{}, inner{v6: true}
	withTOS := func(in inner, tos uint8) inner { in.tos = tos; return in }
	lim := extEncapLimit(4)

	runDecap6(t, []decap6Case{
		// Accepted with and without the encapsulation limit option.
		{name: "ip6ip6 with encaplimit", tun: t66, in: v6, outer: outer6{exts: []ext6{lim}}, ret: xdpRedirect, reason: "decap"},
		{name: "ip6ip6 without encaplimit", tun: t66, in: v6, ret: xdpRedirect, reason: "decap"},
		{name: "ip6ip6 encaplimit 0", tun: t66, in: v6, outer: outer6{exts: []ext6{extEncapLimit(0)}}, ret: xdpRedirect, reason: "decap"},
		{name: "ip6ip6 hop-by-hop then encaplimit", tun: t66, in: v6, outer: outer6{exts: []ext6{extHopByHop, lim}}, ret: xdpRedirect, reason: "decap"},
		{name: "ip6ip6 hop-by-hop only", tun: t66, in: v6, outer: outer6{exts: []ext6{extHopByHop}}, ret: xdpRedirect, reason: "decap"},
		{name: "ip6ip6 vlan", tun: t66, in: v6, outer: outer6{exts: []ext6{lim}, vlan: true}, ret: xdpRedirect, reason: "decap"},
		{name: "mode ip6ip6", tun: ip6tnlTunnel(tunnel.ModeIP6IP6), in: v6, outer: outer6{exts: []ext6{lim}}, ret: xdpRedirect, reason: "decap"},
		{name: "ipip6 with encaplimit", tun: t46, in: v4, outer: outer6{exts: []ext6{lim}}, ret: xdpRedirect, reason: "decap"},
		{name: "ipip6 without encaplimit", tun: t46, in: v4, ret: xdpRedirect, reason: "decap"},
		{name: "any inner v4", tun: tany, in: v4, outer: outer6{exts: []ext6{lim}}, ret: xdpRedirect, reason: "decap"},
		{name: "any inner v6", tun: tany, in: v6, ret: xdpRedirect, reason: "decap"},
		// Four headers are walked (IPV6_EXT_MAX).
		{name: "four extension headers", tun: t66, in: v6, outer: outer6{exts: []ext6{extHopByHop, extPadDst, extPadDst, lim}}, ret: xdpRedirect, reason: "decap"},

		// Extension headers left to the stack.
		{name: "fragment", tun: t66, in: v6, outer: outer6{exts: []ext6{extFragment}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "encaplimit then fragment", tun: t66, in: v6, outer: outer6{exts: []ext6{lim, extFragment}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "atomic fragment", tun: t46, in: v4, outer: outer6{exts: []ext6{extAtomicFragment}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "routing header", tun: t66, in: v6, outer: outer6{exts: []ext6{extRouting}}, ret: xdpPass, reason: "pass_ext_headers"},
		{name: "hop-by-hop then routing header", tun: t66, in: v6, outer: outer6{exts: []ext6{extHopByHop, extRouting, lim}}, ret: xdpPass, reason: "pass_ext_headers"},
		{name: "five destination options headers", tun: t66, in: v6, outer: outer6{exts: []ext6{extPadDst, extPadDst, extPadDst, extPadDst, lim}}, ret: xdpPass, reason: "pass_ext_headers"},
		{name: "destination options hdrlen 32", tun: t66, in: v6, outer: outer6{exts: []ext6{extBigDst}}, ret: xdpPass, reason: "pass_ext_headers"},
		{name: "encaplimit then udp", tun: t66, in: v6, outer: outer6{exts: []ext6{lim}, proto: layers.IPProtocolUDP}, ret: xdpPass, reason: "pass_not_tunnel"},
		{name: "ipv6 mpls-in-ip", tun: tany, in: inner{mpls: true}, outer: outer6{exts: []ext6{lim}}, ret: xdpPass, reason: "pass_not_tunnel"},

		// Wrong mode for the inner family: no decap key for that protocol.
		{name: "ipip6 receiving ipv6 (41)", tun: t46, in: v6, outer: outer6{exts: []ext6{lim}}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ip6ip6 receiving ipv4 (4)", tun: t66, in: v4, outer: outer6{exts: []ext6{lim}}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "mode ip6ip6 receiving ipv4 (4)", tun: ip6tnlTunnel(tunnel.ModeIP6IP6), in: v4, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "unknown remote", tun: t66, in: v6, outer: outer6{exts: []ext6{lim}, src: addr6Unknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "destination not ours", tun: t66, in: v6, outer: outer6{exts: []ext6{lim}, dst: addr6Unknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "local and remote swapped", tun: t66, in: v6, outer: outer6{src: addr6Local, dst: addr6Remote}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre to ip6tnl endpoints", tun: tany, in: v4, outer: outer6{gre: &layers.GRE{}}, ret: xdpPass, reason: "pass_no_tunnel"},

		// The payload length, not the frame, bounds the packet.
		{name: "payload length ends inside the extension headers", tun: t66, in: v6, outer: outer6{exts: []ext6{extHopByHop, lim}, raw: func(b []byte, ipOff int) {
			binary.BigEndian.PutUint16(b[ipOff+4:], 12)
		}}, ret: xdpPass, reason: "pass_truncated"},
		{name: "payload length shorter than the inner packet", tun: t46, in: v4, outer: outer6{exts: []ext6{lim}, raw: func(b []byte, ipOff int) {
			binary.BigEndian.PutUint16(b[ipOff+4:], 8+20)
		}}, ret: xdpDrop, reason: "drop_inner_trunc"},

		// Matched, but the inner header is not what the protocol says.
		{name: "proto 41 carrying v4", tun: tany, in: v4, outer: outer6{proto: layers.IPProtocolIPv6}, ret: xdpDrop, reason: "drop_inner_trunc"},
		{name: "proto 4 carrying v6", tun: tany, in: v6, outer: outer6{proto: layers.IPProtocolIPv4, exts: []ext6{lim}}, ret: xdpDrop, reason: "drop_inner_trunc"},

		// ECN.
		{name: "ecn ce onto ect0 v4", tun: t46, in: withTOS(v4, 0x28|ect0), outer: outer6{exts: []ext6{lim}, tc: ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v4, 0x28|ce))},
		{name: "ecn ce onto ect1 v6", tun: t66, in: withTOS(v6, ect1), outer: outer6{exts: []ext6{lim}, tc: 0xe0 | ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v6, ce))},
		{name: "ecn ce onto not-ect v6", tun: t66, in: v6, outer: outer6{exts: []ext6{lim}, tc: ce}, ret: xdpDrop, reason: "drop_ecn"},
		{name: "ecn ce onto not-ect v4", tun: t46, in: v4, outer: outer6{tc: ce}, ret: xdpDrop, reason: "drop_ecn"},
	})
}

// truncBases6 are valid IPv6-underlay frames to cut.
type truncBase6 struct {
	name  string
	tun   maps.Tunnel
	in    inner
	outer outer6
}

func truncBases6() []truncBase6 {
	return []truncBase6{
		{name: "ip6gre key inner v4", tun: ip6greTunnel(42), in: inner{}, outer: outer6{gre: &layers.GRE{KeyPresent: true, Key: 42}}},
		{name: "ip6gre no key inner v6", tun: ip6greTunnel(-1), in: inner{v6: true}, outer: outer6{gre: &layers.GRE{}}},
		{name: "ip6tnl encaplimit inner v6", tun: ip6tnlTunnel(tunnel.ModeDefault), in: inner{v6: true}, outer: outer6{exts: []ext6{extEncapLimit(4)}}},
		{name: "ip6tnl hop-by-hop encaplimit inner v4", tun: ip6tnlTunnel(tunnel.ModeIPIP6), in: inner{}, outer: outer6{exts: []ext6{extHopByHop, extEncapLimit(4)}}},
	}
}

// TestDecapIP6Truncated cuts valid IPv6-underlay frames at every length from
// 14: the payload length then exceeds the frame, so nothing is redirected
// and every cut is passed as pass_truncated.
func TestDecapIP6Truncated(t *testing.T) {
	requireRootForBPF(t)
	for _, b := range truncBases6() {
		t.Run(b.name, func(t *testing.T) {
			d := newDataplane(t, b.tun)
			frame := b.outer.frame(t, b.tun, b.in.etherType(), b.in.bytes(t))
			// The uncut frame is decapsulated: the cuts below test truncation only.
			checkVerdict(t, d.run(t, d.objs.Underlay, frame), xdpRedirect, "decap")
			if err := d.tables.ResetCounters(b.tun.ID); err != nil {
				t.Fatal(err)
			}
			for n := 14; n < len(frame); n++ {
				res := d.run(t, d.objs.Underlay, frame[:n])
				if res.ret == xdpRedirect {
					t.Errorf("len %d of %d: redirected", n, len(frame))
				}
				if res.ret != xdpPass || len(res.moved) != 1 || res.moved["pass_truncated"] != 1 {
					t.Errorf("len %d of %d: verdict %d, reasons %v; want %d, pass_truncated", n, len(frame), res.ret, res.moved, xdpPass)
				}
			}
			checkCounters(t, d.counters(t, b.tun.ID), maps.Counters{})
		})
	}
}

// TestDecapIP6TruncatedConsistent cuts valid IPv6-underlay frames and
// rewrites the payload length to match: a cut in the outer headers
// (extension headers, GRE) is passed as pass_truncated, a cut in the inner
// header is dropped as drop_inner_trunc on the matched tunnel.
func TestDecapIP6TruncatedConsistent(t *testing.T) {
	requireRootForBPF(t)
	for _, b := range truncBases6() {
		t.Run(b.name, func(t *testing.T) {
			l3 := b.in.bytes(t)
			frame := b.outer.frame(t, b.tun, b.in.etherType(), l3)
			const ipOff = 14
			innerOff := len(frame) - len(l3)
			innerHdr := 20
			if b.in.v6 {
				innerHdr = 40
			}
			d := newDataplane(t, b.tun)
			for n := ipOff + 40; n < innerOff+innerHdr; n++ {
				cut := append([]byte(nil), frame[:n]...)
				binary.BigEndian.PutUint16(cut[ipOff+4:], uint16(n-ipOff-40))
				if err := d.tables.ResetCounters(b.tun.ID); err != nil {
					t.Fatal(err)
				}
				res := d.run(t, d.objs.Underlay, cut)
				if n < innerOff {
					if res.ret != xdpPass || len(res.moved) != 1 || res.moved["pass_truncated"] != 1 {
						t.Errorf("len %d (outer headers cut at %d): verdict %d, reasons %v; want %d, pass_truncated", n, n-ipOff, res.ret, res.moved, xdpPass)
					}
					continue
				}
				if res.ret != xdpDrop || len(res.moved) != 1 || res.moved["drop_inner_trunc"] != 1 {
					t.Errorf("len %d (inner header cut at %d): verdict %d, reasons %v; want %d, drop_inner_trunc", n, n-innerOff, res.ret, res.moved, xdpDrop)
				}
				checkCounters(t, d.counters(t, b.tun.ID), maps.Counters{RxDropped: 1})
			}
		})
	}
}

// TestEncapIP6Truncated: inner headers cut short are dropped before any
// outer header is built (or refused by BPF_PROG_TEST_RUN, see
// TestEncapTruncated).
func TestEncapIP6Truncated(t *testing.T) {
	requireRootForBPF(t)
	for _, in := range []inner{{}, {v6: true}} {
		t.Run(in.etherType().String(), func(t *testing.T) {
			tun := ip6tnlTunnel(tunnel.ModeAny)
			d := newDataplane(t, tun)
			frame := ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
			hdr := 20
			if in.v6 {
				hdr = 40
			}
			var ran uint64
			for n := 14; n < 14+hdr; n++ {
				res, err := d.tryRun(t, d.objs.Encap, frame[:n])
				if errors.Is(err, unix.EINVAL) {
					continue
				}
				if err != nil {
					t.Fatalf("len %d: %v", n, err)
				}
				ran++
				if res.ret != tcShot || len(res.moved) != 1 || res.moved["tx_truncated"] != 1 {
					t.Errorf("len %d: verdict %d, reasons %v; want %d, tx_truncated", n, res.ret, res.moved, tcShot)
				}
			}
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: ran})
		})
	}
}

func TestRoundTripIP6(t *testing.T) {
	requireRootForBPF(t)
	cases := []struct {
		name string
		tun  maps.Tunnel // the sending end; the receiving end is its mirror
		in   inner
	}{
		{name: "ip6gre key inner v4", tun: ip6greTunnel(42), in: inner{}},
		{name: "ip6gre key inner v6", tun: ip6greTunnel(42), in: inner{v6: true}},
		{name: "ip6gre no key inner v4", tun: ip6greTunnel(-1), in: inner{}},
		{name: "ip6gre no key inner v6", tun: ip6greTunnel(-1), in: inner{v6: true}},
		{name: "ip6gre ikey differs from okey", tun: with(ip6greTunnel(-1), func(tun *maps.Tunnel) {
			tun.IKey, tun.OKey = tunnel.Key{Set: true, Value: 10}, tunnel.Key{Set: true, Value: 20}
		}), in: inner{v6: true}},
		{name: "ip6gre everything inherited inner ce", tun: with(ip6greTunnel(42), func(tun *maps.Tunnel) {
			tun.TTL, tun.TOSInherit, tun.FlowInherit = 0, true, true
		}), in: inner{v6: true, tos: 0xb8 | ce, ttl: 3}},
		{name: "ip6gre encaplimit none inner v4", tun: with(ip6greTunnel(42), func(tun *maps.Tunnel) {
			tun.EncapLimit = tunnel.EncapLimitNone
		}), in: inner{}},
		{name: "ip6gre encaplimit none inner v6", tun: with(ip6greTunnel(-1), func(tun *maps.Tunnel) {
			tun.EncapLimit = tunnel.EncapLimitNone
		}), in: inner{v6: true}},
		{name: "ip6tnl ip6ip6 encaplimit", tun: ip6tnlTunnel(tunnel.ModeDefault), in: inner{v6: true}},
		{name: "ip6tnl ip6ip6 encaplimit none", tun: with(ip6tnlTunnel(tunnel.ModeDefault), func(tun *maps.Tunnel) {
			tun.EncapLimit = tunnel.EncapLimitNone
		}), in: inner{v6: true}},
		{name: "ip6tnl ip6ip6 encaplimit 7", tun: with(ip6tnlTunnel(tunnel.ModeIP6IP6), func(tun *maps.Tunnel) {
			tun.EncapLimit = 7
		}), in: inner{v6: true}},
		{name: "ip6tnl ipip6 encaplimit", tun: ip6tnlTunnel(tunnel.ModeIPIP6), in: inner{}},
		{name: "ip6tnl ipip6 encaplimit none", tun: with(ip6tnlTunnel(tunnel.ModeIPIP6), func(tun *maps.Tunnel) {
			tun.EncapLimit = tunnel.EncapLimitNone
		}), in: inner{tos: ect0}},
		{name: "ip6tnl any inner v4 ce", tun: ip6tnlTunnel(tunnel.ModeAny), in: inner{tos: 0x28 | ce}},
		{name: "ip6tnl any inner v6 flow inherit", tun: with(ip6tnlTunnel(tunnel.ModeAny), func(tun *maps.Tunnel) {
			tun.FlowInherit, tun.TOSInherit = true, true
		}), in: inner{v6: true, tos: 0x28 | ect1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRoundTrip(t, c.tun, mirror(c.tun), c.in)
		})
	}
}
