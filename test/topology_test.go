package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/lab"
)

// TestLabTopology checks the lab without xtunnel: every client reaches its
// host, the hosts reach each other over the underlay, the two sites reach
// each other only once plain routes over the underlay are added (so in the
// tunnel tests only the tunnel can carry them), the L2 segment is there
// (MTU, bridge port, no host address on it) and its two halves do not
// reach each other, and Cleanup leaves nothing.
func TestLabTopology(t *testing.T) {
	requireLab(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "topo")

	mustPing := func(ns, dst string) {
		t.Helper()
		if _, err := lab.Ping(ctx, ns, dst, 3); err != nil {
			t.Error(err)
		}
	}
	mustPing(l.CliA, "10.1.0.1")
	mustPing(l.CliA, "fd00:1::1")
	mustPing(l.CliB, "10.2.0.1")
	mustPing(l.CliB, "fd00:2::1")
	mustPing(l.HostA, lab.UnderlayB)
	mustPing(l.HostB, lab.UnderlayA)

	isolated := func(when string) {
		t.Helper()
		for _, p := range []struct{ ns, dst string }{
			{l.CliA, lab.CliB4}, {l.CliB, lab.CliA4}, {l.CliA, lab.CliB6}, {l.CliB, lab.CliA6},
		} {
			if n, _ := lab.Ping(ctx, p.ns, p.dst, 1); n != 0 {
				t.Errorf("%s: %s reaches %s without any route between the sites", when, p.ns, p.dst)
			}
		}
	}
	isolated("before RouteUnderlay")

	for _, h := range []struct{ cli, host string }{{l.CliA, l.HostA}, {l.CliB, l.HostB}} {
		if out := runOK(t, ctx, h.cli, "ip", "-o", "link", "show", "dev", lab.L2CliDev); !strings.Contains(out, fmt.Sprintf(" mtu %d ", lab.L2MTU)) {
			t.Errorf("[%s] %s: want mtu %d: %s", h.cli, lab.L2CliDev, lab.L2MTU, out)
		}
		if out := runOK(t, ctx, h.host, "ip", "-o", "link", "show", "dev", lab.L2HostDev); !strings.Contains(out, " master "+lab.Bridge+" ") {
			t.Errorf("[%s] %s is not a port of %s: %s", h.host, lab.L2HostDev, lab.Bridge, out)
		}
		for _, dev := range []string{lab.Bridge, lab.L2HostDev} {
			if out := strings.TrimSpace(runOK(t, ctx, h.host, "ip", "-o", "addr", "show", "dev", dev)); out != "" {
				t.Errorf("[%s] %s has addresses; the hosts take no part in the L2 segment: %s", h.host, dev, out)
			}
		}
	}
	for _, p := range []struct{ ns, dst string }{
		{l.CliA, lab.L2B4}, {l.CliB, lab.L2A4}, {l.CliA, lab.L2B6}, {l.CliB, lab.L2A6},
	} {
		if n, _ := lab.Ping(ctx, p.ns, p.dst, 1); n != 0 {
			t.Errorf("%s reaches %s on the L2 segment without any tunnel", p.ns, p.dst)
		}
	}

	undo, err := l.RouteUnderlay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ ns, dst string }{
		{l.CliA, lab.CliB4}, {l.CliB, lab.CliA4}, {l.CliA, lab.CliB6}, {l.CliB, lab.CliA6},
	} {
		n, err := lab.Ping(ctx, p.ns, p.dst, 5)
		if err != nil {
			t.Errorf("plain routing: %v", err)
			continue
		}
		t.Logf("plain routing %s -> %s: %d/5", p.ns, p.dst, n)
	}
	if err := undo(ctx); err != nil {
		t.Fatal(err)
	}
	isolated("after undoing RouteUnderlay")

	bpffs := l.BPFFS
	if fi, err := os.Stat(bpffs); err != nil || !fi.IsDir() {
		t.Errorf("lab bpffs %q: %v", bpffs, err)
	}
	if err := l.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if err := l.Cleanup(); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range l.Namespaces() {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == ns {
				t.Errorf("namespace %s still exists after Cleanup", ns)
			}
		}
	}
	if _, err := os.Stat(bpffs); !os.IsNotExist(err) {
		t.Errorf("bpffs dir %s still exists after Cleanup (stat: %v)", bpffs, err)
	}
}
