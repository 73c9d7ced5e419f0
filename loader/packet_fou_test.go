package loader_test

// FOU and GUE (UDP encapsulation of ipip, sit, gre and ip6tnl): decap by
// the XDP program on configured receive ports, encap by the TC program.

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

const (
	fouTestPort  = 5555 // FOU receive / destination port
	gueTestPort  = 6080 // GUE receive / destination port
	fouTestSPort = 4000 // fixed encap-sport
	fouWireSPort = 50123
)

// fouOuter describes the underlay frame of a FOU/GUE packet.
type fouOuter struct {
	v6    bool   // IPv6 outer header (tun.Local/Remote must be IPv6)
	dport uint16 // UDP destination port
	gue   []byte // bytes between the UDP header and what follows (GUE header); nil: FOU
	gre   *layers.GRE
}

// fouFrame builds Ethernet / IP / UDP / [GUE] / [GRE] / l3 from tun's remote
// to its local address, with correct lengths and checksums. It returns the
// frame and the offsets of the outer IP header and the inner packet.
func fouFrame(t *testing.T, tun maps.Tunnel, o fouOuter, innerType layers.EthernetType, l3 []byte) (frame []byte, innerOff int) {
	t.Helper()
	body := append([]byte(nil), o.gue...)
	if o.gre != nil {
		gre := *o.gre
		if gre.Protocol == 0 {
			gre.Protocol = innerType
		}
		body = append(body, serialize(t, &gre)...)
	}
	body = append(body, l3...)
	udp := &layers.UDP{SrcPort: fouWireSPort, DstPort: layers.UDPPort(o.dport)}
	var l3hdr gopacket.SerializableLayer
	typ := layers.EthernetTypeIPv4
	if o.v6 {
		typ = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 62, NextHeader: layers.IPProtocolUDP,
			SrcIP: ip(tun.Remote), DstIP: ip(tun.Local)}
		if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		l3hdr = ip6
	} else {
		ip4 := &layers.IPv4{Version: 4, TTL: 62, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolUDP, SrcIP: ip(tun.Remote), DstIP: ip(tun.Local)}
		if err := udp.SetNetworkLayerForChecksum(ip4); err != nil {
			t.Fatal(err)
		}
		l3hdr = ip4
	}
	frame = serialize(t, &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: typ},
		l3hdr, udp, gopacket.Payload(body))
	return frame, len(frame) - len(l3)
}

// fouDataplane loads the programs with tun installed and ports open.
func fouDataplane(t *testing.T, tun maps.Tunnel, ports ...tunnel.FOUPort) *dataplane {
	t.Helper()
	d := newDataplane(t, tun)
	for _, p := range ports {
		if err := d.tables.PutFOU(p); err != nil {
			t.Fatalf("put fou port %+v: %v", p, err)
		}
	}
	return d
}

// fouCheckDecap runs the XDP program on frame and checks verdict, reason,
// output and counters. On redirect the output must be want behind an
// Ethernet header from the tunnel's peer MAC to its MAC.
func fouCheckDecap(t *testing.T, d *dataplane, tun maps.Tunnel, frame []byte, ret uint32, reason string, want *inner) {
	t.Helper()
	res := d.run(t, d.objs.Underlay, frame)
	checkVerdict(t, res, ret, reason)
	got := d.counters(t, tun.ID)
	switch ret {
	case xdpRedirect:
		l3 := want.bytes(t)
		checkFrame(t, res.out, ethFrame(t, tun.MAC, tun.PeerMAC, want.etherType(), l3))
		checkCounters(t, got, maps.Counters{RxPackets: 1, RxBytes: uint64(len(l3))})
	case xdpPass:
		checkFrame(t, res.out, frame)
		checkCounters(t, got, maps.Counters{})
	case xdpDrop:
		checkCounters(t, got, maps.Counters{RxDropped: 1})
	}
	if t.Failed() {
		t.Logf("input %x", frame)
	}
}

var (
	fouIPIP = tunnel.FOUPort{Port: fouTestPort, IPProto: 4}
	fouGRE  = tunnel.FOUPort{Port: fouTestPort, IPProto: 47}
	gue4    = tunnel.FOUPort{Port: gueTestPort, GUE: true}
	gue6    = tunnel.FOUPort{Port: gueTestPort, GUE: true, IPv6: true}
	fou6    = tunnel.FOUPort{Port: fouTestPort, IPProto: 4, IPv6: true}
)

// gueV0 is a GUE version 0 header carrying proto with hlen words of
// extension (zero-filled) and C bit control.
func gueV0(proto uint8, hlen int, control bool) []byte {
	b := []byte{byte(hlen & 0x1f), proto, 0, 0}
	if control {
		b[0] |= 0x20
	}
	return append(b, make([]byte, 4*hlen)...)
}

func TestDecapFOUGUE(t *testing.T) {
	requireRootForBPF(t)
	ii := ipipTunnel()
	gk := greTunnel(42)
	sit := sitTunnel(tunnel.ModeDefault)
	ip6tnl := ip6tnlTunnel(tunnel.ModeDefault)
	ip6ipip := ip6tnlTunnel(tunnel.ModeIPIP6)
	v4, v6 := inner{}, inner{v6: true}
	key42 := keyed(42)

	cases := []struct {
		name   string
		tun    maps.Tunnel
		ports  []tunnel.FOUPort
		in     inner
		outer  fouOuter
		ret    uint32
		reason string
	}{
		{name: "fou ipip", tun: ii, ports: []tunnel.FOUPort{fouIPIP}, in: v4,
			outer: fouOuter{dport: fouTestPort}, ret: xdpRedirect, reason: "decap"},
		{name: "fou gre key inner v4", tun: gk, ports: []tunnel.FOUPort{fouGRE}, in: v4,
			outer: fouOuter{dport: fouTestPort, gre: &key42}, ret: xdpRedirect, reason: "decap"},
		{name: "fou gre key inner v6", tun: gk, ports: []tunnel.FOUPort{fouGRE}, in: v6,
			outer: fouOuter{dport: fouTestPort, gre: &key42}, ret: xdpRedirect, reason: "decap"},
		{name: "gue v0 ipip", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(4, 0, false)}, ret: xdpRedirect, reason: "decap"},
		{name: "gue v0 sit", tun: sit, ports: []tunnel.FOUPort{gue4}, in: v6,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(41, 0, false)}, ret: xdpRedirect, reason: "decap"},
		{name: "gue v0 gre", tun: gk, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(47, 0, false), gre: &key42}, ret: xdpRedirect, reason: "decap"},
		{name: "gue v1 ipv4", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort}, ret: xdpRedirect, reason: "decap"},
		{name: "gue v1 ipv6 sit", tun: sit, ports: []tunnel.FOUPort{gue4}, in: v6,
			outer: fouOuter{dport: gueTestPort}, ret: xdpRedirect, reason: "decap"},
		{name: "gue over ipv6 ip6tnl", tun: ip6tnl, ports: []tunnel.FOUPort{gue6}, in: v6,
			outer: fouOuter{v6: true, dport: gueTestPort, gue: gueV0(41, 0, false)}, ret: xdpRedirect, reason: "decap"},
		{name: "gue over ipv6 ip6tnl ipip6", tun: ip6ipip, ports: []tunnel.FOUPort{gue6}, in: v4,
			outer: fouOuter{v6: true, dport: gueTestPort, gue: gueV0(4, 0, false)}, ret: xdpRedirect, reason: "decap"},
		{name: "fou over ipv6 ip6tnl ipip6", tun: ip6ipip, ports: []tunnel.FOUPort{fou6}, in: v4,
			outer: fouOuter{v6: true, dport: fouTestPort}, ret: xdpRedirect, reason: "decap"},
		{name: "gue hlen 1", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(4, 1, false)}, ret: xdpRedirect, reason: "decap"},
		{name: "gue hlen 2", tun: sit, ports: []tunnel.FOUPort{gue4}, in: v6,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(41, 2, false)}, ret: xdpRedirect, reason: "decap"},
		{name: "gue hlen 31 past the end", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: []byte{0x1f, 4, 0, 0}}, ret: xdpPass, reason: "pass_truncated"},

		{name: "gue control", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(4, 0, true)}, ret: xdpPass, reason: "pass_gue_control"},
		{name: "gue control hlen 1", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: gueV0(4, 1, true)}, ret: xdpPass, reason: "pass_gue_control"},
		{name: "gue version 2", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: []byte{0x80, 4, 0, 0}}, ret: xdpPass, reason: "pass_gue_version"},
		{name: "gue version 3", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: []byte{0xc0, 4, 0, 0}}, ret: xdpPass, reason: "pass_gue_version"},
		{name: "gue v1 ip version 5", tun: ii, ports: []tunnel.FOUPort{gue4}, in: v4,
			outer: fouOuter{dport: gueTestPort, gue: []byte{0x50, 4, 0, 0}}, ret: xdpPass, reason: "pass_gue_version"},

		{name: "udp port not configured", tun: ii, ports: []tunnel.FOUPort{fouIPIP}, in: v4,
			outer: fouOuter{dport: fouTestPort + 1}, ret: xdpPass, reason: "pass_not_tunnel"},
		{name: "no port configured", tun: ii, in: v4,
			outer: fouOuter{dport: fouTestPort}, ret: xdpPass, reason: "pass_not_tunnel"},
		{name: "port ipv6 only ipv4 packet", tun: ii, ports: []tunnel.FOUPort{fou6}, in: v4,
			outer: fouOuter{dport: fouTestPort}, ret: xdpPass, reason: "pass_not_tunnel"},
		{name: "port ipv4 only ipv6 packet", tun: ip6ipip, ports: []tunnel.FOUPort{fouIPIP}, in: v4,
			outer: fouOuter{v6: true, dport: fouTestPort}, ret: xdpPass, reason: "pass_not_tunnel"},
		{name: "fou proto without tunnel", tun: gk, ports: []tunnel.FOUPort{fouIPIP}, in: v4,
			outer: fouOuter{dport: fouTestPort}, ret: xdpPass, reason: "pass_no_tunnel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := fouDataplane(t, c.tun, c.ports...)
			frame, _ := fouFrame(t, c.tun, c.outer, c.in.etherType(), c.in.bytes(t))
			want := c.in
			fouCheckDecap(t, d, c.tun, frame, c.ret, c.reason, &want)
		})
	}
}

// TestDecapFOUBadUDPLength: a UDP length under 8 or past the outer packet
// is not decapsulated (the kernel's UDP receive drops those).
func TestDecapFOUBadUDPLength(t *testing.T) {
	requireRootForBPF(t)
	ii := ipipTunnel()
	for _, ulen := range []uint16{0, 4, 7, 2000} {
		t.Run(fmt.Sprintf("udp length %d", ulen), func(t *testing.T) {
			d := fouDataplane(t, ii, fouIPIP)
			frame, _ := fouFrame(t, ii, fouOuter{dport: fouTestPort}, inner{}.etherType(), inner{}.bytes(t))
			// Ethernet 14 + IPv4 20: the UDP length field is at 38.
			binary.BigEndian.PutUint16(frame[14+20+4:], ulen)
			fouCheckDecap(t, d, ii, frame, xdpPass, "pass_truncated", nil)
		})
	}
}

type fouTruncBase struct {
	name  string
	tun   maps.Tunnel
	port  tunnel.FOUPort
	in    inner
	outer fouOuter
}

func fouTruncBases() []fouTruncBase {
	key42 := keyed(42)
	return []fouTruncBase{
		{name: "fou ipip", tun: ipipTunnel(), port: fouIPIP, in: inner{}, outer: fouOuter{dport: fouTestPort}},
		{name: "fou gre", tun: greTunnel(42), port: fouGRE, in: inner{}, outer: fouOuter{dport: fouTestPort, gre: &key42}},
		{name: "gue v0 hlen 1", tun: ipipTunnel(), port: gue4, in: inner{}, outer: fouOuter{dport: gueTestPort, gue: gueV0(4, 1, false)}},
		{name: "gue v1", tun: ipipTunnel(), port: gue4, in: inner{}, outer: fouOuter{dport: gueTestPort}},
		{name: "gue ipv6 outer", tun: ip6tnlTunnel(tunnel.ModeDefault), port: gue6, in: inner{v6: true},
			outer: fouOuter{v6: true, dport: gueTestPort, gue: gueV0(41, 0, false)}},
	}
}

// TestDecapFOUTruncated cuts valid FOU/GUE frames at every length from an
// Ethernet header up. "plain" keeps the outer length fields (which then
// exceed the frame); "consistent" rewrites the outer IP and UDP lengths to
// the cut, so that a cut in the outer/UDP/GUE headers is passed as
// pass_truncated and one in the inner packet is dropped as drop_inner_trunc.
// No cut may be redirected.
func TestDecapFOUTruncated(t *testing.T) {
	requireRootForBPF(t)
	for _, b := range fouTruncBases() {
		for _, consistent := range []bool{false, true} {
			name := b.name + " plain"
			if consistent {
				name = b.name + " consistent"
			}
			t.Run(name, func(t *testing.T) {
				d := fouDataplane(t, b.tun, b.port)
				frame, innerOff := fouFrame(t, b.tun, b.outer, b.in.etherType(), b.in.bytes(t))
				ipHdr := 20
				if b.outer.v6 {
					ipHdr = 40
				}
				udpOff := 14 + ipHdr
				drops := uint64(0)
				for n := 14; n < len(frame); n++ {
					cut := append([]byte(nil), frame[:n]...)
					if consistent && n >= udpOff {
						if b.outer.v6 {
							binary.BigEndian.PutUint16(cut[14+4:], uint16(n-udpOff))
						} else {
							binary.BigEndian.PutUint16(cut[14+2:], uint16(n-14))
							fixIPv4Checksum(cut, 14)
						}
						if n >= udpOff+8 {
							binary.BigEndian.PutUint16(cut[udpOff+4:], uint16(n-udpOff))
						}
					}
					res := d.run(t, d.objs.Underlay, cut)
					want, wantRet := "pass_truncated", uint32(xdpPass)
					// GUE v1 has no header of its own: without the inner
					// packet's first byte the version is unknown.
					gueV1 := b.port.GUE && b.outer.gue == nil
					if consistent && n >= innerOff && !(gueV1 && n == innerOff) {
						want, wantRet = "drop_inner_trunc", xdpDrop
						drops++
					}
					if res.ret == xdpRedirect {
						t.Errorf("len %d of %d: redirected a truncated frame (reasons %v)\ninput %x", n, len(frame), res.moved, cut)
						continue
					}
					if res.ret != wantRet || len(res.moved) != 1 || res.moved[want] != 1 {
						t.Errorf("len %d of %d (inner at %d): verdict %d, reasons %v; want %d, %s\ninput %x",
							n, len(frame), innerOff, res.ret, res.moved, wantRet, want, cut)
					}
				}
				checkCounters(t, d.counters(t, b.tun.ID), maps.Counters{RxDropped: drops})
			})
		}
	}
}

// fouEncapWant is the frame the TC program must make of l3 on tun (IPv4
// outer, DF, TTL 64, TOS 0) with UDP source port sport: UDP checksum 0 on
// the fast path, GUE v0 header {0, proto, 0, 0} for GUE.
func fouEncapWant(t *testing.T, tun maps.Tunnel, typ layers.EthernetType, l3 []byte, sport uint16) []byte {
	t.Helper()
	ip4 := &layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment,
		Protocol: layers.IPProtocolUDP, SrcIP: ip(tun.Local), DstIP: ip(tun.Remote),
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(tun.Encap.DPort)}
	if err := udp.SetNetworkLayerForChecksum(ip4); err != nil {
		t.Fatal(err)
	}
	var body []byte
	proto := byte(4)
	if typ == layers.EthernetTypeIPv6 {
		proto = 41
	}
	if tun.Type == tunnel.GRE {
		proto = 47
	}
	if tun.Encap.Type == tunnel.EncapGUE {
		body = append(body, 0, proto, 0, 0)
	}
	if tun.Type == tunnel.GRE {
		body = append(body, serialize(t, &layers.GRE{KeyPresent: tun.OKey.Set, Key: tun.OKey.Value, Protocol: typ})...)
	}
	body = append(body, l3...)
	f := serialize(t, &layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv4},
		ip4, udp, gopacket.Payload(body))
	f[14+20+6], f[14+20+7] = 0, 0 // no UDP checksum
	return f
}

func withFOU(tun maps.Tunnel, typ tunnel.EncapType, sport uint16) maps.Tunnel {
	dport := uint16(fouTestPort)
	if typ == tunnel.EncapGUE {
		dport = gueTestPort
	}
	tun.Encap = tunnel.Encap{Type: typ, SPort: sport, DPort: dport}
	return tun
}

func TestEncapFOUGUE(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := inner{}, inner{v6: true}
	cases := []struct {
		name string
		tun  maps.Tunnel
		in   inner
		gue  []byte // expected GUE header
	}{
		{name: "fou ipip", tun: withFOU(ipipTunnel(), tunnel.EncapFOU, fouTestSPort), in: v4},
		{name: "gue ipip", tun: withFOU(ipipTunnel(), tunnel.EncapGUE, fouTestSPort), in: v4, gue: []byte{0, 4, 0, 0}},
		{name: "fou sit", tun: withFOU(sitTunnel(tunnel.ModeDefault), tunnel.EncapFOU, fouTestSPort), in: v6},
		{name: "gue sit", tun: withFOU(sitTunnel(tunnel.ModeDefault), tunnel.EncapGUE, fouTestSPort), in: v6, gue: []byte{0, 41, 0, 0}},
		{name: "fou gre key", tun: withFOU(greTunnel(42), tunnel.EncapFOU, fouTestSPort), in: v4},
		{name: "gue gre key inner v6", tun: withFOU(greTunnel(42), tunnel.EncapGUE, fouTestSPort), in: v6, gue: []byte{0, 47, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			l3 := c.in.bytes(t)
			in := ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3)
			res := d.run(t, d.objs.Encap, in)
			checkVerdict(t, res, tcRedirect, "encap")
			want := fouEncapWant(t, c.tun, c.in.etherType(), l3, fouTestSPort)
			checkFrame(t, res.out, want)
			if c.gue != nil && len(res.out) >= 14+20+8+4 {
				if got := res.out[14+20+8 : 14+20+12]; string(got) != string(c.gue) {
					t.Errorf("GUE header % x, want % x", got, c.gue)
				}
			}
			if len(res.out) >= 14+20+8 {
				if ck := binary.BigEndian.Uint16(res.out[14+20+6:]); ck != 0 {
					t.Errorf("UDP checksum %#04x, want 0 on the fast path", ck)
				}
			}
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
			if t.Failed() {
				t.Logf("input %x", in)
			}
		})
	}
}

// fouFlow is an IPv4/UDP inner packet of the flow with source port sport.
func fouFlow(t *testing.T, sport uint16) []byte {
	t.Helper()
	ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IPv4(10, 9, 0, 1).To4(), DstIP: net.IPv4(10, 20, 0, 5).To4()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 5001}
	if err := udp.SetNetworkLayerForChecksum(ip4); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip4, udp, gopacket.Payload(payload))
}

// TestEncapFOUAutoSport: with encap-sport auto the source port is the
// flow's hash scaled into 32768..60999: stable for a flow, spread over flows.
func TestEncapFOUAutoSport(t *testing.T) {
	requireRootForBPF(t)
	for name, typ := range map[string]tunnel.EncapType{"fou": tunnel.EncapFOU, "gue": tunnel.EncapGUE} {
		t.Run(name, func(t *testing.T) {
			tun := withFOU(ipipTunnel(), typ, 0)
			d := newDataplane(t, tun)
			sportOf := func(l3 []byte) uint16 {
				t.Helper()
				res := d.run(t, d.objs.Encap, ethFrame(t, wireDstMAC, wireSrcMAC, layers.EthernetTypeIPv4, l3))
				checkVerdict(t, res, tcRedirect, "encap")
				if len(res.out) < 14+20+8 {
					t.Fatalf("output of %d bytes", len(res.out))
				}
				sport := binary.BigEndian.Uint16(res.out[14+20:])
				if sport < 32768 || sport > 60999 {
					t.Errorf("source port %d outside 32768..60999", sport)
				}
				checkFrame(t, res.out, fouEncapWant(t, tun, layers.EthernetTypeIPv4, l3, sport))
				return sport
			}
			ports := map[uint16]bool{}
			for i := 0; i < 8; i++ {
				l3 := fouFlow(t, uint16(1000+i))
				a, b := sportOf(l3), sportOf(l3)
				if a != b {
					t.Errorf("flow %d: source ports %d and %d for the same 5-tuple", i, a, b)
				}
				ports[a] = true
			}
			if len(ports) < 2 {
				t.Errorf("8 flows all got source port(s) %v; want the flow hash to spread them", ports)
			}
			t.Logf("source ports of 8 flows: %v", ports)
		})
	}
}
