package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TunnelName is the overlay netdev every case creates on both hosts.
const TunnelName = "xt0"

// TunnelCase is one tunnel configuration the lab runs traffic through.
type TunnelCase struct {
	Name string // e.g. "gre-key"
	// Args returns the words after `xtunnel link add` for a host whose
	// underlay address is local and whose peer's is remote; the tunnel
	// must be named TunnelName.
	Args    func(local, remote string) []string
	InnerV6 bool // the type carries IPv6 inside: ping IPv6 across it too
}

// Cases are the tunnel types implemented so far.
func Cases() []TunnelCase {
	return []TunnelCase{
		{
			Name: "gre-key",
			Args: func(local, remote string) []string {
				return []string{"name", TunnelName, "type", "gre", "local", local, "remote", remote, "key", "42"}
			},
			InnerV6: true,
		},
		{
			Name: "gre",
			Args: func(local, remote string) []string {
				return []string{"name", TunnelName, "type", "gre", "local", local, "remote", remote}
			},
			InnerV6: true,
		},
		{
			Name: "ipip",
			Args: func(local, remote string) []string {
				return []string{"name", TunnelName, "type", "ipip", "local", local, "remote", remote}
			},
		},
	}
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
	Name   string // "A" or "B"
	NS     string
	Dev    string // underlay netdev
	Local  string // underlay addresses
	Remote string
	Addr4  string // tunnel addresses
	Addr6  string
	Peer4  string // the other site's client prefixes, routed into the tunnel
	Peer6  string
}

// Hosts returns the two tunnel endpoints, A then B.
func (l *Lab) Hosts() [2]Host {
	return [2]Host{
		{Name: "A", NS: l.HostA, Dev: DevA, Local: UnderlayA, Remote: UnderlayB,
			Addr4: "10.9.0.1/30", Addr6: "fd00:9::1/64", Peer4: SiteB4, Peer6: SiteB6},
		{Name: "B", NS: l.HostB, Dev: DevB, Local: UnderlayB, Remote: UnderlayA,
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

// AddTunnel creates case c on both hosts and routes the other site into
// it. The overlay gets no multicast and no IPv6 link-local address, so
// that nothing but the traffic a test sends crosses the tunnel. On error
// the tunnels it created are removed again.
func (l *Lab) AddTunnel(ctx context.Context, x Xtunnel, c TunnelCase) error {
	var made []Host
	for _, h := range l.Hosts() {
		if _, _, err := x.Run(ctx, h.NS, x.withTC(append([]string{"link", "add"}, c.Args(h.Local, h.Remote)...)...)...); err != nil {
			return errors.Join(fmt.Errorf("%s host %s: %w", c.Name, h.Name, err), l.delTunnel(ctx, x, made))
		}
		made = append(made, h)
		if err := configureOverlay(ctx, h); err != nil {
			return errors.Join(fmt.Errorf("%s host %s: %w", c.Name, h.Name, err), l.delTunnel(ctx, x, made))
		}
	}
	return nil
}

func configureOverlay(ctx context.Context, h Host) error {
	dev := TunnelName
	if _, err := ip(ctx, "-n", h.NS, "link", "set", dev, "multicast", "off"); err != nil {
		return err
	}
	// Not every iproute2 or device type takes addrgenmode; it only keeps
	// a link-local address (and what it sends) off the tunnel.
	_, _ = ip(ctx, "-n", h.NS, "link", "set", dev, "addrgenmode", "none")
	for _, s := range [][]string{
		{"addr", "add", h.Addr4, "dev", dev},
		{"addr", "add", h.Addr6, "dev", dev, "nodad"},
		{"link", "set", dev, "up"},
		{"route", "add", h.Peer4, "dev", dev},
		{"-6", "route", "add", h.Peer6, "dev", dev},
	} {
		if _, err := ip(ctx, append([]string{"-n", h.NS}, s...)...); err != nil {
			return err
		}
	}
	return nil
}

// DelTunnel runs `xtunnel link del xt0` on both hosts.
func (l *Lab) DelTunnel(ctx context.Context, x Xtunnel) error {
	h := l.Hosts()
	return l.delTunnel(ctx, x, h[:])
}

func (l *Lab) delTunnel(ctx context.Context, x Xtunnel, hosts []Host) error {
	var errs []error
	for _, h := range hosts {
		if _, _, err := x.Run(ctx, h.NS, "link", "del", TunnelName); err != nil {
			errs = append(errs, fmt.Errorf("host %s: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

// TunnelStats reads the tunnel's counters and the reason counters in ns
// with `xtunnel --json stats xt0`.
func (l *Lab) TunnelStats(ctx context.Context, x Xtunnel, ns string) (Counters, map[string]uint64, error) {
	out, _, err := x.Run(ctx, ns, "--json", "stats", TunnelName)
	if err != nil {
		return Counters{}, nil, err
	}
	st, err := ParseStats([]byte(out))
	if err != nil {
		return Counters{}, nil, fmt.Errorf("[%s] %w", ns, err)
	}
	c, ok := st.Tunnels[TunnelName]
	if !ok {
		return Counters{}, nil, fmt.Errorf("[%s] xtunnel --json stats %s: no counters for %s", ns, TunnelName, TunnelName)
	}
	return c, st.Reasons, nil
}

// snapshot is both hosts' stats at one moment.
type snapshot struct {
	A, B               Counters
	ReasonsA, ReasonsB map[string]uint64
}

func (l *Lab) snapshot(ctx context.Context, x Xtunnel) (snapshot, error) {
	var s snapshot
	var err error
	if s.A, s.ReasonsA, err = l.TunnelStats(ctx, x, l.HostA); err != nil {
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
	}
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
	src, dst := r.A, r.B
	if !r.FromA {
		src, dst = r.B, r.A
	}
	req, rep := uint64(r.Transmitted), uint64(r.Received)
	var bad []string
	excess = true
	check := func(what string, got, want uint64) {
		if got != want {
			bad = append(bad, fmt.Sprintf("%s %d, want %d", what, got, want))
			excess = excess && got > want
		}
	}
	check("sender host tx packets", src.TxPackets, req)
	check("receiver host rx packets", dst.RxPackets, req)
	check("receiver host tx packets", dst.TxPackets, rep)
	check("sender host rx packets", src.RxPackets, rep)
	check("host A drops", r.A.RxDropped+r.A.TxDropped, 0)
	check("host B drops", r.B.RxDropped+r.B.TxDropped, 0)
	if bad == nil {
		return false, nil
	}
	return excess, fmt.Errorf("ping %s %s (%d sent, %d received): %s; deltas A %+v B %+v, reasons A %v B %v",
		r.Path(), r.Dst, r.Transmitted, r.Received, strings.Join(bad, ", "), r.A, r.B, r.ReasonsA, r.ReasonsB)
}

// Result is everything RunCase measured for one case.
type Result struct {
	Case    string
	TCMode  string
	Ran     bool         // the tunnel was created on both hosts
	Pings   []PingResult // IPv4 A->B, B->A, then IPv6 A->B, B->A for InnerV6
	GbpsAB  float64      // iperf3 TCP, cliA sends to cliB
	GbpsBA  float64
	Packets uint64 // rx+tx packets of the tunnel on both hosts over the case
	Err     error  // every failure, joined
}

// PingsPerRun is how many echo requests each ping of RunCase sends.
const PingsPerRun = 5

// RunCase attaches xtunnel (once per lab), creates case c on both hosts,
// pings both ways (IPv4, and IPv6 if c.InnerV6), runs iperf3 TCP both ways
// for seconds each, counts the packets the tunnel carried and removes the
// tunnel again. It carries on after a failed measurement so one run shows
// everything that works; Result.Err joins what failed.
func (l *Lab) RunCase(ctx context.Context, x Xtunnel, c TunnelCase, seconds int) (res Result) {
	res = Result{Case: c.Name, TCMode: x.TCMode}
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
	startErr := l.WaitQuiet(ctx, x, time.Second, 5*time.Second)
	if startErr == nil {
		start, startErr = l.snapshot(ctx, x)
	}
	if startErr != nil {
		errs = append(errs, startErr)
	}
	type ping struct {
		fromA bool
		dst   string
	}
	pings := []ping{{true, CliB4}, {false, CliA4}}
	if c.InnerV6 {
		pings = append(pings, ping{true, CliB6}, ping{false, CliA6})
	}
	for _, p := range pings {
		r, err := l.PingThrough(ctx, x, p.fromA, p.dst, PingsPerRun)
		res.Pings = append(res.Pings, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	if res.GbpsAB, err = IPerf(ctx, l.CliB, CliB4, l.CliA, seconds); err != nil {
		errs = append(errs, fmt.Errorf("iperf3 A->B: %w", err))
	}
	if res.GbpsBA, err = IPerf(ctx, l.CliA, CliA4, l.CliB, seconds); err != nil {
		errs = append(errs, fmt.Errorf("iperf3 B->A: %w", err))
	}
	if startErr == nil {
		end, err := l.snapshot(ctx, x)
		if err != nil {
			errs = append(errs, err)
		} else {
			d := end.since(start)
			res.Packets = d.A.Packets() + d.B.Packets()
		}
	}
	return res
}
