package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// maxTunnels matches XT_MAX_TUNNELS in headers/xtunnel.h.
const maxTunnels = 4096

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
		return nil, fmt.Errorf("a %s tunnel with remote any needs its underlay named: dev IFNAME", s.Type)
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

func freeID(tuns []maps.Tunnel) (uint32, error) {
	used := make(map[uint32]bool, len(tuns))
	for _, t := range tuns {
		used[t.ID] = true
	}
	for id := uint32(0); id < maxTunnels; id++ {
		if !used[id] {
			return id, nil
		}
	}
	return 0, fmt.Errorf("all %d tunnel slots are in use; delete one first", maxTunnels)
}

// AddLink creates the overlay netdev and registers the tunnel. Warnings
// are for the user (e.g. no kernel slow path). Nothing is left behind on error.
func (d *Dataplane) AddLink(s tunnel.Spec) (lk Link, warnings []string, err error) {
	fail := func(err error) (Link, []string, error) {
		return Link{}, nil, fmt.Errorf("link add %s: %w", s.Name, err)
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
		return fail(fmt.Errorf("tunnel %s already receives %s from %s to %s with the same key", owner.Name, s.Type, s.Remote, s.Local))
	}
	if t.ID, err = freeID(tuns); err != nil {
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
	over, peer, err := setupOverlay(s.Name, peerName, t.OverlayMTU)
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
	if err := tb.PutTunnel(t); err != nil {
		return fail(err)
	}
	for _, w := range []string{slowPathNote(s.Type), d.fouNote(s)} {
		if w != "" {
			warnings = append(warnings, w)
		}
	}
	return Link{Tunnel: t, Link: uname, Present: true}, warnings, nil
}

// setupOverlay makes the veth pair behave like a kernel point-to-point
// tunnel: no ARP, no multicast, and a silent peer (no IPv6 on it), then
// brings the peer up so the overlay has carrier.
func setupOverlay(name, peerName string, mtu int) (over, peer netlink.Link, err error) {
	if over, err = netlink.LinkByName(name); err != nil {
		return nil, nil, err
	}
	if peer, err = netlink.LinkByName(peerName); err != nil {
		return nil, nil, err
	}
	os.WriteFile(filepath.Join("/proc/sys/net/ipv6/conf", peerName, "disable_ipv6"), []byte("1"), 0o644)
	for _, step := range []struct {
		what string
		do   func() error
	}{
		{"arp off", func() error { return netlink.LinkSetARPOff(over) }},
		{"multicast off", func() error { return netlink.LinkSetMulticastOff(over) }},
		{"peer arp off", func() error { return netlink.LinkSetARPOff(peer) }},
		{"peer multicast off", func() error { return netlink.LinkSetMulticastOff(peer) }},
		{"peer up", func() error { return netlink.LinkSetUp(peer) }},
	} {
		if err := step.do(); err != nil {
			return nil, nil, fmt.Errorf("set %s on overlay %s: %w", step.what, name, err)
		}
	}
	return over, peer, nil
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
	errs := []error{
		tb.DeleteTunnel(t),
		loader.Unpin(d.pin("xdpo", t.Ifindex)),
		loader.Unpin(d.pin("tc", t.Ifindex)),
		loader.Unpin(d.pin("tcp", t.PeerIfindex)),
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
