package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/tunnel"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		w     string
		table []alias
		want  string
		amb   []string
	}{
		{"link", topWords, "link", nil},
		{"l", topWords, "link", nil},
		{"li", topWords, "link", nil},
		{"a", topWords, "attach", nil},
		{"d", topWords, "detach", nil},
		{"s", topWords, "stats", nil},
		{"f", topWords, "", []string{"fou", "features"}},
		{"fe", topWords, "features", nil},
		{"fo", topWords, "fou", nil},
		{"h", topWords, "help", nil},
		{"lnk", topWords, "", nil},
		{"links", topWords, "", nil},
		{"", topWords, "", nil},
		{"sh", linkWords, "show", nil},
		{"l", linkWords, "show", nil}, // list, lst and ls are all show
		{"ls", linkWords, "show", nil},
		{"lst", linkWords, "show", nil},
		{"a", linkWords, "add", nil},
		{"d", linkWords, "del", nil},
		{"del", linkWords, "del", nil},
		{"delete", linkWords, "del", nil},
		{"dele", linkWords, "del", nil},
		{"x", linkWords, "", nil},
		{"a", fouWords, "add", nil},
		{"d", fouWords, "del", nil},
		{"s", fouWords, "show", nil},
		{"l", fouWords, "show", nil},
		{"f", []alias{{"features", "features"}, {"fou", "fou"}, {"fdb", "fdb"}}, "", []string{"features", "fou", "fdb"}},
		{"fo", []alias{{"features", "features"}, {"fou", "fou"}}, "fou", nil},
	}
	for _, tt := range tests {
		got, amb := resolve(tt.w, tt.table)
		if got != tt.want || !reflect.DeepEqual(amb, tt.amb) && len(amb)+len(tt.amb) > 0 {
			t.Errorf("resolve(%q) = %q, %q; want %q, %q", tt.w, got, amb, tt.want, tt.amb)
		}
	}
}

func TestParseCommand(t *testing.T) {
	gre1 := tunnel.Spec{
		Name: "gre1", Type: tunnel.GRE,
		Local:  netip.MustParseAddr("198.51.100.1"),
		Remote: netip.MustParseAddr("198.51.100.2"),
		IKey:   tunnel.Key{Set: true, Value: 42}, OKey: tunnel.Key{Set: true, Value: 42},
		TTL: 64,
	}
	const add = " name gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 42 ttl 64"
	tests := []struct {
		words string
		want  invocation
	}{
		{"attach eth0", invocation{cmd: "attach", name: "eth0"}},
		{"a eth0", invocation{cmd: "attach", name: "eth0"}},
		{"attach dev eth0", invocation{cmd: "attach", name: "eth0"}},
		{"detach eth0", invocation{cmd: "detach", name: "eth0"}},
		{"det eth0", invocation{cmd: "detach", name: "eth0"}},
		{"link add" + add, invocation{cmd: "link add", name: "gre1", spec: gre1}},
		{"l a" + add, invocation{cmd: "link add", name: "gre1", spec: gre1}},
		{"li add" + add, invocation{cmd: "link add", name: "gre1", spec: gre1}},
		{"link del gre1", invocation{cmd: "link del", name: "gre1"}},
		{"link d gre1", invocation{cmd: "link del", name: "gre1"}},
		{"link delete dev gre1", invocation{cmd: "link del", name: "gre1"}},
		{"link show", invocation{cmd: "link show"}},
		{"link", invocation{cmd: "link show"}},
		{"l sh", invocation{cmd: "link show"}},
		{"link show gre1", invocation{cmd: "link show", name: "gre1"}},
		{"link list", invocation{cmd: "link show"}},
		{"link ls dev gre1", invocation{cmd: "link show", name: "gre1"}},
		{"link lst", invocation{cmd: "link show"}},
		{"stats", invocation{cmd: "stats"}},
		{"s gre1", invocation{cmd: "stats", name: "gre1"}},
		{"features", invocation{cmd: "features"}},
		{"feat", invocation{cmd: "features"}},
		{"help", invocation{cmd: "help"}},
		{"h", invocation{cmd: "help"}},
		{"help help", invocation{cmd: "help"}},
		{"help attach", invocation{cmd: "help", topic: "attach"}},
		{"help l", invocation{cmd: "help", topic: "link"}},
		{"help link add", invocation{cmd: "help", topic: "link add"}},
		{"help link help", invocation{cmd: "help", topic: "link"}},
		{"help link ls", invocation{cmd: "help", topic: "link show"}},
		{"link help", invocation{cmd: "help", topic: "link"}},
		{"link add help", invocation{cmd: "help", topic: "link add"}},
		{"link del help", invocation{cmd: "help", topic: "link del"}},
		{"attach help", invocation{cmd: "help", topic: "attach"}},
		{"stats help", invocation{cmd: "help", topic: "stats"}},
		{"features help", invocation{cmd: "help", topic: "features"}},
		{"link add sit0 type sit local 198.51.100.1 isatap", invocation{cmd: "link add", name: "sit0",
			spec: tunnel.Spec{Name: "sit0", Type: tunnel.SIT, Local: netip.MustParseAddr("198.51.100.1"), ISATAP: true}}},
		{"fou add port 5555 ipproto 4", invocation{cmd: "fou add", fou: tunnel.FOUPort{Port: 5555, IPProto: 4}}},
		{"fo a port 6080 gue", invocation{cmd: "fou add", fou: tunnel.FOUPort{Port: 6080, GUE: true}}},
		{"fou add port 6080 gue -6", invocation{cmd: "fou add", fou: tunnel.FOUPort{Port: 6080, GUE: true, IPv6: true}}},
		{"fou del port 5555", invocation{cmd: "fou del", fou: tunnel.FOUPort{Port: 5555}}},
		{"fou delete port 5555", invocation{cmd: "fou del", fou: tunnel.FOUPort{Port: 5555}}},
		{"fou show", invocation{cmd: "fou show"}},
		{"fou ls", invocation{cmd: "fou show"}},
		{"fou", invocation{cmd: "fou show"}},
		{"fou help", invocation{cmd: "help", topic: "fou"}},
		{"fou add help", invocation{cmd: "help", topic: "fou add"}},
		{"help fou", invocation{cmd: "help", topic: "fou"}},
		{"help fou del", invocation{cmd: "help", topic: "fou del"}},
		{"help fou help", invocation{cmd: "help", topic: "fou"}},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			got, err := parseCommand(strings.Fields(tt.words))
			if err != nil {
				t.Fatalf("parseCommand: %v", err)
			}
			if got != tt.want {
				t.Fatalf("parseCommand(%q)\n got %+v\nwant %+v", tt.words, got, tt.want)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		words string
		want  []string
	}{
		{"", []string{"missing command"}},
		{"lnk", []string{`unknown command "lnk"; try: xtunnel help`}},
		{"show", []string{`unknown command "show"`}},
		{"link foo", []string{`unknown command "foo" after link; try: xtunnel link help`}},
		{"link add", []string{"link add needs a tunnel"}},
		{"link add gre1 type gre local 198.51.100.1 remote 198.51.100.2 kye 42", []string{`unknown keyword "kye" after type gre`}},
		{"link add gre1 type gre local 198.51.100.1", []string{`missing "remote ADDR"`}},
		{"link del", []string{"link del needs a name"}},
		{"link del gre1 gre2", []string{`unexpected word "gre2"`}},
		{"link show gre1 extra", []string{`unexpected word "extra"`}},
		{"attach", []string{"attach needs a name: attach NAME"}},
		{"detach", []string{"detach needs a name"}},
		{"attach eth0 eth1", []string{`unexpected word "eth1"`}},
		{"attach abcdefghijklmnop", []string{`bad name "abcdefghijklmnop"`}},
		{"stats gre1 gre2", []string{`unexpected word "gre2"`}},
		{"stats a/b", []string{`bad name "a/b"`}},
		{"features all", []string{`unexpected word "all" after features`}},
		{"help foo", []string{`unknown command "foo" after help`}},
		{"help attach eth0", []string{`unexpected word "eth0" after help attach`}},
		{"help link foo", []string{`unknown command "foo" after help link`}},
		{"help link add x", []string{`unexpected word "x"`}},
		{"f", []string{`ambiguous command "f": it could be fou or features`}},
		{"fou foo", []string{`unknown command "foo" after fou; try: xtunnel fou help`}},
		{"fou add", []string{"fou add needs a port"}},
		{"fou add port 5555", []string{"needs what it carries"}},
		{"fou add port 5555 ipproto 4 gue", []string{`"gue" conflicts with "ipproto 4"`}},
		{"fou del", []string{"fou del needs a port"}},
		{"fou del port 5555 gue", []string{`"gue" is not needed by fou del`}},
		{"fou show extra", []string{`unexpected word "extra" after fou show`}},
		{"help fou foo", []string{`unknown command "foo" after help fou; try: xtunnel fou help`}},
		{"help fou add x", []string{`unexpected word "x" after help fou add`}},
		{"link add t type ip6tnl local 2001:db8::1 remote 2001:db8::2 encap fou", []string{`"encap fou" needs "encap-dport PORT"`}},
		{"link add t type gre local 198.51.100.1 remote 198.51.100.2 encaplimit 4", []string{`"encaplimit" is not valid for type gre`}},
		{"link add t type sit local 198.51.100.1 remote 198.51.100.2 isatap", []string{`"isatap" conflicts with "remote 198.51.100.2"`}},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			_, err := parseCommand(strings.Fields(tt.words))
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("parseCommand(%q) = %v, want a usage error (exit 2)", tt.words, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseCommand(%q) = %q, want it to contain %q", tt.words, err, w)
				}
			}
		})
	}
}

func TestMutates(t *testing.T) {
	for cmd, want := range map[string]bool{
		"attach": true, "detach": true, "link add": true, "link del": true, "fou add": true, "fou del": true,
		"link show": false, "fou show": false, "stats": false, "features": false, "help": false,
	} {
		if got := (invocation{cmd: cmd}).mutates(); got != want {
			t.Errorf("%s: mutates() = %v, want %v", cmd, got, want)
		}
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{errors.New("attach eth0: no such device"), 1, "xtunnel: attach eth0: no such device\n"},
		{usageErrorf("unknown command %q; try: xtunnel help", "lnk"), 2, "xtunnel: unknown command \"lnk\"; try: xtunnel help\n"},
		{fmt.Errorf("wrapped: %w", usageErrorf("bad")), 2, "xtunnel: wrapped: bad\n"},
		{&exitError{code: 2}, 2, ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if code := report(tt.err, &buf); code != tt.code || buf.String() != tt.out {
			t.Errorf("report(%v) = %d, %q; want %d, %q", tt.err, code, buf.String(), tt.code, tt.out)
		}
	}
}

// fakePlane records calls and returns canned answers.
type fakePlane struct {
	calls    []string
	links    []dataplane.Link
	ports    []dataplane.Port
	stats    dataplane.Stats
	warnings []string
	notes    []string
	fou      []tunnel.FOUPort
	err      error
}

func (p *fakePlane) AddFOU(f tunnel.FOUPort) error {
	p.calls = append(p.calls, "fou add "+f.String())
	return p.err
}
func (p *fakePlane) DelFOU(f tunnel.FOUPort) error {
	p.calls = append(p.calls, "fou del "+fouName(f))
	return p.err
}
func (p *fakePlane) FOUPorts() ([]tunnel.FOUPort, error) {
	p.calls = append(p.calls, "fou ports")
	return p.fou, p.err
}

func (p *fakePlane) Close() error { p.calls = append(p.calls, "close"); return nil }
func (p *fakePlane) Attach(n string) (dataplane.Port, error) {
	p.calls = append(p.calls, "attach "+n)
	return dataplane.Port{Name: n, Ifindex: 2, XDPMode: "native", Notes: p.notes}, p.err
}
func (p *fakePlane) Detach(n string) error { p.calls = append(p.calls, "detach "+n); return p.err }
func (p *fakePlane) Ports() ([]dataplane.Port, error) {
	p.calls = append(p.calls, "ports")
	return p.ports, p.err
}
func (p *fakePlane) AddLink(s tunnel.Spec) (dataplane.Link, []string, error) {
	p.calls = append(p.calls, "add "+strings.Join(s.Args(), " "))
	var l dataplane.Link
	l.Spec, l.ID, l.OverlayMTU, l.Link, l.Present = s, 3, 1476, "eth0", true
	return l, p.warnings, p.err
}
func (p *fakePlane) DelLink(n string) error { p.calls = append(p.calls, "del "+n); return p.err }
func (p *fakePlane) Links() ([]dataplane.Link, error) {
	p.calls = append(p.calls, "links")
	return p.links, p.err
}
func (p *fakePlane) Stats() (dataplane.Stats, error) {
	p.calls = append(p.calls, "stats")
	return p.stats, p.err
}

// withFake makes run use p as the dataplane and euid as the user; opening
// fails the test when p is nil.
func withFake(t *testing.T, p *fakePlane, euid int) *dataplane.Options {
	t.Helper()
	var opened dataplane.Options
	oldOpen, oldEuid, oldFeat := openDataplane, geteuid, probeFeatures
	t.Cleanup(func() { openDataplane, geteuid, probeFeatures = oldOpen, oldEuid, oldFeat })
	openDataplane = func(o dataplane.Options) (plane, error) {
		if p == nil {
			t.Fatalf("the dataplane was opened")
		}
		opened = o
		return p, nil
	}
	geteuid = func() int { return euid }
	probeFeatures = func() []dataplane.Feature {
		return []dataplane.Feature{{Name: "xdp", OK: true, Detail: "XDP programs"}}
	}
	return &opened
}

func runArgs(args string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	err := run(context.Background(), strings.Fields(args), &out, &errb)
	code = report(err, &errb)
	return out.String(), errb.String(), code
}

func TestRunNotRoot(t *testing.T) {
	tests := []struct {
		args string
		code int
		want string
	}{
		{"attach eth0", 1, "xtunnel: attach needs root (CAP_NET_ADMIN, CAP_BPF); run it as root\n"},
		{"--xdp-mode generic d eth0", 1, "xtunnel: detach needs root (CAP_NET_ADMIN, CAP_BPF); run it as root\n"},
		{"link add gre1 type gre local 198.51.100.1 remote 198.51.100.2", 1, "xtunnel: link add needs root"},
		{"link del gre1", 1, "xtunnel: link del needs root"},
		{"fou add port 5555 gue", 1, "xtunnel: fou add needs root"},
		{"fou del port 5555 -6", 1, "xtunnel: fou del needs root"},
		{"fou add port 5555", 2, "xtunnel: fou add port 5555 needs what it carries"},
		{"-6 link show", 2, "xtunnel: -6 applies to fou add, fou del and fou show only, not to link show"},
		// Bad input is reported first, even to a user who is not root.
		{"link add gre1 type gre local 198.51.100.1", 2, `xtunnel: missing "remote ADDR"`},
		{"attach", 2, "xtunnel: attach needs a name"},
		{"--xdp-mode drv attach eth0", 2, `xtunnel: --xdp-mode: "drv" is not an XDP mode`},
		{"lnk", 2, `xtunnel: unknown command "lnk"; try: xtunnel help`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			withFake(t, nil, 1000)
			stdout, stderr, code := runArgs(tt.args)
			if code != tt.code || !strings.HasPrefix(stderr, tt.want) || stdout != "" {
				t.Fatalf("run(%q) = %d, stdout %q, stderr %q; want %d, stderr %q", tt.args, code, stdout, stderr, tt.code, tt.want)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	tests := []struct {
		args string
		want []string
	}{
		{"help", []string{"Usage: xtunnel", "link show [NAME]", "--xdp-mode", "--bpffs"}},
		{"--help", []string{"Usage: xtunnel", "--tc-mode"}},
		{"-h", []string{"Usage: xtunnel"}},
		{"link help", []string{"xtunnel link add", "nopmtudisc"}},
		{"link add --help", []string{"xtunnel link add", "ikey K okey K"}},
		{"link add gre1 bad words -h", []string{"xtunnel link add"}},
		{"l sh -h", []string{"Usage: xtunnel link show [NAME]"}},
		{"help stats", []string{"Usage: xtunnel stats [NAME]"}},
		{"attach help", []string{"Usage: xtunnel attach IFNAME"}},
		{"lnk --help", []string{"Usage: xtunnel [OPTIONS]"}},
		{"help", []string{"fou add port P", "fou show", "-6, --ipv6"}},
		{"link help", []string{"sit", "ip6tnl", "ip6gre", "encaplimit ELIM", "flowlabel FL", "encap fou|gue", "isatap", "mode ip6ip6|ipip6|any"}},
		{"fou help", []string{"Usage: xtunnel fou add port PORT ipproto 4|41|47 [-6]", "fou del port PORT [-6]", "GUE header"}},
		{"fou add --help", []string{"Usage: xtunnel fou add"}},
		{"fou add port 5555 -h", []string{"Usage: xtunnel fou add"}},
		{"help fou show", []string{"xtunnel fou show [-6]"}},
		{"-6 fou help", []string{"Usage: xtunnel fou"}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			withFake(t, nil, 1000)
			stdout, stderr, code := runArgs(tt.args)
			if code != 0 || stderr != "" {
				t.Fatalf("run(%q) = %d, stderr %q", tt.args, code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("run(%q) stdout missing %q:\n%s", tt.args, w, stdout)
				}
			}
		})
	}
}

func TestRunNoCommand(t *testing.T) {
	withFake(t, nil, 0)
	stdout, stderr, code := runArgs("--json")
	if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "Usage: xtunnel") {
		t.Fatalf("run() = %d, stdout %q, stderr %q; want usage on stderr and 2", code, stdout, stderr)
	}
}

func TestRunVersion(t *testing.T) {
	withFake(t, nil, 0)
	stdout, _, code := runArgs("--version")
	if code != 0 || stdout != "xtunnel "+version+"\n" {
		t.Fatalf("run(--version) = %d, %q", code, stdout)
	}
}

func TestRunWithFake(t *testing.T) {
	var l dataplane.Link
	l.Spec = tunnel.Spec{Name: "gre1", Type: tunnel.GRE,
		Local:  netip.MustParseAddr("198.51.100.1"),
		Remote: netip.MustParseAddr("198.51.100.2")}
	l.OverlayMTU, l.Link, l.Present = 1476, "eth0", true
	stats := dataplane.Stats{
		Tunnels: map[string]dataplane.Counters{"gre1": {RxPackets: 1}},
		Reasons: map[string]uint64{"pass_fragment": 2},
	}
	tests := []struct {
		name     string
		args     string
		plane    fakePlane
		code     int
		stdout   string // substring
		stderr   string // substring; "" means empty
		calls    string
		xdpMode  string
		bpffsDir string
	}{
		{name: "attach", args: "--xdp-mode generic attach eth0", stdout: "attached eth0 xdp native\n", calls: "attach eth0,close", xdpMode: "generic"},
		{name: "attach json", args: "attach eth0 --json", stdout: `"xdp_mode": "native"`, calls: "attach eth0,close"},
		{name: "attach notes", args: "attach eth0", plane: fakePlane{notes: []string{"eth0 is a veth"}},
			stdout: "attached eth0 xdp native\n", stderr: "xtunnel: note: eth0 is a veth\n", calls: "attach eth0,close"},
		{name: "attach error", args: "attach eth0", plane: fakePlane{err: errors.New("no such device")},
			code: 1, stderr: "xtunnel: attach eth0: no such device\n", calls: "attach eth0,close"},
		{name: "error already names the subject", args: "attach eth0",
			plane: fakePlane{err: errors.New("attach eth0: native XDP not supported; retry with --xdp-mode generic")},
			code:  1, stderr: "xtunnel: attach eth0: native XDP not supported; retry with --xdp-mode generic\n", calls: "attach eth0,close"},
		{name: "detach", args: "detach eth0", calls: "detach eth0,close"},
		{name: "link add notes", args: "link add gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 1",
			plane:  fakePlane{warnings: []string{"no ip_gre driver: fast path only"}},
			stderr: "xtunnel: note: no ip_gre driver: fast path only\n",
			calls:  "add name gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 1,close"},
		{name: "link add json", args: "--json link add gre1 type gre local 198.51.100.1 remote 198.51.100.2",
			stdout: `"mtu": 1476`, calls: "add name gre1 type gre local 198.51.100.1 remote 198.51.100.2,close"},
		{name: "link del", args: "link del gre1", calls: "del gre1,close"},
		{name: "link show", args: "link show", plane: fakePlane{links: []dataplane.Link{l}, ports: []dataplane.Port{{Name: "eth0", XDPMode: "native"}}},
			stdout: "gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl inherit dev eth0 mtu 1476 id 0\nattached: eth0 xdp native\n",
			calls:  "links,ports,close", bpffsDir: "/sys/fs/bpf/t"},
		{name: "link show name", args: "link show gre1", plane: fakePlane{links: []dataplane.Link{l}},
			stdout: "gre1: gre", calls: "links,close"},
		{name: "link show missing", args: "link show gre9", plane: fakePlane{links: []dataplane.Link{l}},
			code: 1, stderr: `xtunnel: no tunnel named "gre9"`, calls: "links,close"},
		{name: "link show json", args: "link show --json", stdout: `"links": []`, calls: "links,ports,close"},
		{name: "stats", args: "stats", plane: fakePlane{stats: stats}, stdout: "pass_fragment", calls: "stats,close"},
		{name: "stats missing", args: "stats gre9", plane: fakePlane{stats: stats},
			code: 1, stderr: `xtunnel: no tunnel named "gre9"`, calls: "stats,close"},
		{name: "features", args: "features", stdout: "xdp   yes", calls: ""},
		{name: "fou add", args: "fou add port 5555 ipproto 4", calls: "fou add port 5555 ipproto 4,close"},
		{name: "fou add gue -6", args: "-v fou add port 6080 gue -6", stderr: "xtunnel: added fou port 6080 gue -6\n",
			calls: "fou add port 6080 gue -6,close"},
		{name: "fou add json", args: "--json fou add port 6080 gue", stdout: `"type": "gue"`, calls: "fou add port 6080 gue,close"},
		{name: "fou add error", args: "fou add port 5555 ipproto 4", plane: fakePlane{err: errors.New("port 5555 is in use")},
			code: 1, stderr: "xtunnel: fou add port 5555 ipproto 4: port 5555 is in use\n", calls: "fou add port 5555 ipproto 4,close"},
		{name: "fou add -- -6", args: "fou add -- port 6080 gue -6", calls: "fou add port 6080 gue -6,close"},
		{name: "fou del", args: "fou del port 5555", calls: "fou del port 5555,close"},
		{name: "fou del -6", args: "-v fou del -6 port 5555", stderr: "xtunnel: deleted fou port 5555 -6\n", calls: "fou del port 5555 -6,close"},
		{name: "fou del error", args: "fou del port 5555", plane: fakePlane{err: errors.New("no such port")},
			code: 1, stderr: "xtunnel: fou del port 5555: no such port\n", calls: "fou del port 5555,close"},
		{name: "fou show", args: "fou show", plane: fakePlane{fou: []tunnel.FOUPort{{Port: 6080, GUE: true, IPv6: true}, {Port: 5555, IPProto: 4}}},
			stdout: "port 5555 ipproto 4\nport 6080 gue -6\n", calls: "fou ports,close"},
		{name: "fou show -6", args: "fou show -6", plane: fakePlane{fou: []tunnel.FOUPort{{Port: 6080, GUE: true, IPv6: true}, {Port: 5555, IPProto: 4}}},
			stdout: "port 6080 gue -6\n", calls: "fou ports,close"},
		{name: "fou show json", args: "fou --json", plane: fakePlane{fou: []tunnel.FOUPort{{Port: 5555, IPProto: 47}}},
			stdout: `"ipproto": 47`, calls: "fou ports,close"},
		{name: "fou show error", args: "fou show", plane: fakePlane{err: errors.New("broken")},
			code: 1, stderr: "xtunnel: fou show: broken\n", calls: "fou ports,close"},
		{name: "link add sit isatap", args: "link add sit0 type sit local 198.51.100.1 isatap mtu 1400",
			calls: "add name sit0 mtu 1400 type sit local 198.51.100.1 isatap,close"},
		{name: "link add ip6tnl", args: "link add t6 type ip6tnl mode any local 2001:db8::1 remote 2001:db8::2 encaplimit none flowlabel inherit",
			calls: "add name t6 type ip6tnl mode any local 2001:db8::1 remote 2001:db8::2 flowlabel inherit encaplimit none,close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.plane
			opened := withFake(t, &p, 0)
			args := tt.args
			if tt.bpffsDir != "" {
				args = "--bpffs " + tt.bpffsDir + " " + args
			}
			stdout, stderr, code := runArgs(args)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) || (tt.stdout == "" && stdout != "") {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
			if got := strings.Join(p.calls, ","); got != tt.calls {
				t.Errorf("calls %q, want %q", got, tt.calls)
			}
			if tt.calls != "" {
				want := dataplane.Options{BPFFS: dataplane.DefaultBPFFS, XDPMode: "auto", TCMode: "auto"}
				if tt.xdpMode != "" {
					want.XDPMode = tt.xdpMode
				}
				if tt.bpffsDir != "" {
					want.BPFFS = tt.bpffsDir
				}
				if *opened != want {
					t.Errorf("opened with %+v, want %+v", *opened, want)
				}
			}
		})
	}
}

func TestRunOpenErrors(t *testing.T) {
	withFake(t, nil, 1000)
	openDataplane = func(dataplane.Options) (plane, error) {
		return nil, &fs.PathError{Op: "open", Path: "/sys/fs/bpf/xtunnel/ns-1/maps", Err: fs.ErrPermission}
	}
	_, stderr, code := runArgs("link show")
	want := "xtunnel: open /sys/fs/bpf/xtunnel/ns-1/maps: permission denied; run it as root\n"
	if code != 1 || stderr != want {
		t.Fatalf("run(link show) = %d, %q; want 1, %q", code, stderr, want)
	}

	openDataplane = func(dataplane.Options) (plane, error) {
		return nil, errors.New("--bpffs /tmp/x is not on a BPF filesystem")
	}
	_, stderr, _ = runArgs("stats --bpffs /tmp/x")
	if want := "xtunnel: open /tmp/x: --bpffs /tmp/x is not on a BPF filesystem\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
}

func TestRunCancelled(t *testing.T) {
	withFake(t, &fakePlane{}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"link", "show"}, &out, &errb); !errors.Is(err, context.Canceled) {
		t.Fatalf("run with a cancelled context = %v", err)
	}
}
