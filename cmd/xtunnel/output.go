package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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
//	vx0: vxlan id 42 remote any local 198.51.100.1 ttl 64 dstport 4789 learning dev eth0 mtu 1450 id 2
//
// A vxlan or geneve tunnel's VNI follows its type, as with ip -d link
// show (the last id is xtunnel's own number for the tunnel), and its
// dstport is printed even at the default.
func formatLink(l dataplane.Link) string {
	s := l.Spec
	b := []string{s.Name + ":", s.Type.String()}
	udp := s.Type == tunnel.VXLAN || s.Type == tunnel.GENEVE
	if udp {
		b = append(b, "id", strconv.FormatUint(uint64(s.VNI), 10))
	}
	b = append(b, s.ModeWords()...)
	if s.External {
		b = append(b, "external")
	}
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
	if udp && s.DstPort == s.Type.DefaultDstPort() {
		// EthernetWords leaves the default out; it starts with dstport
		// when it is another.
		b = append(b, "dstport", strconv.Itoa(int(s.DstPort)))
	}
	b = append(b, s.EthernetWords()...)
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
	if p.Gateway {
		mode += " gateway"
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
	External   bool       `json:"external,omitempty"` // one netdev for many peers: routes
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

	// vxlan, geneve
	VNI               *uint32         `json:"vni,omitempty"`
	DstPort           uint16          `json:"dstport,omitempty"`
	SrcPort           *portRangeJSON  `json:"srcport,omitempty"` // vxlan: when not the default 32768..60999
	DF                string          `json:"df,omitempty"`      // over IPv4: unset, set or inherit
	UDPCsum           bool            `json:"udpcsum,omitempty"`
	UDP6ZeroCsumTx    bool            `json:"udp6zerocsumtx,omitempty"`
	UDP6ZeroCsumRx    bool            `json:"udp6zerocsumrx,omitempty"`
	InnerProtoInherit bool            `json:"innerprotoinherit,omitempty"`
	GeneveOpts        []geneveOptJSON `json:"geneve_opts,omitempty"`
	Learning          bool            `json:"learning,omitempty"`
	Ageing            uint32          `json:"ageing,omitempty"` // seconds, when learning

	// erspan, ip6erspan
	ERSPANVer   uint8   `json:"erspan_ver,omitempty"`
	ERSPANIndex *uint32 `json:"erspan_index,omitempty"` // version 1
	ERSPANDir   string  `json:"erspan_dir,omitempty"`   // version 2: ingress or egress
	ERSPANHWID  *uint8  `json:"erspan_hwid,omitempty"`  // version 2
}

// portRangeJSON is a vxlan tunnel's UDP source port range.
type portRangeJSON struct {
	Min uint16 `json:"min"`
	Max uint16 `json:"max"`
}

// geneveOptJSON is one Geneve option; the data is in hex.
type geneveOptJSON struct {
	Class    uint16 `json:"class"`
	Type     uint8  `json:"type"`
	Critical bool   `json:"critical"`
	Data     string `json:"data"`
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
	j.ISATAP, j.IgnoreDF, j.External = s.ISATAP, s.IgnoreDF, s.External
	j.ICsum, j.OCsum, j.ISeq, j.OSeq = s.ICsum, s.OCsum, s.ISeq, s.OSeq
	if s.Outer6() && !s.FlowInherit {
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
	ethernetOut(&j, s)
	return j
}

// ethernetOut fills the fields of the vxlan, geneve and erspan types.
func ethernetOut(j *linkJSON, s tunnel.Spec) {
	switch s.Type {
	case tunnel.VXLAN, tunnel.GENEVE:
		vni := s.VNI
		j.VNI, j.DstPort = &vni, s.DstPort
		if s.SrcPortMin != 0 || s.SrcPortMax != 0 {
			j.SrcPort = &portRangeJSON{Min: s.SrcPortMin, Max: s.SrcPortMax}
		}
		if !s.Outer6() {
			j.DF = s.DF.String()
		}
		j.UDPCsum, j.UDP6ZeroCsumTx, j.UDP6ZeroCsumRx = s.UDPCsum, s.UDP6ZeroCsumTx, s.UDP6ZeroCsumRx
		j.InnerProtoInherit, j.Learning, j.Ageing = s.InnerProtoInherit, s.Learning, s.Ageing
		for _, o := range s.GeneveOptions() {
			j.GeneveOpts = append(j.GeneveOpts, geneveOptJSON{Class: o.Class, Type: o.Type, Critical: o.Critical(), Data: hex.EncodeToString(o.Data)})
		}
	case tunnel.ERSPAN, tunnel.IP6ERSPAN:
		j.ERSPANVer = s.ERSPANVer
		if s.ERSPANVer == 1 {
			idx := s.ERSPANIndex
			j.ERSPANIndex = &idx
		} else {
			hwid := s.ERSPANHWID
			j.ERSPANDir, j.ERSPANHWID = s.ERSPANDir.String(), &hwid
		}
	}
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

// sortedFDB is entries sorted by tunnel, MAC (the flood list first) and
// dst; never nil, so that JSON prints [].
func sortedFDB(entries []dataplane.FDBEntry) []dataplane.FDBEntry {
	out := append([]dataplane.FDBEntry{}, entries...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Dev != b.Dev {
			return a.Dev < b.Dev
		}
		if a.MAC != b.MAC {
			return a.MAC < b.MAC
		}
		return a.Dst.Less(b.Dst)
	})
	return out
}

// formatFDB is one `fdb show` line, the words of fdb add followed, for a
// learned entry, by its age: "52:54:00:12:34:56 dst 198.51.100.2 dev
// vx0", "52:54:00:ab:cd:ef dst 198.51.100.3 dev vx0 learned age 12s".
// The flood list is the entries of MAC 00:00:00:00:00:00, one a peer, as
// bridge fdb show prints them.
func formatFDB(e dataplane.FDBEntry) string {
	b := []string{e.MAC, "dst", addrString(e.Dst), "dev", e.Dev}
	if e.Learned {
		b = append(b, "learned", "age", strconv.FormatInt(int64(e.Age/time.Second), 10)+"s")
	}
	return strings.Join(b, " ")
}

// writeFDB prints one entry a line, sorted.
func writeFDB(w io.Writer, entries []dataplane.FDBEntry) error {
	var b strings.Builder
	for _, e := range sortedFDB(entries) {
		fmt.Fprintln(&b, formatFDB(e))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sortedMirrors is ms sorted by monitored netdev, ingress before egress;
// never nil, so that JSON prints [].
func sortedMirrors(ms []dataplane.Mirror) []dataplane.Mirror {
	out := append([]dataplane.Mirror{}, ms...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Dev != b.Dev {
			return a.Dev < b.Dev
		}
		return a.Direction == "ingress" && b.Direction != "ingress"
	})
	return out
}

// formatMirror is one `mirror show` line: "dev eth1 ingress to erspan1
// sample 1/1 copied 10 skipped 0 (tcx)"; skipped counts the frames that
// sampling left out.
func formatMirror(m dataplane.Mirror) string {
	line := fmt.Sprintf("dev %s %s to %s sample 1/%d copied %d skipped %d", m.Dev, m.Direction, m.To, m.Sample, m.Packets, m.Skipped)
	if m.Mode != "" {
		line += " (" + m.Mode + ")"
	}
	return line
}

// writeMirrors prints one mirror direction a line, sorted.
func writeMirrors(w io.Writer, ms []dataplane.Mirror) error {
	var b strings.Builder
	for _, m := range sortedMirrors(ms) {
		fmt.Fprintln(&b, formatMirror(m))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mirrorsOf is m as mirror show lists it before it has copied anything:
// one entry a direction.
func mirrorsOf(m tunnel.Mirror) []dataplane.Mirror {
	var out []dataplane.Mirror
	for _, d := range []struct {
		on   bool
		name string
	}{{m.Ingress, "ingress"}, {m.Egress, "egress"}} {
		if d.on {
			out = append(out, dataplane.Mirror{Dev: m.Dev, Direction: d.name, To: m.To, Sample: m.Sample})
		}
	}
	return out
}

// sortedRoutes is rs sorted by tunnel, then IPv4 before IPv6, then by
// prefix address and length; never nil, so that JSON prints [].
func sortedRoutes(rs []dataplane.Route) []dataplane.Route {
	out := append([]dataplane.Route{}, rs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Route, out[j].Route
		if a.Dev != b.Dev {
			return a.Dev < b.Dev
		}
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c < 0 // IPv4 sorts before IPv6
		}
		return a.Prefix.Bits() < b.Prefix.Bits()
	})
	return out
}

// formatRoute is one `route show` line, the words of route add:
// "10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre", and
// "(kernel route missing)" when the kernel's route into the link is gone.
func formatRoute(r dataplane.Route) string {
	if !r.Kernel {
		return r.Route.String() + " (kernel route missing)"
	}
	return r.Route.String()
}

// writeRoutes prints one route a line, sorted; buffered, for tables of
// millions.
func writeRoutes(w io.Writer, rs []dataplane.Route) error {
	bw := bufio.NewWriter(w)
	for _, r := range sortedRoutes(rs) {
		bw.WriteString(formatRoute(r))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
