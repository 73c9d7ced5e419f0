package tunnel

import (
	"net/netip"
	"strings"
	"testing"
)

var (
	addrA = netip.MustParseAddr("198.51.100.1")
	addrB = netip.MustParseAddr("198.51.100.2")
)

// gre1 is the Spec most accepting cases start from.
func gre1(edit func(*Spec)) Spec {
	s := Spec{Name: "gre1", Type: GRE, Local: addrA, Remote: addrB}
	if edit != nil {
		edit(&s)
	}
	return s
}

func key(v uint32) Key { return Key{Set: true, Value: v} }

func TestParseLinkAdd(t *testing.T) {
	const ends = " local 198.51.100.1 remote 198.51.100.2"
	tests := []struct {
		name string
		in   string
		want Spec
	}{
		{"name keyword", "name gre1 type gre" + ends, gre1(nil)},
		{"bare name", "gre1 type gre" + ends, gre1(nil)},
		{"dev names the tunnel before type", "dev gre1 type gre" + ends, gre1(nil)},
		{"remote before local", "name gre1 type gre remote 198.51.100.2 local 198.51.100.1", gre1(nil)},
		{"ipip", "name ipip0 type ipip" + ends, Spec{Name: "ipip0", Type: IPIP, Local: addrA, Remote: addrB}},
		{"brief example", "name gre1 type gre" + ends + " key 42 ttl 64",
			gre1(func(s *Spec) { s.IKey, s.OKey, s.TTL = key(42), key(42), 64 })},
		{"key dotted quad", "gre1 type gre" + ends + " key 1.2.3.4",
			gre1(func(s *Spec) { s.IKey, s.OKey = key(0x01020304), key(0x01020304) })},
		{"key hex", "gre1 type gre" + ends + " key 0x2a", gre1(func(s *Spec) { s.IKey, s.OKey = key(42), key(42) })},
		{"key zero", "gre1 type gre" + ends + " key 0", gre1(func(s *Spec) { s.IKey, s.OKey = key(0), key(0) })},
		{"key max", "gre1 type gre" + ends + " key 4294967295",
			gre1(func(s *Spec) { s.IKey, s.OKey = key(1<<32-1), key(1<<32-1) })},
		{"ikey okey", "gre1 type gre" + ends + " ikey 1 okey 0.0.0.2", gre1(func(s *Spec) { s.IKey, s.OKey = key(1), key(2) })},
		{"ikey only", "gre1 type gre" + ends + " ikey 7", gre1(func(s *Spec) { s.IKey = key(7) })},
		{"okey only", "gre1 type gre" + ends + " okey 7", gre1(func(s *Spec) { s.OKey = key(7) })},
		{"ttl", "gre1 type gre" + ends + " ttl 255", gre1(func(s *Spec) { s.TTL = 255 })},
		{"ttl inherit", "gre1 type gre" + ends + " ttl inherit", gre1(nil)},
		{"ttl 0 is inherit", "gre1 type gre" + ends + " ttl 0", gre1(nil)},
		{"hoplimit alias", "gre1 type gre" + ends + " hoplimit 9", gre1(func(s *Spec) { s.TTL = 9 })},
		{"hlim alias", "gre1 type gre" + ends + " hlim 9", gre1(func(s *Spec) { s.TTL = 9 })},
		{"tos hex", "gre1 type gre" + ends + " tos 0x10", gre1(func(s *Spec) { s.TOS = 0x10 })},
		{"tos hex upper", "gre1 type gre" + ends + " tos 0XB8", gre1(func(s *Spec) { s.TOS = 0xb8 })},
		{"tos bare hex letters as iproute2", "gre1 type gre" + ends + " tos b8", gre1(func(s *Spec) { s.TOS = 0xb8 })},
		{"tos single digit", "gre1 type gre" + ends + " tos 4", gre1(func(s *Spec) { s.TOS = 4 })},
		{"tos digits equal in both bases", "gre1 type gre" + ends + " tos 08", gre1(func(s *Spec) { s.TOS = 8 })},
		{"tos 0", "gre1 type gre" + ends + " tos 0", gre1(nil)},
		{"tos inherit", "gre1 type gre" + ends + " tos inherit", gre1(func(s *Spec) { s.TOSInherit = true })},
		{"tos 1 is inherit as in the kernel", "gre1 type gre" + ends + " tos 1", gre1(func(s *Spec) { s.TOSInherit = true })},
		{"dsfield alias", "gre1 type gre" + ends + " dsfield 0x20", gre1(func(s *Spec) { s.TOS = 0x20 })},
		{"tclass alias", "gre1 type gre" + ends + " tclass 0x20", gre1(func(s *Spec) { s.TOS = 0x20 })},
		{"dev after type is the underlay", "name gre1 type gre" + ends + " dev eth0", gre1(func(s *Spec) { s.Dev = "eth0" })},
		{"dev both sides", "dev gre1 type gre" + ends + " dev eth0", gre1(func(s *Spec) { s.Dev = "eth0" })},
		{"mtu after type", "gre1 type gre" + ends + " mtu 1400", gre1(func(s *Spec) { s.MTU = 1400 })},
		{"mtu before type", "gre1 mtu 1400 type gre" + ends, gre1(func(s *Spec) { s.MTU = 1400 })},
		{"mtu before name", "mtu 68 name gre1 type gre" + ends, gre1(func(s *Spec) { s.MTU = 68 })},
		{"mtu max", "gre1 type gre" + ends + " mtu 65535", gre1(func(s *Spec) { s.MTU = 65535 })},
		{"pmtudisc", "gre1 type gre" + ends + " pmtudisc ttl 64", gre1(func(s *Spec) { s.TTL = 64 })},
		{"nopmtudisc", "gre1 type gre" + ends + " nopmtudisc", gre1(func(s *Spec) { s.NoPMTUDisc = true })},
		{"nopmtudisc ttl inherit", "gre1 type gre" + ends + " ttl inherit nopmtudisc", gre1(func(s *Spec) { s.NoPMTUDisc = true })},
		{"name of 15 bytes", "name abcdefghijklmno type gre" + ends, gre1(func(s *Spec) { s.Name = "abcdefghijklmno" })},
		{"everything", "name gre1 type gre" + ends + " ikey 1 okey 2 ttl 64 tos 0x10 dev eth0 mtu 1400 pmtudisc",
			gre1(func(s *Spec) {
				s.IKey, s.OKey, s.TTL, s.TOS, s.Dev, s.MTU = key(1), key(2), 64, 0x10, "eth0", 1400
			})},
		{"ipip everything", "name t1 type ipip" + ends + " ttl inherit tos inherit dev eth1 mtu 1480 nopmtudisc",
			Spec{Name: "t1", Type: IPIP, Local: addrA, Remote: addrB, TOSInherit: true, Dev: "eth1", MTU: 1480, NoPMTUDisc: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLinkAdd(strings.Fields(tt.in))
			if err != nil {
				t.Fatalf("ParseLinkAdd(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseLinkAdd(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseLinkAddErrors checks that every error is one line, names the
// offending word, and says what to write instead.
func TestParseLinkAddErrors(t *testing.T) {
	const ends = " local 198.51.100.1 remote 198.51.100.2"
	tests := []struct {
		in   string
		want []string // substrings of the message
	}{
		{"", []string{"link add needs a tunnel", "type gre|ipip"}},
		// before type
		{"gre1", []string{`missing "type gre|ipip"`, `"gre1"`}},
		{"type gre" + ends, []string{"missing the tunnel name", `"name NAME"`}},
		{"name", []string{`"name" needs a tunnel name`}},
		{"dev", []string{`"dev" needs a tunnel name`}},
		{"name gre1 name gre2 type gre" + ends, []string{`duplicate keyword "name"`}},
		{"dev gre1 dev gre2 type gre" + ends, []string{`duplicate keyword "dev"`}},
		{"name gre1 dev gre2 type gre" + ends, []string{`"dev gre2"`, `already "gre1"`}},
		{"gre1 name gre2 type gre" + ends, []string{`"name gre2"`, `already "gre1"`}},
		{"gre1 foo type gre" + ends, []string{`unknown keyword "foo" before type`, `already "gre1"`, "name dev mtu type"}},
		{"gre1 local 198.51.100.1 type gre", []string{`"local" must come after "type gre|ipip"`}},
		{"gre1 key 1 type gre", []string{`"key" must come after`}},
		{"gre1 hoplimit 1 type gre", []string{`"hoplimit" must come after`}},
		{"gre1 encap fou type gre", []string{`"encap" must come after`}},
		{"gre1 txqueuelen 100 type gre" + ends, []string{`keyword "txqueuelen" is not supported`, "ip link set gre1 txqueuelen"}},
		{"link eth0 gre1 type gre" + ends, []string{`keyword "link" is not supported`}},
		{"name a/b type gre" + ends, []string{`bad name "a/b"`, "'/'"}},
		{"name a:b type gre" + ends, []string{`bad name "a:b"`, "':'"}},
		{"name . type gre" + ends, []string{`bad name "."`}},
		{"name .. type gre" + ends, []string{`bad name ".."`}},
		{"abcdefghijklmnop type gre" + ends, []string{`bad name "abcdefghijklmnop"`, "16 bytes", "at most 15"}},
		{"gre1 type", []string{`"type" needs a tunnel type`, "gre or ipip"}},
		{"gre1 type grx" + ends, []string{`unknown tunnel type "grx"`, "supported: gre ipip"}},
		{"gre1 type vxlan" + ends, []string{`tunnel type "vxlan" is not supported yet`, "gre ipip"}},
		{"gre1 type gretap" + ends, []string{`"gretap" is not supported yet`}},
		{"gre1 mtu", []string{`"mtu" needs a value`, "68..65535"}},
		{"gre1 mtu 67 type gre" + ends, []string{`bad mtu "67"`, "too small", "68..65535"}},
		{"gre1 mtu 65536 type gre" + ends, []string{`bad mtu "65536"`, "out of range"}},
		{"gre1 mtu big type gre" + ends, []string{`bad mtu "big"`, "not a number"}},
		{"gre1 mtu -1 type gre" + ends, []string{`bad mtu "-1"`}},
		{"gre1 mtu 01400 type gre" + ends, []string{`bad mtu "01400"`, "octal", "1400"}},
		{"gre1 mtu 1400 type gre" + ends + " mtu 1400", []string{`duplicate keyword "mtu"`}},
		// after type
		{"gre1 type gre" + ends + " kye 42", []string{
			`unknown keyword "kye" after type gre; expected one of: local remote key ikey okey ttl tos dev mtu pmtudisc nopmtudisc`}},
		{"gre1 type ipip" + ends + " foo", []string{`unknown keyword "foo" after type ipip; expected one of: local remote ttl tos dev mtu pmtudisc nopmtudisc`}},
		{"gre1 type gre" + ends + " csum", []string{`keyword "csum" is not supported yet for gre`}},
		{"gre1 type gre" + ends + " external", []string{`keyword "external" is not supported yet`}},
		{"gre1 type gre" + ends + " encap fou", []string{`keyword "encap" is not supported yet`}},
		{"gre1 type gre type ipip" + ends, []string{`duplicate keyword "type"`}},
		{"gre1 type gre name gre2" + ends, []string{`"name" must come before "type gre"`}},
		{"gre1 type gre local", []string{`"local" needs an address`}},
		{"gre1 type gre local 198.51.100.1 remote", []string{`"remote" needs an address`}},
		{"gre1 type gre local 198.51.100.1 remote 1.2.3", []string{`bad address "1.2.3" for remote`}},
		{"gre1 type gre local gw.example remote 198.51.100.2", []string{`bad address "gw.example" for local`, "host names"}},
		{"gre1 type gre local 198.51.100.1 remote any", []string{`remote "any"`, "unicast"}},
		{"gre1 type gre local any remote 198.51.100.2", []string{`local "any"`}},
		{"gre1 type gre" + ends + " local 198.51.100.3", []string{`duplicate keyword "local"`}},
		{"gre1 type gre" + ends + " remote 198.51.100.3", []string{`duplicate keyword "remote"`}},
		{"gre1 type gre local 198.51.100.1", []string{`missing "remote ADDR": a point-to-point gre tunnel needs both ends`}},
		{"gre1 type ipip remote 198.51.100.1", []string{`missing "local ADDR": a point-to-point ipip tunnel needs both ends`}},
		{"gre1 type gre local 2001:db8::1 remote 2001:db8::2", []string{"IPv6 underlay is not supported yet for gre", "2001:db8::1"}},
		{"gre1 type ipip local 2001:db8::1 remote 2001:db8::2", []string{"IPv6 underlay is not supported yet for ipip"}},
		{"gre1 type gre local ::ffff:198.51.100.1 remote ::ffff:198.51.100.2", []string{"IPv6 underlay is not supported yet"}},
		{"gre1 type gre local 198.51.100.1 remote 2001:db8::2", []string{"different address families", "2001:db8::2"}},
		{"gre1 type gre local fe80::1%eth0 remote 198.51.100.2", []string{`bad address "fe80::1%eth0" for local`, "zone"}},
		{"gre1 type gre local 0.0.0.0 remote 198.51.100.2", []string{"local 0.0.0.0 is unspecified"}},
		{"gre1 type gre local 198.51.100.1 remote 0.0.0.0", []string{"remote 0.0.0.0 is unspecified"}},
		{"gre1 type gre local 198.51.100.1 remote 239.1.1.1", []string{"remote 239.1.1.1 is multicast"}},
		{"gre1 type gre local 224.0.0.1 remote 198.51.100.2", []string{"local 224.0.0.1 is multicast"}},
		{"gre1 type gre local 198.51.100.1 remote 255.255.255.255", []string{"remote 255.255.255.255 is the broadcast"}},
		{"gre1 type gre local 198.51.100.1 remote 198.51.100.1", []string{"both 198.51.100.1"}},
		{"gre1 type gre" + ends + " key", []string{`"key" needs a value`, "dotted quad"}},
		{"gre1 type gre" + ends + " key abc", []string{`bad key "abc"`, "not a number", "dotted quad"}},
		{"gre1 type gre" + ends + " key 4294967296", []string{`bad key "4294967296"`, "out of range"}},
		{"gre1 type gre" + ends + " key 99999999999999999999999", []string{`bad key "99999999999999999999999"`, "out of range"}},
		{"gre1 type gre" + ends + " key 1.2.3", []string{`bad key "1.2.3"`, "dotted quad"}},
		{"gre1 type gre" + ends + " key 010", []string{`bad key "010"`, "octal", "010 = 8", "write 10"}},
		{"gre1 type gre" + ends + " key 09", []string{`bad key "09"`, "octal", "write 9"}},
		{"gre1 type gre" + ends + " ikey x", []string{`bad ikey "x"`}},
		{"gre1 type gre" + ends + " okey", []string{`"okey" needs a value`}},
		{"gre1 type gre" + ends + " key 1 key 2", []string{`duplicate keyword "key"`}},
		{"gre1 type gre" + ends + " ikey 1 ikey 2", []string{`duplicate keyword "ikey"`}},
		{"gre1 type gre" + ends + " key 1 ikey 2", []string{`"ikey" conflicts with "key"`, "ikey K and okey K"}},
		{"gre1 type gre" + ends + " okey 1 key 2", []string{`"key" conflicts with "okey"`}},
		{"gre1 type ipip" + ends + " key 42", []string{`"key" is not valid for type ipip`, "ipip has no key", "type gre"}},
		{"gre1 type ipip" + ends + " ikey 42", []string{`"ikey" is not valid for type ipip`}},
		{"gre1 type ipip" + ends + " okey 42", []string{`"okey" is not valid for type ipip`}},
		{"gre1 type gre" + ends + " ttl", []string{`"ttl" needs a value`, "inherit"}},
		{"gre1 type gre" + ends + " ttl 256", []string{`bad ttl "256"`, "out of range", "0..255 or inherit"}},
		{"gre1 type gre" + ends + " ttl many", []string{`bad ttl "many"`, "not a number"}},
		{"gre1 type gre" + ends + " ttl 064", []string{`bad ttl "064"`, "octal", "write 64"}},
		{"gre1 type gre" + ends + " hoplimit 300", []string{`bad hoplimit "300"`}},
		{"gre1 type gre" + ends + " ttl 1 ttl 2", []string{`duplicate keyword "ttl"`}},
		{"gre1 type gre" + ends + " ttl 1 hoplimit 2", []string{`duplicate keyword "hoplimit" (same as "ttl")`}},
		{"gre1 type gre" + ends + " tos", []string{`"tos" needs a value`}},
		{"gre1 type gre" + ends + " tos 0x100", []string{`bad tos "0x100"`, "out of range"}},
		{"gre1 type gre" + ends + " tos zz", []string{`bad tos "zz"`, "not a number"}},
		{"gre1 type gre" + ends + " tos 10", []string{`bad tos "10"`, "ambiguous", "0x0a for decimal 10", "0x10 for hex"}},
		{"gre1 type gre" + ends + " tos 184", []string{`bad tos "184"`, "ambiguous", "0xb8 for decimal 184", "out of range"}},
		{"gre1 type gre" + ends + " tos 1234", []string{`bad tos "1234"`, "out of range"}},
		{"gre1 type gre" + ends + " tos 0x11", []string{`bad tos "0x11"`, "inherit", "0x10"}},
		{"gre1 type gre" + ends + " dsfield 0x03", []string{`bad dsfield "0x03"`, "dsfield inherit"}},
		{"gre1 type gre" + ends + " tos 0x10 dsfield 0x20", []string{`duplicate keyword "dsfield"`}},
		{"gre1 type gre" + ends + " dev", []string{`"dev" needs the underlay netdev`}},
		{"gre1 type gre" + ends + " dev eth0 dev eth1", []string{`duplicate keyword "dev"`}},
		{"gre1 type gre" + ends + " dev a/b", []string{`bad dev "a/b"`}},
		{"gre1 type gre" + ends + " dev abcdefghijklmnop", []string{`bad dev "abcdefghijklmnop"`, "at most 15"}},
		{"gre1 type gre" + ends + " pmtudisc pmtudisc", []string{`duplicate keyword "pmtudisc"`}},
		{"gre1 type gre" + ends + " pmtudisc nopmtudisc", []string{`"nopmtudisc" conflicts with "pmtudisc"`}},
		{"gre1 type gre" + ends + " ttl 64 nopmtudisc", []string{"ttl 64 and nopmtudisc are incompatible", "ttl inherit"}},
		{"gre1 type gre" + ends + " nopmtudisc hoplimit 3", []string{"ttl 3 and nopmtudisc are incompatible"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseLinkAdd(strings.Fields(tt.in))
			if err == nil {
				t.Fatalf("ParseLinkAdd(%q) = %+v, want an error", tt.in, s)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("ParseLinkAdd(%q) error\n  %s\nmissing %q", tt.in, msg, w)
				}
			}
			if s != (Spec{}) {
				t.Errorf("ParseLinkAdd(%q) returned %+v with its error, want the zero Spec", tt.in, s)
			}
		})
	}
}

func TestArgsRoundTrip(t *testing.T) {
	specs := []Spec{
		gre1(nil),
		gre1(func(s *Spec) { s.IKey, s.OKey = key(42), key(42) }),
		gre1(func(s *Spec) { s.IKey, s.OKey = key(0), key(0) }),
		gre1(func(s *Spec) { s.IKey, s.OKey = key(1), key(2) }),
		gre1(func(s *Spec) { s.IKey = key(1<<32 - 1) }),
		gre1(func(s *Spec) { s.OKey = key(9) }),
		gre1(func(s *Spec) { s.TTL = 64 }),
		gre1(func(s *Spec) { s.TTL = 1 }),
		gre1(func(s *Spec) { s.TOS = 0xb8 }),
		gre1(func(s *Spec) { s.TOS = 0x02 }),
		gre1(func(s *Spec) { s.TOSInherit = true }),
		gre1(func(s *Spec) { s.NoPMTUDisc = true }),
		gre1(func(s *Spec) { s.Dev = "eth0" }),
		gre1(func(s *Spec) { s.MTU = 1400 }),
		gre1(func(s *Spec) {
			s.Name, s.IKey, s.OKey, s.TOSInherit, s.Dev, s.MTU, s.NoPMTUDisc = "abcdefghijklmno", key(7), key(8), true, "enp0s31f6", 9000, true
		}),
		{Name: "ipip0", Type: IPIP, Local: addrA, Remote: addrB},
		{Name: "type", Type: IPIP, Local: addrA, Remote: addrB, TTL: 255, TOS: 0x10, Dev: "name", MTU: 68},
		{Name: "key", Type: GRE, Local: addrB, Remote: addrA, IKey: key(1)},
	}
	for _, s := range specs {
		args := s.Args()
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := s.Validate(); err != nil {
				t.Fatalf("test spec is invalid: %v", err)
			}
			got, err := ParseLinkAdd(args)
			if err != nil {
				t.Fatalf("ParseLinkAdd(%q): %v", args, err)
			}
			if got != s {
				t.Fatalf("round trip through %q\n got %+v\nwant %+v", args, got, s)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		s    Spec
		want string
	}{
		{gre1(func(s *Spec) { s.IKey, s.OKey, s.TTL = key(42), key(42), 64 }),
			"name gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 42 ttl 64"},
		{gre1(func(s *Spec) { s.IKey, s.OKey, s.TOS, s.MTU = key(1), key(2), 0x10, 1400 }),
			"name gre1 mtu 1400 type gre local 198.51.100.1 remote 198.51.100.2 ikey 1 okey 2 tos 0x10"},
		{gre1(func(s *Spec) { s.TOSInherit, s.Dev, s.NoPMTUDisc = true, "eth0", true }),
			"name gre1 type gre local 198.51.100.1 remote 198.51.100.2 tos inherit dev eth0 nopmtudisc"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.s.Args(), " "); got != tt.want {
			t.Errorf("Args()\n got %s\nwant %s", got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Spec
		want string // "" for valid
	}{
		{"valid", gre1(nil), ""},
		{"no name", gre1(func(s *Spec) { s.Name = "" }), "cannot be empty"},
		{"no type", gre1(func(s *Spec) { s.Type = TypeNone }), `missing "type gre|ipip"`},
		{"unknown type", gre1(func(s *Spec) { s.Type = 99 }), "unsupported tunnel type type(99)"},
		{"no remote", gre1(func(s *Spec) { s.Remote = netip.Addr{} }), `missing "remote ADDR"`},
		{"ipip key", Spec{Name: "t", Type: IPIP, Local: addrA, Remote: addrB, OKey: key(1)}, `"key" is not valid for type ipip`},
		{"nopmtudisc ttl", gre1(func(s *Spec) { s.TTL, s.NoPMTUDisc = 3, true }), "ttl 3 and nopmtudisc"},
		{"tos and inherit", gre1(func(s *Spec) { s.TOS, s.TOSInherit = 0x10, true }), "tos 0x10 and tos inherit"},
		{"tos inherit bit", gre1(func(s *Spec) { s.TOS = 0x11 }), "tos 0x11 has the inherit bit"},
		{"mtu small", gre1(func(s *Spec) { s.MTU = 67 }), `bad mtu "67"`},
		{"mtu big", gre1(func(s *Spec) { s.MTU = 65536 }), `bad mtu "65536"`},
		{"bad dev", gre1(func(s *Spec) { s.Dev = "a b" }), `bad dev "a b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, name := range []string{"gre1", "a", "abcdefghijklmno", "eth0.100", "br-lan", "x_y", "...", "a.."} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
	for name, want := range map[string]string{
		"":                 "empty",
		"abcdefghijklmnop": "at most 15",
		".":                "cannot be . or ..",
		"..":               "cannot be . or ..",
		"a/b":              "'/'",
		"a:1":              "':'",
		"a b":              "white space",
		"a\tb":             "white space",
		"a\n":              "white space",
	} {
		err := CheckName(name)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`) {
			t.Errorf("CheckName(%q) = %v, want an error with %q", name, err, want)
		}
	}
}

func TestParseLinkDelShow(t *testing.T) {
	tests := []struct {
		fn      func([]string) (string, error)
		in      string
		want    string
		wantErr []string
	}{
		{ParseLinkDel, "gre1", "gre1", nil},
		{ParseLinkDel, "name gre1", "gre1", nil},
		{ParseLinkDel, "dev gre1", "gre1", nil},
		{ParseLinkDel, "", "", []string{"link del needs a name", "link del NAME"}},
		{ParseLinkDel, "dev", "", []string{`"dev" needs a name`, "link del dev NAME"}},
		{ParseLinkDel, "name", "", []string{`"name" needs a name`}},
		{ParseLinkDel, "gre1 gre2", "", []string{`unexpected word "gre2"`}},
		{ParseLinkDel, "dev gre1 type", "", []string{`unexpected word "type"`}},
		{ParseLinkDel, "a/b", "", []string{`bad name "a/b"`}},
		{ParseLinkShow, "", "", nil},
		{ParseLinkShow, "gre1", "gre1", nil},
		{ParseLinkShow, "dev gre1", "gre1", nil},
		{ParseLinkShow, "name gre1", "gre1", nil},
		{ParseLinkShow, "dev", "", []string{`"dev" needs a name`, "link show dev NAME"}},
		{ParseLinkShow, "gre1 up", "", []string{`unexpected word "up" after link show gre1`}},
		{ParseLinkShow, "abcdefghijklmnop", "", []string{`bad name "abcdefghijklmnop"`}},
	}
	for _, tt := range tests {
		got, err := tt.fn(strings.Fields(tt.in))
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("parse %q = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("parse %q = %q, want an error", tt.in, got)
			continue
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parse %q error %q missing %q", tt.in, err, w)
			}
		}
	}
}

func TestParseDevName(t *testing.T) {
	if _, err := ParseDevName("attach", nil, true); err == nil || !strings.Contains(err.Error(), "attach needs a name: attach NAME") {
		t.Errorf("ParseDevName(attach, nil) = %v", err)
	}
	if got, err := ParseDevName("stats", nil, false); err != nil || got != "" {
		t.Errorf("ParseDevName(stats, nil) = %q, %v", got, err)
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		max  uint64
		want uint64
		why  string
	}{
		{"0", 255, 0, ""},
		{"255", 255, 255, ""},
		{"0xff", 255, 255, ""},
		{"0XFF", 255, 255, ""},
		{"256", 255, 0, "out of range"},
		{"0x", 255, 0, "not a number"},
		{"+1", 255, 0, "not a number"},
		{"1_0", 255, 0, "not a number"},
		{"", 255, 0, "not a number"},
		{"00", 255, 0, "octal"},
		{"0777", 255, 0, "octal"},
	}
	for _, tt := range tests {
		got, why := parseNumber(tt.in, tt.max)
		if got != tt.want || !strings.Contains(why, tt.why) || (tt.why == "") != (why == "") {
			t.Errorf("parseNumber(%q, %d) = %d, %q; want %d, %q", tt.in, tt.max, got, why, tt.want, tt.why)
		}
	}
}

func FuzzParseLinkAdd(f *testing.F) {
	f.Add("name gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 42 ttl 64")
	f.Add("gre1 mtu 1400 type ipip local 198.51.100.1 remote 198.51.100.3 tos inherit nopmtudisc")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseLinkAdd(strings.Fields(in))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q: %q", in, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseLinkAdd(%q) accepted an invalid spec: %v", in, err)
		}
		again, err := ParseLinkAdd(s.Args())
		if err != nil || again != s {
			t.Fatalf("round trip of %q through %q: %+v, %v", in, s.Args(), again, err)
		}
	})
}
