package tunnel

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// peer4 and peer6 are encaps of each family to the test peers.
func peer4(edit func(*RouteEncap)) *RouteEncap {
	e := &RouteEncap{Dst: netip.MustParseAddr("198.51.100.7")}
	if edit != nil {
		edit(e)
	}
	return e
}

func peer6(edit func(*RouteEncap)) *RouteEncap {
	e := &RouteEncap{IPv6: true, Dst: netip.MustParseAddr("2001:db8::7")}
	if edit != nil {
		edit(e)
	}
	return e
}

func TestParseRouteAdd(t *testing.T) {
	const xgre = " dev xgre"
	tests := []struct {
		in   string
		want Route
	}{
		// into a point-to-point link
		{"10.1.0.0/16 dev gre1", Route{Prefix: pfx("10.1.0.0/16"), Dev: "gre1"}},
		{"dev gre1 10.1.0.0/16", Route{Prefix: pfx("10.1.0.0/16"), Dev: "gre1"}},
		{"to 10.1.0.0/16 dev gre1", Route{Prefix: pfx("10.1.0.0/16"), Dev: "gre1"}},
		{"10.1.2.3 dev gre1", Route{Prefix: pfx("10.1.2.3/32"), Dev: "gre1"}},
		{"10.1.2.3/32 dev gre1", Route{Prefix: pfx("10.1.2.3/32"), Dev: "gre1"}},
		{"default dev gre1", Route{Prefix: pfx("0.0.0.0/0"), Dev: "gre1"}},
		{"0.0.0.0/0 dev gre1", Route{Prefix: pfx("0.0.0.0/0"), Dev: "gre1"}},
		{"::/0 dev gre6", Route{Prefix: pfx("::/0"), Dev: "gre6"}},
		{"2001:db8:1::/48 dev gre6", Route{Prefix: pfx("2001:db8:1::/48"), Dev: "gre6"}},
		{"2001:db8::1 dev gre6", Route{Prefix: pfx("2001:db8::1/128"), Dev: "gre6"}},
		{"10.0.0.0/8 dev abcdefghijklmno", Route{Prefix: pfx("10.0.0.0/8"), Dev: "abcdefghijklmno"}},

		// peers of external links
		{"10.1.0.0/16 encap ip dst 198.51.100.7" + xgre, Route{pfx("10.1.0.0/16"), "xgre", peer4(nil)}},
		{"10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key, e.TTL = true, 42, 64 })}},
		{"10.1.0.0/16 dev xgre encap ip dst 198.51.100.7 id 42",
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key = true, 42 })}},
		{"10.1.0.0/16 encap ip id 0.0.0.42 dst 198.51.100.7" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key = true, 42 })}},
		{"10.1.0.0/16 encap ip id 0 dst 198.51.100.7" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet = true })}},
		{"10.1.0.0/16 encap ip id 4294967295 dst 198.51.100.7" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key = true, 1<<32-1 })}},
		{"10.1.0.0/16 encap ip id 0x2a key dst 198.51.100.7" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key = true, 42 })}},
		{"10.1.0.0/16 encap ip key dst 198.51.100.7" + xgre, // ip route's flag alone: key 0
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet = true })}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 src 198.51.100.1" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.Src = netip.MustParseAddr("198.51.100.1") })}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 ttl 1 tos 0x10" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TTL, e.TOS = 1, 0x10 })}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 ttl 255 tos b8" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TTL, e.TOS = 255, 0xb8 })}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 ttl inherit" + xgre, Route{pfx("10.1.0.0/16"), "xgre", peer4(nil)}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 ttl 0" + xgre, Route{pfx("10.1.0.0/16"), "xgre", peer4(nil)}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 tos 0" + xgre, Route{pfx("10.1.0.0/16"), "xgre", peer4(nil)}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 hoplimit 9 tclass 0x20" + xgre, // the other family's words are aliases
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TTL, e.TOS = 9, 0x20 })}},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 hlim 9 dsfield 0x20" + xgre,
			Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TTL, e.TOS = 9, 0x20 })}},
		{"2001:db8:1::/48 encap ip dst 198.51.100.7 dev xsit", // IPv6 inner over IPv4
			Route{pfx("2001:db8:1::/48"), "xsit", peer4(nil)}},
		{"default encap ip dst 198.51.100.7" + xgre, Route{pfx("0.0.0.0/0"), "xgre", peer4(nil)}},
		{"2001:db8:1::/48 encap ip6 dst 2001:db8::7 dev x6", Route{pfx("2001:db8:1::/48"), "x6", peer6(nil)}},
		{"10.1.0.0/16 encap ip6 id 7 dst 2001:db8::7 src 2001:db8::1 hoplimit 64 tclass 0x28 dev x6",
			Route{pfx("10.1.0.0/16"), "x6", peer6(func(e *RouteEncap) {
				e.KeySet, e.Key, e.Src, e.TTL, e.TOS = true, 7, netip.MustParseAddr("2001:db8::1"), 64, 0x28
			})}},
		{"10.1.0.0/16 encap ip6 dst 2001:db8::7 tc 0x28 ttl 3 dev x6",
			Route{pfx("10.1.0.0/16"), "x6", peer6(func(e *RouteEncap) { e.TTL, e.TOS = 3, 0x28 })}},
		{"10.1.0.0/16 encap ip6 dst fe80::7 dev x6",
			Route{pfx("10.1.0.0/16"), "x6", peer6(func(e *RouteEncap) { e.Dst = netip.MustParseAddr("fe80::7") })}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRouteAdd(strings.Fields(tt.in))
			if err != nil {
				t.Fatalf("ParseRouteAdd: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseRouteAdd(%q)\n got %s %+v\nwant %s %+v", tt.in, got, got.Encap, tt.want, tt.want.Encap)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("it gave an invalid Route: %v", err)
			}
			again, err := ParseRouteAdd(got.Args())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %q: %s, %v", got.Args(), again, err)
			}
		})
	}
}

func TestParseRouteAddErrors(t *testing.T) {
	const xgre = " dev xgre"
	const enc = "10.1.0.0/16 encap ip dst 198.51.100.7"
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{"route add needs a route"}},
		{"dev gre1", []string{"missing PREFIX"}},
		{"10.1.0.0/16", []string{`missing "dev NAME"`, "route add 10.1.0.0/16 ... dev NAME"}},
		{"10.1.0.0/16 dev", []string{`"dev" needs the xtunnel link`}},
		{"10.1.0.0/16 dev a/b", []string{`bad dev "a/b"`}},
		{"10.1.0.0/16 dev abcdefghijklmnop", []string{`bad dev "abcdefghijklmnop"`}},
		{"10.1.0.0/16 dev gre1 dev gre2", []string{`duplicate keyword "dev"`}},
		{"to", []string{`"to" needs a prefix`}},
		// prefixes
		{"10.1.2.3/16 dev gre1", []string{`bad prefix "10.1.2.3/16"`, "invalid prefix for given prefix length",
			"host bits 0.0.2.3 are set", "write 10.1.0.0/16"}},
		{"2001:db8::1/64 dev gre6", []string{`bad prefix "2001:db8::1/64"`, "host bits ::1 are set", "write 2001:db8::/64"}},
		{"10.0.0.0/33 dev gre1", []string{`bad prefix "10.0.0.0/33"`, `the length "33" is not 0..32`}},
		{"2001:db8::/129 dev gre1", []string{`the length "129" is not 0..128`}},
		{"10.0.0.0/ dev gre1", []string{`the length "" is not 0..32`}},
		{"10.0.0.0/08 dev gre1", []string{`the length "08"`}},
		{"10.0.0.0/0x8 dev gre1", []string{`the length "0x8"`}},
		{"10.0.0.0/-1 dev gre1", []string{`the length "-1"`}},
		{"10.0.0/8 dev gre1", []string{`bad prefix "10.0.0/8"`, "want an IPv4 or IPv6 prefix"}},
		{"010.0.0.0/8 dev gre1", []string{`bad prefix "010.0.0.0/8"`}},
		{"fe80::%eth0/64 dev gre1", []string{`bad prefix "fe80::%eth0/64"`, "zones are not supported"}},
		{"::ffff:10.0.0.0/104 dev gre1", []string{"IPv4-mapped", "10.0.0.0"}},
		{"any dev gre1", []string{`bad prefix "any"`, "0.0.0.0/0; ::/0 for IPv6"}},
		{"all dev gre1", []string{`bad prefix "all"`}},
		{"10 dev gre1", []string{`bad prefix "10"`}},
		{"10.1.0.0/16 10.2.0.0/16 dev gre1", []string{`"10.2.0.0/16" is a second prefix: the prefix is already 10.1.0.0/16`}},
		{"10.1.0.0/16 to 10.2.0.0/16 dev gre1", []string{`"10.2.0.0/16" is a second prefix`}},
		{"10.1.0.0/16 kye 1 dev gre1", []string{`unknown keyword "kye" for route add (the prefix is 10.1.0.0/16); expected one of: to encap dev`}},
		{"gre1 10.1.0.0/16", []string{`unknown keyword "gre1" for route add; expected PREFIX`}},
		// ip route words xtunnel does not take
		{"10.1.0.0/16 via 198.51.100.1 dev gre1", []string{`keyword "via" is not supported by xtunnel route add`, "next hop"}},
		{"10.1.0.0/16 metric 5 dev gre1", []string{`keyword "metric" is not supported`, "one route per prefix"}},
		{"10.1.0.0/16 table 5 dev gre1", []string{`keyword "table" is not supported`}},
		{"10.1.0.0/16 mtu 1400 dev gre1", []string{`keyword "mtu" is not supported`, "ip link set"}},
		{"blackhole 10.1.0.0/16", []string{`keyword "blackhole" is not supported`}},
		{"10.1.0.0/16 src 198.51.100.1 dev gre1", []string{`keyword "src" is not supported`, "preferred source", "right after encap ip|ip6"}},
		{"10.1.0.0/16 tos 0x10 dev gre1", []string{`keyword "tos" is not supported`, "TOS selector"}},
		{"10.1.0.0/16 dst 198.51.100.7 dev gre1", []string{`"dst" needs "encap ip" or "encap ip6" before it`}},
		{"10.1.0.0/16 id 5 dev gre1", []string{`"id" needs "encap ip"`}},
		{"10.1.0.0/16 ttl 5 dev gre1", []string{`"ttl" needs "encap ip"`}},
		// encap
		{"10.1.0.0/16 encap", []string{`"encap" needs a type: encap ip or encap ip6`}},
		{"10.1.0.0/16 encap ipv4 dst 198.51.100.7" + xgre, []string{`bad encap "ipv4": want ip`, "or ip6"}},
		{"10.1.0.0/16 encap mpls 100" + xgre, []string{"encap mpls is not supported", "encap ip", "encap ip6"}},
		{"10.1.0.0/16 encap seg6 mode encap segs 2001:db8::1" + xgre, []string{"encap seg6 is not supported"}},
		{"10.1.0.0/16 encap ip" + xgre, []string{`missing "dst ADDR" after encap ip`, "198.51.100.7"}},
		{"10.1.0.0/16 encap ip6" + xgre, []string{`missing "dst ADDR" after encap ip6`, "2001:db8::7"}},
		{"10.1.0.0/16 encap ip", []string{`missing "dst ADDR" after encap ip`}},
		{enc + " encap ip dst 198.51.100.8" + xgre, []string{`duplicate keyword "encap"`}},
		{enc + " dst 198.51.100.8" + xgre, []string{`duplicate keyword "dst"`}},
		{enc + " id 1 id 2" + xgre, []string{`duplicate keyword "id"`}},
		{enc + " key key" + xgre, []string{`duplicate keyword "key"`}},
		{enc + " ttl 1 hoplimit 2" + xgre, []string{`duplicate keyword "hoplimit" (same as "ttl")`}},
		{enc + " tos 0x10 tclass 0x20" + xgre, []string{`duplicate keyword "tclass" (same as "tos")`}},
		{enc + " src 198.51.100.1 src 198.51.100.2" + xgre, []string{`duplicate keyword "src"`}},
		{enc + xgre + " ttl 5", []string{`"ttl" must come with the encap words, right after "encap ip"`}},
		{enc + xgre + " src 198.51.100.1", []string{`"src" must come with the encap words`}},
		{enc + xgre + " id 5", []string{`"id" must come with the encap words`}},
		{enc + " csum" + xgre, []string{`"csum" is not a route word in xtunnel`, "checksums are set on the link", "external csum"}},
		{enc + " seq" + xgre, []string{`"seq" is not a route word`, "sequence numbers"}},
		{"10.1.0.0/16 csum dev gre1", []string{`"csum" is not a route word`}},
		{enc + " opts 1:2:3" + xgre, []string{`unknown keyword "opts" for route add`}},
		{enc + " id" + xgre, []string{`bad id "dev"`}},
		{enc + " id", []string{`"id" needs a value: id KEY`}},
		{enc + " id 4294967296" + xgre, []string{`bad id "4294967296": out of range; want 0..4294967295 or a dotted quad`}},
		{enc + " id 1.2.3" + xgre, []string{`bad id "1.2.3": not a dotted quad`}},
		{enc + " id 042" + xgre, []string{`bad id "042"`, "octal"}},
		{enc + " id -1" + xgre, []string{`bad id "-1"`}},
		{"10.1.0.0/16 encap ip dst" + xgre, []string{`bad dst "dev"`}},
		{"10.1.0.0/16 encap ip dst", []string{`"dst" needs the peer's underlay address`}},
		{"10.1.0.0/16 encap ip dst peer1" + xgre, []string{`bad dst "peer1": want an IPv4 address like 198.51.100.7`}},
		{"10.1.0.0/16 encap ip dst 2001:db8::7" + xgre, []string{`bad dst "2001:db8::7": encap ip is an IPv4 underlay; for an IPv6 peer write encap ip6`}},
		{"10.1.0.0/16 encap ip6 dst 198.51.100.7 dev x6", []string{`bad dst "198.51.100.7": encap ip6 is an IPv6 underlay; for an IPv4 peer write encap ip`}},
		{"10.1.0.0/16 encap ip dst ::ffff:198.51.100.7" + xgre, []string{"IPv4-mapped", "write 198.51.100.7"}},
		{"10.1.0.0/16 encap ip6 dst ::ffff:198.51.100.7 dev x6", []string{"IPv4-mapped", "encap ip and dst 198.51.100.7"}},
		{"10.1.0.0/16 encap ip6 dst fe80::7%eth0 dev x6", []string{`bad dst "fe80::7%eth0": zones are not supported`}},
		{"10.1.0.0/16 encap ip dst 0.0.0.0" + xgre, []string{"unspecified"}},
		{"10.1.0.0/16 encap ip dst 224.0.0.1" + xgre, []string{"multicast"}},
		{"10.1.0.0/16 encap ip dst 255.255.255.255" + xgre, []string{"broadcast"}},
		{"10.1.0.0/16 encap ip6 dst ff02::1 dev x6", []string{"multicast"}},
		{enc + " src 2001:db8::1" + xgre, []string{`bad src "2001:db8::1": encap ip is an IPv4 underlay`}},
		{enc + " src 0.0.0.0" + xgre, []string{`bad src "0.0.0.0": it is unspecified`}},
		{enc + " src" + xgre, []string{`bad src "dev"`}},
		{enc + " ttl 256" + xgre, []string{`bad ttl "256": out of range; want 1..255, or inherit`}},
		{enc + " ttl x" + xgre, []string{`bad ttl "x": not a number`}},
		{enc + " ttl", []string{`"ttl" needs a value: ttl 1..255 or ttl inherit`}},
		{"10.1.0.0/16 encap ip6 dst 2001:db8::7 hoplimit 300 dev x6", []string{`bad hoplimit "300"`}},
		{enc + " tos 0x11" + xgre, []string{`bad tos "0x11": its lowest bit means inherit to the kernel; write tos 0x10`}},
		{enc + " tos 1" + xgre, []string{`bad tos "1"`, "write tos 0x00"}},
		{enc + " tos 10" + xgre, []string{`bad tos "10": ambiguous`, "0x0a", "0x10"}},
		{enc + " tos 0x100" + xgre, []string{`bad tos "0x100": out of range; want hex 0x00..0xff`}},
		{enc + " tos zz" + xgre, []string{`bad tos "zz": not a number`}},
		{enc + " tos inherit" + xgre, []string{`bad tos "inherit"`, "set it on the link", "tos inherit"}},
		{"10.1.0.0/16 encap ip6 dst 2001:db8::7 tclass inherit dev x6", []string{`bad tclass "inherit"`, "tclass inherit"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRouteAdd(strings.Fields(tt.in))
			if err == nil {
				t.Fatalf("ParseRouteAdd(%q) = %s, want an error", tt.in, r)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("ParseRouteAdd(%q) error\n  %s\nmissing %q", tt.in, msg, w)
				}
			}
			if !reflect.DeepEqual(r, Route{}) {
				t.Errorf("ParseRouteAdd(%q) returned %+v with its error, want the zero Route", tt.in, r)
			}
		})
	}
}

func TestParseRouteDel(t *testing.T) {
	tests := []struct {
		in   string
		want Route
	}{
		{"10.1.0.0/16", Route{Prefix: pfx("10.1.0.0/16")}},
		{"10.1.0.0/16 dev xgre", Route{Prefix: pfx("10.1.0.0/16"), Dev: "xgre"}},
		{"dev xgre to 10.1.0.0/16", Route{Prefix: pfx("10.1.0.0/16"), Dev: "xgre"}},
		{"default", Route{Prefix: pfx("0.0.0.0/0")}},
		{"2001:db8::1", Route{Prefix: pfx("2001:db8::1/128")}},
	}
	for _, tt := range tests {
		got, err := ParseRouteDel(strings.Fields(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRouteDel(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if again, err := ParseRouteDel(got.Args()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q through %q: %+v, %v", tt.in, got.Args(), again, err)
		}
	}
	errs := []struct {
		in   string
		want string
	}{
		{"", "route del needs a prefix: route del PREFIX [dev NAME]"},
		{"dev xgre", "missing PREFIX: route del PREFIX"},
		{"10.1.0.0/16 encap ip dst 198.51.100.7 dev xgre", `"encap" is not needed by route del: a route is named by its prefix (and dev)`},
		{"10.1.0.0/16 dst 198.51.100.7", `"dst" is not needed by route del`},
		{"10.1.0.0/16 id 1", `"id" is not needed by route del`},
		{"10.1.2.0/16", "host bits 0.0.2.0 are set"},
		{"10.1.0.0/16 foo", `unknown keyword "foo" for route del (the prefix is 10.1.0.0/16); expected one of: to dev`},
		{"10.1.0.0/16 via 198.51.100.1", `keyword "via" is not supported by xtunnel route del`},
	}
	for _, tt := range errs {
		_, err := ParseRouteDel(strings.Fields(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRouteDel(%q) = %v, want an error with %q", tt.in, err, tt.want)
		}
	}
}

func TestParseRouteShow(t *testing.T) {
	for in, want := range map[string]string{"": "", "dev xgre": "xgre", "xgre": "xgre"} {
		if got, err := ParseRouteShow(strings.Fields(in)); err != nil || got != want {
			t.Errorf("ParseRouteShow(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"xgre extra": `unexpected word "extra" after route show xgre`, "dev": `"dev" needs a name`} {
		if _, err := ParseRouteShow(strings.Fields(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRouteShow(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

// routeSpecs are valid Routes with every field set in turn.
func routeSpecs() []Route {
	return []Route{
		{Prefix: pfx("10.1.0.0/16"), Dev: "gre1"},
		{Prefix: pfx("0.0.0.0/0"), Dev: "gre1"},
		{Prefix: pfx("::/0"), Dev: "gre6"},
		{Prefix: pfx("10.1.2.3/32"), Dev: "gre1"},
		{Prefix: pfx("2001:db8::1/128"), Dev: "gre6"},
		{Prefix: pfx("2001:db8:1::/48"), Dev: "gre6"},
		{pfx("10.1.0.0/16"), "xgre", peer4(nil)},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet = true })},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key = true, 1<<32-1 })},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.Src = netip.MustParseAddr("198.51.100.1") })},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TTL = 1 })},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TTL = 255 })},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TOS = 0x02 })},
		{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.TOS = 0xfe })},
		{pfx("2001:db8::/32"), "xsit", peer4(func(e *RouteEncap) {
			e.KeySet, e.Key, e.Src, e.TTL, e.TOS = true, 42, netip.MustParseAddr("198.51.100.1"), 64, 0xb8
		})},
		{pfx("10.1.0.0/16"), "x6", peer6(nil)},
		{pfx("10.1.0.0/16"), "x6", peer6(func(e *RouteEncap) {
			e.KeySet, e.Key, e.Src, e.TTL, e.TOS = true, 7, netip.MustParseAddr("2001:db8::1"), 9, 0x10
		})},
		{pfx("0.0.0.0/0"), "abcdefghijklmno", peer6(func(e *RouteEncap) { e.Dst = netip.MustParseAddr("fe80::1") })},
	}
}

func TestRouteArgsRoundTrip(t *testing.T) {
	for _, r := range routeSpecs() {
		args := r.Args()
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := r.Validate(); err != nil {
				t.Fatalf("test route is invalid: %v", err)
			}
			got, err := ParseRouteAdd(args)
			if err != nil {
				t.Fatalf("ParseRouteAdd(%q): %v", args, err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Fatalf("round trip through %q\n got %+v %+v\nwant %+v %+v", args, got, got.Encap, r, r.Encap)
			}
		})
	}
}

func TestRouteArgs(t *testing.T) {
	tests := []struct {
		r    Route
		want string
	}{
		{Route{Prefix: pfx("10.1.0.0/16"), Dev: "gre1"}, "10.1.0.0/16 dev gre1"},
		{Route{Prefix: pfx("0.0.0.0/0"), Dev: "gre1"}, "default dev gre1"},
		{Route{Prefix: pfx("::/0"), Dev: "gre6"}, "::/0 dev gre6"},
		{Route{Prefix: pfx("10.1.2.3/32"), Dev: "gre1"}, "10.1.2.3 dev gre1"},
		{Route{Prefix: pfx("10.1.0.0/16")}, "10.1.0.0/16"},
		{Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.KeySet, e.Key, e.TTL = true, 42, 64 })},
			"10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre"},
		{Route{pfx("10.1.0.0/16"), "xgre", peer4(func(e *RouteEncap) { e.Src, e.TOS = netip.MustParseAddr("198.51.100.1"), 0x10 })},
			"10.1.0.0/16 encap ip dst 198.51.100.7 src 198.51.100.1 tos 0x10 dev xgre"},
		{Route{pfx("2001:db8::/32"), "x6", peer6(func(e *RouteEncap) { e.KeySet, e.TTL, e.TOS = true, 9, 0x28 })},
			"2001:db8::/32 encap ip6 id 0 dst 2001:db8::7 hoplimit 9 tclass 0x28 dev x6"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String()\n got %s\nwant %s", got, tt.want)
		}
	}
}

func TestRouteValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Route
		want string
	}{
		{"no prefix", Route{Dev: "gre1"}, "bad prefix"},
		{"host bits", Route{Prefix: netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 16), Dev: "gre1"}, "host bits 0.0.2.3 are set"},
		{"mapped", Route{Prefix: pfx("::ffff:10.0.0.0/104"), Dev: "gre1"}, "IPv4-mapped"},
		{"no dev", Route{Prefix: pfx("10.0.0.0/8")}, `bad dev ""`},
		{"no dst", Route{pfx("10.0.0.0/8"), "xgre", &RouteEncap{}}, `missing "dst ADDR" after encap ip`},
		{"dst family", Route{pfx("10.0.0.0/8"), "xgre", peer4(func(e *RouteEncap) { e.IPv6 = true })}, "encap ip6 is an IPv6 underlay"},
		{"src family", Route{pfx("10.0.0.0/8"), "xgre", peer4(func(e *RouteEncap) { e.Src = netip.MustParseAddr("2001:db8::1") })},
			`bad src "2001:db8::1"`},
		{"key without KeySet", Route{pfx("10.0.0.0/8"), "xgre", peer4(func(e *RouteEncap) { e.Key = 5 })}, "key 5 without KeySet"},
		{"tos inherit bit", Route{pfx("10.0.0.0/8"), "xgre", peer4(func(e *RouteEncap) { e.TOS = 0x11 })}, "bad tos 0x11"},
		{"tclass inherit bit", Route{pfx("10.0.0.0/8"), "x6", peer6(func(e *RouteEncap) { e.TOS = 1 })}, "bad tclass 0x01"},
	}
	for _, tt := range tests {
		if err := tt.r.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

func TestParseRoutePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"default": "0.0.0.0/0", "0.0.0.0/0": "0.0.0.0/0", "::/0": "::/0", "10.0.0.0/8": "10.0.0.0/8",
		"10.1.2.3": "10.1.2.3/32", "2001:db8::": "2001:db8::/128", "10.1.2.128/25": "10.1.2.128/25",
		"2001:db8::/32": "2001:db8::/32",
	} {
		if got, err := ParseRoutePrefix(in); err != nil || got != pfx(want) {
			t.Errorf("ParseRoutePrefix(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"10.255.255.255/8":    "host bits 0.255.255.255 are set; write 10.0.0.0/8",
		"192.168.1.1/24":      "host bits 0.0.0.1 are set; write 192.168.1.0/24",
		"2001:db8::ff/120":    "host bits ::ff are set; write 2001:db8::/120",
		"2001:db8:0:1::/63":   "host bits 0:0:0:1:: are set; write 2001:db8::/63",
		"default/0":           `bad prefix "default/0"`,
		"::/0/0":              `the length "0/0"`,
		"1.2.3.4/24 ":         "bad prefix",
		"-6":                  "bad prefix",
		"10.0.0.0/1000000000": `the length "1000000000" is not 0..32`,
	} {
		_, err := ParseRoutePrefix(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRoutePrefix(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

func TestRouteUsageNamesEveryKeyword(t *testing.T) {
	for _, w := range []string{"route add PREFIX dev NAME", "encap ip [id KEY] dst ADDR [src ADDR] [ttl TTL] [tos TOS] dev NAME",
		"encap ip6 [id KEY] dst ADDR [src ADDR] [hoplimit TTL] [tclass TOS] dev NAME", "route del PREFIX [dev NAME]",
		"route show [dev NAME]", "default", "external"} {
		if !strings.Contains(RouteUsage, w) {
			t.Errorf("RouteUsage does not mention %q", w)
		}
	}
}

func FuzzParseRouteAdd(f *testing.F) {
	f.Add("10.1.0.0/16 dev gre1")
	f.Add("default encap ip id 42 dst 198.51.100.7 src 198.51.100.1 ttl 64 tos 0x10 dev xgre")
	f.Add("2001:db8::/32 encap ip6 id 0.0.0.7 key dst 2001:db8::7 hoplimit 9 tclass 0x28 dev x6")
	f.Add("to ::/0 dev x encap ip dst 198.51.100.7 hlim 1 dsfield b8")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRouteAdd(strings.Fields(in))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q: %q", in, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseRouteAdd(%q) accepted an invalid route: %v", in, err)
		}
		again, err := ParseRouteAdd(r.Args())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip of %q through %q: %+v, %v", in, r.Args(), again, err)
		}
	})
}
