package loader_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
)

// outer describes the underlay frame around an inner packet.
type outer struct {
	src, dst netip.Addr // zero: the tunnel's remote -> local
	tos      uint8
	vlans    int                // 802.1Q tags after the Ethernet header
	ipip     bool               // IPIP instead of GRE
	gre      layers.GRE         // Protocol 0: the inner packet's ethertype
	ip       func(*layers.IPv4) // changes to the outer IPv4 header
	raw      func(b []byte, ipOff, innerOff int)
}

// keyed is a GRE header with key k.
func keyed(k uint32) layers.GRE { return layers.GRE{KeyPresent: true, Key: k} }

// frame builds the underlay frame for tun around the inner packet l3.
func (o outer) frame(t *testing.T, tun maps.Tunnel, innerType layers.EthernetType, l3 []byte) []byte {
	t.Helper()
	src, dst := o.src, o.dst
	if !src.IsValid() {
		src = tun.Remote
	}
	if !dst.IsValid() {
		dst = tun.Local
	}
	next := layers.EthernetTypeIPv4
	if o.vlans > 0 {
		next = layers.EthernetTypeDot1Q
	}
	ls := []gopacket.SerializableLayer{
		&layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: next},
	}
	for i := 0; i < o.vlans; i++ {
		next = layers.EthernetTypeDot1Q
		if i == o.vlans-1 {
			next = layers.EthernetTypeIPv4
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: uint16(100 + i), Type: next})
	}
	ip4 := &layers.IPv4{
		Version: 4, TOS: o.tos, TTL: 62, Flags: layers.IPv4DontFragment,
		Protocol: layers.IPProtocolGRE, SrcIP: ip(src), DstIP: ip(dst),
	}
	if o.ipip {
		ip4.Protocol = layers.IPProtocolIPv4
	}
	if o.ip != nil {
		o.ip(ip4)
	}
	ls = append(ls, ip4)
	if !o.ipip {
		gre := o.gre
		if gre.Protocol == 0 {
			gre.Protocol = innerType
		}
		ls = append(ls, &gre)
	}
	b := serialize(t, append(ls, gopacket.Payload(l3))...)
	if o.raw != nil {
		ipOff := 14 + 4*o.vlans
		o.raw(b, ipOff, len(b)-len(l3))
		fixIPv4Checksum(b, ipOff)
	}
	return b
}

// decapCase is one underlay frame and what the XDP program must do with it.
type decapCase struct {
	name   string
	tun    maps.Tunnel
	in     inner // inner packet carried
	outer  outer // how it is carried
	ret    uint32
	reason string
	want   *inner // inner packet after decap when it differs from in (ECN)
}

func TestDecap(t *testing.T) {
	requireRootForBPF(t)
	gk, g, ii := greTunnel(42), greTunnel(-1), ipipTunnel()
	v4, v6 := inner{}, inner{v6: true}
	withTOS := func(in inner, tos uint8) inner { in.tos = tos; return in }
	setVersionIHL := func(b byte) func([]byte, int, int) {
		return func(p []byte, ipOff, _ int) { p[ipOff] = b }
	}

	cases := []decapCase{
		// Decapsulated.
		{name: "gre key inner v4", tun: gk, in: v4, outer: outer{gre: keyed(42)}, ret: xdpRedirect, reason: "decap"},
		{name: "gre key inner v6", tun: gk, in: v6, outer: outer{gre: keyed(42)}, ret: xdpRedirect, reason: "decap"},
		{name: "gre key 0xffffffff", tun: greTunnel(0xffffffff), in: v4, outer: outer{gre: keyed(0xffffffff)}, ret: xdpRedirect, reason: "decap"},
		{name: "gre key 0", tun: greTunnel(0), in: v4, outer: outer{gre: keyed(0)}, ret: xdpRedirect, reason: "decap"},
		{name: "gre no key inner v4", tun: g, in: v4, ret: xdpRedirect, reason: "decap"},
		{name: "gre no key inner v6", tun: g, in: v6, ret: xdpRedirect, reason: "decap"},
		{name: "ipip", tun: ii, in: v4, outer: outer{ipip: true}, ret: xdpRedirect, reason: "decap"},
		{name: "gre key vlan", tun: gk, in: v4, outer: outer{gre: keyed(42), vlans: 1}, ret: xdpRedirect, reason: "decap"},
		{name: "gre key vlan inner v6", tun: gk, in: v6, outer: outer{gre: keyed(42), vlans: 1}, ret: xdpRedirect, reason: "decap"},
		{name: "ipip vlan", tun: ii, in: v4, outer: outer{ipip: true, vlans: 1}, ret: xdpRedirect, reason: "decap"},
		{name: "gre two vlan tags", tun: gk, in: v4, outer: outer{gre: keyed(42), vlans: 2}, ret: xdpRedirect, reason: "decap"},
		{name: "gre three vlan tags", tun: gk, in: v4, outer: outer{gre: keyed(42), vlans: 3}, ret: xdpPass, reason: "pass_not_ip"},

		// No tunnel matches: passed untouched.
		{name: "wrong key", tun: gk, in: v4, outer: outer{gre: keyed(43)}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "no key, tunnel has one", tun: gk, in: v4, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "key, tunnel has none", tun: g, in: v4, outer: outer{gre: keyed(42)}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "key 0, tunnel has none", tun: g, in: v4, outer: outer{gre: keyed(0)}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre unknown remote", tun: gk, in: v4, outer: outer{gre: keyed(42), src: addrUnknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre destination not ours", tun: gk, in: v4, outer: outer{gre: keyed(42), dst: addrUnknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre local and remote swapped", tun: gk, in: v4, outer: outer{gre: keyed(42), src: addrLocal, dst: addrRemote}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ipip unknown remote", tun: ii, in: v4, outer: outer{ipip: true, src: addrUnknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ipip destination not ours", tun: ii, in: v4, outer: outer{ipip: true, dst: addrUnknown}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre to ipip tunnel endpoints", tun: ii, in: v4, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "ipip to gre tunnel endpoints", tun: g, in: v4, outer: outer{ipip: true}, ret: xdpPass, reason: "pass_no_tunnel"},

		// GRE checksum and sequence number (more in packet_greopts_test.go):
		// a checksum is verified and must come exactly when the tunnel
		// has icsum; without iseq a sequence number is ignored.
		{name: "gre csum icsum", tun: withGREOpts(gk, true, false), in: v4, outer: outer{gre: layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre csum no key icsum", tun: withGREOpts(g, true, false), in: v6, outer: outer{gre: layers.GRE{ChecksumPresent: true}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre csum, tunnel without icsum", tun: gk, in: v4, outer: outer{gre: layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42}}, ret: xdpDrop, reason: "drop_gre_csum"},
		{name: "gre no csum, tunnel with icsum", tun: withGREOpts(g, true, false), in: v4, ret: xdpDrop, reason: "drop_gre_csum"},
		{name: "gre seq", tun: gk, in: v4, outer: outer{gre: layers.GRE{SeqPresent: true, Seq: 9, KeyPresent: true, Key: 42}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre seq iseq", tun: withGREOpts(gk, false, true), in: v4, outer: outer{gre: layers.GRE{SeqPresent: true, Seq: 9, KeyPresent: true, Key: 42}}, ret: xdpRedirect, reason: "decap"},
		{name: "gre no seq, tunnel with iseq", tun: withGREOpts(gk, false, true), in: v4, outer: outer{gre: keyed(42)}, ret: xdpDrop, reason: "drop_gre_seq"},
		{name: "gre csum unknown key", tun: gk, in: v4, outer: outer{gre: layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 43}}, ret: xdpPass, reason: "pass_no_tunnel"},

		// GRE features the fast path leaves to the stack.
		{name: "gre version 1", tun: gk, in: v4, outer: outer{gre: layers.GRE{Version: 1, KeyPresent: true, Key: 42}}, ret: xdpPass, reason: "pass_gre_version"},
		{name: "gre routing", tun: gk, in: v4, outer: outer{gre: layers.GRE{RoutingPresent: true, KeyPresent: true, Key: 42}}, ret: xdpPass, reason: "pass_gre_routing"},
		{name: "gre strict source route", tun: gk, in: v4, outer: outer{gre: layers.GRE{StrictSourceRoute: true, KeyPresent: true, Key: 42}}, ret: xdpPass, reason: "pass_gre_routing"},

		// Outer IPv4 the fast path does not take.
		{name: "outer ihl 4", tun: gk, in: v4, outer: outer{gre: keyed(42), raw: setVersionIHL(0x44)}, ret: xdpPass, reason: "pass_bad_ihl"},
		{name: "outer ihl 0", tun: gk, in: v4, outer: outer{gre: keyed(42), raw: setVersionIHL(0x40)}, ret: xdpPass, reason: "pass_bad_ihl"},
		{name: "outer version 6 in ipv4 ethertype", tun: gk, in: v4, outer: outer{gre: keyed(42), raw: setVersionIHL(0x65)}, ret: xdpPass, reason: "pass_bad_ihl"},
		{name: "outer ip options", tun: gk, in: v4, outer: outer{gre: keyed(42), ip: func(h *layers.IPv4) {
			h.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
		}}, ret: xdpPass, reason: "pass_ip_options"},
		{name: "ipip ip options", tun: ii, in: v4, outer: outer{ipip: true, ip: func(h *layers.IPv4) {
			h.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}}, ret: xdpPass, reason: "pass_ip_options"},
		{name: "outer more fragments", tun: gk, in: v4, outer: outer{gre: keyed(42), ip: func(h *layers.IPv4) {
			h.Flags = layers.IPv4MoreFragments
		}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "outer fragment offset", tun: gk, in: v4, outer: outer{gre: keyed(42), ip: func(h *layers.IPv4) {
			h.Flags, h.FragOffset = 0, 185
		}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "ipip fragment", tun: ii, in: v4, outer: outer{ipip: true, ip: func(h *layers.IPv4) {
			h.Flags, h.FragOffset = layers.IPv4MoreFragments, 1
		}}, ret: xdpPass, reason: "pass_fragment"},
		{name: "outer reserved flag is not a fragment", tun: gk, in: v4, outer: outer{gre: keyed(42), ip: func(h *layers.IPv4) {
			h.Flags = layers.IPv4EvilBit | layers.IPv4DontFragment
		}}, ret: xdpRedirect, reason: "decap"},

		// Matched tunnel, bad inner packet: dropped and counted on the tunnel.
		// Ethernet over GRE belongs to gretap tunnels, keyed apart from gre ones.
		{name: "gre proto teb", tun: gk, in: v4, outer: outer{gre: layers.GRE{KeyPresent: true, Key: 42, Protocol: layers.EthernetTypeTransparentEthernetBridging}}, ret: xdpPass, reason: "pass_no_tunnel"},
		{name: "gre proto arp", tun: g, in: v4, outer: outer{gre: layers.GRE{Protocol: layers.EthernetTypeARP}}, ret: xdpDrop, reason: "drop_inner_proto"},
		{name: "gre proto ipv4 carrying v6", tun: gk, in: v6, outer: outer{gre: layers.GRE{KeyPresent: true, Key: 42, Protocol: layers.EthernetTypeIPv4}}, ret: xdpDrop, reason: "drop_inner_trunc"},
		{name: "gre proto ipv6 carrying v4", tun: gk, in: v4, outer: outer{gre: layers.GRE{KeyPresent: true, Key: 42, Protocol: layers.EthernetTypeIPv6}}, ret: xdpDrop, reason: "drop_inner_trunc"},
		{name: "ipip carrying v6", tun: ii, in: v6, outer: outer{ipip: true}, ret: xdpDrop, reason: "drop_inner_trunc"},
		{name: "inner ihl 4", tun: gk, in: v4, outer: outer{gre: keyed(42), raw: func(b []byte, _, innerOff int) {
			b[innerOff] = 0x44
		}}, ret: xdpDrop, reason: "drop_inner_trunc"},

		// ECN (RFC 6040): outer CE is copied to an ECN-capable inner packet.
		{name: "ecn ce onto ect0 v4", tun: gk, in: withTOS(v4, 0x28|ect0), outer: outer{gre: keyed(42), tos: 0x10 | ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v4, 0x28|ce))},
		{name: "ecn ce onto ect1 v4", tun: gk, in: withTOS(v4, 0x28|ect1), outer: outer{gre: keyed(42), tos: ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v4, 0x28|ce))},
		{name: "ecn ce onto ce v4", tun: gk, in: withTOS(v4, 0x28|ce), outer: outer{gre: keyed(42), tos: ce}, ret: xdpRedirect, reason: "decap"},
		{name: "ecn ce onto not-ect v4", tun: gk, in: withTOS(v4, 0x28), outer: outer{gre: keyed(42), tos: ce}, ret: xdpDrop, reason: "drop_ecn"},
		{name: "ecn ect0 onto not-ect v4", tun: gk, in: withTOS(v4, 0x28), outer: outer{gre: keyed(42), tos: ect0}, ret: xdpRedirect, reason: "decap"},
		{name: "ecn ce onto ect0 ipip", tun: ii, in: withTOS(v4, ect0), outer: outer{ipip: true, tos: ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v4, ce))},
		{name: "ecn ce onto not-ect ipip", tun: ii, in: v4, outer: outer{ipip: true, tos: ce}, ret: xdpDrop, reason: "drop_ecn"},
		{name: "ecn ce onto ect0 v6", tun: gk, in: withTOS(v6, 0xb8|ect0), outer: outer{gre: keyed(42), tos: ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v6, 0xb8|ce))},
		{name: "ecn ce onto ect1 v6", tun: g, in: withTOS(v6, 0x04|ect1), outer: outer{tos: ce}, ret: xdpRedirect, reason: "decap", want: ptrTo(withTOS(v6, 0x04|ce))},
		{name: "ecn ce onto not-ect v6", tun: gk, in: withTOS(v6, 0xb8), outer: outer{gre: keyed(42), tos: ce}, ret: xdpDrop, reason: "drop_ecn"},
		{name: "ecn ect1 onto not-ect v6", tun: gk, in: withTOS(v6, 0xb8), outer: outer{gre: keyed(42), tos: ect1}, ret: xdpRedirect, reason: "decap"},
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

// checkDecap runs the XDP program on frame with tun installed and checks the
// verdict, the reason, the output frame and the tunnel's counters. On
// redirect the output must be the inner packet want behind an Ethernet
// header addressed to the overlay netdev.
func checkDecap(t *testing.T, tun maps.Tunnel, frame []byte, ret uint32, reason string, want *inner) {
	t.Helper()
	d := newDataplane(t, tun)
	res := d.run(t, d.objs.Underlay, frame)
	checkVerdict(t, res, ret, reason)
	got := d.counters(t, tun.ID)
	switch ret {
	case xdpRedirect:
		l3 := want.bytes(t)
		checkFrame(t, res.out, ethFrame(t, tun.MAC, tun.PeerMAC, want.etherType(), l3))
		checkCounters(t, got, maps.Counters{RxPackets: 1, RxBytes: uint64(len(l3))})
	case xdpPass:
		checkFrame(t, res.out, frame) // untouched
		checkCounters(t, got, maps.Counters{})
	case xdpDrop:
		checkCounters(t, got, maps.Counters{RxDropped: 1})
	}
}

// TestDecapNotTunnel covers frames that are no tunnel traffic at all.
func TestDecapNotTunnel(t *testing.T) {
	requireRootForBPF(t)
	tun := greTunnel(42)
	eth := func(typ layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: typ}
	}
	udpOver := func(t *testing.T, l3 gopacket.NetworkLayer, typ layers.EthernetType) []byte {
		udp := &layers.UDP{SrcPort: 1234, DstPort: 4789}
		if err := udp.SetNetworkLayerForChecksum(l3); err != nil {
			t.Fatal(err)
		}
		return serialize(t, eth(typ), l3.(gopacket.SerializableLayer), udp, gopacket.Payload(payload))
	}
	cases := []struct {
		name   string
		frame  func(t *testing.T) []byte
		reason string
	}{
		{name: "ipv4 udp", reason: "pass_not_tunnel", frame: func(t *testing.T) []byte {
			return udpOver(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
				SrcIP: ip(tun.Remote), DstIP: ip(tun.Local)}, layers.EthernetTypeIPv4)
		}},
		// UDP may be FOU/GUE, so options are the reason it leaves the fast path.
		{name: "ipv4 udp with options", reason: "pass_ip_options", frame: func(t *testing.T) []byte {
			return udpOver(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
				SrcIP: ip(tun.Remote), DstIP: ip(tun.Local),
				Options: []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}}, layers.EthernetTypeIPv4)
		}},
		{name: "ipv6 udp", reason: "pass_not_tunnel", frame: func(t *testing.T) []byte {
			return udpOver(t, &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
				SrcIP: net.ParseIP("2001:db8::2"), DstIP: net.ParseIP("2001:db8::1")}, layers.EthernetTypeIPv6)
		}},
		{name: "arp", reason: "pass_not_ip", frame: func(t *testing.T) []byte {
			return serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{
				AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
				HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
				SourceHwAddress: wireSrcMAC, SourceProtAddress: ip(tun.Remote),
				DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: ip(tun.Local),
			})
		}},
		{name: "ethernet header only", reason: "pass_truncated", frame: func(t *testing.T) []byte {
			f := serialize(t, eth(layers.EthernetTypeIPv4), gopacket.Payload(payload))
			return f[:14]
		}},
		{name: "vlan tag cut", reason: "pass_truncated", frame: func(t *testing.T) []byte {
			return append(serialize(t, eth(layers.EthernetTypeDot1Q), gopacket.Payload(payload))[:14], 0x00)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkDecap(t, tun, c.frame(t), xdpPass, c.reason, nil)
		})
	}
}

// TestDecapTruncated cuts valid tunnel frames at every length. The outer
// total length then exceeds the frame: the packet is left to the stack.
// Lengths under an Ethernet header are refused by BPF_PROG_TEST_RUN itself.
func TestDecapTruncated(t *testing.T) {
	requireRootForBPF(t)
	for _, b := range truncBases() {
		t.Run(b.name, func(t *testing.T) {
			d := newDataplane(t, b.tun)
			frame := b.outer.frame(t, b.tun, b.in.etherType(), b.in.bytes(t))
			for n := 0; n < len(frame); n++ {
				cut := frame[:n]
				res, err := d.tryRun(t, d.objs.Underlay, cut)
				if n < 14 {
					if !errors.Is(err, unix.EINVAL) {
						t.Errorf("len %d: run error %v, want EINVAL (test run needs an Ethernet header)", n, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("len %d: %v", n, err)
				}
				if res.ret != xdpPass || len(res.moved) != 1 || res.moved["pass_truncated"] != 1 {
					t.Errorf("len %d of %d: verdict %d, reasons %v; want %d, pass_truncated", n, len(frame), res.ret, res.moved, xdpPass)
				}
			}
			checkCounters(t, d.counters(t, b.tun.ID), maps.Counters{})
		})
	}
}

type truncBase struct {
	name  string
	tun   maps.Tunnel
	in    inner
	outer outer
}

func truncBases() []truncBase {
	return []truncBase{
		{name: "gre key inner v4", tun: greTunnel(42), in: inner{}, outer: outer{gre: keyed(42)}},
		{name: "gre key inner v6", tun: greTunnel(42), in: inner{v6: true}, outer: outer{gre: keyed(42)}},
		{name: "gre no key vlan", tun: greTunnel(-1), in: inner{}, outer: outer{vlans: 1}},
		{name: "ipip", tun: ipipTunnel(), in: inner{}, outer: outer{ipip: true}},
	}
}

// TestDecapTruncatedConsistent cuts valid tunnel frames at every length and
// rewrites the outer total length to match, so only the outer header decides
// nothing: a cut in the outer headers is passed, a cut in the inner header
// is dropped as drop_inner_trunc on the matched tunnel.
func TestDecapTruncatedConsistent(t *testing.T) {
	requireRootForBPF(t)
	for _, b := range truncBases() {
		t.Run(b.name, func(t *testing.T) {
			l3 := b.in.bytes(t)
			frame := b.outer.frame(t, b.tun, b.in.etherType(), l3)
			ipOff := 14 + 4*b.outer.vlans
			innerOff := len(frame) - len(l3)
			innerHdr := 20
			if b.in.v6 {
				innerHdr = 40
			}
			d := newDataplane(t, b.tun)
			for n := ipOff + 20; n < innerOff+innerHdr; n++ {
				cut := append([]byte(nil), frame[:n]...)
				cut[ipOff+2], cut[ipOff+3] = byte((n-ipOff)>>8), byte(n-ipOff)
				fixIPv4Checksum(cut, ipOff)
				if err := d.tables.ResetCounters(b.tun.ID); err != nil {
					t.Fatal(err)
				}
				res := d.run(t, d.objs.Underlay, cut)
				if n < innerOff {
					if res.ret != xdpPass || len(res.moved) != 1 || res.moved["pass_truncated"] != 1 {
						t.Errorf("len %d (outer headers cut): verdict %d, reasons %v; want %d, pass_truncated", n, res.ret, res.moved, xdpPass)
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
