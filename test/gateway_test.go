package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/lab"
)

// gatewayCases are the tunnels TestGateway forwards through in XDP: GRE,
// IP-in-IP and one UDP encapsulation.
var gatewayCases = []string{"gre-key", "ipip", "ipip-fou"}

// TestGateway: client A -> gateway A -> underlay -> gateway B -> client B
// with both gateways in gateway mode (attach IFNAME gateway on the client
// side and the underlay) and xtunnel routes into the tunnel. The echo
// requests and replies must not traverse the gateways' IP stacks: the
// stacks' forwarding counters (Ip ForwDatagrams) stay where they were,
// while the XDP counters gw_encap and gw_decap move by exactly the
// packets sent, on both gateways. TCP then runs the same path.
func TestGateway(t *testing.T) {
	requireLab(t, "iperf3", "ss")
	requireXtunnel(t)
	ctx := testCtx(t)
	l := newLab(t, ctx, "gw")
	x := lab.Xtunnel{Bin: xtunnelBin, BPFFS: l.BPFFS}
	hosts := l.Hosts()
	// XDP redirects lose a veth's partial-checksum metadata: the clients
	// complete their checksums; and a veth whose peer has no XDP program
	// takes XDP frames only with GRO on.
	for _, ns := range []string{l.CliA, l.CliB} {
		if _, err := lab.Run(ctx, ns, "ethtool", "-K", "eth0", "tx", "off", "gro", "on"); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hosts {
		for _, dev := range []string{h.Dev, "vcli"} {
			if _, _, err := x.Run(ctx, h.NS, "attach", dev, "gateway"); err != nil {
				t.Fatal(err)
			}
		}
		out, _, err := x.Run(ctx, h.NS, "link", "show")
		if err != nil || !strings.Contains(out, "xdp native gateway") {
			t.Fatalf("link show on host %s: %q, %v; want the attached netdevs in gateway mode", h.Name, out, err)
		}
	}
	cases := map[string]lab.TunnelCase{}
	for _, c := range lab.Cases() {
		cases[c.Name] = c
	}
	for _, name := range gatewayCases {
		c, ok := cases[name]
		if !ok {
			t.Fatalf("lab has no case %s", name)
		}
		t.Run(name, func(t *testing.T) { testGateway(t, ctx, l, x, c) })
	}
}

func testGateway(t *testing.T, ctx context.Context, l *lab.Lab, x lab.Xtunnel, c lab.TunnelCase) {
	hosts := l.Hosts()
	peers := [2]string{lab.SiteB4, lab.SiteA4}
	for i, h := range hosts {
		for _, st := range c.Setup {
			if _, _, err := x.Run(ctx, h.NS, st.Do...); err != nil {
				t.Fatal(err)
			}
			undo := st.Undo
			t.Cleanup(func() { x.Run(context.Background(), h.NS, undo...) })
		}
		local, remote := h.Endpoints(c)
		if _, _, err := x.Run(ctx, h.NS, append([]string{"link", "add"}, c.Args(local, remote)...)...); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Run(context.Background(), h.NS, "link", "del", lab.TunnelName) })
		if _, err := lab.Run(ctx, h.NS, "ip", "link", "set", lab.TunnelName, "up"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := x.Run(ctx, h.NS, "route", "add", peers[i], "dev", lab.TunnelName); err != nil {
			t.Fatal(err)
		}
	}
	// Neighbours on the client links and the underlay: the first packets
	// may find none yet and go through the stack (pass_gw_no_neigh).
	if _, err := lab.Ping(ctx, l.CliA, lab.CliB4, 2); err != nil {
		t.Fatalf("warm-up ping: %v", err)
	}

	const n = 20
	var before [2]lab.Stats
	var fwdBefore [2]uint64
	for i, h := range hosts {
		st, err := x.Stats(ctx, h.NS)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = st
		if fwdBefore[i], err = forwDatagrams(ctx, h.NS); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := lab.PingCount(ctx, l.CliA, lab.CliB4, n)
	if err != nil || ps.Received != n {
		t.Fatalf("ping %s -> %s: %+v, %v; want %d/%d", l.CliA, lab.CliB4, ps, err, n, n)
	}
	for i, h := range hosts {
		st, err := x.Stats(ctx, h.NS)
		if err != nil {
			t.Fatal(err)
		}
		d := lab.ReasonDelta(before[i].Reasons, st.Reasons)
		// A: requests encapsulated, replies decapsulated and forwarded;
		// B: the other way round. Same counts on both.
		if d["gw_encap"] != n || d["gw_decap"] != n {
			t.Errorf("host %s: gw_encap %d, gw_decap %d; want %d each (reasons moved: %v)", h.Name, d["gw_encap"], d["gw_decap"], n, d)
		}
		fwd, err := forwDatagrams(ctx, h.NS)
		if err != nil {
			t.Fatal(err)
		}
		if fwd != fwdBefore[i] {
			t.Errorf("host %s: the IP stack forwarded %d datagrams during the ping; want 0 (all in XDP)", h.Name, fwd-fwdBefore[i])
		}
	}
	bps, err := lab.IPerf(ctx, l.CliB, lab.CliB4, l.CliA, iperfSeconds)
	if err != nil || bps <= 0 {
		t.Fatalf("iperf3 A->B through the gateways: %v, %v", bps, err)
	}
	t.Logf("%s: TCP A->B through XDP gateways: %.2f Gbit/s", c.Name, bps)
}

// forwDatagrams reads Ip ForwDatagrams (/proc/net/snmp) in namespace ns.
func forwDatagrams(ctx context.Context, ns string) (uint64, error) {
	out, err := lab.Run(ctx, ns, "cat", "/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	var names, values []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "Ip: ") {
			continue
		}
		if names == nil {
			names = strings.Fields(line)
		} else {
			values = strings.Fields(line)
		}
	}
	for i, name := range names {
		if name == "ForwDatagrams" && i < len(values) {
			return strconv.ParseUint(values[i], 10, 64)
		}
	}
	return 0, errNoForw
}

type snmpError string

func (e snmpError) Error() string { return string(e) }

const errNoForw = snmpError("no Ip ForwDatagrams in /proc/net/snmp")
