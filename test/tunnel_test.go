package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/lab"
)

// iperfSeconds is the length of each iperf3 run: enough to see TCP work
// through the tunnel, short enough for CI.
const iperfSeconds = 2

// clsactCases are the cases that also run with --tc-mode clsact: one per
// encapsulation path of the TC program (GRE over IPv4, GRE over IPv6, UDP,
// the slow TX path, an Ethernet overlay) rather than all of them, to keep
// CI time down. tcx runs every case.
var clsactCases = []string{"gre-key", "ip6gre", "ipip-fou", "gre-csum-seq", "vxlan"}

// knownBugs are product bugs that make a case fail, by "MODE/CASE" or by
// "CASE" (every mode). A case listed here is skipped with the bug's
// description, so that the suite stays green while the bug is open;
// remove the entry with the fix. Other tests look up the check they would
// fail by its name here and log the bug instead.
var knownBugs = map[string]string{}

// TestTunnels runs every tunnel case of the lab between the two hosts
// with each TC attach mode (tcx: every case; clsact: clsactCases): ping
// 5/5 both ways for each inner family the case carries, tunnel counters
// that move by exactly the ICMP packets (an L2 case: by the ICMP packets
// and at most lab.L2Slack more, after a warm-up ping), iperf3 TCP both
// ways for each inner family with the throughput in the test log, and the
// case's setup (FOU ports, fdb entries) taken back afterwards.
func TestTunnels(t *testing.T) {
	requireLab(t, "iperf3", "ss")
	requireXtunnel(t)
	for _, mode := range []string{"tcx", "clsact"} {
		t.Run(mode, func(t *testing.T) {
			ctx := testCtx(t)
			l := newLab(t, ctx, mode)
			x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS, TCMode: mode}
			if err := l.Attach(ctx, x); err != nil {
				t.Fatal(err)
			}
			for _, c := range lab.Cases() {
				if mode == "clsact" && !slices.Contains(clsactCases, c.Name) {
					continue
				}
				t.Run(c.Name, func(t *testing.T) {
					for _, k := range []string{mode + "/" + c.Name, c.Name} {
						if bug, ok := knownBugs[k]; ok {
							t.Skipf("known bug: %s", bug)
						}
					}
					testTunnel(t, ctx, l, x, c)
				})
			}
		})
	}
}

// TestTunnelCases checks the case list against what the lab promises:
// every type and encapsulation the issue names is there, with the inner
// and underlay families the type has.
func TestTunnelCases(t *testing.T) {
	type shape struct{ u6, v4, v6, l2, kernelB bool }
	want := map[string]shape{
		"gre-key":         {false, true, true, false, false},
		"gre":             {false, true, true, false, false},
		"ipip":            {false, true, false, false, false},
		"sit":             {false, false, true, false, false},
		"sit-any":         {false, true, true, false, false},
		"ip6tnl":          {true, false, true, false, false},
		"ip6tnl-any":      {true, true, true, false, false},
		"ip6tnl-elim":     {true, false, true, false, false},
		"ip6gre":          {true, true, true, false, false},
		"ipip-fou":        {false, true, false, false, false},
		"gre-fou":         {false, true, true, false, false},
		"ipip-gue":        {false, true, false, false, false},
		"sit-gue":         {false, false, true, false, false},
		"gre-csum-seq":    {false, true, true, false, false},
		"ip6gre-csum":     {true, true, true, false, false},
		"ipip-fou-csum":   {false, true, false, false, false},
		"ip6tnl-fou":      {true, false, true, false, false},
		"ip6gre-gue":      {true, true, true, false, false},
		"gretap":          {false, true, true, true, false},
		"gretap-key-csum": {false, true, true, true, false},
		"ip6gretap":       {true, true, true, true, false},
		"vxlan":           {false, true, true, true, false},
		"vxlan6":          {true, true, true, true, false},
		"vxlan-fdb":       {false, true, true, true, false},
		"geneve":          {false, true, true, true, false},
		"geneve-opts":     {false, true, true, true, false},
		"geneve6":         {true, true, true, true, false},
		"geneve-l3":       {false, true, true, false, false},
		"vxlan-kernel":    {false, true, true, true, true},
		"vxlan6-kernel":   {true, true, true, true, true},
	}
	got := map[string]bool{}
	for _, c := range lab.Cases() {
		if got[c.Name] {
			t.Errorf("case %s twice", c.Name)
		}
		got[c.Name] = true
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("case %s: not in this test's list", c.Name)
			continue
		}
		if g := (shape{c.Underlay6, c.InnerV4, c.InnerV6, c.L2, c.KernelB != nil}); g != w {
			t.Errorf("case %s: underlay6 inner4 inner6 l2 kernelB %v, want %v", c.Name, g, w)
		}
		for _, s := range c.Setup {
			if len(s.Do) == 0 || len(s.Undo) == 0 {
				t.Errorf("case %s: setup step %+v needs both Do and Undo", c.Name, s)
			}
		}
		if c.PostLink != nil {
			for _, s := range c.PostLink(lab.UnderlayA, lab.UnderlayB) {
				if len(s.Do) == 0 || len(s.Undo) == 0 {
					t.Errorf("case %s: post-link step %+v needs both Do and Undo", c.Name, s)
				}
			}
		}
		if c.L2 {
			for _, p := range c.PingTargets() {
				if !slices.Contains([]string{lab.L2A4, lab.L2A6, lab.L2B4, lab.L2B6}, p.Dst) {
					t.Errorf("case %s: L2 case pings %s, not an address of the L2 segment", c.Name, p.Dst)
				}
			}
		}
	}
	for name := range want {
		if !got[name] {
			t.Errorf("case %s missing from lab.Cases()", name)
		}
	}
	for _, name := range clsactCases {
		if !got[name] {
			t.Errorf("clsactCases names %s, which lab.Cases() does not have", name)
		}
	}
}

func testTunnel(t *testing.T, ctx context.Context, l *lab.Lab, x lab.Xtunnel, c lab.TunnelCase) {
	if err := l.AddTunnel(ctx, x, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx := context.WithoutCancel(ctx)
		if err := l.DelTunnel(dctx, x); err != nil {
			t.Errorf("link del: %v", err)
		}
		if c.PostLink != nil {
			// fdb del ran, and link del took the rest.
			for _, h := range l.Hosts() {
				out, _, err := x.Run(dctx, h.NS, "fdb", "show")
				if err != nil {
					t.Errorf("host %s fdb show: %v", h.Name, err)
				} else if s := strings.TrimSpace(out); s != "" {
					t.Errorf("host %s: after the case, fdb show still lists %q", h.Name, s)
				}
			}
		}
		if len(c.Setup) > 0 {
			// fou del ran: no port may be left open.
			for _, h := range l.Hosts() {
				out, _, err := x.Run(dctx, h.NS, "fou", "show")
				if err != nil {
					t.Errorf("host %s fou show: %v", h.Name, err)
				} else if s := strings.TrimSpace(out); s != "" {
					t.Errorf("host %s: after the case, fou show still lists %q", h.Name, s)
				}
			}
		}
	})

	if err := l.Settle(ctx, x, c); err != nil {
		t.Fatal(err)
	}

	for _, p := range c.PingTargets() {
		pingWithin(t, ctx, l, x, p.FromA, p.Dst, c.CounterSlack())
	}

	for _, run := range l.TCPRuns(c) {
		gbps, err := lab.IPerf(ctx, run.ServerNS, run.Addr, run.ClientNS, iperfSeconds)
		if err != nil {
			t.Errorf("TCP %s: %v", run.Name, err)
			continue
		}
		if gbps <= 0 {
			t.Errorf("TCP %s: %.3f Gbit/s, want > 0", run.Name, gbps)
		}
		t.Logf("%s %s (underlay %s) TCP %s over %s: %.2f Gbit/s", x.TCMode, c.Name, c.Underlay(), run.Name, run.Addr, gbps)
	}
}

// pingExact pings 5 times through the tunnel, all of which must be
// answered, and checks that the tunnel counters on both hosts moved by
// exactly the echo requests and replies. The counters are read right
// around the ping; should something else cross the tunnel in that window
// (a surplus, never a shortfall) the ping is measured again, up to three
// times, and one exact window is required.
func pingExact(t *testing.T, ctx context.Context, l *lab.Lab, x lab.Xtunnel, fromA bool, dst string) {
	t.Helper()
	pingWithin(t, ctx, l, x, fromA, dst, 0)
}

// pingWithin is pingExact that lets each packet counter exceed the ICMP
// packets by up to slack (lab.TunnelCase.CounterSlack) in a window that
// passes.
func pingWithin(t *testing.T, ctx context.Context, l *lab.Lab, x lab.Xtunnel, fromA bool, dst string, slack uint64) {
	t.Helper()
	const attempts = 3
	for i := 1; i <= attempts; i++ {
		r, err := l.PingThrough(ctx, x, fromA, dst, lab.PingsPerRun)
		if err != nil {
			t.Errorf("ping %s %s: %v (tunnel deltas A %+v B %+v, reasons A %v B %v)", r.Path(), dst, err, r.A, r.B, r.ReasonsA, r.ReasonsB)
			return
		}
		excess, err := r.CheckCountersWithin(slack)
		if err == nil {
			how := "exact"
			if slack > 0 {
				how = fmt.Sprintf("within +%d", slack)
			}
			t.Logf("ping %s %s: %d/%d, counters %s (A %+v, B %+v)", r.Path(), dst, r.Received, r.Transmitted, how, r.A, r.B)
			return
		}
		if !excess || i == attempts {
			t.Errorf("counters: %v", err)
			return
		}
		t.Logf("attempt %d: surplus on the tunnel, measuring again: %v", i, err)
	}
}
