package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

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
		"ports": []any{map[string]any{"name": "eth0", "ifindex": 2.0, "xdp_mode": "native", "gateway": false}},
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

// ethernetLinks are links of the Ethernet types, and how link show
// prints them.
var ethernetLinks = []struct {
	args string // link add words
	want string // link show line
}{
	{"vx0 type vxlan id 42 local 198.51.100.1 remote 198.51.100.2",
		"vx0: vxlan id 42 remote 198.51.100.2 local 198.51.100.1 ttl 64 dstport 4789 dev eth0 mtu 1468 id 0"},
	{"vx1 type vxlan id 7 local 198.51.100.1 dstport 8472 srcport 1000 2000 df inherit udpcsum learning ageing 60 tos inherit",
		"vx1: vxlan id 7 remote any local 198.51.100.1 ttl 64 tos inherit dstport 8472 srcport 1000 2000 df inherit udpcsum learning ageing 60 dev eth0 mtu 1468 id 0"},
	{"vx2 type vxlan id 0 local 198.51.100.1 learning",
		"vx2: vxlan id 0 remote any local 198.51.100.1 ttl 64 dstport 4789 learning dev eth0 mtu 1468 id 0"},
	{"vx6 type vxlan vni 9 local 2001:db8::1 remote 2001:db8::2 flowlabel 0x12345 udp6zerocsumtx udp6zerocsumrx ttl inherit",
		"vx6: vxlan id 9 remote 2001:db8::2 local 2001:db8::1 ttl inherit flowlabel 0x12345 dstport 4789 udp6zerocsumtx udp6zerocsumrx dev eth0 mtu 1468 id 0"},
	{"gnv0 type geneve id 7 remote 198.51.100.2 opt 0102:80:0000002a",
		"gnv0: geneve id 7 remote 198.51.100.2 local any ttl 64 dstport 6081 opt 0102:80:0000002a dev eth0 mtu 1468 id 0"},
	{"gnv1 type geneve id 8 remote any local 198.51.100.1 innerprotoinherit geneve_opts 0102:01:,ffff:7f:00000001deadbeef",
		"gnv1: geneve id 8 remote any local 198.51.100.1 ttl 64 dstport 6081 innerprotoinherit opt 0102:01: opt ffff:7f:00000001deadbeef dev eth0 mtu 1468 id 0"},
	{"gnv6 type geneve id 1 remote 2001:db8::2 dstport 6082",
		"gnv6: geneve id 1 remote 2001:db8::2 local any ttl 64 dstport 6082 dev eth0 mtu 1468 id 0"},
	{"gt0 type gretap local 198.51.100.1 remote 198.51.100.2 key 5 csum",
		"gt0: gretap remote 198.51.100.2 local 198.51.100.1 ttl inherit key 5 csum dev eth0 mtu 1468 id 0"},
	{"gt6 type ip6gretap local 2001:db8::1 remote 2001:db8::2 flowlabel 0x1",
		"gt6: ip6gretap remote 2001:db8::2 local 2001:db8::1 hoplimit 64 flowlabel 0x00001 dev eth0 mtu 1468 id 0"},
	{"erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 key 10",
		"erspan1: erspan remote 198.51.100.2 local 198.51.100.1 ttl inherit key 10 oseq erspan_ver 1 dev eth0 mtu 1468 id 0"},
	{"erspan2 type erspan local 198.51.100.1 remote 198.51.100.2 key 10 erspan_ver 2 erspan_dir egress erspan_hwid 7",
		"erspan2: erspan remote 198.51.100.2 local 198.51.100.1 ttl inherit key 10 oseq erspan_ver 2 erspan_dir egress erspan_hwid 7 dev eth0 mtu 1468 id 0"},
	{"erspan3 type erspan local 198.51.100.1 remote 198.51.100.2 key 3 erspan_ver 1 erspan 123 seq",
		"erspan3: erspan remote 198.51.100.2 local 198.51.100.1 ttl inherit key 3 seq erspan_ver 1 erspan 123 dev eth0 mtu 1468 id 0"},
	{"e6 type ip6erspan local 2001:db8::1 remote 2001:db8::2 key 1 erspan_ver 2 encaplimit none",
		"e6: ip6erspan remote 2001:db8::2 local 2001:db8::1 hoplimit 64 encaplimit none key 1 oseq erspan_ver 2 dev eth0 mtu 1468 id 0"},
}

func TestFormatLinkEthernetTypes(t *testing.T) {
	for _, tt := range ethernetLinks {
		s, err := tunnel.ParseLinkAdd(strings.Fields(tt.args))
		if err != nil {
			t.Fatalf("ParseLinkAdd(%q): %v", tt.args, err)
		}
		l := mkLink(func(l *dataplane.Link) { l.Spec = s })
		if got := formatLink(l); got != tt.want {
			t.Errorf("formatLink(%s)\n got %s\nwant %s", tt.args, got, tt.want)
		}
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

// ethernetKeys are the JSON keys added with the Ethernet types.
var ethernetKeys = []string{"vni", "dstport", "srcport", "df", "udpcsum", "udp6zerocsumtx", "udp6zerocsumrx",
	"innerprotoinherit", "geneve_opts", "learning", "ageing", "erspan_ver", "erspan_index", "erspan_dir", "erspan_hwid"}

func TestLinkOutEthernetTypes(t *testing.T) {
	tests := []struct {
		args string
		want map[string]any // the ethernetKeys present, and flowlabel
	}{
		{"gre1 type gre local 198.51.100.1 remote 198.51.100.2", map[string]any{}},
		{"gt6 type ip6gretap local 2001:db8::1 remote 2001:db8::2", map[string]any{"flowlabel": 0.0}},
		{"vx0 type vxlan id 42 local 198.51.100.1 remote 198.51.100.2",
			map[string]any{"vni": 42.0, "dstport": 4789.0, "df": "unset"}},
		{"vx0 type vxlan id 0 local 198.51.100.1 srcport 1000 2000 df set udpcsum learning",
			map[string]any{"vni": 0.0, "dstport": 4789.0, "srcport": map[string]any{"min": 1000.0, "max": 2000.0},
				"df": "set", "udpcsum": true, "learning": true, "ageing": 300.0}},
		{"vx6 type vxlan id 9 local 2001:db8::1 remote 2001:db8::2 flowlabel 0x12345 udp6zerocsumtx udp6zerocsumrx dstport 8472",
			map[string]any{"vni": 9.0, "dstport": 8472.0, "flowlabel": 74565.0, "udp6zerocsumtx": true, "udp6zerocsumrx": true}},
		{"gnv0 type geneve id 7 remote 198.51.100.2 innerprotoinherit opt 0102:80:0000002a opt 0103:01:",
			map[string]any{"vni": 7.0, "dstport": 6081.0, "df": "unset", "innerprotoinherit": true, "geneve_opts": []any{
				map[string]any{"class": 258.0, "type": 128.0, "critical": true, "data": "0000002a"},
				map[string]any{"class": 259.0, "type": 1.0, "critical": false, "data": ""},
			}}},
		{"erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 key 10",
			map[string]any{"erspan_ver": 1.0, "erspan_index": 0.0}},
		{"erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 key 10 erspan 77",
			map[string]any{"erspan_ver": 1.0, "erspan_index": 77.0}},
		{"erspan2 type erspan local 198.51.100.1 remote 198.51.100.2 key 10 erspan_ver 2 erspan_dir egress erspan_hwid 7",
			map[string]any{"erspan_ver": 2.0, "erspan_dir": "egress", "erspan_hwid": 7.0}},
		{"e6 type ip6erspan local 2001:db8::1 remote 2001:db8::2 key 1 erspan_ver 2",
			map[string]any{"erspan_ver": 2.0, "erspan_dir": "ingress", "erspan_hwid": 0.0, "flowlabel": 0.0}},
	}
	for _, tt := range tests {
		s, err := tunnel.ParseLinkAdd(strings.Fields(tt.args))
		if err != nil {
			t.Fatalf("ParseLinkAdd(%q): %v", tt.args, err)
		}
		b, err := json.Marshal(linkOut(mkLink(func(l *dataplane.Link) { l.Spec = s })))
		if err != nil {
			t.Fatal(err)
		}
		var all map[string]any
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{}
		for _, k := range append(ethernetKeys, "flowlabel") {
			if v, ok := all[k]; ok {
				got[k] = v
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("linkOut(%s)\n got %v\nwant %v", tt.args, got, tt.want)
		}
		if words, _ := all["args"].([]any); len(words) != len(s.Args()) {
			t.Errorf("linkOut(%s): args %v, want %q", tt.args, words, s.Args())
		}
	}
}

// testFDB is what the dataplane lists, in no order; testFDBText is how
// fdb show prints it.
var testFDB = []dataplane.FDBEntry{
	{Dev: "vx0", MAC: "52:54:00:12:34:56", Dst: netip.MustParseAddr("198.51.100.2")},
	{Dev: "vx0", MAC: "00:00:00:00:00:00", Dst: netip.MustParseAddr("198.51.100.4")},
	{Dev: "vx0", MAC: "00:00:00:00:00:00", Dst: netip.MustParseAddr("198.51.100.3")},
	{Dev: "vx0", MAC: "52:54:00:ab:cd:ef", Dst: netip.MustParseAddr("198.51.100.3"), Learned: true, Age: 12*time.Second + 700*time.Millisecond},
	{Dev: "gnv0", MAC: "00:00:00:00:00:00", Dst: netip.MustParseAddr("2001:db8::2")},
	{Dev: "gnv0", MAC: "52:54:00:00:00:01", Dst: netip.MustParseAddr("2001:db8::3"), Learned: true, Age: 300 * time.Millisecond},
}

const testFDBText = `00:00:00:00:00:00 dst 2001:db8::2 dev gnv0
52:54:00:00:00:01 dst 2001:db8::3 dev gnv0 learned age 0s
00:00:00:00:00:00 dst 198.51.100.3 dev vx0
00:00:00:00:00:00 dst 198.51.100.4 dev vx0
52:54:00:12:34:56 dst 198.51.100.2 dev vx0
52:54:00:ab:cd:ef dst 198.51.100.3 dev vx0 learned age 12s
`

func TestWriteFDB(t *testing.T) {
	input := append([]dataplane.FDBEntry(nil), testFDB...)
	var buf bytes.Buffer
	if err := writeFDB(&buf, input); err != nil {
		t.Fatal(err)
	}
	if buf.String() != testFDBText {
		t.Errorf("writeFDB\n got:\n%s\nwant:\n%s", buf.String(), testFDBText)
	}
	if !reflect.DeepEqual(input, testFDB) {
		t.Errorf("writeFDB sorted its argument")
	}
	// A static line is the words of fdb add.
	e, err := tunnel.ParseFDBAdd(strings.Fields(formatFDB(testFDB[0])))
	if err != nil || e.String() != formatFDB(testFDB[0]) {
		t.Errorf("ParseFDBAdd(%q) = %v, %v", formatFDB(testFDB[0]), e, err)
	}

	buf.Reset()
	if err := writeJSON(&buf, sortedFDB(testFDB[3:5])); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %s: %v", buf.String(), err)
	}
	want := []map[string]any{
		{"dev": "gnv0", "mac": "00:00:00:00:00:00", "dst": "2001:db8::2", "learned": false},
		{"dev": "vx0", "mac": "52:54:00:ab:cd:ef", "dst": "198.51.100.3", "learned": true, "age_ns": 12.7e9},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fdb JSON\n got %v\nwant %v", got, want)
	}

	buf.Reset()
	if err := writeFDB(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("writeFDB(nothing) = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := writeJSON(&buf, sortedFDB(nil)); err != nil || buf.String() != "[]\n" {
		t.Errorf("fdb JSON of nothing = %q, %v", buf.String(), err)
	}
}

// testMirrors is what the dataplane lists, in no order; testMirrorsText
// is how mirror show prints it.
var testMirrors = []dataplane.Mirror{
	{Dev: "eth1", Direction: "egress", To: "erspan1", Sample: 1, Packets: 20, Mode: "tcx"},
	{Dev: "eth1", Direction: "ingress", To: "erspan1", Sample: 1, Packets: 1234, Mode: "tcx"},
	{Dev: "eth0", Direction: "ingress", To: "erspan2", Sample: 100, Packets: 5, Skipped: 495, Mode: "clsact"},
	{Dev: "if9", Direction: "ingress", To: "erspan1", Sample: 1},
}

const testMirrorsText = `dev eth0 ingress to erspan2 sample 1/100 copied 5 skipped 495 (clsact)
dev eth1 ingress to erspan1 sample 1/1 copied 1234 skipped 0 (tcx)
dev eth1 egress to erspan1 sample 1/1 copied 20 skipped 0 (tcx)
dev if9 ingress to erspan1 sample 1/1 copied 0 skipped 0
`

func TestWriteMirrors(t *testing.T) {
	input := append([]dataplane.Mirror(nil), testMirrors...)
	var buf bytes.Buffer
	if err := writeMirrors(&buf, input); err != nil {
		t.Fatal(err)
	}
	if buf.String() != testMirrorsText {
		t.Errorf("writeMirrors\n got:\n%s\nwant:\n%s", buf.String(), testMirrorsText)
	}
	if !reflect.DeepEqual(input, testMirrors) {
		t.Errorf("writeMirrors sorted its argument")
	}

	buf.Reset()
	if err := writeJSON(&buf, sortedMirrors(testMirrors[2:])); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %s: %v", buf.String(), err)
	}
	want := []map[string]any{
		{"dev": "eth0", "direction": "ingress", "to": "erspan2", "sample": 100.0, "packets": 5.0, "skipped": 495.0, "tc_mode": "clsact"},
		{"dev": "if9", "direction": "ingress", "to": "erspan1", "sample": 1.0, "packets": 0.0, "skipped": 0.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mirror JSON\n got %v\nwant %v", got, want)
	}

	buf.Reset()
	if err := writeMirrors(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("writeMirrors(nothing) = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := writeJSON(&buf, sortedMirrors(nil)); err != nil || buf.String() != "[]\n" {
		t.Errorf("mirror JSON of nothing = %q, %v", buf.String(), err)
	}
}

func TestMirrorsOf(t *testing.T) {
	tests := []struct {
		m    tunnel.Mirror
		want []dataplane.Mirror
	}{
		{tunnel.Mirror{Dev: "eth1", Ingress: true, Egress: true, To: "erspan1", Sample: 3}, []dataplane.Mirror{
			{Dev: "eth1", Direction: "ingress", To: "erspan1", Sample: 3},
			{Dev: "eth1", Direction: "egress", To: "erspan1", Sample: 3},
		}},
		{tunnel.Mirror{Dev: "eth1", Egress: true, To: "erspan1", Sample: 1}, []dataplane.Mirror{
			{Dev: "eth1", Direction: "egress", To: "erspan1", Sample: 1},
		}},
	}
	for _, tt := range tests {
		if got := mirrorsOf(tt.m); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mirrorsOf(%v) = %+v, want %+v", tt.m, got, tt.want)
		}
	}
}

// testRoutes is what the dataplane lists, in no order; testRoutesText is
// how route show prints it.
var testRoutes = []dataplane.Route{
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Dev: "xgre", Encap: &tunnel.RouteEncap{
		KeySet: true, Key: 42, Dst: netip.MustParseAddr("198.51.100.7"), TTL: 64}}, Kernel: true},
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("2001:db8::/32"), Dev: "gre1"}, Kernel: true},
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Dev: "gre1"}, Kernel: true},
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Dev: "gre1"}, Kernel: true},
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("10.0.0.0/16"), Dev: "gre1"}},
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("10.0.0.1/32"), Dev: "gre1"}, Kernel: true},
	{Route: tunnel.Route{Prefix: netip.MustParsePrefix("2001:db8:1::/48"), Dev: "x6", Encap: &tunnel.RouteEncap{
		IPv6: true, Dst: netip.MustParseAddr("2001:db8::7"), Src: netip.MustParseAddr("2001:db8::1"), TOS: 0x10}}, Kernel: true},
}

const testRoutesText = `default dev gre1
10.0.0.0/8 dev gre1
10.0.0.0/16 dev gre1 (kernel route missing)
10.0.0.1 dev gre1
2001:db8::/32 dev gre1
2001:db8:1::/48 encap ip6 dst 2001:db8::7 src 2001:db8::1 tclass 0x10 dev x6
10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre
`

func TestWriteRoutes(t *testing.T) {
	input := append([]dataplane.Route(nil), testRoutes...)
	var buf bytes.Buffer
	if err := writeRoutes(&buf, input); err != nil {
		t.Fatal(err)
	}
	if buf.String() != testRoutesText {
		t.Errorf("writeRoutes\n got:\n%s\nwant:\n%s", buf.String(), testRoutesText)
	}
	if !reflect.DeepEqual(input, testRoutes) {
		t.Errorf("writeRoutes sorted its argument")
	}
	// A line is the words of route add.
	for _, r := range testRoutes {
		if !r.Kernel {
			continue
		}
		got, err := tunnel.ParseRouteAdd(strings.Fields(formatRoute(r)))
		if err != nil || !reflect.DeepEqual(got, r.Route) {
			t.Errorf("ParseRouteAdd(%q) = %v, %v", formatRoute(r), got, err)
		}
	}

	buf.Reset()
	if err := writeJSON(&buf, sortedRoutes(testRoutes[:2])); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %s: %v", buf.String(), err)
	}
	want := []map[string]any{
		{"prefix": "2001:db8::/32", "dev": "gre1", "kernel": true},
		{"prefix": "10.1.0.0/16", "dev": "xgre", "kernel": true, "encap": map[string]any{
			"ipv6": false, "key_set": true, "key": 42.0, "dst": "198.51.100.7", "src": "", "ttl": 64.0, "tos": 0.0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("route JSON\n got %v\nwant %v", got, want)
	}

	buf.Reset()
	if err := writeRoutes(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("writeRoutes(nothing) = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := writeJSON(&buf, sortedRoutes(nil)); err != nil || buf.String() != "[]\n" {
		t.Errorf("route JSON of nothing = %q, %v", buf.String(), err)
	}
}

func TestFormatLinkExternal(t *testing.T) {
	l := mkLink(func(l *dataplane.Link) {
		l.Spec.Name, l.Spec.Remote, l.Spec.IKey, l.Spec.OKey, l.Spec.External = "xgre", netip.Addr{}, tunnel.Key{}, tunnel.Key{}, true
	})
	if got, want := formatLink(l), "xgre: gre external remote any local 198.51.100.1 ttl 64 dev eth0 mtu 1468 id 0"; got != want {
		t.Errorf("formatLink\n got %s\nwant %s", got, want)
	}
	j := linkOut(l)
	if !j.External || strings.Join(j.Args, " ") != "name xgre type gre external local 198.51.100.1 ttl 64" {
		t.Errorf("linkOut: external %v, args %q", j.External, j.Args)
	}
	if linkOut(mkLink(nil)).External {
		t.Error("linkOut: a point-to-point link is external")
	}
}
