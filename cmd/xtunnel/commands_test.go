package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
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
		{"f", topWords, "", []string{"fou", "fdb", "features"}},
		{"fd", topWords, "fdb", nil},
		{"fdb", topWords, "fdb", nil},
		{"m", topWords, "mirror", nil},
		{"mirr", topWords, "mirror", nil},
		{"a", fdbWords, "add", nil}, // add and append are one command
		{"ap", fdbWords, "add", nil},
		{"append", fdbWords, "add", nil},
		{"d", fdbWords, "del", nil},
		{"delete", fdbWords, "del", nil},
		{"s", fdbWords, "show", nil},
		{"l", fdbWords, "show", nil},
		{"ls", fdbWords, "show", nil},
		{"h", fdbWords, "help", nil},
		{"replace", fdbWords, "", nil},
		{"a", mirrorWords, "add", nil},
		{"d", mirrorWords, "del", nil},
		{"sh", mirrorWords, "show", nil},
		{"list", mirrorWords, "show", nil},
		{"append", mirrorWords, "", nil},
		{"fe", topWords, "features", nil},
		{"r", topWords, "route", nil},
		{"ro", topWords, "route", nil},
		{"a", routeWords, "add", nil},
		{"d", routeWords, "del", nil},
		{"ls", routeWords, "show", nil},
		{"replace", routeWords, "", nil},
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

// FDB entries as fdb add parses them.
var (
	fdbUni = tunnel.FDBEntry{MAC: net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56},
		Dst: netip.MustParseAddr("198.51.100.2"), Dev: "vx0"}
	fdbFlood = tunnel.FDBEntry{MAC: net.HardwareAddr{0, 0, 0, 0, 0, 0},
		Dst: netip.MustParseAddr("198.51.100.3"), Dev: "vx0"}
)

// xgreRoute is a route to a peer of an external link.
var xgreRoute = tunnel.Route{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Dev: "xgre",
	Encap: &tunnel.RouteEncap{KeySet: true, Key: 42, Dst: netip.MustParseAddr("198.51.100.7"), TTL: 64}}

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
		{"attach eth0 gateway", invocation{cmd: "attach", name: "eth0", gateway: true}},
		{"attach dev eth0 gateway", invocation{cmd: "attach", name: "eth0", gateway: true}},
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
		{"bench", invocation{cmd: "bench"}},
		{"bench scale cost", invocation{cmd: "bench", sections: []string{"scale", "cost"}}},
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
		{"fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", invocation{cmd: "fdb add", fdb: fdbUni}},
		{"fdb append 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", invocation{cmd: "fdb add", fdb: fdbUni}},
		{"fd ap dev vx0 dst 198.51.100.2 52:54:00:12:34:56", invocation{cmd: "fdb add", fdb: fdbUni}},
		{"fdb a to 52:54:00:12:34:56 dst 198.51.100.2 dev vx0 self permanent", invocation{cmd: "fdb add", fdb: fdbUni}},
		{"fdb append 00:00:00:00:00:00 dst 198.51.100.3 dev vx0", invocation{cmd: "fdb add", fdb: fdbFlood}},
		{"fdb del 52:54:00:12:34:56 dev vx0", invocation{cmd: "fdb del", fdb: tunnel.FDBEntry{MAC: fdbUni.MAC, Dev: "vx0"}}},
		{"fdb delete 00:00:00:00:00:00 dev vx0 dst 198.51.100.3", invocation{cmd: "fdb del", fdb: fdbFlood}},
		{"fdb d 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", invocation{cmd: "fdb del", fdb: fdbUni}},
		{"fdb", invocation{cmd: "fdb show"}},
		{"fdb show", invocation{cmd: "fdb show"}},
		{"fdb list", invocation{cmd: "fdb show"}},
		{"fdb ls", invocation{cmd: "fdb show"}},
		{"fdb lst", invocation{cmd: "fdb show"}},
		{"fdb show dev vx0", invocation{cmd: "fdb show", name: "vx0"}},
		{"fd sh vx0", invocation{cmd: "fdb show", name: "vx0"}},
		{"fdb help", invocation{cmd: "help", topic: "fdb"}},
		{"fdb add help", invocation{cmd: "help", topic: "fdb add"}},
		{"fdb append help", invocation{cmd: "help", topic: "fdb add"}},
		{"fdb show help", invocation{cmd: "help", topic: "fdb show"}},
		{"help fdb", invocation{cmd: "help", topic: "fdb"}},
		{"help fdb append", invocation{cmd: "help", topic: "fdb add"}},
		{"help fdb delete", invocation{cmd: "help", topic: "fdb del"}},
		{"help fdb help", invocation{cmd: "help", topic: "fdb"}},
		{"mirror add dev eth1 ingress to erspan1", invocation{cmd: "mirror add",
			mirror: tunnel.Mirror{Dev: "eth1", Ingress: true, To: "erspan1", Sample: 1}}},
		{"m a dev eth1 both to erspan1 sample 1/100", invocation{cmd: "mirror add",
			mirror: tunnel.Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 100}}},
		{"mirror add to erspan1 egress dev eth1 --sample=7", invocation{cmd: "mirror add",
			mirror: tunnel.Mirror{Dev: "eth1", Egress: true, To: "erspan1", Sample: 7}}},
		{"mirror del dev eth1", invocation{cmd: "mirror del", mirror: tunnel.Mirror{Dev: "eth1", Ingress: true, Egress: true}}},
		{"mirror delete dev eth1 egress", invocation{cmd: "mirror del", mirror: tunnel.Mirror{Dev: "eth1", Egress: true}}},
		{"mirror d dev eth1 ingress", invocation{cmd: "mirror del", mirror: tunnel.Mirror{Dev: "eth1", Ingress: true}}},
		{"mirror", invocation{cmd: "mirror show"}},
		{"mirror show", invocation{cmd: "mirror show"}},
		{"mirror ls", invocation{cmd: "mirror show"}},
		{"mirror list dev eth1", invocation{cmd: "mirror show", name: "eth1"}},
		{"mi sh eth1", invocation{cmd: "mirror show", name: "eth1"}},
		{"mirror help", invocation{cmd: "help", topic: "mirror"}},
		{"mirror add help", invocation{cmd: "help", topic: "mirror add"}},
		{"help mirror", invocation{cmd: "help", topic: "mirror"}},
		{"help m del", invocation{cmd: "help", topic: "mirror del"}},
		{"route add 10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre", invocation{cmd: "route add", route: xgreRoute}},
		{"r a 10.1.0.0/16 dev xgre encap ip dst 198.51.100.7 id 42 ttl 64", invocation{cmd: "route add", route: xgreRoute}},
		{"route add default dev gre1", invocation{cmd: "route add",
			route: tunnel.Route{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Dev: "gre1"}}},
		{"route del 10.1.0.0/16", invocation{cmd: "route del", route: tunnel.Route{Prefix: xgreRoute.Prefix}}},
		{"route delete 10.1.0.0/16 dev xgre", invocation{cmd: "route del", route: tunnel.Route{Prefix: xgreRoute.Prefix, Dev: "xgre"}}},
		{"route", invocation{cmd: "route show"}},
		{"route show", invocation{cmd: "route show"}},
		{"ro ls dev xgre", invocation{cmd: "route show", name: "xgre"}},
		{"route list xgre", invocation{cmd: "route show", name: "xgre"}},
		{"route help", invocation{cmd: "help", topic: "route"}},
		{"route add help", invocation{cmd: "help", topic: "route add"}},
		{"help route", invocation{cmd: "help", topic: "route"}},
		{"help route del", invocation{cmd: "help", topic: "route del"}},
		{"link add xgre type gre external", invocation{cmd: "link add", name: "xgre",
			spec: tunnel.Spec{Name: "xgre", Type: tunnel.GRE, External: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			got, err := parseCommand(strings.Fields(tt.words))
			if err != nil {
				t.Fatalf("parseCommand: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
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
		{"f", []string{`ambiguous command "f": it could be fou, fdb or features; try: xtunnel help`}},
		{"fdb foo", []string{`unknown command "foo" after fdb; try: xtunnel fdb help`}},
		{"fdb replace 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", []string{`unknown command "replace" after fdb`}},
		{"fdb add", []string{"fdb add needs an entry"}},
		{"fdb append", []string{"fdb add needs an entry"}},
		{"fdb add 52:54:00:12:34:56 dev vx0", []string{`missing "dst ADDR"`}},
		{"fdb add 52:54:00:12:34:56 dst 198.51.100.2", []string{`missing "dev NAME"`}},
		{"fdb add ff:ff:ff:ff:ff:ff dst 198.51.100.2 dev vx0", []string{"broadcast", "00:00:00:00:00:00"}},
		{"fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0 vlan 5", []string{`keyword "vlan" is not supported`}},
		{"fdb del", []string{"fdb del needs an entry"}},
		{"fdb del 52:54:00:12:34:56", []string{`missing "dev NAME"`}},
		{"fdb show vx0 extra", []string{`unexpected word "extra" after fdb show vx0`}},
		{"fdb show dev", []string{`"dev" needs a name`}},
		{"mirror foo", []string{`unknown command "foo" after mirror; try: xtunnel mirror help`}},
		{"mirror add", []string{"mirror add needs a mirror"}},
		{"mirror add dev eth1 both", []string{`missing "to NAME"`}},
		{"mirror add dev eth1 to erspan1", []string{"needs a direction"}},
		{"mirror add dev eth1 ingress egress to erspan1", []string{`"egress" conflicts with "ingress"`}},
		{"mirror add dev eth1 both to erspan1 sample 1/0", []string{`bad sample "1/0"`}},
		{"mirror add dev eth1 both to eth1", []string{"would loop"}},
		{"mirror del", []string{"mirror del needs a device"}},
		{"mirror del dev eth1 to erspan1", []string{`"to" is not needed by mirror del`}},
		{"mirror show eth1 eth2", []string{`unexpected word "eth2" after mirror show eth1`}},
		{"help fdb foo", []string{`unknown command "foo" after help fdb; try: xtunnel fdb help`}},
		{"help fdb add x", []string{`unexpected word "x" after help fdb add`}},
		{"help mirror foo", []string{`unknown command "foo" after help mirror`}},
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
		{"link add xgre type gre external remote 198.51.100.2", []string{`"remote" conflicts with "external"`, "xtunnel route add PREFIX encap ip dst ADDR dev xgre"}},
		{"link add xgre type gre external key 1", []string{"with external the key is per peer"}},
		{"route foo", []string{`unknown command "foo" after route; try: xtunnel route help`}},
		{"route replace 10.0.0.0/8 dev gre1", []string{`unknown command "replace" after route`}},
		{"route add", []string{"route add needs a route"}},
		{"route add 10.0.0.0/8", []string{`missing "dev NAME"`}},
		{"route add 10.1.2.3/16 dev gre1", []string{"invalid prefix for given prefix length", "host bits 0.0.2.3"}},
		{"route add 10.0.0.0/8 encap ip dst 2001:db8::1 dev xgre", []string{"encap ip is an IPv4 underlay"}},
		{"route del", []string{"route del needs a prefix"}},
		{"route del 10.0.0.0/8 encap ip dst 198.51.100.7", []string{`"encap" is not needed by route del`}},
		{"route show xgre extra", []string{`unexpected word "extra" after route show xgre`}},
		{"help route foo", []string{`unknown command "foo" after help route`}},
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
		"fdb add": true, "fdb del": true, "mirror add": true, "mirror del": true, "route add": true, "route del": true,
		"link show": false, "route show": false, "fou show": false, "fdb show": false, "mirror show": false,
		"stats": false, "features": false, "help": false,
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
		{fmt.Errorf("mirror del: %w", errors.Join(errors.New("detach ingress: busy"), errors.New("detach egress: busy"))), 1,
			"xtunnel: mirror del: detach ingress: busy; detach egress: busy\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if code := report(tt.err, &buf); code != tt.code || buf.String() != tt.out {
			t.Errorf("report(%v) = %d, %q; want %d, %q", tt.err, code, buf.String(), tt.code, tt.out)
		}
	}
}

// The real dataplane is what the commands use.
var _ plane = (*dataplane.Dataplane)(nil)

// fakePlane records calls and returns canned answers.
type fakePlane struct {
	calls    []string
	links    []dataplane.Link
	ports    []dataplane.Port
	stats    dataplane.Stats
	warnings []string
	notes    []string
	fou      []tunnel.FOUPort
	fdb      []dataplane.FDBEntry
	mirrors  []dataplane.Mirror
	routes   []dataplane.Route
	err      error
	// routeErr, when set, answers AddRoutes and DelRoutes instead of err.
	routeErr func(add bool, rs []tunnel.Route) error
}

func (p *fakePlane) routeCall(verb string, rs []tunnel.Route) error {
	words := make([]string, len(rs))
	for i, r := range rs {
		words[i] = r.String()
	}
	p.calls = append(p.calls, "routes "+verb+" "+strings.Join(words, "; "))
	if p.routeErr != nil {
		return p.routeErr(verb == "add", rs)
	}
	return p.err
}
func (p *fakePlane) AddRoutes(rs []tunnel.Route) error { return p.routeCall("add", rs) }
func (p *fakePlane) DelRoutes(rs []tunnel.Route) error { return p.routeCall("del", rs) }
func (p *fakePlane) Routes(dev string) ([]dataplane.Route, error) {
	p.calls = append(p.calls, "routes "+dev)
	return p.routes, p.err
}

func (p *fakePlane) AddFDB(e tunnel.FDBEntry) error {
	p.calls = append(p.calls, "fdb add "+e.String())
	return p.err
}
func (p *fakePlane) DelFDB(e tunnel.FDBEntry) error {
	p.calls = append(p.calls, "fdb del "+e.String())
	return p.err
}
func (p *fakePlane) FDB(dev string) ([]dataplane.FDBEntry, error) {
	p.calls = append(p.calls, "fdb "+dev)
	return p.fdb, p.err
}
func (p *fakePlane) AddMirror(m tunnel.Mirror) error {
	p.calls = append(p.calls, "mirror add "+m.String())
	return p.err
}
func (p *fakePlane) DelMirror(m tunnel.Mirror) error {
	p.calls = append(p.calls, "mirror del "+m.Dev+" "+m.Direction())
	return p.err
}
func (p *fakePlane) Mirrors(dev string) ([]dataplane.Mirror, error) {
	p.calls = append(p.calls, "mirrors "+dev)
	return p.mirrors, p.err
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
func (p *fakePlane) AttachGateway(n string) (dataplane.Port, error) {
	p.calls = append(p.calls, "attach gateway "+n)
	return dataplane.Port{Name: n, Ifindex: 2, XDPMode: "native", Gateway: true, Notes: p.notes}, p.err
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
		{"fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", 1, "xtunnel: fdb add needs root"},
		{"fdb append 00:00:00:00:00:00 dst 198.51.100.2 dev vx0", 1, "xtunnel: fdb add needs root"},
		{"fdb del 52:54:00:12:34:56 dev vx0", 1, "xtunnel: fdb del needs root"},
		{"mirror add dev eth1 both to erspan1", 1, "xtunnel: mirror add needs root"},
		{"mirror add dev eth1 both to erspan1 --sample 1/10", 1, "xtunnel: mirror add needs root"},
		{"mirror del dev eth1", 1, "xtunnel: mirror del needs root"},
		{"fdb add 52:54:00:12:34:56 dev vx0", 2, `xtunnel: missing "dst ADDR"`},
		{"mirror add dev eth1 both", 2, `xtunnel: missing "to NAME"`},
		{"-6 fdb show", 2, "xtunnel: -6 applies to fou add, fou del and fou show only, not to fdb show"},
		{"--sample 1/10 fdb show", 2, "xtunnel: --sample applies to mirror add only, not to fdb show"},
		{"mirror del dev eth1 --sample 2", 2, "xtunnel: --sample applies to mirror add only, not to mirror del"},
		{"mirror add dev eth1 both to erspan1 --sample 1/0", 2, `xtunnel: bad --sample "1/0"`},
		{"mirror add dev eth1 both to erspan1 sample 2 --sample 3", 2, `xtunnel: duplicate keyword "--sample" (same as "sample")`},
		{"mirror add dev eth1 both to erspan1 --sample", 2, "xtunnel: flag needs an argument: --sample"},
		{"route add 10.0.0.0/8 dev gre1", 1, "xtunnel: route add needs root"},
		{"route del 10.0.0.0/8", 1, "xtunnel: route del needs root"},
		{"route add 10.0.0.1/8 dev gre1", 2, `xtunnel: bad prefix "10.0.0.1/8"`},
		{"-6 route show", 2, "xtunnel: -6 applies to fou add, fou del and fou show only, not to route show"},
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
		{"help", []string{"fdb add MAC dst ADDR dev NAME", "fdb show [dev NAME]", "see: xtunnel fdb help",
			"mirror add dev MON ingress|egress|both to NAME [sample 1/N]", "mirror show [dev MON]", "see: xtunnel mirror help",
			"--sample 1/N"}},
		{"fdb help", []string{"Usage: xtunnel fdb add MAC dst ADDR dev NAME\n       xtunnel fdb append MAC dst ADDR dev NAME\n",
			"       xtunnel fdb del MAC dev NAME [dst ADDR]\n", "       xtunnel fdb show [dev NAME]\n  MAC ", "flood list"}},
		{"help fdb", []string{"Usage: xtunnel fdb add"}},
		{"help fdb show", []string{"Usage: xtunnel fdb add", "xtunnel fdb show [dev NAME]"}},
		{"fdb append --help", []string{"Usage: xtunnel fdb add"}},
		{"fdb add 52:54:00:12:34:56 -h", []string{"Usage: xtunnel fdb add"}},
		{"fd -h", []string{"Usage: xtunnel fdb add"}},
		{"mirror help", []string{"Usage: xtunnel mirror add dev MON ingress|egress|both to NAME [sample 1/N]\n",
			"       xtunnel mirror del dev MON [ingress|egress|both]\n", "       xtunnel mirror show [dev MON]\n  MON ", "matchall"}},
		{"help mirror del", []string{"Usage: xtunnel mirror add"}},
		{"mirror add dev eth1 --help", []string{"Usage: xtunnel mirror add"}},
		{"--sample 2 mirror help", []string{"Usage: xtunnel mirror add"}},
		{"help", []string{"route add PREFIX dev NAME", "route add PREFIX encap ip|ip6 [id KEY] dst ADDR dev NAME",
			"route del PREFIX [dev NAME]", "route show [dev NAME]", "see: xtunnel route help",
			"xtunnel [OPTIONS] -batch FILE [-force]", "-b, --batch FILE", "--force", "--max-tunnels N", "--max-routes N",
			"1..1048576", "1..16777216", "the first attach", "one batch", "batch FILE:LINE"}},
		{"route help", []string{"Usage: xtunnel route add PREFIX dev NAME\n",
			"       xtunnel route add PREFIX encap ip [id KEY] dst ADDR [src ADDR] [ttl TTL] [tos TOS] dev NAME\n",
			"       xtunnel route add PREFIX encap ip6 [id KEY] dst ADDR [src ADDR] [hoplimit TTL] [tclass TOS] dev NAME\n",
			"       xtunnel route del PREFIX [dev NAME]\n", "       xtunnel route show [dev NAME]\n  PREFIX "}},
		{"help route add", []string{"Usage: xtunnel route add"}},
		{"route add 10.0.0.0/8 --help", []string{"Usage: xtunnel route add"}},
		{"link help", []string{"xtunnel link add [name] NAME type gre|ip6gre|ipip|sit|ip6tnl external [local ADDR]", "collect_md"}},
		{"-batch x -h", []string{"Usage: xtunnel"}},
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
		// the table sizes the dataplane is opened with
		maxTunnels, maxRoutes int
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

		{name: "fdb add", args: "fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0",
			calls: "fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0,close"},
		{name: "fdb append flood -v", args: "-v fdb append 00:00:00:00:00:00 dst 198.51.100.3 dev vx0",
			stderr: "xtunnel: added fdb 00:00:00:00:00:00 dst 198.51.100.3 dev vx0\n",
			calls:  "fdb add 00:00:00:00:00:00 dst 198.51.100.3 dev vx0,close"},
		{name: "fdb add json", args: "fdb add 52:54:00:12:34:56 dst 2001:db8::2 dev vx6 --json",
			stdout: "{\n  \"dev\": \"vx6\",\n  \"mac\": \"52:54:00:12:34:56\",\n  \"dst\": \"2001:db8::2\",\n  \"learned\": false\n}\n",
			calls:  "fdb add 52:54:00:12:34:56 dst 2001:db8::2 dev vx6,close"},
		{name: "fdb add error named by the dataplane", args: "fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev gre1",
			plane: fakePlane{err: errors.New("fdb add: gre1 sends everything to its remote 198.51.100.2; only vxlan and geneve links with remote any have an FDB")},
			code:  1, stderr: "xtunnel: fdb add: gre1 sends everything to its remote 198.51.100.2; only vxlan and geneve links with remote any have an FDB\n",
			calls: "fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev gre1,close"},
		{name: "fdb add error", args: "fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", plane: fakePlane{err: errors.New("map full")},
			code: 1, stderr: "xtunnel: fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0: map full\n",
			calls: "fdb add 52:54:00:12:34:56 dst 198.51.100.2 dev vx0,close"},
		{name: "fdb del", args: "-v fdb del 52:54:00:12:34:56 dev vx0", stderr: "xtunnel: deleted fdb 52:54:00:12:34:56 dev vx0\n",
			calls: "fdb del 52:54:00:12:34:56 dev vx0,close"},
		{name: "fdb del json prints nothing", args: "--json fdb delete 00:00:00:00:00:00 dev vx0 dst 198.51.100.3",
			calls: "fdb del 00:00:00:00:00:00 dst 198.51.100.3 dev vx0,close"},
		{name: "fdb del error", args: "fdb del 52:54:00:12:34:56 dev vx0", plane: fakePlane{err: errors.New("no such entry")},
			code: 1, stderr: "xtunnel: fdb del 52:54:00:12:34:56 dev vx0: no such entry\n", calls: "fdb del 52:54:00:12:34:56 dev vx0,close"},
		{name: "fdb show", args: "fdb show", plane: fakePlane{fdb: testFDB},
			stdout: testFDBText, calls: "fdb ,close"},
		{name: "fdb alone shows", args: "fdb", plane: fakePlane{fdb: testFDB[:1]},
			stdout: "52:54:00:12:34:56 dst 198.51.100.2 dev vx0\n", calls: "fdb ,close"},
		{name: "fdb show dev", args: "fdb show dev vx0", calls: "fdb vx0,close"},
		{name: "fdb show json", args: "fdb ls --json", plane: fakePlane{fdb: testFDB[:1]},
			stdout: "[\n  {\n    \"dev\": \"vx0\",\n    \"mac\": \"52:54:00:12:34:56\",", calls: "fdb ,close"},
		{name: "fdb show json empty", args: "fdb show --json", stdout: "[]\n", calls: "fdb ,close"},
		{name: "fdb show error", args: "fdb show vx9", plane: fakePlane{err: errors.New("no xtunnel link named vx9 (xtunnel link show lists them)")},
			code: 1, stderr: "xtunnel: fdb show: no xtunnel link named vx9 (xtunnel link show lists them)\n", calls: "fdb vx9,close"},

		{name: "mirror add", args: "mirror add dev eth1 both to erspan1", calls: "mirror add dev eth1 both to erspan1,close"},
		{name: "mirror add sample -v", args: "-v mirror add dev eth1 ingress to erspan1 sample 1/10",
			stderr: "xtunnel: added mirror dev eth1 ingress to erspan1 sample 1/10\n",
			calls:  "mirror add dev eth1 ingress to erspan1 sample 1/10,close"},
		{name: "mirror add --sample", args: "mirror add --sample 1/10 dev eth1 both to erspan1",
			calls: "mirror add dev eth1 both to erspan1 sample 1/10,close"},
		{name: "mirror add --sample=N", args: "mirror add dev eth1 egress to erspan1 --sample=25",
			calls: "mirror add dev eth1 egress to erspan1 sample 1/25,close"},
		{name: "mirror add -- --sample", args: "mirror add -- dev eth1 both to erspan1 --sample 1/4",
			calls: "mirror add dev eth1 both to erspan1 sample 1/4,close"},
		{name: "mirror add json", args: "--json mirror add dev eth1 both to erspan1",
			stdout: `"direction": "egress"`, calls: "mirror add dev eth1 both to erspan1,close"},
		{name: "mirror add error", args: "mirror add dev eth1 both to gre1",
			plane: fakePlane{err: errors.New("mirror add: gre1 is a gre link; mirror into an erspan or ip6erspan link")},
			code:  1, stderr: "xtunnel: mirror add: gre1 is a gre link; mirror into an erspan or ip6erspan link\n",
			calls: "mirror add dev eth1 both to gre1,close"},
		{name: "mirror del", args: "-v mirror del dev eth1", stderr: "xtunnel: deleted mirror dev eth1 both\n",
			calls: "mirror del eth1 both,close"},
		{name: "mirror del ingress", args: "mirror delete dev eth1 ingress", calls: "mirror del eth1 ingress,close"},
		{name: "mirror del joined errors", args: "mirror del dev eth1",
			plane: fakePlane{err: errors.Join(errors.New("detach tcx: busy"), errors.New("delete map entry: busy"))},
			code:  1, stderr: "xtunnel: mirror del dev eth1 both: detach tcx: busy; delete map entry: busy\n",
			calls: "mirror del eth1 both,close"},
		{name: "mirror show", args: "mirror show", plane: fakePlane{mirrors: testMirrors},
			stdout: testMirrorsText, calls: "mirrors ,close"},
		{name: "mirror alone shows", args: "mirror", calls: "mirrors ,close"},
		{name: "mirror show dev", args: "mirror show dev eth1", calls: "mirrors eth1,close"},
		{name: "mirror show json", args: "mirror show --json", plane: fakePlane{mirrors: testMirrors[:1]},
			stdout: `"tc_mode": "tcx"`, calls: "mirrors ,close"},
		{name: "mirror show json empty", args: "--json mirror", stdout: "[]\n", calls: "mirrors ,close"},
		{name: "mirror show error", args: "mirror show", plane: fakePlane{err: errors.New("broken")},
			code: 1, stderr: "xtunnel: mirror show: broken\n", calls: "mirrors ,close"},

		{name: "link add external", args: "link add xgre type gre external local 198.51.100.1",
			calls: "add name xgre type gre external local 198.51.100.1,close"},
		{name: "route add", args: "route add 10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre",
			calls: "routes add 10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre,close"},
		{name: "route add -v", args: "-v route add 10.1.0.0/16 dev gre1 --json",
			stderr: "xtunnel: added route 10.1.0.0/16 dev gre1\n", calls: "routes add 10.1.0.0/16 dev gre1,close"},
		{name: "route add error", args: "route add 10.1.0.0/16 dev gre1", plane: fakePlane{err: &testRouteError{0, "no xtunnel link named gre1"}},
			code: 1, stderr: "xtunnel: route add 10.1.0.0/16 dev gre1: no xtunnel link named gre1\n", calls: "routes add 10.1.0.0/16 dev gre1,close"},
		{name: "route add error named by the dataplane", args: "route add 10.1.0.0/16 dev gre1",
			plane: fakePlane{err: &testRouteError{0, "route add 10.1.0.0/16: gre1 is external"}},
			code:  1, stderr: "xtunnel: route add 10.1.0.0/16: gre1 is external\n", calls: "routes add 10.1.0.0/16 dev gre1,close"},
		{name: "route del", args: "-v route del 10.1.0.0/16", stderr: "xtunnel: deleted route 10.1.0.0/16\n",
			calls: "routes del 10.1.0.0/16,close"},
		{name: "route del error", args: "route del 10.1.0.0/16 dev xgre", plane: fakePlane{err: errors.New("no such route")},
			code: 1, stderr: "xtunnel: route del 10.1.0.0/16 dev xgre: no such route\n", calls: "routes del 10.1.0.0/16 dev xgre,close"},
		{name: "route show", args: "route show", plane: fakePlane{routes: testRoutes}, stdout: testRoutesText, calls: "routes ,close"},
		{name: "route alone shows", args: "route", calls: "routes ,close"},
		{name: "route show dev", args: "route show dev xgre", calls: "routes xgre,close"},
		{name: "route show json", args: "route show --json", plane: fakePlane{routes: testRoutes[:1]},
			stdout: "[\n  {\n    \"prefix\": \"10.1.0.0/16\",\n    \"dev\": \"xgre\",\n    \"encap\": {", calls: "routes ,close"},
		{name: "route show json empty", args: "--json route", stdout: "[]\n", calls: "routes ,close"},
		{name: "route show error", args: "route show", plane: fakePlane{err: errors.New("broken")},
			code: 1, stderr: "xtunnel: route show: broken\n", calls: "routes ,close"},
		{name: "max sizes", args: "--max-tunnels 8 --max-routes 1000000 attach eth0", stdout: "attached eth0",
			calls: "attach eth0,close", maxTunnels: 8, maxRoutes: 1000000},
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
				want := dataplane.Options{BPFFS: dataplane.DefaultBPFFS, XDPMode: "auto", TCMode: "auto",
					MaxTunnels: tt.maxTunnels, MaxRoutes: tt.maxRoutes}
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
