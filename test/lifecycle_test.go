package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/xtunnel/xtunnel/lab"
)

// The lifecycle tests check what attach, detach, link add and link del
// leave in the kernel (XDP and TC attachments, netdevs, qdiscs) and on the
// bpffs (ns-COOKIE/{maps,links}), read with ip, tc, bpftool and the BPF
// syscall, not with xtunnel itself.

// XDP attach modes as `ip -j link` reports them (XDP_ATTACHED_*).
const (
	xdpAttachedDrv = 1
	xdpAttachedSKB = 2
)

// TestAttachIdempotent attaches ethA three times. Every attach succeeds
// and reports the mode of the first (a re-attach keeps the mode, even
// when another one is asked for); ethA keeps exactly one XDP program,
// xtunnel's, behind the same pinned link (the program is replaced in
// place through that link), and links/ holds exactly one xdp- pin.
func TestAttachIdempotent(t *testing.T) {
	requireLab(t, "bpftool")
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "idem")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}
	ns := l.HostA

	var dir string
	var first pinnedLink
	for i, args := range [][]string{
		{"attach", lab.DevA},
		{"attach", lab.DevA},
		{"--xdp-mode", "generic", "attach", lab.DevA},
	} {
		out := xt(t, ctx, x, ns, args...)
		if want := "attached ethA xdp native\n"; out != want {
			t.Errorf("attach #%d (%s): stdout %q, want %q", i+1, strings.Join(args, " "), out, want)
		}
		dev := ipLinks(t, ctx, ns)[lab.DevA]
		progs := dev.xdpProgs()
		if len(progs) != 1 || progs[0].Mode != xdpAttachedDrv || progs[0].Prog.Name != "xt_xdp_underlay" {
			t.Errorf("attach #%d: XDP on ethA is %+v, want exactly one xt_xdp_underlay in driver mode (1)", i+1, progs)
		}
		bt := runOK(t, ctx, ns, "bpftool", "net", "show", "dev", lab.DevA)
		if n := strings.Count(bt, fmt.Sprintf("%s(%d) driver id", lab.DevA, dev.Ifindex)); n != 1 {
			t.Errorf("attach #%d: bpftool net show dev ethA lists %d driver XDP programs, want 1:\n%s", i+1, n, bt)
		}
		dirs := stateDirs(t, l.BPFFS)
		if len(dirs) != 1 {
			t.Fatalf("attach #%d: state dirs %v, want exactly one (only hostA is attached)", i+1, dirs)
		}
		dir = dirs[0]
		want := []string{fmt.Sprintf("xdp-%d", dev.Ifindex)}
		if got := pins(t, dir); !slices.Equal(got, want) {
			t.Errorf("attach #%d: pins %v, want %v", i+1, got, want)
		}
		pl := readPinnedLink(t, filepath.Join(dir, "links", want[0]))
		if pl.Type != link.XDPType || pl.Ifindex != dev.Ifindex || len(progs) == 1 && int(pl.Prog) != progs[0].Prog.ID {
			t.Errorf("attach #%d: pinned link %+v, want an XDP link on ifindex %d running the program ethA shows (%+v)", i+1, pl, dev.Ifindex, progs)
		}
		if i == 0 {
			first = pl
		} else if pl.ID != first.ID {
			t.Errorf("attach #%d: pinned link id %d, want %d (the first attach's link, updated in place)", i+1, pl.ID, first.ID)
		}
		t.Logf("attach #%d: link %d, program %d", i+1, pl.ID, pl.Prog)
	}
	if _, ports := linkShow(t, ctx, x, ns); !slices.Equal(ports, []string{"ethA xdp native"}) {
		t.Errorf("link show attached lines %q, want [ethA xdp native]", ports)
	}
}

// TestXDPModes attaches hostA in generic mode and hostB in native mode:
// each reports the mode it got, in attach's output, in link show and in
// the kernel, and a GRE tunnel across the two still answers every ping,
// with exact counters, both ways.
func TestXDPModes(t *testing.T) {
	requireLab(t)
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "xdpmode")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}

	hosts := l.Hosts()
	for _, tc := range []struct {
		host    lab.Host
		mode    string
		ipWord  string // the word after mtu in `ip link show`
		ipjMode int
	}{
		{hosts[0], "generic", "xdpgeneric", xdpAttachedSKB},
		{hosts[1], "native", "xdp", xdpAttachedDrv},
	} {
		h := tc.host
		out := xt(t, ctx, x, h.NS, "--xdp-mode", tc.mode, "attach", h.Dev)
		if want := fmt.Sprintf("attached %s xdp %s\n", h.Dev, tc.mode); out != want {
			t.Errorf("host %s: attach stdout %q, want %q", h.Name, out, want)
		}
		d := runOK(t, ctx, h.NS, "ip", "-d", "link", "show", h.Dev)
		if f := strings.Fields(d); !slices.Contains(f, tc.ipWord) || !strings.Contains(d, "name xt_xdp_underlay") {
			t.Errorf("host %s: ip -d link show %s has no %q with xt_xdp_underlay:\n%s", h.Name, h.Dev, tc.ipWord, d)
		}
		if progs := ipLinks(t, ctx, h.NS)[h.Dev].xdpProgs(); len(progs) != 1 || progs[0].Mode != tc.ipjMode {
			t.Errorf("host %s: XDP on %s is %+v, want one program in mode %d", h.Name, h.Dev, progs, tc.ipjMode)
		}
		if _, ports := linkShow(t, ctx, x, h.NS); !slices.Equal(ports, []string{h.Dev + " xdp " + tc.mode}) {
			t.Errorf("host %s: link show attached lines %q, want [%s xdp %s]", h.Name, ports, h.Dev, tc.mode)
		}
	}

	addTunnel(t, ctx, l, x, lab.Cases()[0]) // gre-key
	pingExact(t, ctx, l, x, true, lab.CliB4)
	pingExact(t, ctx, l, x, false, lab.CliA4)
}

// TestTCModes adds a tunnel with each --tc-mode on hostA and checks how
// its encap program is attached: clsact is a clsact qdisc with a
// direct-action bpf filter xt_tc_encap on egress and no tc- pin; tcx (and
// auto, on a kernel that has TCX) is a pinned TCX egress link running
// xt_tc_encap, with no qdisc and no filter. Both have an xdpo- pin.
func TestTCModes(t *testing.T) {
	requireLab(t, "tc", "bpftool")
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "tcmode")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}
	ns := l.HostA
	xt(t, ctx, x, ns, "attach", lab.DevA)
	dir := stateDirs(t, l.BPFFS)
	if len(dir) != 1 {
		t.Fatalf("state dirs after one attach: %v", dir)
	}

	for _, tc := range []struct {
		flag string // --tc-mode, "" for none
		tcx  bool
	}{
		{"clsact", false},
		{"tcx", true},
		{"", true}, // auto
	} {
		name := tc.flag
		if name == "" {
			name = "auto"
		}
		t.Run(name, func(t *testing.T) {
			x := x
			x.TCMode = tc.flag
			addTunnelOn(t, ctx, x, ns, "name", "xt0", "type", "gre", "local", lab.UnderlayA, "remote", lab.UnderlayB, "key", "1")
			idx := ipLinks(t, ctx, ns)["xt0"].Ifindex
			qd := runOK(t, ctx, ns, "tc", "qdisc", "show", "dev", "xt0")
			filters := runOK(t, ctx, ns, "tc", "filter", "show", "dev", "xt0", "egress")
			bt := runOK(t, ctx, ns, "bpftool", "net", "show", "dev", "xt0")
			tcPin := fmt.Sprintf("tc-%d", idx)
			wantPins := []string{fmt.Sprintf("xdpo-%d", idx)}
			if tc.tcx {
				wantPins = append(wantPins, tcPin)
			}
			gotPins := pins(t, dir[0])
			for _, p := range []string{wantPins[0], tcPin} {
				if want := slices.Contains(wantPins, p); slices.Contains(gotPins, p) != want {
					t.Errorf("pin %s present: %v, want %v (pins %v)", p, !want, want, gotPins)
				}
			}
			clsact := strings.Contains(qd, "qdisc clsact")
			if clsact == tc.tcx {
				t.Errorf("clsact qdisc on xt0: %v, want %v:\n%s", clsact, !tc.tcx, qd)
			}
			if tc.tcx {
				if strings.TrimSpace(filters) != "" {
					t.Errorf("tc filter show dev xt0 egress, want nothing with TCX:\n%s", filters)
				}
				pl := readPinnedLink(t, filepath.Join(dir[0], "links", tcPin))
				if pl.Type != link.TCXType || !pl.TCXEgress || pl.Ifindex != idx || pl.ProgName != "xt_tc_encap" {
					t.Errorf("pinned %s: %+v, want a TCX egress link on ifindex %d running xt_tc_encap", tcPin, pl, idx)
				}
				return
			}
			if !hasLineWith(filters, "bpf", "xt_tc_encap", "direct-action") {
				t.Errorf("tc filter show dev xt0 egress: no bpf xt_tc_encap direct-action filter:\n%s", filters)
			}
			if want := fmt.Sprintf("xt0(%d) clsact/egress xt_tc_encap", idx); !strings.Contains(bt, want) {
				t.Errorf("bpftool net show dev xt0: no %q:\n%s", want, bt)
			}
		})
	}
}

// TestDetachRemovesEverything runs a gre key 1 tunnel (xt0, clsact, routed,
// on both hosts) and an ipip tunnel (xt1, tcx, hostA only). `link del xt1`
// removes xt1, its peer, its pins and its link show line, and xt0 still
// carries pings. With xt1 back, `detach ethA` removes the XDP program,
// both tunnels with their peers and hostA's state dir (hostB's stays),
// and leaves hostA's netdevs and qdiscs as they were before the attach;
// a second detach fails with one line saying it is not attached.
func TestDetachRemovesEverything(t *testing.T) {
	requireLab(t, "tc")
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "detach")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS, TCMode: "clsact"}
	ns := l.HostA
	devsBefore, qdiscsBefore := linkNames(ipLinks(t, ctx, ns)), qdiscs(t, ctx, ns)

	dirA := attachNewDir(t, ctx, x, l.HostA, lab.DevA)
	dirB := attachNewDir(t, ctx, x, l.HostB, lab.DevB)
	greKey1 := lab.TunnelCase{Name: "gre-key1", Args: func(local, remote string) []string {
		return []string{"name", lab.TunnelName, "type", "gre", "local", local, "remote", remote, "key", "1"}
	}}
	if err := l.AddTunnel(ctx, x, greKey1); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitQuiet(ctx, x, time.Second, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ipip := []string{"--tc-mode", "tcx", "link", "add", "name", "xt1", "type", "ipip", "local", lab.UnderlayA, "remote", lab.UnderlayB}
	xt(t, ctx, x, ns, ipip...)

	t.Run("link del", func(t *testing.T) {
		xt1 := ipLinks(t, ctx, ns)["xt1"]
		gone := []string{"xt1", xt1.Peer, fmt.Sprintf("xdpo-%d", xt1.Ifindex), fmt.Sprintf("tc-%d", xt1.Ifindex)}
		if !strings.HasPrefix(xt1.Peer, "xtp") || !slices.Contains(pins(t, dirA), gone[3]) {
			t.Fatalf("before link del: xt1 is %+v with pins %v, want an xtpN peer and %s", xt1, pins(t, dirA), gone[3])
		}
		xt(t, ctx, x, ns, "link", "del", "xt1")
		devs := linkNames(ipLinks(t, ctx, ns))
		p := pins(t, dirA)
		for _, g := range gone {
			if slices.Contains(devs, g) || slices.Contains(p, g) {
				t.Errorf("after link del xt1: %s is still there (netdevs %v, pins %v)", g, devs, p)
			}
		}
		if tuns, _ := linkShow(t, ctx, x, ns); len(tuns) != 1 || tuns["xt0"] == "" {
			t.Errorf("link show after link del xt1: %v, want only xt0", tuns)
		}
		pingExact(t, ctx, l, x, true, lab.CliB4)
		pingExact(t, ctx, l, x, false, lab.CliA4)
	})

	xt(t, ctx, x, ns, ipip...)
	links := ipLinks(t, ctx, ns)
	overlays := []string{"xt0", links["xt0"].Peer, "xt1", links["xt1"].Peer}
	if !slices.Contains(qdiscs(t, ctx, ns), "xt0 clsact ffff:") {
		t.Errorf("before detach: no clsact qdisc on xt0: %v", qdiscs(t, ctx, ns))
	}

	xt(t, ctx, x, ns, "detach", lab.DevA)
	links = ipLinks(t, ctx, ns)
	if progs := links[lab.DevA].xdpProgs(); len(progs) != 0 {
		t.Errorf("after detach: XDP on ethA %+v, want none", progs)
	}
	for _, d := range overlays {
		if _, ok := links[d]; ok {
			t.Errorf("after detach: netdev %s still exists", d)
		}
	}
	if got := linkNames(links); !slices.Equal(got, devsBefore) {
		t.Errorf("netdevs after detach %v, want those before attach %v", got, devsBefore)
	}
	if got := qdiscs(t, ctx, ns); !slices.Equal(got, qdiscsBefore) {
		t.Errorf("qdiscs after detach %v, want those before attach %v", got, qdiscsBefore)
	}
	if got := stateDirs(t, l.BPFFS); !slices.Equal(got, []string{dirB}) {
		t.Errorf("state dirs after detach %v, want only hostB's %s (hostA's was %s)", got, dirB, dirA)
	}

	_, stderr, err := x.Run(ctx, ns, "detach", lab.DevA)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("second detach: want a non-zero exit, got %v", err)
	}
	checkOneLine(t, stderr, "not attached")
}

// TestStateSurvivesProcess attaches and adds a tunnel, then, with no
// xtunnel process left running, pings through it (the pinned programs
// forward alone) and lists it from a new process.
func TestStateSurvivesProcess(t *testing.T) {
	requireLab(t)
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "state")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}
	if err := l.Attach(ctx, x); err != nil {
		t.Fatal(err)
	}
	addTunnel(t, ctx, l, x, lab.Cases()[0]) // gre-key

	if pids := processesOf(t, xtunnelBin); len(pids) > 0 {
		t.Fatalf("xtunnel processes still running: %v", pids)
	}
	pingExact(t, ctx, l, x, true, lab.CliB4)
	pingExact(t, ctx, l, x, false, lab.CliA4)
	pingExact(t, ctx, l, x, true, lab.CliB6)

	tuns, ports := linkShow(t, ctx, x, l.HostA)
	want := "xt0: gre remote 198.51.100.2 local 198.51.100.1 ttl inherit key 42 dev ethA"
	if len(tuns) != 1 || !strings.HasPrefix(tuns["xt0"], want) {
		t.Errorf("link show in hostA: %v, want one line starting %q", tuns, want)
	}
	if !slices.Equal(ports, []string{"ethA xdp native"}) {
		t.Errorf("link show attached lines %q, want [ethA xdp native]", ports)
	}
}

// TestNamespacesIsolated runs hostA and hostB on the same --bpffs: each
// gets its own ns- dir, lists only its own tunnels and port, and cannot
// delete the other's tunnel or detach the other's port.
func TestNamespacesIsolated(t *testing.T) {
	requireLab(t)
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "iso")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}

	hosts := []struct {
		h      lab.Host
		tunnel string
		args   []string
		dir    string
	}{
		{h: l.Hosts()[0], tunnel: "xta", args: []string{"type", "gre", "local", lab.UnderlayA, "remote", lab.UnderlayB, "key", "7"}},
		{h: l.Hosts()[1], tunnel: "xtb", args: []string{"type", "ipip", "local", lab.UnderlayB, "remote", lab.UnderlayA}},
	}
	for i := range hosts {
		s := &hosts[i]
		s.dir = attachNewDir(t, ctx, x, s.h.NS, s.h.Dev)
		addTunnelOn(t, ctx, x, s.h.NS, append([]string{"name", s.tunnel}, s.args...)...)
	}
	if hosts[0].dir == hosts[1].dir {
		t.Errorf("hostA and hostB share the state dir %s", hosts[0].dir)
	}
	for i, s := range hosts {
		other := hosts[1-i]
		tuns, ports := linkShow(t, ctx, x, s.h.NS)
		if len(tuns) != 1 || tuns[s.tunnel] == "" {
			t.Errorf("host %s: link show lists %v, want only %s", s.h.Name, tuns, s.tunnel)
		}
		if want := []string{s.h.Dev + " xdp native"}; !slices.Equal(ports, want) {
			t.Errorf("host %s: link show attached %q, want %q", s.h.Name, ports, want)
		}
		for _, args := range [][]string{{"link", "del", other.tunnel}, {"detach", other.h.Dev}} {
			if _, stderr, err := x.Run(ctx, s.h.NS, args...); err == nil {
				t.Errorf("host %s: %s succeeded on the other host's object", s.h.Name, strings.Join(args, " "))
			} else {
				checkOneLine(t, stderr, args[len(args)-1])
			}
		}
	}
	// Still there after the other host's failed attempts.
	for _, s := range hosts {
		if tuns, _ := linkShow(t, ctx, x, s.h.NS); tuns[s.tunnel] == "" {
			t.Errorf("host %s: %s is gone from link show: %v", s.h.Name, s.tunnel, tuns)
		}
		if progs := ipLinks(t, ctx, s.h.NS)[s.h.Dev].xdpProgs(); len(progs) != 1 {
			t.Errorf("host %s: XDP on %s is %+v, want one program", s.h.Name, s.h.Dev, progs)
		}
	}
}

// runOK runs argv in ns, fails the test if it fails and returns stdout.
func runOK(t *testing.T, ctx context.Context, ns string, argv ...string) string {
	t.Helper()
	out, _, err := lab.RunSplit(ctx, ns, argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// xt runs xtunnel in ns, fails the test if it fails and returns stdout.
func xt(t *testing.T, ctx context.Context, x lab.Xtunnel, ns string, args ...string) string {
	t.Helper()
	out, _, err := x.Run(ctx, ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addTunnel creates case c on both hosts with the lab and removes it when
// the test ends, then waits for the tunnel counters to settle.
func addTunnel(t *testing.T, ctx context.Context, l *lab.Lab, x lab.Xtunnel, c lab.TunnelCase) {
	t.Helper()
	if err := l.AddTunnel(ctx, x, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.DelTunnel(context.WithoutCancel(ctx), x); err != nil {
			t.Errorf("link del: %v", err)
		}
	})
	if err := l.WaitQuiet(ctx, x, time.Second, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// addTunnelOn runs `xtunnel link add WORDS` (with x's --tc-mode) in ns
// and `link del NAME` when the test ends.
func addTunnelOn(t *testing.T, ctx context.Context, x lab.Xtunnel, ns string, words ...string) {
	t.Helper()
	args := append([]string{"link", "add"}, words...)
	if x.TCMode != "" {
		args = append([]string{"--tc-mode", x.TCMode}, args...)
	}
	xt(t, ctx, x, ns, args...)
	name := words[slices.Index(words, "name")+1]
	t.Cleanup(func() {
		if _, _, err := x.Run(context.WithoutCancel(ctx), ns, "link", "del", name); err != nil {
			t.Errorf("link del %s: %v", name, err)
		}
	})
}

// attachNewDir attaches dev in ns and returns the state dir that appeared.
func attachNewDir(t *testing.T, ctx context.Context, x lab.Xtunnel, ns, dev string) string {
	t.Helper()
	before := stateDirs(t, x.BPFFS)
	xt(t, ctx, x, ns, "attach", dev)
	var added []string
	for _, d := range stateDirs(t, x.BPFFS) {
		if !slices.Contains(before, d) {
			added = append(added, d)
		}
	}
	if len(added) != 1 {
		t.Fatalf("[%s] attach %s: new state dirs %v, want one (before: %v)", ns, dev, added, before)
	}
	return added[0]
}

// stateDirs lists the ns-COOKIE directories under bpffs, sorted.
func stateDirs(t *testing.T, bpffs string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(bpffs, "ns-*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	return dirs
}

// pins lists the names in dir/links, sorted; none if it does not exist.
func pins(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "links"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// pinnedLink is what the kernel says about a pinned BPF link.
type pinnedLink struct {
	Type      link.Type
	ID        link.ID
	Prog      ebpf.ProgramID
	ProgName  string
	Ifindex   int  // XDP and TCX links
	TCXEgress bool // a TCX link on egress
}

func readPinnedLink(t *testing.T, path string) pinnedLink {
	t.Helper()
	l, err := link.LoadPinnedLink(path, nil)
	if err != nil {
		t.Fatalf("pinned link %s: %v", path, err)
	}
	defer l.Close()
	info, err := l.Info()
	if err != nil {
		t.Fatalf("pinned link %s: %v", path, err)
	}
	pl := pinnedLink{Type: info.Type, ID: info.ID, Prog: info.Program}
	if x := info.XDP(); x != nil {
		pl.Ifindex = int(x.Ifindex)
	}
	if x := info.TCX(); x != nil {
		pl.Ifindex = int(x.Ifindex)
		pl.TCXEgress = uint32(x.AttachType) == uint32(ebpf.AttachTCXEgress)
	}
	if p, err := ebpf.NewProgramFromID(info.Program); err == nil {
		if pi, err := p.Info(); err == nil {
			pl.ProgName = pi.Name
		}
		p.Close()
	}
	return pl
}

// ipLink is one netdev of `ip -j link show`.
type ipLink struct {
	Ifindex int    `json:"ifindex"`
	Name    string `json:"ifname"`
	Peer    string `json:"link"` // a veth peer in the same namespace
	XDP     *struct {
		Attached []xdpProg `json:"attached"`
	} `json:"xdp"`
}

type xdpProg struct {
	Mode int `json:"mode"`
	Prog struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	} `json:"prog"`
}

func (l ipLink) xdpProgs() []xdpProg {
	if l.XDP == nil {
		return nil
	}
	return l.XDP.Attached
}

// ipLinks returns the netdevs of ns by name.
func ipLinks(t *testing.T, ctx context.Context, ns string) map[string]ipLink {
	t.Helper()
	out, _, err := lab.RunSplit(ctx, ns, "ip", "-j", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	var list []ipLink
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("[%s] ip -j link show: %v: %s", ns, err, out)
	}
	m := map[string]ipLink{}
	for _, l := range list {
		m[l.Name] = l
	}
	return m
}

func linkNames(m map[string]ipLink) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// qdiscs returns ns's qdiscs as "DEV KIND HANDLE", sorted.
func qdiscs(t *testing.T, ctx context.Context, ns string) []string {
	t.Helper()
	out, _, err := lab.RunSplit(ctx, ns, "tc", "-j", "qdisc", "show")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct{ Dev, Kind, Handle string }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("[%s] tc -j qdisc show: %v: %s", ns, err, out)
	}
	var qs []string
	for _, q := range list {
		qs = append(qs, q.Dev+" "+q.Kind+" "+q.Handle)
	}
	slices.Sort(qs)
	return qs
}

// linkShow runs `xtunnel link show` in ns and returns its tunnel lines by
// name and its "attached: " lines without that word.
func linkShow(t *testing.T, ctx context.Context, x lab.Xtunnel, ns string) (tunnels map[string]string, attached []string) {
	t.Helper()
	out := xt(t, ctx, x, ns, "link", "show")
	tunnels = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if port, ok := strings.CutPrefix(line, "attached: "); ok {
			attached = append(attached, port)
		} else if name, _, ok := strings.Cut(line, ": "); ok {
			tunnels[name] = line
		} else if line != "" {
			t.Errorf("[%s] link show: unexpected line %q", ns, line)
		}
	}
	return tunnels, attached
}

// hasLineWith reports whether one line of out has every word.
func hasLineWith(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if !slices.ContainsFunc(words, func(w string) bool { return !slices.Contains(f, w) }) {
			return true
		}
	}
	return false
}

// processesOf lists the pids of running processes whose executable is bin.
func processesOf(t *testing.T, bin string) []string {
	t.Helper()
	exes, err := filepath.Glob("/proc/[0-9]*/exe")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range exes {
		if target, err := os.Readlink(e); err == nil && target == bin {
			pids = append(pids, filepath.Base(filepath.Dir(e)))
		}
	}
	return pids
}
