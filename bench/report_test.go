package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleResults is a run with one or two rows per section, figures made
// up: what the rendering is tested on.
func sampleResults() *Results {
	s := func(med, lo, hi float64) Stat { return Stat{Median: med, Min: lo, Max: hi} }
	res := &Results{
		Kernel: "6.18.0-test", CPUs: 2, LoadAvg: [2]string{"0.10 0.20 0.30", "1.00 0.50 0.40"}, Elapsed: 231,
		ProgramCost: &CostReport{Kernel: "6.18.0-test", CPUs: 2, PinnedTo: 1, Rounds: 3, Loads: 2, Calls: 10,
			Rows: []CostRow{
				{Program: "empty", Direction: "baseline", Hook: "xdp", Inner: "ipv4", FrameBytes: 98,
					NsPerPacket: s(70, 69, 71), RatioToEmpty: s(1, 1, 1)},
				{Program: "vxlan6", Direction: "encap", Hook: "tc-peer", Outer: "ipv6", Inner: "eth", FrameBytes: 98,
					NsPerPacket: s(900, 880, 950), NsAboveEmpty: s(830, 810, 880), RatioToEmpty: s(12.9, 12.5, 13.5),
					PerLoad: s(0, 890, 910)},
			},
			Sizes: []ProgramSize{{Name: "xt_xdp_underlay", VerifiedInsns: 123456, XlatedInsns: 4321, JitedBytes: 23456}},
		},
		Gateway: &GatewayReport{Rounds: 5, Frames: 1000, CPU: 1, Rows: []PPSRow{
			{Path: "mac-swap baseline", Ingress: "ethB", Egress: "ethA (XDP_TX)", FrameBytes: 98,
				Mpps: s(10, 9, 11), Delivered: s(1, 1, 1), Ratio: s(1, 1, 1)},
			{Path: "decap→forward", Tunnel: "gre", Class: "ip", Ingress: "ethB", Egress: "vcli (redirect)", FrameBytes: 122,
				Mpps: s(4, 3.5, 4.2), Delivered: s(1, 0.999, 1), Ratio: s(0.4, 0.35, 0.42), Target: atLeast(0.4, TargetDecapIP)},
		}},
		VXLANPeer: &VXLANPeerReport{Rounds: 5, Frames: 1000, Rows: []PPSRow{
			{Path: "kernel vxlan decap", Tunnel: "vxlan", Ingress: "ethB", Egress: "kvx0", Mpps: s(1, 1, 1), Ratio: s(1, 1, 1)},
			{Path: "xtunnel vxlan decap", Tunnel: "vxlan", Ingress: "ethB", Egress: "xvx0", Mpps: s(4.5, 4, 5),
				Ratio: s(4.5, 4, 5), Target: atLeast(4.5, TargetVXLANPeer)},
		}},
		TCP: &TCPReport{Rounds: 3, Seconds: 2, Rows: []TCPRow{
			{Setup: "veth + empty xdp", Path: "routed", XDP: "empty", Gbps: s(2, 1.9, 2.1), VsNoXDP: s(0.8, 0.7, 0.9)},
			{Setup: "xtunnel gre", Path: "routed", XDP: "xtunnel", Gbps: s(1.9, 1.8, 2), VsFair: s(0.95, 0.9, 1),
				VsKernel: s(1.1, 1, 1.2), TargetFair: atLeast(0.95, TargetTCPFair), TargetKernel: atLeast(1.1, TargetTCPKernel)},
		}},
		Scale: &ScaleReport{MaxRoutes: 1 << 20, LoadPeers: 1_000_000, LoadSeconds: 14, LoadTarget: atMost(14, TargetLoadSecs),
			RoutesBytes: 84_000_000, RPeersBytes: 104_778_112, BytesTarget: atMost(188.8, TargetPeerBytes),
			CLIPeers: 100_000, CLISeconds: 3, CLIPerPeerUs: 30, CLINote: "a note",
			Rows: []ScaleRow{
				{Peers: 1, DecapVsOne: s(1, 1, 1), EncapVsOne: s(1, 1, 1), MapBytes: 1 << 24, BytesPerPeer: 1 << 24,
					Decap: CostRow{Samples: []float64{1, 2, 3}}},
				{Peers: 1_000_000, DecapVsOne: s(1.45, 1.4, 1.7), EncapVsOne: s(4.8, 4.6, 5.6),
					DecapTarget: atMost(1.45, TargetScaleCost), EncapTarget: atMost(4.8, TargetScaleCost),
					MapBytes: 188_778_112, BytesPerPeer: 188.8},
			}},
		Errors: map[string]string{"tcp": "iperf3 failed once"},
		Notes:  []string{"a note for the reader"},
	}
	res.Targets = res.TargetLines()
	return res
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleResults().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"kernel 6.18.0-test, 2 CPUs, load average 0.10 0.20 0.30 before, 1.00 0.50 0.40 after; 231 s in all",
		"== 1. Per-packet cost of each program under BPF_PROG_TEST_RUN ==",
		"== 2. Gateway forwarding in XDP, live frames: packets per second ==",
		"== 3. The kernel as a peer",
		"== 4. TCP through tunnels and baselines (iperf3) ==",
		"== 5. Scale: peers on one external gre link ==",
		"== 6. Targets ==",
		"xt_xdp_underlay 4321 insns (123456 verified), 23456 bytes JITed",
		"vxlan6", "tc-peer", "830.0 [810.0..880.0]",
		"decap→forward", "4.00 [3.50..4.20]", "250", "0.40 [0.35..0.42]", "≥0.70 MISSED by 43%",
		"xtunnel vxlan decap", "≥4 met",
		"xtunnel gre", "0.95 [0.90..1.00]", "≥0.80 met", "≥1 met",
		"1000000", "4.80 [4.60..5.60]", "≤1.2 MISSED by 300%",
		"14.0 s, ≤10 MISSED by 40% (for 1M)",
		"189 bytes per peer, ≤256 met",
		"xtunnel -batch with 100000 route add lines, end to end: 3.0 s (its CPU time 0.0 s), 30.0 µs per peer",
		"4 of 8 targets met.",
		"note: a note for the reader",
		"FAILED sections", "tcp: iperf3 failed once",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Sections appear in order.
	last := -1
	for _, h := range []string{"== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6."} {
		i := strings.Index(out, h)
		if i < last {
			t.Errorf("section %q out of order", h)
		}
		last = i
	}
}

func TestWriteTableSkipsMissingSections(t *testing.T) {
	res := &Results{Kernel: "k", CPUs: 2, Gateway: sampleResults().Gateway}
	var b bytes.Buffer
	if err := res.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "== 1. Gateway forwarding") || !strings.Contains(out, "== 2. Targets ==") {
		t.Errorf("sections are numbered as they appear:\n%s", out)
	}
	if strings.Contains(out, "TCP") || strings.Contains(out, "FAILED") {
		t.Errorf("sections that did not run are printed:\n%s", out)
	}
	if !strings.Contains(out, "0 of 1 targets met.") {
		t.Errorf("targets:\n%s", out)
	}
}

func TestResultsJSON(t *testing.T) {
	res := sampleResults()
	path := filepath.Join(t.TempDir(), "bench-results.json")
	if err := res.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]any{
		"program cost": {res.ProgramCost, back.ProgramCost},
		"gateway":      {res.Gateway, back.Gateway},
		"vxlan peer":   {res.VXLANPeer, back.VXLANPeer},
		"scale":        {res.Scale, back.Scale},
		"targets":      {res.Targets, back.Targets},
		"errors":       {res.Errors, back.Errors},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s does not survive JSON:\n got %+v\nwant %+v", name, pair[1], pair[0])
		}
	}
	// The TCP rows keep their figures (their unexported fields stay behind).
	if g := back.TCP.Rows[1]; g.Gbps != res.TCP.Rows[1].Gbps || *g.TargetFair != *res.TCP.Rows[1].TargetFair {
		t.Errorf("tcp row after JSON: %+v", g)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"program_cost", "gateway", "kernel_vxlan_peer", "tcp", "scale", "targets", "loadavg_before_after"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("bench-results.json has no key %q", key)
		}
	}
}

func TestTargetLinesAndChart(t *testing.T) {
	res := sampleResults()
	lines := res.TargetLines()
	var figures []string
	for _, l := range lines {
		figures = append(figures, l.Figure)
	}
	want := []string{
		"decap→forward gre pps / mac-swap",
		"vxlan decap pps xtunnel / kernel",
		"tcp xtunnel gre / veth + empty xdp",
		"tcp xtunnel gre / kernel vxlan + empty xdp",
		"decap cost 1000000 peers / 1",
		"encap cost 1000000 peers / 1",
		"seconds to load 1M peers (API, from 1000000)",
		"map bytes per peer at 1000000",
	}
	if !reflect.DeepEqual(figures, want) {
		t.Errorf("targets:\n got %q\nwant %q", figures, want)
	}
	bars := res.chartBars()
	if len(bars) != 6 { // every ratio; not the seconds and bytes
		t.Errorf("chart has %d bars, want 6: %+v", len(bars), bars)
	}
	if bars[0].Got != 0.4 || bars[0].Target != TargetDecapIP || bars[0].Met {
		t.Errorf("first bar %+v", bars[0])
	}
	path := filepath.Join(t.TempDir(), "bench-results.png")
	if err := res.WritePNG(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", path)
	}
	if err := (&Results{}).WritePNG(path); err == nil {
		t.Error("a chart of nothing: want an error")
	}
}

func TestNsPerFrame(t *testing.T) {
	for _, tc := range []struct {
		mpps float64
		want string
	}{{4, "250"}, {0.5, "2000"}, {0, "-"}} {
		if got := nsPerFrame(tc.mpps); got != tc.want {
			t.Errorf("nsPerFrame(%v) = %q, want %q", tc.mpps, got, tc.want)
		}
	}
}
