package loader_test

// Ethernet tunnels: gretap and ip6gretap (an Ethernet frame in GRE,
// protocol 0x6558), vxlan (RFC 7348), geneve (RFC 8926; with
// innerprotoinherit an IP packet instead of a frame) and erspan /
// ip6erspan (GRE and an ERSPAN type II or III header,
// draft-foschiano-erspan-03). Decap by the XDP program; encap by
// xt_tc_encap, or by xt_tc_peer for a tunnel on the slow TX path (ERSPAN
// always, for its GRE sequence numbers; gretap with csum or seq; vxlan and
// geneve with UDP checksums, which IPv6 underlays send unless
// udp6zerocsumtx).
//
// Expected packets are built here with gopacket (layers.GRE, layers.UDP,
// layers.VXLAN, layers.ERSPANII) and, where gopacket 1.1.19 cannot
// serialize a header (Geneve, ERSPAN type III), from the RFC's and the
// draft's layouts by hand. Never with the code under test.

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

const (
	testVNI      = 0x5a17c3 // no byte 0, no two alike
	testSession  = 0x2a5    // ERSPAN session ID: 10 bits, the top ones set
	testIndex    = 0xabcde  // ERSPAN type II index: 20 bits
	testHWID     = 0x2b     // ERSPAN type III hardware ID: 6 bits
	ethPTEB      = layers.EthernetTypeTransparentEthernetBridging
	ethPERSPAN   = layers.EthernetTypeERSPAN // 0x88be: type II
	ethPERSPAN2  = layers.EthernetType(0x22eb)
	altVXLANPort = 8472 // a dstport other than the default
	wireSeq      = 7    // GRE sequence number of received ERSPAN packets
	sportLow     = 32768
	sportHigh    = 60999
)

var (
	// Addresses inside the frames the tunnels carry.
	innerDstMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0e, 0x01}
	innerSrcMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0e, 0x02}
	broadcast   = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	// Geneve options: two plain ones, a critical one (type bit 0x80), and
	// one of 64 bytes with its header, as many as the dataplane sends.
	optA    = tunnel.GeneveOpt{Class: 0x0102, Type: 0x03, Data: []byte{0xde, 0xad, 0xbe, 0xef}}
	optB    = tunnel.GeneveOpt{Class: 0xffff, Type: 0x7f, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	optCrit = tunnel.GeneveOpt{Class: 0x0104, Type: 0x85, Data: []byte{0, 0, 0, 42}}
	optBig  = tunnel.GeneveOpt{Class: 0x0105, Type: 0x01, Data: pattern(60)}
)

// ends are the underlay addresses of a tunnel over IPv4 or IPv6.
func ends(v6 bool) (local, remote netip.Addr) {
	if v6 {
		return addr6Local, addr6Remote
	}
	return addrLocal, addrRemote
}

// gretapTunnel is a gretap (or ip6gretap) tunnel; key < 0 means none.
func gretapTunnel(v6 bool, key int64) maps.Tunnel {
	typ := tunnel.GRETAP
	if v6 {
		typ = tunnel.IP6GRETAP
	}
	local, remote := ends(v6)
	tun := newTunnel(typ, local, remote)
	if key >= 0 {
		tun.IKey = tunnel.Key{Set: true, Value: uint32(key)}
		tun.OKey = tun.IKey
	}
	return tun
}

// vxlanTunnel is a vxlan tunnel with VNI testVNI on the default port.
func vxlanTunnel(v6 bool) maps.Tunnel {
	local, remote := ends(v6)
	tun := newTunnel(tunnel.VXLAN, local, remote)
	tun.VNI, tun.DstPort = testVNI, tunnel.VXLANPort
	return tun
}

// geneveTunnel is a geneve tunnel with VNI testVNI on the default port,
// sending opts.
func geneveTunnel(t *testing.T, v6 bool, opts ...tunnel.GeneveOpt) maps.Tunnel {
	t.Helper()
	local, remote := ends(v6)
	tun := newTunnel(tunnel.GENEVE, local, remote)
	tun.VNI, tun.DstPort = testVNI, tunnel.GenevePort
	if len(opts) > 0 {
		s, err := tunnel.EncodeGeneveOpts(opts...)
		if err != nil {
			t.Fatalf("encode geneve options: %v", err)
		}
		if want := geneveOptWire(opts...); s != string(want) {
			t.Fatalf("EncodeGeneveOpts = %x, want %x (RFC 8926 3.5)", s, want)
		}
		tun.GeneveOpts = s
	}
	return tun
}

// inheritTunnel is a geneve tunnel with innerprotoinherit.
func inheritTunnel(t *testing.T, v6 bool, opts ...tunnel.GeneveOpt) maps.Tunnel {
	tun := geneveTunnel(t, v6, opts...)
	tun.InnerProtoInherit = true
	return tun
}

// erspanTunnel is an erspan (or ip6erspan) tunnel of session testSession:
// type II (ver 1) with index testIndex, or type III (ver 2), egress,
// hardware ID testHWID.
func erspanTunnel(v6 bool, ver uint8) maps.Tunnel {
	typ := tunnel.ERSPAN
	if v6 {
		typ = tunnel.IP6ERSPAN
	}
	local, remote := ends(v6)
	tun := newTunnel(typ, local, remote)
	tun.IKey = tunnel.Key{Set: true, Value: testSession}
	tun.OKey = tun.IKey
	tun.OSeq = true
	tun.ERSPANVer = ver
	if ver == 1 {
		tun.ERSPANIndex = testIndex
	} else {
		tun.ERSPANDir, tun.ERSPANHWID = tunnel.DirEgress, testHWID
	}
	return tun
}

func isUDPType(tun maps.Tunnel) bool { return tun.Type == tunnel.VXLAN || tun.Type == tunnel.GENEVE }

func isERSPAN(tun maps.Tunnel) bool {
	return tun.Type == tunnel.ERSPAN || tun.Type == tunnel.IP6ERSPAN
}

// geneveOptWire is opts as RFC 8926 3.5 lays them out: class (16 bits),
// type (8), three reserved bits and the data length in 4-byte words (5),
// then the data.
func geneveOptWire(opts ...tunnel.GeneveOpt) []byte {
	var b []byte
	for _, o := range opts {
		b = append(b, byte(o.Class>>8), byte(o.Class), o.Type, byte(len(o.Data)/4))
		b = append(b, o.Data...)
	}
	return b
}

// geneveHdr is a Geneve header (RFC 8926 3.4): version (2 bits), option
// length in 4-byte words (6), O (0x80) and C (0x40) in flags, protocol
// type, VNI (24 bits) and a reserved byte, then the options.
func geneveHdr(ver, optWords int, flags byte, proto layers.EthernetType, vni uint32, opts []byte) []byte {
	b := []byte{byte(ver<<6 | optWords), flags, byte(proto >> 8), byte(proto),
		byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
	return append(b, opts...)
}

// geneveHdrOf is the header tun sends: version 0, its options verbatim, C
// set when one of them is critical (high bit of its type).
func geneveHdrOf(tun maps.Tunnel, proto layers.EthernetType) []byte {
	opts := []byte(tun.GeneveOpts)
	var flags byte
	for o := opts; len(o) >= 4; {
		if o[2]&0x80 != 0 {
			flags |= 0x40
		}
		n := 4 + 4*int(o[3]&0x1f)
		if n > len(o) {
			break
		}
		o = o[n:]
	}
	return geneveHdr(0, len(opts)/4, flags, proto, tun.VNI, opts)
}

// erspanIII is an ERSPAN type III header (draft-foschiano-erspan-03 4.3):
//
//	Ver(4) VLAN(12) COS(3) BSO(2) T(1) Session ID(10)
//	Timestamp(32)
//	SGT(16) P(1) FT(5) Hw ID(6) D(1) Gra(2) O(1)
//	the platform specific subheader (8 bytes) when O
//
// gopacket has no such layer: the test registers this one for GRE
// protocol 0x22eb, so that describe() shows its fields.
type erspanIII struct {
	layers.BaseLayer
	Ver       uint8
	VLAN      uint16
	COS, BSO  uint8
	T         bool
	Session   uint16
	Timestamp uint32
	SGT       uint16
	P         bool
	FT, HWID  uint8
	D         bool
	Gra       uint8
	O         bool
	Platform  []byte
}

var layerTypeERSPANIII = gopacket.RegisterLayerType(3001, gopacket.LayerTypeMetadata{
	Name: "ERSPANIII", Decoder: gopacket.DecodeFunc(decodeERSPANIII),
})

func init() {
	layers.EthernetTypeMetadata[ethPERSPAN2] = layers.EnumMetadata{
		DecodeWith: gopacket.DecodeFunc(decodeERSPANIII), Name: "ERSPAN Type III", LayerType: layerTypeERSPANIII,
	}
}

func (e *erspanIII) LayerType() gopacket.LayerType { return layerTypeERSPANIII }

func bit(v uint32, at uint) bool { return v>>at&1 != 0 }

func flag(b bool, at uint) uint32 {
	if b {
		return 1 << at
	}
	return 0
}

func (e *erspanIII) decode(b []byte) error {
	if len(b) < 12 {
		return errors.New("ERSPAN type III header cut")
	}
	w0, w2 := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[8:])
	*e = erspanIII{
		Ver: uint8(w0 >> 28), VLAN: uint16(w0>>16) & 0xfff, COS: uint8(w0>>13) & 7, BSO: uint8(w0>>11) & 3,
		T: bit(w0, 10), Session: uint16(w0 & 0x3ff), Timestamp: binary.BigEndian.Uint32(b[4:]),
		SGT: uint16(w2 >> 16), P: bit(w2, 15), FT: uint8(w2>>10) & 0x1f, HWID: uint8(w2>>4) & 0x3f,
		D: bit(w2, 3), Gra: uint8(w2>>1) & 3, O: bit(w2, 0),
	}
	n := 12
	if e.O {
		if len(b) < 20 {
			return errors.New("ERSPAN type III platform subheader cut")
		}
		e.Platform = b[12:20]
		n = 20
	}
	e.Contents, e.Payload = b[:n], b[n:]
	return nil
}

func (e *erspanIII) bytes() []byte {
	w0 := uint32(e.Ver&0xf)<<28 | uint32(e.VLAN&0xfff)<<16 | uint32(e.COS&7)<<13 | uint32(e.BSO&3)<<11 |
		flag(e.T, 10) | uint32(e.Session&0x3ff)
	w2 := uint32(e.SGT)<<16 | flag(e.P, 15) | uint32(e.FT&0x1f)<<10 | uint32(e.HWID&0x3f)<<4 |
		flag(e.D, 3) | uint32(e.Gra&3)<<1 | flag(e.O, 0)
	b := binary.BigEndian.AppendUint32(nil, w0)
	b = binary.BigEndian.AppendUint32(b, e.Timestamp)
	b = binary.BigEndian.AppendUint32(b, w2)
	if e.O {
		b = append(b, e.Platform...)
	}
	return b
}

type layerField struct {
	name string
	v    any
}

func (e *erspanIII) fields() []layerField {
	return []layerField{
		{"Ver", e.Ver}, {"VLAN", e.VLAN}, {"COS", e.COS}, {"BSO", e.BSO}, {"T", e.T},
		{"Session", e.Session}, {"Timestamp", e.Timestamp}, {"SGT", e.SGT}, {"P", e.P}, {"FT", e.FT},
		{"HWID", e.HWID}, {"D", e.D}, {"Gra", e.Gra}, {"O", e.O}, {"Platform", hex.EncodeToString(e.Platform)},
	}
}

func decodeERSPANIII(data []byte, p gopacket.PacketBuilder) error {
	e := &erspanIII{}
	if err := e.decode(data); err != nil {
		return err
	}
	p.AddLayer(e)
	return p.NextDecoder(layers.LayerTypeEthernet)
}

// ethInner is an Ethernet frame an Ethernet tunnel carries.
type ethInner struct {
	dst, src net.HardwareAddr // nil: innerDstMAC, innerSrcMAC
	vlan     uint16           // TCI of an in-line 802.1Q tag; 0: untagged
	arp      bool             // an ARP request instead of the IP packet in
	in       inner
	l3       []byte // the IP packet (of in's ethertype) instead of in's bytes
}

// ip is the IP packet e carries.
func (e ethInner) ip(t *testing.T) []byte {
	t.Helper()
	if e.l3 != nil {
		return e.l3
	}
	return e.in.bytes(t)
}

func (e ethInner) macs() (dst, src net.HardwareAddr) {
	dst, src = innerDstMAC, innerSrcMAC
	if e.dst != nil {
		dst = e.dst
	}
	if e.src != nil {
		src = e.src
	}
	return dst, src
}

// arpRequest is who-has 10.9.0.2 tell 10.9.0.1 from src.
func arpRequest(src net.HardwareAddr) *layers.ARP {
	return &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: src, SourceProtAddress: net.IPv4(10, 9, 0, 1).To4(),
		DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: net.IPv4(10, 9, 0, 2).To4(),
	}
}

// bytes is the frame; an ARP frame is padded to 60 bytes, as sent.
func (e ethInner) bytes(t *testing.T) []byte {
	t.Helper()
	dst, src := e.macs()
	typ := e.in.etherType()
	var l3 gopacket.SerializableLayer
	if e.arp {
		typ, l3 = layers.EthernetTypeARP, arpRequest(src)
	} else {
		l3 = gopacket.Payload(e.ip(t))
	}
	if e.vlan == 0 {
		return serialize(t, &layers.Ethernet{DstMAC: dst, SrcMAC: src, EthernetType: typ}, l3)
	}
	return serialize(t, &layers.Ethernet{DstMAC: dst, SrcMAC: src, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{Priority: uint8(e.vlan >> 13), DropEligible: e.vlan&0x1000 != 0, VLANIdentifier: e.vlan & 0xfff, Type: typ}, l3)
}

// ethPayload is what an Ethernet tunnel carries behind its headers: a
// frame, or (geneve innerprotoinherit) an IP packet.
type ethPayload struct {
	b   []byte
	typ layers.EthernetType // Geneve protocol type: 0x6558 for a frame
	// What an ERSPAN header says of the frame: VLAN ID, class of service
	// and (type II) encapsulation type. A tagged frame keeps its tag
	// (En 3, "VLAN tag preserved in frame") and gives its priority as the
	// class of service; an untagged IP frame gives the IP precedence.
	vlan uint16
	cos  uint8
	en   uint8
}

func (e ethInner) payload(t *testing.T) ethPayload {
	t.Helper()
	p := ethPayload{b: e.bytes(t), typ: ethPTEB}
	switch {
	case e.vlan != 0:
		p.vlan, p.cos, p.en = e.vlan&0xfff, uint8(e.vlan>>13), 3
	case !e.arp:
		p.cos = e.in.tos >> 5
	}
	return p
}

// ethWire is one packet of an Ethernet tunnel on the wire: what the TC
// programs must send, or what the XDP program receives.
type ethWire struct {
	src, dst       netip.Addr // outer addresses
	ethDst, ethSrc net.HardwareAddr
	tos, ttl       uint8
	df             bool
	id             uint16 // IPv4 Id
	flow           uint32 // IPv6 flow label
	limit          int    // IPv6: encapsulation limit option with this value; -1: none
	sport, dport   uint16 // UDP ports
	udpCsum        bool   // the UDP checksum is filled in; else 0
	seq            uint32 // GRE sequence number, when the tunnel sends them
	ts             uint32 // ERSPAN type III timestamp
	gre            *layers.GRE
	hdr            []byte // replaces the VXLAN, Geneve or ERSPAN header the tunnel sends
}

// ethLayout is where the headers of a tunnel packet are.
type ethLayout struct {
	l4    int // UDP or GRE header
	hdr   int // VXLAN, Geneve or ERSPAN header; -1 for gretap
	inner int // the payload
}

// sendWire is what tun must send: from its local address to its remote,
// TTL and TOS as set (newTunnel: 64 and 0, the inner ECN copied), DF on
// IPv4 for GRE types (pmtudisc) and for vxlan/geneve with df set, the
// encapsulation limit option on ip6gretap and ip6erspan, UDP checksums
// with udpcsum over IPv4 and unless udp6zerocsumtx over IPv6.
func sendWire(tun maps.Tunnel) ethWire {
	w := ethWire{
		src: tun.Local, dst: tun.Remote, ethDst: tun.MAC, ethSrc: tun.PeerMAC,
		ttl: tun.TTL, limit: -1, dport: tun.DstPort,
		udpCsum: tun.UDPCsum || (tun.Outer6() && !tun.UDP6ZeroCsumTx),
	}
	if on, limit := tun.EncapLimitOn(); on {
		w.limit = int(limit)
	}
	if !tun.Outer6() {
		if tun.Type.IsGRE() {
			w.df = !tun.NoPMTUDisc
		} else {
			w.df = tun.DF == tunnel.DFSet
		}
	}
	return w
}

// recvWire is what tun's remote sends it: TTL 62, DF over IPv4, UDP
// checksums over IPv6, the encapsulation limit where Linux sends it.
func recvWire(tun maps.Tunnel) ethWire {
	w := ethWire{
		src: tun.Remote, dst: tun.Local, ethDst: wireDstMAC, ethSrc: wireSrcMAC,
		ttl: 62, df: !tun.Outer6(), limit: -1, sport: fouWireSPort, dport: tun.DstPort,
		udpCsum: tun.Outer6(), seq: wireSeq,
	}
	if on, limit := tun.EncapLimitOn(); on {
		w.limit = int(limit)
	}
	return w
}

// ethWireFrame builds packet w of tun around p.
func ethWireFrame(t *testing.T, tun maps.Tunnel, w ethWire, p ethPayload) ([]byte, ethLayout) {
	t.Helper()
	udp := isUDPType(tun)
	l4 := layers.IPProtocolGRE
	if udp {
		l4 = layers.IPProtocolUDP
	}
	var (
		ls []gopacket.SerializableLayer
		nl gopacket.NetworkLayer
		l  = ethLayout{hdr: -1}
	)
	if tun.Outer6() {
		ip6 := &layers.IPv6{
			Version: 6, TrafficClass: w.tos, FlowLabel: w.flow, HopLimit: w.ttl,
			NextHeader: l4, SrcIP: ip(w.src), DstIP: ip(w.dst),
		}
		ls = append(ls, &layers.Ethernet{DstMAC: w.ethDst, SrcMAC: w.ethSrc, EthernetType: layers.EthernetTypeIPv6}, ip6)
		nl, l.l4 = ip6, 14+40
		if w.limit >= 0 {
			ip6.NextHeader = layers.IPProtocolIPv6Destination
			ls = append(ls, encapLimitOpt(uint8(w.limit), l4))
			l.l4 += 8
		}
	} else {
		ip4 := &layers.IPv4{
			Version: 4, IHL: 5, TOS: w.tos, Id: w.id, TTL: w.ttl,
			Protocol: l4, SrcIP: ip(w.src), DstIP: ip(w.dst),
		}
		if w.df {
			ip4.Flags = layers.IPv4DontFragment
		}
		ls = append(ls, &layers.Ethernet{DstMAC: w.ethDst, SrcMAC: w.ethSrc, EthernetType: layers.EthernetTypeIPv4}, ip4)
		nl, l.l4 = ip4, 14+20
	}
	hdr := w.hdr
	if udp {
		u := &layers.UDP{SrcPort: layers.UDPPort(w.sport), DstPort: layers.UDPPort(w.dport)}
		if err := u.SetNetworkLayerForChecksum(nl); err != nil {
			t.Fatal(err)
		}
		if hdr == nil {
			if tun.Type == tunnel.VXLAN {
				hdr = serialize(t, &layers.VXLAN{ValidIDFlag: true, VNI: tun.VNI})
			} else {
				hdr = geneveHdrOf(tun, p.typ)
			}
		}
		ls = append(ls, u)
		l.hdr = l.l4 + 8
		l.inner = l.hdr + len(hdr)
	} else {
		var g layers.GRE
		if w.gre != nil {
			g = *w.gre
		} else {
			g = layers.GRE{ChecksumPresent: tun.OCsum, KeyPresent: tun.OKey.Set, Key: tun.OKey.Value,
				SeqPresent: tun.OSeq, Seq: w.seq, Protocol: ethPTEB}
			if isERSPAN(tun) {
				// Sequence numbers, never a key: the session ID is in
				// the ERSPAN header.
				g = layers.GRE{SeqPresent: true, Seq: w.seq, Protocol: ethPERSPAN}
				if tun.ERSPANVer == 2 {
					g.Protocol = ethPERSPAN2
				}
			}
		}
		ls = append(ls, &g)
		off := l.l4 + greHdrLen(g)
		if isERSPAN(tun) {
			if hdr == nil {
				hdr = erspanHdrOf(t, tun, p, w.ts)
			}
			l.hdr = off
		}
		l.inner = off + len(hdr)
	}
	if len(hdr) > 0 {
		ls = append(ls, gopacket.Payload(hdr))
	}
	b := serialize(t, append(ls, gopacket.Payload(p.b))...)
	if n := l.inner + len(p.b); n < 60 && len(b) == 60 {
		b = b[:n] // gopacket's padding to the Ethernet minimum
	}
	if len(b) != l.inner+len(p.b) {
		t.Fatalf("tunnel frame of %d bytes, want %d", len(b), l.inner+len(p.b))
	}
	if udp {
		switch off := l.l4 + 6; {
		case !w.udpCsum:
			binary.BigEndian.PutUint16(b[off:], 0)
		case binary.BigEndian.Uint16(b[off:]) == 0:
			binary.BigEndian.PutUint16(b[off:], 0xffff) // RFC 768
		}
	}
	return b, l
}

// erspanHdrOf is the ERSPAN header tun sends for p: type II (version 1:
// VLAN, COS, En, T 0, session ID, index) with gopacket; type III (version
// 2: VLAN, COS, BSO 0, T 0, session ID, timestamp ts, SGT 0, P 0, FT 0
// (Ethernet), hardware ID, direction, granularity 0 (100 us), O 0).
func erspanHdrOf(t *testing.T, tun maps.Tunnel, p ethPayload, ts uint32) []byte {
	t.Helper()
	session := uint16(tun.OKey.Value)
	if tun.ERSPANVer == 2 {
		h := erspanIII{Ver: 2, VLAN: p.vlan, COS: p.cos, Session: session, Timestamp: ts,
			HWID: tun.ERSPANHWID, D: tun.ERSPANDir == tunnel.DirEgress}
		return h.bytes()
	}
	return serialize(t, &layers.ERSPANII{Version: 1, VLANIdentifier: p.vlan, CoS: p.cos,
		TrunkEncap: p.en, SessionID: session, Index: tun.ERSPANIndex})
}

// ethLayoutOf is where the headers of what tun sends are.
func ethLayoutOf(tun maps.Tunnel) ethLayout {
	l := ethLayout{l4: 14 + 20, hdr: -1}
	if tun.Outer6() {
		l.l4 = 14 + 40
		if on, _ := tun.EncapLimitOn(); on {
			l.l4 += 8
		}
	}
	switch {
	case tun.Type == tunnel.VXLAN:
		l.hdr, l.inner = l.l4+8, l.l4+16
	case tun.Type == tunnel.GENEVE:
		l.hdr, l.inner = l.l4+8, l.l4+16+len(tun.GeneveOpts)
	case isERSPAN(tun):
		l.hdr, l.inner = l.l4+8, l.l4+16
		if tun.ERSPANVer == 2 {
			l.inner += 4
		}
	default:
		l.inner = l.l4 + greHdrLen(layers.GRE{ChecksumPresent: tun.OCsum, KeyPresent: tun.OKey.Set, SeqPresent: tun.OSeq})
	}
	return l
}

// ethDataplane loads the programs with tuns installed, after checking
// their specs as the control plane would, and opens the VXLAN and Geneve
// receive ports they use.
func ethDataplane(t *testing.T, tuns ...maps.Tunnel) *dataplane {
	t.Helper()
	for _, tun := range tuns {
		if err := tun.Spec.Validate(); err != nil {
			t.Fatalf("test tunnel %+v is not valid: %v", tun.Spec, err)
		}
	}
	d := newDataplane(t, tuns...)
	for _, tun := range tuns {
		openPort(t, d, tun)
	}
	return d
}

func openPort(t *testing.T, d *dataplane, tun maps.Tunnel) {
	t.Helper()
	if isUDPType(tun) {
		if err := d.tables.PutUDPPort(tun.DstPort, tun.Outer6(), tun.Type); err != nil {
			t.Fatalf("open %s port %d: %v", tun.Type, tun.DstPort, err)
		}
	}
}

// ethSend runs what sends frame on tun: xt_tc_encap, or for a tunnel on
// the slow TX path xt_tc_encap, which must hand the frame on untouched
// (tx_slow), then xt_tc_peer. It returns the run that encapsulated.
func ethSend(t *testing.T, d *dataplane, tun maps.Tunnel, frame []byte) result {
	t.Helper()
	if maps.SlowTX(tun.Spec) {
		res := d.run(t, d.objs.Encap, frame)
		checkVerdict(t, res, tcOK, "tx_slow")
		checkFrame(t, res.out, frame)
		return d.run(t, d.objs.Peer, frame)
	}
	return d.run(t, d.objs.Encap, frame)
}

// takeVarying copies into w what the programs choose per packet: the
// IPv4 Id without DF (random), the UDP source port (the flow's hash in
// 32768..60999, checked here), the ERSPAN type III timestamp.
func takeVarying(t *testing.T, tun maps.Tunnel, out []byte, w *ethWire) {
	t.Helper()
	l := ethLayoutOf(tun)
	if len(out) < l.inner {
		t.Fatalf("output of %d bytes: shorter than the outer headers (%d)", len(out), l.inner)
	}
	if !tun.Outer6() && !w.df {
		w.id = binary.BigEndian.Uint16(out[14+4:])
	}
	if isUDPType(tun) {
		w.sport = binary.BigEndian.Uint16(out[l.l4:])
		lo, hi := uint16(sportLow), uint16(sportHigh)
		if tun.SrcPortMin != 0 {
			lo, hi = tun.SrcPortMin, tun.SrcPortMax
		}
		if w.sport < lo || w.sport > hi {
			t.Errorf("UDP source port %d outside %d..%d", w.sport, lo, hi)
		}
	}
	if isERSPAN(tun) && tun.ERSPANVer == 2 {
		w.ts = binary.BigEndian.Uint32(out[l.hdr+4:])
	}
}

// udp6Checksum is the UDP checksum of the datagram udp from src to dst
// over IPv6 (RFC 8200 8.1 pseudo-header), with rfc1071.
func udp6Checksum(src, dst netip.Addr, udp []byte) uint16 {
	b := append(src.AsSlice(), dst.AsSlice()...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(udp)))
	b = append(b, 0, 0, 0, 17)
	b = append(b, udp...)
	b[40+6], b[40+7] = 0, 0
	return rfc1071(b)
}

// checkEthChecksums recomputes with rfc1071 the UDP checksum (0 when the
// tunnel sends none; a computed 0 is sent as 0xffff) and the GRE
// checksum of frame b of tun, and compares them with what b carries.
func checkEthChecksums(t *testing.T, tun maps.Tunnel, b []byte, udpCsum bool) {
	t.Helper()
	l := ethLayoutOf(tun)
	if len(b) < l.inner {
		t.Fatalf("frame of %d bytes: shorter than the outer headers (%d)", len(b), l.inner)
	}
	if tun.Type.IsGRE() && tun.OCsum {
		if rfc1071(b[l.l4:]) != 0 {
			t.Errorf("GRE checksum %#04x does not verify (RFC 2784)", binary.BigEndian.Uint16(b[l.l4+4:]))
		}
	}
	if !isUDPType(tun) {
		return
	}
	got := binary.BigEndian.Uint16(b[l.l4+6:])
	want := uint16(0)
	if udpCsum {
		if tun.Outer6() {
			src, _ := netip.AddrFromSlice(b[14+8 : 14+24])
			dst, _ := netip.AddrFromSlice(b[14+24 : 14+40])
			want = udp6Checksum(src, dst, b[l.l4:])
		} else {
			src, _ := netip.AddrFromSlice(b[14+12 : 14+16])
			dst, _ := netip.AddrFromSlice(b[14+16 : 14+20])
			want = udp4Checksum(src, dst, b[l.l4:])
		}
		if want == 0 {
			want = 0xffff
		}
	}
	if got != want {
		t.Errorf("UDP checksum %#04x, want %#04x", got, want)
	}
}

// ethCase is one frame (or, with ip, the IP packet of e for geneve
// innerprotoinherit) of an Ethernet tunnel.
type ethCase struct {
	name string
	tun  maps.Tunnel
	e    ethInner
	ip   bool
	wire func(w *ethWire) // changes to sendWire's (encap) or recvWire's (decap)
}

// sent is the frame the overlay sends and what the tunnel carries of it.
func (c ethCase) sent(t *testing.T) ([]byte, ethPayload) {
	t.Helper()
	if c.ip {
		l3 := c.e.ip(t)
		return ethFrame(t, wireDstMAC, wireSrcMAC, c.e.in.etherType(), l3), ethPayload{b: l3, typ: c.e.in.etherType()}
	}
	p := c.e.payload(t)
	return p.b, p
}

// checkEthEncap sends c's frame on d and checks that the tunnel sent
// what sendWire (changed by c.wire) says, with checksums that verify, and
// counted it. It returns the output.
func checkEthEncap(t *testing.T, d *dataplane, c ethCase) []byte {
	t.Helper()
	frame, p := c.sent(t)
	res := ethSend(t, d, c.tun, frame)
	checkVerdict(t, res, tcRedirect, "encap")
	w := sendWire(c.tun)
	if c.wire != nil {
		c.wire(&w)
	}
	takeVarying(t, c.tun, res.out, &w)
	want, _ := ethWireFrame(t, c.tun, w, p)
	checkFrame(t, res.out, want)
	checkEthChecksums(t, c.tun, res.out, w.udpCsum)
	checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(p.b))})
	if t.Failed() {
		t.Logf("input %x", frame)
	}
	return res.out
}

func TestEthEncap(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := ethInner{in: inner{ttl: 33}}, ethInner{in: inner{v6: true, ttl: 33}}
	tos := func(e ethInner, tos uint8) ethInner { e.in.tos = tos; return e }
	df := func(e ethInner) ethInner { e.in.df = true; return e }
	outerTOS := func(v uint8) func(*ethWire) { return func(w *ethWire) { w.tos = v } }
	gt, gt6 := gretapTunnel(false, -1), gretapTunnel(true, -1)
	vx, vx6 := vxlanTunnel(false), vxlanTunnel(true)
	gn, gn6 := geneveTunnel(t, false), geneveTunnel(t, true)
	gnAB := geneveTunnel(t, false, optA, optB)

	cases := []ethCase{
		// gretap, ip6gretap: GRE protocol 0x6558, the frame untouched.
		{name: "gretap inner v4", tun: gt, e: v4},
		{name: "gretap inner v6", tun: gt, e: v6},
		{name: "gretap key", tun: gretapTunnel(false, 42), e: v4},
		{name: "gretap key 0xffffffff", tun: gretapTunnel(false, 0xffffffff), e: v6},
		{name: "gretap broadcast", tun: gt, e: ethInner{dst: broadcast, in: inner{}}},
		{name: "gretap ttl inherit", tun: with(gt, func(tun *maps.Tunnel) { tun.TTL = 0 }), e: v4,
			wire: func(w *ethWire) { w.ttl = 33 }},
		{name: "gretap tos inherit", tun: with(gt, func(tun *maps.Tunnel) { tun.TOSInherit = true }), e: tos(v4, 0xb8|ect1),
			wire: outerTOS(0xb9)},
		{name: "gretap inner ce", tun: gt, e: tos(v6, 0x28|ce), wire: outerTOS(ect0)},
		{name: "gretap nopmtudisc", tun: with(gt, func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 }), e: v4,
			wire: func(w *ethWire) { w.ttl = 33 }},
		{name: "gretap csum", tun: with(gt, func(tun *maps.Tunnel) { tun.OCsum = true }), e: v4},
		{name: "gretap key csum seq", tun: with(gretapTunnel(false, 42), func(tun *maps.Tunnel) { tun.OCsum, tun.OSeq = true, true }), e: v6},
		{name: "ip6gretap inner v4", tun: gt6, e: v4},
		{name: "ip6gretap key inner v6", tun: gretapTunnel(true, 42), e: v6},
		{name: "ip6gretap encaplimit none", tun: with(gt6, func(tun *maps.Tunnel) { tun.EncapLimit = tunnel.EncapLimitNone }), e: v4},
		{name: "ip6gretap flowlabel", tun: with(gt6, func(tun *maps.Tunnel) { tun.FlowLabel = 0xbeef5 }), e: v6,
			wire: func(w *ethWire) { w.flow = 0xbeef5 }},
		{name: "ip6gretap csum seq", tun: with(gretapTunnel(true, 7), func(tun *maps.Tunnel) { tun.OCsum, tun.OSeq = true, true }), e: v4},

		// vxlan: UDP to dstport, VXLAN I flag and VNI, the frame; over
		// IPv4 no checksum unless udpcsum, DF as df says.
		{name: "vxlan inner v4", tun: vx, e: v4},
		{name: "vxlan inner v6", tun: vx, e: v6},
		{name: "vxlan broadcast", tun: vx, e: ethInner{dst: broadcast, in: inner{}}},
		{name: "vxlan dstport", tun: with(vx, func(tun *maps.Tunnel) { tun.DstPort = altVXLANPort }), e: v4},
		{name: "vxlan vni 0", tun: with(vx, func(tun *maps.Tunnel) { tun.VNI = 0 }), e: v4},
		{name: "vxlan vni max", tun: with(vx, func(tun *maps.Tunnel) { tun.VNI = tunnel.MaxVNI }), e: v4},
		{name: "vxlan df set", tun: with(vx, func(tun *maps.Tunnel) { tun.DF = tunnel.DFSet }), e: v4},
		{name: "vxlan df inherit, inner df", tun: with(vx, func(tun *maps.Tunnel) { tun.DF = tunnel.DFInherit }), e: df(v4),
			wire: func(w *ethWire) { w.df = true }},
		{name: "vxlan df inherit, inner without df", tun: with(vx, func(tun *maps.Tunnel) { tun.DF = tunnel.DFInherit }), e: v4},
		{name: "vxlan df unset, inner df", tun: vx, e: df(v4)},
		// df inherit sets DF for an IPv6 payload (tunnel.DFInherit, Linux).
		{name: "vxlan df inherit, inner v6", tun: with(vx, func(tun *maps.Tunnel) { tun.DF = tunnel.DFInherit }), e: v6,
			wire: func(w *ethWire) { w.df = true }},
		{name: "vxlan df unset, inner v6", tun: vx, e: v6},
		{name: "geneve df inherit, inner v6", tun: with(gnAB, func(tun *maps.Tunnel) { tun.DF = tunnel.DFInherit }), e: v6,
			wire: func(w *ethWire) { w.df = true }},
		{name: "geneve innerprotoinherit df inherit, inner v6", tun: with(inheritTunnel(t, false), func(tun *maps.Tunnel) {
			tun.DF = tunnel.DFInherit
		}), e: v6, ip: true, wire: func(w *ethWire) { w.df = true }},
		{name: "geneve innerprotoinherit df inherit, inner v4 df", tun: with(inheritTunnel(t, false), func(tun *maps.Tunnel) {
			tun.DF = tunnel.DFInherit
		}), e: df(v4), ip: true, wire: func(w *ethWire) { w.df = true }},
		{name: "geneve innerprotoinherit df inherit, inner v4", tun: with(inheritTunnel(t, false), func(tun *maps.Tunnel) {
			tun.DF = tunnel.DFInherit
		}), e: v4, ip: true},
		{name: "vxlan ttl tos", tun: with(vx, func(tun *maps.Tunnel) { tun.TTL, tun.TOS = 9, 0x10 }), e: tos(v4, ect1),
			wire: func(w *ethWire) { w.ttl, w.tos = 9, 0x11 }},
		{name: "vxlan udpcsum", tun: with(vx, func(tun *maps.Tunnel) { tun.UDPCsum = true }), e: v4},
		{name: "vxlan udpcsum odd frame", tun: with(vx, func(tun *maps.Tunnel) { tun.UDPCsum = true }),
			e: ethInner{in: inner{v6: true, dst: netip.MustParseAddr("fd00:20::7")}}},
		{name: "vxlan6 inner v4", tun: vx6, e: v4},
		{name: "vxlan6 inner v6", tun: vx6, e: v6},
		{name: "vxlan6 udp6zerocsumtx", tun: with(vx6, func(tun *maps.Tunnel) { tun.UDP6ZeroCsumTx = true }), e: v4},
		{name: "vxlan6 flowlabel", tun: with(vx6, func(tun *maps.Tunnel) { tun.FlowLabel = 0xbeef5 }), e: v4,
			wire: func(w *ethWire) { w.flow = 0xbeef5 }},
		{name: "vxlan6 flowlabel inherit", tun: with(vx6, func(tun *maps.Tunnel) { tun.FlowInherit = true }), e: v6,
			wire: func(w *ethWire) { w.flow = 0x12345 }}, // inner's
		{name: "vxlan6 hoplimit tclass", tun: with(vx6, func(tun *maps.Tunnel) { tun.TTL, tun.TOS = 200, 0xb8 }), e: tos(v6, 0x28|ce),
			wire: func(w *ethWire) { w.ttl, w.tos = 200, 0xb8|ect0 }},

		// geneve: version 0, options verbatim, C when one is critical.
		{name: "geneve no options", tun: gn, e: v4},
		{name: "geneve no options inner v6", tun: gn, e: v6},
		{name: "geneve two options", tun: gnAB, e: v4},
		{name: "geneve critical option", tun: geneveTunnel(t, false, optA, optCrit), e: v6},
		{name: "geneve 64 option bytes", tun: geneveTunnel(t, false, optBig), e: v4},
		{name: "geneve udpcsum two options", tun: with(gnAB, func(tun *maps.Tunnel) { tun.UDPCsum = true }), e: v6},
		{name: "geneve innerprotoinherit inner v4", tun: inheritTunnel(t, false), e: v4, ip: true},
		{name: "geneve innerprotoinherit inner v6", tun: inheritTunnel(t, false), e: v6, ip: true},
		{name: "geneve innerprotoinherit options", tun: inheritTunnel(t, false, optB, optA), e: v4, ip: true},
		{name: "geneve6 no options", tun: gn6, e: v4},
		{name: "geneve6 two options", tun: geneveTunnel(t, true, optA, optB), e: v6},
		{name: "geneve6 udp6zerocsumtx", tun: with(gn6, func(tun *maps.Tunnel) { tun.UDP6ZeroCsumTx = true }), e: v6},
		{name: "geneve6 innerprotoinherit", tun: inheritTunnel(t, true, optA), e: v6, ip: true},

		// erspan, ip6erspan: GRE with sequence numbers, ERSPAN header.
		{name: "erspan v1", tun: erspanTunnel(false, 1), e: tos(v4, 0xb8)},
		{name: "erspan v1 inner v6", tun: erspanTunnel(false, 1), e: tos(v6, 0x60)},
		{name: "erspan v1 index 0 session 0", tun: with(erspanTunnel(false, 1), func(tun *maps.Tunnel) {
			tun.ERSPANIndex, tun.IKey.Value, tun.OKey.Value = 0, 0, 0
		}), e: v4},
		{name: "erspan v2", tun: erspanTunnel(false, 2), e: tos(v4, 0xe0)},
		{name: "erspan v2 ingress hwid 0", tun: with(erspanTunnel(false, 2), func(tun *maps.Tunnel) {
			tun.ERSPANDir, tun.ERSPANHWID = tunnel.DirIngress, 0
		}), e: v6},
		{name: "erspan v2 session 1023 hwid 63", tun: with(erspanTunnel(false, 2), func(tun *maps.Tunnel) {
			tun.IKey.Value, tun.OKey.Value, tun.ERSPANHWID = 1023, 1023, 63
		}), e: v4},
		{name: "ip6erspan v1", tun: erspanTunnel(true, 1), e: tos(v4, 0x20)},
		{name: "ip6erspan v2", tun: erspanTunnel(true, 2), e: tos(v6, 0xa0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkEthEncap(t, ethDataplane(t, c.tun), c)
		})
	}
}

// TestEthEncapSeq: ERSPAN and gretap with oseq number their packets 0, 1,
// 2, ... per tunnel.
func TestEthEncapSeq(t *testing.T) {
	requireRootForBPF(t)
	for _, tun := range []maps.Tunnel{
		erspanTunnel(false, 1), erspanTunnel(true, 2),
		with(gretapTunnel(false, 42), func(tun *maps.Tunnel) { tun.OSeq = true }),
	} {
		t.Run(fmt.Sprintf("%s v%d", tun.Type, tun.ERSPANVer), func(t *testing.T) {
			d := ethDataplane(t, tun)
			for seq := uint32(0); seq < 3; seq++ {
				if err := d.tables.ResetCounters(tun.ID); err != nil {
					t.Fatal(err)
				}
				checkEthEncap(t, d, ethCase{tun: tun, e: ethInner{in: inner{v6: seq == 1}},
					wire: func(w *ethWire) { w.seq = seq }})
			}
		})
	}
}

// TestEthEncapSport: the UDP source port of vxlan and geneve is the
// inner flow's hash scaled into 32768..60999 (or srcport MIN MAX): the
// same for one flow, spread over flows.
func TestEthEncapSport(t *testing.T) {
	requireRootForBPF(t)
	for _, tun := range []maps.Tunnel{
		vxlanTunnel(false),
		vxlanTunnel(true),
		geneveTunnel(t, false, optA),
		inheritTunnel(t, true),
		with(vxlanTunnel(false), func(tun *maps.Tunnel) { tun.SrcPortMin, tun.SrcPortMax = 4000, 4009 }),
	} {
		name := fmt.Sprintf("%s outer6=%v inherit=%v srcport %d-%d", tun.Type, tun.Outer6(), tun.InnerProtoInherit,
			tun.SrcPortMin, tun.SrcPortMax)
		t.Run(name, func(t *testing.T) {
			d := ethDataplane(t, tun)
			l := ethLayoutOf(tun)
			ports := map[uint16]bool{}
			for i := 0; i < 8; i++ {
				flow := fouFlow(t, uint16(1000+i))
				var frame []byte
				if tun.InnerProtoInherit {
					frame = ethFrame(t, wireDstMAC, wireSrcMAC, layers.EthernetTypeIPv4, flow)
				} else {
					frame = serialize(t, &layers.Ethernet{DstMAC: innerDstMAC, SrcMAC: innerSrcMAC,
						EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(flow))
				}
				var got [2]uint16
				for j := range got {
					if err := d.tables.ResetCounters(tun.ID); err != nil {
						t.Fatal(err)
					}
					res := ethSend(t, d, tun, frame)
					checkVerdict(t, res, tcRedirect, "encap")
					if len(res.out) < l.inner {
						t.Fatalf("output of %d bytes", len(res.out))
					}
					w := sendWire(tun)
					takeVarying(t, tun, res.out, &w)
					got[j] = w.sport
				}
				if got[0] != got[1] {
					t.Errorf("flow %d: source ports %v for one 5-tuple", i, got)
				}
				ports[got[0]] = true
			}
			if len(ports) < 2 {
				t.Errorf("8 flows all got source port(s) %v; want the flow hash to spread them", ports)
			}
			t.Logf("source ports of 8 flows: %v", ports)
		})
	}
}

// ethDecapCase is one packet arriving for an Ethernet tunnel.
type ethDecapCase struct {
	ethCase
	ret    uint32
	reason string
	want   *ethInner // the frame delivered when it differs from e (ECN)
}

// checkEthDecap runs the XDP program on frame and checks the verdict,
// the reason, the output and the counters: on redirect the output is
// want (a frame as it came, or for innerprotoinherit an IP packet behind
// an Ethernet header to the overlay) and rx_bytes counts what the tunnel
// carried (wantLen: the frame, or the IP packet).
func checkEthDecap(t *testing.T, d *dataplane, tun maps.Tunnel, frame []byte, ret uint32, reason string, want []byte, wantLen int) {
	t.Helper()
	if err := d.tables.ResetCounters(tun.ID); err != nil {
		t.Fatal(err)
	}
	res := d.run(t, d.objs.Underlay, frame)
	checkVerdict(t, res, ret, reason)
	got := d.counters(t, tun.ID)
	switch ret {
	case xdpRedirect:
		checkFrame(t, res.out, want)
		checkCounters(t, got, maps.Counters{RxPackets: 1, RxBytes: uint64(wantLen)})
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

// received is c's packet as tun's remote sends it, and what decap must
// deliver of it.
func (c ethDecapCase) received(t *testing.T) (frame, want []byte, wantLen int) {
	t.Helper()
	_, p := c.sent(t)
	w := recvWire(c.tun)
	if c.wire != nil {
		c.wire(&w)
	}
	frame, _ = ethWireFrame(t, c.tun, w, p)
	e := c.e
	if c.want != nil {
		e = *c.want
	}
	if c.ip {
		l3 := e.ip(t)
		return frame, ethFrame(t, c.tun.MAC, c.tun.PeerMAC, e.in.etherType(), l3), len(l3)
	}
	want = e.bytes(t)
	return frame, want, len(want)
}

func runEthDecap(t *testing.T, cases []ethDecapCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ethDataplane(t, c.tun)
			frame, want, n := c.received(t)
			checkEthDecap(t, d, c.tun, frame, c.ret, c.reason, want, n)
		})
	}
}

func TestEthDecap(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := ethInner{in: inner{}}, ethInner{in: inner{v6: true}}
	tos := func(e ethInner, tos uint8) ethInner { e.in.tos = tos; return e }
	tagged := ethInner{vlan: 0xa064, in: inner{}} // priority 5, VLAN 100
	arp := ethInner{dst: broadcast, arp: true}
	gt, gt6 := gretapTunnel(false, -1), gretapTunnel(true, -1)
	vx, vx6 := vxlanTunnel(false), vxlanTunnel(true)
	outerCE := func(w *ethWire) { w.tos = ce }
	ok := func(c ethCase) ethDecapCase { return ethDecapCase{ethCase: c, ret: xdpRedirect, reason: "decap"} }

	cases := []ethDecapCase{
		ok(ethCase{name: "gretap inner v4", tun: gt, e: v4}),
		ok(ethCase{name: "gretap inner v6", tun: gt, e: v6}),
		ok(ethCase{name: "gretap vlan tagged frame", tun: gt, e: tagged}),
		ok(ethCase{name: "gretap arp", tun: gt, e: arp}),
		ok(ethCase{name: "gretap key", tun: gretapTunnel(false, 42), e: v4}),
		ok(ethCase{name: "gretap seq, no iseq", tun: gt, e: v6, wire: func(w *ethWire) {
			w.gre = &layers.GRE{SeqPresent: true, Seq: 9, Protocol: ethPTEB}
		}}),
		ok(ethCase{name: "gretap icsum", tun: with(gt, func(tun *maps.Tunnel) { tun.ICsum, tun.OCsum = true, true }), e: v4}),
		{ethCase: ethCase{name: "gretap outer ce onto ect0", tun: gt, e: tos(v4, 0x28|ect0), wire: outerCE},
			ret: xdpRedirect, reason: "decap", want: ptrTo(tos(v4, 0x28|ce))},
		ok(ethCase{name: "ip6gretap inner v4", tun: gt6, e: v4}),
		ok(ethCase{name: "ip6gretap key inner v6", tun: gretapTunnel(true, 42), e: v6}),
		ok(ethCase{name: "ip6gretap no encaplimit option", tun: gt6, e: v4, wire: func(w *ethWire) { w.limit = -1 }}),

		ok(ethCase{name: "vxlan inner v4", tun: vx, e: v4}),
		ok(ethCase{name: "vxlan inner v6", tun: vx, e: v6}),
		ok(ethCase{name: "vxlan vlan tagged frame", tun: vx, e: tagged}),
		ok(ethCase{name: "vxlan arp", tun: vx, e: arp}),
		ok(ethCase{name: "vxlan udp checksum", tun: vx, e: v4, wire: func(w *ethWire) { w.udpCsum = true }}),
		ok(ethCase{name: "vxlan dstport", tun: with(vx, func(tun *maps.Tunnel) { tun.DstPort = altVXLANPort }), e: v4}),
		ok(ethCase{name: "vxlan vni 0", tun: with(vx, func(tun *maps.Tunnel) { tun.VNI = 0 }), e: v4}),
		ok(ethCase{name: "vxlan vni max", tun: with(vx, func(tun *maps.Tunnel) { tun.VNI = tunnel.MaxVNI }), e: v4}),
		ok(ethCase{name: "vxlan6 inner v4", tun: vx6, e: v4}),
		ok(ethCase{name: "vxlan6 inner v6", tun: vx6, e: v6}),
		ok(ethCase{name: "vxlan6 zero checksum, udp6zerocsumrx", tun: with(vx6, func(tun *maps.Tunnel) { tun.UDP6ZeroCsumRx = true }),
			e: v4, wire: func(w *ethWire) { w.udpCsum = false }}),

		ok(ethCase{name: "geneve no options", tun: geneveTunnel(t, false), e: v4}),
		ok(ethCase{name: "geneve two options", tun: geneveTunnel(t, false, optA, optB), e: v6}),
		ok(ethCase{name: "geneve 64 option bytes", tun: geneveTunnel(t, false, optBig), e: v4}),
		// Options are the sender's: a receiver takes any that are not critical.
		ok(ethCase{name: "geneve options the tunnel does not send", tun: geneveTunnel(t, false), e: v4, wire: func(w *ethWire) {
			w.hdr = geneveHdr(0, 5, 0, ethPTEB, testVNI, geneveOptWire(optB, optA))
		}}),
		ok(ethCase{name: "geneve 63 option words", tun: geneveTunnel(t, false), e: v4, wire: func(w *ethWire) {
			opts := geneveOptWire(tunnel.GeneveOpt{Class: 1, Type: 2, Data: pattern(124)}, tunnel.GeneveOpt{Class: 3, Type: 4, Data: pattern(120)})
			w.hdr = geneveHdr(0, 63, 0, ethPTEB, testVNI, opts)
		}}),
		ok(ethCase{name: "geneve 63 empty options", tun: geneveTunnel(t, false), e: v4, wire: func(w *ethWire) {
			w.hdr = geneveHdr(0, 63, 0, ethPTEB, testVNI, make([]byte, 63*4))
		}}),
		ok(ethCase{name: "geneve vlan tagged frame", tun: geneveTunnel(t, false, optA), e: tagged}),
		ok(ethCase{name: "geneve arp", tun: geneveTunnel(t, false), e: arp}),
		ok(ethCase{name: "geneve innerprotoinherit inner v4", tun: inheritTunnel(t, false), e: v4, ip: true}),
		ok(ethCase{name: "geneve innerprotoinherit inner v6 options", tun: inheritTunnel(t, false, optA, optB), e: v6, ip: true}),
		{ethCase: ethCase{name: "geneve innerprotoinherit outer ce onto ect1", tun: inheritTunnel(t, false), e: tos(v4, ect1), ip: true,
			wire: outerCE}, ret: xdpRedirect, reason: "decap", want: ptrTo(tos(v4, ce))},
		ok(ethCase{name: "geneve6 no options", tun: geneveTunnel(t, true), e: v4}),
		ok(ethCase{name: "geneve6 two options", tun: geneveTunnel(t, true, optA, optB), e: v6}),
		ok(ethCase{name: "geneve6 innerprotoinherit", tun: inheritTunnel(t, true), e: v6, ip: true}),

		ok(ethCase{name: "erspan v1", tun: erspanTunnel(false, 1), e: tos(v4, 0xb8)}),
		ok(ethCase{name: "erspan v1 vlan tagged frame", tun: erspanTunnel(false, 1), e: tagged}),
		ok(ethCase{name: "erspan v1 index 0 in the packet", tun: erspanTunnel(false, 1), e: v4, wire: func(w *ethWire) {
			w.hdr = serialize(t, &layers.ERSPANII{Version: 1, SessionID: testSession})
		}}),
		ok(ethCase{name: "erspan v2", tun: erspanTunnel(false, 2), e: v6}),
		ok(ethCase{name: "erspan v2 platform subheader", tun: erspanTunnel(false, 2), e: v4, wire: func(w *ethWire) {
			h := erspanIII{Ver: 2, Session: testSession, Timestamp: 12345, HWID: 1, O: true, Platform: pattern(8)}
			w.hdr = h.bytes()
		}}),
		ok(ethCase{name: "erspan v2 received by a v1 tunnel", tun: erspanTunnel(false, 1), e: v4, wire: func(w *ethWire) {
			w.gre = &layers.GRE{SeqPresent: true, Seq: 1, Protocol: ethPERSPAN2}
			w.hdr = (&erspanIII{Ver: 2, Session: testSession}).bytes()
		}}),
		ok(ethCase{name: "erspan key, no sequence number", tun: erspanTunnel(false, 1), e: v4, wire: func(w *ethWire) {
			w.gre = &layers.GRE{KeyPresent: true, Key: 99, Protocol: ethPERSPAN}
		}}),
		ok(ethCase{name: "ip6erspan v1", tun: erspanTunnel(true, 1), e: v4}),
		ok(ethCase{name: "ip6erspan v2", tun: erspanTunnel(true, 2), e: v6}),

		// ECN (RFC 6040) on IP right behind the Ethernet header.
		{ethCase: ethCase{name: "vxlan outer ce onto ect0", tun: vx, e: tos(v4, 0x28|ect0), wire: outerCE},
			ret: xdpRedirect, reason: "decap", want: ptrTo(tos(v4, 0x28|ce))},
		{ethCase: ethCase{name: "vxlan6 outer ce onto ect1 v6", tun: vx6, e: tos(v6, 0xb8|ect1), wire: outerCE},
			ret: xdpRedirect, reason: "decap", want: ptrTo(tos(v6, 0xb8|ce))},
		{ethCase: ethCase{name: "gretap outer ce onto not-ect", tun: gt, e: v4, wire: outerCE}, ret: xdpDrop, reason: "drop_ecn"},
		{ethCase: ethCase{name: "erspan outer ce onto not-ect v6", tun: erspanTunnel(false, 2), e: v6, wire: outerCE}, ret: xdpDrop, reason: "drop_ecn"},
		ok(ethCase{name: "gretap outer ce, vlan tagged frame", tun: gt, e: tagged, wire: outerCE}),
		ok(ethCase{name: "vxlan outer ce, arp", tun: vx, e: arp, wire: outerCE}),
	}
	runEthDecap(t, cases)
}

// TestEthRoundTrip feeds what one end sends into the other's decap, which
// must deliver the frame unchanged; the sender's own decap must not take
// its packets.
func TestEthRoundTrip(t *testing.T) {
	requireRootForBPF(t)
	v4, v6 := ethInner{in: inner{}}, ethInner{in: inner{v6: true, tos: 0xb8 | ect0}}
	cases := []ethCase{
		{name: "gretap", tun: gretapTunnel(false, 42), e: v4},
		{name: "gretap csum seq", tun: with(gretapTunnel(false, -1), func(tun *maps.Tunnel) { tun.OCsum, tun.OSeq = true, true }), e: v6},
		{name: "ip6gretap", tun: gretapTunnel(true, -1), e: v6},
		{name: "vxlan", tun: vxlanTunnel(false), e: v4},
		{name: "vxlan udpcsum", tun: with(vxlanTunnel(false), func(tun *maps.Tunnel) { tun.UDPCsum = true }), e: v6},
		{name: "vxlan6", tun: vxlanTunnel(true), e: v4},
		{name: "vxlan6 zero checksums", tun: with(vxlanTunnel(true), func(tun *maps.Tunnel) {
			tun.UDP6ZeroCsumTx, tun.UDP6ZeroCsumRx = true, true
		}), e: v6},
		{name: "geneve two options", tun: geneveTunnel(t, false, optA, optB), e: v4},
		{name: "geneve6 64 option bytes", tun: geneveTunnel(t, true, optBig), e: v6},
		{name: "geneve innerprotoinherit", tun: inheritTunnel(t, false, optA), e: v6, ip: true},
		{name: "erspan v1", tun: erspanTunnel(false, 1), e: v4},
		{name: "erspan v2", tun: erspanTunnel(false, 2), e: v6},
		{name: "ip6erspan v1", tun: erspanTunnel(true, 1), e: v6},
		{name: "ip6erspan v2", tun: erspanTunnel(true, 2), e: v4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rx := mirror(c.tun)
			if isERSPAN(c.tun) {
				rx.OSeq = true // ERSPAN sends sequence numbers both ways; mirror gave it iseq
			}
			txd, rxd := ethDataplane(t, c.tun), ethDataplane(t, rx)
			frame, p := c.sent(t)
			want := p.b
			if c.ip {
				want = ethFrame(t, rx.MAC, rx.PeerMAC, p.typ, p.b)
			}
			for i := 0; i < 3; i++ {
				if err := txd.tables.ResetCounters(c.tun.ID); err != nil {
					t.Fatal(err)
				}
				enc := ethSend(t, txd, c.tun, frame)
				checkVerdict(t, enc, tcRedirect, "encap")
				checkEthDecap(t, rxd, rx, enc.out, xdpRedirect, "decap", want, len(p.b))
				if i == 0 {
					own := txd.run(t, txd.objs.Underlay, enc.out)
					checkVerdict(t, own, xdpPass, "pass_no_tunnel")
				}
			}
		})
	}
}
