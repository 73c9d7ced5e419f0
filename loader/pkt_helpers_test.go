package loader_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Program return codes (XDP actions, TC actions).
const (
	xdpDrop     = 1
	xdpPass     = 2
	xdpRedirect = 4
	tcOK        = 0
	tcShot      = 2
	tcRedirect  = 7
)

var (
	addrLocal   = netip.MustParseAddr("198.51.100.1")
	addrRemote  = netip.MustParseAddr("198.51.100.2")
	addrUnknown = netip.MustParseAddr("198.51.100.3")

	// IPv6 underlay (ip6tnl, ip6gre).
	addr6Local   = netip.MustParseAddr("2001:db8::1")
	addr6Remote  = netip.MustParseAddr("2001:db8::2")
	addr6Unknown = netip.MustParseAddr("2001:db8::3")

	tunMAC  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x01, 0x01}
	peerMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x01, 0x02}
	// Addresses of frames the programs receive; they must not leak into output.
	wireSrcMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0a, 0x0a}
	wireDstMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0b, 0x0b}
)

const testTunnelID = 7

func requireRootForBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("packet tests run BPF programs with BPF_PROG_TEST_RUN, which needs root (CAP_BPF and CAP_NET_ADMIN); CI runs them as root")
	}
}

var reasonNames = sync.OnceValues(loader.ReasonNames)

// reasonIndex returns the value of the reason called name, failing the test
// when the object does not know it.
func reasonIndex(t *testing.T, name string) int {
	t.Helper()
	names, err := reasonNames()
	if err != nil {
		t.Fatalf("reason names: %v", err)
	}
	for i, n := range names {
		if n == name {
			return i
		}
	}
	t.Fatalf("no reason %q in %v", name, names)
	return -1
}

// newTunnel is a tunnel usable under BPF_PROG_TEST_RUN: every ifindex is the
// loopback device, which exists in every netns and is skb->dev for TC runs.
func newTunnel(typ tunnel.Type, local, remote netip.Addr) maps.Tunnel {
	return maps.Tunnel{
		Spec: tunnel.Spec{
			Name: "xt0", Type: typ, Local: local, Remote: remote, TTL: 64,
		},
		ID:          testTunnelID,
		Ifindex:     1,
		PeerIfindex: 1,
		LinkIfindex: 1,
		OverlayMTU:  1400,
		MAC:         tunMAC,
		PeerMAC:     peerMAC,
	}
}

// greTunnel is a GRE tunnel from addrLocal to addrRemote; key < 0 means none.
func greTunnel(key int64) maps.Tunnel {
	tun := newTunnel(tunnel.GRE, addrLocal, addrRemote)
	if key >= 0 {
		tun.IKey = tunnel.Key{Set: true, Value: uint32(key)}
		tun.OKey = tun.IKey
	}
	return tun
}

func ipipTunnel() maps.Tunnel { return newTunnel(tunnel.IPIP, addrLocal, addrRemote) }

// mirror is the tunnel at the other end of tun.
func mirror(tun maps.Tunnel) maps.Tunnel {
	m := tun
	m.Local, m.Remote = tun.Remote, tun.Local
	m.IKey, m.OKey = tun.OKey, tun.IKey
	m.ICsum, m.OCsum = tun.OCsum, tun.ICsum
	m.ISeq, m.OSeq = tun.OSeq, tun.ISeq
	m.MAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x02, 0x01}
	m.PeerMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x02, 0x02}
	return m
}

// dataplane is one private load of the programs and their maps.
type dataplane struct {
	objs   *loader.Objects
	tables *maps.Tables
}

// newDataplane loads the programs with tuns installed. Each call has its own
// maps, so subtests do not see each other's tunnels or counters.
func newDataplane(t *testing.T, tuns ...maps.Tunnel) *dataplane {
	t.Helper()
	requireRootForBPF(t)
	objs, err := loader.Load("")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { objs.Close() })
	d := &dataplane{objs: objs, tables: maps.New(objs.Maps)}
	for _, tun := range tuns {
		if err := d.tables.PutTunnel(tun); err != nil {
			t.Fatalf("put tunnel %+v: %v", tun.Spec, err)
		}
	}
	return d
}

// result is what one program run did.
type result struct {
	ret   uint32
	out   []byte
	moved map[string]uint64 // reason name -> how much its counter grew
}

func (d *dataplane) reasons(t *testing.T) []uint64 {
	t.Helper()
	r, err := d.tables.Reasons()
	if err != nil {
		t.Fatalf("read reasons: %v", err)
	}
	return r
}

// run runs prog once on pkt and reports the verdict, the output packet and
// the reason counters that moved.
func (d *dataplane) run(t *testing.T, prog *ebpf.Program, pkt []byte) result {
	t.Helper()
	res, err := d.tryRun(t, prog, pkt)
	if err != nil {
		t.Fatalf("run %s on %d bytes: %v", prog, len(pkt), err)
	}
	return res
}

func (d *dataplane) tryRun(t *testing.T, prog *ebpf.Program, pkt []byte) (result, error) {
	t.Helper()
	return d.tryRunCtx(t, prog, pkt, nil)
}

// skbCtx is the start of struct __sk_buff, up to gso_segs: the fields
// BPF_PROG_TEST_RUN lets a TC run set (the others must stay zero).
type skbCtx struct {
	Ifindex uint32 // skb->dev: a netdev of the calling thread's namespace; 0: its loopback device
	GSOSegs uint32 // skb_shinfo(skb)->gso_segs
}

func (c skbCtx) bytes() []byte {
	b := make([]byte, 168) // offsetofend(struct __sk_buff, gso_segs)
	binary.NativeEndian.PutUint32(b[40:], c.Ifindex)
	binary.NativeEndian.PutUint32(b[164:], c.GSOSegs)
	return b
}

// runCtx is run with the TC program's skb set up by ctx.
func (d *dataplane) runCtx(t *testing.T, prog *ebpf.Program, pkt []byte, ctx skbCtx) result {
	t.Helper()
	res, err := d.tryRunCtx(t, prog, pkt, &ctx)
	if err != nil {
		t.Fatalf("run %s on %d bytes with %+v: %v", prog, len(pkt), ctx, err)
	}
	return res
}

func (d *dataplane) tryRunCtx(t *testing.T, prog *ebpf.Program, pkt []byte, ctx *skbCtx) (result, error) {
	t.Helper()
	before := d.reasons(t)
	in := append([]byte(nil), pkt...) // the kernel copies, but be sure pkt stays intact
	opts := &ebpf.RunOptions{Data: in, DataOut: make([]byte, len(pkt)+256)}
	if ctx != nil {
		opts.Context = ctx.bytes()
	}
	ret, err := prog.Run(opts)
	if err != nil {
		return result{}, err
	}
	after := d.reasons(t)
	names, err := reasonNames()
	if err != nil {
		t.Fatalf("reason names: %v", err)
	}
	moved := map[string]uint64{}
	for i := range after {
		if after[i] != before[i] {
			moved[names[i]] = after[i] - before[i]
		}
	}
	return result{ret: ret, out: opts.DataOut, moved: moved}, nil
}

func (d *dataplane) counters(t *testing.T, id uint32) maps.Counters {
	t.Helper()
	c, err := d.tables.Counters(id)
	if err != nil {
		t.Fatalf("counters of tunnel %d: %v", id, err)
	}
	return c
}

// checkVerdict fails unless the run returned ret and moved exactly the
// counter of reason by one.
func checkVerdict(t *testing.T, res result, ret uint32, reason string) {
	t.Helper()
	reasonIndex(t, reason) // a typo in a table must not pass silently
	if res.ret != ret {
		t.Errorf("verdict = %d, want %d (reasons moved: %v)", res.ret, ret, res.moved)
	}
	want := map[string]uint64{reason: 1}
	if fmt.Sprint(res.moved) != fmt.Sprint(want) {
		t.Errorf("reasons moved = %v, want %v", res.moved, want)
	}
}

func checkCounters(t *testing.T, got, want maps.Counters) {
	t.Helper()
	if got != want {
		t.Errorf("tunnel counters = %+v, want %+v", got, want)
	}
}

// serialize builds a packet with gopacket, fixing lengths and checksums.
func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ethFrame is an Ethernet frame around an L3 packet. Payloads here are big
// enough that gopacket adds no padding; the length check makes sure.
func ethFrame(t *testing.T, dst, src net.HardwareAddr, typ layers.EthernetType, l3 []byte) []byte {
	t.Helper()
	f := serialize(t, &layers.Ethernet{DstMAC: dst, SrcMAC: src, EthernetType: typ}, gopacket.Payload(l3))
	if len(f) != 14+len(l3) {
		t.Fatalf("ethernet frame of %d bytes padded to %d: use a longer payload", 14+len(l3), len(f))
	}
	return f
}

func ip(a netip.Addr) net.IP { return net.IP(a.AsSlice()) }

// ECN code points.
const (
	notECT = 0
	ect1   = 1
	ect0   = 2
	ce     = 3
)

// inner describes an inner packet: IPv4 + ICMP echo, IPv6 + UDP, or an
// MPLS label stack entry over the IPv4 packet.
type inner struct {
	v6   bool
	mpls bool       // one MPLS label stack entry (label 1000, bottom of stack) over the IPv4 packet
	tos  uint8      // IPv4 TOS or IPv6 traffic class
	ttl  uint8      // TTL or hop limit (MPLS: the label stack entry's TTL); 0 means 64
	df   bool       // IPv4 only
	dst  netip.Addr // IPv6 destination; zero means fd00:20::5
}

var payload = []byte("xtunnel packet test payload, long enough to need no padding")

func (in inner) etherType() layers.EthernetType {
	if in.mpls {
		return layers.EthernetTypeMPLSUnicast
	}
	if in.v6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

func (in inner) bytes(t *testing.T) []byte {
	t.Helper()
	ttl := in.ttl
	if ttl == 0 {
		ttl = 64
	}
	if in.mpls {
		lse := &layers.MPLS{Label: 1000, StackBottom: true, TTL: ttl}
		return serialize(t, lse, gopacket.Payload(inner{tos: in.tos, df: in.df}.bytes(t)))
	}
	if in.v6 {
		dst := net.ParseIP("fd00:20::5")
		if in.dst.IsValid() {
			dst = ip(in.dst)
		}
		ip6 := &layers.IPv6{
			Version: 6, TrafficClass: in.tos, FlowLabel: 0x12345, HopLimit: ttl,
			NextHeader: layers.IPProtocolUDP,
			SrcIP:      net.ParseIP("fd00:9::1"), DstIP: dst,
		}
		udp := &layers.UDP{SrcPort: 40000, DstPort: 5001}
		if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		return serialize(t, ip6, udp, gopacket.Payload(payload))
	}
	ip4 := &layers.IPv4{
		Version: 4, TOS: in.tos, Id: 0x1234, TTL: ttl, Protocol: layers.IPProtocolICMPv4,
		SrcIP: net.IPv4(10, 9, 0, 1).To4(), DstIP: net.IPv4(10, 20, 0, 5).To4(),
	}
	if in.df {
		ip4.Flags = layers.IPv4DontFragment
	}
	icmp := &layers.ICMPv4{
		TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 77, Seq: 1,
	}
	return serialize(t, ip4, icmp, gopacket.Payload(payload))
}

// ipv4Checksum is the header checksum of hdr with its checksum field zeroed.
func ipv4Checksum(hdr []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(hdr); i += 2 {
		if i == 10 {
			continue
		}
		sum += uint32(binary.BigEndian.Uint16(hdr[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// fixIPv4Checksum recomputes the checksum of the IPv4 header at off.
func fixIPv4Checksum(b []byte, off int) {
	ihl := int(b[off]&0x0f) * 4
	if ihl < 20 {
		ihl = 20
	}
	binary.BigEndian.PutUint16(b[off+10:], ipv4Checksum(b[off:off+ihl]))
}

// describe decodes pkt and lists its fields, one "layer.field=value" each,
// so that two packets can be compared field by field.
func describe(pkt []byte) []string {
	var out []string
	add := func(i int, layer, field string, v any) {
		out = append(out, fmt.Sprintf("%d:%s.%s=%v", i, layer, field, v))
	}
	p := gopacket.NewPacket(pkt, layers.LayerTypeEthernet, gopacket.Default)
	for i, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet:
			add(i, "Ethernet", "Dst", l.DstMAC)
			add(i, "Ethernet", "Src", l.SrcMAC)
			add(i, "Ethernet", "Type", l.EthernetType)
		case *layers.Dot1Q:
			add(i, "Dot1Q", "VLAN", l.VLANIdentifier)
			add(i, "Dot1Q", "Type", l.Type)
		case *layers.IPv4:
			add(i, "IPv4", "Version", l.Version)
			add(i, "IPv4", "IHL", l.IHL)
			add(i, "IPv4", "TOS", fmt.Sprintf("%#02x", l.TOS))
			add(i, "IPv4", "Length", l.Length)
			add(i, "IPv4", "Id", l.Id)
			add(i, "IPv4", "Flags", l.Flags)
			add(i, "IPv4", "FragOffset", l.FragOffset)
			add(i, "IPv4", "TTL", l.TTL)
			add(i, "IPv4", "Protocol", l.Protocol)
			add(i, "IPv4", "Checksum", fmt.Sprintf("%#04x", l.Checksum))
			add(i, "IPv4", "ChecksumValid", ipv4Checksum(l.Contents) == l.Checksum)
			add(i, "IPv4", "Src", l.SrcIP)
			add(i, "IPv4", "Dst", l.DstIP)
		case *layers.IPv6:
			add(i, "IPv6", "Version", l.Version)
			add(i, "IPv6", "TrafficClass", fmt.Sprintf("%#02x", l.TrafficClass))
			add(i, "IPv6", "FlowLabel", fmt.Sprintf("%#05x", l.FlowLabel))
			add(i, "IPv6", "Length", l.Length)
			add(i, "IPv6", "NextHeader", l.NextHeader)
			add(i, "IPv6", "HopLimit", l.HopLimit)
			add(i, "IPv6", "Src", l.SrcIP)
			add(i, "IPv6", "Dst", l.DstIP)
		case *layers.IPv6HopByHop:
			add(i, "IPv6HopByHop", "NextHeader", l.NextHeader)
			add(i, "IPv6HopByHop", "HeaderLength", l.HeaderLength)
			add(i, "IPv6HopByHop", "Bytes", hex.EncodeToString(l.Contents))
		case *layers.IPv6Destination:
			add(i, "IPv6Destination", "NextHeader", l.NextHeader)
			add(i, "IPv6Destination", "HeaderLength", l.HeaderLength)
			for j, o := range l.Options {
				add(i, "IPv6Destination", fmt.Sprintf("Option%d", j),
					fmt.Sprintf("type=%d len=%d data=%x", o.OptionType, o.OptionLength, o.OptionData))
			}
		case *layers.MPLS:
			add(i, "MPLS", "Label", l.Label)
			add(i, "MPLS", "TrafficClass", l.TrafficClass)
			add(i, "MPLS", "StackBottom", l.StackBottom)
			add(i, "MPLS", "TTL", l.TTL)
		case *layers.GRE:
			add(i, "GRE", "Checksum", l.ChecksumPresent)
			add(i, "GRE", "Routing", l.RoutingPresent)
			add(i, "GRE", "KeyPresent", l.KeyPresent)
			add(i, "GRE", "Seq", l.SeqPresent)
			add(i, "GRE", "Version", l.Version)
			add(i, "GRE", "Protocol", l.Protocol)
			add(i, "GRE", "Key", l.Key)
			add(i, "GRE", "SeqNumber", l.Seq)
			add(i, "GRE", "ChecksumField", fmt.Sprintf("%#04x", l.Checksum))
		case *layers.VXLAN:
			add(i, "VXLAN", "Flags", fmt.Sprintf("%#08x", binary.BigEndian.Uint32(l.Contents)))
			add(i, "VXLAN", "VNI", l.VNI)
			add(i, "VXLAN", "Reserved", l.Contents[7])
		case *layers.Geneve:
			// gopacket 1.1.19 reads one bit of version and four of option
			// length: take those from the bytes.
			c := l.Contents
			add(i, "Geneve", "Version", c[0]>>6)
			add(i, "Geneve", "OptLen", c[0]&0x3f)
			add(i, "Geneve", "O", c[1]&0x80 != 0)
			add(i, "Geneve", "C", c[1]&0x40 != 0)
			add(i, "Geneve", "Rsvd", c[1]&0x3f)
			add(i, "Geneve", "Protocol", l.Protocol)
			add(i, "Geneve", "VNI", l.VNI)
			add(i, "Geneve", "Rsvd2", c[7])
			for j, o := 0, c[8:]; len(o) >= 4; j++ {
				n := min(4+4*int(o[3]&0x1f), len(o))
				add(i, "Geneve", fmt.Sprintf("Option%d", j),
					fmt.Sprintf("class=%#04x type=%#02x flags=%d len=%d data=%x",
						binary.BigEndian.Uint16(o), o[2], o[3]>>5, o[3]&0x1f, o[4:n]))
				o = o[n:]
			}
		case *layers.ERSPANII:
			add(i, "ERSPANII", "Version", l.Version)
			add(i, "ERSPANII", "VLAN", l.VLANIdentifier)
			add(i, "ERSPANII", "CoS", l.CoS)
			add(i, "ERSPANII", "En", l.TrunkEncap)
			add(i, "ERSPANII", "T", l.IsTruncated)
			add(i, "ERSPANII", "SessionID", l.SessionID)
			add(i, "ERSPANII", "Reserved", l.Reserved)
			add(i, "ERSPANII", "Index", fmt.Sprintf("%#05x", l.Index))
		case *erspanIII:
			for _, f := range l.fields() {
				add(i, "ERSPANIII", f.name, f.v)
			}
		case *layers.ICMPv4:
			add(i, "ICMPv4", "TypeCode", l.TypeCode)
			add(i, "ICMPv4", "Checksum", fmt.Sprintf("%#04x", l.Checksum))
			add(i, "ICMPv4", "Id", l.Id)
			add(i, "ICMPv4", "Seq", l.Seq)
		case *layers.UDP:
			add(i, "UDP", "Ports", fmt.Sprintf("%d->%d", l.SrcPort, l.DstPort))
			add(i, "UDP", "Length", l.Length)
			add(i, "UDP", "Checksum", fmt.Sprintf("%#04x", l.Checksum))
		default:
			add(i, l.LayerType().String(), "Bytes", hex.EncodeToString(l.LayerContents()))
		}
	}
	return out
}

// checkFrame fails unless got == want byte for byte, and reports the
// difference field by field after decoding both.
func checkFrame(t *testing.T, got, want []byte) {
	t.Helper()
	g, w := describe(got), describe(want)
	var diff []string
	for i := 0; i < len(g) || i < len(w); i++ {
		var gs, ws string
		if i < len(g) {
			gs = g[i]
		}
		if i < len(w) {
			ws = w[i]
		}
		if gs != ws {
			diff = append(diff, fmt.Sprintf("  got  %s\n  want %s", gs, ws))
		}
	}
	if len(diff) == 0 && bytes.Equal(got, want) {
		return
	}
	t.Errorf("output frame differs (%d bytes, want %d):\n%s\ngot  %x\nwant %x",
		len(got), len(want), strings.Join(diff, "\n"), got, want)
}

// checkRoundTrip encapsulates the inner packet in on tunnel tx, feeds the
// result to the decap of tunnel rx (the other end) and checks that rx's
// overlay receives in unchanged, with both ends' counters. tx's own decap
// must not take its own packet.
//
// An MPLS inner packet is encapsulated in a nextHop namespace (tx's link
// xtu0, see packet_nexthop_test.go), and its frame is addressed to the next
// hop: neighMAC from linkMAC where an IP payload's frame has tx.MAC from
// tx.PeerMAC. Decap does not read the Ethernet addresses: the same frame
// with the IP path's addresses must decapsulate to the same bytes.
func checkRoundTrip(t *testing.T, tx, rx maps.Tunnel, in inner) {
	t.Helper()
	l3 := in.bytes(t)
	frame := ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), l3)
	var nh *nextHop
	if in.mpls {
		nh = newNextHop(t, true)
		tx = nh.on(tx)
	}
	txd := newDataplane(t, tx)
	var enc result
	if in.mpls {
		enc = nh.run(t, txd, frame)
	} else {
		enc = txd.run(t, txd.objs.Encap, frame)
	}
	checkVerdict(t, enc, tcRedirect, "encap")
	if in.mpls && len(enc.out) >= 12 {
		if !bytes.Equal(enc.out[0:6], neighMAC) || !bytes.Equal(enc.out[6:12], linkMAC) {
			t.Errorf("MPLS encap frame %s -> %s, want %s -> %s (xtu0 to the remote's neighbour)",
				net.HardwareAddr(enc.out[6:12]), net.HardwareAddr(enc.out[0:6]), linkMAC, neighMAC)
		}
	}

	rxd := newDataplane(t, rx)
	dec := rxd.run(t, rxd.objs.Underlay, enc.out)
	checkVerdict(t, dec, xdpRedirect, "decap")
	checkFrame(t, dec.out, ethFrame(t, rx.MAC, rx.PeerMAC, in.etherType(), l3))
	checkCounters(t, txd.counters(t, tx.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
	checkCounters(t, rxd.counters(t, rx.ID), maps.Counters{RxPackets: 1, RxBytes: uint64(len(l3))})

	own := txd.run(t, txd.objs.Underlay, enc.out)
	checkVerdict(t, own, xdpPass, "pass_no_tunnel")

	if in.mpls {
		ipPath := rxd.run(t, rxd.objs.Underlay, withMACs(enc.out, tx.MAC, tx.PeerMAC))
		checkVerdict(t, ipPath, xdpRedirect, "decap")
		checkFrame(t, ipPath.out, dec.out)
	}
}
