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

var typeCodes = map[tunnel.Type]uint8{tunnel.GRE: loader.TypeGRE, tunnel.IPIP: loader.TypeIPIP}

// wire returns the uint32 whose in-memory bytes are v in network order.
func wire(v uint32) uint32 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return binary.NativeEndian.Uint32(b[:])
}

func unwire(v uint32) uint32 { return wire(v) }

// addr16 is the 16-byte form the maps hold: IPv4 as ::ffff:a.b.c.d.
func addr16(a netip.Addr) [16]uint8 { return a.As16() }

func addrFrom16(b [16]uint8) netip.Addr { return netip.AddrFrom16(b).Unmap() }

func outerProto(t tunnel.Type) uint8 {
	if t == tunnel.IPIP {
		return 4
	}
	return 47
}

// DecapKey is what received packets of t are matched on.
func decapKey(t Tunnel) loader.DecapKeyT {
	k := loader.DecapKeyT{
		Local:  addr16(t.Local),
		Remote: addr16(t.Remote),
		Proto:  outerProto(t.Type),
	}
	if t.IKey.Set {
		k.Key = wire(t.IKey.Value)
		k.HasKey = 1
	}
	return k
}

func toValue(t Tunnel) (loader.TunnelT, error) {
	code, ok := typeCodes[t.Type]
	if !ok {
		return loader.TunnelT{}, fmt.Errorf("tunnel type %s has no fast path", t.Type)
	}
	v := loader.TunnelT{
		Local:       addr16(t.Local),
		Remote:      addr16(t.Remote),
		Id:          t.ID,
		Ifindex:     uint32(t.Ifindex),
		PeerIfindex: uint32(t.PeerIfindex),
		LinkIfindex: uint32(t.LinkIfindex),
		Type:        code,
		Ttl:         t.TTL,
		Tos:         t.TOS,
		Mtu:         uint16(t.OverlayMTU),
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
	if !t.NoPMTUDisc {
		v.Flags |= loader.FlagDF
	}
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
	t.Local = addrFrom16(v.Local)
	t.Remote = addrFrom16(v.Remote)
	t.TTL, t.TOS = v.Ttl, v.Tos
	t.TOSInherit = v.Flags&loader.FlagTOSInherit != 0
	t.NoPMTUDisc = v.Flags&loader.FlagDF == 0
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

// DecapOwner returns the tunnel that already receives what t would.
func (tb *Tables) DecapOwner(t Tunnel) (Tunnel, bool) {
	var v loader.TunnelT
	k := decapKey(t)
	if err := tb.m.Decap.Lookup(&k, &v); err != nil {
		return Tunnel{}, false
	}
	return fromValue(v), true
}

// PutTunnel makes t live: decap redirect target, decap match, encap config.
// On error nothing it wrote stays.
func (tb *Tables) PutTunnel(t Tunnel) error {
	v, err := toValue(t)
	if err != nil {
		return err
	}
	if err := tb.ResetCounters(t.ID); err != nil {
		return err
	}
	peer := uint32(t.PeerIfindex)
	if err := tb.m.Devmap.Put(peer, peer); err != nil {
		return fmt.Errorf("devmap: %w", err)
	}
	k := decapKey(t)
	if err := tb.m.Decap.Update(&k, &v, ebpf.UpdateNoExist); err != nil {
		tb.m.Devmap.Delete(peer)
		return fmt.Errorf("decap table: %w", err)
	}
	ifx := uint32(t.Ifindex)
	if err := tb.m.Encap.Update(ifx, &v, ebpf.UpdateNoExist); err != nil {
		tb.m.Decap.Delete(&k)
		tb.m.Devmap.Delete(peer)
		return fmt.Errorf("encap table: %w", err)
	}
	return nil
}

// DeleteTunnel removes what PutTunnel wrote. Missing entries are fine.
func (tb *Tables) DeleteTunnel(t Tunnel) error {
	k := decapKey(t)
	var errs []error
	for _, del := range []func() error{
		func() error { return tb.m.Encap.Delete(uint32(t.Ifindex)) },
		func() error { return tb.m.Decap.Delete(&k) },
		func() error { return tb.m.Devmap.Delete(uint32(t.PeerIfindex)) },
	} {
		if err := del(); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, err)
		}
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

// Port is an attached underlay netdev.
type Port struct {
	Ifindex int
	Generic bool // XDP in generic (skb) mode
}

// PutPort records an attached underlay.
func (tb *Tables) PutPort(p Port) error {
	v := loader.PortT{Ifindex: uint32(p.Ifindex), XdpMode: 1}
	if p.Generic {
		v.XdpMode = 2
	}
	return tb.m.Ports.Put(uint32(p.Ifindex), &v)
}

// DeletePort forgets an underlay.
func (tb *Tables) DeletePort(ifindex int) error {
	err := tb.m.Ports.Delete(uint32(ifindex))
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return nil
	}
	return err
}

// Ports lists attached underlays.
func (tb *Tables) Ports() ([]Port, error) {
	return values(tb.m.Ports, func(v loader.PortT) Port {
		return Port{Ifindex: int(v.Ifindex), Generic: v.XdpMode == 2}
	})
}
