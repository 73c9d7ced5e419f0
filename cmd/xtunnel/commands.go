package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/xtunnel/xtunnel/bench"
	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/tunnel"
)

// alias maps a command word as typed to the command it names.
type alias struct{ word, cmd string }

var topWords = []alias{
	{"attach", "attach"},
	{"detach", "detach"},
	{"link", "link"},
	{"fou", "fou"},
	{"fdb", "fdb"},
	{"mirror", "mirror"},
	{"route", "route"},
	{"stats", "stats"},
	{"features", "features"},
	{"bench", "bench"},
	{"help", "help"},
}

// objectWords are the verbs `link`, `fou`, `mirror` and `route` take, with
// iproute2's spellings.
var objectWords = []alias{
	{"add", "add"},
	{"delete", "del"},
	{"del", "del"},
	{"show", "show"},
	{"list", "show"},
	{"lst", "show"},
	{"ls", "show"},
	{"help", "help"},
}

var linkWords, fouWords, mirrorWords, routeWords = objectWords, objectWords, objectWords, objectWords

// fdbWords are the verbs of `fdb`: those of `bridge fdb`, where append
// adds one more peer to the flood list, which add does here as well.
var fdbWords = []alias{
	{"add", "add"},
	{"append", "add"},
	{"delete", "del"},
	{"del", "del"},
	{"show", "show"},
	{"list", "show"},
	{"lst", "show"},
	{"ls", "show"},
	{"help", "help"},
}

// subWords are the subcommands of the commands that have them; with none
// given, each lists ("show"), as `ip link` and `bridge fdb` do.
var subWords = map[string][]alias{"link": linkWords, "fou": fouWords, "fdb": fdbWords, "mirror": mirrorWords, "route": routeWords}

// resolve returns the command w names: an exact word, or a prefix of
// exactly one command (aliases of one command count once), as ip allows
// `ip l sh`. With no match it returns ""; with several, their names.
func resolve(w string, table []alias) (string, []string) {
	var cmds []string
	for _, a := range table {
		if a.word == w {
			return a.cmd, nil
		}
		if w != "" && strings.HasPrefix(a.word, w) && !contains(cmds, a.cmd) {
			cmds = append(cmds, a.cmd)
		}
	}
	if len(cmds) == 1 {
		return cmds[0], nil
	}
	return "", cmds
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// invocation is one command line, parsed and checked but not yet run.
type invocation struct {
	cmd    string // attach, detach, link|fou|fdb|mirror|route add|del|show, stats, features, help
	topic  string // help: the command asked about, "" for all
	name   string // attach, detach: underlay netdev; link del/show, stats, fdb show, route show: tunnel; mirror show: monitored netdev
	spec   tunnel.Spec
	fou    tunnel.FOUPort  // fou add, fou del
	fdb    tunnel.FDBEntry // fdb add, fdb del
	mirror tunnel.Mirror   // mirror add, mirror del
	route  tunnel.Route    // route add, route del
	// attach: gateway mode (plain packets routed into tunnels and
	// decapsulated ones forwarded, in XDP)
	gateway bool
	// bench: the sections to measure; none: all
	sections []string
}

// mutates reports whether the command changes state and so needs root.
func (inv invocation) mutates() bool {
	switch inv.cmd {
	case "attach", "detach", "link add", "link del", "fou add", "fou del", "bench",
		"fdb add", "fdb del", "mirror add", "mirror del", "route add", "route del":
		return true
	}
	return false
}

// parseCommand turns the command words (flags already removed) into an
// invocation. Every error is a usage error that names the offending word.
func parseCommand(words []string) (invocation, error) {
	if len(words) == 0 {
		return invocation{}, usageErrorf("missing command; try: xtunnel help")
	}
	cmd, amb := resolve(words[0], topWords)
	rest := words[1:]
	switch cmd {
	case "":
		return invocation{}, unknownWord(words[0], "", amb, "xtunnel help")
	case "help":
		topic, err := parseHelpTopic(rest)
		return invocation{cmd: "help", topic: topic}, err
	case "attach", "detach":
		if isHelp(rest) {
			return invocation{cmd: "help", topic: cmd}, nil
		}
		// attach IFNAME gateway: route and forward in XDP.
		gateway := false
		if cmd == "attach" && len(rest) > 1 && rest[len(rest)-1] == "gateway" {
			gateway, rest = true, rest[:len(rest)-1]
		}
		name, err := tunnel.ParseDevName(cmd, rest, true)
		return invocation{cmd: cmd, name: name, gateway: gateway}, usage(err)
	case "stats":
		if isHelp(rest) {
			return invocation{cmd: "help", topic: cmd}, nil
		}
		name, err := tunnel.ParseDevName(cmd, rest, false)
		return invocation{cmd: cmd, name: name}, usage(err)
	case "features":
		if isHelp(rest) {
			return invocation{cmd: "help", topic: cmd}, nil
		}
		if len(rest) > 0 {
			return invocation{}, usageErrorf("unexpected word %q after features; it takes none", rest[0])
		}
		return invocation{cmd: cmd}, nil
	case "bench":
		if isHelp(rest) {
			return invocation{cmd: "help", topic: cmd}, nil
		}
		for _, w := range rest {
			if !slices.Contains(bench.AllSections, w) {
				return invocation{}, usageErrorf("unknown bench section %q; want some of: %s", w, strings.Join(bench.AllSections, " "))
			}
		}
		inv := invocation{cmd: cmd}
		if len(rest) > 0 {
			inv.sections = rest
		}
		return inv, nil
	}
	// link, fou, fdb, mirror, route: with no subcommand they list, as
	// `ip link` and `bridge fdb` do.
	if len(rest) == 0 {
		return invocation{cmd: cmd + " show"}, nil
	}
	sub, amb := resolve(rest[0], subWords[cmd])
	args := rest[1:]
	switch sub {
	case "":
		return invocation{}, unknownWord(rest[0], cmd, amb, "xtunnel "+cmd+" help")
	case "help":
		return invocation{cmd: "help", topic: cmd}, nil
	}
	if isHelp(args) {
		return invocation{cmd: "help", topic: cmd + " " + sub}, nil
	}
	inv := invocation{cmd: cmd + " " + sub}
	var err error
	switch inv.cmd {
	case "link add":
		inv.spec, err = tunnel.ParseLinkAdd(args)
		inv.name = inv.spec.Name
	case "link del":
		inv.name, err = tunnel.ParseLinkDel(args)
	case "link show":
		inv.name, err = tunnel.ParseLinkShow(args)
	case "fou add":
		inv.fou, err = tunnel.ParseFOUAdd(args)
	case "fou del":
		inv.fou, err = tunnel.ParseFOUDel(args)
	case "fou show":
		err = tunnel.ParseFOUShow(args)
	case "fdb add":
		inv.fdb, err = tunnel.ParseFDBAdd(args)
	case "fdb del":
		inv.fdb, err = tunnel.ParseFDBDel(args)
	case "fdb show":
		inv.name, err = tunnel.ParseFDBShow(args)
	case "mirror add":
		inv.mirror, err = tunnel.ParseMirrorAdd(args)
	case "mirror del":
		inv.mirror, err = tunnel.ParseMirrorDel(args)
	case "mirror show":
		inv.name, err = tunnel.ParseMirrorShow(args)
	case "route add":
		inv.route, err = tunnel.ParseRouteAdd(args)
	case "route del":
		inv.route, err = tunnel.ParseRouteDel(args)
	case "route show":
		inv.name, err = tunnel.ParseRouteShow(args)
	}
	if err != nil {
		return invocation{}, usage(err)
	}
	return inv, nil
}

// isHelp reports whether args ask for help, as `ip link add help` does.
func isHelp(args []string) bool { return len(args) == 1 && args[0] == "help" }

// usage marks a grammar error as a usage error (exit status 2).
func usage(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: 2, msg: err.Error()}
}

func unknownWord(w, after string, candidates []string, try string) error {
	where := ""
	if after != "" {
		where = " after " + after
	}
	if len(candidates) > 1 {
		list := strings.Join(candidates[:len(candidates)-1], ", ") + " or " + candidates[len(candidates)-1]
		return usageErrorf("ambiguous command %q%s: it could be %s; try: %s", w, where, list, try)
	}
	return usageErrorf("unknown command %q%s; try: %s", w, where, try)
}

// parseHelpTopic parses the words after `help`.
func parseHelpTopic(words []string) (string, error) {
	if len(words) == 0 {
		return "", nil
	}
	cmd, amb := resolve(words[0], topWords)
	switch {
	case cmd == "":
		return "", unknownWord(words[0], "help", amb, "xtunnel help")
	case cmd == "help":
		return "", nil
	case subWords[cmd] == nil || len(words) == 1:
		if len(words) > 1 {
			return "", usageErrorf("unexpected word %q after help %s", words[1], cmd)
		}
		return cmd, nil
	}
	sub, amb := resolve(words[1], subWords[cmd])
	switch {
	case sub == "":
		return "", unknownWord(words[1], "help "+cmd, amb, "xtunnel "+cmd+" help")
	case len(words) > 2:
		return "", usageErrorf("unexpected word %q after help %s %s", words[2], cmd, words[1])
	case sub == "help":
		return cmd, nil
	}
	return cmd + " " + sub, nil
}

// helpTopic is the topic of `xtunnel WORDS --help`: as much of the
// command as can be recognized.
func helpTopic(words []string) string {
	if len(words) == 0 {
		return ""
	}
	cmd, _ := resolve(words[0], topWords)
	if subWords[cmd] == nil || len(words) == 1 {
		if cmd == "help" {
			return ""
		}
		return cmd
	}
	if sub, _ := resolve(words[1], subWords[cmd]); sub != "" && sub != "help" {
		return cmd + " " + sub
	}
	return cmd
}

// run parses args and runs the command they name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f Flags
	fset, words, err := parseFlags(&f, args)
	if err != nil {
		return err
	}
	batch := fset.Changed("batch")
	switch {
	case f.Version:
		fmt.Fprintf(stdout, "xtunnel %s\n", version)
		return nil
	case f.Help:
		return writeHelp(stdout, helpTopic(words), fset)
	case f.Force && !batch:
		return usageErrorf("--force applies to --batch only: xtunnel -batch FILE -force")
	case batch && f.Batch == "":
		return usageErrorf("--batch needs a file name: -batch FILE, or -batch - for stdin")
	case batch && len(words) > 0:
		return usageErrorf("unexpected word %q: with -batch the commands come from %s, one a line", words[0], f.Batch)
	case batch:
		return runBatch(ctx, &f, fset, stdout, stderr)
	case len(words) == 0:
		if err := writeHelp(stderr, "", fset); err != nil {
			return err
		}
		return &exitError{code: 2}
	}
	inv, err := parseCommand(words)
	if err != nil {
		return err
	}
	if inv, err = applyFlags(inv, words, &f, fset); err != nil {
		return err
	}
	if inv.cmd == "help" {
		return writeHelp(stdout, inv.topic, fset)
	}
	return execute(ctx, inv, &f, stdout, stderr)
}

// applyFlags gives inv, parsed from words, the flags that belong to its
// grammar (--sample, -6), refusing them for the other commands.
func applyFlags(inv invocation, words []string, f *Flags, fset *pflag.FlagSet) (invocation, error) {
	var err error
	if fset.Changed("sample") {
		// --sample is mirror add's word, which pflag took off the line:
		// hand it back to the grammar, which checks it with the others.
		if inv.cmd != "mirror add" && inv.cmd != "help" {
			return invocation{}, usageErrorf("--sample applies to mirror add only, not to %s", inv.cmd)
		}
		if inv.cmd == "mirror add" {
			if inv, err = parseCommand(append(words[:len(words):len(words)], "--sample="+f.Sample)); err != nil {
				return invocation{}, err
			}
		}
	}
	if f.IPv6 {
		switch inv.cmd {
		case "fou add", "fou del":
			inv.fou.IPv6 = true
		case "fou show", "help":
		default:
			return invocation{}, usageErrorf("-6 applies to fou add, fou del and fou show only, not to %s", inv.cmd)
		}
	}
	return inv, nil
}

// plane is the part of *dataplane.Dataplane the commands use.
type plane interface {
	Close() error
	Attach(ifname string) (dataplane.Port, error)
	AttachGateway(ifname string) (dataplane.Port, error)
	Detach(ifname string) error
	Ports() ([]dataplane.Port, error)
	AddLink(s tunnel.Spec) (dataplane.Link, []string, error)
	DelLink(name string) error
	Links() ([]dataplane.Link, error)
	Stats() (dataplane.Stats, error)
	AddFOU(p tunnel.FOUPort) error
	DelFOU(p tunnel.FOUPort) error
	FOUPorts() ([]tunnel.FOUPort, error)
	AddFDB(e tunnel.FDBEntry) error
	DelFDB(e tunnel.FDBEntry) error
	FDB(dev string) ([]dataplane.FDBEntry, error)
	AddMirror(m tunnel.Mirror) error
	DelMirror(m tunnel.Mirror) error
	Mirrors(dev string) ([]dataplane.Mirror, error)
	// AddRoutes adds routes all at once or not at all; DelRoutes deletes
	// what it can. An error about one route says which with RouteIndex
	// (routeError), errors.Join'ed when there are several.
	AddRoutes(rs []tunnel.Route) error
	DelRoutes(rs []tunnel.Route) error
	Routes(dev string) ([]dataplane.Route, error)
}

// Seams for tests; the real program uses the dataplane and the real euid.
var (
	openDataplane = func(o dataplane.Options) (plane, error) {
		d, err := dataplane.Open(o)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	probeFeatures = dataplane.Features
	geteuid       = os.Geteuid
)

// execute runs a parsed command against the dataplane.
func execute(ctx context.Context, inv invocation, f *Flags, stdout, stderr io.Writer) (err error) {
	if inv.cmd == "features" {
		return writeFeatures(stdout, probeFeatures(), f.JSON)
	}
	if err := needsRoot(inv, geteuid()); err != nil {
		return err
	}
	if inv.cmd == "bench" {
		return runBench(ctx, inv, stdout, stderr)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dp, err := openPlane(f)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := dp.Close(); cerr != nil && err == nil {
			err = wrap("close "+f.BPFFS, cerr)
		}
	}()
	return executeOn(dp, inv, f, stdout, stderr)
}

// openPlane opens the dataplane the flags name.
func openPlane(f *Flags) (plane, error) {
	dp, err := openDataplane(f.options())
	if err != nil {
		return nil, rootHint(wrap("open "+f.BPFFS, err))
	}
	return dp, nil
}

// needsRoot is the error for a command that changes state, run by a user
// (euid) who is not root; nil for root or a command that only reads.
func needsRoot(inv invocation, euid int) error {
	if inv.mutates() && euid != 0 {
		return fmt.Errorf("%s needs root (CAP_NET_ADMIN, CAP_BPF); run it as root", inv.cmd)
	}
	return nil
}

// verboser returns the function that says what was done, with -v.
func verboser(f *Flags, stderr io.Writer) func(string, ...any) {
	return func(format string, args ...any) {
		if f.Verbose {
			fmt.Fprintf(stderr, "xtunnel: "+format+"\n", args...)
		}
	}
}

// executeOn runs a parsed command other than help and features against
// the open dataplane dp.
func executeOn(dp plane, inv invocation, f *Flags, stdout, stderr io.Writer) error {
	verbosef := verboser(f, stderr)
	switch strings.Fields(inv.cmd)[0] {
	case "fou":
		return executeFOU(dp, inv, f, stdout, verbosef)
	case "fdb":
		return executeFDB(dp, inv, f, stdout, verbosef)
	case "mirror":
		return executeMirror(dp, inv, f, stdout, verbosef)
	case "route":
		return executeRoute(dp, inv, f, stdout, verbosef)
	}

	switch inv.cmd {
	case "attach":
		attach := dp.Attach
		if inv.gateway {
			attach = dp.AttachGateway
		}
		port, err := attach(inv.name)
		if err != nil {
			return rootHint(wrap("attach "+inv.name, err))
		}
		for _, n := range port.Notes {
			fmt.Fprintf(stderr, "xtunnel: note: %s\n", n)
		}
		if f.JSON {
			return writeJSON(stdout, port)
		}
		fmt.Fprintf(stdout, "attached %s\n", formatPort(port))
		return nil
	case "detach":
		if err := dp.Detach(inv.name); err != nil {
			return rootHint(wrap("detach "+inv.name, err))
		}
		verbosef("detached %s", inv.name)
		return nil
	case "link add":
		l, warnings, err := dp.AddLink(inv.spec)
		for _, w := range warnings {
			fmt.Fprintf(stderr, "xtunnel: note: %s\n", w)
		}
		if err != nil {
			return rootHint(wrap("link add "+inv.spec.Name, err))
		}
		verbosef("added %s", formatLink(l))
		if f.JSON {
			return writeJSON(stdout, linkOut(l))
		}
		return nil
	case "link del":
		if err := dp.DelLink(inv.name); err != nil {
			return rootHint(wrap("link del "+inv.name, err))
		}
		verbosef("deleted %s", inv.name)
		return nil
	case "link show":
		links, err := dp.Links()
		if err != nil {
			return rootHint(wrap("link show", err))
		}
		var ports []dataplane.Port
		if inv.name != "" {
			if links = linksNamed(links, inv.name); len(links) == 0 {
				return fmt.Errorf("no tunnel named %q; xtunnel link show lists them", inv.name)
			}
		} else if ports, err = dp.Ports(); err != nil {
			return rootHint(wrap("link show", err))
		}
		if f.JSON {
			return writeLinksJSON(stdout, links, ports, inv.name == "")
		}
		return writeLinks(stdout, links, ports, f.Verbose)
	case "stats":
		st, err := dp.Stats()
		if err != nil {
			return rootHint(wrap("stats", err))
		}
		if _, ok := st.Tunnels[inv.name]; inv.name != "" && !ok {
			return fmt.Errorf("no tunnel named %q; xtunnel link show lists them", inv.name)
		}
		if f.JSON {
			return writeStatsJSON(stdout, st, inv.name)
		}
		return writeStats(stdout, st, inv.name)
	}
	return fmt.Errorf("internal error: no handler for %q", inv.cmd)
}

// executeFOU runs fou add, fou del and fou show.
func executeFOU(fp plane, inv invocation, f *Flags, stdout io.Writer, verbosef func(string, ...any)) error {
	switch inv.cmd {
	case "fou add":
		if err := fp.AddFOU(inv.fou); err != nil {
			return rootHint(wrap("fou add "+inv.fou.String(), err))
		}
		verbosef("added fou %s", inv.fou)
		if f.JSON {
			return writeJSON(stdout, fouOut(inv.fou))
		}
		return nil
	case "fou del":
		if err := fp.DelFOU(inv.fou); err != nil {
			return rootHint(wrap("fou del "+fouName(inv.fou), err))
		}
		verbosef("deleted fou %s", fouName(inv.fou))
		return nil
	case "fou show":
		ports, err := fp.FOUPorts()
		if err != nil {
			return rootHint(wrap("fou show", err))
		}
		if f.IPv6 {
			ports = fouIPv6(ports)
		}
		if f.JSON {
			return writeFOUJSON(stdout, ports)
		}
		return writeFOU(stdout, ports)
	}
	return fmt.Errorf("internal error: no handler for %q", inv.cmd)
}

// executeFDB runs fdb add, fdb del and fdb show.
func executeFDB(fp plane, inv invocation, f *Flags, stdout io.Writer, verbosef func(string, ...any)) error {
	e := inv.fdb
	switch inv.cmd {
	case "fdb add":
		if err := fp.AddFDB(e); err != nil {
			return rootHint(wrapCmd("fdb add", e.String(), err))
		}
		verbosef("added fdb %s", e)
		if f.JSON {
			return writeJSON(stdout, dataplane.FDBEntry{Dev: e.Dev, MAC: e.MAC.String(), Dst: e.Dst})
		}
		return nil
	case "fdb del":
		if err := fp.DelFDB(e); err != nil {
			return rootHint(wrapCmd("fdb del", e.String(), err))
		}
		verbosef("deleted fdb %s", e)
		return nil
	case "fdb show":
		entries, err := fp.FDB(inv.name)
		if err != nil {
			return rootHint(wrap("fdb show", err))
		}
		if f.JSON {
			return writeJSON(stdout, sortedFDB(entries))
		}
		return writeFDB(stdout, entries)
	}
	return fmt.Errorf("internal error: no handler for %q", inv.cmd)
}

// executeMirror runs mirror add, mirror del and mirror show.
func executeMirror(fp plane, inv invocation, f *Flags, stdout io.Writer, verbosef func(string, ...any)) error {
	m := inv.mirror
	switch inv.cmd {
	case "mirror add":
		if err := fp.AddMirror(m); err != nil {
			return rootHint(wrapCmd("mirror add", m.String(), err))
		}
		verbosef("added mirror %s", m)
		if f.JSON {
			return writeJSON(stdout, mirrorsOf(m))
		}
		return nil
	case "mirror del":
		what := "dev " + m.Dev + " " + m.Direction()
		if err := fp.DelMirror(m); err != nil {
			return rootHint(wrapCmd("mirror del", what, err))
		}
		verbosef("deleted mirror %s", what)
		return nil
	case "mirror show":
		ms, err := fp.Mirrors(inv.name)
		if err != nil {
			return rootHint(wrap("mirror show", err))
		}
		if f.JSON {
			return writeJSON(stdout, sortedMirrors(ms))
		}
		return writeMirrors(stdout, ms)
	}
	return fmt.Errorf("internal error: no handler for %q", inv.cmd)
}

// executeRoute runs route add, route del and route show. A route add or
// del is a batch of one route.
func executeRoute(fp plane, inv invocation, f *Flags, stdout io.Writer, verbosef func(string, ...any)) error {
	r := inv.route
	switch inv.cmd {
	case "route add":
		if err := fp.AddRoutes([]tunnel.Route{r}); err != nil {
			return rootHint(wrapCmd("route add", r.String(), err))
		}
		verbosef("added route %s", r)
		return nil
	case "route del":
		if err := fp.DelRoutes([]tunnel.Route{r}); err != nil {
			return rootHint(wrapCmd("route del", r.String(), err))
		}
		verbosef("deleted route %s", r)
		return nil
	case "route show":
		rs, err := fp.Routes(inv.name)
		if err != nil {
			return rootHint(wrap("route show", err))
		}
		if f.JSON {
			return writeJSON(stdout, sortedRoutes(rs))
		}
		return writeRoutes(stdout, rs)
	}
	return fmt.Errorf("internal error: no handler for %q", inv.cmd)
}

func linksNamed(links []dataplane.Link, name string) []dataplane.Link {
	var out []dataplane.Link
	for _, l := range links {
		if l.Name == name {
			out = append(out, l)
		}
	}
	return out
}

// wrap prefixes err with what was being done, unless its message already
// starts that way (the dataplane's errors usually name their subject).
func wrap(what string, err error) error {
	if strings.HasPrefix(err.Error(), what) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// wrapCmd prefixes err with the command and its subject ("fdb add
// 52:54:00:12:34:56 dst 198.51.100.2 dev vx0: ..."), unless its message
// already starts with the command: the dataplane's errors name theirs.
func wrapCmd(cmd, subject string, err error) error {
	if strings.HasPrefix(err.Error(), cmd) {
		return err
	}
	return fmt.Errorf("%s %s: %w", cmd, subject, err)
}

// rootHint adds the likely fix to a permission error of a non-root user.
func rootHint(err error) error {
	if geteuid() != 0 && errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w; run it as root", err)
	}
	return err
}

// runBench runs the performance lab (package bench): one table on stdout,
// bench-results.json and bench-results.png in the current directory.
func runBench(ctx context.Context, inv invocation, stdout, stderr io.Writer) error {
	opts := bench.DefaultOptions()
	opts.Context = ctx
	if len(inv.sections) > 0 {
		opts.Sections = inv.sections
	}
	if exe, err := os.Executable(); err == nil {
		opts.Xtunnel = exe
	}
	opts.JSON, opts.PNG = "bench-results.json", "bench-results.png"
	opts.Progress = stderr
	if _, err := bench.Run(stdout, opts); err != nil {
		return wrap("bench", err)
	}
	fmt.Fprintf(stderr, "xtunnel: wrote %s and %s\n", opts.JSON, opts.PNG)
	return nil
}
