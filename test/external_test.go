package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/lab"
)

// TestExternal: one external (multipoint) gre link per host, the peer as
// a route with its key (`route add PREFIX encap ip id KEY dst ADDR dev
// NAME`), loaded with -batch on host A. Ping works both ways; `route show`
// lists the routes; a peer sending with another key is not taken
// (pass_no_tunnel); route del stops the traffic (tx_no_route); link del
// removes the routes.
func TestExternal(t *testing.T) {
	requireLab(t)
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "ext")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}
	if err := l.Attach(ctx, x); err != nil {
		t.Fatal(err)
	}
	hosts := l.Hosts()
	for _, h := range hosts {
		if _, _, err := x.Run(ctx, h.NS, "link", "add", "xg", "type", "gre", "external", "dev", h.Dev); err != nil {
			t.Fatal(err)
		}
		if _, err := lab.Run(ctx, h.NS, "ip", "link", "set", "xg", "up"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, h := range hosts {
			x.Run(ctx, h.NS, "link", "del", "xg")
		}
	})
	// Host A: a batch file with the peer and two more (unused) peers.
	batch := filepath.Join(t.TempDir(), "routes")
	lines := "# peers of xg\n" +
		"route add " + lab.SiteB4 + " encap ip id 42 dst " + lab.UnderlayB + " dev xg\n" +
		"route add 10.77.0.0/16 encap ip id 7 dst 198.51.100.77 ttl 32 dev xg\n" +
		"route add 10.78.0.0/16 encap ip dst 198.51.100.78 dev xg\n"
	if err := os.WriteFile(batch, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.Run(ctx, l.HostA, "-batch", batch); err != nil {
		t.Fatalf("-batch: %v", err)
	}
	if _, _, err := x.Run(ctx, l.HostB, "route", "add", lab.SiteA4, "encap", "ip", "id", "42", "dst", lab.UnderlayA, "dev", "xg"); err != nil {
		t.Fatal(err)
	}
	out, _, err := x.Run(ctx, l.HostA, "route", "show")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		lab.SiteB4 + " encap ip id 42 dst " + lab.UnderlayB + " dev xg",
		"10.77.0.0/16 encap ip id 7 dst 198.51.100.77 ttl 32 dev xg",
		"10.78.0.0/16 encap ip dst 198.51.100.78 dev xg",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("route show on A:\n%s\nwant a line %q", out, want)
		}
	}
	for _, p := range []struct{ from, dst string }{{l.CliA, lab.CliB4}, {l.CliB, lab.CliA4}} {
		if ps, err := lab.PingCount(ctx, p.from, p.dst, 5); err != nil || ps.Received != 5 {
			t.Fatalf("ping %s -> %s over the external link: %+v, %v; want 5/5", p.from, p.dst, ps, err)
		}
	}

	// B sends with key 43 now: A has no peer with that key.
	if _, _, err := x.Run(ctx, l.HostB, "route", "del", lab.SiteA4); err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.Run(ctx, l.HostB, "route", "add", lab.SiteA4, "encap", "ip", "id", "43", "dst", lab.UnderlayA, "dev", "xg"); err != nil {
		t.Fatal(err)
	}
	before, err := x.Stats(ctx, l.HostA)
	if err != nil {
		t.Fatal(err)
	}
	if ps, _ := lab.PingCount(ctx, l.CliB, lab.CliA4, 3); ps.Received != 0 {
		t.Errorf("ping with the wrong key: %d/3 answered; want 0", ps.Received)
	}
	after, err := x.Stats(ctx, l.HostA)
	if err != nil {
		t.Fatal(err)
	}
	if d := lab.ReasonDelta(before.Reasons, after.Reasons); d["pass_no_tunnel"] < 3 || d["decap"] != 0 {
		t.Errorf("A's reasons for B's packets with key 43: %v; want pass_no_tunnel >= 3 and no decap", d)
	}

	// Without the route, A has nowhere to send.
	if _, _, err := x.Run(ctx, l.HostA, "route", "del", lab.SiteB4, "dev", "xg"); err != nil {
		t.Fatal(err)
	}
	before, _ = x.Stats(ctx, l.HostA)
	lab.Run(ctx, l.HostA, "ip", "route", "add", lab.SiteB4, "dev", "xg")
	lab.PingCount(ctx, l.CliA, lab.CliB4, 2)
	after, _ = x.Stats(ctx, l.HostA)
	if d := lab.ReasonDelta(before.Reasons, after.Reasons); d["tx_no_route"] < 2 {
		t.Errorf("A's reasons after route del: %v; want tx_no_route >= 2", d)
	}

	if _, _, err := x.Run(ctx, l.HostA, "link", "del", "xg"); err != nil {
		t.Fatal(err)
	}
	out, _, err = x.Run(ctx, l.HostA, "route", "show")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("route show after link del: %q, %v; want nothing", out, err)
	}
}
