package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// WriteTable prints rep as one table, a line per program, with the probe
// findings the method rests on.
func (rep *CostReport) WriteTable(w io.Writer) error {
	pinned := "not pinned"
	if rep.PinnedTo >= 0 {
		pinned = fmt.Sprintf("pinned to CPU %d", rep.PinnedTo)
	}
	fmt.Fprintf(w, "\nPer-packet cost under BPF_PROG_TEST_RUN: kernel %s, %d CPUs, %s, %.1f s\n",
		rep.Kernel, rep.CPUs, pinned, rep.Elapsed)
	var left, all int
	for _, r := range rep.Rows {
		left += r.Interrupted
		all += rep.Rounds * rep.Loads * rep.Calls
	}
	fmt.Fprintf(w, "repeat=1 per packet; each program loaded %d times, %d calls per load per round (%d of %d calls, %.2f%%,\n",
		rep.Loads, rep.Calls, left, all, 100*float64(left)/float64(max(all, 1)))
	fmt.Fprintf(w, "left out as interrupted); median [min..max] over %d interleaved rounds of the mean over loads;\n", rep.Rounds)
	fmt.Fprintf(w, "'above empty' and 'x empty': against the empty program of the same hook, same round;\n")
	fmt.Fprintf(w, "'per load': min..max over loads of each load's median.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "program\tdirection\thook\touter\tinner\tbytes in\tns/packet\tns above empty\tx empty\tper load\t")
	for _, r := range rep.Rows {
		outer := r.Outer
		if outer == "" {
			outer = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.0f..%.0f\t\n", r.Program, r.Direction, r.Hook, outer, r.Inner,
			r.FrameBytes, span(r.NsPerPacket, "%.1f"), span(r.NsAboveEmpty, "%.1f"), span(r.RatioToEmpty, "%.2f"),
			r.PerLoad.Min, r.PerLoad.Max)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nWhy repeat=1 (one syscall, repeat=N, same input):\n")
	for _, p := range rep.Probes {
		fmt.Fprintf(w, "  %s: %s\n", p.Program, p.Finding)
	}
	if rep.EmptyXDPInLoopNs > 0 && len(rep.Rows) > 0 {
		fmt.Fprintf(w, "  empty xdp: %.0f ns per repetition inside one syscall (repeat=1000000) vs %.1f ns per call at repeat=1:\n"+
			"  the difference is the timing around each call (clock reads, timer bookkeeping), the same for every\n"+
			"  program of a hook, so it cancels in 'ns above empty' and inflates 'x empty' alike.\n",
			rep.EmptyXDPInLoopNs, rep.Rows[0].NsPerPacket.Median)
	}
	return nil
}

func span(s Stat, f string) string {
	return fmt.Sprintf(f+" ["+f+".."+f+"]", s.Median, s.Min, s.Max)
}

// Results is what bench-results.json holds: one key per measurement.
type Results struct {
	ProgramCost *CostReport `json:"program_cost,omitempty"`
}

// WriteJSON writes res to path, indented.
func (res *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ModuleRoot is the directory of the go.mod above the working directory:
// where bench-results.json goes (go test runs in the package directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
