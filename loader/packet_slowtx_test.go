package loader_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// The slow TX path. A tunnel with ocsum, oseq or encap-csum (maps.SlowTX)
// is not encapsulated by the overlay's TC egress program (xt_tc_encap),
// which lets its packets through (TC_ACT_OK, tx_slow) to the veth peer.
// There xt_tc_peer (objs.Peer) finds the tunnel (xt_peers: peer ifindex ->
// overlay ifindex, then xt_encap) and encapsulates each packet, filling
// the GRE checksum (RFC 2784: over the GRE header and everything after
// it), the GRE sequence number (RFC 2890: 0, 1, 2, ... per tunnel) and the
// UDP checksum of FOU/GUE (RFC 768: with the IPv4 pseudo-header; a sum of
// 0 is sent as 0xffff). Runs of more than 1536 summed bytes are dropped
// (tx_csum).
//
// Under BPF_PROG_TEST_RUN skb->ifindex is the loopback device (1): the
// tunnels here have Ifindex and PeerIfindex 1, so both programs find them.

// csumSlowMax is the longest run xt_tc_peer sums: SKB_CSUM_CHUNKS *
// SKB_CSUM_CHUNK in headers/skbcsum.h.
const csumSlowMax = 12 * 128

const (
	slowFOUPort = 5555
	slowGUEPort = 6080
	slowSPort   = 4242
)

// slowGRE is a gre (or ip6gre) tunnel that sends checksums (ocsum) and/or
// sequence numbers (oseq); key < 0 means none. Receive options stay off:
// mirror() turns these into icsum / iseq on the other end.
func slowGRE(outer6 bool, key int64, csum, seq bool) maps.Tunnel {
	tun := greTunnel(key)
	if outer6 {
		tun = ip6greTunnel(key)
	}
	tun.OCsum, tun.OSeq = csum, seq
	return tun
}

// withSlowUDP is tun over FOU (to slowFOUPort) or GUE (to slowGUEPort)
// from slowSPort, with or without the UDP checksum (encap-csum).
func withSlowUDP(tun maps.Tunnel, typ tunnel.EncapType, csum bool) maps.Tunnel {
	dport := uint16(slowFOUPort)
	if typ == tunnel.EncapGUE {
		dport = slowGUEPort
	}
	tun.Encap = tunnel.Encap{Type: typ, SPort: slowSPort, DPort: dport, Csum: csum}
	return tun
}

// rawPacket is an IPv4 (or IPv6) packet of protocol 253 (RFC 3692,
// experimental) with n bytes of payload. It has no transport checksum, so
// the one's complement sum over it depends on every payload byte; a
// packet with a correct TCP/UDP/ICMP checksum sums to a constant and would
// hide a checksum that skipped its payload.
func rawPacket(t *testing.T, v6 bool, n int) []byte {
	t.Helper()
	if v6 {
		ip6 := &layers.IPv6{
			Version: 6, HopLimit: 64, NextHeader: 253,
			SrcIP: net.ParseIP("fd00:9::1"), DstIP: net.ParseIP("fd00:20::5"),
		}
		return serialize(t, ip6, gopacket.Payload(pattern(n)))
	}
	ip4 := &layers.IPv4{
		Version: 4, Id: 0x2468, TTL: 64, Protocol: 253,
		SrcIP: net.IPv4(10, 9, 0, 1).To4(), DstIP: net.IPv4(10, 20, 0, 5).To4(),
	}
	return serialize(t, ip4, gopacket.Payload(pattern(n)))
}

// slowLayout is where the outer headers of tun's frames are; -1: absent.
type slowLayout struct {
	udp, gre int
}

func layoutOf(tun maps.Tunnel) slowLayout {
	off := 14 + 20
	if tun.Type.Outer6() {
		off = 14 + 40
		if on, _ := tun.EncapLimitOn(); on {
			off += 8
		}
	}
	l := slowLayout{udp: -1, gre: -1}
	if tun.Encap.Type != tunnel.EncapNone {
		l.udp = off
		off += 8
		if tun.Encap.Type == tunnel.EncapGUE {
			off += 4
		}
	}
	if tun.Type.IsGRE() {
		l.gre = off
	}
	return l
}

// slowFrame is what xt_tc_peer must make of the inner packet l3 (ethertype
// typ) on tun: built with gopacket, which computes the GRE checksum
// (ComputeChecksums with ChecksumPresent) and the UDP checksum. seq is the
// GRE sequence number, sport the UDP source port. Outer TTL/hop limit 64,
// TOS 0, DF and Id 0 on IPv4, flow label 0 on IPv6, as newTunnel's
// settings and the inner packets here give.
func slowFrame(t *testing.T, tun maps.Tunnel, typ layers.EthernetType, l3 []byte, seq uint32, sport uint16) []byte {
	t.Helper()
	proto := layers.IPProtocolGRE // what the UDP header (or the IP header) carries
	if !tun.Type.IsGRE() {
		proto = ipProtoOf(t, typ)
	}
	udp := tun.Encap.Type != tunnel.EncapNone
	l4 := proto
	if udp {
		l4 = layers.IPProtocolUDP
	}
	var (
		ls []gopacket.SerializableLayer
		nl gopacket.NetworkLayer // for the UDP checksum
	)
	if tun.Type.Outer6() {
		ip6 := &layers.IPv6{
			Version: 6, HopLimit: 64, NextHeader: l4, SrcIP: ip(tun.Local), DstIP: ip(tun.Remote),
		}
		ls = append(ls, &layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv6}, ip6)
		if on, limit := tun.EncapLimitOn(); on {
			ip6.NextHeader = layers.IPProtocolIPv6Destination
			ls = append(ls, encapLimitOpt(limit, l4))
		}
		nl = ip6
	} else {
		ip4 := &layers.IPv4{
			Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment,
			Protocol: l4, SrcIP: ip(tun.Local), DstIP: ip(tun.Remote),
		}
		ls = append(ls, &layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv4}, ip4)
		nl = ip4
	}
	if udp {
		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(tun.Encap.DPort)}
		if err := u.SetNetworkLayerForChecksum(nl); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, u)
		if tun.Encap.Type == tunnel.EncapGUE {
			ls = append(ls, gopacket.Payload{0, byte(proto), 0, 0}) // version 0, no flags
		}
	}
	if tun.Type.IsGRE() {
		ls = append(ls, &layers.GRE{
			ChecksumPresent: tun.OCsum, KeyPresent: tun.OKey.Set, Key: tun.OKey.Value,
			SeqPresent: tun.OSeq, Seq: seq, Protocol: typ,
		})
	}
	b := serialize(t, append(ls, gopacket.Payload(l3))...)
	if udp {
		off := layoutOf(tun).udp + 6
		switch {
		case !tun.Encap.Csum:
			binary.BigEndian.PutUint16(b[off:], 0) // noencap-csum
		case binary.BigEndian.Uint16(b[off:]) == 0:
			binary.BigEndian.PutUint16(b[off:], 0xffff) // RFC 768; gopacket leaves 0
		}
	}
	return b
}

// udp4Checksum is the UDP checksum of the datagram udp from src to dst
// (RFC 768): the one's complement of the one's complement sum of the IPv4
// pseudo-header and the datagram with its checksum field zero. A result of
// 0 is returned as is (the sender sends 0xffff). Independent of gopacket
// and of the BPF code.
func udp4Checksum(src, dst netip.Addr, udp []byte) uint16 {
	b := append(src.AsSlice(), dst.AsSlice()...)
	b = append(b, 0, 17, byte(len(udp)>>8), byte(len(udp)))
	b = append(b, udp...)
	b[12+6], b[12+7] = 0, 0
	return rfc1071(b)
}

// checkSlowChecksums recomputes the GRE and UDP checksums of frame b of tun
// with rfc1071 and udp4Checksum and compares them with what b carries.
func checkSlowChecksums(t *testing.T, tun maps.Tunnel, b []byte) {
	t.Helper()
	l := layoutOf(tun)
	if tun.Type.IsGRE() && tun.OCsum {
		if len(b) < l.gre+8 {
			t.Fatalf("frame of %d bytes has no GRE checksum at %d", len(b), l.gre+4)
		}
		got := binary.BigEndian.Uint16(b[l.gre+4:])
		zeroed := append([]byte(nil), b[l.gre:]...)
		zeroed[4], zeroed[5] = 0, 0
		if want := rfc1071(zeroed); got != want {
			t.Errorf("GRE checksum %#04x, RFC 1071 over GRE header and payload gives %#04x", got, want)
		}
		if rfc1071(b[l.gre:]) != 0 {
			t.Errorf("GRE checksum %#04x does not verify", got)
		}
	}
	if l.udp < 0 {
		return
	}
	if tun.Type.Outer6() {
		t.Fatalf("FOU/GUE over IPv6 is not supported")
	}
	if len(b) < l.udp+8 {
		t.Fatalf("frame of %d bytes has no UDP header at %d", len(b), l.udp)
	}
	got := binary.BigEndian.Uint16(b[l.udp+6:])
	if ulen := int(binary.BigEndian.Uint16(b[l.udp+4:])); ulen != len(b)-l.udp {
		t.Errorf("UDP length %d, want %d", ulen, len(b)-l.udp)
	}
	want := uint16(0)
	if tun.Encap.Csum {
		src, _ := netip.AddrFromSlice(b[14+12 : 14+16])
		dst, _ := netip.AddrFromSlice(b[14+16 : 14+20])
		if want = udp4Checksum(src, dst, b[l.udp:]); want == 0 {
			want = 0xffff
		}
	}
	if got != want {
		t.Errorf("UDP checksum %#04x, want %#04x (pseudo-header and datagram, RFC 768)", got, want)
	}
}

// runPeer runs xt_tc_peer on l3 behind an Ethernet header and checks that
// it encapsulated it as slowFrame says, with checksums that verify
// independently, and counted it on the tunnel (counters reset first).
func runPeer(t *testing.T, d *dataplane, tun maps.Tunnel, typ layers.EthernetType, l3 []byte, seq uint32) result {
	t.Helper()
	if err := d.tables.ResetCounters(tun.ID); err != nil {
		t.Fatal(err)
	}
	res := d.run(t, d.objs.Peer, append(ethHeader(wireDstMAC, wireSrcMAC, typ), l3...))
	checkVerdict(t, res, tcRedirect, "encap")
	checkFrame(t, res.out, slowFrame(t, tun, typ, l3, seq, tun.Encap.SPort))
	checkSlowChecksums(t, tun, res.out)
	checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
	return res
}

// TestSlowTXOverlay: xt_tc_encap hands every packet of a slow-TX tunnel to
// the stack untouched, and still encapsulates those of the others.
func TestSlowTXOverlay(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := inner{}, inner{v6: true}
	slow := []struct {
		name string
		tun  maps.Tunnel
		in   inner
	}{
		{"gre ocsum", slowGRE(false, -1, true, false), v4},
		{"gre oseq", slowGRE(false, 42, false, true), v6},
		{"gre ocsum oseq key", slowGRE(false, 42, true, true), v4},
		{"ip6gre ocsum", slowGRE(true, -1, true, false), v6},
		{"ip6gre oseq", slowGRE(true, 7, false, true), v4},
		{"ipip fou encap-csum", withSlowUDP(ipipTunnel(), tunnel.EncapFOU, true), v4},
		{"sit gue encap-csum", withSlowUDP(sitTunnel(tunnel.ModeDefault), tunnel.EncapGUE, true), v6},
		{"gre fou encap-csum", withSlowUDP(greTunnel(-1), tunnel.EncapFOU, true), v4},
		{"gre gue ocsum, no encap-csum", withSlowUDP(slowGRE(false, -1, true, false), tunnel.EncapGUE, false), v6},
	}
	for _, c := range slow {
		t.Run(c.name, func(t *testing.T) {
			if !maps.SlowTX(c.tun.Spec) {
				t.Fatalf("maps.SlowTX(%+v) = false", c.tun.Spec)
			}
			d := newDataplane(t, c.tun)
			frame := ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), c.in.bytes(t))
			res := d.run(t, d.objs.Encap, frame)
			checkVerdict(t, res, tcOK, "tx_slow")
			checkFrame(t, res.out, frame)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{})
		})
	}

	// Not slow: encapsulated here, as before (TestEncap has the rest).
	fast := []struct {
		name string
		tun  maps.Tunnel
		in   inner
	}{
		{"gre key", greTunnel(42), v4},
		{"gre icsum iseq only", with(greTunnel(-1), func(tun *maps.Tunnel) { tun.ICsum, tun.ISeq = true, true }), v6},
		{"ipip fou noencap-csum", withSlowUDP(ipipTunnel(), tunnel.EncapFOU, false), v4},
		{"gre gue noencap-csum", withSlowUDP(greTunnel(9), tunnel.EncapGUE, false), v6},
	}
	for _, c := range fast {
		t.Run(c.name, func(t *testing.T) {
			if maps.SlowTX(c.tun.Spec) {
				t.Fatalf("maps.SlowTX(%+v) = true", c.tun.Spec)
			}
			d := newDataplane(t, c.tun)
			l3 := c.in.bytes(t)
			res := d.run(t, d.objs.Encap, ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3))
			checkVerdict(t, res, tcRedirect, "encap")
			checkFrame(t, res.out, slowFrame(t, c.tun, c.in.etherType(), l3, 0, c.tun.Encap.SPort))
			checkSlowChecksums(t, c.tun, res.out)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
		})
	}
}

// TestSlowTXGRE: GRE checksums, keys and sequence numbers over both
// underlays, inner IPv4 and IPv6 with odd lengths.
func TestSlowTXGRE(t *testing.T) {
	requireRootForBPF(t)
	ip4T, ip6T := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	noLimit := func(tun *maps.Tunnel) { tun.EncapLimit = tunnel.EncapLimitNone }
	limit9 := func(tun *maps.Tunnel) { tun.EncapLimit = 9 }
	cases := []struct {
		name string
		tun  maps.Tunnel
		typ  layers.EthernetType
		l3   []byte
	}{
		{"gre ocsum inner v4 odd", slowGRE(false, -1, true, false), ip4T, icmp4Packet(t, 33)},
		{"gre ocsum inner v6 odd", slowGRE(false, -1, true, false), ip6T, udp6Packet(t, 41)},
		{"gre ocsum key inner v4 odd", slowGRE(false, 42, true, false), ip4T, icmp4Packet(t, 51)},
		{"gre ocsum key oseq inner v6 odd", slowGRE(false, 0xdeadbeef, true, true), ip6T, udp6Packet(t, 7)},
		{"gre ocsum oseq inner v4 even", slowGRE(false, -1, true, true), ip4T, icmp4Packet(t, 64)},
		{"gre oseq only", slowGRE(false, -1, false, true), ip4T, icmp4Packet(t, 33)},
		{"gre oseq key, no checksum", slowGRE(false, 42, false, true), ip6T, udp6Packet(t, 41)},
		{"gre ocsum raw inner v4 odd", slowGRE(false, -1, true, false), ip4T, rawPacket(t, false, 101)},
		{"gre ocsum raw inner v6 odd", slowGRE(false, 42, true, true), ip6T, rawPacket(t, true, 99)},
		{"gre ocsum tiny inner", slowGRE(false, -1, true, false), ip4T, rawPacket(t, false, 27)},

		// ip6gre sends the encapsulation limit option (default 4).
		{"ip6gre ocsum inner v4 odd", slowGRE(true, -1, true, false), ip4T, icmp4Packet(t, 33)},
		{"ip6gre ocsum inner v6 odd", slowGRE(true, -1, true, false), ip6T, udp6Packet(t, 41)},
		{"ip6gre ocsum key oseq inner v4", slowGRE(true, 42, true, true), ip4T, rawPacket(t, false, 77)},
		{"ip6gre ocsum key oseq inner v6", slowGRE(true, 42, true, true), ip6T, rawPacket(t, true, 1)},
		{"ip6gre oseq only", slowGRE(true, -1, false, true), ip6T, udp6Packet(t, 3)},
		{"ip6gre encaplimit none", with(slowGRE(true, 42, true, true), noLimit), ip6T, udp6Packet(t, 41)},
		{"ip6gre encaplimit 9", with(slowGRE(true, -1, true, false), limit9), ip4T, icmp4Packet(t, 33)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			runPeer(t, d, c.tun, c.typ, c.l3, 0)
		})
	}
}

// TestSlowTXGRESeq: each tunnel numbers its packets 0, 1, 2, ... (Linux:
// atomic_fetch_inc of o_seqno, which starts at 0), and keeps the next
// number in its xt_encap entry.
func TestSlowTXGRESeq(t *testing.T) {
	requireRootForBPF(t)
	for _, tun := range []maps.Tunnel{
		slowGRE(false, 42, true, true),
		slowGRE(false, -1, false, true),
		slowGRE(true, -1, true, true),
	} {
		t.Run(fmt.Sprintf("%s ocsum=%v key=%v", tun.Type, tun.OCsum, tun.OKey.Set), func(t *testing.T) {
			d := newDataplane(t, tun)
			for seq := uint32(0); seq < 3; seq++ {
				l3, typ := icmp4Packet(t, 33+int(seq)), layers.EthernetTypeIPv4
				if seq == 1 {
					l3, typ = udp6Packet(t, 41), layers.EthernetTypeIPv6
				}
				runPeer(t, d, tun, typ, l3, seq)
			}
			var v loader.TunnelT
			if err := d.objs.Maps.Encap.Lookup(uint32(tun.Ifindex), &v); err != nil {
				t.Fatalf("encap entry: %v", err)
			}
			if v.TxSeq != 3 {
				t.Errorf("xt_encap tx_seq = %d after 3 packets, want 3", v.TxSeq)
			}
		})
	}

	// Two tunnels count apart.
	t.Run("two tunnels", func(t *testing.T) {
		a := slowGRE(false, 1, true, true)
		b := slowGRE(false, 2, true, true)
		b.ID, b.Ifindex, b.PeerIfindex = testTunnelID+1, 1000, 1000
		b.Local, b.Remote = addrUnknown, addrRemote
		d := newDataplane(t, a)
		u := newUnderlay(t, 1500) // b's peer must be a netdev: its devmap entry
		b.PeerIfindex = u.ifindex[1500]
		u.in(t, func() {
			if err := d.tables.PutTunnel(b); err != nil {
				t.Fatalf("put tunnel b: %v", err)
			}
		})
		l3 := icmp4Packet(t, 33)
		runPeer(t, d, a, layers.EthernetTypeIPv4, l3, 0)
		runPeer(t, d, a, layers.EthernetTypeIPv4, l3, 1)
		var v loader.TunnelT
		if err := d.objs.Maps.Encap.Lookup(uint32(b.Ifindex), &v); err != nil {
			t.Fatalf("encap entry of b: %v", err)
		}
		if v.TxSeq != 0 {
			t.Errorf("tunnel b's tx_seq = %d after 2 packets of a, want 0", v.TxSeq)
		}
	})
}

// TestSlowTXGRECsumLengths sums runs (GRE header + inner packet) of every
// length up to 300 bytes and around every 128-byte chunk boundary, up to
// the longest run summed (1536 bytes); one byte more is tx_csum. One
// dataplane per tunnel, counters reset per run (as TestGRECsumLengths).
func TestSlowTXGRECsumLengths(t *testing.T) {
	requireRootForBPF(t)
	tun := slowGRE(false, -1, true, false)
	d := newDataplane(t, tun)
	ip4T := layers.EthernetTypeIPv4

	// GRE with C and no key is 8 bytes, the raw IPv4 header 20: n bytes
	// of run carry n-28 bytes of payload.
	var lens []int
	for n := 28; n <= 300; n++ {
		lens = append(lens, n)
	}
	for b := 384; b <= csumSlowMax; b += 128 {
		lens = append(lens, b-1, b)
		if b < csumSlowMax {
			lens = append(lens, b+1)
		}
	}
	for _, n := range lens {
		t.Run(fmt.Sprintf("len %d", n), func(t *testing.T) {
			runPeer(t, d, tun, ip4T, rawPacket(t, false, n-28), 0)
		})
	}
	for _, n := range []int{csumSlowMax + 1, csumSlowMax + 2, csumSlowMax + 128, 2000} {
		t.Run(fmt.Sprintf("long %d", n), func(t *testing.T) {
			checkSlowDrop(t, d, tun, ip4T, rawPacket(t, false, n-28), "tx_csum")
		})
	}

	// ip6gre with key and sequence number: 16 bytes of GRE, IPv6 40.
	tun6 := slowGRE(true, 42, true, true)
	d6 := newDataplane(t, tun6)
	seq := uint32(0)
	for _, n := range []int{57, 58, 127, 128, 129, 1000, 1001, csumSlowMax - 1, csumSlowMax} {
		t.Run(fmt.Sprintf("ip6gre len %d", n), func(t *testing.T) {
			runPeer(t, d6, tun6, layers.EthernetTypeIPv6, rawPacket(t, true, n-56), seq)
			seq++
		})
	}
	t.Run("ip6gre long", func(t *testing.T) {
		checkSlowDrop(t, d6, tun6, layers.EthernetTypeIPv6, rawPacket(t, true, csumSlowMax+1-56), "tx_csum")
	})
}

// checkSlowDrop runs xt_tc_peer on l3 and checks that it was dropped for
// reason and counted as a drop of tun (counters reset first).
func checkSlowDrop(t *testing.T, d *dataplane, tun maps.Tunnel, typ layers.EthernetType, l3 []byte, reason string) {
	t.Helper()
	if err := d.tables.ResetCounters(tun.ID); err != nil {
		t.Fatal(err)
	}
	res := d.run(t, d.objs.Peer, append(ethHeader(wireDstMAC, wireSrcMAC, typ), l3...))
	checkVerdict(t, res, tcShot, reason)
	checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
}

// TestSlowTXUDP: FOU and GUE with encap-csum over IPv4, alone and around
// GRE (whose checksum the UDP checksum then covers).
func TestSlowTXUDP(t *testing.T) {
	requireRootForBPF(t)
	ip4T, ip6T := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	fou, gue := tunnel.EncapFOU, tunnel.EncapGUE
	cases := []struct {
		name string
		tun  maps.Tunnel
		typ  layers.EthernetType
		l3   []byte
	}{
		{"ipip fou inner odd", withSlowUDP(ipipTunnel(), fou, true), ip4T, icmp4Packet(t, 33)},
		{"ipip fou raw inner odd", withSlowUDP(ipipTunnel(), fou, true), ip4T, rawPacket(t, false, 101)},
		{"ipip gue raw inner", withSlowUDP(ipipTunnel(), gue, true), ip4T, rawPacket(t, false, 64)},
		{"sit fou inner v6 odd", withSlowUDP(sitTunnel(tunnel.ModeDefault), fou, true), ip6T, udp6Packet(t, 41)},
		{"sit gue raw inner v6 odd", withSlowUDP(sitTunnel(tunnel.ModeDefault), gue, true), ip6T, rawPacket(t, true, 55)},
		{"gre fou", withSlowUDP(greTunnel(-1), fou, true), ip4T, rawPacket(t, false, 33)},
		{"gre gue key", withSlowUDP(greTunnel(42), gue, true), ip6T, rawPacket(t, true, 41)},
		{"gre fou ocsum", withSlowUDP(slowGRE(false, -1, true, false), fou, true), ip4T, rawPacket(t, false, 33)},
		{"gre gue ocsum key oseq", withSlowUDP(slowGRE(false, 42, true, true), gue, true), ip6T, udp6Packet(t, 41)},
		{"gre fou ocsum, noencap-csum", withSlowUDP(slowGRE(false, -1, true, false), fou, false), ip4T, rawPacket(t, false, 33)},
		{"gre gue oseq, noencap-csum", withSlowUDP(slowGRE(false, 5, false, true), gue, false), ip4T, icmp4Packet(t, 3)},
		{"ipip fou longest", withSlowUDP(ipipTunnel(), fou, true), ip4T, rawPacket(t, false, csumSlowMax-8-20)},
		{"gre gue ocsum longest", withSlowUDP(slowGRE(false, -1, true, false), gue, true), ip4T, rawPacket(t, false, csumSlowMax-12-8-20)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			runPeer(t, d, c.tun, c.typ, c.l3, 0)
		})
	}

	t.Run("ipip fou too long", func(t *testing.T) {
		tun := withSlowUDP(ipipTunnel(), fou, true)
		checkSlowDrop(t, newDataplane(t, tun), tun, ip4T, rawPacket(t, false, csumSlowMax-8-20+1), "tx_csum")
	})
	// The GRE run is 12 bytes shorter than the UDP run: the UDP one is too long.
	t.Run("gue gre ocsum too long for udp", func(t *testing.T) {
		tun := withSlowUDP(slowGRE(false, -1, true, false), gue, true)
		checkSlowDrop(t, newDataplane(t, tun), tun, ip4T, rawPacket(t, false, csumSlowMax-12-8-20+1), "tx_csum")
	})

	// A datagram whose sum is 0 is sent with 0xffff (RFC 768). The
	// source port that gives it is found by trying all of them.
	t.Run("checksum 0 sent as 0xffff", func(t *testing.T) {
		tun := withSlowUDP(ipipTunnel(), fou, true)
		l3 := rawPacket(t, false, 45)
		frame := slowFrame(t, tun, ip4T, l3, 0, 1)
		udpOff := layoutOf(tun).udp
		sport := 0
		for p := 1; p <= 0xffff; p++ {
			binary.BigEndian.PutUint16(frame[udpOff:], uint16(p))
			if udp4Checksum(tun.Local, tun.Remote, frame[udpOff:]) == 0 {
				sport = p
				break
			}
		}
		if sport == 0 {
			t.Fatal("no source port gives a UDP checksum of 0")
		}
		tun.Encap.SPort = uint16(sport)
		res := runPeer(t, newDataplane(t, tun), tun, ip4T, l3, 0)
		if got := binary.BigEndian.Uint16(res.out[udpOff+6:]); got != 0xffff {
			t.Errorf("source port %d: UDP checksum %#04x, want 0xffff", sport, got)
		}
	})

	// encap-sport auto: a port from the inner flow's hash in 32768-60999,
	// the same for the same flow; the checksum covers it.
	t.Run("auto source port", func(t *testing.T) {
		tun := withSlowUDP(ipipTunnel(), fou, true)
		tun.Encap.SPort = 0
		d := newDataplane(t, tun)
		l3 := rawPacket(t, false, 33)
		frame := ethFrame(t, wireDstMAC, wireSrcMAC, ip4T, l3)
		udpOff := layoutOf(tun).udp
		var ports []uint16
		for i := 0; i < 2; i++ {
			res := d.run(t, d.objs.Peer, frame)
			checkVerdict(t, res, tcRedirect, "encap")
			if len(res.out) < udpOff+8 {
				t.Fatalf("output of %d bytes", len(res.out))
			}
			sport := binary.BigEndian.Uint16(res.out[udpOff:])
			ports = append(ports, sport)
			if sport < 32768 || sport > 60999 {
				t.Errorf("source port %d outside 32768-60999", sport)
			}
			checkFrame(t, res.out, slowFrame(t, tun, ip4T, l3, 0, sport))
			checkSlowChecksums(t, tun, res.out)
		}
		if ports[0] != ports[1] {
			t.Errorf("one flow got source ports %v", ports)
		}
	})

	// MPLS payloads take bpf_skb_change_head and a FIB lookup (see
	// packet_nexthop_test.go); their UDP checksum is filled the same way.
	t.Run("ipip mplsip gue", func(t *testing.T) {
		nh := newNextHop(t, true)
		tun := nh.on(withSlowUDP(ipipModeTunnel(tunnel.ModeMPLSIP), gue, true))
		d := newDataplane(t, tun)
		in := inner{mpls: true}
		l3 := in.bytes(t)
		var res result
		nh.in(t, func() { res = d.run(t, d.objs.Peer, ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), l3)) })
		checkVerdict(t, res, tcRedirect, "encap")
		checkFrame(t, res.out, withMACs(slowFrame(t, tun, in.etherType(), l3, 0, slowSPort), neighMAC, linkMAC))
		checkSlowChecksums(t, tun, res.out)
		checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
	})
}

// TestSlowTXDrop covers what xt_tc_peer refuses.
func TestSlowTXDrop(t *testing.T) {
	requireRootForBPF(t)
	v4 := func(t *testing.T) []byte {
		return ethFrame(t, wireDstMAC, wireSrcMAC, layers.EthernetTypeIPv4, inner{}.bytes(t))
	}

	// The tunnel's peer is another netdev (a veth in a namespace of its
	// own, for its devmap entry): nothing in xt_peers for lo. The overlay
	// program still finds the tunnel by its Ifindex.
	t.Run("no xt_peers entry", func(t *testing.T) {
		u := newUnderlay(t, 1500)
		tun := slowGRE(false, 42, true, true)
		tun.PeerIfindex = u.ifindex[1500]
		if tun.PeerIfindex == 1 {
			t.Fatalf("the veth has ifindex 1")
		}
		var d *dataplane
		u.in(t, func() { d = newDataplane(t, tun) })
		var over uint32
		if err := d.objs.Maps.Peers.Lookup(uint32(tun.PeerIfindex), &over); err != nil || over != 1 {
			t.Fatalf("xt_peers[%d] = %d, %v; want 1", tun.PeerIfindex, over, err)
		}
		res := d.run(t, d.objs.Peer, v4(t))
		checkVerdict(t, res, tcShot, "tx_no_tunnel")
		checkCounters(t, d.counters(t, tun.ID), maps.Counters{})
		res = d.run(t, d.objs.Encap, v4(t))
		checkVerdict(t, res, tcOK, "tx_slow")
	})
	t.Run("no tunnel", func(t *testing.T) {
		d := newDataplane(t)
		checkVerdict(t, d.run(t, d.objs.Peer, v4(t)), tcShot, "tx_no_tunnel")
	})
	t.Run("xt_peers entry, no xt_encap entry", func(t *testing.T) {
		d := newDataplane(t)
		if err := d.objs.Maps.Peers.Put(uint32(1), uint32(1000)); err != nil {
			t.Fatal(err)
		}
		checkVerdict(t, d.run(t, d.objs.Peer, v4(t)), tcShot, "tx_no_tunnel")
	})
	t.Run("xt_peers entry removed", func(t *testing.T) {
		tun := slowGRE(false, -1, true, false)
		d := newDataplane(t, tun)
		if err := d.objs.Maps.Peers.Delete(uint32(1)); err != nil {
			t.Fatal(err)
		}
		checkVerdict(t, d.run(t, d.objs.Peer, v4(t)), tcShot, "tx_no_tunnel")
		checkCounters(t, d.counters(t, tun.ID), maps.Counters{})
	})

	t.Run("inner v6 on ipip fou", func(t *testing.T) {
		tun := withSlowUDP(ipipTunnel(), tunnel.EncapFOU, true)
		checkSlowDrop(t, newDataplane(t, tun), tun, layers.EthernetTypeIPv6, inner{v6: true}.bytes(t), "tx_inner_family")
	})
	t.Run("arp", func(t *testing.T) {
		tun := slowGRE(false, -1, true, true)
		d := newDataplane(t, tun)
		arp := serialize(t, &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeARP}, &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: wireSrcMAC, SourceProtAddress: net.IPv4(10, 9, 0, 1).To4(),
			DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: net.IPv4(10, 9, 0, 2).To4(),
		})
		res := d.run(t, d.objs.Peer, arp)
		checkVerdict(t, res, tcShot, "tx_not_ip")
		checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
	})
}

// TestSlowTXRoundTrip feeds what xt_tc_peer sends into the XDP decap of
// the other end (mirror: icsum for ocsum, iseq for oseq), which must
// deliver the original inner packet, check the sequence numbers, and drop
// a packet whose payload changed on the way.
func TestSlowTXRoundTrip(t *testing.T) {
	requireRootForBPF(t)
	ip4T, ip6T := layers.EthernetTypeIPv4, layers.EthernetTypeIPv6
	fou, gue := tunnel.EncapFOU, tunnel.EncapGUE
	cases := []struct {
		name string
		tun  maps.Tunnel
		fou  *tunnel.FOUPort // the receive port the other end opens
		typ  layers.EthernetType
		l3   []byte
	}{
		{name: "gre ocsum inner v4", tun: slowGRE(false, -1, true, false), typ: ip4T, l3: icmp4Packet(t, 33)},
		{name: "gre ocsum inner v6", tun: slowGRE(false, -1, true, false), typ: ip6T, l3: udp6Packet(t, 41)},
		{name: "gre ocsum key oseq", tun: slowGRE(false, 42, true, true), typ: ip4T, l3: rawPacket(t, false, 101)},
		{name: "gre oseq", tun: slowGRE(false, -1, false, true), typ: ip6T, l3: udp6Packet(t, 41)},
		{name: "ip6gre ocsum inner v4", tun: slowGRE(true, -1, true, false), typ: ip4T, l3: icmp4Packet(t, 33)},
		{name: "ip6gre ocsum key oseq inner v6", tun: slowGRE(true, 42, true, true), typ: ip6T, l3: rawPacket(t, true, 99)},
		{name: "ip6gre ocsum longest", tun: slowGRE(true, -1, true, false), typ: ip6T, l3: rawPacket(t, true, csumSlowMax-8-40)},
		{name: "ipip fou encap-csum", tun: withSlowUDP(ipipTunnel(), fou, true),
			fou: &tunnel.FOUPort{Port: slowFOUPort, IPProto: 4}, typ: ip4T, l3: icmp4Packet(t, 33)},
		{name: "sit gue encap-csum", tun: withSlowUDP(sitTunnel(tunnel.ModeDefault), gue, true),
			fou: &tunnel.FOUPort{Port: slowGUEPort, GUE: true}, typ: ip6T, l3: udp6Packet(t, 41)},
		{name: "gre fou ocsum encap-csum", tun: withSlowUDP(slowGRE(false, 42, true, false), fou, true),
			fou: &tunnel.FOUPort{Port: slowFOUPort, IPProto: 47}, typ: ip4T, l3: rawPacket(t, false, 33)},
		{name: "gre gue ocsum oseq", tun: withSlowUDP(slowGRE(false, -1, true, true), gue, false),
			fou: &tunnel.FOUPort{Port: slowGUEPort, GUE: true}, typ: ip6T, l3: rawPacket(t, true, 41)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := newDataplane(t, c.tun)
			peer := mirror(c.tun)
			rx := newDataplane(t, peer)
			if c.fou != nil {
				// Both ends listen: the sender's own decap must still
				// not take its packets.
				for _, d := range []*dataplane{tx, rx} {
					if err := d.tables.PutFOU(*c.fou); err != nil {
						t.Fatalf("fou port: %v", err)
					}
				}
			}
			want := append(ethHeader(peer.MAC, peer.PeerMAC, c.typ), c.l3...)
			decap := func(t *testing.T, frame []byte, ret uint32, reason string) {
				t.Helper()
				if err := rx.tables.ResetCounters(peer.ID); err != nil {
					t.Fatal(err)
				}
				dec := rx.run(t, rx.objs.Underlay, frame)
				checkVerdict(t, dec, ret, reason)
				if ret == xdpRedirect {
					checkFrame(t, dec.out, want)
					checkCounters(t, rx.counters(t, peer.ID), maps.Counters{RxPackets: 1, RxBytes: uint64(len(c.l3))})
				} else {
					checkCounters(t, rx.counters(t, peer.ID), maps.Counters{RxDropped: 1})
				}
			}

			var sent [][]byte
			for i := uint32(0); i < 3; i++ {
				enc := runPeer(t, tx, c.tun, c.typ, c.l3, i)
				sent = append(sent, enc.out)
				decap(t, enc.out, xdpRedirect, "decap")
			}
			// The sender's own decap does not take its own packets.
			checkVerdict(t, tx.run(t, tx.objs.Underlay, sent[0]), xdpPass, "pass_no_tunnel")

			if c.tun.OSeq {
				decap(t, sent[1], xdpDrop, "drop_gre_seq") // replayed: older than 3
			}
			if c.tun.OCsum {
				// One inner byte changed on the way: dropped, and the
				// sequence number stays expected (checksum first).
				enc := runPeer(t, tx, c.tun, c.typ, c.l3, 3)
				bad := append([]byte(nil), enc.out...)
				bad[len(bad)-len(c.l3)/2] ^= 0x10
				decap(t, bad, xdpDrop, "drop_gre_csum")
				decap(t, enc.out, xdpRedirect, "decap")
			}
		})
	}
}
