package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// FDBEntry is one forwarding entry as `fdb show` prints it.
type FDBEntry struct {
	Dev     string        `json:"dev"`
	MAC     string        `json:"mac"`
	Dst     netip.Addr    `json:"dst"`
	Learned bool          `json:"learned"`
	Age     time.Duration `json:"age_ns,omitempty"`
}

// tunnelNamed returns the tunnel whose overlay is called name now.
func (d *Dataplane) tunnelNamed(tb *maps.Tables, name string) (maps.Tunnel, error) {
	tuns, err := tb.Tunnels()
	if err != nil {
		return maps.Tunnel{}, err
	}
	for _, t := range tuns {
		if l := overlayOf(t); l != nil && l.Attrs().Name == name {
			return t, nil
		}
	}
	return maps.Tunnel{}, fmt.Errorf("no xtunnel link named %s (xtunnel link show lists them)", name)
}

// fdbTunnel returns the FDB-mode tunnel name.
func (d *Dataplane) fdbTunnel(name string) (*maps.Tables, maps.Tunnel, error) {
	tb, ok, err := d.tables()
	if err != nil {
		return nil, maps.Tunnel{}, err
	}
	if !ok {
		return nil, maps.Tunnel{}, fmt.Errorf("no xtunnel link named %s (xtunnel link show lists them)", name)
	}
	t, err := d.tunnelNamed(tb, name)
	if err != nil {
		return nil, t, err
	}
	if !t.FDB() {
		return nil, t, fmt.Errorf("%s sends everything to its remote %s; only vxlan and geneve links with remote any have an FDB", name, t.Remote)
	}
	return tb, t, nil
}

// AddFDB adds a static FDB entry (the all-zero MAC: a flood-list remote).
func (d *Dataplane) AddFDB(e tunnel.FDBEntry) error {
	tb, t, err := d.fdbTunnel(e.Dev)
	if err != nil {
		return fmt.Errorf("fdb add: %w", err)
	}
	if e.Dst.Is4() == t.Outer6() {
		fam := "IPv4"
		if t.Outer6() {
			fam = "IPv6"
		}
		return fmt.Errorf("fdb add: dst %s: %s runs over %s", e.Dst, e.Dev, fam)
	}
	if err := tb.PutFDB(maps.FDBEntry{Ifindex: t.Ifindex, MAC: e.MAC, Dst: e.Dst}); err != nil {
		return fmt.Errorf("fdb add: %w", err)
	}
	kickNeighbour(t.LinkIfindex, e.Dst)
	return nil
}

// DelFDB removes an entry.
func (d *Dataplane) DelFDB(e tunnel.FDBEntry) error {
	tb, t, err := d.fdbTunnel(e.Dev)
	if err != nil {
		return fmt.Errorf("fdb del: %w", err)
	}
	if err := tb.DeleteFDB(maps.FDBEntry{Ifindex: t.Ifindex, MAC: e.MAC, Dst: e.Dst}); err != nil {
		return fmt.Errorf("fdb del: %w", err)
	}
	return nil
}

// FDB lists the entries of dev, or of every tunnel when dev is "".
// Learned entries past their tunnel's ageing are left out: the dataplane
// no longer uses them.
func (d *Dataplane) FDB(dev string) ([]FDBEntry, error) {
	tb, ok, err := d.tables()
	if err != nil || !ok {
		if dev != "" && err == nil {
			return nil, fmt.Errorf("no xtunnel link named %s (xtunnel link show lists them)", dev)
		}
		return nil, err
	}
	ifindex := 0
	if dev != "" {
		t, err := d.tunnelNamed(tb, dev)
		if err != nil {
			return nil, err
		}
		ifindex = t.Ifindex
	}
	tuns, err := tb.Tunnels()
	if err != nil {
		return nil, err
	}
	byIndex := map[int]maps.Tunnel{}
	for _, t := range tuns {
		byIndex[t.Ifindex] = t
	}
	entries, err := tb.FDB(ifindex)
	if err != nil {
		return nil, err
	}
	out := make([]FDBEntry, 0, len(entries))
	for _, e := range entries {
		t := byIndex[e.Ifindex]
		if e.Learned && e.Age > time.Duration(t.Ageing)*time.Second {
			continue
		}
		name := t.Name
		if l := overlayOf(t); l != nil {
			name = l.Attrs().Name
		}
		out = append(out, FDBEntry{Dev: name, MAC: e.MAC.String(), Dst: e.Dst, Learned: e.Learned, Age: e.Age})
	}
	return out, nil
}

// Mirror is one mirror as `mirror show` prints it.
type Mirror struct {
	Dev       string `json:"dev"`
	Direction string `json:"direction"` // ingress or egress
	To        string `json:"to"`
	Sample    uint32 `json:"sample"`
	Packets   uint64 `json:"packets"`
	Skipped   uint64 `json:"skipped"`
	Mode      string `json:"tc_mode,omitempty"`
}

func mirrorPin(d *Dataplane, ifindex int, egress bool) string {
	if egress {
		return d.pin("mirror-out", ifindex)
	}
	return d.pin("mirror-in", ifindex)
}

// AddMirror copies the frames dev receives (ingress), sends (egress) or
// both to an ERSPAN link. Nothing is left behind on error.
func (d *Dataplane) AddMirror(m tunnel.Mirror) (err error) {
	fail := func(err error) error { return fmt.Errorf("mirror add: %w", err) }
	mon, err := linkByName(m.Dev)
	if err != nil {
		return fail(err)
	}
	tb, ok, err := d.tables()
	if err != nil {
		return fail(err)
	}
	if !ok {
		return fail(fmt.Errorf("no xtunnel link named %s; create it first: xtunnel link add %s type erspan ...", m.To, m.To))
	}
	t, err := d.tunnelNamed(tb, m.To)
	if err != nil {
		return fail(err)
	}
	if t.Type != tunnel.ERSPAN && t.Type != tunnel.IP6ERSPAN {
		return fail(fmt.Errorf("%s is a %s link; mirror into an erspan or ip6erspan link", m.To, t.Type))
	}
	idx := mon.Attrs().Index
	if idx == t.LinkIfindex && m.Egress {
		return fail(fmt.Errorf("%s is %s's underlay: mirroring its egress would mirror the mirrored frames again; mirror ingress only", m.Dev, m.To))
	}
	objs, tb, err := d.load()
	if err != nil {
		return fail(err)
	}
	var u undo
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	for _, dir := range []struct{ on, egress bool }{{m.Ingress, false}, {m.Egress, true}} {
		if !dir.on {
			continue
		}
		egress := dir.egress
		pin := mirrorPin(d, idx, egress)
		prog := objs.MirrorIn
		if egress {
			prog = objs.MirrorOut
		}
		existing := d.mirrorExists(tb, idx, egress)
		if !existing {
			if _, err := loader.AttachMirror(prog, m.Dev, idx, d.opts.TCMode, pin, !egress); err != nil {
				return fail(err)
			}
			u.push(func() { loader.DetachMirror(idx, pin, !egress) })
		}
		if err := tb.PutMirror(maps.Mirror{Ifindex: idx, Egress: egress, Target: t.Ifindex, Sample: m.Sample}); err != nil {
			return fail(err)
		}
		u.push(func() { tb.DeleteMirror(idx, egress) })
	}
	return nil
}

func (d *Dataplane) mirrorExists(tb *maps.Tables, ifindex int, egress bool) bool {
	ms, _ := tb.Mirrors()
	for _, m := range ms {
		if m.Ifindex == ifindex && m.Egress == egress {
			return true
		}
	}
	return false
}

// DelMirror stops mirroring dev in the directions m names.
func (d *Dataplane) DelMirror(m tunnel.Mirror) error {
	tb, ok, err := d.tables()
	if err != nil {
		return err
	}
	idx := -1
	if l, err := netlink.LinkByName(m.Dev); err == nil {
		idx = l.Attrs().Index
	}
	found := false
	var errs []error
	if ok {
		for _, dir := range []struct{ on, egress bool }{{m.Ingress, false}, {m.Egress, true}} {
			if dir.on && d.mirrorExists(tb, idx, dir.egress) {
				found = true
				errs = append(errs, d.delMirror(tb, idx, dir.egress))
			}
		}
	}
	if !found {
		return fmt.Errorf("mirror del: %s is not mirrored (xtunnel mirror show lists mirrors)", m.Dev)
	}
	return errors.Join(errs...)
}

func (d *Dataplane) delMirror(tb *maps.Tables, ifindex int, egress bool) error {
	return errors.Join(loader.DetachMirror(ifindex, mirrorPin(d, ifindex, egress), !egress),
		tb.DeleteMirror(ifindex, egress))
}

// delMirrorsTo removes every mirror into the overlay target.
func (d *Dataplane) delMirrorsTo(tb *maps.Tables, target int) error {
	ms, err := tb.Mirrors()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range ms {
		if m.Target == target {
			errs = append(errs, d.delMirror(tb, m.Ifindex, m.Egress))
		}
	}
	return errors.Join(errs...)
}

// Mirrors lists the mirrors, on dev only unless dev is "".
func (d *Dataplane) Mirrors(dev string) ([]Mirror, error) {
	tb, ok, err := d.tables()
	if err != nil || !ok {
		return nil, err
	}
	ms, err := tb.Mirrors()
	if err != nil {
		return nil, err
	}
	name := func(ifindex int) string {
		if l, err := netlink.LinkByIndex(ifindex); err == nil {
			return l.Attrs().Name
		}
		return fmt.Sprintf("if%d", ifindex)
	}
	var out []Mirror
	for _, m := range ms {
		if dev != "" && name(m.Ifindex) != dev {
			continue
		}
		dir := "ingress"
		if m.Egress {
			dir = "egress"
		}
		mode := loader.ModeClsact
		if loader.Pinned(mirrorPin(d, m.Ifindex, m.Egress)) {
			mode = loader.ModeTCX
		}
		sample := m.Sample
		if sample == 0 {
			sample = 1
		}
		out = append(out, Mirror{Dev: name(m.Ifindex), Direction: dir, To: name(m.Target),
			Sample: sample, Packets: m.Packets, Skipped: m.Skipped, Mode: mode})
	}
	return out, nil
}
