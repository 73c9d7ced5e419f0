// Package lab builds the network-namespace topology that the end-to-end
// tests and `make demo` run xtunnel in, and measures traffic across it:
//
//	cliA (10.1.0.2/24, fd00:1::2/64) --veth-- hostA (vcli 10.1.0.1, fd00:1::1)
//	                                           hostA ethA 198.51.100.1/24, 2001:db8:100::1/64
//	                                             || veth underlay
//	                                           hostB ethB 198.51.100.2/24, 2001:db8:100::2/64
//	cliB (10.2.0.2/24, fd00:2::2/64) --veth-- hostB (vcli 10.2.0.1, fd00:2::1)
//
// and an L2 segment that only an Ethernet tunnel joins: each client has a
// second veth ("l2", MTU 1400) whose host end "vl2" is a port of the bridge
// "brl2" on its host; an Ethernet overlay added as a second port of both
// bridges puts the two clients on one subnet:
//
//	cliA l2 10.9.9.1/24, fd09:9::1/64 --veth-- hostA vl2 [brl2] xt0 ... xt0 [brl2] vl2 hostB --veth-- l2 10.9.9.2/24, fd09:9::2/64 cliB
//
// The bridges and their ports have no addresses and no IPv6 at all, and
// the clients send no router solicitations on l2, so nothing but what a
// test sends (and ARP and neighbour discovery for it) crosses the overlay.
//
// Every address and route lives inside the four namespaces the lab
// creates; the root namespace's addresses and routes are never touched.
// The two sites have no route to each other: traffic between cliA and cliB
// crosses only through a tunnel (or through RouteUnderlay, which exists to
// check the lab itself).
//
// Namespace names are Prefix + role, with Prefix "xt<pid%10000>-" (or
// "xt<pid%10000>-<tag>-"), so parallel runs do not collide and leftovers of
// a crashed run can be recognised and removed (CleanStale).
package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Addresses and device names of the topology.
const (
	DevA      = "ethA" // hostA's underlay netdev
	DevB      = "ethB" // hostB's underlay netdev
	UnderlayA = "198.51.100.1"
	UnderlayB = "198.51.100.2"
	// IPv6 underlay addresses (same veth pair), for ip6tnl and ip6gre.
	UnderlayA6 = "2001:db8:100::1"
	UnderlayB6 = "2001:db8:100::2"

	CliA4 = "10.1.0.2"
	CliA6 = "fd00:1::2"
	CliB4 = "10.2.0.2"
	CliB6 = "fd00:2::2"

	SiteA4 = "10.1.0.0/24"
	SiteA6 = "fd00:1::/64"
	SiteB4 = "10.2.0.0/24"
	SiteB6 = "fd00:2::/64"

	// The L2 segment (see the package comment).
	L2CliDev  = "l2"   // the clients' netdev on it
	L2HostDev = "vl2"  // its host end, a bridge port
	Bridge    = "brl2" // each host's bridge
	L2A4      = "10.9.9.1"
	L2A6      = "fd09:9::1"
	L2B4      = "10.9.9.2"
	L2B6      = "fd09:9::2"
	// L2MTU is the clients' MTU on the L2 segment: it fits inside every
	// overlay (vxlan over IPv6 leaves 1430, geneve with options less), as
	// it must, since a bridge drops frames too big for the overlay.
	L2MTU = 1400
)

// Lab is one instance of the topology.
type Lab struct {
	Prefix string
	CliA   string // namespace names
	HostA  string
	HostB  string
	CliB   string
	// BPFFS is a bpffs mounted for this lab outside /sys (which
	// `ip netns exec` remounts); pass it to xtunnel as --bpffs.
	BPFFS string

	mu       sync.Mutex
	attached bool
	// undo are the xtunnel commands that take back what AddTunnel set up
	// for its case (Setup steps), run by DelTunnel in reverse order;
	// undoPost those of its PostLink steps, run before link del.
	undo, undoPost []undoStep
	// cur is the case AddTunnel set up last.
	cur TunnelCase
}

var (
	prefixRE = regexp.MustCompile(`^xt([0-9]{1,4})-(?:[a-z0-9]+-)?$`)
	nsRE     = regexp.MustCompile(`^xt([0-9]{1,4})-(?:[a-z0-9]+-)?(?:cliA|hostA|hostB|cliB)$`)
	bpffsRE  = regexp.MustCompile(`^xtunnel-lab-xt([0-9]{1,4})-`)

	activeMu sync.Mutex
	active   = map[string]*Lab{} // labs of this process, by prefix
)

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/run/netns"

// Prefix returns this process's namespace prefix: "xt<pid%10000>-", or
// "xt<pid%10000>-<tag>-" when tag (lower-case letters and digits) is set,
// for a process that runs several labs at once.
func Prefix(tag string) string {
	p := fmt.Sprintf("xt%d-", os.Getpid()%10000)
	if tag != "" {
		p += tag + "-"
	}
	return p
}

// Namespaces lists the lab's namespaces: cliA, hostA, hostB, cliB.
func (l *Lab) Namespaces() []string { return []string{l.CliA, l.HostA, l.HostB, l.CliB} }

// New removes stale namespaces of crashed runs (CleanStale), then builds
// the topology under prefix (see Prefix) and mounts a bpffs for it. On
// error nothing is left behind. Call Cleanup when done.
func New(ctx context.Context, prefix string) (*Lab, error) {
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("lab prefix %q does not follow the scheme xt<pid%%10000>-[tag-]", prefix)
	}
	activeMu.Lock()
	for p := range active {
		if strings.HasPrefix(p, prefix) || strings.HasPrefix(prefix, p) {
			activeMu.Unlock()
			return nil, fmt.Errorf("lab prefix %q overlaps lab %q of this process; use lab.Prefix(tag) with distinct tags", prefix, p)
		}
	}
	activeMu.Unlock()
	if _, err := CleanStale(ctx); err != nil {
		return nil, err
	}

	l := &Lab{
		Prefix: prefix,
		CliA:   prefix + "cliA",
		HostA:  prefix + "hostA",
		HostB:  prefix + "hostB",
		CliB:   prefix + "cliB",
	}
	for _, ns := range l.Namespaces() {
		if nsExists(ns) {
			return nil, fmt.Errorf("namespace %s exists and may belong to a running lab of a process whose pid ends in the same digits; remove it with `ip netns del %s` if it is stale", ns, ns)
		}
	}
	activeMu.Lock()
	active[prefix] = l
	activeMu.Unlock()

	if err := l.build(ctx); err != nil {
		if cerr := l.Cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, fmt.Errorf("build lab %s: %w", prefix, err)
	}
	return l, nil
}

func (l *Lab) build(ctx context.Context) error {
	dir, err := MountBPFFS(l.Prefix)
	if err != nil {
		return err
	}
	l.BPFFS = dir

	for _, ns := range l.Namespaces() {
		if _, err := ip(ctx, "netns", "add", ns); err != nil {
			return err
		}
	}
	for _, ns := range l.Namespaces() {
		// No DAD anywhere (link-locals included): addresses are usable
		// at once and nothing waits for a tentative address.
		if err := sysctl(ctx, ns, "net.ipv6.conf.default.accept_dad", "0"); err != nil {
			return err
		}
		if err := sysctl(ctx, ns, "net.ipv6.conf.all.accept_dad", "0"); err != nil {
			return err
		}
		if _, err := ip(ctx, "-n", ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	for _, ns := range []string{l.HostA, l.HostB} {
		for _, kv := range [][2]string{
			{"net.ipv4.ip_forward", "1"},
			{"net.ipv6.conf.all.forwarding", "1"},
			{"net.ipv4.conf.all.rp_filter", "0"},
			{"net.ipv4.conf.default.rp_filter", "0"},
		} {
			if err := sysctl(ctx, ns, kv[0], kv[1]); err != nil {
				return err
			}
		}
	}

	steps := [][]string{
		// Links are created inside the namespaces, never in the caller's.
		{"-n", l.HostA, "link", "add", "vcli", "type", "veth", "peer", "name", "eth0", "netns", l.CliA},
		{"-n", l.HostB, "link", "add", "vcli", "type", "veth", "peer", "name", "eth0", "netns", l.CliB},
		{"-n", l.HostA, "link", "add", DevA, "type", "veth", "peer", "name", DevB, "netns", l.HostB},

		{"-n", l.CliA, "addr", "add", CliA4 + "/24", "dev", "eth0"},
		{"-n", l.CliA, "addr", "add", CliA6 + "/64", "dev", "eth0", "nodad"},
		{"-n", l.HostA, "addr", "add", "10.1.0.1/24", "dev", "vcli"},
		{"-n", l.HostA, "addr", "add", "fd00:1::1/64", "dev", "vcli", "nodad"},
		{"-n", l.HostA, "addr", "add", UnderlayA + "/24", "dev", DevA},
		{"-n", l.HostA, "addr", "add", UnderlayA6 + "/64", "dev", DevA, "nodad"},
		{"-n", l.HostB, "addr", "add", UnderlayB + "/24", "dev", DevB},
		{"-n", l.HostB, "addr", "add", UnderlayB6 + "/64", "dev", DevB, "nodad"},
		{"-n", l.HostB, "addr", "add", "10.2.0.1/24", "dev", "vcli"},
		{"-n", l.HostB, "addr", "add", "fd00:2::1/64", "dev", "vcli", "nodad"},
		{"-n", l.CliB, "addr", "add", CliB4 + "/24", "dev", "eth0"},
		{"-n", l.CliB, "addr", "add", CliB6 + "/64", "dev", "eth0", "nodad"},

		{"-n", l.CliA, "link", "set", "eth0", "up"},
		{"-n", l.HostA, "link", "set", "vcli", "up"},
		{"-n", l.HostA, "link", "set", DevA, "up"},
		{"-n", l.HostB, "link", "set", DevB, "up"},
		{"-n", l.HostB, "link", "set", "vcli", "up"},
		{"-n", l.CliB, "link", "set", "eth0", "up"},

		{"-n", l.CliA, "route", "add", "default", "via", "10.1.0.1"},
		{"-n", l.CliA, "-6", "route", "add", "default", "via", "fd00:1::1"},
		{"-n", l.CliB, "route", "add", "default", "via", "10.2.0.1"},
		{"-n", l.CliB, "-6", "route", "add", "default", "via", "fd00:2::1"},
	}
	for _, s := range steps {
		if _, err := ip(ctx, s...); err != nil {
			return err
		}
	}
	if err := l.buildL2(ctx); err != nil {
		return err
	}
	// The underlay veths complete checksums as a physical NIC does: a veth
	// otherwise hands partial checksums to its peer as skb metadata, which
	// an XDP redirect (decap) cannot carry.
	for _, d := range [][2]string{{l.HostA, DevA}, {l.HostB, DevB}} {
		if _, err := Run(ctx, d[0], "ethtool", "-K", d[1], "tx", "off"); err != nil {
			return err
		}
	}
	return nil
}

// buildL2 adds the L2 segment: per site a veth l2 (client) <-> vl2
// (host), vl2 a port of the host's bridge brl2.
func (l *Lab) buildL2(ctx context.Context) error {
	for _, site := range []struct{ host, cli, a4, a6 string }{
		{l.HostA, l.CliA, L2A4, L2A6},
		{l.HostB, l.CliB, L2B4, L2B6},
	} {
		mtu := strconv.Itoa(L2MTU)
		if _, err := ip(ctx, "-n", site.host, "link", "add", L2HostDev, "type", "veth", "peer", "name", L2CliDev, "netns", site.cli); err != nil {
			return err
		}
		// No snooping: multicast (neighbour solicitations) floods, so
		// forwarding does not depend on MLD reports the bridge heard.
		if _, err := ip(ctx, "-n", site.host, "link", "add", Bridge, "type", "bridge", "mcast_snooping", "0"); err != nil {
			return err
		}
		// The host takes no part in the segment: no IPv6 (link-local
		// addresses, MLD) on the bridge or its port.
		for _, dev := range []string{Bridge, L2HostDev} {
			if err := sysctl(ctx, site.host, "net.ipv6.conf."+dev+".disable_ipv6", "1"); err != nil {
				return err
			}
		}
		// The client sends no router solicitations on l2: with the
		// kernel's default they go on, backing off, for an hour.
		for _, kv := range [][2]string{
			{"net.ipv6.conf." + L2CliDev + ".accept_ra", "0"},
			{"net.ipv6.conf." + L2CliDev + ".router_solicitations", "0"},
		} {
			if err := sysctl(ctx, site.cli, kv[0], kv[1]); err != nil {
				return err
			}
		}
		for _, s := range [][]string{
			{"-n", site.host, "link", "set", L2HostDev, "master", Bridge},
			{"-n", site.cli, "link", "set", L2CliDev, "mtu", mtu},
			{"-n", site.cli, "addr", "add", site.a4 + "/24", "dev", L2CliDev},
			{"-n", site.cli, "addr", "add", site.a6 + "/64", "dev", L2CliDev, "nodad"},
			{"-n", site.host, "link", "set", L2HostDev, "up"},
			{"-n", site.host, "link", "set", Bridge, "up"},
			{"-n", site.cli, "link", "set", L2CliDev, "up"},
		} {
			if _, err := ip(ctx, s...); err != nil {
				return err
			}
		}
	}
	return nil
}

// linkLocal returns the IPv6 link-local address of dev in ns.
func linkLocal(ctx context.Context, ns, dev string) (string, error) {
	out, err := ip(ctx, "-n", ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link")
	if err != nil {
		return "", err
	}
	// "3: ethA    inet6 fe80::.../64 scope link ..."
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "inet6" {
			addr, _, _ := strings.Cut(f[i+1], "/")
			return addr, nil
		}
	}
	return "", fmt.Errorf("[%s] %s has no IPv6 link-local address", ns, dev)
}

// sysctl sets key (dotted, as sysctl(8) names it) to val inside ns by
// writing /proc/sys, so procps need not be installed.
func sysctl(ctx context.Context, ns, key, val string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	_, err := Run(ctx, ns, "sh", "-c", `echo "$1" > "$2"`, "sh", val, path)
	return err
}

// RouteUnderlay routes each site to the other over the underlay, without
// any tunnel (IPv4 via the peer's underlay address, IPv6 via its
// link-local address), so that the lab itself can be checked. Undo it with the returned
// function before adding tunnel routes.
func (l *Lab) RouteUnderlay(ctx context.Context) (undo func(context.Context) error, err error) {
	llA, err := linkLocal(ctx, l.HostA, DevA)
	if err != nil {
		return nil, err
	}
	llB, err := linkLocal(ctx, l.HostB, DevB)
	if err != nil {
		return nil, err
	}
	routes := [][]string{
		{"-n", l.HostA, "route", "add", SiteB4, "via", UnderlayB, "dev", DevA},
		{"-n", l.HostB, "route", "add", SiteA4, "via", UnderlayA, "dev", DevB},
		{"-n", l.HostA, "-6", "route", "add", SiteB6, "via", llB, "dev", DevA},
		{"-n", l.HostB, "-6", "route", "add", SiteA6, "via", llA, "dev", DevB},
	}
	var added [][]string
	undo = func(ctx context.Context) error {
		var errs []error
		for _, r := range added {
			d := append([]string(nil), r...)
			for i, w := range d {
				if w == "add" {
					d[i] = "del"
				}
			}
			if _, err := ip(ctx, d...); err != nil {
				errs = append(errs, err)
			}
		}
		added = nil
		return errors.Join(errs...)
	}
	for _, r := range routes {
		if _, err := ip(ctx, r...); err != nil {
			return nil, errors.Join(err, undo(ctx))
		}
		added = append(added, r)
	}
	return undo, nil
}

// Cleanup deletes the lab's namespaces (after killing whatever still runs
// in them) and unmounts its bpffs. It is idempotent and uses its own
// timeout, so it also works after the caller's context was cancelled.
func (l *Lab) Cleanup() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var errs []error
	for _, ns := range l.Namespaces() {
		if err := deleteNamespace(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if l.BPFFS != "" {
		if err := UnmountBPFFS(l.BPFFS); err != nil {
			errs = append(errs, err)
		} else {
			l.BPFFS = ""
		}
	}
	l.attached = false
	if len(errs) == 0 {
		activeMu.Lock()
		if active[l.Prefix] == l {
			delete(active, l.Prefix)
		}
		activeMu.Unlock()
	}
	return errors.Join(errs...)
}

// CleanupAll cleans up every lab of this process that is not cleaned up
// yet: a last line of defence for a test binary or a signal handler.
func CleanupAll() error {
	activeMu.Lock()
	var labs []*Lab
	for _, l := range active {
		labs = append(labs, l)
	}
	activeMu.Unlock()
	var errs []error
	for _, l := range labs {
		errs = append(errs, l.Cleanup())
	}
	return errors.Join(errs...)
}

func nsExists(ns string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, ns))
	return err == nil
}

// deleteNamespace kills the processes left inside ns (all started by the
// lab) and deletes it; a namespace that does not exist is not an error.
func deleteNamespace(ctx context.Context, ns string) error {
	if !nsExists(ns) {
		return nil
	}
	for _, pid := range nsPids(ctx, ns) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if _, err := ip(ctx, "netns", "del", ns); err != nil && nsExists(ns) {
		return err
	}
	return nil
}

func nsPids(ctx context.Context, ns string) []int {
	out, err := ip(ctx, "netns", "pids", ns)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// CleanStale removes namespaces and bpffs mounts that follow the lab's
// naming scheme and belong to a run that is gone: no live process other
// than this one has a pid ending in the same four digits, no lab of this
// process uses the prefix, and no process runs inside the namespace. It
// returns what it removed.
func CleanStale(ctx context.Context) ([]string, error) {
	live := livePidSuffixes()
	owned := func(name string) bool {
		activeMu.Lock()
		defer activeMu.Unlock()
		for p := range active {
			if strings.HasPrefix(name, p) || strings.HasPrefix(name, "xtunnel-lab-"+p) {
				return true
			}
		}
		return false
	}
	var removed []string
	var errs []error

	entries, err := os.ReadDir(netnsDir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	for _, e := range entries {
		m := nsRE.FindStringSubmatch(e.Name())
		if m == nil || live[atoi(m[1])] || owned(e.Name()) {
			continue
		}
		if len(nsPids(ctx, e.Name())) > 0 {
			continue
		}
		if err := deleteNamespace(ctx, e.Name()); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "netns "+e.Name())
	}

	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "xtunnel-lab-xt*"))
	for _, d := range dirs {
		m := bpffsRE.FindStringSubmatch(filepath.Base(d))
		if m == nil || live[atoi(m[1])] || owned(filepath.Base(d)) {
			continue
		}
		if err := UnmountBPFFS(d); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "bpffs "+d)
	}
	return removed, errors.Join(errs...)
}

// livePidSuffixes returns pid%10000 of every process but this one.
func livePidSuffixes() map[int]bool {
	live := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		live[pid%10000] = true
	}
	return live
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// MountBPFFS creates a directory in the temp dir named after prefix and
// mounts a bpffs on it. It lives outside /sys/fs/bpf because
// `ip netns exec` remounts /sys and would hide that one.
func MountBPFFS(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", "xtunnel-lab-"+prefix)
	if err != nil {
		return "", fmt.Errorf("bpffs dir: %w", err)
	}
	if err := syscall.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("mount bpffs on %s: %w (needs root)", dir, err)
	}
	return dir, nil
}

// UnmountBPFFS unmounts what MountBPFFS mounted (if mounted) and removes
// the directory; a directory that is already gone is not an error.
func UnmountBPFFS(dir string) error {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	for i := 0; i < 8 && isMountpoint(dir); i++ {
		if err := syscall.Unmount(dir, 0); err != nil {
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount %s: %w", dir, err)
			}
		}
	}
	if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

func isMountpoint(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && unescapeMount(f[4]) == dir {
			return true
		}
	}
	return false
}

// unescapeMount undoes the octal escapes (\040 for space ...) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
