// Package bench is xtunnel's performance lab. It measures the dataplane's
// programs side by side in one run and reports ratios to baselines measured
// alongside, so that noise from the machine cancels.
//
// The first measurement is the per-packet cost of each program under
// BPF_PROG_TEST_RUN (see ProgramCost); README.md, section "Benchmarks",
// explains the method.
package bench

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Verdicts the programs return under BPF_PROG_TEST_RUN.
const (
	xdpPass     = 2 // XDP_PASS
	xdpRedirect = 4 // XDP_REDIRECT: reported, not performed, by the test run
	tcOK        = 0 // TC_ACT_OK
	tcRedirect  = 7 // TC_ACT_REDIRECT
)

// Case is one tunnel configuration whose encap and decap are measured.
type Case struct {
	Name  string // "gre", "gre-key", "ipip-fou", "vxlan6"
	Outer string // underlay family: "ipv4" or "ipv6"
	Inner string // what the measured packet carries: "ipv4" or "ipv6"
	tx    maps.Tunnel
	rx    maps.Tunnel     // the other end; zero: mirror(tx)
	fou   *tunnel.FOUPort // receive port the decap end needs
	// Routes of external tunnels: the sending end's route to the inner
	// destination (its peer), the receiving end's back to the sender
	// (which makes the sender its peer).
	txRoutes, rxRoutes []maps.Route
}

// Ethernet reports whether the case's tunnel carries Ethernet frames:
// encap takes the frame as it is and decap gives it back unchanged.
func (c Case) Ethernet() bool { return c.tx.Ethernet() }

// SlowTX reports whether encap runs at the overlay's veth peer (the slow
// TX path: ERSPAN sequence numbers, UDP checksums over IPv6), which is
// then the program measured as encap.
func (c Case) SlowTX() bool { return maps.SlowTX(c.tx.Spec) }

// receiver is the tunnel at the decap end.
func (c Case) receiver() maps.Tunnel {
	if c.rx.Type != tunnel.TypeNone {
		return c.rx
	}
	return mirror(c.tx)
}

var (
	local4  = netip.MustParseAddr("198.51.100.1")
	remote4 = netip.MustParseAddr("198.51.100.2")
	local6  = netip.MustParseAddr("2001:db8::1")
	remote6 = netip.MustParseAddr("2001:db8::2")

	// Addresses of the frames the programs receive.
	wireDst = net.HardwareAddr{0x02, 0, 0, 0, 0x0a, 0x0a}
	wireSrc = net.HardwareAddr{0x02, 0, 0, 0, 0x0b, 0x0b}
	// Addresses of the Ethernet frames that Ethernet tunnels carry.
	innerDst = net.HardwareAddr{0x02, 0, 0, 0, 0x0e, 0x01}
	innerSrc = net.HardwareAddr{0x02, 0, 0, 0, 0x0e, 0x02}

	// Inner addresses of the measured packets.
	innerSrc4 = netip.MustParseAddr("10.9.0.1")
	innerDst4 = netip.MustParseAddr("10.20.0.5")
	innerSrc6 = netip.MustParseAddr("fd00:9::1")
	innerDst6 = netip.MustParseAddr("fd00:20::5")
)

// newTunnel is a tunnel usable under BPF_PROG_TEST_RUN: every ifindex is
// the loopback device, which is skb->dev of a TC test run and the ingress
// device of an XDP one (as in the loader's packet tests).
func newTunnel(typ tunnel.Type, outer6 bool) maps.Tunnel {
	l, r := local4, remote4
	if outer6 {
		l, r = local6, remote6
	}
	return maps.Tunnel{
		Spec:        tunnel.Spec{Name: "xtb0", Type: typ, Local: l, Remote: r, TTL: 64},
		ID:          1,
		Ifindex:     1,
		PeerIfindex: 1,
		LinkIfindex: 1,
		OverlayMTU:  1400,
		MAC:         net.HardwareAddr{0x02, 0, 0, 0, 0x01, 0x01},
		PeerMAC:     net.HardwareAddr{0x02, 0, 0, 0, 0x01, 0x02},
	}
}

// udpTunnel is a vxlan or geneve tunnel on its default port.
func udpTunnel(typ tunnel.Type, outer6 bool, vni uint32) maps.Tunnel {
	t := newTunnel(typ, outer6)
	t.VNI, t.DstPort = vni, tunnel.VXLANPort
	if typ == tunnel.GENEVE {
		t.DstPort = tunnel.GenevePort
	}
	return t
}

// erspanTunnel is an erspan (ip6erspan) tunnel, type II, session 42.
func erspanTunnel(outer6 bool) maps.Tunnel {
	typ := tunnel.ERSPAN
	if outer6 {
		typ = tunnel.IP6ERSPAN
	}
	t := newTunnel(typ, outer6)
	t.IKey = tunnel.Key{Set: true, Value: 42}
	t.OKey = t.IKey
	t.OSeq = true
	t.ERSPANVer, t.ERSPANIndex = 1, 7
	return t
}

// externalCase is an external (multipoint) gre tunnel at both ends: the
// sender's route to the inner destination names the receiver as its
// peer, and the receiver's route back names the sender, which is what
// makes the receiver's decap take the sender's packets (xt_rpeers).
func externalCase() Case {
	tx := newTunnel(tunnel.GRE, false)
	tx.External, tx.Remote = true, netip.Addr{}
	rx := tx
	rx.Local = remote4
	rx.MAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x01}
	rx.PeerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x02}
	return Case{Name: "gre-external", Outer: "ipv4", Inner: "ipv4", tx: tx, rx: rx,
		txRoutes: []maps.Route{{Prefix: netip.PrefixFrom(innerDst4, 32), Ifindex: 1, Remote: remote4, Protos: maps.DecapProtos(tx)}},
		rxRoutes: []maps.Route{{Prefix: netip.PrefixFrom(innerSrc4, 32), Ifindex: 1, Remote: local4, Protos: maps.DecapProtos(rx)}},
	}
}

// Cases are the measured configurations: every tunnel type, IPv4 and
// IPv6 underlays, GRE with and without key, ip6tnl with its default
// encapsulation-limit option, ipip over FOU and GUE, the Ethernet
// tunnels (gretap, ip6gretap, vxlan, geneve, erspan, ip6erspan), and an
// external gre tunnel whose peer comes from a route.
func Cases() []Case {
	gre := newTunnel(tunnel.GRE, false)
	greKey := gre
	greKey.IKey = tunnel.Key{Set: true, Value: 42}
	greKey.OKey = greKey.IKey
	fou := newTunnel(tunnel.IPIP, false)
	fou.Encap = tunnel.Encap{Type: tunnel.EncapFOU, DPort: 5555}
	gue := newTunnel(tunnel.IPIP, false)
	gue.Encap = tunnel.Encap{Type: tunnel.EncapGUE, DPort: 5556}
	ip6tnl := newTunnel(tunnel.IP6TNL, true) // mode ip6ip6, encaplimit 4 (the default)
	return []Case{
		{Name: "gre", Outer: "ipv4", Inner: "ipv4", tx: gre},
		{Name: "gre-key", Outer: "ipv4", Inner: "ipv4", tx: greKey},
		{Name: "ipip", Outer: "ipv4", Inner: "ipv4", tx: newTunnel(tunnel.IPIP, false)},
		{Name: "sit", Outer: "ipv4", Inner: "ipv6", tx: newTunnel(tunnel.SIT, false)},
		{Name: "ip6gre", Outer: "ipv6", Inner: "ipv4", tx: newTunnel(tunnel.IP6GRE, true)},
		{Name: "ip6tnl-encaplimit", Outer: "ipv6", Inner: "ipv6", tx: ip6tnl},
		{Name: "ipip-fou", Outer: "ipv4", Inner: "ipv4", tx: fou,
			fou: &tunnel.FOUPort{Port: 5555, IPProto: 4}},
		{Name: "ipip-gue", Outer: "ipv4", Inner: "ipv4", tx: gue,
			fou: &tunnel.FOUPort{Port: 5556, GUE: true}},
		externalCase(),
		{Name: "gretap", Outer: "ipv4", Inner: "eth", tx: newTunnel(tunnel.GRETAP, false)},
		{Name: "ip6gretap", Outer: "ipv6", Inner: "eth", tx: newTunnel(tunnel.IP6GRETAP, true)},
		{Name: "vxlan", Outer: "ipv4", Inner: "eth", tx: udpTunnel(tunnel.VXLAN, false, 42)},
		{Name: "vxlan6", Outer: "ipv6", Inner: "eth", tx: udpTunnel(tunnel.VXLAN, true, 42)},
		{Name: "geneve", Outer: "ipv4", Inner: "eth", tx: udpTunnel(tunnel.GENEVE, false, 77)},
		{Name: "geneve6", Outer: "ipv6", Inner: "eth", tx: udpTunnel(tunnel.GENEVE, true, 77)},
		{Name: "erspan", Outer: "ipv4", Inner: "eth", tx: erspanTunnel(false)},
		{Name: "ip6erspan", Outer: "ipv6", Inner: "eth", tx: erspanTunnel(true)},
	}
}

// mirror is the tunnel at the other end of t.
func mirror(t maps.Tunnel) maps.Tunnel {
	m := t
	m.Local, m.Remote = t.Remote, t.Local
	m.IKey, m.OKey = t.OKey, t.IKey
	m.ISeq, m.OSeq = t.OSeq, t.ISeq
	if t.Type == tunnel.ERSPAN || t.Type == tunnel.IP6ERSPAN {
		// ERSPAN sends sequence numbers both ways. The receiver does not
		// check them (no iseq): every measured call feeds it the same
		// packet, which would be a duplicate from the second call on.
		m.OSeq, m.ISeq = true, false
	}
	m.MAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x01}
	m.PeerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x02}
	return m
}

// pingPayload makes an inner packet the size of a default ping (84 bytes
// at L3 for IPv4).
var pingPayload = bytes.Repeat([]byte{0xa5}, 56)

// innerL3 is the packet the overlay sends in the program-cost cases:
// IPv4 + ICMP echo or IPv6 + UDP, each with a 56-byte payload.
func innerL3(v6 bool) ([]byte, layers.EthernetType, error) {
	if v6 {
		return ipPacket(innerSrc6, innerDst6)
	}
	return ipPacket(innerSrc4, innerDst4)
}

// ipPacket is a ping-sized packet from src to dst: IPv4 + ICMP echo
// request (84 bytes) or IPv6 + UDP (104 bytes), with its ethertype.
func ipPacket(src, dst netip.Addr) ([]byte, layers.EthernetType, error) {
	if src.Is6() {
		ip6 := &layers.IPv6{
			Version: 6, FlowLabel: 0x12345, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: src.AsSlice(), DstIP: dst.AsSlice(),
		}
		udp := &layers.UDP{SrcPort: 40000, DstPort: 5001}
		if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, 0, err
		}
		b, err := serialize(ip6, udp, gopacket.Payload(pingPayload))
		return b, layers.EthernetTypeIPv6, err
	}
	ip4 := &layers.IPv4{
		Version: 4, Id: 0x1234, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolICMPv4,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice(),
	}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 77, Seq: 1}
	b, err := serialize(ip4, icmp, gopacket.Payload(pingPayload))
	return b, layers.EthernetTypeIPv4, err
}

func serialize(ls ...gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return nil, err
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

func ethFrame(dst, src net.HardwareAddr, typ layers.EthernetType, l3 []byte) ([]byte, error) {
	return serialize(&layers.Ethernet{DstMAC: dst, SrcMAC: src, EthernetType: typ}, gopacket.Payload(l3))
}

// privLoad is one private load of xtunnel's programs and maps.
type privLoad struct {
	objs   *loader.Objects
	tables *maps.Tables
}

// loadConfig is what one private load holds besides its programs.
type loadConfig struct {
	tun    maps.Tunnel
	fou    *tunnel.FOUPort
	routes []maps.Route
	sizes  loader.Sizes
}

func newPrivLoad(cfg loadConfig) (d *privLoad, err error) {
	objs, err := loader.LoadSized("", cfg.sizes)
	if err != nil {
		return nil, err
	}
	d = &privLoad{objs: objs, tables: maps.New(objs.Maps)}
	defer func() {
		if err != nil {
			objs.Close()
		}
	}()
	t := cfg.tun
	if err := d.tables.PutTunnel(t); err != nil {
		return nil, fmt.Errorf("put tunnel: %w", err)
	}
	if cfg.fou != nil {
		if err := d.tables.PutFOU(*cfg.fou); err != nil {
			return nil, fmt.Errorf("put fou port: %w", err)
		}
	}
	if t.Type == tunnel.VXLAN || t.Type == tunnel.GENEVE {
		if err := d.tables.PutUDPPort(t.DstPort, t.Outer6(), t.Type); err != nil {
			return nil, fmt.Errorf("open %s port %d: %w", t.Type, t.DstPort, err)
		}
	}
	if len(cfg.routes) > 0 {
		if err := d.tables.PutRoutes(cfg.routes); err != nil {
			return nil, fmt.Errorf("put routes: %w", err)
		}
	}
	return d, nil
}

func (d *privLoad) Close() { d.objs.Close() }

// Reason counter indexes, from the object's BTF.
type reasonIndex struct {
	names        []string
	decap, encap int
}

func loadReasons() (*reasonIndex, error) {
	names, err := loader.ReasonNames()
	if err != nil {
		return nil, err
	}
	r := &reasonIndex{names: names, decap: -1, encap: -1}
	for i, n := range names {
		switch n {
		case "decap":
			r.decap = i
		case "encap":
			r.encap = i
		}
	}
	if r.decap < 0 || r.encap < 0 {
		return nil, fmt.Errorf("the BPF object has no reason decap or encap (reasons: %v)", names)
	}
	return r, nil
}

// index is the value of the reason called name, -1 if there is none.
func (r *reasonIndex) index(name string) int {
	for i, n := range r.names {
		if n == name {
			return i
		}
	}
	return -1
}

// moved lists the reason counters that grew between before and after.
func (r *reasonIndex) moved(before, after []uint64) map[string]uint64 {
	out := map[string]uint64{}
	for i := range after {
		if after[i] != before[i] {
			out[r.names[i]] = after[i] - before[i]
		}
	}
	return out
}

// runOnce runs prog once on in with room for the output.
func runOnce(prog *ebpf.Program, in []byte, repeat uint32) (uint32, []byte, error) {
	opts := &ebpf.RunOptions{Data: in, DataOut: make([]byte, len(in)+256), Repeat: repeat}
	ret, err := prog.Run(opts)
	return ret, opts.DataOut, err
}
