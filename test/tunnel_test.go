package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/xtunnel/xtunnel/lab"
)

// iperfSeconds is the length of each iperf3 run: enough to see TCP work
// through the tunnel, short enough for CI.
const iperfSeconds = 2

// TestTunnels runs every implemented tunnel type between the two hosts
// with each TC attach mode: ping 5/5 both ways (IPv4, and IPv6 inside GRE),
// tunnel counters that move by exactly the ICMP packets, and iperf3 TCP
// both ways with the throughput in the test log.
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
				t.Run(c.Name, func(t *testing.T) { testTunnel(t, ctx, l, x, c) })
			}
		})
	}
}

func testTunnel(t *testing.T, ctx context.Context, l *lab.Lab, x lab.Xtunnel, c lab.TunnelCase) {
	if err := l.AddTunnel(ctx, x, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.DelTunnel(context.WithoutCancel(ctx), x); err != nil {
			t.Errorf("link del: %v", err)
		}
	})

	if err := l.WaitQuiet(ctx, x, time.Second, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	pingExact(t, ctx, l, x, true, lab.CliB4)
	pingExact(t, ctx, l, x, false, lab.CliA4)
	if c.InnerV6 {
		pingExact(t, ctx, l, x, true, lab.CliB6)
		pingExact(t, ctx, l, x, false, lab.CliA6)
	}

	for _, d := range []struct {
		name                     string
		serverNS, addr, clientNS string
	}{
		{"A->B", l.CliB, lab.CliB4, l.CliA},
		{"B->A", l.CliA, lab.CliA4, l.CliB},
	} {
		gbps, err := lab.IPerf(ctx, d.serverNS, d.addr, d.clientNS, iperfSeconds)
		if err != nil {
			t.Errorf("TCP %s: %v", d.name, err)
			continue
		}
		if gbps <= 0 {
			t.Errorf("TCP %s: %.3f Gbit/s, want > 0", d.name, gbps)
		}
		t.Logf("%s %s TCP %s: %.2f Gbit/s", x.TCMode, c.Name, d.name, gbps)
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
	const attempts = 3
	for i := 1; i <= attempts; i++ {
		r, err := l.PingThrough(ctx, x, fromA, dst, lab.PingsPerRun)
		if err != nil {
			t.Errorf("ping %s %s: %v", r.Path(), dst, err)
			return
		}
		excess, err := r.CheckCounters()
		if err == nil {
			t.Logf("ping %s %s: %d/%d, counters exact (A %+v, B %+v)", r.Path(), dst, r.Received, r.Transmitted, r.A, r.B)
			return
		}
		if !excess || i == attempts {
			t.Errorf("counters: %v", err)
			return
		}
		t.Logf("attempt %d: surplus on the tunnel, measuring again: %v", i, err)
	}
}
