package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/lab"
)

// Sections of a run, in the order they run and print.
const (
	SectionCost    = "cost"    // per-packet cost of every program under BPF_PROG_TEST_RUN
	SectionGateway = "gateway" // pps of gateway decap→forward and encap→forward, live frames
	SectionVXLAN   = "vxlan"   // the kernel's VXLAN as a peer, live frames
	SectionTCP     = "tcp"     // iperf3 through tunnels and baselines (needs Options.Xtunnel)
	SectionScale   = "scale"   // cost, load time and memory against the number of peers
)

// AllSections is every section, in order.
var AllSections = []string{SectionCost, SectionGateway, SectionVXLAN, SectionTCP, SectionScale}

// Options say what Run measures and where the results go.
type Options struct {
	Context  context.Context // nil: Background; once namespaces exist, SIGINT and SIGTERM stop Run too
	Sections []string        // nil: AllSections
	Cost     CostConfig
	Live     LiveConfig
	TCP      TCPConfig
	Scale    ScaleConfig
	// Xtunnel is the xtunnel binary the lab runs for the TCP section and
	// the -batch timing; "" skips both (with a note in the results).
	Xtunnel string
	// CPU is the CPU the live-frames runs are pinned to; -1: the last
	// one this process may run on.
	CPU  int
	JSON string // where to write the results as JSON; "" does not
	PNG  string // where to draw the chart; "" does not
	// Progress, if not nil, gets a line per phase.
	Progress io.Writer
}

// DefaultOptions measure everything: about two minutes on an idle 2-core
// machine, under four when other work keeps its cores busy.
func DefaultOptions() Options {
	return Options{Cost: DefaultCostConfig, Live: DefaultLiveConfig, TCP: DefaultTCPConfig,
		Scale: DefaultScaleConfig, CPU: -1}
}

// Results is what bench-results.json holds: one key per measurement.
type Results struct {
	Kernel      string           `json:"kernel"`
	CPUs        int              `json:"cpus"`
	LoadAvg     [2]string        `json:"loadavg_before_after"` // /proc/loadavg: other work on the machine
	Started     time.Time        `json:"started"`
	Elapsed     float64          `json:"elapsed_s"`
	ProgramCost *CostReport      `json:"program_cost,omitempty"`
	Gateway     *GatewayReport   `json:"gateway,omitempty"`
	VXLANPeer   *VXLANPeerReport `json:"kernel_vxlan_peer,omitempty"`
	TCP         *TCPReport       `json:"tcp,omitempty"`
	Scale       *ScaleReport     `json:"scale,omitempty"`
	// Errors are the sections that failed, with why; the others ran.
	Errors map[string]string `json:"errors,omitempty"`
	// Notes are what was left out, and why.
	Notes []string `json:"notes,omitempty"`
	// Targets are every target of the issue with its figure, met or not.
	Targets []TargetLine `json:"targets"`
}

// Run measures the sections of opts, each after the other, prints one
// table to w and writes the JSON and the chart. A section that fails is
// reported in Results.Errors and the table, and the others still run;
// the error joins every failure. Everything Run creates (namespaces,
// links, bpffs mounts, BPF objects) is gone when it returns, also after
// a failure or an interrupt. It needs root.
func Run(w io.Writer, opts Options) (res *Results, err error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	progress := func(s string) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "bench: %s\n", s)
		}
	}
	sections := opts.Sections
	if sections == nil {
		sections = AllSections
	}
	for _, s := range sections {
		if !slices.Contains(AllSections, s) {
			return nil, fmt.Errorf("no section %q; sections: %s", s, strings.Join(AllSections, ", "))
		}
	}
	want := func(s string) bool { return slices.Contains(sections, s) }
	start := time.Now()
	res = &Results{Started: start, CPUs: runtime.NumCPU(), Errors: map[string]string{}}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		res.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	res.LoadAvg[0] = loadAvg()
	var errs []error
	fail := func(section string, err error) {
		if err != nil {
			res.Errors[section] = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", section, err))
		}
	}
	cpu := opts.CPU
	if cpu < 0 {
		cpu = lastCPU()
	}
	reasons, err := loadReasons()
	if err != nil {
		return nil, err
	}

	if want(SectionCost) && ctx.Err() == nil {
		rep, err := ProgramCost(opts.Cost, progress)
		res.ProgramCost = rep
		fail(SectionCost, err)
	}
	if want(SectionScale) && ctx.Err() == nil {
		rep, err := Scale(opts.Scale, progress)
		res.Scale = rep
		fail(SectionScale, err)
	}
	// From here on namespaces exist: an interrupt stops the measuring and
	// lets the cleanup run (before, the default action is as good).
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if (want(SectionGateway) || want(SectionVXLAN)) && ctx.Err() == nil {
		err := withLab(ctx, "pps", progress, func(l *lab.Lab) error {
			var errs []error
			if want(SectionGateway) {
				rep, err := measureGateway(ctx, l, opts.Live, cpu, reasons, progress)
				res.Gateway = rep
				if err != nil {
					fail(SectionGateway, err)
					errs = append(errs, err)
				}
			}
			if want(SectionVXLAN) && ctx.Err() == nil {
				rep, err := measureVXLANPeer(ctx, l, opts.Live, cpu, reasons, progress)
				res.VXLANPeer = rep
				if err != nil {
					fail(SectionVXLAN, err)
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		})
		if err != nil && res.Errors[SectionGateway] == "" && res.Errors[SectionVXLAN] == "" {
			fail("lab pps", err) // the lab itself
		}
	}
	needCLI := want(SectionScale) && opts.Scale.CLIPeers > 0
	if (want(SectionTCP) || needCLI) && opts.Xtunnel == "" {
		res.Notes = append(res.Notes, "no xtunnel binary given (Options.Xtunnel): TCP and the -batch timing were skipped")
	} else if (want(SectionTCP) || needCLI) && ctx.Err() == nil {
		err := withLab(ctx, "tcp", progress, func(l *lab.Lab) error {
			var errs []error
			if want(SectionTCP) {
				rep, err := measureTCP(ctx, l, opts.Xtunnel, opts.TCP, progress)
				res.TCP = rep
				if err != nil {
					fail(SectionTCP, err)
					errs = append(errs, err)
				}
			}
			if needCLI && res.Scale != nil && ctx.Err() == nil {
				progress(fmt.Sprintf("scale: xtunnel -batch with %d route add lines", opts.Scale.CLIPeers))
				took, cpu, err := cliBatch(ctx, l, opts.Xtunnel, opts.Scale.CLIPeers, opts.Scale.MaxRoutes)
				if err != nil {
					fail("scale -batch", err)
					errs = append(errs, err)
				} else {
					s := res.Scale
					s.CLIPeers, s.CLISeconds, s.CLICPU = opts.Scale.CLIPeers, took.Seconds(), cpu.Seconds()
					s.CLIPerPeerUs = took.Seconds() * 1e6 / float64(opts.Scale.CLIPeers)
					s.CLINote = fmt.Sprintf("process start, parsing, the maps and one kernel route per line; "+
						"%d lines to fit the time, at that rate 1M would take %.0f s", s.CLIPeers, s.CLIPerPeerUs)
				}
			}
			return errors.Join(errs...)
		})
		if err != nil && res.Errors[SectionTCP] == "" && res.Errors["scale -batch"] == "" {
			fail("lab tcp", err)
		}
	}
	if ctx.Err() != nil {
		fail("interrupted", context.Cause(ctx))
	}
	res.Elapsed = time.Since(start).Seconds()
	res.LoadAvg[1] = loadAvg()
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	res.Targets = res.TargetLines()
	if opts.PNG != "" && len(res.chartBars()) == 0 {
		res.Notes = append(res.Notes, "no ratio with a target was measured: no chart")
	}
	if err := res.WriteTable(w); err != nil {
		errs = append(errs, err)
	}
	if opts.JSON != "" {
		if err := res.WriteJSON(opts.JSON); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.PNG != "" && len(res.chartBars()) > 0 {
		if err := res.WritePNG(opts.PNG); err != nil {
			errs = append(errs, fmt.Errorf("chart: %w", err))
		}
	}
	return res, errors.Join(errs...)
}

// withLab builds a lab tagged tag, runs f in it and cleans it up, also
// when f fails or panics.
func withLab(ctx context.Context, tag string, progress func(string), f func(*lab.Lab) error) (err error) {
	progress(fmt.Sprintf("lab %s: building the namespaces", tag))
	l, err := lab.New(ctx, lab.Prefix(tag))
	if err != nil {
		return err
	}
	defer func() {
		progress(fmt.Sprintf("lab %s: cleaning up", tag))
		err = joinErr(err, l.Cleanup())
	}()
	return f(l)
}

// lastCPU is the highest CPU this process may run on.
func lastCPU() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return runtime.NumCPU() - 1
	}
	cpu := 0
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpu = i
		}
	}
	return cpu
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}
