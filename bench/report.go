package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
)

// WriteTable prints every measured section as one table, each section
// under its heading with its method in a line or two, then every target
// with whether it is met.
func (res *Results) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "\nxtunnel benchmarks: kernel %s, %d CPUs, load average %s before, %s after; %.0f s in all\n",
		res.Kernel, res.CPUs, orDash(res.LoadAvg[0]), orDash(res.LoadAvg[1]), res.Elapsed)
	n := 0
	section := func(title string) {
		n++
		fmt.Fprintf(w, "\n== %d. %s ==\n", n, title)
	}
	if rep := res.ProgramCost; rep != nil {
		section("Per-packet cost of each program under BPF_PROG_TEST_RUN")
		if err := rep.WriteTable(w); err != nil {
			return err
		}
	}
	if rep := res.Gateway; rep != nil {
		section("Gateway forwarding in XDP, live frames: packets per second")
		writeGateway(w, rep)
	}
	if rep := res.VXLANPeer; rep != nil {
		section("The kernel as a peer: the same VXLAN frames decapsulated by the kernel and by xtunnel")
		writeVXLANPeer(w, rep)
	}
	if rep := res.TCP; rep != nil {
		section("TCP through tunnels and baselines (iperf3)")
		writeTCP(w, rep)
	}
	if rep := res.Scale; rep != nil {
		section("Scale: peers on one external gre link")
		writeScale(w, rep)
	}
	section("Targets")
	writeTargets(w, res)
	for _, s := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", s)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "\nFAILED sections (their figures are missing or partial):\n")
		for _, k := range sortedKeys(res.Errors) {
			fmt.Fprintf(w, "  %s: %s\n", k, res.Errors[k])
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// WriteTable prints rep, a line per program, with the probe findings the
// method rests on.
func (rep *CostReport) WriteTable(w io.Writer) error {
	pinned := "not pinned"
	if rep.PinnedTo >= 0 {
		pinned = fmt.Sprintf("pinned to CPU %d", rep.PinnedTo)
	}
	var left, all int
	for _, r := range rep.Rows {
		left += r.Interrupted
		all += rep.Rounds * rep.Loads * rep.Calls
	}
	fmt.Fprintf(w, "repeat=1 per packet on a fresh copy, the kernel's own clock, %s, %.1f s; each program loaded %d times,\n",
		pinned, rep.Elapsed, rep.Loads)
	fmt.Fprintf(w, "%d calls per load per round (%d of %d calls, %.2f%%, left out as interrupted); median [min..max] over\n",
		rep.Calls, left, all, 100*float64(left)/float64(max(all, 1)))
	fmt.Fprintf(w, "%d interleaved rounds of the mean over loads; 'above empty', 'x empty': against the empty program of the\n", rep.Rounds)
	fmt.Fprintf(w, "same hook (XDP or TC), same round; 'per load': min..max over loads of each load's median; hook tc-peer:\n")
	fmt.Fprintf(w, "the slow TX path's encap at the overlay's veth peer (ERSPAN sequence numbers, UDP checksums over IPv6).\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "program\tdirection\thook\touter\tinner\tbytes in\tns/packet\tns above empty\tx empty\tper load\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.0f..%.0f\t\n", r.Program, r.Direction, r.Hook, orDash(r.Outer), r.Inner,
			r.FrameBytes, span(r.NsPerPacket, "%.1f"), span(r.NsAboveEmpty, "%.1f"), span(r.RatioToEmpty, "%.2f"),
			r.PerLoad.Min, r.PerLoad.Max)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Sizes) > 0 {
		fmt.Fprintf(w, "\nxtunnel's programs (one per hook serves every case):")
		for _, sz := range rep.Sizes {
			fmt.Fprintf(w, " %s %d insns (%d verified), %d bytes JITed;", sz.Name, sz.XlatedInsns, sz.VerifiedInsns, sz.JitedBytes)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nWhy repeat=1 (one syscall, repeat=N, same input):\n")
	for _, p := range rep.Probes {
		fmt.Fprintf(w, "  %s: %s\n", p.Program, p.Finding)
	}
	if rep.EmptyXDPInLoopNs > 0 && len(rep.Rows) > 0 {
		fmt.Fprintf(w, "  empty xdp: %.0f ns per repetition inside one syscall (repeat=1000000) vs %.1f ns per call at repeat=1:\n"+
			"  the difference is the timing around each call (clock reads, timer bookkeeping), the same for every\n"+
			"  program of a hook, so it cancels in 'ns above empty' and inflates 'x empty' alike.\n",
			rep.EmptyXDPInLoopNs, rep.Rows[0].NsPerPacket.Median)
	}
	return nil
}

func span(s Stat, f string) string {
	return fmt.Sprintf(f+" ["+f+".."+f+"]", s.Median, s.Min, s.Max)
}

// nsPerFrame is 1000/Mpps: the time per frame the rate stands for.
func nsPerFrame(mpps float64) string {
	if mpps <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", 1000/mpps)
}

func writeGateway(w io.Writer, rep *GatewayReport) {
	fmt.Fprintf(w, "BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on the program attached in gateway mode (host B: ethB, vcli),\n")
	fmt.Fprintf(w, "verdicts carried out, an XDP counter on the far end of each veth; Mpps = frames counted there / wall time,\n")
	fmt.Fprintf(w, "CPU %d; %d frames per trial, median [min..max] over %d interleaved rounds; ratio: to the MAC-swap XDP_TX\n",
		rep.CPU, rep.Frames, rep.Rounds)
	fmt.Fprintf(w, "program on the same ingress, same round. Every frame goes through the same frame-restoring wrapper.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\ttunnel\tingress -> egress\tbytes\tMpps\tns/frame\tdelivered\tratio\ttarget\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s -> %s\t%d\t%s\t%s\t%.3f\t%s\t%s\t\n", r.Path, orDash(r.Tunnel), r.Ingress, r.Egress,
			r.FrameBytes, span(r.Mpps, "%.2f"), nsPerFrame(r.Mpps.Median), r.Delivered.Min, span(r.Ratio, "%.2f"), r.Target)
	}
	tw.Flush()
	fmt.Fprintf(w, "(delivered: the lowest fraction of a trial's frames the far end counted)\n")
}

func writeVXLANPeer(w io.Writer, rep *VXLANPeerReport) {
	fmt.Fprintf(w, "A live-frames XDP_TX source on host A's ethA sends VXLAN frames (VNI 42, port 4789) to host B's ethB;\n")
	fmt.Fprintf(w, "there the kernel's vxlan netdev (XDP_PASS on ethB) or xtunnel's vxlan link decapsulates them. Mpps = rx\n")
	fmt.Fprintf(w, "packets of the tunnel netdev / wall time of the source's call, one CPU for sender and receiver; %d frames\n", rep.Frames)
	fmt.Fprintf(w, "per trial, median [min..max] over %d rounds alternating the two; ratio: to the kernel's, same round.\n\n", rep.Rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "receiver\tingress -> netdev\tbytes\tMpps\tns/frame\tdelivered\tratio\ttarget\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s -> %s\t%d\t%s\t%s\t%.3f\t%s\t%s\t\n", r.Path, r.Ingress, r.Egress, r.FrameBytes,
			span(r.Mpps, "%.2f"), nsPerFrame(r.Mpps.Median), r.Delivered.Min, span(r.Ratio, "%.2f"), r.Target)
	}
	tw.Flush()
}

func writeTCP(w io.Writer, rep *TCPReport) {
	fmt.Fprintf(w, "One iperf3 TCP stream cliA -> cliB over IPv4, %d s, median [min..max] Gbit/s over %d interleaved rounds;\n",
		rep.Seconds, rep.Rounds)
	fmt.Fprintf(w, "routed: cliA -> hostA -> ethA/ethB -> hostB -> cliB; bridged: the clients' L2 segment through each host's\n")
	fmt.Fprintf(w, "bridge. xdp on ethA/ethB: xtunnel's, an empty XDP_PASS program, or none. Ratios pair rounds: a tunnel\n")
	fmt.Fprintf(w, "against veth + empty xdp (the fair baseline) and against kernel vxlan + empty xdp (the same setup).\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "setup\tpath\txdp\tGbit/s\tvs veth+xdp\ttarget\tvs kernel vxlan+xdp\ttarget\tvs same without xdp\t")
	for _, r := range rep.Rows {
		vf, vk, vn := "-", "-", "-"
		if r.TargetFair != nil {
			vf = span(r.VsFair, "%.2f")
		}
		if r.TargetKernel != nil {
			vk = span(r.VsKernel, "%.2f")
		}
		if r.VsNoXDP != (Stat{}) {
			vn = span(r.VsNoXDP, "%.2f")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Setup, r.Path, r.XDP, span(r.Gbps, "%.2f"),
			vf, r.TargetFair, vk, r.TargetKernel, vn)
	}
	tw.Flush()
}

func writeScale(w io.Writer, rep *ScaleReport) {
	fmt.Fprintf(w, "Private loads sized %d routes; routes 10.x.y.z/32 each to its own peer; 64 packets in turn, to (from)\n", rep.MaxRoutes)
	fmt.Fprintf(w, "peers spread over the count; repeat=1 and the kernel's clock as in section 1, %d interleaved rounds; 'vs first':\n", rounds(rep))
	fmt.Fprintf(w, "ns above the empty program over the same at the first count, paired by round; memory: memlock of\n")
	fmt.Fprintf(w, "xt_routes + xt_hosts + xt_rpeers (/proc/self/fdinfo), including the hash buckets of the size chosen.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "peers\tdecap ns above empty\tvs first\ttarget\tencap ns above empty\tvs first\ttarget\tmap bytes\tbytes/peer\tloaded in\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.0f\t%.2f s (cpu %.2f s), %d call%s\t\n", r.Peers, span(r.Decap.NsAboveEmpty, "%.0f"),
			span(r.DecapVsOne, "%.2f"), r.DecapTarget, span(r.Encap.NsAboveEmpty, "%.0f"), span(r.EncapVsOne, "%.2f"),
			r.EncapTarget, r.MapBytes, r.BytesPerPeer, r.LoadSeconds, r.LoadCPUSeconds, r.LoadCalls, plural(r.LoadCalls))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nload %d peers through the API (maps.Tables.PutRoutes, one call as xtunnel -batch makes): %.1f s, %s (for 1M);\n"+
		"  CPU time of the process meanwhile %.1f s (the rest is waiting for a CPU on a busy machine)\n",
		rep.LoadPeers, rep.LoadSeconds, rep.LoadTarget, rep.LoadCPU)
	fmt.Fprintf(w, "map memory at %d peers: xt_routes + xt_hosts %d + xt_rpeers %d bytes = %.0f bytes per peer, %s\n",
		rep.LoadPeers, rep.RoutesBytes, rep.RPeersBytes, float64(rep.RoutesBytes+rep.RPeersBytes)/float64(max(rep.LoadPeers, 1)),
		rep.BytesTarget)
	if rep.CLIPeers > 0 {
		fmt.Fprintf(w, "xtunnel -batch with %d route add lines, end to end: %.1f s (its CPU time %.1f s), %.1f µs per peer\n  (%s)\n",
			rep.CLIPeers, rep.CLISeconds, rep.CLICPU, rep.CLIPerPeerUs, rep.CLINote)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func rounds(rep *ScaleReport) int {
	if len(rep.Rows) > 0 {
		return len(rep.Rows[0].Decap.Samples)
	}
	return 0
}

// TargetLine is one target of the issue with the figure it applies to.
type TargetLine struct {
	Figure string  `json:"figure"`
	Target *Target `json:"target"`
}

// TargetLines lists every target of the results, in table order.
func (res *Results) TargetLines() []TargetLine {
	var ts []TargetLine
	add := func(name string, t *Target) {
		if t != nil {
			ts = append(ts, TargetLine{name, t})
		}
	}
	if g := res.Gateway; g != nil {
		for _, r := range g.Rows {
			add(fmt.Sprintf("%s %s pps / mac-swap", r.Path, r.Tunnel), r.Target)
		}
	}
	if v := res.VXLANPeer; v != nil {
		for _, r := range v.Rows {
			add("vxlan decap pps xtunnel / kernel", r.Target)
		}
	}
	if t := res.TCP; t != nil {
		for _, r := range t.Rows {
			add("tcp "+r.Setup+" / veth + empty xdp", r.TargetFair)
			add("tcp "+r.Setup+" / kernel vxlan + empty xdp", r.TargetKernel)
		}
	}
	if s := res.Scale; s != nil {
		for _, r := range s.Rows {
			add(fmt.Sprintf("decap cost %d peers / %d", r.Peers, s.Rows[0].Peers), r.DecapTarget)
			add(fmt.Sprintf("encap cost %d peers / %d", r.Peers, s.Rows[0].Peers), r.EncapTarget)
		}
		add(fmt.Sprintf("seconds to load 1M peers (API, from %d)", s.LoadPeers), s.LoadTarget)
		add(fmt.Sprintf("map bytes per peer at %d", s.LoadPeers), s.BytesTarget)
	}
	return ts
}

func writeTargets(w io.Writer, res *Results) {
	ts := res.TargetLines()
	met := 0
	for _, t := range ts {
		if t.Target.Met {
			met++
		}
	}
	fmt.Fprintf(w, "%d of %d targets met.\n", met, len(ts))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", t.Figure, fmtGot(t.Target.Got), t.Target)
	}
	tw.Flush()
}

func fmtGot(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// WriteJSON writes res to path, indented.
func (res *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ModuleRoot is the directory of the go.mod above the working directory:
// where bench-results.json goes (go test runs in the package directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
