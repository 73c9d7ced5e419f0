package lab

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TunnelName is the overlay netdev every case creates on both hosts.
const TunnelName = "xt0"

// TunnelCase is one tunnel configuration the lab runs traffic through.
type TunnelCase struct {
	Name string // e.g. "gre-key"
	// Args returns the words after `xtunnel link add` for a host whose
	// underlay address is local and whose peer's is remote (IPv6 ones
	// when Underlay6); the tunnel must be named TunnelName.
	Args      func(local, remote string) []string
	Underlay6 bool // over the IPv6 underlay (UnderlayA6, UnderlayB6)
	InnerV4   bool // the tunnel carries IPv4: ping and TCP over IPv4 across it
	InnerV6   bool // the tunnel carries IPv6: ping and TCP over IPv6 across it
	// L2 is an Ethernet overlay (gretap, vxlan, geneve ...): rather than
	// addresses and routes it gets a port of each host's bridge Bridge,
	// and the pings and TCP runs go between the clients' L2 addresses.
	L2 bool
	// KernelB, when set, gives host B the kernel's own netdev instead of
	// xtunnel's: the words after `ip link add` (naming TunnelName) for a
	// host whose underlay address is local and whose peer's is remote.
	// Host B's xtunnel then carries nothing of the case; its counters are
	// the kernel netdev's.
	KernelB func(local, remote string) []string
	// Setup are xtunnel commands run on both hosts before link add (e.g.
	// opening a FOU port), each taken back by its Undo after link del.
	Setup []Step
	// PostLink returns xtunnel commands for a host (its underlay address
	// local, its peer's remote) that need the tunnel, such as fdb add:
	// run on each xtunnel host after link add, each taken back by its
	// Undo before link del.
	PostLink func(local, remote string) []Step
}

// Step is one xtunnel command (the words after `xtunnel --bpffs DIR`)
// and the command that takes it back.
type Step struct {
	Do, Undo []string
}

// FOUPort is the Setup step that opens UDP port for FOU or GUE receive:
// how is "ipproto", "4" (or 41, 47) for direct FOU, or "gue".
func FOUPort(port int, how ...string) Step {
	p := strconv.Itoa(port)
	return Step{
		Do:   append([]string{"fou", "add", "port", p}, how...),
		Undo: []string{"fou", "del", "port", p},
	}
}

// FOUPort6 is FOUPort for an IPv6 listener (xtunnel fou add ... -6).
func FOUPort6(port int, how ...string) Step {
	st := FOUPort(port, how...)
	st.Do = append(st.Do, "-6")
	st.Undo = append(st.Undo, "-6")
	return st
}

// FloodTo is the PostLink of an FDB-mode tunnel: the flood-list entry
// that sends broadcast, multicast and unknown unicast frames to the peer.
func FloodTo(local, remote string) []Step {
	return []Step{{
		Do:   []string{"fdb", "add", FloodMAC, "dst", remote, "dev", TunnelName},
		Undo: []string{"fdb", "del", FloodMAC, "dev", TunnelName, "dst", remote},
	}}
}

// FloodMAC is the MAC of the flood list in `xtunnel fdb`.
const FloodMAC = "00:00:00:00:00:00"

// L2Slack is how many packets more than a ping's ICMP an L2 case's
// counters may move by in one direction: ARP and neighbour discovery
// (a reachability probe and its answer) cross an Ethernet overlay too.
const L2Slack = 2

// CounterSlack is L2Slack for an L2 case, 0 (exact) otherwise.
func (c TunnelCase) CounterSlack() uint64 {
	if c.L2 {
		return L2Slack
	}
	return 0
}

// Underlay names the case's outer family: "IPv4" or "IPv6".
func (c TunnelCase) Underlay() string {
	if c.Underlay6 {
		return "IPv6"
	}
	return "IPv4"
}

// PingTargets are the pings a case needs, in order: IPv4 A->B and B->A
// when it carries IPv4, then the same over IPv6 when it carries IPv6.
// An L2 case pings the clients' L2 addresses.
func (c TunnelCase) PingTargets() []PingTarget {
	a4, a6, b4, b6 := c.addrs()
	var ts []PingTarget
	if c.InnerV4 {
		ts = append(ts, PingTarget{true, b4}, PingTarget{false, a4})
	}
	if c.InnerV6 {
		ts = append(ts, PingTarget{true, b6}, PingTarget{false, a6})
	}
	return ts
}

// addrs are the client addresses case c's traffic goes between: cliA's
// IPv4 and IPv6, then cliB's.
func (c TunnelCase) addrs() (a4, a6, b4, b6 string) {
	if c.L2 {
		return L2A4, L2A6, L2B4, L2B6
	}
	return CliA4, CliA6, CliB4, CliB6
}

// PingTarget is one ping across the tunnel: from cliA to Dst (an address
// of cliB) when FromA, else from cliB to an address of cliA.
type PingTarget struct {
	FromA bool
	Dst   string
}

// TCPRun is one iperf3 run across the tunnel.
type TCPRun struct {
	Name                     string // "A->B" or "B->A"
	ServerNS, Addr, ClientNS string
}

// V6 reports whether the run is over IPv6 inside the tunnel.
func (r TCPRun) V6() bool { return strings.Contains(r.Addr, ":") }

// TCPRuns are the iperf3 runs of case c in lab l: A->B and B->A over
// IPv4 inside the tunnel when it carries IPv4, then the same over IPv6
// when it carries IPv6; an L2 case between the clients' L2 addresses.
func (l *Lab) TCPRuns(c TunnelCase) []TCPRun {
	a4, a6, b4, b6 := c.addrs()
	var runs []TCPRun
	if c.InnerV4 {
		runs = append(runs, TCPRun{Name: "A->B", ServerNS: l.CliB, Addr: b4, ClientNS: l.CliA},
			TCPRun{Name: "B->A", ServerNS: l.CliA, Addr: a4, ClientNS: l.CliB})
	}
	if c.InnerV6 {
		runs = append(runs, TCPRun{Name: "A->B", ServerNS: l.CliB, Addr: b6, ClientNS: l.CliA},
			TCPRun{Name: "B->A", ServerNS: l.CliA, Addr: a6, ClientNS: l.CliB})
	}
	return runs
}

func gre(key string) func(local, remote string) []string {
	return func(local, remote string) []string {
		a := []string{"name", TunnelName, "type", "gre", "local", local, "remote", remote}
		if key != "" {
			a = append(a, "key", key)
		}
		return a
	}
}

// link returns Args for `name xt0 type typ local L remote R extra...`.
func link(typ string, extra ...string) func(local, remote string) []string {
	return func(local, remote string) []string {
		return append([]string{"name", TunnelName, "type", typ, "local", local, "remote", remote}, extra...)
	}
}

// vxlan returns Args for a VXLAN tunnel with VNI id, to the peer (FDB
// mode without it: no remote) and the extra words.
func vxlan(id string, p2p bool, extra ...string) func(local, remote string) []string {
	return func(local, remote string) []string {
		a := []string{"name", TunnelName, "type", "vxlan", "id", id, "local", local}
		if p2p {
			a = append(a, "remote", remote)
		}
		return append(a, extra...)
	}
}

// geneve returns Args for a Geneve tunnel with VNI id and the extra words.
func geneve(id string, extra ...string) func(local, remote string) []string {
	return func(local, remote string) []string {
		return append([]string{"name", TunnelName, "type", "geneve", "id", id, "remote", remote, "local", local}, extra...)
	}
}

// kernelVXLAN is KernelB for the kernel's own VXLAN netdev on host B,
// VNI id on the standard port.
func kernelVXLAN(id string) func(local, remote string) []string {
	return func(local, remote string) []string {
		return []string{TunnelName, "type", "vxlan", "id", id, "local", local, "remote", remote, "dstport", "4789", "dev", DevB}
	}
}

// Cases are the tunnel configurations the lab runs: every type, each of
// its inner families, both underlay families, FOU and GUE, and the
// Ethernet overlays bridged into the L2 segment (two of them against the
// kernel's own VXLAN driver on host B).
func Cases() []TunnelCase {
	return []TunnelCase{
		{Name: "gre-key", Args: gre("42"), InnerV4: true, InnerV6: true},
		{Name: "gre", Args: gre(""), InnerV4: true, InnerV6: true},
		{Name: "ipip", Args: link("ipip"), InnerV4: true},
		// sit's default mode ip6ip carries IPv6 only.
		{Name: "sit", Args: link("sit"), InnerV6: true},
		{Name: "sit-any", Args: link("sit", "mode", "any"), InnerV4: true, InnerV6: true},
		// ip6tnl's default mode ip6ip6 carries IPv6 only; default
		// encaplimit 4 (a destination-options header on every packet).
		{Name: "ip6tnl", Args: link("ip6tnl"), Underlay6: true, InnerV6: true},
		{Name: "ip6tnl-any", Args: link("ip6tnl", "mode", "any", "encaplimit", "none"),
			Underlay6: true, InnerV4: true, InnerV6: true},
		// Host A sends the encapsulation limit option, host B does not:
		// decap must take packets with and without it (RFC 2473).
		{Name: "ip6tnl-elim", Args: func(local, remote string) []string {
			a := link("ip6tnl")(local, remote)
			if local != UnderlayA6 {
				a = append(a, "encaplimit", "none")
			}
			return a
		}, Underlay6: true, InnerV6: true},
		{Name: "ip6gre", Args: link("ip6gre", "key", "7"), Underlay6: true, InnerV4: true, InnerV6: true},
		{Name: "ipip-fou", Args: link("ipip", "encap", "fou", "encap-sport", "auto", "encap-dport", "5555"),
			InnerV4: true, Setup: []Step{FOUPort(5555, "ipproto", "4")}},
		{Name: "gre-fou", Args: link("gre", "encap", "fou", "encap-sport", "auto", "encap-dport", "5556"),
			InnerV4: true, InnerV6: true, Setup: []Step{FOUPort(5556, "ipproto", "47")}},
		{Name: "ipip-gue", Args: link("ipip", "encap", "gue", "encap-dport", "5557"),
			InnerV4: true, Setup: []Step{FOUPort(5557, "gue")}},
		{Name: "sit-gue", Args: link("sit", "encap", "gue", "encap-dport", "5558"),
			InnerV6: true, Setup: []Step{FOUPort(5558, "gue")}},
		// Per-packet GRE checksum and sequence numbers, UDP checksums:
		// the slow TX path (encap at the overlay's veth peer).
		{Name: "gre-csum-seq", Args: link("gre", "key", "9", "csum", "seq"), InnerV4: true, InnerV6: true},
		{Name: "ip6gre-csum", Args: link("ip6gre", "key", "8", "csum"), Underlay6: true, InnerV4: true, InnerV6: true},
		{Name: "ipip-fou-csum", Args: link("ipip", "encap", "fou", "encap-sport", "auto", "encap-dport", "5559", "encap-csum"),
			InnerV4: true, Setup: []Step{FOUPort(5559, "ipproto", "4")}},
		// FOU/GUE over IPv6: UDP checksums always (slow TX path).
		{Name: "ip6tnl-fou", Args: link("ip6tnl", "encap", "fou", "encap-sport", "auto", "encap-dport", "5560"),
			Underlay6: true, InnerV6: true, Setup: []Step{FOUPort6(5560, "ipproto", "41")}},
		{Name: "ip6gre-gue", Args: link("ip6gre", "key", "5", "encap", "gue", "encap-dport", "5561"),
			Underlay6: true, InnerV4: true, InnerV6: true, Setup: []Step{FOUPort6(5561, "gue")}},

		// Ethernet overlays, bridged: cliA and cliB share 10.9.9.0/24.
		{Name: "gretap", Args: link("gretap"), L2: true, InnerV4: true, InnerV6: true},
		// GRE checksum and sequence numbers: the slow TX path.
		{Name: "gretap-key-csum", Args: link("gretap", "key", "9", "csum", "seq"), L2: true, InnerV4: true, InnerV6: true},
		{Name: "ip6gretap", Args: link("ip6gretap", "key", "11"), Underlay6: true, L2: true, InnerV4: true, InnerV6: true},
		{Name: "vxlan", Args: vxlan("42", true), L2: true, InnerV4: true, InnerV6: true},
		{Name: "vxlan6", Args: vxlan("42", true), Underlay6: true, L2: true, InnerV4: true, InnerV6: true},
		// No remote: the peer comes from the flood list (fdb add). Host A
		// learns the far MACs, host B floods every frame.
		{Name: "vxlan-fdb", Args: func(local, remote string) []string {
			a := vxlan("43", false)(local, remote)
			if local == UnderlayA {
				a = append(a, "learning")
			}
			return a
		}, L2: true, InnerV4: true, InnerV6: true, PostLink: FloodTo},
		{Name: "geneve", Args: geneve("77"), L2: true, InnerV4: true, InnerV6: true},
		// Two non-critical options (one with no data) on every packet.
		{Name: "geneve-opts", Args: geneve("78", "opt", "0102:01:00000001", "opt", "0103:02:"),
			L2: true, InnerV4: true, InnerV6: true},
		{Name: "geneve6", Args: geneve("79"), Underlay6: true, L2: true, InnerV4: true, InnerV6: true},
		// innerprotoinherit: IP packets without an Ethernet header, an L3
		// tunnel routed like gre.
		{Name: "geneve-l3", Args: geneve("80", "innerprotoinherit"), InnerV4: true, InnerV6: true},
		// xtunnel on host A, the kernel's vxlan driver on host B.
		{Name: "vxlan-kernel", Args: vxlan("44", true, "dstport", "4789"), KernelB: kernelVXLAN("44"),
			L2: true, InnerV4: true, InnerV6: true},
		{Name: "vxlan6-kernel", Args: vxlan("45", true, "dstport", "4789"), KernelB: kernelVXLAN("45"),
			Underlay6: true, L2: true, InnerV4: true, InnerV6: true},
	}
}

// CaseNames lists the names of Cases in order.
func CaseNames() []string {
	var names []string
	for _, c := range Cases() {
		names = append(names, c.Name)
	}
	return names
}

// Xtunnel says how the lab runs the xtunnel binary.
type Xtunnel struct {
	Bin    string // path of the xtunnel binary
	BPFFS  string // passed as --bpffs; one dir serves every namespace
	TCMode string // passed as --tc-mode to attach and link add; "" = xtunnel's default
}

// Run runs `xtunnel --bpffs DIR args...` in namespace ns.
func (x Xtunnel) Run(ctx context.Context, ns string, args ...string) (stdout, stderr string, err error) {
	argv := append([]string{x.Bin, "--bpffs", x.BPFFS}, args...)
	return RunSplit(ctx, ns, argv...)
}

// withTC puts --tc-mode in front of args when a mode is chosen.
func (x Xtunnel) withTC(args ...string) []string {
	if x.TCMode == "" {
		return args
	}
	return append([]string{"--tc-mode", x.TCMode}, args...)
}

// Host is one tunnel endpoint of the lab.
type Host struct {
	Name    string // "A" or "B"
	NS      string
	Dev     string // underlay netdev
	Local   string // IPv4 underlay addresses
	Remote  string
	Local6  string // IPv6 underlay addresses
	Remote6 string
	Addr4   string // tunnel addresses
	Addr6   string
	Peer4   string // the other site's client prefixes, routed into the tunnel
	Peer6   string
}

// Endpoints returns the underlay addresses case c uses on h: local, remote.
func (h Host) Endpoints(c TunnelCase) (local, remote string) {
	if c.Underlay6 {
		return h.Local6, h.Remote6
	}
	return h.Local, h.Remote
}

// Hosts returns the two tunnel endpoints, A then B.
func (l *Lab) Hosts() [2]Host {
	return [2]Host{
		{Name: "A", NS: l.HostA, Dev: DevA, Local: UnderlayA, Remote: UnderlayB,
			Local6: UnderlayA6, Remote6: UnderlayB6,
			Addr4: "10.9.0.1/30", Addr6: "fd00:9::1/64", Peer4: SiteB4, Peer6: SiteB6},
		{Name: "B", NS: l.HostB, Dev: DevB, Local: UnderlayB, Remote: UnderlayA,
			Local6: UnderlayB6, Remote6: UnderlayA6,
			Addr4: "10.9.0.2/30", Addr6: "fd00:9::2/64", Peer4: SiteA4, Peer6: SiteA6},
	}
}

// Attach runs `xtunnel attach` on both hosts' underlay netdevs, once per lab.
func (l *Lab) Attach(ctx context.Context, x Xtunnel) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.attached {
		return nil
	}
	for _, h := range l.Hosts() {
		if _, _, err := x.Run(ctx, h.NS, x.withTC("attach", h.Dev)...); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	l.attached = true
	return nil
}

// undoStep is a Setup or PostLink step's Undo, due on one host.
type undoStep struct {
	host Host
	argv []string
}

// kernelHost reports whether case c gives host h the kernel's own netdev
// rather than xtunnel's.
func (c TunnelCase) kernelHost(h Host) bool { return c.KernelB != nil && h.Name == "B" }

// AddTunnel runs case c's Setup steps on both hosts, creates the tunnel
// on both (host B's with `ip link add` when c has KernelB), runs its
// PostLink steps and connects it: an L3 tunnel is routed to the other
// site (the families c carries; a case that sets neither InnerV4 nor
// InnerV6 gets both), an L2 one becomes a port of the host's bridge. The
// overlay gets no multicast (L3), no IPv6 link-local address and, unless
// it carries IPv6 routes, no IPv6 at all, so that nothing but the traffic
// a test sends crosses the tunnel. On error what it set up is taken back
// again; otherwise DelTunnel does that.
func (l *Lab) AddTunnel(ctx context.Context, x Xtunnel, c TunnelCase) error {
	if err := l.undoSetup(ctx, x); err != nil {
		return fmt.Errorf("%s: undo the previous case's setup: %w", c.Name, err)
	}
	l.mu.Lock()
	l.cur = c
	l.mu.Unlock()
	fail := func(err error, made []Host) error {
		return errors.Join(err, l.undoPostLink(ctx, x), l.delTunnel(ctx, x, made), l.undoSetup(ctx, x))
	}
	for _, h := range l.Hosts() {
		for _, s := range c.Setup {
			if _, _, err := x.Run(ctx, h.NS, s.Do...); err != nil {
				return fail(fmt.Errorf("%s host %s setup: %w", c.Name, h.Name, err), nil)
			}
			l.pushUndo(&l.undo, h, s.Undo)
		}
	}
	var made []Host
	for _, h := range l.Hosts() {
		local, remote := h.Endpoints(c)
		var err error
		if c.kernelHost(h) {
			_, err = ip(ctx, append([]string{"-n", h.NS, "link", "add"}, c.KernelB(local, remote)...)...)
		} else {
			_, _, err = x.Run(ctx, h.NS, x.withTC(append([]string{"link", "add"}, c.Args(local, remote)...)...)...)
		}
		if err != nil {
			return fail(fmt.Errorf("%s host %s: %w", c.Name, h.Name, err), made)
		}
		made = append(made, h)
		if c.PostLink != nil && !c.kernelHost(h) {
			for _, s := range c.PostLink(local, remote) {
				if _, _, err := x.Run(ctx, h.NS, s.Do...); err != nil {
					return fail(fmt.Errorf("%s host %s: %w", c.Name, h.Name, err), made)
				}
				l.pushUndo(&l.undoPost, h, s.Undo)
			}
		}
		if err := configureOverlay(ctx, h, c); err != nil {
			return fail(fmt.Errorf("%s host %s: %w", c.Name, h.Name, err), made)
		}
	}
	return nil
}

// pushUndo queues argv (if any) to run on h when the case is taken back.
func (l *Lab) pushUndo(list *[]undoStep, h Host, argv []string) {
	if len(argv) == 0 {
		return
	}
	l.mu.Lock()
	*list = append(*list, undoStep{h, argv})
	l.mu.Unlock()
}

func configureOverlay(ctx context.Context, h Host, c TunnelCase) error {
	dev := TunnelName
	// Not every iproute2 or device type takes addrgenmode; it only keeps
	// a link-local address (and what it sends) off the tunnel.
	_, _ = ip(ctx, "-n", h.NS, "link", "set", dev, "addrgenmode", "none")
	if c.L2 {
		// A bridge port: the host itself sends nothing through it.
		if err := sysctl(ctx, h.NS, "net.ipv6.conf."+dev+".disable_ipv6", "1"); err != nil {
			return err
		}
		for _, s := range [][]string{
			{"link", "set", dev, "master", Bridge},
			{"link", "set", dev, "up"},
		} {
			if _, err := ip(ctx, append([]string{"-n", h.NS}, s...)...); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := ip(ctx, "-n", h.NS, "link", "set", dev, "multicast", "off"); err != nil {
		return err
	}
	v4, v6 := c.InnerV4, c.InnerV6
	if !v4 && !v6 {
		v4, v6 = true, true
	}
	var steps [][]string
	if v4 {
		steps = append(steps, []string{"addr", "add", h.Addr4, "dev", dev})
	}
	if v6 {
		steps = append(steps, []string{"addr", "add", h.Addr6, "dev", dev, "nodad"})
	}
	if !v6 {
		// Nothing IPv6 (MLD reports, which the tunnel would drop and
		// count) leaves an overlay that does not carry it.
		if err := sysctl(ctx, h.NS, "net.ipv6.conf."+dev+".disable_ipv6", "1"); err != nil {
			return err
		}
	}
	steps = append(steps, []string{"link", "set", dev, "up"})
	if v4 {
		steps = append(steps, []string{"route", "add", h.Peer4, "dev", dev})
	}
	if v6 {
		steps = append(steps, []string{"-6", "route", "add", h.Peer6, "dev", dev})
	}
	for _, s := range steps {
		if _, err := ip(ctx, append([]string{"-n", h.NS}, s...)...); err != nil {
			return err
		}
	}
	return nil
}

// DelTunnel takes back the PostLink steps of the case AddTunnel created
// (fdb del), takes its tunnel out of the bridge (L2), deletes it on both
// hosts (`xtunnel link del xt0`, or `ip link del xt0` for a kernel
// netdev), then takes back its Setup steps (e.g. `fou del port P`).
func (l *Lab) DelTunnel(ctx context.Context, x Xtunnel) error {
	h := l.Hosts()
	return errors.Join(l.undoPostLink(ctx, x), l.delTunnel(ctx, x, h[:]), l.undoSetup(ctx, x))
}

func (l *Lab) delTunnel(ctx context.Context, x Xtunnel, hosts []Host) error {
	l.mu.Lock()
	c := l.cur
	l.mu.Unlock()
	var errs []error
	for _, h := range hosts {
		if c.L2 {
			if _, err := ip(ctx, "-n", h.NS, "link", "set", TunnelName, "nomaster"); err != nil {
				errs = append(errs, fmt.Errorf("host %s: %w", h.Name, err))
			}
		}
		if c.kernelHost(h) {
			if _, err := ip(ctx, "-n", h.NS, "link", "del", TunnelName); err != nil {
				errs = append(errs, fmt.Errorf("host %s: %w", h.Name, err))
			}
			continue
		}
		if _, _, err := x.Run(ctx, h.NS, "link", "del", TunnelName); err != nil {
			errs = append(errs, fmt.Errorf("host %s: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

// undoSetup runs the pending Setup Undo commands, last first; each runs
// once, whether it succeeds or not.
func (l *Lab) undoSetup(ctx context.Context, x Xtunnel) error {
	return l.runUndo(ctx, x, &l.undo)
}

// undoPostLink is undoSetup for the PostLink steps.
func (l *Lab) undoPostLink(ctx context.Context, x Xtunnel) error {
	return l.runUndo(ctx, x, &l.undoPost)
}

func (l *Lab) runUndo(ctx context.Context, x Xtunnel, list *[]undoStep) error {
	l.mu.Lock()
	undo := *list
	*list = nil
	l.mu.Unlock()
	var errs []error
	for i := len(undo) - 1; i >= 0; i-- {
		u := undo[i]
		if _, _, err := x.Run(ctx, u.host.NS, u.argv...); err != nil {
			errs = append(errs, fmt.Errorf("host %s: %w", u.host.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Stats runs `xtunnel --json stats` in ns: every tunnel's counters and
// every reason counter.
func (x Xtunnel) Stats(ctx context.Context, ns string) (Stats, error) {
	out, _, err := x.Run(ctx, ns, "--json", "stats")
	if err != nil {
		return Stats{}, err
	}
	st, err := ParseStats([]byte(out))
	if err != nil {
		return Stats{}, fmt.Errorf("[%s] %w", ns, err)
	}
	return st, nil
}

// TunnelStats reads the tunnel's counters and the reason counters in ns
// with `xtunnel --json stats`.
func (l *Lab) TunnelStats(ctx context.Context, x Xtunnel, ns string) (Counters, map[string]uint64, error) {
	st, err := x.Stats(ctx, ns)
	if err != nil {
		return Counters{}, nil, err
	}
	c, ok := st.Tunnels[TunnelName]
	if !ok {
		return Counters{}, nil, fmt.Errorf("[%s] xtunnel --json stats: no counters for %s", ns, TunnelName)
	}
	return c, st.Reasons, nil
}

// KernelStats reads the counters of the netdev TunnelName in ns from the
// kernel (`ip -s -j link show`), for a tunnel xtunnel does not run.
func KernelStats(ctx context.Context, ns string) (Counters, error) {
	out, err := ip(ctx, "-n", ns, "-s", "-j", "link", "show", "dev", TunnelName)
	if err != nil {
		return Counters{}, err
	}
	c, err := ParseLinkStats([]byte(out))
	if err != nil {
		return Counters{}, fmt.Errorf("[%s] ip -s -j link show dev %s: %w", ns, TunnelName, err)
	}
	return c, nil
}

// snapshot is both hosts' stats at one moment. A host with the kernel's
// netdev (KernelB) has its counters and no reasons.
type snapshot struct {
	A, B               Counters
	ReasonsA, ReasonsB map[string]uint64
	KernelB            bool
}

func (l *Lab) snapshot(ctx context.Context, x Xtunnel) (snapshot, error) {
	l.mu.Lock()
	c := l.cur
	l.mu.Unlock()
	var s snapshot
	var err error
	if s.A, s.ReasonsA, err = l.TunnelStats(ctx, x, l.HostA); err != nil {
		return s, err
	}
	if c.KernelB != nil {
		s.KernelB = true
		s.B, err = KernelStats(ctx, l.HostB)
		return s, err
	}
	s.B, s.ReasonsB, err = l.TunnelStats(ctx, x, l.HostB)
	return s, err
}

func (s snapshot) since(before snapshot) snapshot {
	return snapshot{
		A: s.A.Sub(before.A), B: s.B.Sub(before.B),
		ReasonsA: ReasonDelta(before.ReasonsA, s.ReasonsA),
		ReasonsB: ReasonDelta(before.ReasonsB, s.ReasonsB),
		KernelB:  s.KernelB,
	}
}

// bpfPackets is every packet xtunnel's programs carried: both hosts', or
// host A's alone when host B runs the kernel's netdev.
func (s snapshot) bpfPackets() uint64 {
	if s.KernelB {
		return s.A.Packets()
	}
	return s.A.Packets() + s.B.Packets()
}

// WaitQuiet polls both hosts' tunnel counters until they have not moved
// for quiet, or until limit has passed (not an error: a test that needs
// exact counts still checks them). A fresh link sends a few MLD reports
// for its IPv6 address in its first second; waiting them out keeps them
// out of the first measurement.
func (l *Lab) WaitQuiet(ctx context.Context, x Xtunnel, quiet, limit time.Duration) error {
	last, err := l.snapshot(ctx, x)
	if err != nil {
		return err
	}
	start, since := time.Now(), time.Now()
	for time.Since(since) < quiet && time.Since(start) < limit {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(quiet / 4):
		}
		s, err := l.snapshot(ctx, x)
		if err != nil {
			return err
		}
		if s.A != last.A || s.B != last.B {
			last, since = s, time.Now()
		}
	}
	return nil
}

// PingResult is one ping across the tunnel with the counters it moved.
type PingResult struct {
	FromA bool   // cliA pings cliB; else cliB pings cliA
	Dst   string // address pinged
	PingStats
	A, B               Counters          // tunnel counter deltas on hostA and hostB
	ReasonsA, ReasonsB map[string]uint64 // reason counter deltas that moved
}

// Path names the direction: "A->B" or "B->A".
func (r PingResult) Path() string {
	if r.FromA {
		return "A->B"
	}
	return "B->A"
}

// PingThrough pings from one client to the other's address dst (count
// echo requests) and reads both hosts' tunnel counters right before and
// right after, so the deltas cover just this ping.
func (l *Lab) PingThrough(ctx context.Context, x Xtunnel, fromA bool, dst string, count int) (PingResult, error) {
	r := PingResult{FromA: fromA, Dst: dst}
	from := l.CliB
	if fromA {
		from = l.CliA
	}
	before, err := l.snapshot(ctx, x)
	if err != nil {
		return r, err
	}
	st, pingErr := PingCount(ctx, from, dst, count)
	r.PingStats = st
	after, err := l.snapshot(ctx, x)
	if err != nil {
		return r, errors.Join(pingErr, err)
	}
	d := after.since(before)
	r.A, r.B, r.ReasonsA, r.ReasonsB = d.A, d.B, d.ReasonsA, d.ReasonsB
	return r, pingErr
}

// CheckCounters compares the tunnel counters with the ping: every echo
// request sent must leave the sender's host (tx) and enter the other host
// (rx) once, every reply received the reverse, and nothing may be
// dropped. err is nil when all of that holds exactly. Otherwise excess
// tells whether every difference is a surplus (more packets or drops than
// the ping explains), which unrelated traffic in the same window could
// cause, as opposed to a packet the counters missed.
func (r PingResult) CheckCounters() (excess bool, err error) {
	return r.CheckCountersWithin(0)
}

// CheckCountersWithin is CheckCounters that lets each packet counter
// exceed what the ping explains by up to slack (TunnelCase.CounterSlack:
// ARP and neighbour discovery on an L2 overlay); drops must still be 0
// and a counter below the ping's count is always an error.
func (r PingResult) CheckCountersWithin(slack uint64) (excess bool, err error) {
	src, dst := r.A, r.B
	if !r.FromA {
		src, dst = r.B, r.A
	}
	req, rep := uint64(r.Transmitted), uint64(r.Received)
	var bad []string
	excess = true
	check := func(what string, got, want, slack uint64) {
		if got < want || got > want+slack {
			w := fmt.Sprint(want)
			if slack > 0 {
				w = fmt.Sprintf("%d..%d", want, want+slack)
			}
			bad = append(bad, fmt.Sprintf("%s %d, want %s", what, got, w))
			excess = excess && got > want
		}
	}
	check("sender host tx packets", src.TxPackets, req, slack)
	check("receiver host rx packets", dst.RxPackets, req, slack)
	check("receiver host tx packets", dst.TxPackets, rep, slack)
	check("sender host rx packets", src.RxPackets, rep, slack)
	check("host A drops", r.A.RxDropped+r.A.TxDropped, 0, 0)
	check("host B drops", r.B.RxDropped+r.B.TxDropped, 0, 0)
	if bad == nil {
		return false, nil
	}
	return excess, fmt.Errorf("ping %s %s (%d sent, %d received): %s; deltas A %+v B %+v, reasons A %v B %v",
		r.Path(), r.Dst, r.Transmitted, r.Received, strings.Join(bad, ", "), r.A, r.B, r.ReasonsA, r.ReasonsB)
}

// Settle waits until a freshly added case's tunnel is quiet (WaitQuiet).
// An L2 case's overlay never sends anything of the host's own (it comes
// up as a bridge port without IPv6), but ARP and neighbour discovery for
// the clients cross it: it first sends one ping of each PingTargets,
// unchecked (the measured pings are), then waits for quiet.
func (l *Lab) Settle(ctx context.Context, x Xtunnel, c TunnelCase) error {
	if c.L2 {
		for _, p := range c.PingTargets() {
			from := l.CliB
			if p.FromA {
				from = l.CliA
			}
			_, _ = PingCount(ctx, from, p.Dst, 1)
		}
	}
	return l.WaitQuiet(ctx, x, time.Second, 5*time.Second)
}

// Result is everything RunCase measured for one case.
type Result struct {
	Case     string
	TCMode   string
	Underlay string // "IPv4" or "IPv6": the outer family
	L2       bool   // an Ethernet overlay, bridged (TunnelCase.L2)
	KernelB  bool   // host B ran the kernel's netdev (TunnelCase.KernelB)
	Ran      bool   // the tunnel was created on both hosts
	// Pings are IPv4 A->B, B->A (InnerV4), then IPv6 A->B, B->A (InnerV6).
	Pings []PingResult
	// TCP are the iperf3 runs, in the order of TCPRuns.
	TCP     []TCPResult
	Packets uint64 // rx+tx packets of xtunnel's tunnel on both hosts (host A's alone with KernelB) over the case
	Err     error  // every failure, joined
}

// TCPResult is one iperf3 run: the receiver's throughput, 0 if it failed.
type TCPResult struct {
	TCPRun
	Gbps float64
}

// PingsPerRun is how many echo requests each ping of RunCase sends.
const PingsPerRun = 5

// RunCase attaches xtunnel (once per lab), creates case c on both hosts,
// settles it (Settle: an L2 case's ARP and neighbour discovery first),
// pings both ways and runs iperf3 TCP both ways (seconds each) for each
// inner family the case carries, counts the packets the tunnel carried
// and removes the tunnel (and the case's setup) again. It carries on
// after a failed measurement so one run shows everything that works;
// Result.Err joins what failed.
func (l *Lab) RunCase(ctx context.Context, x Xtunnel, c TunnelCase, seconds int) (res Result) {
	res = Result{Case: c.Name, TCMode: x.TCMode, Underlay: c.Underlay(), L2: c.L2, KernelB: c.KernelB != nil}
	var errs []error
	defer func() { res.Err = errors.Join(errs...) }()

	if err := l.Attach(ctx, x); err != nil {
		errs = append(errs, err)
		return res
	}
	if err := l.AddTunnel(ctx, x, c); err != nil {
		errs = append(errs, err)
		return res
	}
	res.Ran = true
	defer func() {
		// Also after an interrupt, with a bound of its own.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := l.DelTunnel(dctx, x); err != nil {
			errs = append(errs, err)
		}
	}()

	var start snapshot
	startErr := l.Settle(ctx, x, c)
	if startErr == nil {
		start, startErr = l.snapshot(ctx, x)
	}
	if startErr != nil {
		errs = append(errs, startErr)
	}
	for _, p := range c.PingTargets() {
		r, err := l.PingThrough(ctx, x, p.FromA, p.Dst, PingsPerRun)
		res.Pings = append(res.Pings, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, run := range l.TCPRuns(c) {
		gbps, err := IPerf(ctx, run.ServerNS, run.Addr, run.ClientNS, seconds)
		if err != nil {
			errs = append(errs, fmt.Errorf("iperf3 %s %s: %w", run.Name, run.Addr, err))
			gbps = 0
		}
		res.TCP = append(res.TCP, TCPResult{TCPRun: run, Gbps: gbps})
	}
	if startErr == nil {
		end, err := l.snapshot(ctx, x)
		if err != nil {
			errs = append(errs, err)
		} else {
			res.Packets = end.since(start).bpfPackets()
		}
	}
	return res
}
