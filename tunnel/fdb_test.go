package tunnel

import (
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func mac(s string) net.HardwareAddr {
	hw, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return hw
}

func TestParseFDBAdd(t *testing.T) {
	flood := mac("00:00:00:00:00:00")
	tests := []struct {
		in   string
		want FDBEntry
	}{
		{"00:00:00:00:00:00 dst 198.51.100.2 dev vx0", FDBEntry{flood, addrB, "vx0"}},
		{"52:54:00:12:34:56 dst 198.51.100.2 dev vx0", FDBEntry{mac("52:54:00:12:34:56"), addrB, "vx0"}},
		{"52:54:00:12:34:56 dev vx0 dst 2001:db8::2", FDBEntry{mac("52:54:00:12:34:56"), addr6B, "vx0"}},
		{"dev vx0 dst 198.51.100.2 52:54:00:12:34:56", FDBEntry{mac("52:54:00:12:34:56"), addrB, "vx0"}},
		{"52-54-00-12-34-56 dst 198.51.100.2 dev vx0", FDBEntry{mac("52:54:00:12:34:56"), addrB, "vx0"}},
		{"5254.0012.3456 dst 198.51.100.2 dev vx0", FDBEntry{mac("52:54:00:12:34:56"), addrB, "vx0"}},
		{"to 00:00:00:00:00:00 dst 198.51.100.2 dev vx0", FDBEntry{flood, addrB, "vx0"}},
		{"00:00:00:00:00:00 dev vx0 dst 198.51.100.2 self permanent", FDBEntry{flood, addrB, "vx0"}},
		{"00:00:00:00:00:00 dev vx0 static dst 198.51.100.2", FDBEntry{flood, addrB, "vx0"}},
		{"02:00:00:00:00:01 dst fe80::1 dev gnv0", FDBEntry{mac("02:00:00:00:00:01"), netip.MustParseAddr("fe80::1"), "gnv0"}},
	}
	for _, tt := range tests {
		got, err := ParseFDBAdd(strings.Fields(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFDBAdd(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if err := got.Validate(); err != nil {
			t.Errorf("ParseFDBAdd(%q) gave an invalid entry: %v", tt.in, err)
		}
		again, err := ParseFDBAdd(got.Args())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q through %q: %+v, %v", tt.in, got.Args(), again, err)
		}
	}
	e, _ := ParseFDBAdd(strings.Fields("00:00:00:00:00:00 dst 198.51.100.2 dev vx0"))
	if !e.Flood() || e.String() != "00:00:00:00:00:00 dst 198.51.100.2 dev vx0" {
		t.Errorf("flood entry: Flood() %v, String() %q", e.Flood(), e)
	}
	if (FDBEntry{MAC: mac("52:54:00:12:34:56")}).Flood() || (FDBEntry{}).Flood() {
		t.Error("Flood() is true for a unicast or missing MAC")
	}
}

func TestParseFDBDel(t *testing.T) {
	tests := []struct {
		in   string
		want FDBEntry
	}{
		{"52:54:00:12:34:56 dev vx0", FDBEntry{MAC: mac("52:54:00:12:34:56"), Dev: "vx0"}},
		{"00:00:00:00:00:00 dev vx0 dst 198.51.100.2", FDBEntry{mac("00:00:00:00:00:00"), addrB, "vx0"}},
		{"dev vx0 to 00:00:00:00:00:00 self", FDBEntry{MAC: mac("00:00:00:00:00:00"), Dev: "vx0"}},
	}
	for _, tt := range tests {
		got, err := ParseFDBDel(strings.Fields(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFDBDel(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFDBShow(t *testing.T) {
	for in, want := range map[string]string{"": "", "dev vx0": "vx0", "vx0": "vx0"} {
		if got, err := ParseFDBShow(strings.Fields(in)); err != nil || got != want {
			t.Errorf("ParseFDBShow(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFDBShow([]string{"dev", "vx0", "vlan"}); err == nil || !strings.Contains(err.Error(), `unexpected word "vlan" after fdb show vx0`) {
		t.Errorf("ParseFDBShow(dev vx0 vlan) = %v", err)
	}
}

// TestParseFDBErrors checks that every error is one line, names the
// offending word, and says what to write instead.
func TestParseFDBErrors(t *testing.T) {
	add := func(a []string) error { _, err := ParseFDBAdd(a); return err }
	del := func(a []string) error { _, err := ParseFDBDel(a); return err }
	tests := []struct {
		fn   func([]string) error
		in   string
		want []string
	}{
		{add, "", []string{"fdb add needs an entry", "fdb add MAC dst ADDR dev NAME", "00:00:00:00:00:00"}},
		{del, "", []string{"fdb del needs an entry", "fdb del MAC dev NAME [dst ADDR]"}},
		{add, "dst 198.51.100.2 dev vx0", []string{"missing MAC", "fdb add MAC", "flood list"}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2", []string{`missing "dev NAME"`, "fdb add 00:00:00:00:00:00 dev NAME"}},
		{add, "00:00:00:00:00:00 dev vx0", []string{`missing "dst ADDR"`, "peer"}},
		{del, "00:00:00:00:00:00 dst 198.51.100.2", []string{`missing "dev NAME"`, "fdb del"}},
		{add, "zz:00:00:00:00:00 dst 198.51.100.2 dev vx0", []string{`bad MAC "zz:00:00:00:00:00"`, "6-byte"}},
		{add, "00:00:00:00:00:00:00:00 dst 198.51.100.2 dev vx0", []string{`bad MAC "00:00:00:00:00:00:00:00"`, "8 bytes", "6-byte"}},
		{add, "ff:ff:ff:ff:ff:ff dst 198.51.100.2 dev vx0", []string{`bad MAC "ff:ff:ff:ff:ff:ff"`, "broadcast",
			"use 00:00:00:00:00:00, the flood list, for broadcast and multicast"}},
		{add, "01:00:5e:00:00:01 dst 198.51.100.2 dev vx0", []string{`bad MAC "01:00:5e:00:00:01"`, "multicast",
			"use 00:00:00:00:00:00, the flood list, for broadcast and multicast"}},
		{del, "33:33:00:00:00:01 dev vx0", []string{`bad MAC "33:33:00:00:00:01"`, "flood list"}},
		{add, "00:00:00:00:00:00 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", []string{`unknown keyword "52:54:00:12:34:56"`, "the MAC is 00:00:00:00:00:00"}},
		{add, "00:00:00:00:00:00 to 52:54:00:12:34:56 dst 198.51.100.2 dev vx0", []string{`"to 52:54:00:12:34:56" names the MAC again`}},
		{add, "00:00:00:00:00:00 198.51.100.2 dev vx0", []string{`"198.51.100.2" needs its keyword: fdb add 00:00:00:00:00:00 dst 198.51.100.2`}},
		{add, "198.51.100.2 dev vx0", []string{`"198.51.100.2" needs its keyword`, "dst 198.51.100.2"}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 dts 1", []string{`unknown keyword "dts"`, "expected one of: MAC dst dev"}},
		{add, "00:00:00:00:00:00 dst", []string{`"dst" needs the peer's underlay address`}},
		{add, "00:00:00:00:00:00 dev", []string{`"dev" needs the tunnel`}},
		{add, "to", []string{`"to" needs a MAC`}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dst 198.51.100.3 dev vx0", []string{`duplicate keyword "dst"`}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 dev vx1", []string{`duplicate keyword "dev"`}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev a/b", []string{`bad dev "a/b"`}},
		{add, "00:00:00:00:00:00 dst vtep1 dev vx0", []string{`bad dst "vtep1"`, "IPv4 or IPv6"}},
		{add, "00:00:00:00:00:00 dst 0.0.0.0 dev vx0", []string{`bad dst "0.0.0.0"`, "unspecified"}},
		{add, "00:00:00:00:00:00 dst :: dev vx0", []string{`bad dst "::"`, "unspecified"}},
		{add, "00:00:00:00:00:00 dst 239.1.1.1 dev vx0", []string{`bad dst "239.1.1.1"`, "multicast", "one flood-list entry per peer"}},
		{add, "00:00:00:00:00:00 dst ff02::1 dev vx0", []string{`bad dst "ff02::1"`, "multicast"}},
		{add, "00:00:00:00:00:00 dst 255.255.255.255 dev vx0", []string{`bad dst "255.255.255.255"`, "broadcast"}},
		{add, "00:00:00:00:00:00 dst ::ffff:198.51.100.2 dev vx0", []string{`bad dst "::ffff:198.51.100.2"`, "write 198.51.100.2"}},
		{add, "00:00:00:00:00:00 dst fe80::1%eth0 dev vx0", []string{`bad dst "fe80::1%eth0"`, "zones"}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 master", []string{`keyword "master" is not supported by xtunnel fdb add`, "no bridge"}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 vni 5", []string{`keyword "vni" is not supported`, "tunnel's id"}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 port 5", []string{`keyword "port" is not supported`, "dstport"}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 via eth0", []string{`keyword "via" is not supported`}},
		{add, "00:00:00:00:00:00 dst 198.51.100.2 dev vx0 dynamic", []string{`keyword "dynamic" is not supported`, "static"}},
		{del, "00:00:00:00:00:00 dev vx0 vlan 5", []string{`keyword "vlan" is not supported by xtunnel fdb del`}},
	}
	for _, tt := range tests {
		err := tt.fn(strings.Fields(tt.in))
		if err == nil {
			t.Errorf("parse %q: no error, want one with %q", tt.in, tt.want)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("parse %q: error is not one line: %q", tt.in, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("parse %q error\n  %s\nmissing %q", tt.in, msg, w)
			}
		}
	}
}

func TestFDBEntryValidate(t *testing.T) {
	good := FDBEntry{mac("52:54:00:12:34:56"), addrB, "vx0"}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%v): %v", good, err)
	}
	for _, tt := range []struct {
		e    FDBEntry
		want string
	}{
		{FDBEntry{nil, addrB, "vx0"}, "want a 6-byte Ethernet address"},
		{FDBEntry{mac("01:00:5e:00:00:01"), addrB, "vx0"}, "flood list"},
		{FDBEntry{mac("52:54:00:12:34:56"), netip.Addr{}, "vx0"}, `missing "dst ADDR"`},
		{FDBEntry{mac("52:54:00:12:34:56"), netip.MustParseAddr("224.0.0.1"), "vx0"}, "multicast"},
		{FDBEntry{mac("52:54:00:12:34:56"), addrB, ""}, `bad dev ""`},
	} {
		if err := tt.e.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error with %q", tt.e, err, tt.want)
		}
	}
}

func TestFDBUsage(t *testing.T) {
	for _, w := range []string{"fdb add MAC dst ADDR dev NAME", "fdb append", "fdb del MAC dev NAME [dst ADDR]", "fdb show [dev NAME]", "00:00:00:00:00:00"} {
		if !strings.Contains(FDBUsage, w) {
			t.Errorf("FDBUsage lacks %q", w)
		}
	}
}
