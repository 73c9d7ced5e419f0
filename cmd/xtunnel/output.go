package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/tunnel"
)

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// formatLink is one `link show` line, in iproute2's order; options at
// their default are left out, except the TTL:
//
//	gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 key 42 dev eth0 mtu 1468 id 0
//	t6: ip6tnl mode any remote 2001:db8::2 local 2001:db8::1 hoplimit 64 encaplimit none dev eth0 mtu 1452 id 1
func formatLink(l dataplane.Link) string {
	s := l.Spec
	b := []string{s.Name + ":", s.Type.String()}
	b = append(b, s.ModeWords()...)
	b = append(b, "remote", addrString(s.Remote), "local", addrString(s.Local))
	if s.ISATAP {
		b = append(b, "isatap")
	}
	ttl := "inherit"
	if s.TTL != 0 {
		ttl = strconv.Itoa(int(s.TTL))
	}
	b = append(b, s.Type.TTLWord(), ttl)
	b = append(b, s.TOSWords()...)
	b = append(b, s.FlowLabelWords()...)
	b = append(b, s.EncapLimitWords()...)
	b = append(b, s.KeyWords()...)
	b = append(b, s.CsumSeqWords()...)
	if s.NoPMTUDisc {
		b = append(b, "nopmtudisc")
	}
	if s.IgnoreDF {
		b = append(b, "ignore-df")
	}
	b = append(b, s.EncapWords()...)
	if dev := underlay(l); dev != "" {
		b = append(b, "dev", dev)
	}
	if mtu := linkMTU(l); mtu != 0 {
		b = append(b, "mtu", strconv.Itoa(mtu))
	}
	b = append(b, "id", strconv.FormatUint(uint64(l.ID), 10))
	if !l.Present {
		b = append(b, "(netdev missing)")
	}
	return strings.Join(b, " ")
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return "any"
	}
	return a.String()
}

// underlay is the netdev a tunnel sends on: the one in use, else the one
// asked for.
func underlay(l dataplane.Link) string {
	if l.Link != "" {
		return l.Link
	}
	return l.Spec.Dev
}

// linkMTU is the overlay netdev's MTU, else the one asked for.
func linkMTU(l dataplane.Link) int {
	if l.OverlayMTU != 0 {
		return l.OverlayMTU
	}
	return l.Spec.MTU
}

// formatPort is one attached underlay netdev: "eth0 xdp native".
func formatPort(p dataplane.Port) string {
	mode := p.XDPMode
	if mode == "" {
		mode = "unknown"
	}
	return p.Name + " xdp " + mode
}

// writeLinks prints tunnels sorted by name, then the attached netdevs.
// With verbose, each tunnel is followed by the command that recreates it.
func writeLinks(w io.Writer, links []dataplane.Link, ports []dataplane.Port, verbose bool) error {
	links = sortedLinks(links)
	var b strings.Builder
	for _, l := range links {
		fmt.Fprintln(&b, formatLink(l))
		if verbose {
			fmt.Fprintf(&b, "    xtunnel link add %s\n", strings.Join(l.Spec.Args(), " "))
		}
	}
	ports = append([]dataplane.Port(nil), ports...)
	sort.SliceStable(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
	for _, p := range ports {
		fmt.Fprintf(&b, "attached: %s\n", formatPort(p))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedLinks(links []dataplane.Link) []dataplane.Link {
	links = append([]dataplane.Link(nil), links...)
	sort.SliceStable(links, func(i, j int) bool { return links[i].Name < links[j].Name })
	return links
}

// linkJSON is a tunnel as --json prints it: dataplane.Link flattened with
// lower-case names, the type as a word and keys only when set.
type linkJSON struct {
	Name       string     `json:"name"`
	Type       string     `json:"type"`
	Local      netip.Addr `json:"local"`
	Remote     netip.Addr `json:"remote"`
	IKey       *uint32    `json:"ikey,omitempty"`
	OKey       *uint32    `json:"okey,omitempty"`
	TTL        uint8      `json:"ttl"` // 0: inherit
	TOS        uint8      `json:"tos"`
	TOSInherit bool       `json:"tos_inherit"`
	PMTUDisc   bool       `json:"pmtudisc"`
	Dev        string     `json:"dev,omitempty"` // underlay asked for
	Link       string     `json:"link"`          // underlay in use
	MTU        int        `json:"mtu"`
	ID         uint32     `json:"id"`
	Ifindex    int        `json:"ifindex"`
	Present    bool       `json:"present"`
	Args       []string   `json:"args"` // link add words that recreate it

	Mode        string     `json:"mode,omitempty"` // ipip, sit, ip6tnl: the mode in use
	ISATAP      bool       `json:"isatap,omitempty"`
	ICsum       bool       `json:"icsum,omitempty"`
	OCsum       bool       `json:"ocsum,omitempty"`
	ISeq        bool       `json:"iseq,omitempty"`
	OSeq        bool       `json:"oseq,omitempty"`
	IgnoreDF    bool       `json:"ignore_df,omitempty"`
	FlowLabel   *uint32    `json:"flowlabel,omitempty"` // ip6tnl, ip6gre
	FlowInherit bool       `json:"flowlabel_inherit,omitempty"`
	EncapLimit  *uint8     `json:"encap_limit,omitempty"` // when the option is sent
	Encap       *encapJSON `json:"encap,omitempty"`
}

// encapJSON is a tunnel's FOU or GUE encapsulation.
type encapJSON struct {
	Type  string `json:"type"`  // fou or gue
	SPort uint16 `json:"sport"` // 0: auto, a hash of the inner flow
	DPort uint16 `json:"dport"`
	Csum  bool   `json:"csum"`
}

func linkOut(l dataplane.Link) linkJSON {
	s := l.Spec
	j := linkJSON{
		Name: s.Name, Type: s.Type.String(), Local: s.Local, Remote: s.Remote,
		TTL: s.TTL, TOS: s.TOS, TOSInherit: s.TOSInherit, PMTUDisc: !s.NoPMTUDisc,
		Dev: s.Dev, Link: l.Link, MTU: linkMTU(l), ID: l.ID, Ifindex: l.Ifindex,
		Present: l.Present, Args: s.Args(),
	}
	if s.IKey.Set {
		v := s.IKey.Value
		j.IKey = &v
	}
	if s.OKey.Set {
		v := s.OKey.Value
		j.OKey = &v
	}
	if m := s.EffectiveMode(); m != tunnel.ModeDefault {
		j.Mode = m.String()
	}
	j.ISATAP, j.IgnoreDF = s.ISATAP, s.IgnoreDF
	j.ICsum, j.OCsum, j.ISeq, j.OSeq = s.ICsum, s.OCsum, s.ISeq, s.OSeq
	if s.Type.Outer6() && !s.FlowInherit {
		v := s.FlowLabel
		j.FlowLabel = &v
	}
	j.FlowInherit = s.FlowInherit
	if on, v := s.EncapLimitOn(); on {
		j.EncapLimit = &v
	}
	if e := s.Encap; e.Type != tunnel.EncapNone {
		j.Encap = &encapJSON{Type: e.Type.String(), SPort: e.SPort, DPort: e.DPort, Csum: e.Csum}
	}
	return j
}

// fouName names a FOU port as fou del does: "port 5555 -6".
func fouName(p tunnel.FOUPort) string {
	n := "port " + strconv.Itoa(int(p.Port))
	if p.IPv6 {
		n += " -6"
	}
	return n
}

// fouIPv6 is the IPv6 listeners among ports.
func fouIPv6(ports []tunnel.FOUPort) []tunnel.FOUPort {
	var out []tunnel.FOUPort
	for _, p := range ports {
		if p.IPv6 {
			out = append(out, p)
		}
	}
	return out
}

// writeFOU prints one FOU or GUE port a line, as `ip fou show` does:
// "port 5555 ipproto 4", "port 6080 gue -6".
func writeFOU(w io.Writer, ports []tunnel.FOUPort) error {
	ports = append([]tunnel.FOUPort(nil), ports...)
	tunnel.SortFOUPorts(ports)
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintln(&b, p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fouJSON is a FOU or GUE port as --json prints it.
type fouJSON struct {
	Port    uint16   `json:"port"`
	Type    string   `json:"type"` // fou or gue
	IPProto uint8    `json:"ipproto,omitempty"`
	Family  string   `json:"family"` // inet or inet6
	Args    []string `json:"args"`   // fou add words that recreate it
}

func fouOut(p tunnel.FOUPort) fouJSON {
	j := fouJSON{Port: p.Port, Type: "fou", IPProto: p.IPProto, Family: "inet", Args: p.Args()}
	if p.GUE {
		j.Type = "gue"
	}
	if p.IPv6 {
		j.Family = "inet6"
	}
	return j
}

// writeFOUJSON prints {"ports": [...]}.
func writeFOUJSON(w io.Writer, ports []tunnel.FOUPort) error {
	ports = append([]tunnel.FOUPort(nil), ports...)
	tunnel.SortFOUPorts(ports)
	out := struct {
		Ports []fouJSON `json:"ports"`
	}{Ports: []fouJSON{}}
	for _, p := range ports {
		out.Ports = append(out.Ports, fouOut(p))
	}
	return writeJSON(w, out)
}

// writeLinksJSON prints {"links": [...], "ports": [...]}; ports are left
// out when withPorts is false (`link show NAME`).
func writeLinksJSON(w io.Writer, links []dataplane.Link, ports []dataplane.Port, withPorts bool) error {
	out := struct {
		Links []linkJSON        `json:"links"`
		Ports *[]dataplane.Port `json:"ports,omitempty"`
	}{Links: []linkJSON{}}
	for _, l := range sortedLinks(links) {
		out.Links = append(out.Links, linkOut(l))
	}
	if withPorts {
		p := append([]dataplane.Port{}, ports...)
		sort.SliceStable(p, func(i, j int) bool { return p[i].Name < p[j].Name })
		out.Ports = &p
	}
	return writeJSON(w, out)
}

// countersJSON is one tunnel's counters as --json prints them.
type countersJSON struct {
	Name      string `json:"name"`
	RxPackets uint64 `json:"rx_packets"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxDropped uint64 `json:"rx_dropped"`
	TxPackets uint64 `json:"tx_packets"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxDropped uint64 `json:"tx_dropped"`
}

// statsRows returns the tunnels to print, sorted by name: all of them, or
// only name.
func statsRows(st dataplane.Stats, name string) []countersJSON {
	rows := []countersJSON{}
	for n, c := range st.Tunnels {
		if name != "" && n != name {
			continue
		}
		rows = append(rows, countersJSON{n, c.RxPackets, c.RxBytes, c.RxDropped, c.TxPackets, c.TxBytes, c.TxDropped})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

// writeStats prints a table of tunnels, then the non-zero reason counters
// sorted by name. Reasons are global, so `stats NAME` leaves them out.
func writeStats(w io.Writer, st dataplane.Stats, name string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRX-PKTS\tRX-BYTES\tRX-DROP\tTX-PKTS\tTX-BYTES\tTX-DROP")
	for _, r := range statsRows(st, name) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Name, r.RxPackets, r.RxBytes, r.RxDropped, r.TxPackets, r.TxBytes, r.TxDropped)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if name != "" {
		return nil
	}
	var reasons []string
	for r, n := range st.Reasons {
		if n != 0 {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	sort.Strings(reasons)
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REASON\tCOUNT")
	for _, r := range reasons {
		fmt.Fprintf(tw, "%s\t%d\n", r, st.Reasons[r])
	}
	return tw.Flush()
}

// writeStatsJSON prints {"tunnels": [...], "reasons": {...}} with every
// reason, zero or not; `stats NAME` leaves the reasons out.
func writeStatsJSON(w io.Writer, st dataplane.Stats, name string) error {
	out := struct {
		Tunnels []countersJSON     `json:"tunnels"`
		Reasons *map[string]uint64 `json:"reasons,omitempty"`
	}{Tunnels: statsRows(st, name)}
	if name == "" {
		reasons := map[string]uint64{}
		for r, n := range st.Reasons {
			reasons[r] = n
		}
		out.Reasons = &reasons
	}
	return writeJSON(w, out)
}

// writeFeatures prints what the kernel supports as a table or JSON.
func writeFeatures(w io.Writer, feats []dataplane.Feature, asJSON bool) error {
	if asJSON {
		return writeJSON(w, append([]dataplane.Feature{}, feats...))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tOK\tDETAIL")
	for _, f := range feats {
		ok := "no"
		if f.OK {
			ok = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, ok, f.Detail)
	}
	return tw.Flush()
}
