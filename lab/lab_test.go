package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParsePing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     string
		want    PingStats
		wantErr bool
	}{
		{
			name: "ipv4 all answered",
			out: `PING 10.2.0.2 (10.2.0.2) 56(84) bytes of data.
64 bytes from 10.2.0.2: icmp_seq=1 ttl=62 time=0.081 ms

--- 10.2.0.2 ping statistics ---
5 packets transmitted, 5 received, 0% packet loss, time 818ms
rtt min/avg/max/mdev = 0.046/0.066/0.081/0.012 ms
`,
			want: PingStats{Transmitted: 5, Received: 5},
		},
		{
			name: "ipv6 some lost",
			out: `PING fd00:2::2(fd00:2::2) 56 data bytes

--- fd00:2::2 ping statistics ---
5 packets transmitted, 3 received, 40% packet loss, time 820ms
`,
			want: PingStats{Transmitted: 5, Received: 3},
		},
		{
			name: "unreachable with errors",
			out: `From 10.1.0.1 icmp_seq=1 Destination Net Unreachable

--- 10.2.0.2 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 201ms
`,
			want: PingStats{Transmitted: 2, Received: 0},
		},
		{name: "no summary", out: "ping: connect: Network is unreachable\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePing(tc.out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseIPerf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    float64
		wantErr string
	}{
		{
			name: "client report",
			in:   `{"start":{},"intervals":[],"end":{"sum_sent":{"bits_per_second":9.9e9},"sum_received":{"bits_per_second":9.5e9}}}`,
			want: 9.5,
		},
		{name: "iperf3 error", in: `{"start":{},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}`, wantErr: "Connection refused"},
		{name: "no end", in: `{"start":{}}`, wantErr: "sum_received"},
		{name: "not json", in: `iperf3: error`, wantErr: "iperf3 --json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIPerf([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v Gbit/s, want %v", got, tc.want)
			}
		})
	}
}

func TestParseStats(t *testing.T) {
	want := Counters{RxPackets: 5, RxBytes: 420, TxPackets: 6, TxBytes: 536, TxDropped: 1}
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"documented shape", `{"tunnels":[{"name":"xt0","rx_packets":5,"rx_bytes":420,"rx_dropped":0,"tx_packets":6,"tx_bytes":536,"tx_dropped":1}],"reasons":{"decap":5,"encap":6}}`},
		{"two tunnels", `{"tunnels":[{"name":"gre9","rx_packets":1},{"name":"xt0","rx_packets":5,"rx_bytes":420,"tx_packets":6,"tx_bytes":536,"tx_dropped":1}],"reasons":{"decap":5,"encap":6}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ParseStats([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Tunnels["xt0"]; got != want {
				t.Errorf("xt0 = %+v, want %+v", got, want)
			}
			if st.Reasons["decap"] != 5 || st.Reasons["encap"] != 6 {
				t.Errorf("reasons = %v", st.Reasons)
			}
		})
	}
	for _, bad := range []string{`{"reasons":{}}`, `[]`, `not json`, `{"tunnels":{"xt0":{}}}`} {
		if _, err := ParseStats([]byte(bad)); err == nil {
			t.Errorf("ParseStats(%q): want an error", bad)
		}
	}
}

func TestCountersAndReasons(t *testing.T) {
	a := Counters{RxPackets: 10, RxBytes: 1000, TxPackets: 7, TxBytes: 700, RxDropped: 1}
	b := Counters{RxPackets: 4, RxBytes: 400, TxPackets: 2, TxBytes: 200}
	d := a.Sub(b)
	if d != (Counters{RxPackets: 6, RxBytes: 600, TxPackets: 5, TxBytes: 500, RxDropped: 1}) {
		t.Errorf("Sub = %+v", d)
	}
	if d.Packets() != 11 {
		t.Errorf("Packets = %d, want 11", d.Packets())
	}
	got := ReasonDelta(map[string]uint64{"decap": 3, "pass_not_ip": 1}, map[string]uint64{"decap": 8, "pass_not_ip": 1, "encap": 2})
	if len(got) != 2 || got["decap"] != 5 || got["encap"] != 2 {
		t.Errorf("ReasonDelta = %v", got)
	}
}

func TestCheckCounters(t *testing.T) {
	five := Counters{RxPackets: 5, TxPackets: 5}
	for _, tc := range []struct {
		name       string
		r          PingResult
		wantErr    bool
		wantExcess bool
	}{
		{"exact A->B", PingResult{FromA: true, PingStats: PingStats{5, 5}, A: five, B: five}, false, false},
		{"exact B->A with loss", PingResult{PingStats: PingStats{5, 4},
			A: Counters{RxPackets: 5, TxPackets: 4}, B: Counters{RxPackets: 4, TxPackets: 5}}, false, false},
		{"surplus on A", PingResult{FromA: true, PingStats: PingStats{5, 5},
			A: Counters{RxPackets: 5, TxPackets: 6}, B: five}, true, true},
		{"missed on B", PingResult{FromA: true, PingStats: PingStats{5, 5},
			A: five, B: Counters{RxPackets: 4, TxPackets: 5}}, true, false},
		{"surplus and missed", PingResult{FromA: true, PingStats: PingStats{5, 5},
			A: Counters{RxPackets: 5, TxPackets: 6}, B: Counters{RxPackets: 4, TxPackets: 5}}, true, false},
		{"drop", PingResult{FromA: true, PingStats: PingStats{5, 5},
			A: Counters{RxPackets: 5, TxPackets: 5, TxDropped: 1}, B: five}, true, true},
		{"wrong direction", PingResult{FromA: false, PingStats: PingStats{5, 5},
			A: Counters{TxPackets: 5}, B: Counters{RxPackets: 5}}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			excess, err := tc.r.CheckCounters()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && excess != tc.wantExcess {
				t.Errorf("excess = %v, want %v (%v)", excess, tc.wantExcess, err)
			}
		})
	}
}

func TestCheckCountersWithin(t *testing.T) {
	five := Counters{RxPackets: 5, TxPackets: 5}
	seven := Counters{RxPackets: 7, TxPackets: 7}
	for _, tc := range []struct {
		name       string
		r          PingResult
		slack      uint64
		wantErr    bool
		wantExcess bool
	}{
		{"exact", PingResult{FromA: true, PingStats: PingStats{5, 5}, A: five, B: five}, 2, false, false},
		{"ARP inside the slack", PingResult{FromA: true, PingStats: PingStats{5, 5}, A: seven, B: seven}, 2, false, false},
		{"over the slack", PingResult{FromA: true, PingStats: PingStats{5, 5},
			A: Counters{RxPackets: 5, TxPackets: 8}, B: five}, 2, true, true},
		{"missed, slack or not", PingResult{FromA: true, PingStats: PingStats{5, 5},
			A: five, B: Counters{RxPackets: 4, TxPackets: 6}}, 2, true, false},
		{"drops have no slack", PingResult{FromA: false, PingStats: PingStats{5, 5},
			A: five, B: Counters{RxPackets: 5, TxPackets: 5, RxDropped: 1}}, 2, true, true},
		{"no slack: exact", PingResult{FromA: true, PingStats: PingStats{5, 5}, A: seven, B: seven}, 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			excess, err := tc.r.CheckCountersWithin(tc.slack)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && excess != tc.wantExcess {
				t.Errorf("excess = %v, want %v (%v)", excess, tc.wantExcess, err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	p := Prefix("")
	if want := fmt.Sprintf("xt%d-", os.Getpid()%10000); p != want {
		t.Errorf("Prefix(\"\") = %q, want %q", p, want)
	}
	if !prefixRE.MatchString(p) || !prefixRE.MatchString(Prefix("tcx")) {
		t.Errorf("Prefix output does not follow the scheme: %q %q", p, Prefix("tcx"))
	}
	for name, want := range map[string]bool{
		"xt1234-hostA":     true,
		"xt1-cliB":         true,
		"xt99-tcx-cliA":    true,
		"xt12345-hostA":    false, // five digits: not ours
		"xt1234-hostC":     false,
		"xt1234-hostA-x":   false,
		"myns-xt1234-cliA": false,
		"xt12-Tag-hostB":   false,
	} {
		if got := nsRE.MatchString(name); got != want {
			t.Errorf("nsRE.MatchString(%q) = %v, want %v", name, got, want)
		}
	}
	if got := unescapeMount(`/tmp/a\040b`); got != "/tmp/a b" {
		t.Errorf("unescapeMount = %q", got)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and bpffs")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2) in PATH")
	}
}

// TestCleanStale leaves a "crashed run" (a namespace and a bpffs whose pid
// suffix no process has) and a namespace whose pid suffix is alive:
// CleanStale must remove the first two and keep the third.
func TestCleanStale(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()

	// A suffix far from the pids the kernel hands out next, and unused.
	last, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		t.Skip("no /proc/sys/kernel/ns_last_pid:", err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(last)))
	live := livePidSuffixes()
	dead := -1
	for i := 0; i < 10000; i++ {
		if s := (n + 5000 + i) % 10000; !live[s] && s != os.Getpid()%10000 {
			dead = s
			break
		}
	}
	if dead < 0 {
		t.Skip("every pid suffix is in use")
	}
	deadNS := fmt.Sprintf("xt%d-stalecheck-hostA", dead)
	liveNS := fmt.Sprintf("xt%d-stalecheck-hostB", os.Getppid()%10000)
	for _, ns := range []string{deadNS, liveNS} {
		if _, err := ip(ctx, "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = deleteNamespace(context.Background(), ns) })
	}
	dir, err := MountBPFFS(fmt.Sprintf("xt%d-stalecheck-", dead))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = UnmountBPFFS(dir) })

	removed, err := CleanStale(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed %v", removed)
	if nsExists(deadNS) {
		t.Errorf("stale namespace %s was kept", deadNS)
	}
	if !nsExists(liveNS) {
		t.Errorf("namespace %s of a live pid suffix was removed", liveNS)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("stale bpffs %s was kept (stat: %v)", dir, err)
	}
}

func TestParseLinkStats(t *testing.T) {
	in := `[{"ifindex":9,"ifname":"xt0","stats64":{"rx":{"bytes":490,"packets":5,"errors":0,"dropped":1},"tx":{"bytes":420,"packets":6,"errors":0,"dropped":0}}}]`
	got, err := ParseLinkStats([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counters{RxPackets: 5, RxBytes: 490, RxDropped: 1, TxPackets: 6, TxBytes: 420}); got != want {
		t.Errorf("ParseLinkStats = %+v, want %+v", got, want)
	}
	for _, bad := range []string{`[]`, `[{"ifname":"xt0"}]`, `not json`, `{}`} {
		if _, err := ParseLinkStats([]byte(bad)); err == nil {
			t.Errorf("ParseLinkStats(%q): want an error", bad)
		}
	}
}

func TestCaseTargets(t *testing.T) {
	l := &Lab{CliA: "a", CliB: "b"}
	for _, tc := range []struct {
		c     TunnelCase
		pings []string
		tcp   []string
	}{
		{TunnelCase{L2: true, InnerV4: true, InnerV6: true}, []string{L2B4, L2A4, L2B6, L2A6},
			[]string{"b " + L2B4 + " a", "a " + L2A4 + " b", "b " + L2B6 + " a", "a " + L2A6 + " b"}},
		{TunnelCase{InnerV4: true}, []string{CliB4, CliA4}, []string{"b " + CliB4 + " a", "a " + CliA4 + " b"}},
		{TunnelCase{InnerV6: true}, []string{CliB6, CliA6}, []string{"b " + CliB6 + " a", "a " + CliA6 + " b"}},
		{TunnelCase{InnerV4: true, InnerV6: true}, []string{CliB4, CliA4, CliB6, CliA6},
			[]string{"b " + CliB4 + " a", "a " + CliA4 + " b", "b " + CliB6 + " a", "a " + CliA6 + " b"}},
	} {
		var pings, tcp []string
		for i, p := range tc.c.PingTargets() {
			if p.FromA != (i%2 == 0) {
				t.Errorf("%+v: ping %d FromA %v", tc.c, i, p.FromA)
			}
			pings = append(pings, p.Dst)
		}
		for i, r := range l.TCPRuns(tc.c) {
			if want := []string{"A->B", "B->A"}[i%2]; r.Name != want {
				t.Errorf("%+v: TCP run %d is %s, want %s", tc.c, i, r.Name, want)
			}
			if r.V6() != strings.Contains(r.Addr, ":") {
				t.Errorf("V6() of %s", r.Addr)
			}
			tcp = append(tcp, r.ServerNS+" "+r.Addr+" "+r.ClientNS)
		}
		if fmt.Sprint(pings) != fmt.Sprint(tc.pings) || fmt.Sprint(tcp) != fmt.Sprint(tc.tcp) {
			t.Errorf("%+v: pings %v tcp %v, want %v %v", tc.c, pings, tcp, tc.pings, tc.tcp)
		}
	}
	s := FOUPort(5555, "ipproto", "4")
	if fmt.Sprint(s.Do) != "[fou add port 5555 ipproto 4]" || fmt.Sprint(s.Undo) != "[fou del port 5555]" {
		t.Errorf("FOUPort = %+v", s)
	}
	fl := FloodTo(UnderlayA, UnderlayB)
	if len(fl) != 1 || fmt.Sprint(fl[0].Do) != "[fdb add 00:00:00:00:00:00 dst 198.51.100.2 dev xt0]" ||
		fmt.Sprint(fl[0].Undo) != "[fdb del 00:00:00:00:00:00 dev xt0 dst 198.51.100.2]" {
		t.Errorf("FloodTo = %+v", fl)
	}
	if (TunnelCase{}).CounterSlack() != 0 || (TunnelCase{L2: true}).CounterSlack() != L2Slack {
		t.Errorf("CounterSlack: L3 %d, L2 %d", (TunnelCase{}).CounterSlack(), (TunnelCase{L2: true}).CounterSlack())
	}
	h := l.Hosts()
	for _, c := range []TunnelCase{{}, {Underlay6: true}} {
		la, ra := h[0].Endpoints(c)
		lb, rb := h[1].Endpoints(c)
		want := [4]string{UnderlayA, UnderlayB, UnderlayB, UnderlayA}
		if c.Underlay6 {
			want = [4]string{UnderlayA6, UnderlayB6, UnderlayB6, UnderlayA6}
		}
		if [4]string{la, ra, lb, rb} != want {
			t.Errorf("Endpoints(underlay6 %v) = %v, want %v", c.Underlay6, [4]string{la, ra, lb, rb}, want)
		}
	}
}

// TestCasesWellFormed checks every case's words: the tunnel is named
// TunnelName on both hosts (kernel netdev included), an L2 case carries
// both families, and PostLink steps can be taken back.
func TestCasesWellFormed(t *testing.T) {
	for _, c := range Cases() {
		for _, h := range (&Lab{}).Hosts() {
			local, remote := h.Endpoints(c)
			a := c.Args(local, remote)
			if i := slices.Index(a, "name"); i < 0 || i+1 >= len(a) || a[i+1] != TunnelName {
				t.Errorf("%s host %s: link add %v does not name %s", c.Name, h.Name, a, TunnelName)
			}
			if c.kernelHost(h) {
				if k := c.KernelB(local, remote); len(k) == 0 || k[0] != TunnelName {
					t.Errorf("%s: ip link add %v does not name %s", c.Name, k, TunnelName)
				}
			}
			if c.PostLink != nil {
				for _, s := range c.PostLink(local, remote) {
					if len(s.Do) == 0 || len(s.Undo) == 0 {
						t.Errorf("%s: post-link step %+v needs Do and Undo", c.Name, s)
					}
				}
			}
		}
		if c.L2 && (!c.InnerV4 || !c.InnerV6) {
			t.Errorf("%s: an L2 case carries both families", c.Name)
		}
		if c.KernelB != nil && !c.L2 {
			t.Errorf("%s: KernelB is only for L2 cases", c.Name)
		}
	}
}
