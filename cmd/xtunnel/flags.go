package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/xtunnel/xtunnel/dataplane"
)

// Flags are the global options; they may appear anywhere on the line.
type Flags struct {
	JSON    bool
	BPFFS   string
	XDPMode xdpMode
	TCMode  tcMode
	Verbose bool
	IPv6    bool   // -6: fou add|del name an IPv6 listener; fou show lists only those
	Sample  string // --sample 1/N: mirror add's sample word, as a flag
	Help    bool
	Version bool

	Batch string // -batch FILE: run the commands in FILE ("-": stdin)
	Force bool   // -force: with -batch, go on after a failing command

	// Table sizes for the state's first creation; 0: the dataplane's.
	MaxTunnels int
	MaxRoutes  int
}

// Limits of --max-tunnels and --max-routes.
const (
	maxTunnelsLimit = 1 << 20
	maxRoutesLimit  = 1 << 24
)

// SetFlags binds f to fs with the defaults.
func (f *Flags) SetFlags(fs *pflag.FlagSet) {
	f.XDPMode, f.TCMode = "auto", "auto"
	fs.BoolVar(&f.JSON, "json", false, "print JSON instead of text")
	fs.StringVar(&f.BPFFS, "bpffs", dataplane.DefaultBPFFS, "bpffs `DIR` that holds xtunnel's pinned state")
	fs.Var(&f.XDPMode, "xdp-mode", "how attach loads XDP: auto, native or generic")
	fs.Var(&f.TCMode, "tc-mode", "how TC programs attach: auto, tcx or clsact")
	fs.BoolVarP(&f.Verbose, "verbose", "v", false, "say what was done; link show prints the link add words of each tunnel")
	fs.BoolVarP(&f.IPv6, "ipv6", "6", false, "fou add, fou del: the port listens on IPv6; fou show: only those ports")
	fs.StringVar(&f.Sample, "sample", "", "mirror add: sample `1/N`, one frame in N (the same as its sample word)")
	fs.StringVarP(&f.Batch, "batch", "b", "", "run the commands in `FILE` (- for stdin), one a line, as they would follow xtunnel; also -batch")
	fs.BoolVar(&f.Force, "force", false, "with --batch: go on after a failing command, and exit non-zero at the end if any failed; also -force")
	fs.Var(&countFlag{p: &f.MaxTunnels, max: maxTunnelsLimit}, "max-tunnels",
		"room for `N` tunnels, 1..1048576 (default 4096); only for the first attach, which creates the state")
	fs.Var(&countFlag{p: &f.MaxRoutes, max: maxRoutesLimit}, "max-routes",
		"room for `N` routes, 1..16777216 (default 65536); only for the first attach, which creates the state")
	fs.BoolVarP(&f.Help, "help", "h", false, "print help")
	fs.BoolVar(&f.Version, "version", false, "print the version")
}

// options is what dataplane.Open needs from the flags.
func (f *Flags) options() dataplane.Options {
	return dataplane.Options{BPFFS: f.BPFFS, XDPMode: string(f.XDPMode), TCMode: string(f.TCMode),
		MaxTunnels: f.MaxTunnels, MaxRoutes: f.MaxRoutes}
}

// newFlagSet returns a flag set for f that reports errors to its caller
// instead of printing them, and accepts flags between command words.
func newFlagSet(f *Flags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("xtunnel", pflag.ContinueOnError)
	fs.SetInterspersed(true)
	fs.Usage = func() {}
	fs.SortFlags = false
	f.SetFlags(fs)
	return fs
}

// parseFlags splits args into flags (stored in f) and command words.
func parseFlags(f *Flags, args []string) (*pflag.FlagSet, []string, error) {
	fs := newFlagSet(f)
	if err := fs.Parse(singleDash(args)); err != nil {
		var inv *pflag.InvalidValueError
		if errors.As(err, &inv) {
			name, val, cause := inv.GetFlag().Name, inv.GetValue(), inv.Unwrap()
			if strings.Contains(cause.Error(), strconv.Quote(val)) {
				return nil, nil, usageErrorf("--%s: %v", name, cause)
			}
			return nil, nil, usageErrorf("--%s %q: %v", name, val, cause)
		}
		return nil, nil, usageErrorf("%v; try: xtunnel help", err)
	}
	return fs, fs.Args(), nil
}

// singleDashFlags are the long flags that ip spells with one dash: ip
// -batch FILE and ip -force.
var singleDashFlags = []string{"batch", "force"}

// singleDash rewrites -batch and -force (and -batch=FILE) to their pflag
// spelling, --batch and --force, up to a "--" that ends the flags.
func singleDash(args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == "--" {
			break
		}
		for _, name := range singleDashFlags {
			if a == "-"+name || strings.HasPrefix(a, "-"+name+"=") {
				out[i] = "-" + a
			}
		}
	}
	return out
}

// countFlag is a number of table entries, 1..max, bound to an int; it
// stays 0 (the dataplane's default) unless given.
type countFlag struct {
	p   *int
	max int
}

func (c *countFlag) String() string {
	if c.p == nil {
		return "0"
	}
	return strconv.Itoa(*c.p)
}

func (c *countFlag) Type() string { return "N" }

func (c *countFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange):
		return fmt.Errorf("%q is out of range; want 1..%d", s, c.max)
	case err != nil:
		return fmt.Errorf("%q is not a number; want 1..%d", s, c.max)
	case n < 1 || n > uint64(c.max):
		return fmt.Errorf("%q is out of range; want 1..%d", s, c.max)
	}
	*c.p = int(n)
	return nil
}

// xdpMode is the --xdp-mode value: auto, native or generic.
type xdpMode string

func (m *xdpMode) String() string { return string(*m) }
func (m *xdpMode) Type() string   { return "MODE" }
func (m *xdpMode) Set(s string) error {
	v, err := setChoice(s, "an XDP mode", "auto", "native", "generic")
	if err == nil {
		*m = xdpMode(v)
	}
	return err
}

// tcMode is the --tc-mode value: auto, tcx or clsact.
type tcMode string

func (m *tcMode) String() string { return string(*m) }
func (m *tcMode) Type() string   { return "MODE" }
func (m *tcMode) Set(s string) error {
	v, err := setChoice(s, "a TC mode", "auto", "tcx", "clsact")
	if err == nil {
		*m = tcMode(v)
	}
	return err
}

// setChoice returns s if it is one of choices, or an error that lists them.
func setChoice(s, what string, choices ...string) (string, error) {
	for _, c := range choices {
		if s == c {
			return s, nil
		}
	}
	list := strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
	return "", fmt.Errorf("%q is not %s; want %s", s, what, list)
}
