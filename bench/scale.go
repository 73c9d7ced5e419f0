package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/lab"
	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// ScaleConfig sizes the scale measurement.
type ScaleConfig struct {
	Peers []int // peer counts on one external gre link; the first is the reference, the last is loaded and timed
	// MaxRoutes sizes xt_routes and xt_rpeers of every load (as
	// --max-routes at the first attach), so that only the number of
	// peers differs.
	MaxRoutes int
	// Batch is how many routes each PutRoutes call adds when loading the
	// smaller counts (a table that grows a batch at a time); the largest
	// count is loaded in one call, as xtunnel -batch does with
	// consecutive route add lines.
	Batch   int
	Rounds  int
	Calls   int // calls per program per round
	Sampled int // packets measured in turn, to (from) peers spread evenly over the count
	// CLIPeers is the number of routes `xtunnel -batch` adds end to end
	// (0: skip): one `route add` line each, through the dataplane with
	// its kernel routes.
	CLIPeers int
}

// DefaultScaleConfig takes about 15 s on an idle 2-core machine.
var DefaultScaleConfig = ScaleConfig{Peers: []int{1, 1_000, 100_000, 1_000_000}, MaxRoutes: 1 << 20,
	Batch: 10_000, Rounds: 7, Calls: 1000, Sampled: 64, CLIPeers: 100_000}

// ScaleRow is the cost at one peer count.
type ScaleRow struct {
	Peers int     `json:"peers"`
	Decap CostRow `json:"decap"`
	Encap CostRow `json:"encap"`
	// DecapVsOne and EncapVsOne are the ns above the empty program over
	// the same at the first peer count, paired by round.
	DecapVsOne   Stat    `json:"decap_vs_first"`
	EncapVsOne   Stat    `json:"encap_vs_first"`
	DecapTarget  *Target `json:"decap_target,omitempty"`
	EncapTarget  *Target `json:"encap_target,omitempty"`
	MapBytes     uint64  `json:"map_bytes"`      // memlock of xt_routes + xt_hosts + xt_rpeers
	BytesPerPeer float64 `json:"bytes_per_peer"` // MapBytes / Peers
	// LoadSeconds is how long PutRoutes took to add the Peers routes in
	// LoadCalls calls, LoadCPUSeconds the CPU time (user and system) this
	// process spent meanwhile: on a busy machine the wall time is longer.
	LoadSeconds    float64 `json:"load_seconds"`
	LoadCPUSeconds float64 `json:"load_cpu_seconds"`
	LoadCalls      int     `json:"load_calls"`
}

// ScaleReport is the scale measurement.
type ScaleReport struct {
	Method    string     `json:"method"`
	MaxRoutes int        `json:"max_routes"`
	Rows      []ScaleRow `json:"rows"`
	Empty     []CostRow  `json:"empty"` // the empty XDP and TC programs of the same rounds
	// Loading the largest count through the API (maps.Tables.PutRoutes,
	// one call), alone on the machine.
	LoadPeers     int     `json:"load_peers"`
	LoadSeconds   float64 `json:"load_seconds"`
	LoadCPU       float64 `json:"load_cpu_seconds"` // user + system time of the process meanwhile
	LoadTarget    *Target `json:"load_target,omitempty"`
	BytesTarget   *Target `json:"bytes_per_peer_target,omitempty"`
	RoutesBytes   uint64  `json:"xt_routes_bytes"`
	RPeersBytes   uint64  `json:"xt_rpeers_bytes"`
	CLIPeers      int     `json:"cli_peers,omitempty"`
	CLISeconds    float64 `json:"cli_seconds,omitempty"`     // xtunnel -batch, end to end
	CLICPU        float64 `json:"cli_cpu_seconds,omitempty"` // its user + system time
	CLIPerPeerUs  float64 `json:"cli_us_per_peer,omitempty"`
	CLINote       string  `json:"cli_note,omitempty"`
	PinnedCPU     int     `json:"pinned_cpu"`
	Interrupted   int     `json:"interrupted_calls_left_out"`
	ElapsedSecond float64 `json:"elapsed_s"`
}

const scaleMethod = "one external gre link per load (private loads, xt_routes and xt_rpeers sized max_routes), " +
	"with N routes 10.x.y.z/32 each to its own peer 100.64.0.0+i; encap: the TC program on `sampled` IPv4 packets " +
	"to routed destinations spread evenly over the N (repeating when N is smaller), taken in turn, one per BPF_PROG_TEST_RUN call " +
	"(repeat=1, the kernel's clock, as program_cost); decap: the XDP program on GRE packets from those peers " +
	"(built by encap at a sending end); rounds interleave every N and the empty programs; the ratio is ns above " +
	"the empty program at N over the same at the first N, paired by round; memory: memlock of the two maps in " +
	"/proc/self/fdinfo after loading (it counts the hash buckets of the size chosen and every element)"

// scalePeer and scaleDst are the i-th peer's outer address and the inner
// destination routed to it.
func scalePeer(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{100, byte(64 + i>>16), byte(i >> 8), byte(i)})
}
func scaleDst(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// scaleTunnel is the external gre link of every scale load.
func scaleTunnel() maps.Tunnel {
	t := newTunnel(tunnel.GRE, false)
	t.External, t.Remote = true, netip.Addr{}
	return t
}

// scaleRoutes are routes [from, to) of the scale load.
func scaleRoutes(t maps.Tunnel, from, to int) []maps.Route {
	rs := make([]maps.Route, 0, to-from)
	protos := maps.DecapProtos(t)
	for i := from; i < to; i++ {
		rs = append(rs, maps.Route{Prefix: netip.PrefixFrom(scaleDst(i), 32), Ifindex: t.Ifindex,
			Remote: scalePeer(i), Protos: protos})
	}
	return rs
}

// loadPeers makes a private load with n peers, added batch at a time
// (batch 0: all in one call). It returns the wall and CPU time PutRoutes
// took and the number of calls.
func loadPeers(n, batch int, cfg ScaleConfig) (d *privLoad, wall, cpu time.Duration, calls int, err error) {
	t := scaleTunnel()
	d, err = newPrivLoad(loadConfig{tun: t, sizes: loader.Sizes{Routes: cfg.MaxRoutes}})
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if batch <= 0 {
		batch = n
	}
	for i := 0; i < n; i += batch {
		rs := scaleRoutes(t, i, min(i+batch, n))
		c0 := cpuTime(unix.RUSAGE_SELF)
		start := time.Now()
		err := d.tables.PutRoutes(rs)
		wall += time.Since(start)
		cpu += cpuTime(unix.RUSAGE_SELF) - c0
		calls++
		if err != nil {
			d.Close()
			return nil, 0, 0, 0, fmt.Errorf("load %d peers: routes %d..: %w", n, i, err)
		}
	}
	return d, wall, cpu, calls, nil
}

// cpuTime is the user and system time of who (RUSAGE_SELF: this
// process; RUSAGE_CHILDREN: its children that have exited).
func cpuTime(who int) time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(who, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memlock is the "memlock:" line of a map's /proc/self/fdinfo: the
// kernel's account of its memory.
func memlock(fd int) (uint64, error) {
	f, err := os.Open(filepath.Join("/proc/self/fdinfo", strconv.Itoa(fd)))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "memlock:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("fdinfo of fd %d has no memlock line", fd)
}

// Scale measures decap and encap cost against the number of peers of an
// external tunnel, the time to load the largest count and the map memory
// per peer. It needs root.
func Scale(cfg ScaleConfig, progress func(string)) (rep *ScaleReport, err error) {
	if len(cfg.Peers) == 0 || cfg.Rounds < 1 || cfg.Calls < 1 || cfg.Batch < 1 || cfg.Sampled < 1 {
		return nil, fmt.Errorf("scale: bad configuration %+v", cfg)
	}
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	reasons, err := loadReasons()
	if err != nil {
		return nil, err
	}
	rep = &ScaleReport{Method: scaleMethod, MaxRoutes: cfg.MaxRoutes, PinnedCPU: -1}
	var closers cleanups
	defer func() { err = joinErr(err, closers.run()) }()

	// The largest count first, alone, timed.
	largest := cfg.Peers[len(cfg.Peers)-1]
	progress(fmt.Sprintf("scale: loading %d peers (maps.Tables.PutRoutes, one call)", largest))
	loads := make([]*privLoad, len(cfg.Peers))
	took := make([]time.Duration, len(cfg.Peers))
	cpus := make([]time.Duration, len(cfg.Peers))
	calls := make([]int, len(cfg.Peers))
	big, bigTook, bigCPU, bigCalls, err := loadPeers(largest, 0, cfg)
	if err != nil {
		return nil, err
	}
	last := len(cfg.Peers) - 1
	took[last], cpus[last], calls[last] = bigTook, bigCPU, bigCalls
	loads[len(loads)-1] = big
	closers.add(func() error { big.Close(); return nil })
	rep.LoadPeers, rep.LoadSeconds, rep.LoadCPU = largest, bigTook.Seconds(), bigCPU.Seconds()
	// The target is for 1M peers; another count is scaled linearly.
	rep.LoadTarget = atMost(rep.LoadSeconds*1e6/float64(largest), TargetLoadSecs)
	progress(fmt.Sprintf("scale: loaded %d peers in %.1f s; loading the other counts, %d routes a call", largest, rep.LoadSeconds, cfg.Batch))
	// One after the other, so that each time is its own.
	for i := range cfg.Peers[:len(cfg.Peers)-1] {
		if loads[i], took[i], cpus[i], calls[i], err = loadPeers(cfg.Peers[i], cfg.Batch, cfg); err != nil {
			break
		}
	}
	for _, d := range loads[:len(loads)-1] {
		if d != nil {
			closers.add(func() error { d.Close(); return nil })
		}
	}
	if err != nil {
		return nil, err
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu, restore, err := pinThread(); err == nil {
		rep.PinnedCPU = cpu
		defer restore()
	}

	var frame4 []byte
	if frame4, err = plainFrame(innerSrc4, innerDst4, wireDst, wireSrc); err != nil {
		return nil, err
	}
	emptyXDP, emptyTC, closeEmpty, err := emptyPrograms(1, frame4)
	closers.add(func() error { closeEmpty(); return nil })
	if err != nil {
		return nil, err
	}
	programs := []*program{emptyXDP, emptyTC}
	var decs, encs []*program
	for i, n := range cfg.Peers {
		d := loads[i]
		enc, dec, err := scaleSubjects(d, n, cfg.Sampled, reasons)
		if err != nil {
			return nil, fmt.Errorf("scale %d peers: %w", n, err)
		}
		pe := &program{row: enc.row, loads: []*subject{enc}, empty: emptyTC}
		pd := &program{row: dec.row, loads: []*subject{dec}, empty: emptyXDP}
		encs, decs = append(encs, pe), append(decs, pd)
		programs = append(programs, pd, pe)
		mr, err := memlock(d.objs.Maps.Routes.FD())
		if err != nil {
			return nil, err
		}
		mh, err := memlock(d.objs.Maps.Hosts.FD())
		if err != nil {
			return nil, err
		}
		mr += mh // route tables: host routes and prefixes
		mp, err := memlock(d.objs.Maps.RPeers.FD())
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, ScaleRow{Peers: n, MapBytes: mr + mp, BytesPerPeer: float64(mr+mp) / float64(n),
			LoadSeconds: took[i].Seconds(), LoadCPUSeconds: cpus[i].Seconds(), LoadCalls: calls[i]})
		if i == len(cfg.Peers)-1 {
			rep.RoutesBytes, rep.RPeersBytes = mr, mp
			rep.BytesTarget = atMost(float64(mr+mp)/float64(n), TargetPeerBytes)
		}
	}
	progress(fmt.Sprintf("scale: measuring %d programs, %d rounds x %d calls", len(programs), cfg.Rounds, cfg.Calls))
	if err := measurePrograms(programs, cfg.Rounds, cfg.Calls, reasons); err != nil {
		return nil, err
	}
	rep.Empty = []CostRow{*emptyXDP.row, *emptyTC.row}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		r.Decap, r.Encap = *decs[i].row, *encs[i].row
		r.DecapVsOne = stat(ratios(aboveEmpty(decs[i]), aboveEmpty(decs[0])))
		r.EncapVsOne = stat(ratios(aboveEmpty(encs[i]), aboveEmpty(encs[0])))
		if i > 0 {
			r.DecapTarget = atMost(r.DecapVsOne.Median, TargetScaleCost)
			r.EncapTarget = atMost(r.EncapVsOne.Median, TargetScaleCost)
		}
	}
	for _, pr := range programs {
		rep.Interrupted += pr.row.Interrupted
	}
	rep.ElapsedSecond = time.Since(start).Seconds()
	return rep, nil
}

// aboveEmpty is a program's ns per round less its empty program's.
func aboveEmpty(pr *program) []float64 {
	out := make([]float64, len(pr.ns))
	for i := range out {
		out[i] = pr.ns[i] - pr.empty.ns[i]
	}
	return out
}

// scaleSubjects are the encap and decap of load d (n peers): encap on
// packets to sampled routed destinations spread evenly over the n, decap
// on what those peers send, built by encap on a sending end whose routes make each of them
// the source.
func scaleSubjects(d *privLoad, n, sampled int, reasons *reasonIndex) (enc, dec *subject, err error) {
	// Always sampled packets in sampled buffers, taken in turn, so that
	// only the peers differ between counts: with fewer peers than that,
	// several packets go to (come from) the same one.
	idx := make([]int, sampled)
	for j := range idx {
		idx[j] = j * n / sampled
	}
	t := scaleTunnel()
	// The sending end: the same external link, whose route to inner
	// destination j goes to this end (local4) from peer idx[j].
	sender := t
	sender.MAC = net.HardwareAddr{0x02, 0, 0, 0, 0x02, 0x01}
	var srs []maps.Route
	for j, i := range idx {
		srs = append(srs, maps.Route{Prefix: netip.PrefixFrom(scaleDst(j), 32), Ifindex: sender.Ifindex,
			Remote: local4, Local: scalePeer(i), Protos: maps.DecapProtos(sender)})
	}
	s, err := newPrivLoad(loadConfig{tun: sender, routes: srs})
	if err != nil {
		return nil, nil, fmt.Errorf("load the sending end: %w", err)
	}
	defer s.Close()
	var encIns, decIns [][]byte
	for j, i := range idx {
		in, err := plainFrame(innerSrc4, scaleDst(i), wireDst, wireSrc)
		if err != nil {
			return nil, nil, err
		}
		if _, err := runChecked(d, d.objs.Encap, in, tcRedirect, reasons, reasons.encap); err != nil {
			return nil, nil, fmt.Errorf("encap to peer %d: %w", i, err)
		}
		encIns = append(encIns, in)
		sin, err := plainFrame(innerSrc4, scaleDst(j), wireDst, wireSrc)
		if err != nil {
			return nil, nil, err
		}
		outer, err := runChecked(s, s.objs.Encap, sin, tcRedirect, reasons, reasons.encap)
		if err != nil {
			return nil, nil, fmt.Errorf("build the packet of peer %d: %w", i, err)
		}
		if _, err := runChecked(d, d.objs.Underlay, outer, xdpRedirect, reasons, reasons.decap); err != nil {
			return nil, nil, fmt.Errorf("decap from peer %d: %w", i, err)
		}
		decIns = append(decIns, outer)
	}
	name := fmt.Sprintf("gre-external %d peers", n)
	enc = &subject{row: &CostRow{Program: name, Direction: "encap", Hook: "tc", Outer: "ipv4", Inner: "ipv4",
		FrameBytes: len(encIns[0]), Verdict: "TC_ACT_REDIRECT"},
		prog: d.objs.Encap, ins: encIns, want: tcRedirect, reason: reasons.encap, dp: d}
	dec = &subject{row: &CostRow{Program: name, Direction: "decap", Hook: "xdp", Outer: "ipv4", Inner: "ipv4",
		FrameBytes: len(decIns[0]), Verdict: "XDP_REDIRECT"},
		prog: d.objs.Underlay, ins: decIns, want: xdpRedirect, reason: reasons.decap, dp: d}
	return enc, dec, nil
}

// cliBatch times `xtunnel -batch FILE` adding n routes (one `route add`
// line each) to an external gre link in host A of lab l: the CLI end to
// end, with the kernel routes the dataplane adds for each. The lab's
// cleanup removes all of it.
func cliBatch(ctx context.Context, l *lab.Lab, bin string, n, maxRoutes int) (wall, cpu time.Duration, err error) {
	x := lab.Xtunnel{Bin: bin, BPFFS: l.BPFFS}
	steps := [][]string{
		{"--max-routes", strconv.Itoa(maxRoutes), "attach", lab.DevA},
		{"link", "add", "name", "xtext", "type", "gre", "external", "local", lab.UnderlayA, "dev", lab.DevA},
	}
	for _, s := range steps {
		if _, _, err := x.Run(ctx, l.HostA, s...); err != nil {
			return 0, 0, err
		}
	}
	if err := ipNS(ctx, l.HostA, "link", "set", "xtext", "up"); err != nil {
		return 0, 0, err
	}
	f, err := os.CreateTemp("", "xtunnel-bench-batch-*.txt")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "route add %s/32 encap ip dst %s dev xtext\n", scaleDst(i), scalePeer(i))
	}
	if err = joinErr(w.Flush(), f.Close()); err != nil {
		return 0, 0, err
	}
	// The command is this process's only child meanwhile: the growth of
	// its children's CPU time is the command's (ip netns exec execs it).
	c0 := cpuTime(unix.RUSAGE_CHILDREN)
	start := time.Now()
	if _, _, err := x.Run(ctx, l.HostA, "-batch", f.Name()); err != nil {
		return 0, 0, err
	}
	wall = time.Since(start)
	cpu = cpuTime(unix.RUSAGE_CHILDREN) - c0
	// Every route is there: xtunnel's (route show) and the kernel's.
	out, _, err := x.Run(ctx, l.HostA, "route", "show", "dev", "xtext")
	if err != nil {
		return 0, 0, err
	}
	if got := strings.Count(out, "\n"); got != n {
		return 0, 0, fmt.Errorf("xtunnel -batch added %d routes, want %d", got, n)
	}
	var kernel int
	err = inNS(l.HostA, -1, func() error {
		lk, err := netlink.LinkByName("xtext")
		if err != nil {
			return err
		}
		rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: lk.Attrs().Index}, netlink.RT_FILTER_OIF)
		kernel = len(rs)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if kernel != n {
		return 0, 0, fmt.Errorf("xtunnel -batch left %d kernel routes into xtext, want %d", kernel, n)
	}
	return wall, cpu, nil
}
