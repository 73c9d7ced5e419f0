// Package dataplane ties the pinned BPF state, the overlay netdevs and the
// tunnel model together: it is what every xtunnel command acts on.
package dataplane

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
)

// Options select where state lives and how programs are attached.
type Options struct {
	BPFFS   string // directory on a bpffs; "" means DefaultBPFFS
	XDPMode string // auto|native|generic
	TCMode  string // auto|tcx|clsact
	// Map sizes, used when the namespace's state is first created (the
	// first attach); 0 means the default. Existing state keeps its sizes.
	MaxTunnels int
	MaxRoutes  int
}

// DefaultBPFFS is where state is pinned unless --bpffs says otherwise.
const DefaultBPFFS = "/sys/fs/bpf/xtunnel"

// Dataplane is the state of xtunnel in the current network namespace.
type Dataplane struct {
	opts   Options
	dir    string
	objs   *loader.Objects // loaded on demand by commands that attach
	pinned *loader.Maps    // opened on demand by commands that only read
}

// Port is an underlay netdev xtunnel is attached to.
type Port struct {
	Name    string   `json:"name"`
	Ifindex int      `json:"ifindex"`
	XDPMode string   `json:"xdp_mode"`
	Gateway bool     `json:"gateway"`
	Notes   []string `json:"notes,omitempty"` // for the user, from Attach
}

// Link is one configured tunnel.
type Link struct {
	maps.Tunnel
	Link    string `json:"link"`    // underlay netdev name
	Present bool   `json:"present"` // overlay netdev still exists
}

// Counters are one tunnel's counters summed over CPUs.
type Counters = maps.Counters

// Stats is what `xtunnel stats` reports.
type Stats struct {
	Tunnels map[string]Counters `json:"tunnels"` // by overlay name
	Reasons map[string]uint64   `json:"reasons"` // by reason name, e.g. "pass_fragment"
}

// Feature is one kernel capability xtunnel depends on.
type Feature struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Open finds the pinned state for this network namespace. It creates
// nothing until a command changes state.
func Open(opts Options) (*Dataplane, error) {
	dir, err := stateDir(opts.BPFFS)
	if err != nil {
		return nil, err
	}
	return &Dataplane{opts: opts, dir: dir}, nil
}

// Close releases file descriptors; pinned state stays.
func (d *Dataplane) Close() error {
	d.closeObjects()
	return nil
}

func (d *Dataplane) closeObjects() {
	if d.objs != nil {
		d.objs.Close()
		d.objs = nil
	}
	if d.pinned != nil {
		d.pinned.Close()
		d.pinned = nil
	}
}

// Dir is the bpffs directory holding this namespace's state.
func (d *Dataplane) Dir() string { return d.dir }

// load loads the programs, creating or reusing the pinned maps.
func (d *Dataplane) load() (*loader.Objects, *maps.Tables, error) {
	if d.objs == nil {
		objs, err := loader.LoadSized(d.mapsDir(), loader.Sizes{Tunnels: d.opts.MaxTunnels, Routes: d.opts.MaxRoutes})
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(d.linksDir(), 0o700); err != nil {
			objs.Close()
			return nil, nil, err
		}
		d.objs = objs
	}
	return d.objs, maps.New(d.objs.Maps), nil
}

// tables opens the pinned maps for reading; ok is false when xtunnel has
// no state in this namespace.
func (d *Dataplane) tables() (*maps.Tables, bool, error) {
	if d.objs != nil {
		return maps.New(d.objs.Maps), true, nil
	}
	if d.pinned == nil {
		m, err := loader.OpenPinnedMaps(d.mapsDir())
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		d.pinned = &m
	}
	return maps.New(*d.pinned), true, nil
}

func linkByName(name string) (netlink.Link, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("no netdev named %q in this network namespace (see: ip link show)", name)
		}
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}
	return l, nil
}

// Attach loads XDP on an underlay netdev. Attaching again replaces the
// program in place (an upgrade), keeps the XDP mode and turns gateway mode
// off.
func (d *Dataplane) Attach(ifname string) (Port, error) { return d.attach(ifname, false) }

// AttachGateway is Attach in gateway mode: plain packets routed into a
// tunnel (xtunnel route add) are encapsulated in XDP, and decapsulated ones
// for a destination behind another attached NIC are forwarded there.
func (d *Dataplane) AttachGateway(ifname string) (Port, error) { return d.attach(ifname, true) }

func (d *Dataplane) attach(ifname string, gateway bool) (Port, error) {
	l, err := linkByName(ifname)
	if err != nil {
		return Port{}, err
	}
	idx := l.Attrs().Index
	objs, tb, err := d.load()
	if err != nil {
		return Port{}, err
	}
	pin := d.pin("xdp", idx)
	existed := loader.Pinned(pin)
	mode, err := loader.AttachXDP(objs.Underlay, ifname, idx, d.opts.XDPMode, pin)
	if err != nil {
		if !existed {
			d.removeState()
		}
		return Port{}, err
	}
	if mode == "" { // already attached: keep its XDP mode
		mode = loader.ModeNative
		for _, p := range d.mustPorts(tb) {
			if p.Ifindex == idx {
				mode = p.XDPMode
			}
		}
	}
	if err := tb.PutPort(maps.Port{Ifindex: idx, Generic: mode == loader.ModeGeneric, Gateway: gateway}); err != nil {
		if !existed {
			loader.Unpin(pin)
		}
		return Port{}, fmt.Errorf("attach %s: record port: %w", ifname, err)
	}
	p := Port{Name: ifname, Ifindex: idx, XDPMode: mode, Gateway: gateway}
	if gateway {
		p.Notes = append(p.Notes, gatewayNotes(ifname)...)
	}
	if l.Type() == "veth" {
		// A veth hands partial checksums to its peer as skb metadata, which
		// an XDP redirect drops; a physical NIC completes them on the wire.
		p.Notes = append(p.Notes, fmt.Sprintf("%s is a veth: turn off TX checksum offload on its peer "+
			"(ethtool -K PEER tx off), or TCP decapsulated here arrives with bad checksums", ifname))
	}
	return p, nil
}

// gatewayNotes say what gateway mode needs of the system: forwarding on
// (bpf_fib_lookup asks as a router would).
func gatewayNotes(ifname string) []string {
	var notes []string
	for _, f := range []struct{ path, what string }{
		{"/proc/sys/net/ipv4/conf/" + ifname + "/forwarding", "net.ipv4.conf." + ifname + ".forwarding"},
		{"/proc/sys/net/ipv6/conf/" + ifname + "/forwarding", "net.ipv6.conf." + ifname + ".forwarding"},
	} {
		if b, err := os.ReadFile(f.path); err == nil && strings.TrimSpace(string(b)) != "1" {
			notes = append(notes, fmt.Sprintf("gateway mode forwards only when %s = 1 (sysctl -w %s=1); until then the stack gets the packets", f.what, f.what))
		}
	}
	return notes
}

// Detach removes the XDP program from ifname and every tunnel whose
// underlay it is, with their overlay netdevs. With nothing left attached,
// the namespace's pinned state is removed too.
func (d *Dataplane) Detach(ifname string) error {
	tb, ok, err := d.tables()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("detach %s: xtunnel is not attached to anything in this network namespace", ifname)
	}
	idx := -1
	if l, err := netlink.LinkByName(ifname); err == nil {
		idx = l.Attrs().Index
	}
	attached := false
	for _, p := range d.mustPorts(tb) {
		if p.Ifindex == idx {
			attached = true
		}
	}
	if !attached {
		return fmt.Errorf("detach %s: not attached (xtunnel link show lists what is)", ifname)
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range tuns {
		if t.LinkIfindex == idx {
			errs = append(errs, d.delTunnel(tb, t))
		}
	}
	errs = append(errs, loader.Unpin(d.pin("xdp", idx)), tb.DeletePort(idx))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("detach %s: %w", ifname, err)
	}
	return d.removeState()
}

func (d *Dataplane) mustPorts(tb *maps.Tables) []Port {
	ps, _ := tb.Ports()
	out := make([]Port, 0, len(ps))
	for _, p := range ps {
		name := fmt.Sprintf("if%d", p.Ifindex)
		if l, err := netlink.LinkByIndex(p.Ifindex); err == nil {
			name = l.Attrs().Name
		}
		mode := loader.ModeNative
		if p.Generic {
			mode = loader.ModeGeneric
		}
		out = append(out, Port{Name: name, Ifindex: p.Ifindex, XDPMode: mode, Gateway: p.Gateway})
	}
	return out
}

// Ports lists attached underlay netdevs.
func (d *Dataplane) Ports() ([]Port, error) {
	tb, ok, err := d.tables()
	if err != nil || !ok {
		return nil, err
	}
	return d.mustPorts(tb), nil
}

// Links lists configured tunnels.
func (d *Dataplane) Links() ([]Link, error) {
	tb, ok, err := d.tables()
	if err != nil || !ok {
		return nil, err
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(tuns))
	for _, t := range tuns {
		lk := Link{Tunnel: t}
		if l := overlayOf(t); l != nil {
			lk.Present = true
			lk.Name = l.Attrs().Name // renamed with ip link set name
		}
		if l, err := netlink.LinkByIndex(t.LinkIfindex); err == nil {
			lk.Link = l.Attrs().Name
		}
		out = append(out, lk)
	}
	return out, nil
}

// Stats sums every per-CPU counter.
func (d *Dataplane) Stats() (Stats, error) {
	st := Stats{Tunnels: map[string]Counters{}, Reasons: map[string]uint64{}}
	tb, ok, err := d.tables()
	if err != nil || !ok {
		return st, err
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return st, err
	}
	for _, t := range tuns {
		c, err := tb.Counters(t.ID)
		if err != nil {
			return st, fmt.Errorf("counters of %s: %w", t.Name, err)
		}
		st.Tunnels[t.Name] = c
	}
	names, err := loader.ReasonNames()
	if err != nil {
		return st, err
	}
	counts, err := tb.Reasons()
	if err != nil {
		return st, err
	}
	for i, n := range counts {
		st.Reasons[names[i]] = n
	}
	return st, nil
}
