package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// rtprotXtunnel marks the kernel routes xtunnel adds (ip route shows
// "proto 120"), so that it removes only its own.
const rtprotXtunnel = 120

// Route is one route as `route show` prints it.
type Route struct {
	tunnel.Route
	Kernel bool `json:"kernel"` // the kernel route into the tunnel netdev is there
}

// AddRoutes adds routes: into a point-to-point link (no encap), or to a
// peer of an external link (encap ip|ip6). Each also gets a kernel route
// into the link's netdev, for what the stack sends (or XDP hands it). All
// or nothing: on error nothing of this call stays.
func (d *Dataplane) AddRoutes(rs []tunnel.Route) error {
	tb, ok, err := d.tables()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("route add: xtunnel is not attached in this network namespace; attach first: xtunnel attach IFNAME")
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return err
	}
	byName := map[string]maps.Tunnel{}
	for _, t := range tuns {
		if l := overlayOf(t); l != nil {
			byName[l.Attrs().Name] = t
		}
	}
	mrs := make([]maps.Route, len(rs))
	for i, r := range rs {
		t, ok := byName[r.Dev]
		if !ok {
			return &maps.RouteError{Index: i, Err: fmt.Errorf("route add %s: no xtunnel link named %s (xtunnel link show lists them)", r.Prefix, r.Dev)}
		}
		mr, err := routeFor(r, t)
		if err != nil {
			return &maps.RouteError{Index: i, Err: fmt.Errorf("route add %s: %w", r.Prefix, err)}
		}
		mrs[i] = mr
	}
	if err := tb.PutRoutes(mrs); err != nil {
		var re *maps.RouteError
		if errors.As(err, &re) {
			re.Err = fmt.Errorf("route add %s: %w", rs[re.Index].Prefix, re.Err)
		}
		return err
	}
	krs := make([]linkRoute, len(mrs))
	for i, mr := range mrs {
		krs[i] = linkRoute{Prefix: mr.Prefix, Ifindex: mr.Ifindex}
	}
	kerrs, err := rtnlRoutes(krs, true)
	if err == nil {
		for i, e := range kerrs {
			if e == nil || (errors.Is(e, unix.EEXIST) && kernelRouteInto(kernelRoute(mrs[i]))) {
				continue // added, or someone (ip route add) already routes it into the link
			}
			hint := fmt.Sprintf("ip route show %s says where it goes now", rs[i].Prefix)
			if errors.Is(e, unix.ENETDOWN) {
				hint = fmt.Sprintf("bring the link up first: ip link set %s up", rs[i].Dev)
			}
			err = &maps.RouteError{Index: i, Err: fmt.Errorf("route add %s: kernel route into %s: %w (%s)", rs[i].Prefix, rs[i].Dev, e, hint)}
			break
		}
	}
	if err != nil {
		// Take back this call: the kernel routes it added, then the table.
		var mine []linkRoute
		for i, e := range kerrs {
			if e == nil {
				mine = append(mine, krs[i])
			}
		}
		rtnlRoutes(mine, false)
		ps := make([]netip.Prefix, len(mrs))
		protos := make(map[netip.Prefix][]uint8, len(mrs))
		for i := range mrs {
			ps[i] = mrs[i].Prefix
			protos[ps[i]] = mrs[i].Protos
		}
		tb.DeleteRoutes(ps, func(r maps.Route) []uint8 { return protos[r.Prefix] })
		return err
	}
	return nil
}

// kernelRouteInto reports whether the kernel already routes kr's prefix
// into kr's netdev.
func kernelRouteInto(kr *netlink.Route) bool {
	fam := netlink.FAMILY_V4
	if kr.Dst.IP.To4() == nil {
		fam = netlink.FAMILY_V6
	}
	rs, err := netlink.RouteListFiltered(fam, &netlink.Route{Dst: kr.Dst}, netlink.RT_FILTER_DST)
	if err != nil {
		return false
	}
	for _, r := range rs {
		if r.LinkIndex == kr.LinkIndex {
			return true
		}
	}
	return false
}

// routeFor checks r against its tunnel t and builds the table entry.
func routeFor(r tunnel.Route, t maps.Tunnel) (maps.Route, error) {
	mr := maps.Route{Prefix: r.Prefix.Masked(), Ifindex: t.Ifindex}
	if r.Encap == nil {
		if t.External {
			return mr, fmt.Errorf("%s is external: its routes name their peer: route add %s encap ip dst ADDR dev %s", r.Dev, r.Prefix, r.Dev)
		}
		return mr, nil
	}
	e := r.Encap
	if !t.External {
		return mr, fmt.Errorf("%s is a point-to-point %s link to %s; encap routes are for external links (link add NAME type %s external)", r.Dev, t.Type, t.Remote, t.Type)
	}
	if e.IPv6 != t.Outer6() {
		want := "ip"
		if t.Outer6() {
			want = "ip6"
		}
		return mr, fmt.Errorf("%s runs over IPv%s: use encap %s", r.Dev, map[bool]string{true: "6", false: "4"}[t.Outer6()], want)
	}
	if e.KeySet && !t.Type.IsGRE() {
		return mr, fmt.Errorf("id %d: %s has no key; only gre and ip6gre peers have one", e.Key, t.Type)
	}
	mr.Remote, mr.Local = e.Dst, e.Src
	mr.KeySet, mr.Key = e.KeySet, e.Key
	mr.TTL, mr.TOS = e.TTL, e.TOS
	mr.Protos = maps.DecapProtos(t)
	return mr, nil
}

func kernelRoute(r maps.Route) *netlink.Route {
	p := r.Prefix
	return &netlink.Route{LinkIndex: r.Ifindex, Dst: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		Protocol: rtprotXtunnel, Scope: netlink.SCOPE_LINK}
}

// DelRoutes removes routes by prefix (and their kernel routes). Each
// missing one is an error naming it; the others go all the same.
func (d *Dataplane) DelRoutes(rs []tunnel.Route) error {
	tb, ok, err := d.tables()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("route del: no routes: xtunnel is not attached in this network namespace")
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return err
	}
	byIndex := map[int]maps.Tunnel{}
	for _, t := range tuns {
		byIndex[t.Ifindex] = t
	}
	cur, err := tb.Routes(0)
	if err != nil {
		return err
	}
	have := map[netip.Prefix]maps.Route{}
	for _, r := range cur {
		have[r.Prefix] = r
	}
	var (
		ps   []netip.Prefix
		krs  []linkRoute
		errs []error
	)
	for i, r := range rs {
		mr, ok := have[r.Prefix.Masked()]
		if !ok {
			errs = append(errs, &maps.RouteError{Index: i, Err: fmt.Errorf("route del %s: no such route (xtunnel route show lists them)", r.Prefix)})
			continue
		}
		if r.Dev != "" {
			if l := overlayOf(byIndex[mr.Ifindex]); l == nil || l.Attrs().Name != r.Dev {
				errs = append(errs, &maps.RouteError{Index: i, Err: fmt.Errorf("route del %s: it goes into another link, not %s", r.Prefix, r.Dev)})
				continue
			}
		}
		ps = append(ps, mr.Prefix)
		krs = append(krs, linkRoute{Prefix: mr.Prefix, Ifindex: mr.Ifindex})
	}
	// Only routes of proto xtunnel go; one added by ip route add stays.
	rtnlRoutes(krs, false)
	errs = append(errs, tb.DeleteRoutes(ps, func(r maps.Route) []uint8 { return maps.DecapProtos(byIndex[r.Ifindex]) }))
	return errors.Join(errs...)
}

// Routes lists the routes, into dev only unless dev is "".
func (d *Dataplane) Routes(dev string) ([]Route, error) {
	tb, ok, err := d.tables()
	if err != nil || !ok {
		return nil, err
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, t := range tuns {
		names[t.Ifindex] = t.Name
		if l := overlayOf(t); l != nil {
			names[t.Ifindex] = l.Attrs().Name
		}
	}
	ifindex := 0
	if dev != "" {
		for idx, n := range names {
			if n == dev {
				ifindex = idx
			}
		}
		if ifindex == 0 {
			return nil, fmt.Errorf("no xtunnel link named %s (xtunnel link show lists them)", dev)
		}
	}
	mrs, err := tb.Routes(ifindex)
	if err != nil {
		return nil, err
	}
	kernel := map[netip.Prefix]bool{}
	if krs, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Protocol: rtprotXtunnel}, netlink.RT_FILTER_PROTOCOL); err == nil {
		for _, kr := range krs {
			if kr.Dst != nil {
				if a, ok := netip.AddrFromSlice(kr.Dst.IP); ok {
					ones, _ := kr.Dst.Mask.Size()
					kernel[netip.PrefixFrom(a.Unmap(), ones)] = true
				}
			}
		}
	}
	out := make([]Route, 0, len(mrs))
	for _, mr := range mrs {
		r := Route{Route: tunnel.Route{Prefix: mr.Prefix, Dev: names[mr.Ifindex]}, Kernel: kernel[mr.Prefix]}
		if mr.Remote.IsValid() {
			r.Encap = &tunnel.RouteEncap{IPv6: mr.Remote.Is6(), KeySet: mr.KeySet, Key: mr.Key,
				Dst: mr.Remote, Src: mr.Local, TTL: mr.TTL, TOS: mr.TOS}
		}
		out = append(out, r)
	}
	return out, nil
}
