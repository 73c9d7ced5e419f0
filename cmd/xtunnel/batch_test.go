package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// The dataplane's route errors say which route they are about.
var _ routeError = (*maps.RouteError)(nil)

// testRouteError is a routeError as the dataplane returns one.
type testRouteError struct {
	index int
	msg   string
}

func (e *testRouteError) Error() string   { return e.msg }
func (e *testRouteError) RouteIndex() int { return e.index }

// refuse answers AddRoutes as the dataplane does, all or nothing: the
// first route whose prefix is in bad fails the call; DelRoutes deletes
// the others and reports each bad one.
func refuse(bad ...string) func(bool, []tunnel.Route) error {
	isBad := map[string]bool{}
	for _, b := range bad {
		isBad[b] = true
	}
	return func(add bool, rs []tunnel.Route) error {
		var errs []error
		for i, r := range rs {
			if !isBad[r.Prefix.String()] {
				continue
			}
			if add {
				return fmt.Errorf("wrapped: %w", &testRouteError{i, "route " + r.Prefix.String() + " exists"})
			}
			errs = append(errs, &testRouteError{i, "no such route"})
		}
		return errors.Join(errs...)
	}
}

const (
	r1 = "route add 10.0.0.1 encap ip dst 198.51.100.7 dev xgre"
	r2 = "route add 10.0.0.2 encap ip id 42 dst 198.51.100.8 ttl 64 dev xgre"
	r3 = "route add 10.0.0.3 dev gre1"
	// what the fake records for them
	c1 = "10.0.0.1 encap ip dst 198.51.100.7 dev xgre"
	c2 = "10.0.0.2 encap ip id 42 dst 198.51.100.8 ttl 64 dev xgre"
	c3 = "10.0.0.3 dev gre1"
)

func TestRunBatch(t *testing.T) {
	tests := []struct {
		name   string
		file   string // "" with stdin: no file argument
		stdin  string
		args   string // before -batch FILE
		after  string // after -batch FILE
		plane  fakePlane
		euid   int
		code   int
		stdout string // substring; "" means empty
		stderr string // the whole of it
		calls  string
		opens  int
	}{
		{name: "consecutive route adds are one call",
			file: "# routes of the lab\n" +
				"link add xgre type gre external\n" +
				r1 + "\n" + r2 + "\n\n   # a comment between them\n" + r3 + " # and after one\n" +
				"route del 10.0.0.9\nroute delete 10.0.0.8 dev xgre\n" +
				"route add 10.0.0.4 dev gre1\nfdb show\n",
			calls: "add name xgre type gre external,routes add " + c1 + "; " + c2 + "; " + c3 +
				",routes del 10.0.0.9; 10.0.0.8 dev xgre,routes add 10.0.0.4 dev gre1,fdb ,close",
			opens: 1},
		{name: "empty file opens nothing", file: "\n# nothing\n\n", calls: ""},
		{name: "stdin", file: "-", stdin: r1 + "\n" + r3 + "\n", calls: "routes add " + c1 + "; " + c3 + ",close", opens: 1},
		{name: "line continuation", file: "route add 10.0.0.1 \\\n  encap ip dst 198.51.100.7 \\\n  dev xgre\n" + r3 + "\n",
			calls: "routes add " + c1 + "; " + c3 + ",close", opens: 1},
		{name: "quotes", file: `link "show" 'gre1'` + "\n", calls: "links,close", opens: 1, code: 1,
			stderr: "xtunnel: batch FILE:1: no tunnel named \"gre1\"; xtunnel link show lists them\n"},
		{name: "global flags apply to every line", args: "--json -v", file: "route show dev xgre\n" + r1 + "\n" + r3 + "\n",
			plane:  fakePlane{routes: []dataplane.Route{{Route: tunnel.Route{Prefix: netip4("10.9.0.0/16"), Dev: "xgre"}, Kernel: true}}},
			stdout: `"prefix": "10.9.0.0/16"`, stderr: "xtunnel: added 2 routes (lines 2-3)\n",
			calls: "routes xgre,routes add " + c1 + "; " + c3 + ",close", opens: 1},
		{name: "verbose one route", args: "-v", file: r1 + "\nroute del 10.0.0.1\n",
			stderr: "xtunnel: added route " + c1 + "\nxtunnel: deleted route 10.0.0.1\n",
			calls:  "routes add " + c1 + ",routes del 10.0.0.1,close", opens: 1},
		{name: "-6 applies to fou lines", args: "-6", file: "fou add port 5555 gue\nfou del port 5555\n",
			calls: "fou add port 5555 gue -6,fou del port 5555 -6,close", opens: 1},
		{name: "-6 refused for other lines", args: "-6", file: "fou show\n" + r1 + "\n",
			code: 2, stderr: "xtunnel: batch FILE:2: -6 applies to fou add, fou del and fou show only, not to route add\n",
			calls: "fou ports,close", opens: 1},
		{name: "fou lines may say -6", file: "fou add port 5555 gue -6\n", calls: "fou add port 5555 gue -6,close", opens: 1},
		{name: "a flag in a line", file: r1 + "\nlink show --json\n" + r3 + "\n",
			code: 2, stderr: "xtunnel: batch FILE:2: flag \"--json\" in a batch line: give options on the command line, with -batch; they apply to every line\n",
			calls: "routes add " + c1 + ",close", opens: 1},
		{name: "-6 in a route line", file: r1 + " -6\n", code: 2, stderr: "xtunnel: batch FILE:1: flag \"-6\" in a batch line",
			calls: ""},
		{name: "a negative number is the grammar's", file: "link add t mtu -1 type gre\n", code: 2,
			stderr: "xtunnel: batch FILE:1: bad mtu \"-1\"", calls: ""},
		{name: "a bad line stops after the lines before it ran", file: r1 + "\n" + r2 + "\nroute add 10.0.0.5/8 dev gre1\n" + r3 + "\n",
			code: 2, stderr: "xtunnel: batch FILE:3: bad prefix \"10.0.0.5/8\": invalid prefix for given prefix length: host bits 0.0.0.5 are set; write 10.0.0.0/8\n",
			calls: "routes add " + c1 + "; " + c2 + ",close", opens: 1},
		{name: "unterminated quote", file: "\n" + r1 + "\nlink show \"gre1\n", code: 2,
			stderr: "xtunnel: batch FILE:3: unterminated double quote: the \" at column 11 has no closing \"\n",
			calls:  "routes add " + c1 + ",close", opens: 1},
		{name: "the failing route's line", file: r1 + "\n" + r2 + "\n" + r3 + "\n",
			plane: fakePlane{routeErr: refuse("10.0.0.2/32")},
			code:  1, stderr: "xtunnel: batch FILE:2: route add " + c2 + ": wrapped: route 10.0.0.2/32 exists\n",
			// the line before it is added, as if each line ran alone
			calls: "routes add " + c1 + "; " + c2 + "; " + c3 + ",routes add " + c1 + ",close", opens: 1},
		{name: "the first route refused", file: r1 + "\n" + r2 + "\n" + r3 + "\n",
			plane: fakePlane{routeErr: refuse("10.0.0.1/32", "10.0.0.2/32")},
			code:  1, stderr: "xtunnel: batch FILE:1: route add " + c1 + ": wrapped: route 10.0.0.1/32 exists\n",
			calls: "routes add " + c1 + "; " + c2 + "; " + c3 + ",close", opens: 1},
		{name: "the lines before the refused one are refused too", file: r1 + "\n" + r2 + "\n" + r3 + "\n",
			plane: fakePlane{routeErr: func(add bool, rs []tunnel.Route) error {
				if len(rs) == 3 {
					return &testRouteError{2, "map full"}
				}
				return &testRouteError{0, "exists"}
			}},
			code: 1, stderr: "xtunnel: batch FILE:1: route add " + c1 + ": exists\n",
			calls: "routes add " + c1 + "; " + c2 + "; " + c3 + ",routes add " + c1 + "; " + c2 + ",close", opens: 1},
		{name: "force goes on without the refused routes", after: "-force",
			file:  r1 + "\n" + r2 + "\n" + r3 + "\nroute add 10.0.0.4 dev gre1\nroute add 10.0.0.300 dev gre1\nlink del gre9\n",
			plane: fakePlane{routeErr: refuse("10.0.0.2/32", "10.0.0.4/32")},
			code:  1,
			stderr: "xtunnel: batch FILE:2: route add " + c2 + ": wrapped: route 10.0.0.2/32 exists\n" +
				"xtunnel: batch FILE:4: route add 10.0.0.4 dev gre1: wrapped: route 10.0.0.4/32 exists\n" +
				"xtunnel: batch FILE:5: bad prefix \"10.0.0.300\"",
			calls: "routes add " + c1 + "; " + c2 + "; " + c3 + "; 10.0.0.4 dev gre1" +
				",routes add " + c1 + "; " + c3 + "; 10.0.0.4 dev gre1" +
				",routes add " + c1 + "; " + c3 + ",del gre9,close",
			opens: 1},
		{name: "force summary", args: "--force", file: "route add 10.0.0.300 dev gre1\n" + r1 + "\nlink show x/y\n",
			code: 1, stderr: "xtunnel: batch FILE:1: bad prefix \"10.0.0.300\": want an IPv4 or IPv6 prefix like 10.1.0.0/16 or 2001:db8::/32, an address alone, or default\n" +
				"xtunnel: batch FILE:3: bad name \"x/y\": a netdev name cannot contain '/'\n" +
				"xtunnel: batch FILE: 2 of 3 commands failed\n",
			calls: "routes add " + c1 + ",close", opens: 1},
		{name: "route dels report each refused one", after: "-force",
			file:  "route del 10.0.0.1\nroute del 10.0.0.2\nroute del 10.0.0.3\n",
			plane: fakePlane{routeErr: refuse("10.0.0.1/32", "10.0.0.3/32")},
			code:  1, stderr: "xtunnel: batch FILE:1: route del 10.0.0.1: no such route\n" +
				"xtunnel: batch FILE:3: route del 10.0.0.3: no such route\n" +
				"xtunnel: batch FILE: 2 of 3 commands failed\n",
			calls: "routes del 10.0.0.1; 10.0.0.2; 10.0.0.3,close", opens: 1},
		{name: "route dels stop at the first without force",
			file:  "route del 10.0.0.1\nroute del 10.0.0.2\nroute del 10.0.0.3\nlink show\n",
			plane: fakePlane{routeErr: refuse("10.0.0.2/32", "10.0.0.3/32")},
			code:  1, stderr: "xtunnel: batch FILE:2: route del 10.0.0.2: no such route\n",
			calls: "routes del 10.0.0.1; 10.0.0.2; 10.0.0.3,close", opens: 1},
		{name: "an error about the whole batch", file: "\n" + r1 + "\n" + r2 + "\n" + r3 + "\n",
			plane: fakePlane{err: errors.New("xtunnel is not attached")},
			code:  1, stderr: "xtunnel: batch FILE:2-4: route add (3 routes): xtunnel is not attached\n",
			calls: "routes add " + c1 + "; " + c2 + "; " + c3 + ",close", opens: 1},
		{name: "an error about the whole batch of one", file: r1 + "\n",
			plane: fakePlane{err: errors.New("route add: xtunnel is not attached")},
			code:  1, stderr: "xtunnel: batch FILE:1: route add: xtunnel is not attached\n",
			calls: "routes add " + c1 + ",close", opens: 1},
		{name: "the whole batch with force", after: "-force", file: r1 + "\n" + r2 + "\n",
			plane: fakePlane{err: errors.New("not attached")},
			code:  1, stderr: "xtunnel: batch FILE:1-2: route add (2 routes): not attached\nxtunnel: batch FILE: 2 of 2 commands failed\n",
			calls: "routes add " + c1 + "; " + c2 + ",close", opens: 1},
		{name: "other commands keep their messages", file: "link del gre1\n", plane: fakePlane{err: errors.New("no such link")},
			code: 1, stderr: "xtunnel: batch FILE:1: link del gre1: no such link\n", calls: "del gre1,close", opens: 1},
		{name: "not root", euid: 1000, file: "route show\n" + r1 + "\n", code: 1,
			stderr: "xtunnel: batch FILE:2: route add needs root (CAP_NET_ADMIN, CAP_BPF); run it as root\n",
			calls:  "routes ,close", opens: 1},
		{name: "help and features open nothing", file: "help route\nfeatures\n",
			stdout: "Usage: xtunnel route add PREFIX dev NAME", calls: ""},
		{name: "a continuation at the end", file: r1 + "\n" + r3 + " \\\n", code: 1,
			stderr: "xtunnel: batch FILE:2: line 2 ends with a backslash, but no line follows it\n",
			calls:  "routes add " + c1 + ",close", opens: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.plane
			withFake(t, &p, tt.euid)
			opens := 0
			open := openDataplane
			openDataplane = func(o dataplane.Options) (plane, error) { opens++; return open(o) }
			name := tt.file
			if name != "-" {
				name = filepath.Join(t.TempDir(), "batch")
				if err := os.WriteFile(name, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			oldStdin := stdin
			t.Cleanup(func() { stdin = oldStdin })
			stdin = strings.NewReader(tt.stdin)

			stdout, stderr, code := runArgs(strings.TrimSpace(tt.args + " -batch " + name + " " + tt.after))
			stderr = strings.ReplaceAll(stderr, name, "FILE")
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) || (tt.stdout == "" && stdout != "") {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if !strings.HasPrefix(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Errorf("stderr\n got %q\nwant %q", stderr, tt.stderr)
			}
			if got := strings.Join(p.calls, ","); got != tt.calls {
				t.Errorf("calls\n got %q\nwant %q", got, tt.calls)
			}
			if opens != tt.opens {
				t.Errorf("the dataplane was opened %d times, want %d", opens, tt.opens)
			}
		})
	}
}

func netip4(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestRunBatchErrors(t *testing.T) {
	withFake(t, nil, 0)
	tests := []struct {
		args string
		code int
		want string
	}{
		{"-batch /nonexistent/batch", 1, "xtunnel: batch: open /nonexistent/batch: no such file or directory\n"},
		{"-batch /dev/null link show", 2, "xtunnel: unexpected word \"link\": with -batch the commands come from /dev/null, one a line\n"},
		{"link show -force", 2, "xtunnel: --force applies to --batch only: xtunnel -batch FILE -force\n"},
		{"--batch=", 2, "xtunnel: --batch needs a file name: -batch FILE, or -batch - for stdin\n"},
		{"-batch", 2, "xtunnel: flag needs an argument: --batch; try: xtunnel help\n"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runArgs(tt.args)
		if code != tt.code || !strings.HasPrefix(stderr, tt.want) || stdout != "" {
			t.Errorf("run(%q) = %d, %q, %q; want %d, %q", tt.args, code, stdout, stderr, tt.code, tt.want)
		}
	}
}

func TestRunBatchOpenFails(t *testing.T) {
	withFake(t, nil, 0)
	openDataplane = func(dataplane.Options) (plane, error) { return nil, errors.New("not a BPF filesystem") }
	name := filepath.Join(t.TempDir(), "b")
	if err := os.WriteFile(name, []byte("link show\nlink show\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Even with -force: no line can get past it.
	_, stderr, code := runArgs("-force -batch " + name)
	if want := "xtunnel: batch " + name + ":1: open /sys/fs/bpf/xtunnel: not a BPF filesystem\n"; code != 1 || stderr != want {
		t.Fatalf("run = %d, %q; want 1, %q", code, stderr, want)
	}
}

func TestRunBatchCancelled(t *testing.T) {
	withFake(t, &fakePlane{}, 0)
	name := filepath.Join(t.TempDir(), "b")
	if err := os.WriteFile(name, []byte(r1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"-batch", name}, &out, &errb); !errors.Is(err, context.Canceled) {
		t.Fatalf("run with a cancelled context = %v", err)
	}
}

// TestRunBatchMany checks that a large file goes to the dataplane as one
// call, and that a refused route is reported with its line.
func TestRunBatchMany(t *testing.T) {
	const n = 20000
	var file strings.Builder
	file.WriteString("link add xgre type gre external\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&file, "route add 10.%d.%d.0/24 encap ip id %d dst 198.51.100.7 dev xgre\n", i/256, i%256, i)
	}
	name := filepath.Join(t.TempDir(), "b")
	if err := os.WriteFile(name, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var got [][]tunnel.Route
	p := &fakePlane{routeErr: func(add bool, rs []tunnel.Route) error {
		got = append(got, rs)
		for i, r := range rs {
			if r.Encap.Key == 12345 {
				return &testRouteError{i, "refused"}
			}
		}
		return nil
	}}
	withFake(t, p, 0)
	_, stderr, code := runArgs("-batch " + name)
	if want := fmt.Sprintf("xtunnel: batch %s:%d: route add 10.48.57.0/24 encap ip id 12345 dst 198.51.100.7 dev xgre: refused\n", name, 12345+2); code != 1 || stderr != want {
		t.Fatalf("run = %d, %q; want 1, %q", code, stderr, want)
	}
	// One call with all of them, and one with those before the refused one.
	if len(got) != 2 || len(got[0]) != n || len(got[1]) != 12345 {
		t.Fatalf("AddRoutes calls: %d, want one of %d routes and one of 12345", len(got), n)
	}
	if got[0][0].Dev != "xgre" || got[0][n-1].Prefix.String() != fmt.Sprintf("10.%d.%d.0/24", (n-1)/256, (n-1)%256) {
		t.Fatalf("routes %s ... %s", got[0][0], got[0][n-1])
	}
}

func TestLineFlag(t *testing.T) {
	for in, want := range map[string]string{
		"link show":                  "",
		"link show --json":           "--json",
		"link show -j":               "-j",
		"route add 10.0.0.0/8 -6":    "-6",
		"fou add port 5555 gue -6":   "",
		"fo del port 5555 -6":        "",
		"fou add port 5555 gue -4":   "",
		"fou show --json":            "--json",
		"link add t mtu -1 type gre": "",
		"link show -":                "",
		"link show --":               "--",
		"link show -batch":           "-batch",
	} {
		if got := lineFlag(strings.Fields(in)); got != want {
			t.Errorf("lineFlag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRouteErrors(t *testing.T) {
	a, b, c := &testRouteError{2, "a"}, &testRouteError{0, "b"}, &testRouteError{9, "out of range"}
	wb := fmt.Errorf("w: %w", b)
	err := fmt.Errorf("outer: %w", errors.Join(a, errors.New("plain"), wb, c, a))
	got := routeErrors(err, 3)
	if len(got) != 2 || got[0].index != 0 || got[0].err != wb || got[1].index != 2 || got[1].err != a {
		t.Fatalf("routeErrors = %+v", got)
	}
	// Wrapped alone, it keeps its wrapping.
	if got := routeErrors(wb, 3); len(got) != 1 || got[0].err != wb {
		t.Fatalf("routeErrors(wrapped) = %+v", got)
	}
	if got := routeErrors(errors.New("plain"), 3); len(got) != 0 {
		t.Fatalf("routeErrors(plain) = %+v", got)
	}
}

// countingPlane takes route batches and only counts them.
type countingPlane struct {
	fakePlane
	routes int
}

func (c *countingPlane) AddRoutes(rs []tunnel.Route) error { c.routes += len(rs); return nil }

// BenchmarkBatchRouteAdd is the cost of one route add line of a batch
// file, from reading it to handing it to the dataplane.
func BenchmarkBatchRouteAdd(b *testing.B) {
	const n = 100000
	var file strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&file, "route add 10.%d.%d.%d encap ip id %d dst 198.51.100.7 dev xgre\n", i>>16, (i>>8)&255, i&255, i)
	}
	name := filepath.Join(b.TempDir(), "b")
	if err := os.WriteFile(name, []byte(file.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	c := &countingPlane{}
	oldOpen, oldEuid := openDataplane, geteuid
	b.Cleanup(func() { openDataplane, geteuid = oldOpen, oldEuid })
	openDataplane = func(dataplane.Options) (plane, error) { return c, nil }
	geteuid = func() int { return 0 }
	b.ReportAllocs()
	for b.Loop() {
		if _, stderr, code := runArgs("-batch " + name); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(c.routes), "ns/route")
}
