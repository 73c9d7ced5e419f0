package loader_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/maps"
)

// GRE options on receive (gre, ip6gre), as ip_gre / ip6_gre handle them:
//
//   - C bit: the checksum covers the GRE header and everything after it up
//     to the end of the outer IP payload (not Ethernet padding). Wrong:
//     dropped. The C bit must be present exactly when the tunnel has icsum
//     (ip_tunnel_rcv / __ip6_tnl_rcv drop a mismatch either way, with
//     rx_crc_errors). Longer than XDP sums: passed to the stack unverified.
//   - S bit: ignored without iseq. With iseq: required, and a number older
//     than the next expected one is dropped; 0 expected means any.

// csumMax is the longest GRE checksum run XDP verifies: CSUM_PKT_MAX in
// headers/csum.h (12 chunks of 256 bytes, then up to 255 more).
const csumMax = 12*256 + 255

// rfc1071 is the Internet checksum of b (RFC 1071), an odd last byte padded
// with zero. Independent of gopacket and of the BPF code.
func rfc1071(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// withGREOpts is tun with the receive options icsum and iseq; the send
// options follow them, as `csum` and `seq` set both.
func withGREOpts(tun maps.Tunnel, icsum, iseq bool) maps.Tunnel {
	tun.ICsum, tun.OCsum = icsum, icsum
	tun.ISeq, tun.OSeq = iseq, iseq
	return tun
}

// icmp4Packet is an IPv4 ICMP echo request with n bytes of payload.
func icmp4Packet(t *testing.T, n int) []byte {
	t.Helper()
	ip4 := &layers.IPv4{
		Version: 4, Id: 0x4321, TTL: 64, Protocol: layers.IPProtocolICMPv4,
		SrcIP: net.IPv4(10, 9, 0, 1).To4(), DstIP: net.IPv4(10, 20, 0, 5).To4(),
	}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 9, Seq: uint16(n)}
	return serialize(t, ip4, icmp, gopacket.Payload(pattern(n)))
}

// udp6Packet is an IPv6 UDP packet with n bytes of payload.
func udp6Packet(t *testing.T, n int) []byte {
	t.Helper()
	ip6 := &layers.IPv6{
		Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: net.ParseIP("fd00:9::1"), DstIP: net.ParseIP("fd00:20::5"),
	}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 5001}
	if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip6, udp, gopacket.Payload(pattern(n)))
}

// pattern is n bytes that are neither zero nor 0xff (both of which a
// one's complement sum could miss).
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 0x31)
	}
	return b
}

// greCase is an underlay frame of tun carrying l3 (ethertype typ) in GRE.
type greCase struct {
	tun   maps.Tunnel
	gre   layers.GRE // C, K, S bits and values; Protocol 0: typ
	l3    []byte
	typ   layers.EthernetType
	pad   []byte                       // bytes after the IP packet
	edit  func(b []byte, greOff int)   // changes after the checksum was set
	check func(t *testing.T, b []byte) // extra checks of the built frame
}

// frame builds the frame. gopacket computes the GRE checksum
// (SerializeOptions.ComputeChecksums); it must agree with rfc1071 over the
// GRE header and what follows, up to the end of the IP packet.
func (c greCase) frame(t *testing.T) (frame []byte, greOff int) {
	t.Helper()
	var b []byte
	if c.tun.Type.Outer6() {
		g := c.gre
		b = outer6{gre: &g}.frame(t, c.tun, c.typ, c.l3)
		greOff = 14 + 40
	} else {
		b = outer{gre: c.gre}.frame(t, c.tun, c.typ, c.l3)
		greOff = 14 + 20
	}
	n := greOff + greHdrLen(c.gre) + len(c.l3)
	if n < 60 && len(b) == 60 {
		b = b[:n] // gopacket's zero padding to the Ethernet minimum; c.pad replaces it
	}
	if len(b) != n {
		t.Fatalf("frame of %d bytes, want %d", len(b), n)
	}
	if c.gre.ChecksumPresent {
		field := binary.BigEndian.Uint16(b[greOff+4:])
		zeroed := append([]byte(nil), b[greOff:]...)
		zeroed[4], zeroed[5] = 0, 0
		if want := rfc1071(zeroed); field != want {
			t.Fatalf("gopacket GRE checksum %#04x, RFC 1071 gives %#04x", field, want)
		}
		if rfc1071(b[greOff:]) != 0 {
			t.Fatalf("GRE checksum %#04x does not verify", field)
		}
	}
	b = append(b, c.pad...)
	if c.edit != nil {
		c.edit(b, greOff)
	}
	if c.check != nil {
		c.check(t, b)
	}
	return b, greOff
}

func greHdrLen(g layers.GRE) int {
	n := 4
	for _, on := range []bool{g.ChecksumPresent, g.KeyPresent, g.SeqPresent} {
		if on {
			n += 4
		}
	}
	return n
}

// ethHeader is an Ethernet header, built by hand so that short frames are
// not padded.
func ethHeader(dst, src net.HardwareAddr, typ layers.EthernetType) []byte {
	b := append(append([]byte(nil), dst...), src...)
	return binary.BigEndian.AppendUint16(b, uint16(typ))
}

// expect runs the XDP program on the frame of c and checks the verdict, the
// reason, the tunnel counters and, on redirect, the output: l3 behind an
// Ethernet header to the overlay, then the padding (decap does not trim).
func (d *dataplane) expect(t *testing.T, c greCase, ret uint32, reason string) {
	t.Helper()
	frame, _ := c.frame(t)
	if err := d.tables.ResetCounters(c.tun.ID); err != nil {
		t.Fatal(err)
	}
	res := d.run(t, d.objs.Underlay, frame)
	checkVerdict(t, res, ret, reason)
	got := d.counters(t, c.tun.ID)
	switch ret {
	case xdpRedirect:
		want := append(ethHeader(c.tun.MAC, c.tun.PeerMAC, c.typ), c.l3...)
		checkFrame(t, res.out, append(want, c.pad...))
		checkCounters(t, got, maps.Counters{RxPackets: 1, RxBytes: uint64(len(c.l3))})
	case xdpPass:
		checkFrame(t, res.out, frame)
		checkCounters(t, got, maps.Counters{})
	case xdpDrop:
		checkCounters(t, got, maps.Counters{RxDropped: 1})
	}
}

func csumGRE(key bool, k uint32) layers.GRE {
	return layers.GRE{ChecksumPresent: true, KeyPresent: key, Key: k}
}

// flipAt xors one byte of the frame, at off from the end when off < 0.
func flipAt(off int) func([]byte, int) {
	return func(b []byte, _ int) {
		i := off
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x10
	}
}

func TestGRECsum(t *testing.T) {
	requireRootForBPF(t)
	g, gk := withGREOpts(greTunnel(-1), true, false), withGREOpts(greTunnel(42), true, false)
	g6, g6k := withGREOpts(ip6greTunnel(-1), true, false), withGREOpts(ip6greTunnel(42), true, false)
	plain, plain6 := greTunnel(-1), ip6greTunnel(-1)
	v4, v6 := inner{}.bytes(t), inner{v6: true}.bytes(t)
	ip4T, ip6T := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	corruptCsum := func(b []byte, greOff int) { b[greOff+4] ^= 0x01 }

	cases := []struct {
		name   string
		c      greCase
		ret    uint32
		reason string
	}{
		{"gre inner v4", greCase{tun: g, gre: csumGRE(false, 0), l3: v4, typ: ip4T}, xdpRedirect, "decap"},
		{"gre inner v6", greCase{tun: g, gre: csumGRE(false, 0), l3: v6, typ: ip6T}, xdpRedirect, "decap"},
		{"gre key inner v4", greCase{tun: gk, gre: csumGRE(true, 42), l3: v4, typ: ip4T}, xdpRedirect, "decap"},
		{"gre key inner v6", greCase{tun: gk, gre: csumGRE(true, 42), l3: v6, typ: ip6T}, xdpRedirect, "decap"},
		{"gre key and seq", greCase{tun: gk, gre: layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42, SeqPresent: true, Seq: 77}, l3: v4, typ: ip4T}, xdpRedirect, "decap"},
		{"gre odd inner v4", greCase{tun: g, gre: csumGRE(false, 0), l3: icmp4Packet(t, 33), typ: ip4T}, xdpRedirect, "decap"},
		{"gre odd inner v6", greCase{tun: gk, gre: csumGRE(true, 42), l3: udp6Packet(t, 41), typ: ip6T}, xdpRedirect, "decap"},
		{"ip6gre inner v4", greCase{tun: g6, gre: csumGRE(false, 0), l3: v4, typ: ip4T}, xdpRedirect, "decap"},
		{"ip6gre inner v6", greCase{tun: g6, gre: csumGRE(false, 0), l3: v6, typ: ip6T}, xdpRedirect, "decap"},
		{"ip6gre key and seq odd", greCase{tun: g6k, gre: layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42, SeqPresent: true, Seq: 1}, l3: udp6Packet(t, 101), typ: ip6T}, xdpRedirect, "decap"},

		// Wrong checksums.
		{"gre checksum field wrong", greCase{tun: g, gre: csumGRE(false, 0), l3: v4, typ: ip4T, edit: corruptCsum}, xdpDrop, "drop_gre_csum"},
		{"gre payload byte wrong", greCase{tun: gk, gre: csumGRE(true, 42), l3: v6, typ: ip6T, edit: flipAt(-20)}, xdpDrop, "drop_gre_csum"},
		{"gre last odd byte wrong", greCase{tun: g, gre: csumGRE(false, 0), l3: icmp4Packet(t, 33), typ: ip4T, edit: flipAt(-1)}, xdpDrop, "drop_gre_csum"},
		{"gre checksum zero", greCase{tun: g, gre: csumGRE(false, 0), l3: v4, typ: ip4T, edit: func(b []byte, o int) { b[o+4], b[o+5] = 0, 0 }}, xdpDrop, "drop_gre_csum"},
		{"ip6gre checksum field wrong", greCase{tun: g6, gre: csumGRE(false, 0), l3: v6, typ: ip6T, edit: corruptCsum}, xdpDrop, "drop_gre_csum"},
		{"ip6gre last byte wrong", greCase{tun: g6k, gre: csumGRE(true, 42), l3: icmp4Packet(t, 50), typ: ip4T, edit: flipAt(-1)}, xdpDrop, "drop_gre_csum"},

		// The C bit must match icsum, both ways.
		{"icsum, no checksum", greCase{tun: g, l3: v4, typ: ip4T}, xdpDrop, "drop_gre_csum"},
		{"icsum key, no checksum", greCase{tun: gk, gre: keyed(42), l3: v6, typ: ip6T}, xdpDrop, "drop_gre_csum"},
		{"ip6gre icsum, no checksum", greCase{tun: g6, l3: v4, typ: ip4T}, xdpDrop, "drop_gre_csum"},
		{"right checksum, tunnel without icsum", greCase{tun: plain, gre: csumGRE(false, 0), l3: v4, typ: ip4T}, xdpDrop, "drop_gre_csum"},
		{"ip6gre right checksum, tunnel without icsum", greCase{tun: plain6, gre: csumGRE(false, 0), l3: v6, typ: ip6T}, xdpDrop, "drop_gre_csum"},
		{"no checksum, tunnel without icsum", greCase{tun: plain, l3: v4, typ: ip4T}, xdpRedirect, "decap"},

		// Ethernet padding after the IP packet is not summed. The pad
		// bytes are not zero, so summing them would break the checksum.
		{"padding after a small packet", greCase{tun: g, gre: csumGRE(false, 0), l3: icmp4Packet(t, 0), typ: ip4T, pad: []byte{0xa5, 0x5a, 0xc3}}, xdpRedirect, "decap"},
		{"padding, even", greCase{tun: gk, gre: csumGRE(true, 42), l3: icmp4Packet(t, 1), typ: ip4T, pad: []byte{0xa5, 0x5a, 0xc3, 0x3c}}, xdpRedirect, "decap"},
		{"ip6gre padding", greCase{tun: g6, gre: csumGRE(false, 0), l3: udp6Packet(t, 3), typ: ip6T, pad: []byte{0xa5, 0x5a, 0xc3, 0x3c, 0x77}}, xdpRedirect, "decap"},
		// A 52-byte frame padded to the 60-byte Ethernet minimum: the
		// checksum over the 10 bytes of inner packet is right, so the
		// verdict is the inner packet's (truncated), not the checksum's.
		{"frame padded to 60", greCase{tun: g, gre: csumGRE(false, 0), l3: icmp4Packet(t, 0)[:10], typ: ip4T, pad: []byte{0xa5, 0x5a, 0xc3, 0x3c, 0xa5, 0x5a, 0xc3, 0x3c},
			check: func(t *testing.T, b []byte) {
				if len(b) != 60 || binary.BigEndian.Uint16(b[16:]) != 38 {
					t.Fatalf("frame of %d bytes, IP total length %d; want 60 and 38", len(b), binary.BigEndian.Uint16(b[16:]))
				}
			}}, xdpDrop, "drop_inner_trunc"},
		{"frame padded to 60, checksum wrong", greCase{tun: g, gre: csumGRE(false, 0), l3: icmp4Packet(t, 0)[:10], typ: ip4T, pad: []byte{0xa5, 0x5a, 0xc3, 0x3c, 0xa5, 0x5a, 0xc3, 0x3c}, edit: corruptCsum}, xdpDrop, "drop_gre_csum"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.c.tun)
			d.expect(t, c.c, c.ret, c.reason)
		})
	}
}

// TestGRECsumLengths sums every length of the tail (1-3 bytes, each
// halving step) and around every chunk boundary, right and with the last
// byte wrong, up to the longest run XDP verifies; longer goes to the stack.
func TestGRECsumLengths(t *testing.T) {
	requireRootForBPF(t)
	tun := withGREOpts(greTunnel(-1), true, false)
	tun6 := withGREOpts(ip6greTunnel(7), true, false)
	d, d6 := newDataplane(t, tun), newDataplane(t, tun6)

	// GRE with C and no key is 8 bytes, then IPv4 20 and ICMP 8: n bytes
	// of ICMP payload make a checksummed run of 36+n bytes.
	var lens []int
	for n := 36; n < 300; n++ {
		lens = append(lens, n)
	}
	for b := 512; b <= csumMax; b += 256 {
		lens = append(lens, b-1, b, b+1)
	}
	lens = append(lens, 1480, 1481, 2047, csumMax-3, csumMax-2, csumMax-1, csumMax)

	for _, n := range lens {
		c := greCase{tun: tun, gre: csumGRE(false, 0), l3: icmp4Packet(t, n-36), typ: layers.EthernetTypeIPv4}
		t.Run(fmt.Sprintf("len %d", n), func(t *testing.T) {
			d.expect(t, c, xdpRedirect, "decap")
			c.edit = flipAt(-1)
			d.expect(t, c, xdpDrop, "drop_gre_csum")
			if n > 300 {
				c.edit = flipAt(-n / 2)
				d.expect(t, c, xdpDrop, "drop_gre_csum")
			}
		})
	}
	// ip6gre with a key: 12 bytes of GRE, then IPv6 40 and UDP 8.
	for _, n := range []int{60, 61, 62, 63, 64, 1000, 1001, csumMax - 1, csumMax} {
		c := greCase{tun: tun6, gre: csumGRE(true, 7), l3: udp6Packet(t, n-60), typ: layers.EthernetTypeIPv6}
		t.Run(fmt.Sprintf("ip6gre len %d", n), func(t *testing.T) {
			d6.expect(t, c, xdpRedirect, "decap")
			c.edit = flipAt(-1)
			d6.expect(t, c, xdpDrop, "drop_gre_csum")
		})
	}

	// Longer than XDP verifies: to the stack untouched, right or wrong,
	// rather than decapsulated unverified.
	for _, n := range []int{csumMax + 1, csumMax + 2, 3400} {
		c := greCase{tun: tun, gre: csumGRE(false, 0), l3: icmp4Packet(t, n-36), typ: layers.EthernetTypeIPv4}
		t.Run(fmt.Sprintf("long %d", n), func(t *testing.T) {
			d.expect(t, c, xdpPass, "pass_gre_csum_long")
			c.edit = flipAt(-1)
			d.expect(t, c, xdpPass, "pass_gre_csum_long")
		})
	}
	t.Run("ip6gre long", func(t *testing.T) {
		c := greCase{tun: tun6, gre: csumGRE(true, 7), l3: udp6Packet(t, csumMax+1-60), typ: layers.EthernetTypeIPv6}
		d6.expect(t, c, xdpPass, "pass_gre_csum_long")
	})
}

func TestGRECsumLongOptions(t *testing.T) {
	requireRootForBPF(t)
	const n = csumMax + 100
	l3 := icmp4Packet(t, n-36)
	ip4T := layers.EthernetTypeIPv4

	// The C bit on a tunnel without icsum is dropped before any summing.
	t.Run("checksum, tunnel without icsum", func(t *testing.T) {
		tun := greTunnel(-1)
		newDataplane(t, tun).expect(t, greCase{tun: tun, gre: csumGRE(false, 0), l3: l3, typ: ip4T}, xdpDrop, "drop_gre_csum")
	})
	t.Run("no checksum, tunnel without icsum", func(t *testing.T) {
		tun := greTunnel(-1)
		newDataplane(t, tun).expect(t, greCase{tun: tun, l3: l3, typ: ip4T}, xdpRedirect, "decap")
	})
	// A long packet passed to the stack leaves the expected sequence
	// number alone.
	t.Run("iseq", func(t *testing.T) {
		tun := withGREOpts(greTunnel(-1), true, true)
		d := newDataplane(t, tun)
		seqCsum := func(seq uint32, l3 []byte) greCase {
			return greCase{tun: tun, gre: layers.GRE{ChecksumPresent: true, SeqPresent: true, Seq: seq}, l3: l3, typ: ip4T}
		}
		d.expect(t, seqCsum(10, icmp4Packet(t, 20)), xdpRedirect, "decap")
		d.expect(t, seqCsum(20, l3), xdpPass, "pass_gre_csum_long")
		d.expect(t, seqCsum(11, icmp4Packet(t, 20)), xdpRedirect, "decap")
	})
}

func TestGRESeq(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := inner{}.bytes(t), inner{v6: true}.bytes(t)
	ip4T, ip6T := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6

	type step struct {
		seq    uint32
		noSeq  bool // no S bit
		ret    uint32
		reason string
	}
	ok := func(seq uint32) step { return step{seq: seq, ret: xdpRedirect, reason: "decap"} }
	old := func(seq uint32) step { return step{seq: seq, ret: xdpDrop, reason: "drop_gre_seq"} }
	missing := step{noSeq: true, ret: xdpDrop, reason: "drop_gre_seq"}

	iseq, iseqKey := withGREOpts(greTunnel(-1), false, true), withGREOpts(greTunnel(42), false, true)
	iseq6 := withGREOpts(ip6greTunnel(-1), false, true)
	plain, plain6 := greTunnel(-1), ip6greTunnel(-1)
	cases := []struct {
		name  string
		tun   maps.Tunnel
		key   bool
		steps []step
	}{
		// Without iseq a sequence number is accepted and ignored.
		{"no iseq", plain, false, []step{ok(5), ok(3), ok(3), ok(0), ok(0xffffffff), {noSeq: true, ret: xdpRedirect, reason: "decap"}}},
		{"ip6gre no iseq", plain6, false, []step{ok(9), ok(1)}},
		{"in order, then old", iseq, false, []step{ok(1), ok(2), ok(3), old(2), old(3), ok(4), ok(10), old(9), ok(11)}},
		{"first packet takes any number", iseq, false, []step{ok(0x80000000), old(0x7fffffff), ok(0x80000001)}},
		{"seq 0 first, again", iseq, false, []step{ok(0), old(0xffffffff), ok(1)}},
		{"missing", iseq, false, []step{missing}},
		{"missing after some", iseq, false, []step{ok(1), missing, ok(2)}},
		{"with key", iseqKey, true, []step{ok(7), old(6), missing, ok(8)}},
		// 0xffffffff + 1 is 0, "no packet yet" (as the kernel's i_seqno).
		{"wraparound", iseq, false, []step{ok(0xfffffffe), ok(0xffffffff), ok(0), ok(1), old(0xffffffff), old(0), ok(2)}},
		{"ahead by less than 2^31", iseq, false, []step{ok(1), ok(0x80000000), old(1), ok(0x80000001)}},
		{"ip6gre", iseq6, false, []step{ok(100), ok(101), old(100), missing, ok(0x10000)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			for i, s := range c.steps {
				l3, typ := v4, ip4T
				if i%2 == 1 {
					l3, typ = v6, ip6T
				}
				g := layers.GRE{KeyPresent: c.key, Key: 42, SeqPresent: !s.noSeq, Seq: s.seq}
				t.Run(fmt.Sprintf("%d seq %#x", i, s.seq), func(t *testing.T) {
					d.expect(t, greCase{tun: c.tun, gre: g, l3: l3, typ: typ}, s.ret, s.reason)
				})
			}
		})
	}
}

// TestGREChecksAndSeq covers the order of the checks: the checksum first
// (a wrong one leaves the expected sequence number alone), then the
// sequence number, then the inner packet (a packet dropped for its inner
// packet has moved the sequence number on, as in ip_tunnel_rcv).
func TestGREChecksAndSeq(t *testing.T) {
	requireRootForBPF(t)
	tun := withGREOpts(greTunnel(42), true, true)
	d := newDataplane(t, tun)
	ip4T := layers.EthernetTypeIPv4
	pkt := func(seq uint32) greCase {
		return greCase{tun: tun, gre: layers.GRE{ChecksumPresent: true, KeyPresent: true, Key: 42, SeqPresent: true, Seq: seq}, l3: inner{}.bytes(t), typ: ip4T}
	}
	bad := func(c greCase) greCase { c.edit = flipAt(-1); return c }

	d.expect(t, pkt(5), xdpRedirect, "decap")
	d.expect(t, bad(pkt(6)), xdpDrop, "drop_gre_csum")
	d.expect(t, pkt(6), xdpRedirect, "decap")
	d.expect(t, bad(pkt(5)), xdpDrop, "drop_gre_csum") // old too: the checksum is checked first
	d.expect(t, pkt(5), xdpDrop, "drop_gre_seq")

	noCsum := pkt(7)
	noCsum.gre.ChecksumPresent = false
	d.expect(t, noCsum, xdpDrop, "drop_gre_csum") // before the sequence number
	d.expect(t, pkt(7), xdpRedirect, "decap")

	// An outer CE mark on a not-ECT inner packet: dropped after the
	// sequence number moved on.
	ce := pkt(8)
	ce.edit = func(b []byte, _ int) {
		b[14+1] |= 3 // outer TOS ECN = CE
		fixIPv4Checksum(b, 14)
	}
	d.expect(t, ce, xdpDrop, "drop_ecn")
	d.expect(t, pkt(8), xdpDrop, "drop_gre_seq")
	d.expect(t, pkt(9), xdpRedirect, "decap")
}
