// Command xtunnel-lab is `make demo`: it builds the namespace lab of
// package lab, runs every tunnel case of lab.Cases through xtunnel (each
// type over its IPv4 or IPv6 underlay, FOU and GUE, the Ethernet overlays
// bridged into the lab's L2 segment, two of them against the kernel's own
// vxlan driver: ping both ways for each inner family the case carries,
// iperf3 TCP both ways), prints one table and removes the lab, also when
// interrupted. It must run as root.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/xtunnel/xtunnel/lab"
)

// Flags are the command line.
type Flags struct {
	Xtunnel string
	TCMode  string
	Seconds int
	Cases   []string // run only these cases; empty: all
}

func main() {
	var f Flags
	fs := pflag.NewFlagSet("xtunnel-lab", pflag.ContinueOnError)
	fs.StringVar(&f.Xtunnel, "xtunnel", "./bin/xtunnel", "path of the xtunnel binary to run (make build)")
	fs.StringVar(&f.TCMode, "tc-mode", "", "passed to xtunnel attach and link add: auto, tcx or clsact (default: xtunnel's)")
	fs.IntVar(&f.Seconds, "seconds", 2, "length of each iperf3 TCP run")
	fs.StringSliceVar(&f.Cases, "case", nil, "run only these cases (comma-separated or repeated): "+strings.Join(lab.CaseNames(), ", "))
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: xtunnel-lab [flags]\n\nBuilds a namespace lab, runs every tunnel type through xtunnel and prints one table. Needs root.\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "xtunnel-lab:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, f, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xtunnel-lab:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, f Flags, w io.Writer) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, veth, bpffs, BPF programs); run it as root, e.g. sudo make demo")
	}
	for _, tool := range []string{"ip", "ping", "iperf3", "ss", "ethtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found in PATH; make deps installs it", tool)
		}
	}
	if f.Seconds < 1 {
		return fmt.Errorf("--seconds %d: want at least 1", f.Seconds)
	}
	cases, err := selectCases(f.Cases)
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(f.Xtunnel)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		return fmt.Errorf("xtunnel binary %s not found; build it with make build or pass --xtunnel PATH", bin)
	}

	removed, err := lab.CleanStale(ctx)
	for _, r := range removed {
		fmt.Fprintf(w, "removed %s left by a run that is gone\n", r)
	}
	if err != nil {
		return fmt.Errorf("removing stale lab namespaces: %w", err)
	}

	l, err := lab.New(ctx, lab.Prefix(""))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := l.Cleanup(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup: %w", cerr))
		} else {
			fmt.Fprintf(w, "lab %s removed\n", l.Prefix)
		}
	}()
	fmt.Fprintf(w, "lab %s: namespaces %s; bpffs %s\n", l.Prefix, strings.Join(l.Namespaces(), " "), l.BPFFS)

	x := lab.Xtunnel{Bin: bin, BPFFS: l.BPFFS, TCMode: f.TCMode}
	var results []lab.Result
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(w, "running %s ...\n", c.Name)
		results = append(results, l.RunCase(ctx, x, c, f.Seconds))
	}

	fmt.Fprintln(w)
	mode := f.TCMode
	if mode == "" {
		mode = "xtunnel's default"
	}
	fmt.Fprintf(w, "xtunnel %s, tc mode %s, %d pings per direction, iperf3 TCP %d s per direction\n\n",
		bin, mode, lab.PingsPerRun, f.Seconds)
	printTable(w, results)
	printNotes(w, results)

	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(w, "\n%s failed:\n  %s\n", r.Case, strings.ReplaceAll(r.Err.Error(), "\n", "\n  "))
		}
	}
	fmt.Fprintln(w)
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d tunnel types failed", failed, len(results))
	}
	return nil
}

// selectCases returns the cases named (all when names is empty), in the
// order of lab.Cases.
func selectCases(names []string) ([]lab.TunnelCase, error) {
	all := lab.Cases()
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(lab.CaseNames(), n) {
			return nil, fmt.Errorf("--case %s: no such case; cases are %s", n, strings.Join(lab.CaseNames(), ", "))
		}
		want[n] = true
	}
	var cases []lab.TunnelCase
	for _, c := range all {
		if want[c.Name] {
			cases = append(cases, c)
		}
	}
	return cases, nil
}

// printTable prints one row per case: type | underlay | ping and TCP
// Gbit/s both ways for each inner family | packets through BPF. "-" is a
// family the case does not carry.
func printTable(w io.Writer, results []lab.Result) {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tUNDERLAY\tPING IPv4 A->B B->A\tTCP IPv4 Gbit/s A->B B->A\tPING IPv6 A->B B->A\tTCP IPv6 Gbit/s A->B B->A\tPACKETS THROUGH BPF")
	for _, r := range results {
		packets := "-"
		if r.Ran && r.Packets > 0 {
			packets = fmt.Sprint(r.Packets)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Case, r.Underlay,
			pingCell(r, false), tcpCell(r, false), pingCell(r, true), tcpCell(r, true), packets)
	}
	_ = tw.Flush()
}

// printNotes explains the rows of L2 and kernel-peer cases, if any ran.
func printNotes(w io.Writer, results []lab.Result) {
	var l2, kernel []string
	for _, r := range results {
		if r.L2 {
			l2 = append(l2, r.Case)
		}
		if r.KernelB {
			kernel = append(kernel, r.Case)
		}
	}
	if len(l2) > 0 {
		fmt.Fprintf(w, "\nL2 (bridged, clients %s and %s on one subnet, MTU %d): %s\n",
			lab.L2A4, lab.L2B4, lab.L2MTU, strings.Join(l2, ", "))
	}
	if len(kernel) > 0 {
		fmt.Fprintf(w, "host B runs the kernel's vxlan driver, so PACKETS THROUGH BPF is host A's alone: %s\n",
			strings.Join(kernel, ", "))
	}
}

// pingCell is "ok 5/5 5/5" when every echo of the family was answered in
// both directions, "FAIL ..." otherwise, "-" when none was sent.
func pingCell(r lab.Result, v6 bool) string {
	var parts []string
	ok := true
	for _, p := range r.Pings {
		a, err := netip.ParseAddr(p.Dst)
		if err != nil || a.Is6() != v6 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d/%d", p.Received, lab.PingsPerRun))
		ok = ok && p.Received == lab.PingsPerRun && p.Transmitted == lab.PingsPerRun
	}
	switch {
	case len(parts) == 0:
		return "-"
	case ok && len(parts) == 2:
		return "ok " + strings.Join(parts, " ")
	}
	return "FAIL " + strings.Join(parts, " ")
}

// tcpCell is the family's throughput A->B and B->A ("2.61 2.73"), FAIL
// for a run that failed, "-" when none ran.
func tcpCell(r lab.Result, v6 bool) string {
	var parts []string
	for _, t := range r.TCP {
		if t.V6() != v6 {
			continue
		}
		if t.Gbps <= 0 {
			parts = append(parts, "FAIL")
		} else {
			parts = append(parts, fmt.Sprintf("%.2f", t.Gbps))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
