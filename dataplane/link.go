package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// undo runs cleanup steps in reverse unless disarmed.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }
func (u *undo) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
}

// underlayOf returns the underlay netdev of s: dev, or the route to remote
// (to local, for a sit whose remote comes from each packet).
func underlayOf(s tunnel.Spec) (netlink.Link, error) {
	if s.Dev != "" {
		return linkByName(s.Dev)
	}
	if !s.Remote.IsValid() {
		if l := linkWithAddr(s.Local); l != nil {
			return l, nil
		}
		if s.External {
			return nil, fmt.Errorf("an external %s tunnel needs its underlay named: dev IFNAME (or local ADDR of it)", s.Type)
		}
		return nil, fmt.Errorf("a %s tunnel with remote any needs its underlay named: dev IFNAME (no netdev here has local %s)", s.Type, s.Local)
	}
	routes, err := netlink.RouteGet(s.Remote.AsSlice())
	if err != nil || len(routes) == 0 {
		return nil, fmt.Errorf("no route to remote %s; add one or name the underlay with: dev IFNAME", s.Remote)
	}
	l, err := netlink.LinkByIndex(routes[0].LinkIndex)
	if err != nil {
		return nil, fmt.Errorf("route to %s: %w", s.Remote, err)
	}
	return l, nil
}

// linkWithAddr returns the netdev that has address a, if one has.
func linkWithAddr(a netip.Addr) netlink.Link {
	if !a.IsValid() {
		return nil
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil
	}
	for _, ad := range addrs {
		if ip, ok := netip.AddrFromSlice(ad.IP); ok && ip.Unmap() == a {
			if l, err := netlink.LinkByIndex(ad.LinkIndex); err == nil {
				return l
			}
		}
	}
	return nil
}

// addrOf returns l's first global address of the family.
func addrOf(l netlink.Link, v6 bool) (netip.Addr, error) {
	fam := netlink.FAMILY_V4
	if v6 {
		fam = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(l, fam)
	if err == nil {
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap().IsGlobalUnicast() {
				return ip.Unmap(), nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("%s has no IPv%s address to send from; give one: local ADDR", l.Attrs().Name, map[bool]string{true: "6", false: "4"}[v6])
}

// resolveLocal fills s.Local when the grammar lets it be left out
// (geneve, as iproute2's has no local): the source of the route to remote.
func resolveLocal(s *tunnel.Spec) error {
	if s.Local.IsValid() || !s.Remote.IsValid() {
		return nil
	}
	routes, err := netlink.RouteGet(s.Remote.AsSlice())
	if err == nil && len(routes) > 0 {
		if src, ok := netip.AddrFromSlice(routes[0].Src); ok && src.IsValid() && !src.IsUnspecified() {
			s.Local = src.Unmap()
			return nil
		}
	}
	return fmt.Errorf("no local address routes to %s; give one: local ADDR", s.Remote)
}

func freeID(tuns []maps.Tunnel, max int) (uint32, error) {
	used := make(map[uint32]bool, len(tuns))
	for _, t := range tuns {
		used[t.ID] = true
	}
	for id := uint32(0); id < uint32(max); id++ {
		if !used[id] {
			return id, nil
		}
	}
	return 0, fmt.Errorf("all %d tunnel slots are in use; delete one first (or size the tables with --max-tunnels at the first attach)", max)
}

// AddLink creates the overlay netdev and registers the tunnel. Warnings
// are for the user (e.g. no kernel slow path). Nothing is left behind on error.
func (d *Dataplane) AddLink(s tunnel.Spec) (lk Link, warnings []string, err error) {
	fail := func(err error) (Link, []string, error) {
		return Link{}, nil, fmt.Errorf("link add %s: %w", s.Name, err)
	}
	if err := resolveLocal(&s); err != nil {
		return fail(err)
	}
	if err := s.Validate(); err != nil {
		return fail(err)
	}
	if _, err := netlink.LinkByName(s.Name); err == nil {
		return fail(fmt.Errorf("a netdev named %s already exists; pick another name", s.Name))
	}
	under, err := underlayOf(s)
	if err != nil {
		return fail(err)
	}
	uname, uidx := under.Attrs().Name, under.Attrs().Index
	if s.External && !s.Local.IsValid() {
		if s.Local, err = addrOf(under, s.Type.Outer6()); err != nil {
			return fail(err)
		}
	}
	tb, ok, err := d.tables()
	if err != nil {
		return fail(err)
	}
	attached := false
	if ok {
		for _, p := range d.mustPorts(tb) {
			attached = attached || p.Ifindex == uidx
		}
	}
	if !attached {
		return fail(fmt.Errorf("underlay %s is not attached; run first: xtunnel attach %s", uname, uname))
	}
	objs, tb, err := d.load()
	if err != nil {
		return fail(err)
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return fail(err)
	}
	t := maps.Tunnel{Spec: s, LinkIfindex: uidx}
	if owner, dup := tb.DecapOwner(t); dup {
		return fail(fmt.Errorf("tunnel %s already receives %s from %s to %s with the same %s", owner.Name, s.Type, remoteWord(s), s.Local, keyWord(s)))
	}
	if t.ID, err = freeID(tuns, tb.MaxTunnels()); err != nil {
		return fail(err)
	}
	t.OverlayMTU = s.MTU
	if t.OverlayMTU == 0 {
		t.OverlayMTU = under.Attrs().MTU - s.Overhead()
	}
	if minMTU := 68; t.OverlayMTU < minMTU || (s.Inners()&tunnel.InnerIPv6 != 0 && t.OverlayMTU < 1280) {
		if s.Inners()&tunnel.InnerIPv6 != 0 {
			minMTU = 1280
		}
		return fail(fmt.Errorf("mtu %d is below the minimum of %d for what %s carries; raise the underlay MTU or pass mtu", t.OverlayMTU, minMTU, s.Type))
	}

	var u undo
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	peerName := fmt.Sprintf("xtp%d", t.ID)
	if _, err := netlink.LinkByName(peerName); err == nil {
		return fail(fmt.Errorf("netdev %s (reserved for xtunnel's overlay peers) already exists; delete it", peerName))
	}
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: s.Name, MTU: t.OverlayMTU},
		PeerName:  peerName,
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fail(fmt.Errorf("create overlay netdev: %w", err))
	}
	u.push(func() { netlink.LinkDel(veth) })
	over, peer, err := setupOverlay(s.Name, peerName, s.Ethernet())
	if err != nil {
		return fail(err)
	}
	t.Ifindex, t.PeerIfindex = over.Attrs().Index, peer.Attrs().Index
	t.MAC, t.PeerMAC = over.Attrs().HardwareAddr, peer.Attrs().HardwareAddr

	xpin, tpin := d.pin("xdpo", t.Ifindex), d.pin("tc", t.Ifindex)
	u.push(func() { loader.Unpin(xpin); loader.Unpin(tpin) })
	if _, err := loader.AttachXDP(objs.Overlay, s.Name, t.Ifindex, loader.ModeNative, xpin); err != nil {
		return fail(err)
	}
	if _, err := loader.AttachTC(objs.Encap, s.Name, t.Ifindex, d.opts.TCMode, tpin, false); err != nil {
		return fail(err)
	}
	if maps.SlowTX(s) {
		// Per-packet GRE checksum and sequence numbers, UDP checksums:
		// the stack segments and checksums, then the peer encapsulates.
		ppin := d.pin("tcp", t.PeerIfindex)
		u.push(func() { loader.Unpin(ppin) })
		if err := offloadsOff(s.Name); err != nil {
			return fail(err)
		}
		if _, err := loader.AttachTC(objs.Peer, peerName, t.PeerIfindex, d.opts.TCMode, ppin, true); err != nil {
			return fail(err)
		}
	}
	if udpPort(s) {
		if err := d.openUDPPort(tb, s); err != nil {
			return fail(err)
		}
		u.push(func() { d.closeUDPPort(tb, t, tuns) })
	}
	if err := tb.PutTunnel(t); err != nil {
		return fail(err)
	}
	if s.Remote.IsValid() {
		kickNeighbour(uidx, s.Remote)
	}
	for _, w := range []string{slowPathNote(s.Type), d.fouNote(s)} {
		if w != "" {
			warnings = append(warnings, w)
		}
	}
	return Link{Tunnel: t, Link: uname, Present: true}, warnings, nil
}

// setupOverlay makes the veth pair behave like a kernel tunnel netdev. A
// point-to-point (IP) tunnel's has no ARP and no multicast; an Ethernet
// tunnel's keeps both, like any Ethernet device. The peer is silent (no
// ARP, no IPv6), forwards (bpf_fib_lookup asks as if packets arrived on
// it, fib_xmit in headers/encap.h), and comes up so the overlay has carrier.
func setupOverlay(name, peerName string, ethernet bool) (over, peer netlink.Link, err error) {
	if over, err = netlink.LinkByName(name); err != nil {
		return nil, nil, err
	}
	if peer, err = netlink.LinkByName(peerName); err != nil {
		return nil, nil, err
	}
	os.WriteFile(filepath.Join("/proc/sys/net/ipv6/conf", peerName, "disable_ipv6"), []byte("1"), 0o644)
	type step struct {
		what string
		do   func() error
	}
	var steps []step
	if !ethernet {
		steps = append(steps, step{"arp off", func() error { return netlink.LinkSetARPOff(over) }},
			step{"multicast off", func() error { return netlink.LinkSetMulticastOff(over) }})
	} else {
		for _, f := range []string{"/proc/sys/net/ipv4/conf/%s/forwarding", "/proc/sys/net/ipv6/conf/%s/forwarding"} {
			path := fmt.Sprintf(f, peerName)
			steps = append(steps, step{"forwarding on the peer", func() error { return os.WriteFile(path, []byte("1"), 0o644) }})
		}
	}
	steps = append(steps,
		step{"peer arp off", func() error { return netlink.LinkSetARPOff(peer) }},
		step{"peer multicast off", func() error { return netlink.LinkSetMulticastOff(peer) }},
		step{"peer up", func() error { return netlink.LinkSetUp(peer) }})
	for _, st := range steps {
		if err := st.do(); err != nil {
			return nil, nil, fmt.Errorf("set %s on overlay %s: %w", st.what, name, err)
		}
	}
	return over, peer, nil
}

// kickNeighbour asks the kernel to resolve the next hop to remote on the
// underlay: frames bpf_redirect_neigh refuses (ARP, for one) leave with
// MACs from the FIB, which only has a resolved neighbour to give.
func kickNeighbour(ifindex int, remote netip.Addr) {
	nh := remote
	if routes, err := netlink.RouteGet(remote.AsSlice()); err == nil && len(routes) > 0 {
		if gw, ok := netip.AddrFromSlice(routes[0].Gw); ok && gw.IsValid() {
			nh = gw.Unmap()
		}
		if routes[0].LinkIndex != 0 {
			ifindex = routes[0].LinkIndex
		}
	}
	fam := netlink.FAMILY_V4
	if nh.Is6() {
		fam = netlink.FAMILY_V6
	}
	netlink.NeighSet(&netlink.Neigh{LinkIndex: ifindex, Family: fam, IP: nh.AsSlice(),
		Flags: netlink.NTF_USE, State: netlink.NUD_NONE})
}

func remoteWord(s tunnel.Spec) string {
	if s.Remote.IsValid() {
		return s.Remote.String()
	}
	return "any remote"
}

func keyWord(s tunnel.Spec) string {
	switch s.Type {
	case tunnel.VXLAN, tunnel.GENEVE:
		return fmt.Sprintf("id %d on UDP port %d", s.VNI, s.DstPort)
	case tunnel.ERSPAN, tunnel.IP6ERSPAN:
		return "session ID (key)"
	}
	return "key"
}

// udpPort reports whether s receives on a UDP port of its own kind.
func udpPort(s tunnel.Spec) bool { return s.Type == tunnel.VXLAN || s.Type == tunnel.GENEVE }

func (d *Dataplane) openUDPPort(tb *maps.Tables, s tunnel.Spec) error {
	if err := tb.PutUDPPort(s.DstPort, s.Outer6(), s.Type); err != nil {
		return fmt.Errorf("%w; pick another: dstport PORT", err)
	}
	return nil
}

// closeUDPPort closes t's port unless another tunnel of tuns (the
// tunnels besides t) receives on it.
func (d *Dataplane) closeUDPPort(tb *maps.Tables, t maps.Tunnel, tuns []maps.Tunnel) error {
	for _, o := range tuns {
		if o.Ifindex != t.Ifindex && udpPort(o.Spec) && o.DstPort == t.DstPort && o.Outer6() == t.Outer6() {
			return nil
		}
	}
	return tb.DeleteUDPPort(t.DstPort, t.Outer6())
}

// DelLink removes a tunnel and its overlay netdev.
func (d *Dataplane) DelLink(name string) error {
	tb, ok, err := d.tables()
	if err != nil {
		return err
	}
	if ok {
		tuns, err := tb.Tunnels()
		if err != nil {
			return err
		}
		for _, t := range tuns {
			if l := overlayOf(t); t.Name == name || (l != nil && l.Attrs().Name == name) {
				if err := d.delTunnel(tb, t); err != nil {
					return fmt.Errorf("link del %s: %w", name, err)
				}
				return nil
			}
		}
	}
	if _, err := netlink.LinkByName(name); err == nil {
		return fmt.Errorf("link del %s: not an xtunnel link; remove it with: ip link del %s", name, name)
	}
	return fmt.Errorf("link del %s: no such tunnel (xtunnel link show lists them)", name)
}

func (d *Dataplane) delTunnel(tb *maps.Tables, t maps.Tunnel) error {
	tuns, _ := tb.Tunnels()
	errs := []error{
		d.delMirrorsTo(tb, t.Ifindex),
		tb.DeleteRoutesOf(t.Ifindex),
		tb.DeleteTunnel(t),
		tb.DeleteFDBOf(t.Ifindex),
		loader.Unpin(d.pin("xdpo", t.Ifindex)),
		loader.Unpin(d.pin("tc", t.Ifindex)),
		loader.Unpin(d.pin("tcp", t.PeerIfindex)),
	}
	if udpPort(t.Spec) {
		errs = append(errs, d.closeUDPPort(tb, t, tuns))
	}
	if l := overlayOf(t); l != nil {
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("delete netdev %s: %w", l.Attrs().Name, err))
		}
	}
	return errors.Join(errs...)
}

// overlayOf returns t's overlay netdev if it still exists: the veth at
// t.Ifindex whose peer is t.PeerIfindex, whatever it is called now.
func overlayOf(t maps.Tunnel) netlink.Link {
	l, err := netlink.LinkByIndex(t.Ifindex)
	if err != nil {
		return nil
	}
	v, ok := l.(*netlink.Veth)
	if !ok {
		return nil
	}
	if peer, err := netlink.VethPeerIndex(v); err != nil || peer != t.PeerIfindex {
		return nil
	}
	return l
}
