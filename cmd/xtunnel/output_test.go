package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/xtunnel/xtunnel/dataplane"
	"github.com/xtunnel/xtunnel/tunnel"
)

func mkLink(edit func(*dataplane.Link)) dataplane.Link {
	var l dataplane.Link
	l.Spec = tunnel.Spec{
		Name: "gre1", Type: tunnel.GRE,
		Local:  netip.MustParseAddr("198.51.100.1"),
		Remote: netip.MustParseAddr("198.51.100.2"),
		IKey:   tunnel.Key{Set: true, Value: 42}, OKey: tunnel.Key{Set: true, Value: 42},
		TTL: 64,
	}
	l.ID, l.Ifindex, l.OverlayMTU, l.Link, l.Present = 0, 12, 1468, "eth0", true
	if edit != nil {
		edit(&l)
	}
	return l
}

func TestFormatLink(t *testing.T) {
	tests := []struct {
		l    dataplane.Link
		want string
	}{
		{mkLink(nil), "gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 key 42 dev eth0 mtu 1468 id 0"},
		{mkLink(func(l *dataplane.Link) { l.Present = false; l.ID = 7 }),
			"gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 key 42 dev eth0 mtu 1468 id 7 (netdev missing)"},
		{mkLink(func(l *dataplane.Link) {
			l.Spec.TTL, l.Spec.TOSInherit, l.Spec.NoPMTUDisc = 0, true, true
			l.Spec.IKey, l.Spec.OKey = tunnel.Key{Set: true, Value: 1}, tunnel.Key{Set: true, Value: 2}
		}), "gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl inherit tos inherit ikey 1 okey 2 nopmtudisc dev eth0 mtu 1468 id 0"},
		{mkLink(func(l *dataplane.Link) {
			l.Spec.Name, l.Spec.Type, l.Spec.IKey, l.Spec.OKey, l.Spec.TOS = "ipip0", tunnel.IPIP, tunnel.Key{}, tunnel.Key{}, 0x10
			l.Link, l.Spec.Dev, l.OverlayMTU, l.Spec.MTU = "", "eth1", 0, 1400
		}), "ipip0: ipip remote 198.51.100.2 local 198.51.100.1 ttl 64 tos 0x10 dev eth1 mtu 1400 id 0"},
		{mkLink(func(l *dataplane.Link) {
			l.Spec.IKey, l.Spec.OKey, l.Link, l.OverlayMTU = tunnel.Key{}, tunnel.Key{Set: true, Value: 5}, "", 0
		}), "gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 okey 5 id 0"},
	}
	for _, tt := range tests {
		if got := formatLink(tt.l); got != tt.want {
			t.Errorf("formatLink\n got %s\nwant %s", got, tt.want)
		}
	}
}

// newTypeLinks are links with the options added with sit, ip6tnl and
// ip6gre, and how link show prints them.
var newTypeLinks = []struct {
	args string // link add words
	want string // link show line
}{
	{"gre1 type gre local 198.51.100.1 remote 198.51.100.2 csum oseq ttl inherit nopmtudisc ignore-df encap gue encap-sport 7 encap-dport 6080 encap-csum",
		"gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl inherit csum oseq nopmtudisc ignore-df encap gue encap-sport 7 encap-dport 6080 encap-csum dev eth0 mtu 1468 id 0"},
	{"ipip0 type ipip mode any local 198.51.100.1 remote 198.51.100.2 encap fou encap-dport 5555",
		"ipip0: ipip mode any remote 198.51.100.2 local 198.51.100.1 ttl inherit encap fou encap-dport 5555 dev eth0 mtu 1468 id 0"},
	{"sit0 type sit local 198.51.100.1 remote any ttl 64",
		"sit0: sit remote any local 198.51.100.1 ttl 64 dev eth0 mtu 1468 id 0"},
	{"sit1 type sit local 198.51.100.1 isatap tos inherit",
		"sit1: sit remote any local 198.51.100.1 isatap ttl inherit tos inherit dev eth0 mtu 1468 id 0"},
	{"sit2 type sit mode mplsip local 198.51.100.1 remote 198.51.100.2",
		"sit2: sit mode mplsip remote 198.51.100.2 local 198.51.100.1 ttl inherit dev eth0 mtu 1468 id 0"},
	{"t6 type ip6tnl local 2001:db8::1 remote 2001:db8::2",
		"t6: ip6tnl remote 2001:db8::2 local 2001:db8::1 hoplimit 64 dev eth0 mtu 1468 id 0"},
	{"t6 type ip6tnl mode ipip6 local 2001:db8::1 remote 2001:db8::2 hoplimit inherit tclass 0x10 flowlabel 0x12345 encaplimit 0",
		"t6: ip6tnl mode ipip6 remote 2001:db8::2 local 2001:db8::1 hoplimit inherit tclass 0x10 flowlabel 0x12345 encaplimit 0 dev eth0 mtu 1468 id 0"},
	{"g6 type ip6gre local 2001:db8::1 remote 2001:db8::2 key 9 seq icsum tclass inherit flowlabel inherit encaplimit none",
		"g6: ip6gre remote 2001:db8::2 local 2001:db8::1 hoplimit 64 tclass inherit flowlabel inherit encaplimit none key 9 icsum seq dev eth0 mtu 1468 id 0"},
}

func TestFormatLinkNewTypes(t *testing.T) {
	for _, tt := range newTypeLinks {
		s, err := tunnel.ParseLinkAdd(strings.Fields(tt.args))
		if err != nil {
			t.Fatalf("ParseLinkAdd(%q): %v", tt.args, err)
		}
		l := mkLink(func(l *dataplane.Link) { l.Spec = s })
		if got := formatLink(l); got != tt.want {
			t.Errorf("formatLink(%s)\n got %s\nwant %s", tt.args, got, tt.want)
		}
		// link show -v prints words that recreate the tunnel.
		var buf bytes.Buffer
		if err := writeLinks(&buf, []dataplane.Link{l}, nil, true); err != nil {
			t.Fatal(err)
		}
		words := strings.Fields(strings.TrimPrefix(strings.Split(buf.String(), "\n")[1], "    xtunnel link add "))
		if again, err := tunnel.ParseLinkAdd(words); err != nil || again != s {
			t.Errorf("ParseLinkAdd(%q) = %+v, %v; want %+v", words, again, err, s)
		}
	}
}

func TestLinkOutNewTypes(t *testing.T) {
	parse := func(args string) dataplane.Link {
		s, err := tunnel.ParseLinkAdd(strings.Fields(args))
		if err != nil {
			t.Fatalf("ParseLinkAdd(%q): %v", args, err)
		}
		return mkLink(func(l *dataplane.Link) { l.Spec = s })
	}
	u8 := func(v uint8) *uint8 { return &v }
	u32 := func(v uint32) *uint32 { return &v }
	tests := []struct {
		args string
		want linkJSON // only the fields added with the new types
	}{
		{"gre1 type gre local 198.51.100.1 remote 198.51.100.2", linkJSON{}},
		{"gre1 type gre local 198.51.100.1 remote 198.51.100.2 icsum oseq nopmtudisc ignore-df encap fou encap-dport 5555",
			linkJSON{ICsum: true, OSeq: true, IgnoreDF: true, Encap: &encapJSON{Type: "fou", DPort: 5555}}},
		{"ipip0 type ipip local 198.51.100.1 remote 198.51.100.2", linkJSON{Mode: "ipip"}},
		{"sit0 type sit local 198.51.100.1 isatap", linkJSON{Mode: "ip6ip", ISATAP: true}},
		{"t6 type ip6tnl mode any local 2001:db8::1 remote 2001:db8::2", linkJSON{Mode: "any", FlowLabel: u32(0), EncapLimit: u8(4)}},
		{"t6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit none flowlabel inherit", linkJSON{Mode: "ip6ip6", FlowInherit: true}},
		{"t6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit 0 flowlabel 0x5", linkJSON{Mode: "ip6ip6", FlowLabel: u32(5), EncapLimit: u8(0)}},
		{"g6 type ip6gre local 2001:db8::1 remote 2001:db8::2 csum", linkJSON{ICsum: true, OCsum: true, FlowLabel: u32(0), EncapLimit: u8(4)}},
	}
	for _, tt := range tests {
		j := linkOut(parse(tt.args))
		got := linkJSON{Mode: j.Mode, ISATAP: j.ISATAP, ICsum: j.ICsum, OCsum: j.OCsum, ISeq: j.ISeq, OSeq: j.OSeq,
			IgnoreDF: j.IgnoreDF, FlowLabel: j.FlowLabel, FlowInherit: j.FlowInherit, EncapLimit: j.EncapLimit, Encap: j.Encap}
		if !reflect.DeepEqual(got, tt.want) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			t.Errorf("linkOut(%s)\n got %s\nwant %s", tt.args, gb, wb)
		}
	}
}

func TestWriteFOU(t *testing.T) {
	ports := []tunnel.FOUPort{{Port: 6080, GUE: true, IPv6: true}, {Port: 5555, IPProto: 41}, {Port: 1, GUE: true}}
	var buf bytes.Buffer
	if err := writeFOU(&buf, ports); err != nil {
		t.Fatal(err)
	}
	if want := "port 1 gue\nport 5555 ipproto 41\nport 6080 gue -6\n"; buf.String() != want {
		t.Errorf("writeFOU\n got %q\nwant %q", buf.String(), want)
	}
	if ports[0].Port != 6080 {
		t.Errorf("writeFOU sorted its argument")
	}

	buf.Reset()
	if err := writeFOUJSON(&buf, ports); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %s: %v", buf.String(), err)
	}
	want := map[string]any{"ports": []any{
		map[string]any{"port": 1.0, "type": "gue", "family": "inet", "args": []any{"port", "1", "gue"}},
		map[string]any{"port": 5555.0, "type": "fou", "ipproto": 41.0, "family": "inet", "args": []any{"port", "5555", "ipproto", "41"}},
		map[string]any{"port": 6080.0, "type": "gue", "family": "inet6", "args": []any{"port", "6080", "gue", "-6"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writeFOUJSON\n got %v\nwant %v", got, want)
	}

	buf.Reset()
	if err := writeFOU(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("writeFOU(nothing) = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := writeFOUJSON(&buf, nil); err != nil || buf.String() != "{\n  \"ports\": []\n}\n" {
		t.Errorf("writeFOUJSON(nothing) = %q, %v", buf.String(), err)
	}
}

func TestWriteLinks(t *testing.T) {
	links := []dataplane.Link{
		mkLink(func(l *dataplane.Link) { l.Spec.Name, l.ID = "gre2", 1 }),
		mkLink(nil),
	}
	ports := []dataplane.Port{{Name: "eth1", XDPMode: "generic"}, {Name: "eth0", XDPMode: "native"}}
	var buf bytes.Buffer
	if err := writeLinks(&buf, links, ports, false); err != nil {
		t.Fatal(err)
	}
	want := `gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 key 42 dev eth0 mtu 1468 id 0
gre2: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 key 42 dev eth0 mtu 1468 id 1
attached: eth0 xdp native
attached: eth1 xdp generic
`
	if buf.String() != want {
		t.Errorf("writeLinks\n got:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := writeLinks(&buf, links[1:], nil, true); err != nil {
		t.Fatal(err)
	}
	want = `gre1: gre remote 198.51.100.2 local 198.51.100.1 ttl 64 key 42 dev eth0 mtu 1468 id 0
    xtunnel link add name gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 42 ttl 64
`
	if buf.String() != want {
		t.Errorf("writeLinks verbose\n got:\n%s\nwant:\n%s", buf.String(), want)
	}
	// The printed command recreates the tunnel.
	words := strings.Fields(strings.TrimPrefix(strings.Split(buf.String(), "\n")[1], "    xtunnel link add "))
	if s, err := tunnel.ParseLinkAdd(words); err != nil || s != links[1].Spec {
		t.Errorf("ParseLinkAdd(%q) = %+v, %v; want %+v", words, s, err, links[1].Spec)
	}

	buf.Reset()
	if err := writeLinks(&buf, nil, nil, false); err != nil || buf.Len() != 0 {
		t.Errorf("writeLinks(nothing) = %q, %v", buf.String(), err)
	}
}

func TestWriteLinksJSON(t *testing.T) {
	var buf bytes.Buffer
	ports := []dataplane.Port{{Name: "eth0", Ifindex: 2, XDPMode: "native"}}
	if err := writeLinksJSON(&buf, []dataplane.Link{mkLink(nil)}, ports, true); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %s: %v", buf.String(), err)
	}
	want := map[string]any{
		"links": []any{map[string]any{
			"name": "gre1", "type": "gre", "local": "198.51.100.1", "remote": "198.51.100.2",
			"ikey": 42.0, "okey": 42.0, "ttl": 64.0, "tos": 0.0, "tos_inherit": false, "pmtudisc": true,
			"link": "eth0", "mtu": 1468.0, "id": 0.0, "ifindex": 12.0, "present": true,
			"args": []any{"name", "gre1", "type", "gre", "local", "198.51.100.1", "remote", "198.51.100.2", "key", "42", "ttl", "64"},
		}},
		"ports": []any{map[string]any{"name": "eth0", "ifindex": 2.0, "xdp_mode": "native"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writeLinksJSON\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(buf.String(), "\n  \"links\"") {
		t.Errorf("JSON is not indented: %s", buf.String())
	}

	for _, tt := range []struct {
		withPorts bool
		want      string
	}{
		{true, "{\n  \"links\": [],\n  \"ports\": []\n}\n"},
		{false, "{\n  \"links\": []\n}\n"},
	} {
		buf.Reset()
		if err := writeLinksJSON(&buf, nil, nil, tt.withPorts); err != nil || buf.String() != tt.want {
			t.Errorf("writeLinksJSON(empty, %v) = %q, %v; want %q", tt.withPorts, buf.String(), err, tt.want)
		}
	}
}

var testStats = dataplane.Stats{
	Tunnels: map[string]dataplane.Counters{
		"ipip0": {RxPackets: 5, RxBytes: 500, TxPackets: 6, TxBytes: 600, TxDropped: 1},
		"gre1":  {RxPackets: 1234567, RxBytes: 987654321, RxDropped: 2, TxPackets: 7, TxBytes: 700},
	},
	Reasons: map[string]uint64{"pass_unknown_peer": 4, "drop_bad_key": 1, "pass_fragment": 0},
}

func TestWriteStats(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStats(&buf, testStats, ""); err != nil {
		t.Fatal(err)
	}
	want := `NAME   RX-PKTS  RX-BYTES   RX-DROP  TX-PKTS  TX-BYTES  TX-DROP
gre1   1234567  987654321  2        7        700       0
ipip0  5        500        0        6        600       1

REASON             COUNT
drop_bad_key       1
pass_unknown_peer  4
`
	if buf.String() != want {
		t.Errorf("writeStats\n got:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := writeStats(&buf, testStats, "ipip0"); err != nil {
		t.Fatal(err)
	}
	want = `NAME   RX-PKTS  RX-BYTES  RX-DROP  TX-PKTS  TX-BYTES  TX-DROP
ipip0  5        500       0        6        600       1
`
	if buf.String() != want {
		t.Errorf("writeStats(ipip0)\n got:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := writeStats(&buf, dataplane.Stats{Reasons: map[string]uint64{"pass_fragment": 0}}, ""); err != nil {
		t.Fatal(err)
	}
	if want := "NAME  RX-PKTS  RX-BYTES  RX-DROP  TX-PKTS  TX-BYTES  TX-DROP\n"; buf.String() != want {
		t.Errorf("writeStats(empty) = %q, want %q", buf.String(), want)
	}
}

func TestWriteStatsJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStatsJSON(&buf, testStats, ""); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tunnels []countersJSON    `json:"tunnels"`
		Reasons map[string]uint64 `json:"reasons"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Tunnels) != 2 || got.Tunnels[0].Name != "gre1" || got.Tunnels[0].RxBytes != 987654321 || got.Tunnels[1].TxDropped != 1 {
		t.Errorf("tunnels = %+v", got.Tunnels)
	}
	if !reflect.DeepEqual(got.Reasons, testStats.Reasons) {
		t.Errorf("reasons = %v, want every reason %v", got.Reasons, testStats.Reasons)
	}
	if !strings.Contains(buf.String(), `"rx_packets": 1234567`) {
		t.Errorf("missing snake_case counter names: %s", buf.String())
	}

	buf.Reset()
	if err := writeStatsJSON(&buf, testStats, "gre1"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "reasons") || strings.Contains(buf.String(), "ipip0") {
		t.Errorf("stats gre1 JSON has more than gre1: %s", buf.String())
	}

	buf.Reset()
	if err := writeStatsJSON(&buf, dataplane.Stats{}, ""); err != nil || buf.String() != "{\n  \"tunnels\": [],\n  \"reasons\": {}\n}\n" {
		t.Errorf("empty stats JSON = %s, %v", buf.String(), err)
	}
}

func TestWriteFeatures(t *testing.T) {
	feats := []dataplane.Feature{
		{Name: "xdp", OK: true, Detail: "XDP programs"},
		{Name: "slowpath-gre", OK: false, Detail: "no ip_gre driver: fast path only"},
	}
	var buf bytes.Buffer
	if err := writeFeatures(&buf, feats, false); err != nil {
		t.Fatal(err)
	}
	want := `NAME          OK   DETAIL
xdp           yes  XDP programs
slowpath-gre  no   no ip_gre driver: fast path only
`
	if buf.String() != want {
		t.Errorf("writeFeatures\n got:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := writeFeatures(&buf, feats, true); err != nil {
		t.Fatal(err)
	}
	var got []dataplane.Feature
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil || !reflect.DeepEqual(got, feats) {
		t.Errorf("writeFeatures JSON = %s, %v", buf.String(), err)
	}

	buf.Reset()
	if err := writeFeatures(&buf, nil, true); err != nil || buf.String() != "[]\n" {
		t.Errorf("writeFeatures(nil, json) = %q, %v", buf.String(), err)
	}
}
