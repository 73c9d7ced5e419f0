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
