package bench

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// CostConfig sizes a ProgramCost run.
type CostConfig struct {
	// Rounds of interleaved trials: each round measures every program once,
	// in turn (a different program first each round). Figures are medians
	// over rounds.
	Rounds int
	// Loads is how many times each program is loaded (each load has its own
	// JIT image and maps, placed anew in memory). A program's figure in a
	// round is the mean over its loads.
	Loads int
	// Calls is the number of BPF_PROG_TEST_RUN calls (one packet each) per
	// load per round.
	Calls int
	// ProbeRepeat is the repeat count of the probe that checks whether the
	// kernel gives each repetition a fresh packet.
	ProbeRepeat int
}

// DefaultCostConfig takes about 20 s on an idle 2-core machine.
var DefaultCostConfig = CostConfig{Rounds: 7, Loads: 4, Calls: 1200, ProbeRepeat: 8}

// CostRow is one program's figures.
type CostRow struct {
	Program    string `json:"program"`   // "empty", "gre", "ipip-fou"
	Direction  string `json:"direction"` // "decap", "encap", "baseline"
	Hook       string `json:"hook"`      // "xdp" or "tc"
	Outer      string `json:"outer"`     // underlay family, "" for the empty programs
	Inner      string `json:"inner"`
	FrameBytes int    `json:"frame_bytes"` // input frame, Ethernet header included
	Verdict    string `json:"verdict"`     // what every measured run returned
	// NsPerPacket is the kernel's time for one run (bpf_test_run's own
	// clock, per call): in each round the mean over Loads*Calls calls;
	// median, min and max over rounds.
	NsPerPacket Stat `json:"ns_per_packet"`
	// NsAboveEmpty is NsPerPacket minus the empty program of the same hook
	// measured in the same round; RatioToEmpty divides by it instead.
	NsAboveEmpty Stat      `json:"ns_above_empty"`
	RatioToEmpty Stat      `json:"ratio_to_empty"`
	Samples      []float64 `json:"samples_ns"` // one per round, in round order
	// PerLoad is over loads, of each load's median over rounds: how much
	// where the kernel put one load's code and maps moves the figure.
	PerLoad Stat `json:"per_load_ns"`
	// Interrupted is how many of the Rounds*Loads*Calls calls were left out
	// of the figures because they took over 10 times their sample's median.
	Interrupted int `json:"interrupted_calls_left_out"`
}

// RepeatProbe is what BPF_PROG_TEST_RUN did with one program run with
// Repeat > 1 (one syscall).
type RepeatProbe struct {
	Program     string            `json:"program"`
	Repeat      int               `json:"repeat"`
	InBytes     int               `json:"in_bytes"`
	OutBytes    int               `json:"out_bytes"`
	LastVerdict string            `json:"last_verdict"`
	Reasons     map[string]uint64 `json:"reasons"` // reason counters that moved
	TxPackets   uint64            `json:"tx_packets,omitempty"`
	TxBytes     uint64            `json:"tx_bytes,omitempty"`
	RxPackets   uint64            `json:"rx_packets,omitempty"`
	// FreshPacket is true when every repetition took the measured path
	// (its reason counted Repeat times), i.e. each saw the original packet.
	FreshPacket bool   `json:"fresh_packet_each_repeat"`
	Finding     string `json:"finding"`
}

// CostReport is the result of ProgramCost.
type CostReport struct {
	Kernel   string        `json:"kernel"`
	CPUs     int           `json:"cpus"`
	PinnedTo int           `json:"pinned_to_cpu"` // -1: not pinned
	Rounds   int           `json:"rounds"`
	Loads    int           `json:"loads"`
	Calls    int           `json:"calls_per_load_per_round"`
	Method   string        `json:"method"`
	Probes   []RepeatProbe `json:"repeat_probes"`
	// EmptyXDPInLoopNs is the empty XDP program's time per repetition
	// inside one syscall with repeat=1000000 (the kernel's integer average):
	// the part of its per-call figure that is the program and its dispatch
	// rather than the timing around each call.
	EmptyXDPInLoopNs float64   `json:"empty_xdp_in_kernel_loop_ns"`
	Rows             []CostRow `json:"rows"`
	// Sizes of xtunnel's programs as loaded: the same program serves
	// every case of its hook, so the cost differences are the paths.
	Sizes   []ProgramSize `json:"program_sizes"`
	Elapsed float64       `json:"elapsed_s"`
}

// Method is how ProgramCost measures, in one paragraph (README.md has the
// reasoning).
const Method = "BPF_PROG_TEST_RUN with repeat=1 per packet: every call gets a fresh copy of the " +
	"input frame (the kernel reuses one buffer across repeats, see repeat_probes), and the figure " +
	"is the kernel's own per-run clock (no syscall, no copy), averaged over calls, less calls over 10x " +
	"their sample's median (interrupted: interrupted_calls_left_out), and over `loads` separate loads " +
	"of each program (placement in memory moves a load's figure: per_load_ns); rounds interleave every " +
	"program, figures are medians over rounds with min/max, and ns_above_empty/ratio_to_empty pair " +
	"each round with the empty program of the same hook (XDP_PASS for XDP, TC_ACT_OK for TC) " +
	"measured in that round"

// subject is one load of a measured program, with its input.
type subject struct {
	row    *CostRow
	prog   *ebpf.Program
	ins    [][]byte // inputs, taken in turn, one per call
	want   uint32
	reason int       // reason counter each run must move; -1: none (empty programs)
	dp     *privLoad // nil for the empty programs
	ns     []float64 // one per round
	buf    []time.Duration
}

// program is one row: every load of one program.
type program struct {
	row   *CostRow
	loads []*subject
	empty *program  // baseline of the same hook
	ns    []float64 // one per round: the mean over loads
}

// emptyProgram is an XDP or TC program that only returns ret.
func emptyProgram(typ ebpf.ProgramType, ret int32) (*ebpf.Program, error) {
	spec := &ebpf.ProgramSpec{
		Name:         "xt_bench_empty",
		Type:         typ,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, ret), asm.Return()},
		License:      "GPL",
	}
	if typ == ebpf.XDP {
		spec.AttachType = ebpf.AttachXDP // as xtunnel's (SEC("xdp")): it may be tail-called in their place
	}
	return ebpf.NewProgram(spec)
}

// ProgramCost measures the per-packet cost of every encap and decap
// program of Cases, and of an empty XDP and TC program, interleaved in one
// run. progress, if not nil, gets a line per phase. It needs root.
func ProgramCost(cfg CostConfig, progress func(string)) (rep *CostReport, err error) {
	if cfg.Rounds < 1 || cfg.Loads < 1 || cfg.Calls < 1 {
		return nil, fmt.Errorf("rounds, loads and calls must be positive: %+v", cfg)
	}
	if cfg.ProbeRepeat < 2 {
		cfg.ProbeRepeat = 2
	}
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	reasons, err := loadReasons()
	if err != nil {
		return nil, err
	}
	rep = &CostReport{Rounds: cfg.Rounds, Loads: cfg.Loads, Calls: cfg.Calls, Method: Method,
		CPUs: runtime.NumCPU(), PinnedTo: -1}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		rep.Kernel = unix.ByteSliceToString(uts.Release[:])
	}

	// Keep the measuring goroutine on one thread and that thread on one
	// CPU: each test run executes on the calling CPU, so every program sees
	// the same core and caches.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu, restore, err := pinThread(); err == nil {
		rep.PinnedTo = cpu
		defer restore()
	}

	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()

	l3v4, typ4, err := innerL3(false)
	if err != nil {
		return nil, err
	}
	frame4, err := ethFrame(wireDst, wireSrc, typ4, l3v4)
	if err != nil {
		return nil, err
	}

	emptyXDP, emptyTC, closeEmpty, err := emptyPrograms(cfg.Loads, frame4)
	closers = append(closers, closeEmpty)
	if err != nil {
		return nil, err
	}

	progress(fmt.Sprintf("loading %d x 2 dataplanes per case, checking that each packet takes the fast path", cfg.Loads))
	cases := Cases()
	type loaded struct {
		enc, dec *subject
		close    func()
	}
	// Loading is the verifier's work: two at a time on two CPUs.
	all := make([]loaded, len(cases)*cfg.Loads)
	err = parallel(len(all), runtime.NumCPU(), func(i int) error {
		c := cases[i/cfg.Loads]
		e, d, closeCase, err := setupCase(c, reasons)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		all[i] = loaded{e, d, closeCase}
		return nil
	})
	for _, l := range all {
		if l.close != nil {
			closers = append(closers, l.close)
		}
	}
	if err != nil {
		return nil, err
	}
	var decaps, encaps []*program
	for ci := range cases {
		enc := &program{empty: emptyTC}
		dec := &program{empty: emptyXDP}
		for _, l := range all[ci*cfg.Loads : (ci+1)*cfg.Loads] {
			if enc.row == nil {
				enc.row, dec.row = l.enc.row, l.dec.row
			}
			l.enc.row, l.dec.row = enc.row, dec.row
			enc.loads = append(enc.loads, l.enc)
			dec.loads = append(dec.loads, l.dec)
		}
		encaps = append(encaps, enc)
		decaps = append(decaps, dec)
	}
	programs := append([]*program{emptyXDP, emptyTC}, decaps...)
	programs = append(programs, encaps...)

	seen := map[string]bool{}
	for _, pr := range append(decaps, encaps...) {
		p := pr.loads[0].prog
		if sz, err := programSize(p); err == nil && !seen[sz.Name] {
			seen[sz.Name] = true
			rep.Sizes = append(rep.Sizes, sz)
		}
	}

	progress(fmt.Sprintf("probing repeat > 1 (repeat=%d, one syscall each)", cfg.ProbeRepeat))
	for _, s := range []*subject{decaps[0].loads[0], encaps[0].loads[0]} {
		p, err := probeRepeat(s, reasons, cfg.ProbeRepeat)
		if err != nil {
			return nil, fmt.Errorf("probe %s %s: %w", s.row.Direction, s.row.Program, err)
		}
		rep.Probes = append(rep.Probes, p)
	}
	e := emptyXDP.loads[0]
	if _, d, err := e.prog.Benchmark(e.ins[0], 1_000_000, nil); err == nil {
		rep.EmptyXDPInLoopNs = float64(d.Nanoseconds())
	}

	progress(fmt.Sprintf("measuring %d programs x %d loads: %d rounds x %d calls each", len(programs), cfg.Loads, cfg.Rounds, cfg.Calls))
	if err := measurePrograms(programs, cfg.Rounds, cfg.Calls, reasons); err != nil {
		return nil, err
	}
	for _, pr := range programs {
		rep.Rows = append(rep.Rows, *pr.row)
	}
	rep.Elapsed = time.Since(start).Seconds()
	return rep, nil
}

// ProgramSize is what the kernel says of a loaded program.
type ProgramSize struct {
	Name string `json:"name"`
	// VerifiedInsns is how many instructions the verifier processed
	// (every path, every subprogram): how hard it was to prove safe.
	VerifiedInsns uint32 `json:"verified_insns"`
	XlatedInsns   int    `json:"xlated_insns"` // after the verifier's rewrites
	JitedBytes    uint32 `json:"jited_bytes"`
}

func programSize(p *ebpf.Program) (ProgramSize, error) {
	info, err := p.Info()
	if err != nil {
		return ProgramSize{}, err
	}
	sz := ProgramSize{Name: info.Name}
	sz.VerifiedInsns, _ = info.VerifiedInstructions()
	if n, err := info.TranslatedSize(); err == nil {
		sz.XlatedInsns = n / 8
	}
	sz.JitedBytes, _ = info.JitedSize()
	return sz, nil
}

// emptyPrograms are the baselines, loads times each: an empty XDP
// program and an empty TC program, measured on frame.
func emptyPrograms(loads int, frame []byte) (xdp, tc *program, closeFn func(), err error) {
	var progs []*ebpf.Program
	closeFn = func() {
		for _, p := range progs {
			p.Close()
		}
	}
	var empties [2]*program
	for i, e := range []struct {
		hook    string
		typ     ebpf.ProgramType
		ret     int32
		verdict string
	}{{"xdp", ebpf.XDP, xdpPass, "XDP_PASS"}, {"tc", ebpf.SchedCLS, tcOK, "TC_ACT_OK"}} {
		pr := &program{row: &CostRow{Program: "empty", Direction: "baseline", Hook: e.hook, Inner: "ipv4",
			FrameBytes: len(frame), Verdict: e.verdict}}
		pr.empty = pr
		for range loads {
			p, err := emptyProgram(e.typ, e.ret)
			if err != nil {
				return nil, nil, closeFn, fmt.Errorf("load the empty %s program: %w", e.hook, err)
			}
			progs = append(progs, p)
			pr.loads = append(pr.loads, &subject{row: pr.row, prog: p, ins: [][]byte{frame}, want: uint32(e.ret), reason: -1})
		}
		empties[i] = pr
	}
	return empties[0], empties[1], closeFn, nil
}

// measurePrograms measures programs, interleaved: a warm-up pass, then
// rounds, each running calls calls of every load of every program in
// turn (a different program and load first each round). It fills each
// program's row: ns per packet, above and over its empty program paired
// by round, the spread over loads.
func measurePrograms(programs []*program, rounds, calls int, reasons *reasonIndex) error {
	// A warm-up pass, not recorded: first-touch page faults, JIT'd code
	// and maps into the caches.
	for _, pr := range programs {
		for _, s := range pr.loads {
			if _, _, err := s.sample(reasons, calls/10+1); err != nil {
				return err
			}
		}
	}
	for r := 0; r < rounds; r++ {
		for i := range programs {
			pr := programs[(i+r)%len(programs)]
			var sum float64
			for j := range pr.loads {
				s := pr.loads[(j+r)%len(pr.loads)]
				ns, dropped, err := s.sample(reasons, calls)
				if err != nil {
					return err
				}
				s.ns = append(s.ns, ns)
				sum += ns
				pr.row.Interrupted += dropped
			}
			pr.ns = append(pr.ns, sum/float64(len(pr.loads)))
		}
	}
	for _, pr := range programs {
		above := make([]float64, rounds)
		for r := range above {
			above[r] = pr.ns[r] - pr.empty.ns[r]
		}
		var perLoad []float64
		for _, s := range pr.loads {
			perLoad = append(perLoad, stat(s.ns).Median)
		}
		pr.row.NsPerPacket, pr.row.NsAboveEmpty = stat(pr.ns), stat(above)
		pr.row.RatioToEmpty = stat(ratios(pr.ns, pr.empty.ns))
		pr.row.PerLoad = stat(perLoad)
		pr.row.Samples = pr.ns
	}
	return nil
}

// pinThread binds the calling thread to the last CPU it may run on.
func pinThread() (int, func(), error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return -1, nil, err
	}
	cpu := -1
	for i := 0; i < 1024; i++ {
		if old.IsSet(i) {
			cpu = i
		}
	}
	if cpu < 0 {
		return -1, nil, errors.New("no CPU in the affinity mask")
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return -1, nil, err
	}
	return cpu, func() { unix.SchedSetaffinity(0, &old) }, nil
}

// setupCase loads a sending end (encap) and a receiving end (decap) of c,
// encapsulates the inner packet on the first and checks that the second
// decapsulates it back: the decap input is what encap produced.
func setupCase(c Case, reasons *reasonIndex) (enc, dec *subject, closeFn func(), err error) {
	tx, err := newPrivLoad(loadConfig{tun: c.tx, routes: c.txRoutes})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load the sending end: %w", err)
	}
	peer := c.receiver()
	rx, err := newPrivLoad(loadConfig{tun: peer, fou: c.fou, routes: c.rxRoutes})
	if err != nil {
		tx.Close()
		return nil, nil, nil, fmt.Errorf("load the receiving end: %w", err)
	}
	closeFn = func() { tx.Close(); rx.Close() }
	defer func() {
		if err != nil {
			closeFn()
		}
	}()

	l3, etype, err := innerL3(c.Inner == "ipv6")
	if err != nil {
		return nil, nil, nil, err
	}
	frame, err := ethFrame(wireDst, wireSrc, etype, l3)
	want, werr := ethFrame(peer.MAC, peer.PeerMAC, etype, l3)
	if c.Ethernet() {
		// The overlay sends a whole frame, which the other end's
		// overlay receives as it was.
		frame, err = ethFrame(innerDst, innerSrc, etype, l3)
		want, werr = frame, err
	}
	if err = errors.Join(err, werr); err != nil {
		return nil, nil, nil, err
	}
	encProg, hook := tx.objs.Encap, "tc"
	if c.SlowTX() {
		encProg, hook = tx.objs.Peer, "tc-peer"
	}
	outer, err := runChecked(tx, encProg, frame, tcRedirect, reasons, reasons.encap)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encap: %w", err)
	}
	if len(outer) <= len(frame) {
		return nil, nil, nil, fmt.Errorf("encap returned %d bytes from %d: nothing added", len(outer), len(frame))
	}
	out, err := runChecked(rx, rx.objs.Underlay, outer, xdpRedirect, reasons, reasons.decap)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("decap of the encapsulated packet: %w", err)
	}
	if !bytes.Equal(out, want) {
		return nil, nil, nil, fmt.Errorf("decap gave\n%x\nwant\n%x", out, want)
	}
	enc = &subject{
		row: &CostRow{Program: c.Name, Direction: "encap", Hook: hook, Outer: c.Outer, Inner: c.Inner,
			FrameBytes: len(frame), Verdict: "TC_ACT_REDIRECT"},
		prog: encProg, ins: [][]byte{frame}, want: tcRedirect, reason: reasons.encap, dp: tx,
	}
	dec = &subject{
		row: &CostRow{Program: c.Name, Direction: "decap", Hook: "xdp", Outer: c.Outer, Inner: c.Inner,
			FrameBytes: len(outer), Verdict: "XDP_REDIRECT"},
		prog: rx.objs.Underlay, ins: [][]byte{outer}, want: xdpRedirect, reason: reasons.decap, dp: rx,
	}
	return enc, dec, closeFn, nil
}

// runChecked runs prog once and fails unless it returned want and moved
// exactly the reason counter reason, by one.
func runChecked(d *privLoad, prog *ebpf.Program, in []byte, want uint32, reasons *reasonIndex, reason int) ([]byte, error) {
	before, err := d.tables.Reasons()
	if err != nil {
		return nil, err
	}
	ret, out, err := runOnce(prog, in, 1)
	if err != nil {
		return nil, err
	}
	after, err := d.tables.Reasons()
	if err != nil {
		return nil, err
	}
	moved := reasons.moved(before, after)
	if ret != want || len(moved) != 1 || moved[reasons.names[reason]] != 1 {
		return nil, fmt.Errorf("verdict %d, reasons moved %v; want verdict %d and %s once", ret, moved, want, reasons.names[reason])
	}
	return out, nil
}

// sample runs s calls times, one packet per call, and returns the mean of
// the kernel's per-run durations in nanoseconds, leaving out calls longer
// than outlierFactor times the median: a hard interrupt or a VM exit landed
// in their timed window (hard interrupts stay on while the clock runs),
// which is not the program's cost. It returns how many calls it left out. Every
// run must return s.want, and for xtunnel's programs the reason counter
// must have grown by exactly calls: a figure for another path is an error,
// not a number.
func (s *subject) sample(reasons *reasonIndex, calls int) (ns float64, dropped int, err error) {
	var before []uint64
	if s.dp != nil {
		if before, err = s.dp.tables.Reasons(); err != nil {
			return 0, 0, err
		}
	}
	if cap(s.buf) < calls {
		s.buf = make([]time.Duration, calls)
	}
	ds := s.buf[:calls]
	for i := range ds {
		ret, d, err := s.prog.Benchmark(s.ins[i%len(s.ins)], 1, nil)
		if err != nil {
			return 0, 0, fmt.Errorf("%s %s: %w", s.row.Direction, s.row.Program, err)
		}
		if ret != s.want {
			return 0, 0, fmt.Errorf("%s %s: verdict %d, want %d", s.row.Direction, s.row.Program, ret, s.want)
		}
		ds[i] = d
	}
	if s.dp != nil {
		after, err := s.dp.tables.Reasons()
		if err != nil {
			return 0, 0, err
		}
		moved := reasons.moved(before, after)
		if len(moved) != 1 || moved[reasons.names[s.reason]] != uint64(calls) {
			return 0, 0, fmt.Errorf("%s %s: %d calls moved reasons %v, want %s by %d",
				s.row.Direction, s.row.Program, calls, moved, reasons.names[s.reason], calls)
		}
	}
	slices.Sort(ds)
	limit := outlierFactor * ds[len(ds)/2]
	var total time.Duration
	kept := 0
	for _, d := range ds {
		if d > limit {
			break
		}
		total += d
		kept++
	}
	return float64(total.Nanoseconds()) / float64(kept), calls - kept, nil
}

// outlierFactor: a call longer than this many times the median of its
// sample was interrupted.
const outlierFactor = 10

// probeRepeat runs s once with Repeat=repeat and records what happened:
// whether each repetition saw the original packet (its reason counted
// repeat times) or the previous repetition's output.
func probeRepeat(s *subject, reasons *reasonIndex, repeat int) (RepeatProbe, error) {
	tb := s.dp.tables
	tunID := uint32(1) // every Case's tunnel
	if err := tb.ResetCounters(tunID); err != nil {
		return RepeatProbe{}, err
	}
	before, err := tb.Reasons()
	if err != nil {
		return RepeatProbe{}, err
	}
	ret, out, err := runOnce(s.prog, s.ins[0], uint32(repeat))
	if err != nil {
		return RepeatProbe{}, err
	}
	after, err := tb.Reasons()
	if err != nil {
		return RepeatProbe{}, err
	}
	ctr, err := tb.Counters(tunID)
	if err != nil {
		return RepeatProbe{}, err
	}
	p := RepeatProbe{
		Program: s.row.Direction + " " + s.row.Program, Repeat: repeat,
		InBytes: len(s.ins[0]), OutBytes: len(out), LastVerdict: verdictName(s.row.Hook, ret),
		Reasons: reasons.moved(before, after), TxPackets: ctr.TxPackets, TxBytes: ctr.TxBytes, RxPackets: ctr.RxPackets,
	}
	p.FreshPacket = p.Reasons[reasons.names[s.reason]] == uint64(repeat) && len(p.Reasons) == 1
	if p.FreshPacket {
		p.Finding = fmt.Sprintf("all %d repetitions took the %s path: each saw the original packet", repeat, reasons.names[s.reason])
	} else {
		p.Finding = fmt.Sprintf("not a fresh packet per repetition: %s counted %d of %d (reasons: %s); "+
			"last verdict %s, %d bytes in, %d out",
			reasons.names[s.reason], p.Reasons[reasons.names[s.reason]], repeat, formatCounts(p.Reasons),
			p.LastVerdict, p.InBytes, p.OutBytes)
	}
	return p, nil
}

// formatCounts prints counters as "decap 1, pass_not_tunnel 7", by name.
func formatCounts(m map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func verdictName(hook string, ret uint32) string {
	xdp := map[uint32]string{0: "XDP_ABORTED", 1: "XDP_DROP", 2: "XDP_PASS", 3: "XDP_TX", 4: "XDP_REDIRECT"}
	tc := map[uint32]string{0: "TC_ACT_OK", 2: "TC_ACT_SHOT", 7: "TC_ACT_REDIRECT", 0xffffffff: "TC_ACT_UNSPEC"}
	names := xdp
	if hook == "tc" {
		names = tc
	}
	if n, ok := names[ret]; ok {
		return n
	}
	return fmt.Sprint(ret)
}

// Root reports whether the process may run BPF_PROG_TEST_RUN on XDP and TC
// programs (it needs CAP_BPF and CAP_NET_ADMIN; root has both).
func Root() bool { return os.Geteuid() == 0 }

// parallel runs f(0..n-1) on up to workers goroutines and returns the
// errors joined; every f runs even when an earlier one failed.
func parallel(n, workers int, f func(i int) error) error {
	if workers < 1 {
		workers = 1
	}
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
