package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	flagRounds = flag.Int("rounds", DefaultCostConfig.Rounds, "interleaved rounds per measurement")
	flagLoads  = flag.Int("loads", DefaultCostConfig.Loads, "separate loads of each program")
	flagCalls  = flag.Int("calls", DefaultCostConfig.Calls, "BPF_PROG_TEST_RUN calls per load per round")
	flagOut    = flag.String("results", "", "where to write the results (default: bench-results.json at the module root)")
)

func requireRoot(tb testing.TB) {
	tb.Helper()
	if !Root() {
		tb.Skip("BPF_PROG_TEST_RUN on XDP and TC programs needs root (CAP_BPF and CAP_NET_ADMIN): run make bench as root")
	}
}

// BenchmarkProgramCost measures every program once per round, interleaved,
// prints the table, writes bench-results.json, and reports each program as
// a sub-benchmark: ns/op is its median ns/packet. Run it with
// -benchtime 1x (make bench): one run is the whole measurement.
func BenchmarkProgramCost(b *testing.B) {
	requireRoot(b)
	cfg := DefaultCostConfig
	cfg.Rounds, cfg.Loads, cfg.Calls = *flagRounds, *flagLoads, *flagCalls
	rep, err := ProgramCost(cfg, func(s string) { fmt.Fprintf(os.Stderr, "program cost: %s\n", s) })
	if err != nil {
		b.Fatal(err)
	}
	if err := rep.WriteTable(os.Stdout); err != nil {
		b.Fatal(err)
	}
	out := *flagOut
	if out == "" {
		root, err := ModuleRoot()
		if err != nil {
			b.Fatal(err)
		}
		out = filepath.Join(root, "bench-results.json")
	}
	if err := (&Results{ProgramCost: rep}).WriteJSON(out); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\nwrote %s\n\n", out)

	for _, r := range rep.Rows {
		name := strings.Join([]string{r.Direction, r.Program, r.Outer}, "_")
		if r.Direction == "baseline" {
			name = "empty_" + r.Hook
		}
		b.Run(name, func(b *testing.B) {
			b.ReportMetric(r.NsPerPacket.Median, "ns/op")
			b.ReportMetric(r.NsAboveEmpty.Median, "ns-above-empty")
			b.ReportMetric(r.RatioToEmpty.Median, "x-empty")
		})
	}
}

// TestCasesTakeTheFastPath is the benchmark's precondition, run by make
// test: for every case, encap's output decapsulates back to the input on
// the other end, and both take the path they are measured on. It times
// nothing.
func TestCasesTakeTheFastPath(t *testing.T) {
	requireRoot(t)
	reasons, err := loadReasons()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			enc, dec, closeFn, err := setupCase(c, reasons)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			for _, s := range []*subject{enc, dec} {
				if _, _, err := s.sample(reasons, 3); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestRepeatProbe records what BPF_PROG_TEST_RUN does with repeat > 1 on
// this kernel. It fails only if the probe cannot run; the finding is
// logged (go test -v) and printed by make bench.
func TestRepeatProbe(t *testing.T) {
	requireRoot(t)
	reasons, err := loadReasons()
	if err != nil {
		t.Fatal(err)
	}
	c := Cases()[0]
	enc, dec, closeFn, err := setupCase(c, reasons)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	for _, s := range []*subject{dec, enc} {
		p, err := probeRepeat(s, reasons, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s (tunnel counters: rx %d packets, tx %d packets %d bytes)", p.Program, p.Finding, p.RxPackets, p.TxPackets, p.TxBytes)
	}
}
