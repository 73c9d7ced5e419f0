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
	Name  string // "gre", "gre-key", "ipip-fou"
	Outer string // underlay family: "ipv4" or "ipv6"
	Inner string // what the measured packet carries: "ipv4" or "ipv6"
	tun   maps.Tunnel
	fou   *tunnel.FOUPort // receive port the decap end needs
}

var (
	local4  = netip.MustParseAddr("198.51.100.1")
	remote4 = netip.MustParseAddr("198.51.100.2")
	local6  = netip.MustParseAddr("2001:db8::1")
	remote6 = netip.MustParseAddr("2001:db8::2")

	// Addresses of the frames the programs receive.
	wireDst = net.HardwareAddr{0x02, 0, 0, 0, 0x0a, 0x0a}
	wireSrc = net.HardwareAddr{0x02, 0, 0, 0, 0x0b, 0x0b}
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

// Cases are the measured configurations: every tunnel type, IPv4 and IPv6
// underlays, GRE with and without key, ip6tnl with its default
// encapsulation-limit option, and ipip over FOU and GUE.
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
		{Name: "gre", Outer: "ipv4", Inner: "ipv4", tun: gre},
		{Name: "gre-key", Outer: "ipv4", Inner: "ipv4", tun: greKey},
		{Name: "ipip", Outer: "ipv4", Inner: "ipv4", tun: newTunnel(tunnel.IPIP, false)},
		{Name: "sit", Outer: "ipv4", Inner: "ipv6", tun: newTunnel(tunnel.SIT, false)},
		{Name: "ip6gre", Outer: "ipv6", Inner: "ipv4", tun: newTunnel(tunnel.IP6GRE, true)},
		{Name: "ip6tnl-encaplimit", Outer: "ipv6", Inner: "ipv6", tun: ip6tnl},
		{Name: "ipip-fou", Outer: "ipv4", Inner: "ipv4", tun: fou,
			fou: &tunnel.FOUPort{Port: 5555, IPProto: 4}},
		{Name: "ipip-gue", Outer: "ipv4", Inner: "ipv4", tun: gue,
			fou: &tunnel.FOUPort{Port: 5556, GUE: true}},
	}
}

// mirror is the tunnel at the other end of t.
func mirror(t maps.Tunnel) maps.Tunnel {
	m := t
	m.Local, m.Remote = t.Remote, t.Local
	m.IKey, m.OKey = t.OKey, t.IKey
	m.MAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x01}
	m.PeerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x02}
	return m
}

// pingPayload makes an inner packet the size of a default ping (84 bytes
// at L3 for IPv4).
var pingPayload = bytes.Repeat([]byte{0xa5}, 56)

// innerL3 is the packet the overlay sends: IPv4 + ICMP echo or IPv6 + UDP,
// each with a 56-byte payload.
func innerL3(v6 bool) ([]byte, layers.EthernetType, error) {
	if v6 {
		ip6 := &layers.IPv6{
			Version: 6, FlowLabel: 0x12345, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.ParseIP("fd00:9::1"), DstIP: net.ParseIP("fd00:20::5"),
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
		SrcIP: net.IPv4(10, 9, 0, 1).To4(), DstIP: net.IPv4(10, 20, 0, 5).To4(),
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

// dataplane is one private load of xtunnel's programs and maps.
type dataplane struct {
	objs   *loader.Objects
	tables *maps.Tables
}

func newDataplane(t maps.Tunnel, fou *tunnel.FOUPort) (*dataplane, error) {
	objs, err := loader.Load("")
	if err != nil {
		return nil, err
	}
	d := &dataplane{objs: objs, tables: maps.New(objs.Maps)}
	if err := d.tables.PutTunnel(t); err != nil {
		objs.Close()
		return nil, fmt.Errorf("put tunnel: %w", err)
	}
	if fou != nil {
		if err := d.tables.PutFOU(*fou); err != nil {
			objs.Close()
			return nil, fmt.Errorf("put fou port: %w", err)
		}
	}
	return d, nil
}

func (d *dataplane) Close() { d.objs.Close() }

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
