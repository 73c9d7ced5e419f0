package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"

	"github.com/xtunnel/xtunnel/lab"
)

// TCPConfig sizes the TCP measurement.
type TCPConfig struct {
	Rounds  int // interleaved rounds: every setup once per round
	Seconds int // length of each iperf3 run
	// Cases are the lab cases (lab.Cases names) measured through xtunnel.
	Cases []string
}

// DefaultTCPConfig is a representative subset, to fit in the time:
// GRE, IP-in-IP, VXLAN, Geneve, IP-in-IP over FOU and gretap.
var DefaultTCPConfig = TCPConfig{Rounds: 3, Seconds: 2,
	Cases: []string{"gre", "ipip", "vxlan", "geneve", "ipip-fou", "gretap"}}

// TCPRow is one setup's TCP throughput.
type TCPRow struct {
	Setup string `json:"setup"` // "xtunnel gre", "veth", "veth + empty xdp", "kernel vxlan", "kernel vxlan + empty xdp"
	Path  string `json:"path"`  // "routed" (cliA -> hostA -> hostB -> cliB) or "bridged" (the L2 segment)
	XDP   string `json:"xdp"`   // what runs in XDP on ethA and ethB: "xtunnel", "empty", "none"
	// Gbps is iperf3's receiver throughput A->B over IPv4; median, min,
	// max over rounds.
	Gbps    Stat      `json:"gbps"`
	Samples []float64 `json:"samples_gbps"`
	// VsFair is Gbps over the veth + empty XDP setup's, VsKernel over
	// the kernel VXLAN + empty XDP setup's, paired by round (tunnels).
	VsFair       Stat    `json:"vs_fair_veth,omitempty"`
	VsKernel     Stat    `json:"vs_kernel_vxlan,omitempty"`
	TargetFair   *Target `json:"target_fair,omitempty"`
	TargetKernel *Target `json:"target_kernel,omitempty"`
	// VsNoXDP is, for a setup with the empty XDP program, Gbps over the
	// same setup's without it: what XDP on the veths costs TCP.
	VsNoXDP   Stat `json:"vs_no_xdp,omitempty"`
	tunnel    bool
	sampleErr []error
}

// TCPReport is the TCP measurement.
type TCPReport struct {
	Rounds  int      `json:"rounds"`
	Seconds int      `json:"seconds"`
	Method  string   `json:"method"`
	Rows    []TCPRow `json:"rows"`
}

const tcpMethod = "iperf3 -t SECONDS, one TCP stream from cliA to cliB (IPv4) in the lab's four namespaces (package lab): " +
	"through each xtunnel case (xtunnel attach on ethA and ethB, lab AddTunnel: routed for IP tunnels, bridged into " +
	"brl2 for Ethernet ones), through plain veth routed over the underlay (lab RouteUnderlay) with no XDP program and " +
	"with an empty XDP_PASS program attached natively to ethA and ethB (the fair baseline: XDP on a veth changes its " +
	"receive path as xtunnel's program does), and through the kernel's VXLAN (id 42, port 4789, bridged into brl2 on " +
	"both hosts) with and without that empty program; rounds run every setup once, in a rotating order, and the " +
	"ratios pair a tunnel with the baselines of the same round"

// tcpSetup is one way of carrying cliA's traffic to cliB.
type tcpSetup struct {
	row  *TCPRow
	addr string // cliB's address the client connects to
	// up prepares the setup, returning what takes it back.
	up func(ctx context.Context) (func(context.Context) error, error)
	// xtunnel is true when the setup needs xtunnel attached (and no
	// other XDP program) on ethA and ethB.
	xtunnel bool
	gbps    []float64
}

// measureTCP runs cfg.Rounds rounds of every setup in lab l, with the
// xtunnel binary bin.
func measureTCP(ctx context.Context, l *lab.Lab, bin string, cfg TCPConfig, progress func(string)) (*TCPReport, error) {
	x := lab.Xtunnel{Bin: bin, BPFFS: l.BPFFS}
	byName := map[string]lab.TunnelCase{}
	for _, c := range lab.Cases() {
		byName[c.Name] = c
	}
	var tunnels, bases []*tcpSetup
	for _, name := range cfg.Cases {
		c, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("tcp: the lab has no case %q (lab.CaseNames lists them)", name)
		}
		path, addr := "routed", lab.CliB4
		if c.L2 {
			path, addr = "bridged", lab.L2B4
		}
		tunnels = append(tunnels, &tcpSetup{
			row:  &TCPRow{Setup: "xtunnel " + c.Name, Path: path, XDP: "xtunnel", tunnel: true},
			addr: addr, xtunnel: true,
			up: func(ctx context.Context) (func(context.Context) error, error) {
				if err := l.AddTunnel(ctx, x, c); err != nil {
					return nil, err
				}
				return func(ctx context.Context) error { return l.DelTunnel(ctx, x) }, nil
			},
		})
	}
	empty, err := emptyProgram(ebpf.XDP, xdpPass)
	if err != nil {
		return nil, err
	}
	defer empty.Close()
	links, err := lookupLinks(l.HostA, lab.DevA)
	if err != nil {
		return nil, err
	}
	ethA := links[0]
	if links, err = lookupLinks(l.HostB, lab.DevB); err != nil {
		return nil, err
	}
	ethB := links[0]
	withEmptyXDP := func(up func(context.Context) (func(context.Context) error, error)) func(context.Context) (func(context.Context) error, error) {
		return func(ctx context.Context) (func(context.Context) error, error) {
			var undo cleanups
			for _, dev := range []nsLink{ethA, ethB} {
				a, err := attachXDP(empty, dev)
				if err != nil {
					return nil, joinErr(err, undo.run())
				}
				undo.add(a.Close)
			}
			down, err := up(ctx)
			if err != nil {
				return nil, joinErr(err, undo.run())
			}
			undo.add(func() error { return down(ctx) })
			return func(context.Context) error { return undo.run() }, nil
		}
	}
	routed := func(ctx context.Context) (func(context.Context) error, error) { return l.RouteUnderlay(ctx) }
	kernelVXLAN := func(ctx context.Context) (func(context.Context) error, error) { return kernelVXLANBridge(ctx, l) }
	bases = []*tcpSetup{
		{row: &TCPRow{Setup: "veth", Path: "routed", XDP: "none"}, addr: lab.CliB4, up: routed},
		{row: &TCPRow{Setup: "veth + empty xdp", Path: "routed", XDP: "empty"}, addr: lab.CliB4, up: withEmptyXDP(routed)},
		{row: &TCPRow{Setup: "kernel vxlan", Path: "bridged", XDP: "none"}, addr: lab.L2B4, up: kernelVXLAN},
		{row: &TCPRow{Setup: "kernel vxlan + empty xdp", Path: "bridged", XDP: "empty"}, addr: lab.L2B4,
			up: withEmptyXDP(kernelVXLAN)},
	}
	fair, kernelFair, kernelBare, veth := bases[1], bases[3], bases[2], bases[0]

	attach := func(ctx context.Context) error {
		for _, h := range l.Hosts() {
			if _, _, err := x.Run(ctx, h.NS, "attach", h.Dev); err != nil {
				return fmt.Errorf("host %s: %w", h.Name, err)
			}
		}
		return nil
	}
	detach := func(ctx context.Context) error {
		var errs []error
		for _, h := range l.Hosts() {
			if _, _, err := x.Run(ctx, h.NS, "detach", h.Dev); err != nil {
				errs = append(errs, fmt.Errorf("host %s: %w", h.Name, err))
			}
		}
		return errors.Join(errs...)
	}

	progress(fmt.Sprintf("tcp: %d setups x %d rounds x %d s (iperf3)", len(tunnels)+len(bases), cfg.Rounds, cfg.Seconds))
	for r := 0; r < cfg.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Each round: the xtunnel setups (attached once) and the
		// baselines, as two groups in alternating order, each group in
		// a rotating order.
		groups := [][]*tcpSetup{rotate(tunnels, r), rotate(bases, r)}
		if r%2 == 1 {
			groups[0], groups[1] = groups[1], groups[0]
		}
		for _, g := range groups {
			if len(g) > 0 && g[0].xtunnel {
				if err := attach(ctx); err != nil {
					return nil, joinErr(fmt.Errorf("tcp: xtunnel attach: %w", err), detach(context.WithoutCancel(ctx)))
				}
			}
			for _, s := range g {
				gbps, err := s.run(ctx, l, cfg.Seconds)
				if err != nil {
					s.row.sampleErr = append(s.row.sampleErr, err)
				}
				s.gbps = append(s.gbps, gbps)
			}
			if len(g) > 0 && g[0].xtunnel {
				if err := detach(ctx); err != nil {
					return nil, fmt.Errorf("tcp: xtunnel detach: %w", err)
				}
			}
		}
		progress(fmt.Sprintf("tcp: round %d of %d done", r+1, cfg.Rounds))
	}

	rep := &TCPReport{Rounds: cfg.Rounds, Seconds: cfg.Seconds, Method: tcpMethod}
	var errs []error
	for _, s := range append(bases, tunnels...) {
		s.row.Gbps, s.row.Samples = stat(s.gbps), s.gbps
		if s.row.tunnel {
			s.row.VsFair = stat(ratios(s.gbps, fair.gbps))
			s.row.VsKernel = stat(ratios(s.gbps, kernelFair.gbps))
			s.row.TargetFair = atLeast(s.row.VsFair.Median, TargetTCPFair)
			s.row.TargetKernel = atLeast(s.row.VsKernel.Median, TargetTCPKernel)
		}
		if s == kernelFair {
			s.row.VsNoXDP = stat(ratios(s.gbps, kernelBare.gbps))
		}
		if s == fair {
			s.row.VsNoXDP = stat(ratios(s.gbps, veth.gbps))
		}
		for _, e := range s.row.sampleErr {
			errs = append(errs, fmt.Errorf("tcp %s: %w", s.row.Setup, e))
		}
		rep.Rows = append(rep.Rows, *s.row)
	}
	return rep, errors.Join(errs...)
}

// run sets s up, runs iperf3 once and takes s down again.
func (s *tcpSetup) run(ctx context.Context, l *lab.Lab, seconds int) (gbps float64, err error) {
	down, err := s.up(ctx)
	if err != nil {
		return 0, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = joinErr(err, down(dctx))
	}()
	return lab.IPerf(ctx, l.CliB, s.addr, l.CliA, seconds)
}

// rotate returns xs starting at element r (mod len).
func rotate[T any](xs []T, r int) []T {
	if len(xs) == 0 {
		return nil
	}
	r %= len(xs)
	return append(append([]T(nil), xs[r:]...), xs[:r]...)
}

// kernelVXLANBridge gives both hosts the kernel's VXLAN netdev (VNI 42
// on port 4789 over the IPv4 underlay), a port of the host's bridge, as
// the lab bridges an Ethernet overlay.
func kernelVXLANBridge(ctx context.Context, l *lab.Lab) (func(context.Context) error, error) {
	var undo cleanups
	for _, h := range l.Hosts() {
		ns := h.NS
		if err := ipNS(ctx, ns, "link", "add", lab.TunnelName, "type", "vxlan", "id", vxlanVNI,
			"local", h.Local, "remote", h.Remote, "dstport", "4789", "dev", h.Dev); err != nil {
			return nil, joinErr(err, undo.run())
		}
		undo.add(func() error { return ipNS(context.Background(), ns, "link", "del", lab.TunnelName) })
		if _, err := lab.Run(ctx, ns, "sh", "-c", `echo 1 > /proc/sys/net/ipv6/conf/`+lab.TunnelName+`/disable_ipv6`); err != nil {
			return nil, joinErr(err, undo.run())
		}
		for _, args := range [][]string{
			{"link", "set", lab.TunnelName, "addrgenmode", "none"},
			{"link", "set", lab.TunnelName, "master", lab.Bridge},
			{"link", "set", lab.TunnelName, "up"},
		} {
			if err := ipNS(ctx, ns, args...); err != nil {
				return nil, joinErr(err, undo.run())
			}
		}
	}
	return func(context.Context) error { return undo.run() }, nil
}
