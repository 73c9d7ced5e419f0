package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	flagSections   = flag.String("sections", strings.Join(AllSections, ","), "sections to run, comma-separated: "+strings.Join(AllSections, ", "))
	flagRounds     = flag.Int("rounds", DefaultCostConfig.Rounds, "program cost: interleaved rounds")
	flagLoads      = flag.Int("loads", DefaultCostConfig.Loads, "program cost: separate loads of each program")
	flagCalls      = flag.Int("calls", DefaultCostConfig.Calls, "program cost: BPF_PROG_TEST_RUN calls per load per round")
	flagLiveRounds = flag.Int("live-rounds", DefaultLiveConfig.Rounds, "live frames: interleaved rounds")
	flagFrames     = flag.Uint("frames", uint(DefaultLiveConfig.Frames), "live frames: frames per trial")
	flagTCPRounds  = flag.Int("tcp-rounds", DefaultTCPConfig.Rounds, "tcp: interleaved rounds")
	flagTCPSeconds = flag.Int("tcp-seconds", DefaultTCPConfig.Seconds, "tcp: seconds per iperf3 run")
	flagCLIPeers   = flag.Int("cli-peers", DefaultScaleConfig.CLIPeers, "scale: routes added by xtunnel -batch end to end (0: skip)")
	flagXtunnel    = flag.String("xtunnel", "", "xtunnel binary for the lab (default: built from ./cmd/xtunnel)")
	flagOut        = flag.String("results", "", "where to write the results (default: bench-results.json at the module root)")
	flagPNG        = flag.String("png", "", "where to draw the chart (default: bench-results.png at the module root)")
)

func requireRoot(tb testing.TB) {
	tb.Helper()
	if !Root() {
		tb.Skip("the benchmarks run BPF programs and build network namespaces, which needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN): run make bench as root")
	}
}

// buildXtunnel builds ./cmd/xtunnel into dir for the lab.
func buildXtunnel(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "xtunnel")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/xtunnel")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/xtunnel: %w: %s", err, out)
	}
	return bin, nil
}

// BenchmarkXtunnel is make bench: one run is the whole measurement
// (-benchtime 1x). It prints the table, writes bench-results.json and
// bench-results.png at the module root, and reports the main figures as
// sub-benchmarks (ns/op of each program, Mpps of each forwarding path,
// Gbit/s of each TCP setup) for benchstat.
func BenchmarkXtunnel(b *testing.B) {
	requireRoot(b)
	root, err := ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Sections = strings.Split(*flagSections, ",")
	opts.Cost.Rounds, opts.Cost.Loads, opts.Cost.Calls = *flagRounds, *flagLoads, *flagCalls
	opts.Live.Rounds, opts.Live.Frames = *flagLiveRounds, uint32(*flagFrames)
	opts.TCP.Rounds, opts.TCP.Seconds = *flagTCPRounds, *flagTCPSeconds
	opts.Scale.CLIPeers = *flagCLIPeers
	opts.JSON, opts.PNG = *flagOut, *flagPNG
	if opts.JSON == "" {
		opts.JSON = filepath.Join(root, "bench-results.json")
	}
	if opts.PNG == "" {
		opts.PNG = filepath.Join(root, "bench-results.png")
	}
	opts.Progress = os.Stderr
	opts.Xtunnel = *flagXtunnel
	if opts.Xtunnel == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		bin, err := buildXtunnel(ctx, root, b.TempDir())
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		opts.Xtunnel = bin
	}
	res, err := Run(os.Stdout, opts)
	if res != nil {
		for _, f := range []string{opts.JSON, opts.PNG} {
			if st, err := os.Stat(f); err == nil && !st.ModTime().Before(res.Started) {
				fmt.Printf("wrote %s\n", f)
			}
		}
		fmt.Println()
		reportMetrics(b, res)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// reportMetrics adds a sub-benchmark per figure.
func reportMetrics(b *testing.B, res *Results) {
	name := func(parts ...string) string {
		return strings.NewReplacer(" ", "_", "→", "-", "+", "").Replace(strings.Join(parts, "_"))
	}
	if rep := res.ProgramCost; rep != nil {
		for _, r := range rep.Rows {
			n := name(r.Direction, r.Program, r.Outer)
			if r.Direction == "baseline" {
				n = "empty_" + r.Hook
			}
			b.Run("cost/"+n, func(b *testing.B) {
				b.ReportMetric(r.NsPerPacket.Median, "ns/op")
				b.ReportMetric(r.NsAboveEmpty.Median, "ns-above-empty")
			})
		}
	}
	for _, rows := range [][]PPSRow{rowsOf(res.Gateway), rowsOfPeer(res.VXLANPeer)} {
		for _, r := range rows {
			b.Run("pps/"+name(r.Path, r.Tunnel, r.Ingress), func(b *testing.B) {
				b.ReportMetric(1000/max(r.Mpps.Median, 1e-9), "ns/op") // per frame
				b.ReportMetric(r.Mpps.Median, "Mpps")
				b.ReportMetric(r.Ratio.Median, "ratio")
			})
		}
	}
	if rep := res.TCP; rep != nil {
		for _, r := range rep.Rows {
			b.Run("tcp/"+name(r.Setup), func(b *testing.B) {
				b.ReportMetric(0, "ns/op") // not timed per op
				b.ReportMetric(r.Gbps.Median, "Gbit/s")
			})
		}
	}
	if rep := res.Scale; rep != nil {
		for _, r := range rep.Rows {
			b.Run(fmt.Sprintf("scale/%d_peers", r.Peers), func(b *testing.B) {
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(r.Decap.NsPerPacket.Median, "decap-ns")
				b.ReportMetric(r.Encap.NsPerPacket.Median, "encap-ns")
				b.ReportMetric(r.BytesPerPeer, "bytes/peer")
			})
		}
	}
}

func rowsOf(g *GatewayReport) []PPSRow {
	if g == nil {
		return nil
	}
	return g.Rows
}

func rowsOfPeer(v *VXLANPeerReport) []PPSRow {
	if v == nil {
		return nil
	}
	return v.Rows
}

// TestCasesTakeTheFastPath is the program-cost benchmark's precondition,
// run by make test: for every case, encap's output decapsulates back to
// the input on the other end, and both take the path they are measured
// on. It times nothing.
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
