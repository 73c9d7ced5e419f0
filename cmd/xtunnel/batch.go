package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/xtunnel/xtunnel/tunnel"
)

// stdin is what -batch - reads; a seam for tests.
var stdin io.Reader = os.Stdin

// routeError is an error about one route of an AddRoutes or DelRoutes
// batch: RouteIndex is its index in the slice.
type routeError interface {
	error
	RouteIndex() int
}

// batch runs the commands of a batch file (-batch FILE) against one
// dataplane, opened by the first command that needs it.
type batch struct {
	ctx    context.Context
	name   string // FILE as given, for messages
	f      *Flags
	fset   *pflag.FlagSet
	stdout io.Writer
	stderr io.Writer
	dp     plane
	euid   int // asked once: a million lines are a million syscalls

	commands, failed int

	// The consecutive route add (or route del) lines not yet applied,
	// with their line numbers, in chunks: a slice grown by append to a
	// million routes would copy them over and over.
	routeCmd string
	routes   [][]tunnel.Route
	lines    [][]int
	queued   int
	devs     map[string]string // the routes' dev names, one string each
}

// routeChunk is the number of routes in each chunk of the queue.
const routeChunk = 1 << 14

// runBatch runs the commands in f.Batch, one a line, with the flags of
// the command line. It stops at the first failing line unless f.Force.
func runBatch(ctx context.Context, f *Flags, fset *pflag.FlagSet, stdout, stderr io.Writer) (err error) {
	in := stdin
	if f.Batch != "-" {
		file, err := os.Open(f.Batch)
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		defer file.Close()
		in = file
	}
	b := &batch{ctx: ctx, name: f.Batch, f: f, fset: fset, stdout: stdout, stderr: stderr, euid: geteuid(), devs: map[string]string{}}
	defer func() {
		if b.dp == nil {
			return
		}
		if cerr := b.dp.Close(); cerr != nil && err == nil {
			err = wrap("close "+f.BPFFS, cerr)
		}
	}()
	if err := b.run(tunnel.NewBatchReader(in)); err != nil {
		return err
	}
	if b.failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("batch %s: %d of %d commands failed", b.name, b.failed, b.commands)}
	}
	return nil
}

// run reads and runs every line. It returns the error that stops the
// batch: a failing line's without -force, or one that no line can get
// past (reading the file, opening the dataplane, an interrupt).
func (b *batch) run(br *tunnel.BatchReader) error {
	for {
		n, text, err := br.Next()
		if err == io.EOF {
			return b.flush()
		}
		if err != nil {
			if ferr := b.flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("batch %s:%d: %w", b.name, n, err)
		}
		if err := b.ctx.Err(); err != nil {
			return fmt.Errorf("batch %s:%d: %w", b.name, n, err)
		}
		words, err := tunnel.SplitBatchLine(text)
		if err == nil && len(words) == 0 {
			continue // blank or a comment
		}
		b.commands++
		if err == nil {
			err = b.line(n, words)
		} else {
			err = b.flushFail(n, usage(err))
		}
		if err != nil {
			return err
		}
	}
}

// line runs the command on line n, or queues it when it is a route add
// or del that may go with its neighbours.
func (b *batch) line(n int, words []string) error {
	if w := lineFlag(words); w != "" {
		return b.flushFail(n, usageErrorf("flag %q in a batch line: give options on the command line, with -batch; they apply to every line", w))
	}
	inv, err := parseCommand(words)
	if err == nil {
		inv, err = applyFlags(inv, words, b.f, b.fset)
	}
	if err == nil {
		err = needsRoot(inv, b.euid)
	}
	if err != nil {
		return b.flushFail(n, err)
	}
	if inv.cmd == "route add" || inv.cmd == "route del" {
		if inv.cmd != b.routeCmd {
			if err := b.flush(); err != nil {
				return err
			}
		}
		b.queue(n, inv)
		return nil
	}
	if err := b.flush(); err != nil {
		return err
	}
	switch inv.cmd {
	case "help":
		return b.fail(n, writeHelp(b.stdout, inv.topic, b.fset))
	case "features":
		return b.fail(n, writeFeatures(b.stdout, probeFeatures(), b.f.JSON))
	}
	if err := b.open(n); err != nil {
		return err
	}
	return b.fail(n, executeOn(b.dp, inv, b.f, b.stdout, b.stderr))
}

// lineFlag returns the first word of a batch line that is an option, or
// "". fou lines may say -6 (and -4), as with ip fou; a negative number
// is left to the grammar to refuse.
func lineFlag(words []string) string {
	cmd, _ := resolve(words[0], topWords)
	for _, w := range words {
		switch {
		case len(w) < 2 || w[0] != '-':
		case cmd == "fou" && (w == "-6" || w == "-4"):
		case w != "-6" && strings.Trim(w[1:], "0123456789") == "":
		default:
			return w
		}
	}
	return ""
}

// queue adds a route add or del to the routes not yet applied.
func (b *batch) queue(n int, inv invocation) {
	r := inv.route
	// One string per dev name, rather than one per line that keeps its
	// whole line alive.
	if d, ok := b.devs[r.Dev]; ok {
		r.Dev = d
	} else {
		r.Dev = strings.Clone(r.Dev)
		b.devs[r.Dev] = r.Dev
	}
	b.routeCmd = inv.cmd
	if b.queued%routeChunk == 0 {
		b.routes = append(b.routes, make([]tunnel.Route, 0, routeChunk))
		b.lines = append(b.lines, make([]int, 0, routeChunk))
	}
	last := len(b.routes) - 1
	b.routes[last] = append(b.routes[last], r)
	b.lines[last] = append(b.lines[last], n)
	b.queued++
}

// takeQueue empties the queue, returning its routes and lines.
func (b *batch) takeQueue() (string, []tunnel.Route, []int) {
	cmd := b.routeCmd
	rs, lines := make([]tunnel.Route, 0, b.queued), make([]int, 0, b.queued)
	for i := range b.routes {
		rs, lines = append(rs, b.routes[i]...), append(lines, b.lines[i]...)
	}
	b.routeCmd, b.routes, b.lines, b.queued = "", nil, nil, 0
	return cmd, rs, lines
}

// open opens the dataplane for the command on line n, once.
func (b *batch) open(n int) error {
	if b.dp != nil {
		return nil
	}
	dp, err := openPlane(b.f)
	if err != nil {
		return fmt.Errorf("batch %s:%d: %w", b.name, n, err)
	}
	b.dp = dp
	return nil
}

// fail reports that the command at where (a line, or a range of lines)
// failed with err: with -force on stderr, returning nil; else it returns
// the error that stops the batch. A nil err is success.
func (b *batch) fail(where any, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("batch %s:%v: %w", b.name, where, err)
	if !b.f.Force {
		return err
	}
	b.failed++
	report(err, b.stderr)
	return nil
}

// flushFail applies the queued routes, then fails line n with err: the
// lines before n run before it fails, as they would one by one.
func (b *batch) flushFail(n int, err error) error {
	if ferr := b.flush(); ferr != nil {
		return ferr
	}
	return b.fail(n, err)
}

// failedRoute is one route of a batch that the dataplane refused.
type failedRoute struct {
	index int
	err   error
}

// routeErrors finds the routeErrors in err (errors.Join'ed, or wrapped)
// whose index is one of n routes, in index order. Each comes with the
// message that wraps it, up to the errors.Join it is in.
func routeErrors(err error, n int) []failedRoute {
	var out []failedRoute
	seen := map[int]bool{}
	var walk func(e, msg error)
	walk = func(e, msg error) {
		if re, ok := e.(routeError); ok {
			if i := re.RouteIndex(); i >= 0 && i < n && !seen[i] {
				seen[i] = true
				out = append(out, failedRoute{i, msg})
			}
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x, x)
			}
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x, msg)
			}
		}
	}
	walk(err, err)
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

// flush applies the queued routes in one AddRoutes or DelRoutes call. A
// refused route fails its own line. AddRoutes adds all or none, so the
// batch is tried again: with -force without the refused routes, else
// with the routes before the first refused one, which then stops the
// batch, as if each line had run alone. DelRoutes deletes what it can.
func (b *batch) flush() error {
	if b.queued == 0 {
		return nil
	}
	cmd, rs, lines := b.takeQueue()
	if err := b.open(lines[0]); err != nil {
		return err
	}
	apply, done := b.dp.AddRoutes, "added"
	if cmd == "route del" {
		apply, done = b.dp.DelRoutes, "deleted"
	}
	verbosef := verboser(b.f, b.stderr)
	var stop error // without -force: the first refused line's
	for len(rs) > 0 {
		err := apply(rs)
		if err == nil {
			if len(rs) == 1 {
				verbosef("%s route %s", done, rs[0])
			} else {
				verbosef("%s %d routes (lines %d-%d)", done, len(rs), lines[0], lines[len(lines)-1])
			}
			break
		}
		failed := routeErrors(err, len(rs))
		if len(failed) == 0 {
			// Not about one route: every line of the batch failed.
			if len(rs) == 1 {
				return b.fail(lines[0], rootHint(wrapCmd(cmd, rs[0].String(), err)))
			}
			b.failed += len(rs) - 1
			what := fmt.Sprintf("(%d routes)", len(rs))
			return b.fail(fmt.Sprintf("%d-%d", lines[0], lines[len(lines)-1]), rootHint(wrapCmd(cmd, what, err)))
		}
		if !b.f.Force {
			fr := failed[0]
			stop = b.fail(lines[fr.index], rootHint(wrapCmd(cmd, rs[fr.index].String(), fr.err)))
			if cmd == "route del" {
				break
			}
			rs, lines = rs[:fr.index], lines[:fr.index]
			continue
		}
		for _, fr := range failed {
			b.fail(lines[fr.index], rootHint(wrapCmd(cmd, rs[fr.index].String(), fr.err)))
		}
		if cmd == "route del" {
			break
		}
		rs, lines = without(rs, lines, failed)
	}
	return stop
}

// without is rs and lines without the failed routes.
func without(rs []tunnel.Route, lines []int, failed []failedRoute) ([]tunnel.Route, []int) {
	keepR := make([]tunnel.Route, 0, len(rs)-len(failed))
	keepL := make([]int, 0, len(rs)-len(failed))
	next := 0
	for i := range rs {
		if next < len(failed) && failed[next].index == i {
			next++
			continue
		}
		keepR = append(keepR, rs[i])
		keepL = append(keepL, lines[i])
	}
	return keepR, keepL
}
