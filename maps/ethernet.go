package maps

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/tunnel"
)

// ethernetValue fills the map value fields of Ethernet, VXLAN, Geneve and
// ERSPAN tunnels.
func ethernetValue(t Tunnel, v *loader.TunnelT) {
	if t.Ethernet() {
		v.Flags |= loader.FlagEth
	}
	switch {
	case udpTunnel(t.Type):
		v.Vni = wire(t.VNI << 8)
		v.EncapDport = htons(t.DstPort)
		if t.Type == tunnel.VXLAN {
			v.Flags |= loader.FlagVXLAN
		} else {
			v.Flags |= loader.FlagGeneve
			opts := t.GeneveOptBytes()
			v.OptsLen = uint8(copy(v.Opts[:], opts))
			if geneveCritical(opts) {
				v.Flags |= loader.FlagGeneveCrit
			}
		}
		if !t.Remote.IsValid() {
			v.Flags |= loader.FlagFDB
		}
		if t.Learning {
			v.Flags |= loader.FlagLearn
			v.Ageing = t.Ageing
		}
		if t.UDP6ZeroCsumRx {
			v.Flags |= loader.FlagUDPZeroRx
		}
		switch t.DF {
		case tunnel.DFSet:
			v.Flags |= loader.FlagDF
		case tunnel.DFUnset:
			v.Flags |= loader.FlagIgnoreDF
		}
		v.DfMode = uint8(t.DF)
	case erspan(t.Type):
		v.Flags |= loader.FlagERSPAN
		v.Flags &^= loader.FlagOKey | loader.FlagIKey // no GRE key: the session ID is in the ERSPAN header
		v.ErspanVer = t.ERSPANVer
		v.ErspanIndex = t.ERSPANIndex
		v.ErspanDir = uint8(t.ERSPANDir)
		v.ErspanHwid = t.ERSPANHWID
	}
}

// geneveCritical reports whether any option in opts (wire form) has its
// critical bit set.
func geneveCritical(opts []byte) bool {
	for len(opts) >= 4 {
		if opts[2]&0x80 != 0 {
			return true
		}
		n := 4 + int(opts[3]&0x1f)*4
		if n > len(opts) {
			break
		}
		opts = opts[n:]
	}
	return false
}

// ethernetSpec is the inverse of ethernetValue.
func ethernetSpec(v loader.TunnelT, t *Tunnel) {
	switch {
	case udpTunnel(t.Type):
		t.VNI = unwire(v.Vni) >> 8
		t.DstPort = ntohs(v.EncapDport)
		if v.SportMin != sportMin || v.SportMax != sportMax {
			t.SrcPortMin, t.SrcPortMax = v.SportMin, v.SportMax
		}
		t.Learning = v.Flags&loader.FlagLearn != 0
		if t.Learning {
			t.Ageing = v.Ageing
		}
		t.UDP6ZeroCsumRx = v.Flags&loader.FlagUDPZeroRx != 0
		t.DF = tunnel.DFMode(v.DfMode)
		if t.Type == tunnel.GENEVE {
			t.GeneveOpts = string(v.Opts[:v.OptsLen])
			t.InnerProtoInherit = v.Flags&loader.FlagEth == 0
		}
		if t.Outer6() {
			t.UDP6ZeroCsumTx = v.Flags&loader.FlagUDPCsum == 0
		} else {
			t.UDPCsum = v.Flags&loader.FlagUDPCsum != 0
		}
	case erspan(t.Type):
		t.ERSPANVer = v.ErspanVer
		t.ERSPANIndex = v.ErspanIndex
		t.ERSPANDir = tunnel.ERSPANDir(v.ErspanDir)
		t.ERSPANHWID = v.ErspanHwid
	}
}

// PutUDPPort opens a VXLAN or Geneve receive port. An open port of the
// same kind is fine (tunnels share it); of another kind, an error.
func (tb *Tables) PutUDPPort(port uint16, ipv6 bool, t tunnel.Type) error {
	k := fouKey(tunnel.FOUPort{Port: port, IPv6: ipv6})
	kind := loader.UDPVXLAN
	if t == tunnel.GENEVE {
		kind = loader.UDPGeneve
	}
	var cur loader.FOUT
	if err := tb.m.FOU.Lookup(&k, &cur); err == nil {
		if cur.Kind == kind {
			return nil
		}
		return fmt.Errorf("UDP port %d is already a %s port", port, udpKindName(cur))
	}
	return tb.m.FOU.Update(&k, &loader.FOUT{Kind: kind}, ebpf.UpdateNoExist)
}

// DeleteUDPPort closes a VXLAN or Geneve receive port.
func (tb *Tables) DeleteUDPPort(port uint16, ipv6 bool) error {
	k := fouKey(tunnel.FOUPort{Port: port, IPv6: ipv6})
	var cur loader.FOUT
	if err := tb.m.FOU.Lookup(&k, &cur); err != nil || cur.Kind == loader.UDPFOU {
		return nil
	}
	err := tb.m.FOU.Delete(&k)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return nil
	}
	return err
}

func udpKindName(v loader.FOUT) string {
	switch {
	case v.Kind == loader.UDPVXLAN:
		return "vxlan"
	case v.Kind == loader.UDPGeneve:
		return "geneve"
	case v.Gue == 1:
		return "GUE (fou add)"
	}
	return "FOU (fou add)"
}

// FDBEntry is one forwarding entry of an Ethernet tunnel without a fixed
// remote. The all-zero MAC is the flood list.
type FDBEntry struct {
	Ifindex int
	MAC     net.HardwareAddr
	Dst     netip.Addr
	Learned bool
	Age     time.Duration // learned entries: since last seen
}

func fdbKey(ifindex int, mac net.HardwareAddr, idx int) loader.FDBKeyT {
	k := loader.FDBKeyT{Ifindex: uint32(ifindex), Idx: uint16(idx)}
	copy(k.Mac[:], mac)
	return k
}

func isZeroMAC(mac net.HardwareAddr) bool {
	for _, b := range mac {
		if b != 0 {
			return false
		}
	}
	return true
}

// PutFDB adds a static entry. A unicast MAC has one destination, which
// replaces a learned one; the all-zero MAC (flood list) takes up to
// loader.FloodMax destinations, appended.
func (tb *Tables) PutFDB(e FDBEntry) error {
	v := loader.FDBEntryT{Remote: addr16(e.Dst)}
	if !isZeroMAC(e.MAC) {
		k := fdbKey(e.Ifindex, e.MAC, 0)
		var cur loader.FDBEntryT
		if tb.m.FDB.Lookup(&k, &cur) == nil && cur.Learned == 0 {
			if cur.Remote == v.Remote {
				return fmt.Errorf("fdb entry %s dst %s exists", e.MAC, e.Dst)
			}
			return fmt.Errorf("%s already goes to %s; delete that entry first", e.MAC, addrFrom16(cur.Remote))
		}
		return tb.m.FDB.Put(&k, &v)
	}
	list, err := tb.flood(e.Ifindex)
	if err != nil {
		return err
	}
	for _, d := range list {
		if d == e.Dst {
			return fmt.Errorf("the flood list already has dst %s", e.Dst)
		}
	}
	if len(list) >= loader.FloodMax {
		return fmt.Errorf("the flood list is full (%d remotes); delete one first", loader.FloodMax)
	}
	k := fdbKey(e.Ifindex, e.MAC, len(list))
	return tb.m.FDB.Update(&k, &v, ebpf.UpdateNoExist)
}

// flood returns the flood list of ifindex in order.
func (tb *Tables) flood(ifindex int) ([]netip.Addr, error) {
	var out []netip.Addr
	for i := 0; i < loader.FloodMax; i++ {
		k := fdbKey(ifindex, make(net.HardwareAddr, 6), i)
		var v loader.FDBEntryT
		err := tb.m.FDB.Lookup(&k, &v)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, addrFrom16(v.Remote))
	}
	return out, nil
}

// DeleteFDB removes an entry: for the flood list, the one to e.Dst (every
// one when e.Dst is not set), keeping the rest in order without gaps.
func (tb *Tables) DeleteFDB(e FDBEntry) error {
	if !isZeroMAC(e.MAC) {
		k := fdbKey(e.Ifindex, e.MAC, 0)
		var cur loader.FDBEntryT
		if err := tb.m.FDB.Lookup(&k, &cur); err != nil {
			return fmt.Errorf("no fdb entry for %s", e.MAC)
		}
		if e.Dst.IsValid() && addrFrom16(cur.Remote) != e.Dst {
			return fmt.Errorf("%s goes to %s, not %s", e.MAC, addrFrom16(cur.Remote), e.Dst)
		}
		return tb.m.FDB.Delete(&k)
	}
	list, err := tb.flood(e.Ifindex)
	if err != nil {
		return err
	}
	var keep []netip.Addr
	found := false
	for _, d := range list {
		if e.Dst.IsValid() && d != e.Dst {
			keep = append(keep, d)
		} else {
			found = true
		}
	}
	if !found {
		if e.Dst.IsValid() {
			return fmt.Errorf("the flood list has no dst %s", e.Dst)
		}
		return errors.New("the flood list is empty")
	}
	// Rewrite in place, then drop the tail: a reader sees a complete list
	// at every step (a remote may be listed twice for a moment, never lost
	// but for the one deleted).
	for i, d := range keep {
		k := fdbKey(e.Ifindex, make(net.HardwareAddr, 6), i)
		if err := tb.m.FDB.Put(&k, &loader.FDBEntryT{Remote: addr16(d)}); err != nil {
			return err
		}
	}
	for i := len(keep); i < len(list); i++ {
		k := fdbKey(e.Ifindex, make(net.HardwareAddr, 6), i)
		if err := tb.m.FDB.Delete(&k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	return nil
}

// FDB lists the entries of ifindex (every tunnel's when ifindex is 0).
func (tb *Tables) FDB(ifindex int) ([]FDBEntry, error) {
	var (
		k   loader.FDBKeyT
		v   loader.FDBEntryT
		out []FDBEntry
	)
	now := monotonicNow()
	it := tb.m.FDB.Iterate()
	for it.Next(&k, &v) {
		if ifindex != 0 && int(k.Ifindex) != ifindex {
			continue
		}
		e := FDBEntry{Ifindex: int(k.Ifindex), MAC: append(net.HardwareAddr(nil), k.Mac[:]...),
			Dst: addrFrom16(v.Remote), Learned: v.Learned != 0}
		if e.Learned && now > v.UpdatedNs {
			e.Age = time.Duration(now - v.UpdatedNs)
		}
		out = append(out, e)
	}
	return out, it.Err()
}

// DeleteFDBOf removes every entry of ifindex (its tunnel is going).
func (tb *Tables) DeleteFDBOf(ifindex int) error {
	var errs []error
	var (
		k    loader.FDBKeyT
		v    loader.FDBEntryT
		keys []loader.FDBKeyT
	)
	it := tb.m.FDB.Iterate()
	for it.Next(&k, &v) {
		if int(k.Ifindex) == ifindex {
			keys = append(keys, k)
		}
	}
	for i := range keys {
		if err := tb.m.FDB.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, it.Err())...)
}

// Mirror is one monitored netdev and direction, copied to an ERSPAN
// overlay netdev.
type Mirror struct {
	Ifindex int
	Egress  bool
	Target  int // ERSPAN overlay ifindex
	Sample  uint32
	Packets uint64 // copied
	Skipped uint64 // not copied: sampling
}

func mirrorKey(ifindex int, egress bool) loader.MirrorKeyT {
	k := loader.MirrorKeyT{Ifindex: uint32(ifindex)}
	if egress {
		k.Egress = 1
	}
	return k
}

// PutMirror adds or replaces a mirror; counters restart.
func (tb *Tables) PutMirror(m Mirror) error {
	k := mirrorKey(m.Ifindex, m.Egress)
	return tb.m.Mirrors.Put(&k, &loader.MirrorT{Target: uint32(m.Target), Sample: m.Sample})
}

// DeleteMirror removes a mirror; a missing one is fine.
func (tb *Tables) DeleteMirror(ifindex int, egress bool) error {
	k := mirrorKey(ifindex, egress)
	err := tb.m.Mirrors.Delete(&k)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return nil
	}
	return err
}

// Mirrors lists every mirror.
func (tb *Tables) Mirrors() ([]Mirror, error) {
	var (
		k   loader.MirrorKeyT
		v   loader.MirrorT
		out []Mirror
	)
	it := tb.m.Mirrors.Iterate()
	for it.Next(&k, &v) {
		out = append(out, Mirror{Ifindex: int(k.Ifindex), Egress: k.Egress == 1, Target: int(v.Target),
			Sample: v.Sample, Packets: v.Packets, Skipped: v.Skipped})
	}
	return out, it.Err()
}

// monotonicNow is bpf_ktime_get_ns's clock, in nanoseconds.
func monotonicNow() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Nano())
}
