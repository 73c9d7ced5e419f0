// Package maps is the typed API over xtunnel's BPF maps. It takes domain
// types (netip.Addr, tunnel.Type) and keeps byte layouts to itself.
package maps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/cilium/ebpf"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Tunnel is one tunnel as the dataplane holds it.
type Tunnel struct {
	tunnel.Spec
	ID          uint32
	Ifindex     int // overlay netdev
	PeerIfindex int // its veth peer
	LinkIfindex int // underlay netdev
	OverlayMTU  int
	MAC         net.HardwareAddr // overlay netdev's MAC
	PeerMAC     net.HardwareAddr
}

// Counters are one tunnel's counters summed over CPUs.
type Counters struct {
	RxPackets, RxBytes, RxDropped uint64
	TxPackets, TxBytes, TxDropped uint64
}

// Tables wraps the maps of one loaded (or pinned) object set.
type Tables struct {
	m loader.Maps
}

// New wraps maps.
func New(m loader.Maps) *Tables { return &Tables{m: m} }

var typeCodes = map[tunnel.Type]uint8{
	tunnel.GRE: loader.TypeGRE, tunnel.IPIP: loader.TypeIPIP, tunnel.SIT: loader.TypeSIT,
	tunnel.IP6TNL: loader.TypeIP6TNL, tunnel.IP6GRE: loader.TypeIP6GRE,
	tunnel.GRETAP: loader.TypeGRETAP, tunnel.IP6GRETAP: loader.TypeIP6GRETAP,
	tunnel.GENEVE: loader.TypeGeneve, tunnel.VXLAN: loader.TypeVXLAN,
	tunnel.ERSPAN: loader.TypeERSPAN, tunnel.IP6ERSPAN: loader.TypeIP6ERSPAN,
}

// GRE protocol types that key gretap and ERSPAN tunnels apart from gre
// ones (xt_decap_key.port).
const (
	ethPTEB    = 0x6558
	ethPERSPAN = 0x88be
)

// Default UDP source port range: the kernel's ephemeral ports.
const (
	sportMin = 32768
	sportMax = 60999
)

// udpTunnel reports whether t is a VXLAN or Geneve tunnel.
func udpTunnel(t tunnel.Type) bool { return t == tunnel.VXLAN || t == tunnel.GENEVE }

// erspan reports whether t is an ERSPAN tunnel.
func erspan(t tunnel.Type) bool { return t == tunnel.ERSPAN || t == tunnel.IP6ERSPAN }

// innerFlags maps what a tunnel carries to the program's flags.
var innerFlags = map[tunnel.Inner]uint32{
	tunnel.InnerIPv4: loader.FlagInner4, tunnel.InnerIPv6: loader.FlagInner6, tunnel.InnerMPLS: loader.FlagInnerMPLS,
}

// innerProtos are the outer IP protocols that carry each inner payload
// without GRE.
var innerProtos = map[tunnel.Inner]uint8{tunnel.InnerIPv4: 4, tunnel.InnerIPv6: 41, tunnel.InnerMPLS: 137}

// wire returns the uint32 whose in-memory bytes are v in network order.
func wire(v uint32) uint32 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return binary.NativeEndian.Uint32(b[:])
}

func unwire(v uint32) uint32 { return wire(v) }

// htons returns the uint16 whose in-memory bytes are v in network order.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

func ntohs(v uint16) uint16 { return htons(v) }

// addr16 is the 16-byte form the maps hold: IPv4 as ::ffff:a.b.c.d.
func addr16(a netip.Addr) [16]uint8 { return a.As16() }

func addrFrom16(b [16]uint8) netip.Addr { return netip.AddrFrom16(b).Unmap() }

// decapKeys are what received packets of t are matched on: one per outer
// protocol it accepts (an ipip in mode any takes protocols 4 and 137).
func decapKeys(t Tunnel) []loader.DecapKeyT {
	base := loader.DecapKeyT{}
	if t.Local.IsValid() {
		base.Local = addr16(t.Local)
	}
	if t.Remote.IsValid() {
		base.Remote = addr16(t.Remote)
	} // else all zero: any remote (sit 6to4 / ISATAP)
	if t.IKey.Set {
		base.Key = wire(t.IKey.Value)
		base.HasKey = 1
	}
	switch {
	case udpTunnel(t.Type):
		base.Proto = 17
		base.Port = htons(t.DstPort)
		base.Key = wire(t.VNI << 8)
		base.HasKey = 1
		return []loader.DecapKeyT{base}
	case erspan(t.Type):
		base.Proto = 47
		base.Port = htons(ethPERSPAN) // the session ID is the key
		return []loader.DecapKeyT{base}
	case t.Ethernet() && t.Type.IsGRE():
		base.Proto = 47
		base.Port = htons(ethPTEB)
		return []loader.DecapKeyT{base}
	case t.Type.IsGRE():
		base.Proto = 47
		return []loader.DecapKeyT{base}
	}
	var keys []loader.DecapKeyT
	for _, in := range []tunnel.Inner{tunnel.InnerIPv4, tunnel.InnerIPv6, tunnel.InnerMPLS} {
		if t.Inners()&in != 0 {
			k := base
			k.Proto = innerProtos[in]
			keys = append(keys, k)
		}
	}
	return keys
}

func toValue(t Tunnel) (loader.TunnelT, error) {
	code, ok := typeCodes[t.Type]
	if !ok {
		return loader.TunnelT{}, fmt.Errorf("tunnel type %s has no fast path", t.Type)
	}
	v := loader.TunnelT{
		Local:       addr16(t.Local),
		Id:          t.ID,
		Ifindex:     uint32(t.Ifindex),
		PeerIfindex: uint32(t.PeerIfindex),
		LinkIfindex: uint32(t.LinkIfindex),
		Type:        code,
		Ttl:         t.TTL,
		Tos:         t.TOS,
		Mtu:         uint16(t.OverlayMTU),
		Mode:        uint8(t.Mode),
		Flowlabel:   wire(t.FlowLabel & 0xfffff),
	}
	if t.Remote.IsValid() {
		v.Remote = addr16(t.Remote)
	}
	for in, f := range innerFlags {
		if t.Inners()&in != 0 {
			v.Flags |= f
		}
	}
	if t.Outer6() {
		v.Flags |= loader.FlagOuter6
	}
	if t.Type.IsGRE() {
		v.Flags |= loader.FlagGRE
	}
	if on, limit := t.EncapLimitOn(); on {
		v.Flags |= loader.FlagEncapLimit
		v.EncapLimit = limit
	}
	if t.FlowInherit {
		v.Flags |= loader.FlagFlowInherit
	}
	if t.IgnoreDF {
		v.Flags |= loader.FlagIgnoreDF
	}
	switch t.Encap.Type {
	case tunnel.EncapFOU:
		v.Flags |= loader.FlagFOU
	case tunnel.EncapGUE:
		v.Flags |= loader.FlagGUE
	}
	if t.Encap.Type != tunnel.EncapNone {
		v.EncapSport = htons(t.Encap.SPort)
		v.EncapDport = htons(t.Encap.DPort)
	}
	v.SportMin, v.SportMax = sportMin, sportMax
	if t.SrcPortMin != 0 || t.SrcPortMax != 0 {
		v.SportMin, v.SportMax = t.SrcPortMin, t.SrcPortMax
	}
	for _, f := range []struct {
		on   bool
		flag uint32
	}{
		{t.ICsum, loader.FlagICsum}, {t.OCsum, loader.FlagOCsum},
		{t.ISeq, loader.FlagISeq}, {t.OSeq, loader.FlagOSeq},
		{udpCsum(t.Spec), loader.FlagUDPCsum},
		{SlowTX(t.Spec), loader.FlagSlowTX},
	} {
		if f.on {
			v.Flags |= f.flag
		}
	}
	if t.Type == tunnel.SIT && !t.Remote.IsValid() && !t.External {
		if t.ISATAP {
			v.Flags |= loader.FlagRemoteISATAP
		} else {
			v.Flags |= loader.FlagRemote6to4
		}
	}
	if t.IKey.Set {
		v.Flags |= loader.FlagIKey
		v.Ikey = wire(t.IKey.Value)
	}
	if t.OKey.Set {
		v.Flags |= loader.FlagOKey
		v.Okey = wire(t.OKey.Value)
	}
	if t.TOSInherit {
		v.Flags |= loader.FlagTOSInherit
	}
	if !t.NoPMTUDisc && !t.Outer6() && !udpTunnel(t.Type) {
		v.Flags |= loader.FlagDF
	}
	if t.External {
		v.Flags |= loader.FlagExternal
	}
	ethernetValue(t, &v) // last: it clears flags ERSPAN must not have
	copy(v.Mac[:], t.MAC)
	copy(v.PeerMac[:], t.PeerMAC)
	for i := 0; i < len(t.Name) && i < len(v.Name)-1; i++ {
		v.Name[i] = int8(t.Name[i])
	}
	return v, nil
}

func fromValue(v loader.TunnelT) Tunnel {
	t := Tunnel{
		ID:          v.Id,
		Ifindex:     int(v.Ifindex),
		PeerIfindex: int(v.PeerIfindex),
		LinkIfindex: int(v.LinkIfindex),
		OverlayMTU:  int(v.Mtu),
		MAC:         append(net.HardwareAddr(nil), v.Mac[:]...),
		PeerMAC:     append(net.HardwareAddr(nil), v.PeerMac[:]...),
	}
	for c, code := range typeCodes {
		if code == v.Type {
			t.Type = c
		}
	}
	if v.Local != ([16]uint8{}) {
		t.Local = addrFrom16(v.Local)
	}
	if v.Remote != ([16]uint8{}) {
		t.Remote = addrFrom16(v.Remote)
	}
	t.TTL, t.TOS = v.Ttl, v.Tos
	t.Mode = tunnel.Mode(v.Mode)
	t.TOSInherit = v.Flags&loader.FlagTOSInherit != 0
	ethernetSpec(v, &t)
	t.NoPMTUDisc = v.Flags&loader.FlagDF == 0 && !t.Outer6() && !udpTunnel(t.Type)
	t.FlowLabel = unwire(v.Flowlabel)
	t.FlowInherit = v.Flags&loader.FlagFlowInherit != 0
	t.IgnoreDF = v.Flags&loader.FlagIgnoreDF != 0 && !udpTunnel(t.Type)
	t.ISATAP = v.Flags&loader.FlagRemoteISATAP != 0
	t.External = v.Flags&loader.FlagExternal != 0
	if t.Type.Outer6() { // ip6tnl, ip6gre, ip6gretap, ip6erspan
		switch {
		case v.Flags&loader.FlagEncapLimit == 0:
			t.EncapLimit = tunnel.EncapLimitNone
		case v.EncapLimit == 0:
			t.EncapLimit = tunnel.EncapLimitZero
		case v.EncapLimit != 4:
			t.EncapLimit = int(v.EncapLimit)
		}
	}
	switch {
	case v.Flags&loader.FlagFOU != 0:
		t.Encap.Type = tunnel.EncapFOU
	case v.Flags&loader.FlagGUE != 0:
		t.Encap.Type = tunnel.EncapGUE
	}
	if t.Encap.Type != tunnel.EncapNone {
		t.Encap.SPort = ntohs(v.EncapSport)
		t.Encap.DPort = ntohs(v.EncapDport)
		t.Encap.Csum = v.Flags&loader.FlagUDPCsum != 0 && !t.Outer6()
	}
	t.ICsum = v.Flags&loader.FlagICsum != 0
	t.OCsum = v.Flags&loader.FlagOCsum != 0
	t.ISeq = v.Flags&loader.FlagISeq != 0
	t.OSeq = v.Flags&loader.FlagOSeq != 0
	if erspan(t.Type) {
		// The session ID rides in the ERSPAN header, not as a GRE key.
		t.IKey = tunnel.Key{Set: true, Value: unwire(v.Okey)}
		t.OKey = t.IKey
	}
	if v.Flags&loader.FlagIKey != 0 {
		t.IKey = tunnel.Key{Set: true, Value: unwire(v.Ikey)}
	}
	if v.Flags&loader.FlagOKey != 0 {
		t.OKey = tunnel.Key{Set: true, Value: unwire(v.Okey)}
	}
	var name []byte
	for _, c := range v.Name {
		if c == 0 {
			break
		}
		name = append(name, byte(c))
	}
	t.Name = string(name)
	return t
}

// SlowTX reports whether s needs per-packet work on transmit (GRE checksum
// or sequence numbers, UDP checksums), which the encap program can only do
// after the stack has segmented and checksummed: at the veth peer.
func SlowTX(s tunnel.Spec) bool {
	return s.OCsum || s.OSeq || udpCsum(s)
}

// udpCsum reports whether s sends UDP checksums. FOU/GUE: when asked,
// and always over IPv6 (RFC 8200; zero checksums need willing receivers).
// VXLAN, Geneve: udpcsum over IPv4; over IPv6 unless udp6zerocsumtx.
func udpCsum(s tunnel.Spec) bool {
	if udpTunnel(s.Type) {
		if s.Outer6() {
			return !s.UDP6ZeroCsumTx
		}
		return s.UDPCsum
	}
	return s.Encap.Type != tunnel.EncapNone && (s.Encap.Csum || s.Type.Outer6())
}

// ownDecapKeys are t's entries in the decap table: none for an external
// tunnel, whose peers come from its routes (xt_rpeers).
func ownDecapKeys(t Tunnel) []loader.DecapKeyT {
	if t.External {
		return nil
	}
	return decapKeys(t)
}

// DecapOwner returns a tunnel that already receives some of what t would.
func (tb *Tables) DecapOwner(t Tunnel) (Tunnel, bool) {
	var v loader.TunnelT
	for _, k := range ownDecapKeys(t) {
		if err := tb.m.Decap.Lookup(&k, &v); err == nil {
			return fromValue(v), true
		}
	}
	return Tunnel{}, false
}

// PutTunnel makes t live: decap redirect target, decap matches, encap
// config. On error nothing it wrote stays.
func (tb *Tables) PutTunnel(t Tunnel) (err error) {
	v, err := toValue(t)
	if err != nil {
		return err
	}
	if err := tb.ResetCounters(t.ID); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tb.DeleteTunnel(t)
		}
	}()
	peer := uint32(t.PeerIfindex)
	if err := tb.m.Devmap.Update(peer, peer, ebpf.UpdateNoExist); err != nil {
		return fmt.Errorf("devmap: %w", err)
	}
	if err := tb.m.Peers.Update(peer, uint32(t.Ifindex), ebpf.UpdateNoExist); err != nil {
		return fmt.Errorf("peer table: %w", err)
	}
	for _, k := range ownDecapKeys(t) {
		if err := tb.m.Decap.Update(&k, &v, ebpf.UpdateNoExist); err != nil {
			return fmt.Errorf("decap table: %w", err)
		}
	}
	if err := tb.m.Encap.Update(uint32(t.Ifindex), &v, ebpf.UpdateNoExist); err != nil {
		return fmt.Errorf("encap table: %w", err)
	}
	return nil
}

// DeleteTunnel removes what PutTunnel wrote. Missing entries are fine.
func (tb *Tables) DeleteTunnel(t Tunnel) error {
	var errs []error
	keep := func(err error) {
		if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, err)
		}
	}
	keep(tb.m.Encap.Delete(uint32(t.Ifindex)))
	for _, k := range ownDecapKeys(t) {
		var v loader.TunnelT
		// Only entries of this tunnel: another may own a key t collides with.
		if tb.m.Decap.Lookup(&k, &v) == nil && int(v.Ifindex) == t.Ifindex {
			keep(tb.m.Decap.Delete(&k))
		}
	}
	keep(tb.m.Devmap.Delete(uint32(t.PeerIfindex)))
	var over uint32
	if tb.m.Peers.Lookup(uint32(t.PeerIfindex), &over) == nil && int(over) == t.Ifindex {
		keep(tb.m.Peers.Delete(uint32(t.PeerIfindex)))
	}
	return errors.Join(errs...)
}

// values converts every value of a map keyed by uint32.
func values[V, T any](m *ebpf.Map, conv func(V) T) ([]T, error) {
	var (
		k   uint32
		v   V
		out []T
	)
	it := m.Iterate()
	for it.Next(&k, &v) {
		out = append(out, conv(v))
	}
	return out, it.Err()
}

// Tunnels lists every tunnel in the encap table.
func (tb *Tables) Tunnels() ([]Tunnel, error) {
	return values(tb.m.Encap, fromValue)
}

// Counters sums tunnel id's per-CPU counters.
func (tb *Tables) Counters(id uint32) (Counters, error) {
	var per []loader.TunStatsT
	if err := tb.m.TStats.Lookup(id, &per); err != nil {
		return Counters{}, err
	}
	var c Counters
	for _, s := range per {
		c.RxPackets += s.RxPackets
		c.RxBytes += s.RxBytes
		c.RxDropped += s.RxDropped
		c.TxPackets += s.TxPackets
		c.TxBytes += s.TxBytes
		c.TxDropped += s.TxDropped
	}
	return c, nil
}

// ResetCounters zeroes tunnel id's counters on every CPU.
func (tb *Tables) ResetCounters(id uint32) error {
	zero := make([]loader.TunStatsT, ebpf.MustPossibleCPU())
	return tb.m.TStats.Put(id, zero)
}

// Reasons sums each reason counter over CPUs, indexed by reason.
func (tb *Tables) Reasons() ([]uint64, error) {
	out := make([]uint64, loader.NumReasons)
	for i := range out {
		var per []uint64
		if err := tb.m.Reasons.Lookup(uint32(i), &per); err != nil {
			return nil, err
		}
		for _, n := range per {
			out[i] += n
		}
	}
	return out, nil
}

// Port is an attached netdev.
type Port struct {
	Ifindex int
	Generic bool // XDP in generic (skb) mode
	Gateway bool // gateway mode: route and forward in XDP
}

// PutPort records an attached netdev, and makes it a redirect target of
// gateway mode (xt_devmap).
func (tb *Tables) PutPort(p Port) error {
	v := loader.PortT{Ifindex: uint32(p.Ifindex), XdpMode: 1}
	if p.Generic {
		v.XdpMode = 2
	}
	if p.Gateway {
		v.Gateway = 1
	}
	if err := tb.m.Devmap.Put(uint32(p.Ifindex), uint32(p.Ifindex)); err != nil {
		return fmt.Errorf("devmap: %w", err)
	}
	return tb.m.Ports.Put(uint32(p.Ifindex), &v)
}

// DeletePort forgets an attached netdev.
func (tb *Tables) DeletePort(ifindex int) error {
	err := tb.m.Ports.Delete(uint32(ifindex))
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		err = nil
	}
	if derr := tb.m.Devmap.Delete(uint32(ifindex)); derr != nil && !errors.Is(derr, ebpf.ErrKeyNotExist) {
		err = errors.Join(err, derr)
	}
	return err
}

// Ports lists attached netdevs.
func (tb *Tables) Ports() ([]Port, error) {
	return values(tb.m.Ports, func(v loader.PortT) Port {
		return Port{Ifindex: int(v.Ifindex), Generic: v.XdpMode == 2, Gateway: v.Gateway == 1}
	})
}

func fouKey(p tunnel.FOUPort) loader.FOUKeyT {
	k := loader.FOUKeyT{Port: htons(p.Port), Family: 4}
	if p.IPv6 {
		k.Family = 6
	}
	return k
}

// PutFOU opens a FOU/GUE receive port. It fails if the port is open
// (ebpf.ErrKeyExist), or held by VXLAN or Geneve tunnels (another error
// that says so).
func (tb *Tables) PutFOU(p tunnel.FOUPort) error {
	k := fouKey(p)
	var cur loader.FOUT
	if err := tb.m.FOU.Lookup(&k, &cur); err == nil && cur.Kind != loader.UDPFOU {
		return fmt.Errorf("UDP port %d is a %s port, opened by its tunnels; pick another port", p.Port, udpKindName(cur))
	}
	v := loader.FOUT{Ipproto: p.IPProto}
	if p.GUE {
		v.Ipproto, v.Gue = 0, 1
	}
	return tb.m.FOU.Update(&k, &v, ebpf.UpdateNoExist)
}

// DeleteFOU closes a receive port.
func (tb *Tables) DeleteFOU(p tunnel.FOUPort) error {
	k := fouKey(p)
	var cur loader.FOUT
	if err := tb.m.FOU.Lookup(&k, &cur); err == nil && cur.Kind != loader.UDPFOU {
		return fmt.Errorf("UDP port %d belongs to %s tunnels, not to fou: it closes with the last of them (link del)", p.Port, udpKindName(cur))
	}
	return tb.m.FOU.Delete(&k)
}

// FOUPorts lists the receive ports.
func (tb *Tables) FOUPorts() ([]tunnel.FOUPort, error) {
	var (
		k   loader.FOUKeyT
		v   loader.FOUT
		out []tunnel.FOUPort
	)
	it := tb.m.FOU.Iterate()
	for it.Next(&k, &v) {
		if v.Kind != loader.UDPFOU {
			continue // a VXLAN or Geneve port, opened by its tunnels
		}
		out = append(out, tunnel.FOUPort{Port: ntohs(k.Port), IPv6: k.Family == 6, GUE: v.Gue == 1, IPProto: v.Ipproto})
	}
	return out, it.Err()
}
