package maps

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"

	"github.com/xtunnel/xtunnel/loader"
)

// Route is one entry of the route table: an inner destination prefix into
// a point-to-point tunnel (Remote not set), or to one peer of an external
// tunnel.
type Route struct {
	Prefix  netip.Prefix
	Ifindex int        // overlay netdev
	Remote  netip.Addr // external: the peer's outer address
	Local   netip.Addr // external: outer source; not set: the tunnel's
	KeySet  bool
	Key     uint32
	TTL     uint8 // 0: the tunnel's
	TOS     uint8 // 0: the tunnel's
	// Protos are the outer protocols the peer's packets arrive with (as in
	// the decap table): what decap matches the peer on.
	Protos []uint8
}

// routeKey is the LPM key of p: IPv4 IPv4-mapped, its length plus 96.
func routeKey(p netip.Prefix) loader.RouteKeyT {
	p = p.Masked()
	k := loader.RouteKeyT{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As16()}
	if p.Addr().Is4() {
		k.Prefixlen += 96
	}
	return k
}

func routeFromKey(k loader.RouteKeyT) netip.Prefix {
	a := netip.AddrFrom16(k.Addr)
	if a.Is4In6() {
		return netip.PrefixFrom(a.Unmap(), int(k.Prefixlen)-96)
	}
	return netip.PrefixFrom(a, int(k.Prefixlen))
}

func routeValue(r Route) loader.RouteT {
	v := loader.RouteT{Ifindex: uint32(r.Ifindex), Ttl: r.TTL, Tos: r.TOS}
	if r.Remote.IsValid() {
		v.Remote = addr16(r.Remote)
	}
	if r.Local.IsValid() {
		v.Local = addr16(r.Local)
	}
	if r.KeySet {
		v.HasKey, v.Key = 1, wire(r.Key)
	}
	return v
}

func peerKeys(r Route) []loader.PeerKeyT {
	var ks []loader.PeerKeyT
	for _, p := range r.Protos {
		k := loader.PeerKeyT{Remote: addr16(r.Remote), Proto: p}
		if r.KeySet {
			k.HasKey, k.Key = 1, wire(r.Key)
		}
		ks = append(ks, k)
	}
	return ks
}

// RouteError says which route of a batch failed.
type RouteError struct {
	Index int
	Err   error
}

func (e *RouteError) Error() string { return e.Err.Error() }
func (e *RouteError) Unwrap() error { return e.Err }

// RouteIndex is the index of the failed route in the batch.
func (e *RouteError) RouteIndex() int { return e.Index }

// mapOf is the table a route key lives in: host routes (prefix length 128
// as stored) in the exact-match xt_hosts, the others in the LPM xt_routes.
func (tb *Tables) mapOf(k loader.RouteKeyT) *ebpf.Map {
	if k.Prefixlen == 128 {
		return tb.m.Hosts
	}
	return tb.m.Routes
}

// eachRoute calls f for every route of both tables.
func (tb *Tables) eachRoute(f func(k loader.RouteKeyT, v loader.RouteT)) error {
	for _, m := range []*ebpf.Map{tb.m.Hosts, tb.m.Routes} {
		var (
			k loader.RouteKeyT
			v loader.RouteT
		)
		it := m.Iterate()
		for it.Next(&k, &v) {
			f(k, v)
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}

// PutRoutes adds routes, failing on one whose prefix exists. On error the
// routes of this call are taken back.
func (tb *Tables) PutRoutes(rs []Route) (err error) {
	type group struct {
		m    *ebpf.Map
		keys []loader.RouteKeyT
		vals []loader.RouteT
		idx  []int // index in rs
		done int   // written
	}
	groups := []*group{{m: tb.m.Hosts}, {m: tb.m.Routes}}
	var pkeys []loader.PeerKeyT
	var pvals []uint32
	seen := make(map[loader.RouteKeyT]int, len(rs))
	for i, r := range rs {
		k, v := routeKey(r.Prefix), routeValue(r)
		v.Plen = uint8(k.Prefixlen)
		if j, dup := seen[k]; dup {
			return &RouteError{i, fmt.Errorf("route %s is given twice (also as route %d of this batch)", r.Prefix, j+1)}
		}
		seen[k] = i
		g := groups[1]
		if tb.mapOf(k) == tb.m.Hosts {
			g = groups[0]
		}
		g.keys, g.vals, g.idx = append(g.keys, k), append(g.vals, v), append(g.idx, i)
		if r.Remote.IsValid() {
			for _, pk := range peerKeys(r) {
				pkeys = append(pkeys, pk)
				pvals = append(pvals, uint32(r.Ifindex))
			}
		}
	}
	// A prefix that is there already is refused (the batch below would
	// replace it). An LPM lookup finds the longest prefix up to the key's
	// length; the value's plen says whether that is the key itself.
	for _, g := range groups {
		var first loader.RouteKeyT
		if len(g.keys) == 0 || errors.Is(g.m.NextKey(nil, &first), ebpf.ErrKeyNotExist) {
			continue // empty: the common case of a bulk load
		}
		for j := range g.keys {
			var cur loader.RouteT
			if g.m.Lookup(&g.keys[j], &cur) == nil && uint32(cur.Plen) == g.keys[j].Prefixlen {
				i := g.idx[j]
				return &RouteError{i, fmt.Errorf("route %s exists; delete it first (route del %s)", rs[i].Prefix, rs[i].Prefix)}
			}
		}
	}
	defer func() {
		if err != nil {
			for _, g := range groups {
				for j := 0; j < g.done; j++ {
					g.m.Delete(&g.keys[j])
				}
			}
			tb.cleanPeers(pkeys)
		}
	}()
	if err := tb.putPeers(pkeys, pvals); err != nil {
		return err
	}
	for _, g := range groups {
		if len(g.keys) == 0 {
			continue
		}
		// One syscall for the batch where the kernel has it for this map
		// type; else, or on an error, one at a time (which names the
		// failing route).
		n, err := g.m.BatchUpdate(g.keys, g.vals, nil)
		if err == nil {
			g.done = len(g.keys)
			continue
		}
		for j := 0; j < n && j < len(g.keys); j++ {
			g.m.Delete(&g.keys[j])
		}
		for j := range g.keys {
			if err := g.m.Update(&g.keys[j], &g.vals[j], ebpf.UpdateNoExist); err != nil {
				i := g.idx[j]
				if errors.Is(err, ebpf.ErrKeyExist) {
					return &RouteError{i, fmt.Errorf("route %s exists; delete it first (route del %s)", rs[i].Prefix, rs[i].Prefix)}
				}
				return &RouteError{i, fmt.Errorf("route table (%d routes max; size it with --max-routes at the first attach): %w", g.m.MaxEntries(), err)}
			}
			g.done = j + 1
		}
	}
	return nil
}

// putPeers adds peer entries in as few syscalls as the kernel allows. An
// entry that exists is fine when it names the same tunnel; a peer (with
// its key) of two external tunnels would be ambiguous on receive.
func (tb *Tables) putPeers(ks []loader.PeerKeyT, vs []uint32) error {
	if len(ks) == 0 {
		return nil
	}
	have, err := tb.peers()
	if err != nil {
		return err
	}
	for i, k := range ks {
		if owner, ok := have[k]; ok && owner != vs[i] {
			return fmt.Errorf("peer %s with this key already belongs to another external tunnel (ifindex %d)", addrFrom16(k.Remote), owner)
		}
	}
	if _, err := tb.m.RPeers.BatchUpdate(ks, vs, nil); err == nil {
		return nil
	} else if !errors.Is(err, ebpf.ErrNotSupported) {
		return fmt.Errorf("peer table (%d peers max; size it with --max-routes at the first attach): %w", tb.m.RPeers.MaxEntries(), err)
	}
	for i := range ks {
		if err := tb.m.RPeers.Put(&ks[i], vs[i]); err != nil {
			return fmt.Errorf("peer table: %w", err)
		}
	}
	return nil
}

// peers reads the whole peer table, in batches where the kernel can.
func (tb *Tables) peers() (map[loader.PeerKeyT]uint32, error) {
	out := map[loader.PeerKeyT]uint32{}
	var cursor ebpf.MapBatchCursor
	ks := make([]loader.PeerKeyT, 4096)
	vs := make([]uint32, 4096)
	for {
		n, err := tb.m.RPeers.BatchLookup(&cursor, ks, vs, nil)
		for i := 0; i < n; i++ {
			out[ks[i]] = vs[i]
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, nil
		}
		if errors.Is(err, ebpf.ErrNotSupported) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("peer table: %w", err)
		}
	}
	var (
		k loader.PeerKeyT
		v uint32
	)
	it := tb.m.RPeers.Iterate()
	for it.Next(&k, &v) {
		out[k] = v
	}
	return out, it.Err()
}

// cleanPeers deletes the peer entries in ks no route refers to any more.
func (tb *Tables) cleanPeers(ks []loader.PeerKeyT) error {
	if len(ks) == 0 {
		return nil
	}
	type peer struct {
		remote [16]uint8
		key    uint32
		has    uint8
		ifidx  uint32
	}
	used := map[peer]bool{}
	if err := tb.eachRoute(func(k loader.RouteKeyT, v loader.RouteT) {
		if v.Remote != ([16]uint8{}) {
			used[peer{v.Remote, v.Key, v.HasKey, v.Ifindex}] = true
		}
	}); err != nil {
		return err
	}
	var errs []error
	for _, pk := range ks {
		var owner uint32
		if tb.m.RPeers.Lookup(&pk, &owner) != nil {
			continue
		}
		if !used[peer{pk.Remote, pk.Key, pk.HasKey, owner}] {
			if err := tb.m.RPeers.Delete(&pk); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// DeleteRoutes removes the routes of these prefixes (and peers no other
// route uses). A prefix with no route is an error naming it; the others
// are deleted all the same.
func (tb *Tables) DeleteRoutes(prefixes []netip.Prefix, protos func(Route) []uint8) error {
	var (
		errs  []error
		peers []loader.PeerKeyT
	)
	for i, p := range prefixes {
		k := routeKey(p)
		var v loader.RouteT
		m := tb.mapOf(k)
		if err := m.Lookup(&k, &v); err != nil || uint32(v.Plen) != k.Prefixlen {
			errs = append(errs, &RouteError{i, fmt.Errorf("no route %s (xtunnel route show lists them)", p)})
			continue
		}
		if err := m.Delete(&k); err != nil {
			errs = append(errs, &RouteError{i, err})
			continue
		}
		if v.Remote != ([16]uint8{}) {
			r := routeOf(k, v)
			r.Protos = protos(r)
			peers = append(peers, peerKeys(r)...)
		}
	}
	errs = append(errs, tb.cleanPeers(peers))
	return joinCapped(errs, 10)
}

// joinCapped joins up to max errors and says how many more there were.
func joinCapped(errs []error, max int) error {
	var kept []error
	for _, e := range errs {
		if e != nil {
			kept = append(kept, e)
		}
	}
	if len(kept) > max {
		kept = append(kept[:max], fmt.Errorf("and %d more", len(kept)-max))
	}
	return errors.Join(kept...)
}

func routeOf(k loader.RouteKeyT, v loader.RouteT) Route {
	r := Route{Prefix: routeFromKey(k), Ifindex: int(v.Ifindex), TTL: v.Ttl, TOS: v.Tos,
		KeySet: v.HasKey == 1, Key: unwire(v.Key)}
	if v.Remote != ([16]uint8{}) {
		r.Remote = addrFrom16(v.Remote)
	}
	if v.Local != ([16]uint8{}) {
		r.Local = addrFrom16(v.Local)
	}
	return r
}

// Routes lists the routes (of one overlay ifindex unless 0).
func (tb *Tables) Routes(ifindex int) ([]Route, error) {
	var out []Route
	err := tb.eachRoute(func(k loader.RouteKeyT, v loader.RouteT) {
		if ifindex == 0 || int(v.Ifindex) == ifindex {
			out = append(out, routeOf(k, v))
		}
	})
	return out, err
}

// DeleteRoutesOf removes every route into ifindex and every peer entry of
// it (its tunnel is going).
func (tb *Tables) DeleteRoutesOf(ifindex int) error {
	var errs []error
	for _, m := range []*ebpf.Map{tb.m.Hosts, tb.m.Routes} {
		var (
			k    loader.RouteKeyT
			v    loader.RouteT
			keys []loader.RouteKeyT
		)
		it := m.Iterate()
		for it.Next(&k, &v) {
			if int(v.Ifindex) == ifindex {
				keys = append(keys, k)
			}
		}
		errs = append(errs, it.Err())
		if _, err := m.BatchDelete(keys, nil); err != nil {
			for i := range keys {
				if err := m.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
					errs = append(errs, err)
					break
				}
			}
		}
	}
	peers, err := tb.peers()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var pks []loader.PeerKeyT
	for pk, owner := range peers {
		if int(owner) == ifindex {
			pks = append(pks, pk)
		}
	}
	if _, err := tb.m.RPeers.BatchDelete(pks, nil); err != nil {
		for i := range pks {
			if err := tb.m.RPeers.Delete(&pks[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, err)
				break
			}
		}
	}
	return errors.Join(errs...)
}

// MaxTunnels is the size of the tunnel tables.
func (tb *Tables) MaxTunnels() int { return int(tb.m.Encap.MaxEntries()) }

// DecapProtos are the outer protocols t's packets arrive with.
func DecapProtos(t Tunnel) []uint8 {
	var ps []uint8
	for _, k := range decapKeys(t) {
		ps = append(ps, k.Proto)
	}
	return ps
}
