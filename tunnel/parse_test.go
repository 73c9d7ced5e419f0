package tunnel

import (
	"net/netip"
	"strings"
	"testing"
)

var (
	addrA  = netip.MustParseAddr("198.51.100.1")
	addrB  = netip.MustParseAddr("198.51.100.2")
	addr6A = netip.MustParseAddr("2001:db8::1")
	addr6B = netip.MustParseAddr("2001:db8::2")
)

// spec returns a Spec of type t between the test addresses of its family,
// with the TTL ParseLinkAdd gives it by default, edited by edit.
func spec(name string, t Type, edit func(*Spec)) Spec {
	s := Spec{Name: name, Type: t, Local: addrA, Remote: addrB, TTL: t.DefaultTTL()}
	if t.Outer6() {
		s.Local, s.Remote = addr6A, addr6B
	}
	if edit != nil {
		edit(&s)
	}
	return s
}

func ipip0(edit func(*Spec)) Spec { return spec("ipip0", IPIP, edit) }
func sit0(edit func(*Spec)) Spec  { return spec("sit0", SIT, edit) }
func tnl6(edit func(*Spec)) Spec  { return spec("tnl6", IP6TNL, edit) }
func gre6(edit func(*Spec)) Spec  { return spec("gre6", IP6GRE, edit) }

// gre1 is the Spec most accepting cases start from.
func gre1(edit func(*Spec)) Spec {
	s := Spec{Name: "gre1", Type: GRE, Local: addrA, Remote: addrB}
	if edit != nil {
		edit(&s)
	}
	return s
}

func key(v uint32) Key { return Key{Set: true, Value: v} }

// allTypes is the list of supported types as messages give it.
const allTypes = "gre|ipip|sit|ip6tnl|ip6gre|gretap|ip6gretap|geneve|vxlan|erspan|ip6erspan"

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

		// gre checksum and sequence numbers
		{"gre csum", "gre1 type gre" + ends + " csum", gre1(func(s *Spec) { s.ICsum, s.OCsum = true, true })},
		{"gre icsum", "gre1 type gre" + ends + " icsum", gre1(func(s *Spec) { s.ICsum = true })},
		{"gre ocsum", "gre1 type gre" + ends + " ocsum", gre1(func(s *Spec) { s.OCsum = true })},
		{"gre icsum ocsum", "gre1 type gre" + ends + " ocsum icsum", gre1(func(s *Spec) { s.ICsum, s.OCsum = true, true })},
		{"gre nocsum", "gre1 type gre" + ends + " nocsum", gre1(nil)},
		{"gre seq", "gre1 type gre" + ends + " seq", gre1(func(s *Spec) { s.ISeq, s.OSeq = true, true })},
		{"gre iseq", "gre1 type gre" + ends + " iseq", gre1(func(s *Spec) { s.ISeq = true })},
		{"gre oseq", "gre1 type gre" + ends + " oseq", gre1(func(s *Spec) { s.OSeq = true })},
		{"gre noseq", "gre1 type gre" + ends + " noseq", gre1(nil)},
		{"gre csum seq key", "gre1 type gre" + ends + " seq key 5 csum",
			gre1(func(s *Spec) {
				s.ICsum, s.OCsum, s.ISeq, s.OSeq, s.IKey, s.OKey = true, true, true, true, key(5), key(5)
			})},
		// ignore-df
		{"gre ignore-df", "gre1 type gre" + ends + " ignore-df nopmtudisc", gre1(func(s *Spec) { s.IgnoreDF, s.NoPMTUDisc = true, true })},
		{"gre noignore-df", "gre1 type gre" + ends + " noignore-df", gre1(nil)},
		{"ipip ignore-df", "ipip0 type ipip" + ends + " nopmtudisc ignore-df", ipip0(func(s *Spec) { s.IgnoreDF, s.NoPMTUDisc = true, true })},
		{"sit ignore-df", "sit0 type sit" + ends + " nopmtudisc ignore-df", sit0(func(s *Spec) { s.IgnoreDF, s.NoPMTUDisc = true, true })},
		// FOU and GUE
		{"gre encap fou", "gre1 type gre" + ends + " encap fou encap-dport 5555",
			gre1(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555} })},
		{"gre encap gue everything", "gre1 type gre" + ends + " encap gue encap-sport 1000 encap-dport 6080 encap-csum",
			gre1(func(s *Spec) { s.Encap = Encap{Type: EncapGUE, SPort: 1000, DPort: 6080, Csum: true} })},
		{"encap words in any order", "gre1 type gre" + ends + " encap-csum encap-dport 5555 encap fou",
			gre1(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555, Csum: true} })},
		{"encap-sport auto noencap-csum", "gre1 type gre" + ends + " encap fou encap-sport auto encap-dport 5555 noencap-csum",
			gre1(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555} })},
		{"encap-sport 0 is auto", "gre1 type gre" + ends + " encap fou encap-sport 0 encap-dport 1",
			gre1(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 1} })},
		{"encap ports hex and max", "gre1 type gre" + ends + " encap gue encap-sport 0xffff encap-dport 65535",
			gre1(func(s *Spec) { s.Encap = Encap{Type: EncapGUE, SPort: 65535, DPort: 65535} })},
		{"encap none", "gre1 type gre" + ends + " encap none", gre1(nil)},
		{"noencap", "gre1 type gre" + ends + " noencap noencap-csum", gre1(nil)},
		{"ipip encap fou", "ipip0 type ipip" + ends + " encap fou encap-dport 5555",
			ipip0(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555} })},
		{"sit encap gue", "sit0 type sit" + ends + " encap gue encap-dport 6080 encap-csum",
			sit0(func(s *Spec) { s.Encap = Encap{Type: EncapGUE, DPort: 6080, Csum: true} })},
		// ipip modes
		{"ipip mode ipip is the default", "ipip0 type ipip mode ipip" + ends, ipip0(nil)},
		{"ipip mode ip4ip4", "ipip0 type ipip" + ends + " mode ip4ip4", ipip0(nil)},
		{"ipip mode ipv4/ipv4", "ipip0 type ipip" + ends + " mode ipv4/ipv4", ipip0(nil)},
		{"ipip mode mplsip", "ipip0 type ipip" + ends + " mode mplsip", ipip0(func(s *Spec) { s.Mode = ModeMPLSIP })},
		{"ipip mode mpls/ipv4", "ipip0 type ipip" + ends + " mode mpls/ipv4", ipip0(func(s *Spec) { s.Mode = ModeMPLSIP })},
		{"ipip mode any", "ipip0 type ipip" + ends + " mode any", ipip0(func(s *Spec) { s.Mode = ModeAny })},
		{"ipip mode any/ipv4", "ipip0 type ipip" + ends + " mode any/ipv4", ipip0(func(s *Spec) { s.Mode = ModeAny })},
		// sit
		{"sit", "sit0 type sit" + ends, sit0(nil)},
		{"sit mode ip6ip is the default", "sit0 type sit" + ends + " mode ip6ip", sit0(nil)},
		{"sit mode ipv6/ipv4", "sit0 type sit" + ends + " mode ipv6/ipv4", sit0(nil)},
		{"sit mode ipip", "sit0 type sit" + ends + " mode ipip", sit0(func(s *Spec) { s.Mode = ModeIPIP })},
		{"sit mode ip4ip4", "sit0 type sit" + ends + " mode ip4ip4", sit0(func(s *Spec) { s.Mode = ModeIPIP })},
		{"sit mode mplsip", "sit0 type sit" + ends + " mode mplsip", sit0(func(s *Spec) { s.Mode = ModeMPLSIP })},
		{"sit mode any", "sit0 type sit" + ends + " mode any", sit0(func(s *Spec) { s.Mode = ModeAny })},
		{"sit 6to4", "sit0 type sit local 198.51.100.1 remote any", sit0(func(s *Spec) { s.Remote = netip.Addr{} })},
		{"sit 6to4 mode ip6ip", "sit0 type sit remote any local 198.51.100.1 mode ip6ip", sit0(func(s *Spec) { s.Remote = netip.Addr{} })},
		{"sit isatap", "sit0 type sit local 198.51.100.1 isatap", sit0(func(s *Spec) { s.Remote, s.ISATAP = netip.Addr{}, true })},
		{"sit isatap remote any", "sit0 type sit isatap local 198.51.100.1 remote any",
			sit0(func(s *Spec) { s.Remote, s.ISATAP = netip.Addr{}, true })},
		{"sit options", "sit0 type sit" + ends + " ttl 64 tos 0x10 dev eth0 mtu 1480 pmtudisc",
			sit0(func(s *Spec) { s.TTL, s.TOS, s.Dev, s.MTU = 64, 0x10, "eth0", 1480 })},
		{"sit nopmtudisc", "sit0 type sit" + ends + " nopmtudisc tos inherit", sit0(func(s *Spec) { s.NoPMTUDisc, s.TOSInherit = true, true })},
		// ip6tnl
		{"ip6tnl", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2", tnl6(nil)},
		{"ip6tnl default hoplimit is 64", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 hoplimit 64", tnl6(nil)},
		{"ip6tnl hoplimit", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 hoplimit 10", tnl6(func(s *Spec) { s.TTL = 10 })},
		{"ip6tnl hoplimit inherit", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 hoplimit inherit", tnl6(func(s *Spec) { s.TTL = 0 })},
		{"ip6tnl ttl 0", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 ttl 0", tnl6(func(s *Spec) { s.TTL = 0 })},
		{"ip6tnl hlim", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 hlim 255", tnl6(func(s *Spec) { s.TTL = 255 })},
		{"ip6tnl mode ip6ip6 is the default", "tnl6 type ip6tnl mode ip6ip6 local 2001:db8::1 remote 2001:db8::2", tnl6(nil)},
		{"ip6tnl mode ipv6/ipv6", "tnl6 type ip6tnl mode ipv6/ipv6 local 2001:db8::1 remote 2001:db8::2", tnl6(nil)},
		{"ip6tnl mode ipip6", "tnl6 type ip6tnl mode ipip6 local 2001:db8::1 remote 2001:db8::2", tnl6(func(s *Spec) { s.Mode = ModeIPIP6 })},
		{"ip6tnl mode ip4ip6", "tnl6 type ip6tnl mode ip4ip6 local 2001:db8::1 remote 2001:db8::2", tnl6(func(s *Spec) { s.Mode = ModeIPIP6 })},
		{"ip6tnl mode ip/ipv6", "tnl6 type ip6tnl mode ip/ipv6 local 2001:db8::1 remote 2001:db8::2", tnl6(func(s *Spec) { s.Mode = ModeIPIP6 })},
		{"ip6tnl mode ipv4/ipv6", "tnl6 type ip6tnl mode ipv4/ipv6 local 2001:db8::1 remote 2001:db8::2", tnl6(func(s *Spec) { s.Mode = ModeIPIP6 })},
		{"ip6tnl mode any", "tnl6 type ip6tnl mode any local 2001:db8::1 remote 2001:db8::2", tnl6(func(s *Spec) { s.Mode = ModeAny })},
		{"ip6tnl mode any/ipv6", "tnl6 type ip6tnl mode any/ipv6 local 2001:db8::1 remote 2001:db8::2", tnl6(func(s *Spec) { s.Mode = ModeAny })},
		{"ip6tnl encaplimit 0", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit 0", tnl6(func(s *Spec) { s.EncapLimit = EncapLimitZero })},
		{"ip6tnl encaplimit 4 is the default", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit 4", tnl6(nil)},
		{"ip6tnl encaplimit 1", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit 1", tnl6(func(s *Spec) { s.EncapLimit = 1 })},
		{"ip6tnl encaplimit 255", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit 255", tnl6(func(s *Spec) { s.EncapLimit = 255 })},
		{"ip6tnl encaplimit hex", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit 0x10", tnl6(func(s *Spec) { s.EncapLimit = 16 })},
		{"ip6tnl encaplimit none", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 encaplimit none", tnl6(func(s *Spec) { s.EncapLimit = EncapLimitNone })},
		{"ip6tnl tclass", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 tclass 0x10", tnl6(func(s *Spec) { s.TOS = 0x10 })},
		{"ip6tnl tclass bare hex", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 tclass b8", tnl6(func(s *Spec) { s.TOS = 0xb8 })},
		{"ip6tnl tos is tclass", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 tos 0x20", tnl6(func(s *Spec) { s.TOS = 0x20 })},
		{"ip6tnl dsfield is tclass", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 dsfield 0x20", tnl6(func(s *Spec) { s.TOS = 0x20 })},
		{"ip6tnl tclass inherit", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 tclass inherit", tnl6(func(s *Spec) { s.TOSInherit = true })},
		{"ip6tnl flowlabel hex", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 flowlabel 0x12345", tnl6(func(s *Spec) { s.FlowLabel = 0x12345 })},
		{"ip6tnl flowlabel max", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 flowlabel 0xFFFFF", tnl6(func(s *Spec) { s.FlowLabel = 0xfffff })},
		{"ip6tnl flowlabel bare hex as iproute2", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 flowlabel abcde", tnl6(func(s *Spec) { s.FlowLabel = 0xabcde })},
		{"ip6tnl flowlabel digit", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 flowlabel 7", tnl6(func(s *Spec) { s.FlowLabel = 7 })},
		{"ip6tnl flowlabel 0", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 flowlabel 0", tnl6(nil)},
		{"ip6tnl flowlabel inherit", "tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2 flowlabel inherit", tnl6(func(s *Spec) { s.FlowInherit = true })},
		{"ip6tnl dev mtu", "tnl6 mtu 1452 type ip6tnl local 2001:db8::1 remote 2001:db8::2 dev eth0", tnl6(func(s *Spec) { s.MTU, s.Dev = 1452, "eth0" })},
		{"ip6tnl link-local with dev", "tnl6 type ip6tnl local fe80::1 remote fe80::2 dev eth0", tnl6(func(s *Spec) {
			s.Local, s.Remote, s.Dev = netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2"), "eth0"
		})},
		// ip6gre
		{"ip6gre", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2", gre6(nil)},
		{"ip6gre key", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 key 7", gre6(func(s *Spec) { s.IKey, s.OKey = key(7), key(7) })},
		{"ip6gre ikey okey", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 ikey 1 okey 0.0.0.2", gre6(func(s *Spec) { s.IKey, s.OKey = key(1), key(2) })},
		{"ip6gre csum seq", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 csum iseq", gre6(func(s *Spec) { s.ICsum, s.OCsum, s.ISeq = true, true, true })},
		{"ip6gre hoplimit tclass flowlabel", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 hoplimit 30 tclass 0x28 flowlabel 0x1",
			gre6(func(s *Spec) { s.TTL, s.TOS, s.FlowLabel = 30, 0x28, 1 })},
		{"ip6gre encaplimit", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 encaplimit 2", gre6(func(s *Spec) { s.EncapLimit = 2 })},
		{"ip6gre encaplimit none", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 encaplimit none", gre6(func(s *Spec) { s.EncapLimit = EncapLimitNone })},
		{"ip6gre dev mtu", "gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 dev eth0 mtu 1448", gre6(func(s *Spec) { s.Dev, s.MTU = "eth0", 1448 })},
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
	const ends6 = " local 2001:db8::1 remote 2001:db8::2"
	tests := []struct {
		in   string
		want []string // substrings of the message
	}{
		{"", []string{"link add needs a tunnel", "type gre|ipip|sit|ip6tnl|ip6gre"}},
		// before type
		{"gre1", []string{`missing "type ` + allTypes + `"`, `"gre1"`}},
		{"type gre" + ends, []string{"missing the tunnel name", `"name NAME"`}},
		{"name", []string{`"name" needs a tunnel name`}},
		{"dev", []string{`"dev" needs a tunnel name`}},
		{"name gre1 name gre2 type gre" + ends, []string{`duplicate keyword "name"`}},
		{"dev gre1 dev gre2 type gre" + ends, []string{`duplicate keyword "dev"`}},
		{"name gre1 dev gre2 type gre" + ends, []string{`"dev gre2"`, `already "gre1"`}},
		{"gre1 name gre2 type gre" + ends, []string{`"name gre2"`, `already "gre1"`}},
		{"gre1 foo type gre" + ends, []string{`unknown keyword "foo" before type`, `already "gre1"`, "name dev mtu type"}},
		{"gre1 local 198.51.100.1 type gre", []string{`"local" must come after "type ` + allTypes + `"`}},
		{"gre1 mode any type ipip", []string{`"mode" must come after`}},
		{"gre1 isatap type sit", []string{`"isatap" must come after`}},
		{"gre1 encaplimit 1 type ip6tnl", []string{`"encaplimit" must come after`}},
		{"gre1 flowlabel 1 type ip6tnl", []string{`"flowlabel" must come after`}},
		{"gre1 csum type gre", []string{`"csum" must come after`}},
		{"gre1 tclass 0x10 type ip6gre", []string{`"tclass" must come after`}},
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
		{"gre1 type", []string{`"type" needs a tunnel type`, "one of gre ipip sit ip6tnl ip6gre"}},
		{"gre1 type grx" + ends, []string{`unknown tunnel type "grx"`, "supported: gre ipip sit ip6tnl ip6gre"}},
		{"gre1 type vti" + ends, []string{`tunnel type "vti" is not supported yet`, "gre ipip sit ip6tnl ip6gre gretap ip6gretap geneve vxlan erspan ip6erspan"}},
		{"gre1 type vti6" + ends6, []string{`tunnel type "vti6" is not supported yet`}},
		{"gre1 type ip6erspan6" + ends6, []string{`unknown tunnel type "ip6erspan6"`}},
		{"gre1 mtu", []string{`"mtu" needs a value`, "68..65535"}},
		{"gre1 mtu 67 type gre" + ends, []string{`bad mtu "67"`, "too small", "68..65535"}},
		{"gre1 mtu 65536 type gre" + ends, []string{`bad mtu "65536"`, "out of range"}},
		{"gre1 mtu big type gre" + ends, []string{`bad mtu "big"`, "not a number"}},
		{"gre1 mtu -1 type gre" + ends, []string{`bad mtu "-1"`}},
		{"gre1 mtu 01400 type gre" + ends, []string{`bad mtu "01400"`, "octal", "1400"}},
		{"gre1 mtu 1400 type gre" + ends + " mtu 1400", []string{`duplicate keyword "mtu"`}},
		// after type
		{"gre1 type gre" + ends + " kye 42", []string{
			`unknown keyword "kye" after type gre; expected one of: local remote key ikey okey csum nocsum icsum ocsum seq noseq iseq oseq ttl tos dev mtu pmtudisc nopmtudisc ignore-df noignore-df encap noencap encap-sport encap-dport encap-csum noencap-csum`}},
		{"gre1 type ipip" + ends + " foo", []string{`unknown keyword "foo" after type ipip; expected one of: local remote mode ttl tos dev mtu pmtudisc nopmtudisc ignore-df noignore-df encap noencap encap-sport encap-dport encap-csum noencap-csum`}},
		{"gre1 type sit" + ends + " foo", []string{`unknown keyword "foo" after type sit; expected one of: local remote mode isatap ttl tos dev`}},
		{"gre1 type ip6tnl" + ends6 + " foo", []string{`unknown keyword "foo" after type ip6tnl; expected one of: local remote mode hoplimit tclass flowlabel encaplimit dev mtu`}},
		{"gre1 type ip6gre" + ends6 + " foo", []string{`unknown keyword "foo" after type ip6gre; expected one of: local remote key ikey okey csum nocsum icsum ocsum seq noseq iseq oseq hoplimit tclass flowlabel encaplimit dev mtu`}},
		{"gre1 type gre" + ends + " external", []string{`"remote" conflicts with "external"`, "route add PREFIX encap ip dst ADDR dev gre1"}},
		{"gre1 type gre" + ends + " encap-remcsum", []string{`keyword "encap-remcsum" is not supported yet for gre`}},
		{"gre1 type ip6tnl" + ends6 + " fwmark 1", []string{`keyword "fwmark" is not supported yet for ip6tnl`}},
		{"gre1 type ip6tnl" + ends6 + " dscp inherit", []string{`keyword "dscp" is not supported yet for ip6tnl`}},
		{"gre1 type sit" + ends + " 6rd-prefix 2001:db8::/32", []string{`keyword "6rd-prefix" is not supported yet for sit`}},
		{"gre1 type gre type ipip" + ends, []string{`duplicate keyword "type"`}},
		{"gre1 type gre name gre2" + ends, []string{`"name" must come before "type gre"`}},
		{"gre1 type gre local", []string{`"local" needs an address`}},
		{"gre1 type gre local 198.51.100.1 remote", []string{`"remote" needs an address`}},
		{"gre1 type gre local 198.51.100.1 remote 1.2.3", []string{`bad address "1.2.3" for remote`}},
		{"gre1 type gre local gw.example remote 198.51.100.2", []string{`bad address "gw.example" for local`, "host names"}},
		{"gre1 type gre local 198.51.100.1 remote any", []string{`remote "any" is not valid for type gre`, "only sit", "unicast"}},
		{"gre1 type ipip local 198.51.100.1 remote any", []string{`remote "any" is not valid for type ipip`}},
		{"gre1 type ip6tnl local 2001:db8::1 remote any", []string{`remote "any" is not valid for type ip6tnl`}},
		{"gre1 type ip6gre local 2001:db8::1 remote any", []string{`remote "any" is not valid for type ip6gre`}},
		{"gre1 type sit local any remote any", []string{`local "any" is not supported`}},
		{"gre1 type gre local any remote 198.51.100.2", []string{`local "any"`}},
		{"gre1 type gre" + ends + " local 198.51.100.3", []string{`duplicate keyword "local"`}},
		{"gre1 type gre" + ends + " remote 198.51.100.3", []string{`duplicate keyword "remote"`}},
		{"gre1 type gre local 198.51.100.1", []string{`missing "remote ADDR": a point-to-point gre tunnel needs both ends`}},
		{"gre1 type ipip remote 198.51.100.1", []string{`missing "local ADDR": a point-to-point ipip tunnel needs both ends`}},
		{"gre1 type gre local 2001:db8::1 remote 2001:db8::2", []string{"type gre needs IPv4 addresses: local 2001:db8::1 is IPv6", "type ip6gre"}},
		{"gre1 type ipip local 2001:db8::1 remote 2001:db8::2", []string{"type ipip needs IPv4 addresses", "type ip6tnl mode ipip6"}},
		{"gre1 type sit local 2001:db8::1 remote 2001:db8::2", []string{"type sit needs IPv4 addresses", "type ip6tnl"}},
		{"gre1 type sit local 2001:db8::1 remote any", []string{"type sit needs IPv4 addresses: local 2001:db8::1 is IPv6"}},
		{"gre1 type gre local ::ffff:198.51.100.1 remote ::ffff:198.51.100.2", []string{"type gre needs IPv4 addresses", "write 198.51.100.1"}},
		{"gre1 type gre local 198.51.100.1 remote 2001:db8::2", []string{"type gre needs IPv4 addresses: remote 2001:db8::2 is IPv6"}},
		{"gre1 type ip6tnl" + ends, []string{"type ip6tnl needs IPv6 addresses: local 198.51.100.1 is IPv4", "type ipip or sit"}},
		{"gre1 type ip6gre" + ends, []string{"type ip6gre needs IPv6 addresses: local 198.51.100.1 is IPv4", "type gre"}},
		{"gre1 type ip6tnl local 2001:db8::1 remote 198.51.100.2", []string{"type ip6tnl needs IPv6 addresses: remote 198.51.100.2 is IPv4"}},
		{"gre1 type ip6tnl local ::ffff:198.51.100.1 remote 2001:db8::2", []string{"type ip6tnl needs IPv6 addresses", "IPv4-mapped"}},
		{"gre1 type ip6tnl local 2001:db8::1", []string{`missing "remote ADDR": a point-to-point ip6tnl tunnel needs both ends`}},
		{"gre1 type ip6gre remote 2001:db8::1", []string{`missing "local ADDR": a point-to-point ip6gre tunnel needs both ends`}},
		{"gre1 type ip6tnl local :: remote 2001:db8::2", []string{"local :: is unspecified"}},
		{"gre1 type ip6tnl local 2001:db8::1 remote ff02::1", []string{"remote ff02::1 is multicast"}},
		{"gre1 type ip6tnl local fe80::1 remote fe80::2", []string{"local fe80::1 is link-local", "dev PHYS_DEV"}},
		{"gre1 type ip6gre local 2001:db8::1 remote 2001:db8::1", []string{"both 2001:db8::1"}},
		{"gre1 type ip6tnl local 2001:db8::1 remote gw", []string{`bad address "gw" for remote`, "IPv6 address like 2001:db8::1", "host names"}},
		{"gre1 type ip6tnl local fe80::1%eth0 remote fe80::2", []string{`bad address "fe80::1%eth0" for local`, "zone", "dev PHYS_DEV"}},
		// sit without a fixed remote
		{"gre1 type sit local 198.51.100.1", []string{`missing "remote ADDR"`, "remote any for 6to4", "isatap"}},
		{"gre1 type sit remote any", []string{`missing "local ADDR"`}},
		{"gre1 type sit isatap", []string{`missing "local ADDR"`}},
		{"gre1 type sit" + ends + " isatap", []string{`"isatap" conflicts with "remote 198.51.100.2"`, "drop remote"}},
		{"gre1 type sit isatap" + ends, []string{`"isatap" conflicts with "remote 198.51.100.2"`}},
		{"gre1 type sit local 198.51.100.1 isatap isatap", []string{`duplicate keyword "isatap"`}},
		{"gre1 type sit local 198.51.100.1 isatap mode ipip", []string{`"isatap" conflicts with "mode ipip"`}},
		{"gre1 type sit local 198.51.100.1 remote any mode any", []string{`"remote any" conflicts with "mode any"`, "6to4", "remote ADDR"}},
		{"gre1 type sit local 198.51.100.1 remote any mode mplsip", []string{`"remote any" conflicts with "mode mplsip"`}},
		{"gre1 type sit local 198.51.100.1 remote any remote any", []string{`duplicate keyword "remote"`}},
		{"gre1 type ipip" + ends + " isatap", []string{`"isatap" is not valid for type ipip`, "only sit"}},
		{"gre1 type gre" + ends + " isatap", []string{`"isatap" is not valid for type gre`}},
		{"gre1 type ip6tnl" + ends6 + " isatap", []string{`"isatap" is not valid for type ip6tnl`}},
		// modes
		{"gre1 type ipip" + ends + " mode", []string{`"mode" needs a mode: mode ipip|mplsip|any`}},
		{"gre1 type sit" + ends + " mode", []string{`"mode" needs a mode: mode ip6ip|ipip|mplsip|any`}},
		{"gre1 type ip6tnl" + ends6 + " mode", []string{`"mode" needs a mode: mode ip6ip6|ipip6|any`}},
		{"gre1 type ipip" + ends + " mode foo", []string{`unknown mode "foo" for type ipip; want one of: ipip mplsip any`}},
		{"gre1 type ipip" + ends + " mode ip6ip", []string{"mode ip6ip is not valid for type ipip", "mode of sit", "ipip modes: ipip mplsip any"}},
		{"gre1 type sit" + ends + " mode ip6ip6", []string{"mode ip6ip6 is not valid for type sit", "mode of ip6tnl", "sit modes: ip6ip ipip mplsip any"}},
		{"gre1 type sit" + ends + " mode ipip6", []string{"mode ipip6 is not valid for type sit"}},
		{"gre1 type sit" + ends + " mode any/ipv6", []string{"mode any/ipv6 is not valid for type sit"}},
		{"gre1 type ip6tnl" + ends6 + " mode ip6ip", []string{"mode ip6ip is not valid for type ip6tnl", "ip6tnl modes: ip6ip6 ipip6 any"}},
		{"gre1 type ip6tnl" + ends6 + " mode mplsip", []string{"mode mplsip is not valid for type ip6tnl"}},
		{"gre1 type ip6tnl" + ends6 + " mode any/ipv4", []string{"mode any/ipv4 is not valid for type ip6tnl"}},
		{"gre1 type ipip" + ends + " mode any mode ipip", []string{`duplicate keyword "mode"`}},
		{"gre1 type gre" + ends + " mode any", []string{`"mode" is not valid for type gre`, "no mode"}},
		{"gre1 type ip6gre" + ends6 + " mode any", []string{`"mode" is not valid for type ip6gre`}},
		// checksum and sequence numbers
		{"gre1 type gre" + ends + " csum csum", []string{`duplicate keyword "csum"`}},
		{"gre1 type gre" + ends + " csum icsum", []string{`"icsum" conflicts with "csum": csum sets both icsum and ocsum`}},
		{"gre1 type gre" + ends + " ocsum csum", []string{`"csum" conflicts with "ocsum"`}},
		{"gre1 type gre" + ends + " csum nocsum", []string{`"nocsum" conflicts with "csum" given before`}},
		{"gre1 type gre" + ends + " icsum icsum", []string{`duplicate keyword "icsum"`}},
		{"gre1 type gre" + ends + " seq seq", []string{`duplicate keyword "seq"`}},
		{"gre1 type gre" + ends + " iseq seq", []string{`"seq" conflicts with "iseq": seq sets both iseq and oseq`}},
		{"gre1 type ip6gre" + ends6 + " noseq oseq", []string{`"oseq" conflicts with "noseq"`}},
		{"gre1 type ipip" + ends + " csum", []string{`"csum" is not valid for type ipip`, "only gre, ip6gre, gretap and ip6gretap", "encap-csum"}},
		{"gre1 type sit" + ends + " ocsum", []string{`"ocsum" is not valid for type sit`}},
		{"gre1 type ip6tnl" + ends6 + " icsum", []string{`"icsum" is not valid for type ip6tnl`}},
		{"gre1 type ipip" + ends + " seq", []string{`"seq" is not valid for type ipip`, "sequence numbers"}},
		{"gre1 type ip6tnl" + ends6 + " nocsum", []string{`"nocsum" is not valid for type ip6tnl`}},
		{"gre1 type sit" + ends + " key 1", []string{`"key" is not valid for type sit`, "type gre"}},
		{"gre1 type ip6tnl" + ends6 + " key 1", []string{`"key" is not valid for type ip6tnl`, "type ip6gre"}},
		{"gre1 type ip6tnl" + ends6 + " okey 1", []string{`"okey" is not valid for type ip6tnl`}},
		// DF
		{"gre1 type gre" + ends + " ignore-df", []string{`"ignore-df" needs "nopmtudisc"`}},
		{"gre1 type ipip" + ends + " ignore-df pmtudisc", []string{`"ignore-df" needs "nopmtudisc"`}},
		{"gre1 type gre" + ends + " ignore-df noignore-df", []string{`"noignore-df" conflicts with "ignore-df"`}},
		{"gre1 type gre" + ends + " ignore-df ignore-df", []string{`duplicate keyword "ignore-df"`}},
		{"gre1 type ip6tnl" + ends6 + " nopmtudisc", []string{`"nopmtudisc" is not valid for type ip6tnl`, "no DF bit"}},
		{"gre1 type ip6tnl" + ends6 + " pmtudisc", []string{`"pmtudisc" is not valid for type ip6tnl`}},
		{"gre1 type ip6gre" + ends6 + " nopmtudisc", []string{`"nopmtudisc" is not valid for type ip6gre`}},
		{"gre1 type ip6gre" + ends6 + " ignore-df", []string{`"ignore-df" is not valid for type ip6gre`}},
		{"gre1 type ip6tnl" + ends6 + " noignore-df", []string{`"noignore-df" is not valid for type ip6tnl`}},
		// encaplimit
		{"gre1 type gre" + ends + " encaplimit 4", []string{`"encaplimit" is not valid for type gre`, "IPv6 option"}},
		{"gre1 type ipip" + ends + " encaplimit none", []string{`"encaplimit" is not valid for type ipip`}},
		{"gre1 type sit" + ends + " encaplimit 1", []string{`"encaplimit" is not valid for type sit`}},
		{"gre1 type ip6tnl" + ends6 + " encaplimit", []string{`"encaplimit" needs a value`, "none"}},
		{"gre1 type ip6tnl" + ends6 + " encaplimit 256", []string{`bad encaplimit "256"`, "out of range", "0..255 or none"}},
		{"gre1 type ip6tnl" + ends6 + " encaplimit x", []string{`bad encaplimit "x"`, "not a number"}},
		{"gre1 type ip6tnl" + ends6 + " encaplimit -1", []string{`bad encaplimit "-1"`}},
		{"gre1 type ip6tnl" + ends6 + " encaplimit 04", []string{`bad encaplimit "04"`, "octal", "write 4"}},
		{"gre1 type ip6tnl" + ends6 + " encaplimit 1 encaplimit none", []string{`duplicate keyword "encaplimit"`}},
		// flowlabel
		{"gre1 type gre" + ends + " flowlabel 1", []string{`"flowlabel" is not valid for type gre`, "IPv6 header"}},
		{"gre1 type sit" + ends + " flowlabel inherit", []string{`"flowlabel" is not valid for type sit`}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel", []string{`"flowlabel" needs a value`, "0x0..0xfffff", "inherit"}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel 0x100000", []string{`bad flowlabel "0x100000"`, "out of range", "0x0..0xfffff"}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel 10", []string{`bad flowlabel "10"`, "ambiguous", "reads flow labels as hex", "0xa for decimal 10", "0x10 for hex"}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel 1048576", []string{`bad flowlabel "1048576"`, "out of range"}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel 999999", []string{`bad flowlabel "999999"`, "ambiguous", "out of range", "0xf423f for decimal 999999"}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel xyz", []string{`bad flowlabel "xyz"`, "not a number"}},
		{"gre1 type ip6tnl" + ends6 + " flowlabel 1 flowlabel inherit", []string{`duplicate keyword "flowlabel"`}},
		// tclass and hoplimit over IPv6
		{"gre1 type ip6tnl" + ends6 + " tclass 1", []string{`bad tclass "1"`, "not inherit", "tclass inherit", "tclass 0x00"}},
		{"gre1 type ip6gre" + ends6 + " tos 0x11", []string{`bad tos "0x11"`, "not inherit", "tos 0x10"}},
		{"gre1 type ip6tnl" + ends6 + " tclass 10", []string{`bad tclass "10"`, "ambiguous"}},
		{"gre1 type ip6tnl" + ends6 + " tclass", []string{`"tclass" needs a value`}},
		{"gre1 type ip6tnl" + ends6 + " hoplimit 256", []string{`bad hoplimit "256"`, "out of range"}},
		{"gre1 type ip6tnl" + ends6 + " hoplimit 1 ttl 2", []string{`duplicate keyword "ttl" (same as "hoplimit")`}},
		// FOU and GUE
		{"gre1 type gre" + ends + " encap", []string{`"encap" needs a type`, "fou", "gue", "none"}},
		{"gre1 type gre" + ends + " encap vxlan", []string{`bad encap "vxlan"`, "fou, gue or none"}},
		{"gre1 type gre" + ends + " encap fou", []string{`"encap fou" needs "encap-dport PORT"`}},
		{"gre1 type ipip" + ends + " encap gue encap-sport 1", []string{`"encap gue" needs "encap-dport PORT"`}},
		{"gre1 type gre" + ends + " encap-dport 5555", []string{`"encap-dport 5555" needs "encap fou" or "encap gue"`}},
		{"gre1 type gre" + ends + " encap none encap-dport 5555", []string{`"encap-dport 5555" needs "encap fou" or "encap gue"`}},
		{"gre1 type sit" + ends + " noencap encap-dport 5555", []string{`"encap-dport 5555" needs "encap fou"`}},
		{"gre1 type gre" + ends + " encap-sport 100", []string{`"encap-sport 100" needs "encap fou" or "encap gue"`}},
		{"gre1 type gre" + ends + " encap-csum", []string{`"encap-csum" needs "encap fou" or "encap gue"`}},
		{"gre1 type gre" + ends + " encap fou encap gue", []string{`duplicate keyword "encap"`}},
		{"gre1 type gre" + ends + " encap fou noencap", []string{`"noencap" conflicts with "encap"`}},
		{"gre1 type gre" + ends + " encap fou encap-dport 0", []string{`bad encap-dport "0"`, "cannot be a destination", "1..65535"}},
		{"gre1 type gre" + ends + " encap fou encap-dport 65536", []string{`bad encap-dport "65536"`, "out of range"}},
		{"gre1 type gre" + ends + " encap fou encap-dport", []string{`"encap-dport" needs a port`}},
		{"gre1 type gre" + ends + " encap fou encap-dport 1 encap-dport 2", []string{`duplicate keyword "encap-dport"`}},
		{"gre1 type gre" + ends + " encap fou encap-dport 1 encap-sport x", []string{`bad encap-sport "x"`, "not a number", "auto"}},
		{"gre1 type gre" + ends + " encap fou encap-dport 1 encap-sport", []string{`"encap-sport" needs a port`, "auto"}},
		{"gre1 type gre" + ends + " encap fou encap-dport 1 encap-csum noencap-csum", []string{`"noencap-csum" conflicts with "encap-csum"`}},
		{"gre1 type ip6tnl" + ends6 + " encap fou", []string{`"encap fou" needs "encap-dport PORT"`}},
		{"gre1 type ip6gre" + ends6 + " encap-dport 1", []string{`"encap-dport 1" needs "encap fou" or "encap gue"`}},
		{"gre1 type ip6gre" + ends6 + " encap gue encap-dport 1 noencap-csum", []string{`"noencap-csum" is not valid for type ip6gre`, "RFC 6936"}},
		{"gre1 type ip6tnl" + ends6 + " encap-csum", []string{`"encap-csum" needs "encap fou" or "encap gue"`}},
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
		{"gre1 type sit" + ends + " ttl 3 nopmtudisc", []string{"ttl 3 and nopmtudisc are incompatible"}},
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
		// Every option added with sit, ip6tnl and ip6gre.
		gre1(func(s *Spec) { s.ICsum, s.OCsum = true, true }),
		gre1(func(s *Spec) { s.ICsum = true }),
		gre1(func(s *Spec) { s.OCsum = true }),
		gre1(func(s *Spec) { s.ISeq, s.OSeq = true, true }),
		gre1(func(s *Spec) { s.ISeq = true }),
		gre1(func(s *Spec) { s.OSeq = true }),
		gre1(func(s *Spec) { s.ICsum, s.OSeq, s.IKey = true, true, key(3) }),
		gre1(func(s *Spec) { s.IgnoreDF, s.NoPMTUDisc = true, true }),
		gre1(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555} }),
		gre1(func(s *Spec) { s.Encap = Encap{Type: EncapGUE, SPort: 1234, DPort: 6080, Csum: true} }),
		ipip0(func(s *Spec) { s.Mode = ModeMPLSIP }),
		ipip0(func(s *Spec) { s.Mode = ModeAny }),
		ipip0(func(s *Spec) {
			s.Encap, s.IgnoreDF, s.NoPMTUDisc = Encap{Type: EncapGUE, DPort: 1, Csum: true}, true, true
		}),
		sit0(nil),
		sit0(func(s *Spec) { s.Mode = ModeIPIP }),
		sit0(func(s *Spec) { s.Mode = ModeMPLSIP }),
		sit0(func(s *Spec) { s.Mode = ModeAny }),
		sit0(func(s *Spec) { s.Remote = netip.Addr{} }),
		sit0(func(s *Spec) { s.Remote, s.ISATAP = netip.Addr{}, true }),
		sit0(func(s *Spec) { s.Remote, s.ISATAP, s.Encap = netip.Addr{}, true, Encap{Type: EncapFOU, DPort: 5555} }),
		sit0(func(s *Spec) { s.TTL, s.TOSInherit, s.Dev, s.MTU = 9, true, "eth0", 1480 }),
		sit0(func(s *Spec) {
			s.NoPMTUDisc, s.IgnoreDF, s.Encap = true, true, Encap{Type: EncapGUE, SPort: 9, DPort: 10}
		}),
		tnl6(nil),
		tnl6(func(s *Spec) { s.TTL = 0 }),
		tnl6(func(s *Spec) { s.TTL = 1 }),
		tnl6(func(s *Spec) { s.TTL = 255 }),
		tnl6(func(s *Spec) { s.Mode = ModeIPIP6 }),
		tnl6(func(s *Spec) { s.Mode = ModeAny }),
		tnl6(func(s *Spec) { s.EncapLimit = EncapLimitZero }),
		tnl6(func(s *Spec) { s.EncapLimit = EncapLimitNone }),
		tnl6(func(s *Spec) { s.EncapLimit = 1 }),
		tnl6(func(s *Spec) { s.EncapLimit = 255 }),
		tnl6(func(s *Spec) { s.FlowLabel = 0xfffff }),
		tnl6(func(s *Spec) { s.FlowLabel = 1 }),
		tnl6(func(s *Spec) { s.FlowInherit = true }),
		tnl6(func(s *Spec) { s.TOS = 0xb8 }),
		tnl6(func(s *Spec) { s.TOSInherit = true }),
		tnl6(func(s *Spec) {
			s.Mode, s.TTL, s.TOS, s.FlowLabel, s.EncapLimit, s.Dev, s.MTU = ModeAny, 0, 0x10, 0xabcde, 7, "eth0", 1452
		}),
		tnl6(func(s *Spec) {
			s.Local, s.Remote, s.Dev = netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2"), "eth0"
		}),
		gre6(nil),
		gre6(func(s *Spec) { s.IKey, s.OKey = key(1), key(2) }),
		gre6(func(s *Spec) { s.ICsum, s.OCsum, s.ISeq, s.OSeq = true, true, true, true }),
		gre6(func(s *Spec) { s.OCsum, s.ISeq = true, true }),
		gre6(func(s *Spec) { s.EncapLimit, s.FlowInherit, s.TOSInherit, s.TTL = EncapLimitNone, true, true, 0 }),
		gre6(func(s *Spec) { s.EncapLimit, s.FlowLabel, s.TOS, s.TTL = EncapLimitZero, 0x12345, 0x28, 200 }),
		// external: no remote, no key, local optional
		external("xgre", GRE, nil),
		external("xgre", GRE, func(s *Spec) { s.Local = addrA }),
		external("xgre", GRE, func(s *Spec) {
			s.ICsum, s.OCsum, s.ISeq, s.OSeq, s.TTL, s.TOS, s.Dev, s.MTU = true, true, true, true, 64, 0x10, "eth0", 1400
		}),
		external("xgre", GRE, func(s *Spec) { s.OCsum, s.Encap = true, Encap{Type: EncapGUE, DPort: 6080} }),
		external("xgre6", IP6GRE, nil),
		external("xgre6", IP6GRE, func(s *Spec) { s.Local, s.EncapLimit, s.FlowInherit, s.TTL = addr6A, EncapLimitNone, true, 0 }),
		external("xipip", IPIP, nil),
		external("xipip", IPIP, func(s *Spec) { s.Mode, s.NoPMTUDisc, s.Encap = ModeAny, true, Encap{Type: EncapFOU, DPort: 5555} }),
		external("xsit", SIT, nil),
		external("xsit", SIT, func(s *Spec) { s.Local, s.Mode = addrA, ModeAny }),
		external("xtnl", IP6TNL, nil),
		external("xtnl", IP6TNL, func(s *Spec) { s.Local, s.Mode, s.TOSInherit = addr6A, ModeIPIP6, true }),
	}
	// Every type added with gretap, ip6gretap, geneve, vxlan, erspan and
	// ip6erspan.
	specs = append(specs, ethernetSpecs(t)...)
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

// external returns an external Spec of type t with the TTL ParseLinkAdd
// gives it by default, edited by edit.
func external(name string, t Type, edit func(*Spec)) Spec {
	s := Spec{Name: name, Type: t, External: true, TTL: t.DefaultTTL()}
	if edit != nil {
		edit(&s)
	}
	return s
}

func TestParseLinkAddExternal(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{"name xgre type gre external", external("xgre", GRE, nil)},
		{"xgre type gre external local 198.51.100.1", external("xgre", GRE, func(s *Spec) { s.Local = addrA })},
		{"xgre type gre local 198.51.100.1 external csum seq ttl 64 tos 0x10 dev eth0",
			external("xgre", GRE, func(s *Spec) {
				s.Local, s.ICsum, s.OCsum, s.ISeq, s.OSeq, s.TTL, s.TOS, s.Dev = addrA, true, true, true, true, 64, 0x10, "eth0"
			})},
		{"xgre type gre external encap fou encap-dport 5555",
			external("xgre", GRE, func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555} })},
		{"xgre type gre noexternal local 198.51.100.1 remote 198.51.100.2", gre1(func(s *Spec) { s.Name = "xgre" })},
		{"x6 type ip6gre external hoplimit 9", external("x6", IP6GRE, func(s *Spec) { s.TTL = 9 })},
		{"x6 type ip6gre external local 2001:db8::1", external("x6", IP6GRE, func(s *Spec) { s.Local = addr6A })},
		{"xi type ipip external mode any", external("xi", IPIP, func(s *Spec) { s.Mode = ModeAny })},
		{"xi type ipip external mode ipip", external("xi", IPIP, nil)},
		{"xs type sit external", external("xs", SIT, nil)},
		{"xs type sit external mode any local 198.51.100.1", external("xs", SIT, func(s *Spec) { s.Mode, s.Local = ModeAny, addrA })},
		{"xt type ip6tnl external encaplimit none", external("xt", IP6TNL, func(s *Spec) { s.EncapLimit = EncapLimitNone })},
	}
	for _, tt := range tests {
		got, err := ParseLinkAdd(strings.Fields(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ParseLinkAdd(%q) = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
			continue
		}
		if again, err := ParseLinkAdd(got.Args()); err != nil || again != got {
			t.Errorf("round trip of %q through %q: %+v, %v", tt.in, got.Args(), again, err)
		}
	}

	errs := []struct {
		in   string
		want []string
	}{
		{"xgre type gre external remote 198.51.100.2", []string{`"remote" conflicts with "external"`,
			"external tunnels take their remotes from routes: xtunnel route add PREFIX encap ip dst ADDR dev xgre"}},
		{"xgre type gre remote 198.51.100.2 external", []string{`"remote" conflicts with "external"`}},
		{"x6 type ip6gre external remote 2001:db8::2", []string{"route add PREFIX encap ip6 dst ADDR dev x6"}},
		{"xs type sit external remote any", []string{`"remote" conflicts with "external"`}},
		{"xgre type gre external key 42", []string{`"key" conflicts with "external"`,
			"with external the key is per peer: xtunnel route add PREFIX encap ip id KEY dst ADDR dev xgre"}},
		{"xgre type gre ikey 1 external", []string{`"ikey" conflicts with "external"`, "encap ip id KEY"}},
		{"x6 type ip6gre external okey 1", []string{`"okey" conflicts with "external"`, "encap ip6 id KEY"}},
		{"xs type sit external isatap", []string{`"isatap" conflicts with "external"`}},
		{"xgre type gre external external", []string{`duplicate keyword "external"`}},
		{"xgre type gre external noexternal", []string{`"noexternal" conflicts with "external"`}},
		{"external xgre type gre", []string{`"external" must come after "type`}},
		{"tap type gretap external", []string{`"external" is not valid for type gretap`, "vxlan or geneve with remote any"}},
		{"tap type ip6gretap external", []string{`"external" is not valid for type ip6gretap`}},
		{"e type erspan external key 1", []string{`"external" is not valid for type erspan`, "one collector"}},
		{"vx type vxlan id 1 local 198.51.100.1 external", []string{`keyword "external" is not supported by xtunnel's vxlan`, "fdb add"}},
		{"gnv type geneve id 1 remote any local 198.51.100.1 external", []string{`keyword "external" is not supported by xtunnel's geneve`}},
		{"xgre type gre external local 2001:db8::1", []string{"type gre needs IPv4 addresses"}},
		{"x6 type ip6gre external local 198.51.100.1", []string{"type ip6gre needs IPv6 addresses"}},
		{"xgre type gre local 198.51.100.1", []string{`missing "remote ADDR"`, "write external"}},
		{"xgre type gre", []string{`missing "local ADDR"`, "write external"}},
		{"tap type gretap local 198.51.100.1", []string{`missing "remote ADDR"`}},
	}
	for _, tt := range errs {
		s, err := ParseLinkAdd(strings.Fields(tt.in))
		if err == nil {
			t.Errorf("ParseLinkAdd(%q) = %+v, want an error", tt.in, s)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseLinkAdd(%q) error\n  %s\nmissing %q", tt.in, err, w)
			}
		}
	}
	if _, err := ParseLinkAdd(strings.Fields("tap type gretap local 198.51.100.1")); strings.Contains(err.Error(), "external") {
		t.Errorf("gretap has no external, but the error offers it: %v", err)
	}
}

func TestValidateExternal(t *testing.T) {
	tests := []struct {
		name string
		s    Spec
		want string // "" for valid
	}{
		{"gre", external("x", GRE, nil), ""},
		{"sit mode any", external("x", SIT, func(s *Spec) { s.Mode = ModeAny }), ""},
		{"remote", external("x", GRE, func(s *Spec) { s.Remote = addrB }), "remote 198.51.100.2 conflicts with external"},
		{"key", external("x", GRE, func(s *Spec) { s.OKey = key(1) }), "with external the key is per peer"},
		{"isatap", external("x", SIT, func(s *Spec) { s.ISATAP = true }), "isatap conflicts with external"},
		{"gretap", external("x", GRETAP, nil), `"external" is not valid for type gretap`},
		{"vxlan", external("x", VXLAN, func(s *Spec) { s.VNI, s.DstPort, s.Local = 1, VXLANPort, addrA }), `keyword "external" is not supported by xtunnel's vxlan`},
		{"ip6tnl v4 local", external("x", IP6TNL, func(s *Spec) { s.Local = addrA }), "type ip6tnl needs IPv6 addresses"},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	// A key may follow on each route: the overlay MTU leaves room for it.
	if a, b := external("x", GRE, nil).Overhead(), gre1(func(s *Spec) { s.OKey = key(1) }).Overhead(); a != b {
		t.Errorf("external gre Overhead() = %d, want %d (room for a key)", a, b)
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
		{gre1(func(s *Spec) {
			s.ICsum, s.OCsum, s.OSeq, s.IgnoreDF, s.NoPMTUDisc = true, true, true, true, true
			s.Encap = Encap{Type: EncapGUE, SPort: 1000, DPort: 6080, Csum: true}
		}), "name gre1 type gre local 198.51.100.1 remote 198.51.100.2 csum oseq nopmtudisc ignore-df " +
			"encap gue encap-sport 1000 encap-dport 6080 encap-csum"},
		{ipip0(func(s *Spec) { s.Mode = ModeAny }), "name ipip0 type ipip mode any local 198.51.100.1 remote 198.51.100.2"},
		{sit0(nil), "name sit0 type sit local 198.51.100.1 remote 198.51.100.2"},
		{sit0(func(s *Spec) { s.Remote = netip.Addr{} }), "name sit0 type sit local 198.51.100.1 remote any"},
		{sit0(func(s *Spec) { s.Remote, s.ISATAP = netip.Addr{}, true }), "name sit0 type sit local 198.51.100.1 isatap"},
		{tnl6(nil), "name tnl6 type ip6tnl local 2001:db8::1 remote 2001:db8::2"},
		{tnl6(func(s *Spec) {
			s.TTL, s.Mode, s.TOSInherit, s.FlowLabel, s.EncapLimit = 0, ModeIPIP6, true, 0x12, EncapLimitZero
		}),
			"name tnl6 type ip6tnl mode ipip6 local 2001:db8::1 remote 2001:db8::2 hoplimit inherit tclass inherit flowlabel 0x00012 encaplimit 0"},
		{external("xgre", GRE, func(s *Spec) { s.Local, s.OCsum = addrA, true }), "name xgre type gre external local 198.51.100.1 ocsum"},
		{external("xsit", SIT, func(s *Spec) { s.Mode = ModeAny }), "name xsit type sit mode any external"},
		{external("x6", IP6TNL, nil), "name x6 type ip6tnl external"},
		{gre6(func(s *Spec) {
			s.TTL, s.IKey, s.OKey, s.ISeq, s.EncapLimit, s.FlowInherit = 9, key(1), key(1), true, EncapLimitNone, true
		}),
			"name gre6 type ip6gre local 2001:db8::1 remote 2001:db8::2 key 1 iseq hoplimit 9 flowlabel inherit encaplimit none"},
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
		{"no type", gre1(func(s *Spec) { s.Type = TypeNone }), `missing "type ` + allTypes + `"`},
		{"unknown type", gre1(func(s *Spec) { s.Type = 99 }), "unsupported tunnel type type(99)"},
		{"no remote", gre1(func(s *Spec) { s.Remote = netip.Addr{} }), `missing "remote ADDR"`},
		{"ipip key", Spec{Name: "t", Type: IPIP, Local: addrA, Remote: addrB, OKey: key(1)}, `"key" is not valid for type ipip`},
		{"nopmtudisc ttl", gre1(func(s *Spec) { s.TTL, s.NoPMTUDisc = 3, true }), "ttl 3 and nopmtudisc"},
		{"tos and inherit", gre1(func(s *Spec) { s.TOS, s.TOSInherit = 0x10, true }), "tos 0x10 and tos inherit"},
		{"tos inherit bit", gre1(func(s *Spec) { s.TOS = 0x11 }), "tos 0x11 has the inherit bit"},
		{"mtu small", gre1(func(s *Spec) { s.MTU = 67 }), `bad mtu "67"`},
		{"mtu big", gre1(func(s *Spec) { s.MTU = 65536 }), `bad mtu "65536"`},
		{"bad dev", gre1(func(s *Spec) { s.Dev = "a b" }), `bad dev "a b"`},
		{"sit 6to4", sit0(func(s *Spec) { s.Remote = netip.Addr{} }), ""},
		{"sit isatap", sit0(func(s *Spec) { s.Remote, s.ISATAP = netip.Addr{}, true }), ""},
		{"ip6tnl inherit hoplimit", tnl6(func(s *Spec) { s.TTL = 0 }), ""},
		{"gre no remote", gre1(func(s *Spec) { s.Remote = netip.Addr{} }), `missing "remote ADDR"`},
		{"ip6tnl v4", tnl6(func(s *Spec) { s.Local, s.Remote = addrA, addrB }), "type ip6tnl needs IPv6 addresses"},
		{"sit v6 remote", sit0(func(s *Spec) { s.Remote = addr6B }), "type sit needs IPv4 addresses: remote 2001:db8::2"},
		{"gre mode", gre1(func(s *Spec) { s.Mode = ModeAny }), `"mode" is not valid for type gre`},
		{"unknown mode", ipip0(func(s *Spec) { s.Mode = 99 }), "unknown mode 99 for type ipip"},
		{"ipip mode ipip", ipip0(func(s *Spec) { s.Mode = ModeIPIP }), "mode ipip is the default of ipip: leave Mode as ModeDefault"},
		{"sit mode ip6ip", sit0(func(s *Spec) { s.Mode = ModeIP6IP }), "mode ip6ip is the default of sit"},
		{"ip6tnl mode ip6ip6", tnl6(func(s *Spec) { s.Mode = ModeIP6IP6 }), "mode ip6ip6 is the default of ip6tnl"},
		{"ipip mode ipip6", ipip0(func(s *Spec) { s.Mode = ModeIPIP6 }), "mode ipip6 is not valid for type ipip"},
		{"sit mode ip6ip6", sit0(func(s *Spec) { s.Mode = ModeIP6IP6 }), "mode ip6ip6 is not valid for type sit"},
		{"ip6tnl mode mplsip", tnl6(func(s *Spec) { s.Mode = ModeMPLSIP }), "mode mplsip is not valid for type ip6tnl"},
		{"isatap on ipip", ipip0(func(s *Spec) { s.ISATAP = true }), `"isatap" is not valid for type ipip`},
		{"isatap with remote", sit0(func(s *Spec) { s.ISATAP = true }), `"isatap" conflicts with "remote 198.51.100.2"`},
		{"6to4 mode any", sit0(func(s *Spec) { s.Remote, s.Mode = netip.Addr{}, ModeAny }), `"remote any" conflicts with "mode any"`},
		{"csum on ipip", ipip0(func(s *Spec) { s.OCsum = true }), `"csum" is not valid for type ipip`},
		{"seq on ip6tnl", tnl6(func(s *Spec) { s.ISeq = true }), `"seq" is not valid for type ip6tnl`},
		{"key on ip6tnl", tnl6(func(s *Spec) { s.IKey = key(1) }), "use type ip6gre"},
		{"nopmtudisc on ip6tnl", tnl6(func(s *Spec) { s.NoPMTUDisc, s.TTL = true, 0 }), `"nopmtudisc" is not valid for type ip6tnl`},
		{"ignore-df on ip6gre", gre6(func(s *Spec) { s.IgnoreDF = true }), `"ignore-df" is not valid for type ip6gre`},
		{"ignore-df with pmtudisc", gre1(func(s *Spec) { s.IgnoreDF = true }), `"ignore-df" needs "nopmtudisc"`},
		{"encaplimit on gre", gre1(func(s *Spec) { s.EncapLimit = 3 }), `"encaplimit" is not valid for type gre`},
		{"encaplimit 4", tnl6(func(s *Spec) { s.EncapLimit = 4 }), "encaplimit 4 is the default"},
		{"encaplimit 256", tnl6(func(s *Spec) { s.EncapLimit = 256 }), "bad encaplimit 256"},
		{"encaplimit -3", tnl6(func(s *Spec) { s.EncapLimit = -3 }), "bad encaplimit -3"},
		{"encaplimit none on ip6gre", gre6(func(s *Spec) { s.EncapLimit = EncapLimitNone }), ""},
		{"flowlabel on sit", sit0(func(s *Spec) { s.FlowLabel = 1 }), `"flowlabel" is not valid for type sit`},
		{"flowlabel inherit on gre", gre1(func(s *Spec) { s.FlowInherit = true }), `"flowlabel" is not valid for type gre`},
		{"flowlabel too big", tnl6(func(s *Spec) { s.FlowLabel = 0x100000 }), "bad flowlabel 0x100000"},
		{"flowlabel and inherit", tnl6(func(s *Spec) { s.FlowLabel, s.FlowInherit = 5, true }), "flowlabel 0x00005 and flowlabel inherit"},
		{"tclass inherit bit", tnl6(func(s *Spec) { s.TOS = 0x11 }), "tclass 0x11 has the inherit bit"},
		{"encap fou no dport", gre1(func(s *Spec) { s.Encap = Encap{Type: EncapFOU} }), `"encap fou" needs "encap-dport PORT"`},
		{"encap-dport alone", gre1(func(s *Spec) { s.Encap = Encap{DPort: 1} }), `"encap-dport 1" needs`},
		{"encap-sport alone", gre1(func(s *Spec) { s.Encap = Encap{SPort: 1} }), `"encap-sport 1" needs`},
		{"encap-csum alone", gre1(func(s *Spec) { s.Encap = Encap{Csum: true} }), `"encap-csum" needs`},
		{"unknown encap", gre1(func(s *Spec) { s.Encap = Encap{Type: 9, DPort: 1} }), "unknown encap encap(9)"},
		{"link-local without dev", tnl6(func(s *Spec) { s.Remote = netip.MustParseAddr("fe80::2") }), "remote fe80::2 is link-local"},
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

func TestParseHex(t *testing.T) {
	tests := []struct {
		in    string
		max   uint64
		width int
		want  uint64
		why   string
	}{
		{"0", 255, 2, 0, ""},
		{"9", 255, 2, 9, ""},
		{"a", 255, 2, 10, ""},
		{"ff", 255, 2, 255, ""},
		{"0xff", 255, 2, 255, ""},
		{"0XFF", 255, 2, 255, ""},
		{"00", 255, 2, 0, ""},
		{"09", 255, 2, 9, ""},
		{"0x100", 255, 2, 0, "out of range; want hex 0x00..0xff or inherit"},
		{"100", 255, 2, 0, "ambiguous"},
		{"256", 255, 2, 0, "out of range"},
		{"fffff", 0xfffff, 1, 0xfffff, ""},
		{"100000", 0xfffff, 1, 0, "which is out of range; write 0x186a0 for decimal 100000"},
		{"1048576", 0xfffff, 1, 0, "out of range; want hex 0x0..0xfffff or inherit"},
		{"99999999999999999999999", 0xfffff, 1, 0, "out of range"},
		{"0xfffffffffffffffffff", 0xfffff, 1, 0, "out of range"},
		{"0x", 255, 2, 0, "not a number"},
		{"g", 255, 2, 0, "not a number"},
		{"", 255, 2, 0, "not a number"},
		{"-1", 255, 2, 0, "not a number"},
		{"+1", 255, 2, 0, "not a number"},
		{"1_0", 255, 2, 0, "not a number"},
	}
	for _, tt := range tests {
		got, why := parseHex(tt.in, tt.max, "X", tt.width)
		if got != tt.want || !strings.Contains(why, tt.why) || (tt.why == "") != (why == "") {
			t.Errorf("parseHex(%q, %#x) = %d, %q; want %d, %q", tt.in, tt.max, got, why, tt.want, tt.why)
		}
	}
}

func TestEncapLimitOn(t *testing.T) {
	tests := []struct {
		s     Spec
		on    bool
		limit uint8
	}{
		{tnl6(nil), true, 4},
		{tnl6(func(s *Spec) { s.EncapLimit = EncapLimitZero }), true, 0},
		{tnl6(func(s *Spec) { s.EncapLimit = EncapLimitNone }), false, 0},
		{tnl6(func(s *Spec) { s.EncapLimit = 9 }), true, 9},
		{gre6(func(s *Spec) { s.EncapLimit = 9 }), true, 9},
		{gre6(nil), true, 4}, // ip6gre sends the option by default, as Linux does
		{gre1(nil), false, 0},
	}
	for _, tt := range tests {
		if on, limit := tt.s.EncapLimitOn(); on != tt.on || limit != tt.limit {
			t.Errorf("%v EncapLimit %d: EncapLimitOn() = %v, %d; want %v, %d", tt.s.Type, tt.s.EncapLimit, on, limit, tt.on, tt.limit)
		}
	}
}

func TestEffectiveMode(t *testing.T) {
	tests := []struct {
		s    Spec
		want Mode
	}{
		{gre1(nil), ModeDefault},
		{gre6(nil), ModeDefault},
		{ipip0(nil), ModeIPIP},
		{ipip0(func(s *Spec) { s.Mode = ModeAny }), ModeAny},
		{sit0(nil), ModeIP6IP},
		{sit0(func(s *Spec) { s.Mode = ModeMPLSIP }), ModeMPLSIP},
		{tnl6(nil), ModeIP6IP6},
		{tnl6(func(s *Spec) { s.Mode = ModeIPIP6 }), ModeIPIP6},
	}
	for _, tt := range tests {
		if got := tt.s.EffectiveMode(); got != tt.want {
			t.Errorf("%v mode %v: EffectiveMode() = %v, want %v", tt.s.Type, tt.s.Mode, got, tt.want)
		}
	}
}

func FuzzParseLinkAdd(f *testing.F) {
	f.Add("name gre1 type gre local 198.51.100.1 remote 198.51.100.2 key 42 ttl 64")
	f.Add("gre1 mtu 1400 type ipip local 198.51.100.1 remote 198.51.100.3 tos inherit nopmtudisc")
	f.Add("gre1 type gre local 198.51.100.1 remote 198.51.100.2 csum oseq nopmtudisc ignore-df encap gue encap-sport 7 encap-dport 6080 encap-csum")
	f.Add("sit0 type sit mode any local 198.51.100.1 remote 198.51.100.2 encap fou encap-dport 5555")
	f.Add("sit0 type sit local 198.51.100.1 isatap")
	f.Add("sit0 type sit local 198.51.100.1 remote any")
	f.Add("xgre type gre external local 198.51.100.1 csum ttl 64")
	f.Add("xsit type sit mode any external")
	f.Add("t6 type ip6tnl mode ipip6 local 2001:db8::1 remote 2001:db8::2 hoplimit inherit tclass 0x10 flowlabel 0x12345 encaplimit 0")
	f.Add("g6 type ip6gre local 2001:db8::1 remote 2001:db8::2 ikey 1 okey 2 csum seq tclass inherit flowlabel inherit encaplimit none")
	f.Add("tap0 type gretap local 198.51.100.1 remote 198.51.100.2 key 1 csum encap fou encap-dport 5555")
	f.Add("tap6 type ip6gretap local 2001:db8::1 remote 2001:db8::2 seq encaplimit none")
	f.Add("vx0 type vxlan id 42 local 198.51.100.1 learning ageing 30 dstport 8472 srcport 1000 2000 df inherit udpcsum ttl inherit")
	f.Add("vx6 type vxlan vni 1 local 2001:db8::1 remote 2001:db8::2 label 0x1 udp6zerocsumtx udp6zerocsumrx ttl auto")
	f.Add("gnv0 type geneve id 7 remote any local 198.51.100.1 opt 0102:80:0000002a geneve_opts 1:2:,3:4:aabbccdd innerprotoinherit")
	f.Add("erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 seq key 10 erspan_ver 1 erspan 123")
	f.Add("erspan6 type ip6erspan local 2001:db8::1 remote 2001:db8::2 key 10 erspan_ver 2 erspan_dir egress erspan_hwid 7")
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
