package loader_test

// Bad input for the Ethernet tunnels: headers the fast path does not
// take (passed to the stack untouched), packets of no tunnel, and those
// of a matched tunnel that are dropped and counted on it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

func TestEthDecapBad(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := ethInner{in: inner{}}, ethInner{in: inner{v6: true}}
	gt, vx, vx6 := gretapTunnel(false, -1), vxlanTunnel(false), vxlanTunnel(true)
	gn, gn6, gnAB := geneveTunnel(t, false), geneveTunnel(t, true), geneveTunnel(t, false, optA, optB)
	er1, er2, er6 := erspanTunnel(false, 1), erspanTunnel(false, 2), erspanTunnel(true, 2)
	hdr := func(b []byte) func(*ethWire) { return func(w *ethWire) { w.hdr = b } }
	vxlanWords := func(w0, w1 uint32) []byte {
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w0), w1)
	}
	vni := uint32(testVNI << 8)
	geneve := func(ver, words int, flags byte, opts []byte) func(*ethWire) {
		return hdr(geneveHdr(ver, words, flags, ethPTEB, testVNI, opts))
	}
	// An option of class 0x0102 and type typ whose length field says
	// words, with data bytes of data.
	opt := func(typ byte, words int, data int) []byte {
		return append([]byte{0x01, 0x02, typ, byte(words)}, pattern(data)...)
	}
	erspanGRE := func(proto layers.EthernetType, b []byte) func(*ethWire) {
		return func(w *ethWire) {
			w.gre = &layers.GRE{SeqPresent: true, Seq: wireSeq, Protocol: proto}
			w.hdr = b
		}
	}
	erspanII := func(ver uint8, session uint16) []byte {
		return serialize(t, &layers.ERSPANII{Version: ver, SessionID: session, Index: testIndex})
	}
	erspan3 := func(ver uint8, session uint16) []byte {
		return (&erspanIII{Ver: ver, Session: session, HWID: testHWID}).bytes()
	}
	from := func(a netip.Addr) func(*ethWire) { return func(w *ethWire) { w.src = a } }
	to := func(a netip.Addr) func(*ethWire) { return func(w *ethWire) { w.dst = a } }
	c := func(name string, tun maps.Tunnel, e ethInner, wire func(*ethWire), ret uint32, reason string) ethDecapCase {
		return ethDecapCase{ethCase: ethCase{name: name, tun: tun, e: e, wire: wire}, ret: ret, reason: reason}
	}
	pass, drop := uint32(xdpPass), uint32(xdpDrop)

	cases := []ethDecapCase{
		// VXLAN: the I flag and nothing else (RFC 7348 5: the other bits
		// are reserved; extensions such as GBP are not spoken here).
		c("vxlan i flag clear", vx, v4, hdr(serialize(t, &layers.VXLAN{VNI: testVNI})), pass, "pass_vxlan_flags"),
		c("vxlan no flags, vni 0", with(vx, func(tun *maps.Tunnel) { tun.VNI = 0 }), v4, hdr(vxlanWords(0, 0)), pass, "pass_vxlan_flags"),
		c("vxlan reserved flag bit", vx, v4, hdr(vxlanWords(0x0c000000, vni)), pass, "pass_vxlan_flags"),
		c("vxlan gbp extension", vx, v4, hdr(serialize(t, &layers.VXLAN{ValidIDFlag: true, GBPExtension: true, GBPGroupPolicyID: 9, VNI: testVNI})), pass, "pass_vxlan_flags"),
		c("vxlan reserved bits of the first word", vx, v4, hdr(vxlanWords(0x08000001, vni)), pass, "pass_vxlan_flags"),
		c("vxlan reserved byte after the vni", vx, v4, hdr(vxlanWords(0x08000000, vni|0x01)), pass, "pass_vxlan_flags"),
		c("vxlan6 i flag clear", vx6, v6, hdr(vxlanWords(0, vni)), pass, "pass_vxlan_flags"),
		c("vxlan unknown vni", vx, v4, hdr(serialize(t, &layers.VXLAN{ValidIDFlag: true, VNI: testVNI + 1})), pass, "pass_no_tunnel"),
		c("vxlan6 unknown vni", vx6, v4, hdr(serialize(t, &layers.VXLAN{ValidIDFlag: true, VNI: testVNI ^ 0x800000})), pass, "pass_no_tunnel"),
		c("vxlan unknown remote", vx, v4, from(addrUnknown), pass, "pass_no_tunnel"),
		c("vxlan destination not ours", vx, v4, to(addrUnknown), pass, "pass_no_tunnel"),
		c("vxlan6 unknown remote", vx6, v4, from(addr6Unknown), pass, "pass_no_tunnel"),
		c("vxlan port not open", vx, v4, func(w *ethWire) { w.dport = altVXLANPort }, pass, "pass_not_tunnel"),
		c("vxlan6 zero checksum", vx6, v4, func(w *ethWire) { w.udpCsum = false }, drop, "drop_udp_zero_csum"),
		c("geneve6 zero checksum", gn6, v6, func(w *ethWire) { w.udpCsum = false }, drop, "drop_udp_zero_csum"),
		c("vxlan6 zero checksum, unknown vni", vx6, v4, func(w *ethWire) {
			w.udpCsum, w.hdr = false, serialize(t, &layers.VXLAN{ValidIDFlag: true, VNI: testVNI + 1})
		}, pass, "pass_no_tunnel"),

		// Geneve (RFC 8926): version 0 only; OAM packets are control
		// traffic; options must fit the option area; with none known
		// here, a critical option or the C bit means drop (3.5).
		c("geneve version 1", gn, v4, geneve(1, 0, 0, nil), pass, "pass_geneve_version"),
		c("geneve version 3", gn, v4, geneve(3, 0, 0, nil), pass, "pass_geneve_version"),
		c("geneve oam", gn, v4, geneve(0, 0, 0x80, nil), pass, "pass_geneve_oam"),
		c("geneve oam with options", gnAB, v4, geneve(0, 5, 0x80, geneveOptWire(optA, optB)), pass, "pass_geneve_oam"),
		c("geneve unknown vni", gn, v4, hdr(geneveHdr(0, 0, 0, ethPTEB, testVNI-1, nil)), pass, "pass_no_tunnel"),
		c("geneve option area past the packet", gn, v4, geneve(0, 63, 0, nil), pass, "pass_truncated"),
		c("geneve option overruns the option area", gn, v4, geneve(0, 2, 0, opt(1, 3, 4)), drop, "drop_geneve_optlen"),
		c("geneve option one word over", gn, v4, geneve(0, 3, 0, opt(1, 3, 8)), drop, "drop_geneve_optlen"),
		c("geneve second option overruns", gnAB, v4, geneve(0, 5, 0, append(geneveOptWire(optA), opt(2, 3, 4)...)), drop, "drop_geneve_optlen"),
		c("geneve option of 31 words in 1", gn6, v4, geneve(0, 1, 0, opt(1, 31, 0)), drop, "drop_geneve_optlen"),
		c("geneve critical option with c", gn, v4, geneve(0, 2, 0x40, geneveOptWire(optCrit)), drop, "drop_geneve_critical"),
		c("geneve critical option without c", gn, v4, geneve(0, 2, 0, geneveOptWire(optCrit)), drop, "drop_geneve_critical"),
		c("geneve critical option after others", gnAB, v6, geneve(0, 7, 0x40, geneveOptWire(optA, optB, optCrit)), drop, "drop_geneve_critical"),
		c("geneve6 critical option", gn6, v6, geneve(0, 2, 0x40, geneveOptWire(optCrit)), drop, "drop_geneve_critical"),
		c("geneve c bit without critical options", gnAB, v4, geneve(0, 5, 0x40, geneveOptWire(optA, optB)), drop, "drop_geneve_critical"),
		c("geneve c bit without options", gn, v4, geneve(0, 0, 0x40, nil), drop, "drop_geneve_critical"),
		c("geneve option overrun before a critical one", gn, v4, geneve(0, 2, 0x40, opt(0x80, 2, 4)), drop, "drop_geneve_optlen"),
		c("geneve reserved flag bits ignored", gn, v4, geneve(0, 0, 0x3f, nil), xdpRedirect, "decap"),
		c("geneve option reserved bits ignored", gn, v4, geneve(0, 2, 0, []byte{1, 2, 3, 0xe1, 9, 9, 9, 9}), xdpRedirect, "decap"),
		c("geneve ip to an ethernet tunnel", gn, v4, hdr(geneveHdr(0, 0, 0, layers.EthernetTypeIPv4, testVNI, nil)), drop, "drop_inner_proto"),
		{ethCase: ethCase{name: "geneve frame to an innerprotoinherit tunnel", tun: inheritTunnel(t, false), e: v4, ip: true,
			wire: hdr(geneveHdr(0, 0, 0, ethPTEB, testVNI, nil))}, ret: drop, reason: "drop_inner_proto"},
		{ethCase: ethCase{name: "geneve arp to an innerprotoinherit tunnel", tun: inheritTunnel(t, false), e: v4, ip: true,
			wire: hdr(geneveHdr(0, 0, 0, layers.EthernetTypeARP, testVNI, nil))}, ret: drop, reason: "drop_inner_proto"},
		{ethCase: ethCase{name: "geneve innerprotoinherit ipv4 carrying ipv6", tun: inheritTunnel(t, false), e: v6, ip: true,
			wire: hdr(geneveHdr(0, 0, 0, layers.EthernetTypeIPv4, testVNI, nil))}, ret: drop, reason: "drop_inner_trunc"},

		// ERSPAN: version 1 behind 0x88be, 2 behind 0x22eb; the session ID
		// is what the tunnel is matched on.
		c("erspan version 3", er1, v4, erspanGRE(ethPERSPAN, erspanII(3, testSession)), pass, "pass_erspan_version"),
		c("erspan version 3 behind 0x22eb", er2, v4, erspanGRE(ethPERSPAN2, erspan3(3, testSession)), pass, "pass_erspan_version"),
		c("erspan version 2 behind 0x88be", er2, v4, erspanGRE(ethPERSPAN, erspan3(2, testSession)), pass, "pass_erspan_version"),
		c("erspan version 1 behind 0x22eb", er1, v4, erspanGRE(ethPERSPAN2, erspanII(1, testSession)), pass, "pass_erspan_version"),
		c("erspan version 0", er1, v4, erspanGRE(ethPERSPAN, erspanII(0, testSession)), pass, "pass_erspan_version"),
		c("ip6erspan version 3", er6, v6, erspanGRE(ethPERSPAN2, erspan3(3, testSession)), pass, "pass_erspan_version"),
		// Type I (draft 4.1; erspan_ver 0): GRE without options before the
		// frame itself, which the fast path does not take; a frame whose
		// first bytes read as version 1 and a known session must not be
		// cut (Linux: type I when the GRE header is 4 bytes).
		c("erspan type I", er1, ethInner{dst: net.HardwareAddr{0x10, 0x00, 0x02, 0xa5, 0x00, 0x01}, in: inner{}}, func(w *ethWire) {
			w.gre, w.hdr = &layers.GRE{Protocol: ethPERSPAN}, []byte{}
		}, pass, "pass_erspan_version"),
		c("erspan type II header without sequence number", er1, v4, func(w *ethWire) {
			w.gre = &layers.GRE{Protocol: ethPERSPAN}
		}, pass, "pass_erspan_version"),
		c("erspan unknown session", er1, v4, erspanGRE(ethPERSPAN, erspanII(1, testSession-1)), pass, "pass_no_tunnel"),
		c("erspan v2 unknown session", er2, v4, erspanGRE(ethPERSPAN2, erspan3(2, 0)), pass, "pass_no_tunnel"),
		c("ip6erspan unknown session", er6, v4, erspanGRE(ethPERSPAN2, erspan3(2, 1023)), pass, "pass_no_tunnel"),
		c("erspan unknown remote", er1, v4, from(addrUnknown), pass, "pass_no_tunnel"),
		c("erspan gre checksum, tunnel without icsum", er1, v4, func(w *ethWire) {
			w.gre = &layers.GRE{ChecksumPresent: true, SeqPresent: true, Seq: 1, Protocol: ethPERSPAN}
		}, drop, "drop_gre_csum"),
		c("erspan gre version 1", er1, v4, func(w *ethWire) {
			w.gre = &layers.GRE{Version: 1, SeqPresent: true, Protocol: ethPERSPAN}
		}, pass, "pass_gre_version"),

		// gretap: GRE protocol 0x6558 is part of the match.
		c("gretap frame to a gre tunnel", greTunnel(42), v4, nil, pass, "pass_no_tunnel"),
		c("gretap frame to a keyless gre tunnel", greTunnel(-1), v6, nil, pass, "pass_no_tunnel"),
		c("gre ipv4 to a gretap tunnel", gt, v4, func(w *ethWire) {
			w.gre = &layers.GRE{Protocol: layers.EthernetTypeIPv4}
		}, pass, "pass_no_tunnel"),
		c("gretap key, tunnel has none", gt, v4, func(w *ethWire) {
			w.gre = &layers.GRE{KeyPresent: true, Key: 42, Protocol: ethPTEB}
		}, pass, "pass_no_tunnel"),
		c("gretap wrong key", gretapTunnel(false, 42), v4, func(w *ethWire) {
			w.gre = &layers.GRE{KeyPresent: true, Key: 43, Protocol: ethPTEB}
		}, pass, "pass_no_tunnel"),
		c("gretap csum, tunnel without icsum", gt, v6, func(w *ethWire) {
			w.gre = &layers.GRE{ChecksumPresent: true, Protocol: ethPTEB}
		}, drop, "drop_gre_csum"),
		c("gretap iseq, no sequence number", with(gt, func(tun *maps.Tunnel) { tun.ISeq = true }), v4, nil, drop, "drop_gre_seq"),
		c("ip6gretap unknown remote", gretapTunnel(true, -1), v4, from(addr6Unknown), pass, "pass_no_tunnel"),
	}
	runEthDecap(t, cases)
}

// TestEthDecapShort covers frames behind a matched tunnel's headers that
// are shorter than an Ethernet header.
func TestEthDecapShort(t *testing.T) {
	requireRootForBPF(t)
	for _, tun := range []maps.Tunnel{gretapTunnel(false, -1), vxlanTunnel(false), geneveTunnel(t, true, optA), erspanTunnel(false, 2)} {
		for _, n := range []int{0, 1, 13} {
			t.Run(fmt.Sprintf("%s %d bytes", tun.Type, n), func(t *testing.T) {
				d := ethDataplane(t, tun)
				w := recvWire(tun)
				frame, _ := ethWireFrame(t, tun, w, ethPayload{b: pattern(n), typ: ethPTEB})
				checkEthDecap(t, d, tun, frame, xdpDrop, "drop_inner_trunc", nil, 0)
				if len(frame) < 60 {
					// Padded to the Ethernet minimum: the outer length
					// still says n.
					padded := append(frame, make([]byte, 60-len(frame))...)
					checkEthDecap(t, d, tun, padded, xdpDrop, "drop_inner_trunc", nil, 0)
				}
			})
		}
	}
}

// TestEthDecapPort: VXLAN and Geneve ports are per outer family and
// kind; the last tunnel on a port closes it.
func TestEthDecapPort(t *testing.T) {
	requireRootForBPF(t)
	e := ethInner{in: inner{}}
	vx, vx6 := vxlanTunnel(false), vxlanTunnel(true)

	t.Run("ipv6 packet, port open for ipv4", func(t *testing.T) {
		d := ethDataplane(t, vx)
		frame, _ := ethWireFrame(t, vx6, recvWire(vx6), e.payload(t))
		checkEthDecap(t, d, vx, frame, xdpPass, "pass_not_tunnel", nil, 0)
	})
	t.Run("geneve port taken by vxlan", func(t *testing.T) {
		d := ethDataplane(t, vx)
		if err := d.tables.PutUDPPort(tunnel.VXLANPort, false, tunnel.GENEVE); err == nil {
			t.Errorf("opening VXLAN's port %d for geneve worked; want an error", tunnel.VXLANPort)
		}
		frame, _ := ethWireFrame(t, vx, recvWire(vx), e.payload(t))
		checkEthDecap(t, d, vx, frame, xdpRedirect, "decap", e.bytes(t), len(e.bytes(t)))
	})
	t.Run("port closed", func(t *testing.T) {
		d := ethDataplane(t, vx)
		if err := d.tables.DeleteUDPPort(tunnel.VXLANPort, false); err != nil {
			t.Fatal(err)
		}
		frame, _ := ethWireFrame(t, vx, recvWire(vx), e.payload(t))
		checkEthDecap(t, d, vx, frame, xdpPass, "pass_not_tunnel", nil, 0)
	})
	t.Run("fou port is not vxlan", func(t *testing.T) {
		d := newDataplane(t, vx)
		if err := d.tables.PutFOU(tunnel.FOUPort{Port: tunnel.VXLANPort, IPProto: 4}); err != nil {
			t.Fatal(err)
		}
		frame, _ := ethWireFrame(t, vx, recvWire(vx), e.payload(t))
		// FOU: the VXLAN header is read as an IPv4 header, no tunnel has it.
		checkEthDecap(t, d, vx, frame, xdpPass, "pass_no_tunnel", nil, 0)
	})
}

type ethTruncBase struct {
	name string
	tun  maps.Tunnel
	e    ethInner
	wire func(*ethWire)
}

func ethTruncBases(t *testing.T) []ethTruncBase {
	v4, v6 := ethInner{in: inner{}}, ethInner{in: inner{v6: true}}
	return []ethTruncBase{
		{name: "gretap key", tun: gretapTunnel(false, 42), e: v4},
		{name: "ip6gretap", tun: gretapTunnel(true, -1), e: v6},
		{name: "vxlan", tun: vxlanTunnel(false), e: v4},
		{name: "vxlan6", tun: vxlanTunnel(true), e: v6},
		{name: "geneve options", tun: geneveTunnel(t, false, optA, optB), e: v4},
		{name: "geneve6 options", tun: geneveTunnel(t, true, optB), e: v4},
		{name: "geneve innerprotoinherit", tun: inheritTunnel(t, false, optA), e: v6},
		{name: "erspan v1", tun: erspanTunnel(false, 1), e: v4},
		{name: "erspan v2", tun: erspanTunnel(false, 2), e: v6},
		{name: "erspan v2 platform subheader", tun: erspanTunnel(false, 2), e: v4, wire: func(w *ethWire) {
			w.hdr = (&erspanIII{Ver: 2, Session: testSession, O: true, Platform: pattern(8)}).bytes()
		}},
		{name: "ip6erspan v1", tun: erspanTunnel(true, 1), e: v4},
		{name: "ip6erspan v2", tun: erspanTunnel(true, 2), e: v4},
	}
}

// TestEthDecapTruncated cuts valid frames of each tunnel at every length
// from an Ethernet header up, as TestDecapTruncated does. "plain" keeps
// the outer lengths, which then exceed the frame: always pass_truncated.
// "consistent" rewrites the outer IP (and UDP) lengths to the cut: a cut
// in the outer, UDP, GRE, VXLAN, Geneve (options included) or ERSPAN
// headers is pass_truncated, one in the carried frame (or IP packet)
// drop_inner_trunc on the matched tunnel. No cut is ever redirected.
func TestEthDecapTruncated(t *testing.T) {
	requireRootForBPF(t)
	for _, b := range ethTruncBases(t) {
		for _, consistent := range []bool{false, true} {
			name := b.name + " plain"
			if consistent {
				name = b.name + " consistent"
			}
			t.Run(name, func(t *testing.T) {
				d := ethDataplane(t, b.tun)
				w := recvWire(b.tun)
				if b.wire != nil {
					b.wire(&w)
				}
				p := b.e.payload(t)
				if b.tun.InnerProtoInherit {
					p = ethPayload{b: b.e.in.bytes(t), typ: b.e.in.etherType()}
				}
				frame, l := ethWireFrame(t, b.tun, w, p)
				udp := isUDPType(b.tun)
				drops := uint64(0)
				for n := 0; n < len(frame); n++ {
					cut := append([]byte(nil), frame[:n]...)
					if consistent && n >= l.l4 {
						if b.tun.Outer6() {
							binary.BigEndian.PutUint16(cut[14+4:], uint16(n-14-40))
						} else {
							binary.BigEndian.PutUint16(cut[14+2:], uint16(n-14))
							fixIPv4Checksum(cut, 14)
						}
						if udp && n >= l.l4+8 {
							binary.BigEndian.PutUint16(cut[l.l4+4:], uint16(n-l.l4))
						}
					}
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
					want, wantRet := "pass_truncated", uint32(xdpPass)
					if consistent && n >= l.inner {
						want, wantRet = "drop_inner_trunc", xdpDrop
						drops++
					}
					if res.ret == xdpRedirect {
						t.Errorf("len %d of %d: redirected a truncated frame (reasons %v)\ninput %x", n, len(frame), res.moved, cut)
						continue
					}
					if res.ret != wantRet || len(res.moved) != 1 || res.moved[want] != 1 {
						t.Errorf("len %d of %d (inner at %d): verdict %d, reasons %v; want %d, %s\ninput %x",
							n, len(frame), l.inner, res.ret, res.moved, wantRet, want, cut)
					}
				}
				checkCounters(t, d.counters(t, b.tun.ID), maps.Counters{RxDropped: drops})
			})
		}
	}
}

// TestEthEncapDrop covers what the TC programs refuse to send on an
// Ethernet tunnel.
func TestEthEncapDrop(t *testing.T) {
	requireRootForBPF(t)
	arp := ethInner{dst: broadcast, arp: true}
	mpls := inner{mpls: true}
	cases := []struct {
		name   string
		tun    maps.Tunnel
		frame  func(t *testing.T) []byte
		ctx    skbCtx
		reason string
	}{
		{name: "innerprotoinherit arp", tun: inheritTunnel(t, false), frame: arp.bytes, reason: "tx_not_ip"},
		{name: "innerprotoinherit mpls", tun: inheritTunnel(t, false), reason: "tx_inner_family", frame: func(t *testing.T) []byte {
			return ethFrame(t, wireDstMAC, wireSrcMAC, mpls.etherType(), mpls.bytes(t))
		}},
		{name: "innerprotoinherit frame shorter than an ipv4 header", tun: inheritTunnel(t, true), reason: "tx_truncated", frame: func(t *testing.T) []byte {
			return ethHeader(wireDstMAC, wireSrcMAC, layers.EthernetTypeMPLSUnicast)
		}},
		{name: "gretap vlan tag cut", tun: gretapTunnel(false, -1), reason: "tx_truncated", frame: func(t *testing.T) []byte {
			return append(ethHeader(innerDstMAC, innerSrcMAC, layers.EthernetTypeDot1Q), 0x00, 0x64)
		}},
		{name: "vxlan qinq tag cut", tun: vxlanTunnel(false), reason: "tx_truncated", frame: func(t *testing.T) []byte {
			return append(ethHeader(innerDstMAC, innerSrcMAC, layers.EthernetTypeQinQ), 0x00)
		}},
		// Segmentation offload cannot follow bpf_skb_change_head.
		{name: "gretap gso arp", tun: gretapTunnel(false, -1), frame: arp.bytes, ctx: skbCtx{GSOSegs: 2}, reason: "tx_gso_non_ip"},
		{name: "vxlan gso vlan tagged", tun: vxlanTunnel(false), ctx: skbCtx{GSOSegs: 3}, reason: "tx_gso_non_ip",
			frame: ethInner{vlan: 100, in: inner{}}.bytes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ethDataplane(t, c.tun)
			prog := d.objs.Encap
			if maps.SlowTX(c.tun.Spec) {
				prog = d.objs.Peer
			}
			res := d.runCtx(t, prog, c.frame(t), c.ctx)
			checkVerdict(t, res, tcShot, c.reason)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxDropped: 1})
		})
	}
}

// TestEthEncapMTU: a frame goes when it and the outer headers fit the
// underlay MTU, which makes the overlay MTU the underlay's less
// Spec.Overhead() (gretap 1462, vxlan 1450 over 1500). One byte more is
// dropped as tx_too_big without an ICMP error: a frame is no IP packet of
// the tunnel's. Geneve innerprotoinherit carries IP: an inner IPv6 packet
// gets a packet too big back, an inner IPv4 one with DF a fragmentation
// needed, unless df unset (the default) says to ignore the inner DF: then
// it is tx_too_big too (Linux would fragment the outer packet; there is
// no slow path here that could).
func TestEthEncapMTU(t *testing.T) {
	requireRootForBPF(t)
	u := newUnderlay(t, 1500)
	// big's packets: IPv4 TOS 0x2a (ECT(0)) with DF, IPv6 traffic class 0x28.
	v4, v6 := inner{tos: 0x2a, df: true}, inner{v6: true, tos: 0x28}
	dfSet := func(tun maps.Tunnel) maps.Tunnel { tun.DF = tunnel.DFSet; return tun }
	const tooBig, icmp4, icmp6 = "tx_too_big", "icmp4", "icmp6"
	for _, c := range []struct {
		tun  maps.Tunnel
		in   inner
		ip   bool
		over string // what one byte more gives
	}{
		{tun: gretapTunnel(false, 42), in: v4, over: tooBig},
		{tun: gretapTunnel(true, -1), in: v6, over: tooBig},
		{tun: with(gretapTunnel(false, -1), func(tun *maps.Tunnel) { tun.OCsum, tun.OSeq = true, true }), in: v6, over: tooBig},
		{tun: vxlanTunnel(false), in: v4, over: tooBig},
		{tun: dfSet(vxlanTunnel(false)), in: v4, over: tooBig},
		{tun: vxlanTunnel(true), in: v6, over: tooBig},
		{tun: geneveTunnel(t, false, optA, optB), in: v6, over: tooBig},
		{tun: geneveTunnel(t, true, optBig), in: v4, over: tooBig},
		{tun: inheritTunnel(t, false, optA), in: v4, ip: true, over: tooBig},
		{tun: dfSet(inheritTunnel(t, false, optA)), in: v4, ip: true, over: icmp4},
		{tun: inheritTunnel(t, false), in: v6, ip: true, over: icmp6},
		{tun: inheritTunnel(t, true), in: v6, ip: true, over: icmp6},
		{tun: erspanTunnel(false, 1), in: v4, over: tooBig},
		{tun: erspanTunnel(false, 2), in: v6, over: tooBig},
		{tun: erspanTunnel(true, 2), in: v4, over: tooBig},
	} {
		tun := u.onLink(t, c.tun, 1500)
		fit := 1500 - tun.Overhead()
		name := fmt.Sprintf("%s outer6=%v opts=%d df=%s inherit=%v inner v6=%v", tun.Type, tun.Outer6(), len(tun.GeneveOpts),
			tun.DF, c.ip, c.in.v6)
		t.Run(name+" fits", func(t *testing.T) {
			d := ethDataplane(t, tun)
			e := ethInner{in: c.in, l3: big{v6: c.in.v6, size: fit}.bytes(t)}
			u.in(t, func() {
				out := checkEthEncap(t, d, ethCase{tun: tun, e: e, ip: c.ip, wire: func(w *ethWire) { w.tos = c.in.tos & 3 }})
				if len(out) != 1500+14 {
					t.Errorf("encapsulated frame of %d bytes, want the underlay MTU 1500 and 14 of Ethernet", len(out))
				}
			})
		})
		t.Run(name+" one byte too big", func(t *testing.T) {
			d := ethDataplane(t, tun)
			l3 := big{v6: c.in.v6, size: fit + 1}.bytes(t)
			frame := ethFrame(t, innerDstMAC, innerSrcMAC, c.in.etherType(), l3)
			if c.ip {
				frame = ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3)
			}
			var res result
			u.in(t, func() {
				prog := d.objs.Encap
				if maps.SlowTX(tun.Spec) {
					prog = d.objs.Peer
				}
				res = d.run(t, prog, frame)
			})
			switch c.over {
			case tooBig:
				checkVerdict(t, res, tcShot, "tx_too_big")
				checkFrame(t, res.out, frame)
			case icmp6:
				checkVerdict(t, res, tcRedirect, "tx_pmtu_icmp")
				checkFrame(t, res.out, packetTooBig(t, tun, l3, uint32(fit)))
			case icmp4:
				checkVerdict(t, res, tcRedirect, "tx_pmtu_icmp")
				var id uint16
				if len(res.out) >= 14+20 {
					id = binary.BigEndian.Uint16(res.out[14+4:]) // random, as without DF
				}
				checkFrame(t, res.out, fragNeeded(t, tun, l3, 0xc8, id, uint16(fit)))
			}
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
		})
	}
}

// TestEthDecapOuterVLAN: the underlay frame may carry up to two VLAN
// tags (802.1Q, 802.1ad) in front of the outer IP header; decap strips
// them with the outer headers. A third is not walked.
func TestEthDecapOuterVLAN(t *testing.T) {
	requireRootForBPF(t)
	tag := func(tpid uint16, vid uint16) []byte {
		return []byte{byte(tpid >> 8), byte(tpid), byte(vid >> 8), byte(vid)}
	}
	for _, tun := range []maps.Tunnel{gretapTunnel(false, -1), vxlanTunnel(true), geneveTunnel(t, false, optA), erspanTunnel(false, 2)} {
		for _, c := range []struct {
			name   string
			tags   [][]byte
			ret    uint32
			reason string
		}{
			{"802.1q", [][]byte{tag(0x8100, 100)}, xdpRedirect, "decap"},
			{"802.1ad 802.1q", [][]byte{tag(0x88a8, 10), tag(0x8100, 100)}, xdpRedirect, "decap"},
			{"three tags", [][]byte{tag(0x88a8, 10), tag(0x8100, 100), tag(0x8100, 200)}, xdpPass, "pass_not_ip"},
		} {
			t.Run(fmt.Sprintf("%s %s", tun.Type, c.name), func(t *testing.T) {
				d := ethDataplane(t, tun)
				e := ethInner{in: inner{v6: tun.Outer6()}}
				plain, _ := ethWireFrame(t, tun, recvWire(tun), e.payload(t))
				frame := append([]byte(nil), plain[:12]...)
				for _, tg := range c.tags {
					frame = append(frame, tg...)
				}
				frame = append(frame, plain[12:]...)
				want := e.bytes(t)
				checkEthDecap(t, d, tun, frame, c.ret, c.reason, want, len(want))
			})
		}
	}
}
