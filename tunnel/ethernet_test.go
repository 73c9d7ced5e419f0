package tunnel

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func tap0(edit func(*Spec)) Spec { return spec("tap0", GRETAP, edit) }
func tap6(edit func(*Spec)) Spec { return spec("tap6", IP6GRETAP, edit) }

// vx0 is a point-to-point vxlan tunnel as ParseLinkAdd gives it.
func vx0(edit func(*Spec)) Spec {
	s := Spec{Name: "vx0", Type: VXLAN, VNI: 42, Local: addrA, Remote: addrB, TTL: 64, DstPort: VXLANPort}
	if edit != nil {
		edit(&s)
	}
	return s
}

// vx6 is vx0 over IPv6.
func vx6(edit func(*Spec)) Spec {
	return vx0(func(s *Spec) {
		s.Name, s.Local, s.Remote = "vx6", addr6A, addr6B
		if edit != nil {
			edit(s)
		}
	})
}

// gnv0 is a geneve tunnel with a fixed remote and no local, as in the
// iproute2 recipe.
func gnv0(edit func(*Spec)) Spec {
	s := Spec{Name: "gnv0", Type: GENEVE, VNI: 7, Remote: addrB, TTL: 64, DstPort: GenevePort}
	if edit != nil {
		edit(&s)
	}
	return s
}

// ers1 is an erspan tunnel with session 10, version 1.
func ers1(edit func(*Spec)) Spec {
	s := spec("erspan1", ERSPAN, func(s *Spec) { s.IKey, s.OKey, s.OSeq, s.ERSPANVer = key(10), key(10), true, 1 })
	if edit != nil {
		edit(&s)
	}
	return s
}

// ers6 is ers1 over IPv6.
func ers6(edit func(*Spec)) Spec {
	s := spec("erspan6", IP6ERSPAN, func(s *Spec) { s.IKey, s.OKey, s.OSeq, s.ERSPANVer = key(10), key(10), true, 1 })
	if edit != nil {
		edit(&s)
	}
	return s
}

func opts(t testing.TB, o ...GeneveOpt) string {
	t.Helper()
	s, err := EncodeGeneveOpts(o...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseLinkAddEthernet(t *testing.T) {
	const ends = " local 198.51.100.1 remote 198.51.100.2"
	const ends6 = " local 2001:db8::1 remote 2001:db8::2"
	tests := []struct {
		name string
		in   string
		want Spec
	}{
		// gretap and ip6gretap: the words of gre and ip6gre
		{"gretap", "name tap0 type gretap" + ends, tap0(nil)},
		{"gretap everything", "tap0 mtu 1400 type gretap" + ends + " ikey 1 okey 2 csum oseq ttl 9 tos 0x10 dev eth0",
			tap0(func(s *Spec) {
				s.MTU, s.IKey, s.OKey, s.ICsum, s.OCsum, s.OSeq, s.TTL, s.TOS, s.Dev = 1400, key(1), key(2), true, true, true, 9, 0x10, "eth0"
			})},
		{"gretap nopmtudisc ignore-df", "tap0 type gretap" + ends + " nopmtudisc ignore-df", tap0(func(s *Spec) { s.NoPMTUDisc, s.IgnoreDF = true, true })},
		{"gretap encap fou", "tap0 type gretap" + ends + " encap fou encap-dport 5555",
			tap0(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 5555} })},
		{"ip6gretap", "tap6 type ip6gretap" + ends6, tap6(nil)},
		{"ip6gretap ip6 words", "tap6 type ip6gretap" + ends6 + " key 5 seq hoplimit 3 tclass inherit flowlabel 0x5 encaplimit none",
			tap6(func(s *Spec) {
				s.IKey, s.OKey, s.ISeq, s.OSeq, s.TTL, s.TOSInherit, s.FlowLabel, s.EncapLimit = key(5), key(5), true, true, 3, true, 5, EncapLimitNone
			})},
		{"ip6gretap encaplimit 4 is the default", "tap6 type ip6gretap" + ends6 + " encaplimit 4", tap6(nil)},

		// vxlan
		{"vxlan", "vx0 type vxlan id 42" + ends, vx0(nil)},
		{"vxlan vni alias", "vx0 type vxlan vni 42" + ends, vx0(nil)},
		{"vxlan id last", "vx0 type vxlan" + ends + " id 42", vx0(nil)},
		{"vxlan id hex", "vx0 type vxlan id 0x2a" + ends, vx0(nil)},
		{"vxlan id 0", "vx0 type vxlan id 0" + ends, vx0(func(s *Spec) { s.VNI = 0 })},
		{"vxlan id max", "vx0 type vxlan id 16777215" + ends, vx0(func(s *Spec) { s.VNI = 16777215 })},
		{"vxlan remote only", "vx0 type vxlan id 42 remote 198.51.100.2", vx0(func(s *Spec) { s.Local = netip.Addr{} })},
		{"vxlan FDB mode", "vx0 type vxlan id 42 local 198.51.100.1", vx0(func(s *Spec) { s.Remote = netip.Addr{} })},
		{"vxlan remote any", "vx0 type vxlan id 42 local 198.51.100.1 remote any", vx0(func(s *Spec) { s.Remote = netip.Addr{} })},
		{"vxlan FDB over IPv6", "vx6 type vxlan id 42 local 2001:db8::1", vx6(func(s *Spec) { s.Remote = netip.Addr{} })},
		{"vxlan IPv6", "vx6 type vxlan id 42" + ends6, vx6(nil)},
		{"vxlan dstport", "vx0 type vxlan id 42" + ends + " dstport 8472", vx0(func(s *Spec) { s.DstPort = 8472 })},
		{"vxlan dstport default", "vx0 type vxlan id 42" + ends + " dstport 4789", vx0(nil)},
		{"vxlan srcport", "vx0 type vxlan id 42" + ends + " srcport 1000 2000", vx0(func(s *Spec) { s.SrcPortMin, s.SrcPortMax = 1000, 2000 })},
		{"vxlan srcport one port", "vx0 type vxlan id 42" + ends + " srcport 5 5", vx0(func(s *Spec) { s.SrcPortMin, s.SrcPortMax = 5, 5 })},
		{"vxlan port alias", "vx0 type vxlan id 42" + ends + " port 1 65535", vx0(func(s *Spec) { s.SrcPortMin, s.SrcPortMax = 1, 65535 })},
		{"vxlan srcport default range", "vx0 type vxlan id 42" + ends + " srcport 32768 60999", vx0(nil)},
		{"vxlan ttl", "vx0 type vxlan id 42" + ends + " ttl 10", vx0(func(s *Spec) { s.TTL = 10 })},
		{"vxlan ttl 64 is the default", "vx0 type vxlan id 42" + ends + " ttl 64", vx0(nil)},
		{"vxlan ttl auto", "vx0 type vxlan id 42" + ends + " ttl auto", vx0(nil)},
		{"vxlan ttl 0 is the kernel default, not inherit", "vx0 type vxlan id 42" + ends + " ttl 0", vx0(nil)},
		{"vxlan ttl inherit", "vx0 type vxlan id 42" + ends + " ttl inherit", vx0(func(s *Spec) { s.TTL = 0 })},
		{"vxlan hoplimit", "vx6 type vxlan id 42" + ends6 + " hoplimit 5", vx6(func(s *Spec) { s.TTL = 5 })},
		{"vxlan tos", "vx0 type vxlan id 42" + ends + " tos 0x10", vx0(func(s *Spec) { s.TOS = 0x10 })},
		{"vxlan tos inherit", "vx0 type vxlan id 42" + ends + " tos inherit", vx0(func(s *Spec) { s.TOSInherit = true })},
		{"vxlan tclass", "vx6 type vxlan id 42" + ends6 + " tclass 0x28", vx6(func(s *Spec) { s.TOS = 0x28 })},
		{"vxlan df set", "vx0 type vxlan id 42" + ends + " df set", vx0(func(s *Spec) { s.DF = DFSet })},
		{"vxlan df inherit", "vx0 type vxlan id 42" + ends + " df inherit", vx0(func(s *Spec) { s.DF = DFInherit })},
		{"vxlan df unset", "vx0 type vxlan id 42" + ends + " df unset", vx0(nil)},
		{"vxlan flowlabel", "vx6 type vxlan id 42" + ends6 + " flowlabel 0x12345", vx6(func(s *Spec) { s.FlowLabel = 0x12345 })},
		{"vxlan label alias", "vx6 type vxlan id 42" + ends6 + " label inherit", vx6(func(s *Spec) { s.FlowInherit = true })},
		{"vxlan udpcsum", "vx0 type vxlan id 42" + ends + " udpcsum", vx0(func(s *Spec) { s.UDPCsum = true })},
		{"vxlan noudpcsum", "vx0 type vxlan id 42" + ends + " noudpcsum", vx0(nil)},
		{"vxlan udp6zerocsumtx", "vx6 type vxlan id 42" + ends6 + " udp6zerocsumtx", vx6(func(s *Spec) { s.UDP6ZeroCsumTx = true })},
		{"vxlan udp6zerocsumrx", "vx6 type vxlan id 42" + ends6 + " udp6zerocsumrx", vx6(func(s *Spec) { s.UDP6ZeroCsumRx = true })},
		{"vxlan noudp6zerocsum", "vx6 type vxlan id 42" + ends6 + " noudp6zerocsumtx noudp6zerocsumrx", vx6(nil)},
		{"vxlan learning", "vx0 type vxlan id 42 local 198.51.100.1 learning",
			vx0(func(s *Spec) { s.Remote, s.Learning, s.Ageing = netip.Addr{}, true, 300 })},
		{"vxlan learning ageing", "vx0 type vxlan id 42 local 198.51.100.1 ageing 60 learning",
			vx0(func(s *Spec) { s.Remote, s.Learning, s.Ageing = netip.Addr{}, true, 60 })},
		{"vxlan nolearning", "vx0 type vxlan id 42 local 198.51.100.1 nolearning", vx0(func(s *Spec) { s.Remote = netip.Addr{} })},
		{"vxlan nolearning with a remote", "vx0 type vxlan id 42" + ends + " nolearning", vx0(nil)},
		{"vxlan dev mtu", "vx0 mtu 1450 type vxlan id 42" + ends + " dev eth0", vx0(func(s *Spec) { s.MTU, s.Dev = 1450, "eth0" })},
		{"vxlan link-local with dev", "vx6 type vxlan id 42 local fe80::1 remote fe80::2 dev eth0", vx6(func(s *Spec) {
			s.Local, s.Remote, s.Dev = netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2"), "eth0"
		})},

		// geneve
		{"geneve recipe", "name gnv0 type geneve id 7 remote 198.51.100.2", gnv0(nil)},
		{"geneve vni", "gnv0 type geneve vni 7 remote 198.51.100.2", gnv0(nil)},
		{"geneve local", "gnv0 type geneve id 7" + ends, gnv0(func(s *Spec) { s.Local = addrA })},
		{"geneve IPv6", "gnv0 type geneve id 7 remote 2001:db8::2", gnv0(func(s *Spec) { s.Remote = addr6B })},
		{"geneve remote any", "gnv0 type geneve id 7 remote any local 198.51.100.1", gnv0(func(s *Spec) { s.Local, s.Remote = addrA, netip.Addr{} })},
		{"geneve remote any learning", "gnv0 type geneve id 7 remote any local 2001:db8::1 learning ageing 1",
			gnv0(func(s *Spec) { s.Local, s.Remote, s.Learning, s.Ageing = addr6A, netip.Addr{}, true, 1 })},
		{"geneve dstport", "gnv0 type geneve id 7 remote 198.51.100.2 dstport 6082", gnv0(func(s *Spec) { s.DstPort = 6082 })},
		{"geneve innerprotoinherit", "gnv0 type geneve id 7 remote 198.51.100.2 innerprotoinherit",
			gnv0(func(s *Spec) { s.InnerProtoInherit = true })},
		{"geneve ttl tos df", "gnv0 type geneve id 7 remote 198.51.100.2 ttl inherit tos 0x20 df inherit",
			gnv0(func(s *Spec) { s.TTL, s.TOS, s.DF = 0, 0x20, DFInherit })},
		{"geneve udpcsum", "gnv0 type geneve id 7 remote 198.51.100.2 udpcsum", gnv0(func(s *Spec) { s.UDPCsum = true })},
		{"geneve flowlabel", "gnv0 type geneve id 7 remote 2001:db8::2 flowlabel 0x1 udp6zerocsumtx",
			gnv0(func(s *Spec) { s.Remote, s.FlowLabel, s.UDP6ZeroCsumTx = addr6B, 1, true })},
		{"geneve opt", "gnv0 type geneve id 7 remote 198.51.100.2 opt 0102:80:0000002a",
			gnv0(func(s *Spec) { s.GeneveOpts = opts(t, GeneveOpt{0x0102, 0x80, []byte{0, 0, 0, 42}}) })},
		{"geneve opt 0x and empty data", "gnv0 type geneve id 7 remote 198.51.100.2 opt 0xffff:0x7f:",
			gnv0(func(s *Spec) { s.GeneveOpts = opts(t, GeneveOpt{0xffff, 0x7f, nil}) })},
		{"geneve opts in order", "gnv0 type geneve id 7 remote 198.51.100.2 opt 1:2:AABBCCDD opt 3:4:0x0000000000000001",
			gnv0(func(s *Spec) {
				s.GeneveOpts = opts(t, GeneveOpt{1, 2, []byte{0xaa, 0xbb, 0xcc, 0xdd}}, GeneveOpt{3, 4, []byte{0, 0, 0, 0, 0, 0, 0, 1}})
			})},
		{"geneve_opts list", "gnv0 type geneve id 7 remote 198.51.100.2 geneve_opts 1:2:aabbccdd,3:4:",
			gnv0(func(s *Spec) {
				s.GeneveOpts = opts(t, GeneveOpt{1, 2, []byte{0xaa, 0xbb, 0xcc, 0xdd}}, GeneveOpt{3, 4, nil})
			})},
		{"geneve_opts and opt", "gnv0 type geneve id 7 remote 198.51.100.2 geneve_opts 1:2: opt 3:4:",
			gnv0(func(s *Spec) { s.GeneveOpts = opts(t, GeneveOpt{1, 2, nil}, GeneveOpt{3, 4, nil}) })},
		{"geneve 64 bytes of options", "gnv0 type geneve id 7 remote 198.51.100.2 opt 1:1:" + strings.Repeat("00", 60),
			gnv0(func(s *Spec) { s.GeneveOpts = opts(t, GeneveOpt{1, 1, make([]byte, 60)}) })},

		// erspan and ip6erspan
		{"erspan v1 recipe", "erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 seq key 10 erspan_ver 1 erspan 123",
			ers1(func(s *Spec) { s.ISeq, s.ERSPANIndex = true, 123 })},
		{"erspan v2 recipe", "dev erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 seq key 10 erspan_ver 2 erspan_dir egress erspan_hwid 7",
			ers1(func(s *Spec) { s.ISeq, s.ERSPANVer, s.ERSPANDir, s.ERSPANHWID = true, 2, DirEgress, 7 })},
		{"erspan default version and seq", "erspan1 type erspan" + ends + " key 10", ers1(nil)},
		{"erspan iseq", "erspan1 type erspan" + ends + " key 10 iseq", ers1(func(s *Spec) { s.ISeq = true })},
		{"erspan oseq", "erspan1 type erspan" + ends + " key 10 oseq", ers1(nil)},
		{"erspan key 0", "erspan1 type erspan" + ends + " key 0", ers1(func(s *Spec) { s.IKey, s.OKey = key(0), key(0) })},
		{"erspan key 1023", "erspan1 type erspan" + ends + " key 1023", ers1(func(s *Spec) { s.IKey, s.OKey = key(1023), key(1023) })},
		{"erspan idx max", "erspan1 type erspan" + ends + " key 10 erspan 1048575", ers1(func(s *Spec) { s.ERSPANIndex = 1048575 })},
		{"erspan v2 defaults", "erspan1 type erspan" + ends + " key 10 erspan_ver 2 erspan_dir ingress erspan_hwid 0",
			ers1(func(s *Spec) { s.ERSPANVer = 2 })},
		{"erspan hwid max", "erspan1 type erspan" + ends + " key 10 erspan_ver 2 erspan_hwid 63", ers1(func(s *Spec) { s.ERSPANVer, s.ERSPANHWID = 2, 63 })},
		{"erspan ip words", "erspan1 mtu 1400 type erspan" + ends + " key 10 ttl 9 tos 0x10 dev eth0 pmtudisc",
			ers1(func(s *Spec) { s.MTU, s.TTL, s.TOS, s.Dev = 1400, 9, 0x10, "eth0" })},
		{"erspan nopmtudisc", "erspan1 type erspan" + ends + " key 10 nopmtudisc", ers1(func(s *Spec) { s.NoPMTUDisc = true })},
		{"ip6erspan", "erspan6 type ip6erspan" + ends6 + " key 10", ers6(nil)},
		{"ip6erspan ip6 words", "erspan6 type ip6erspan" + ends6 + " key 10 erspan_ver 2 erspan_dir egress hoplimit 3 tclass 0x10 flowlabel inherit encaplimit 0",
			ers6(func(s *Spec) {
				s.ERSPANVer, s.ERSPANDir, s.TTL, s.TOS, s.FlowInherit, s.EncapLimit = 2, DirEgress, 3, 0x10, true, EncapLimitZero
			})},
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
			again, err := ParseLinkAdd(got.Args())
			if err != nil || again != got {
				t.Fatalf("round trip through %q: %+v, %v", got.Args(), again, err)
			}
		})
	}
}

// TestParseLinkAddEthernetErrors checks every error of the Ethernet
// types: one line, naming the offending word, saying what to write.
func TestParseLinkAddEthernetErrors(t *testing.T) {
	const ends = " local 198.51.100.1 remote 198.51.100.2"
	const ends6 = " local 2001:db8::1 remote 2001:db8::2"
	const vx = "vx0 type vxlan id 42"
	const gnv = "gnv0 type geneve id 7"
	const ers = "erspan1 type erspan" + ends + " key 10"
	tests := []struct {
		in   string
		want []string
	}{
		// words before type
		{"vx0 id 42 type vxlan" + ends, []string{`"id" must come after "type ` + allTypes + `"`}},
		{"vx0 vni 42 type vxlan" + ends, []string{`"vni" must come after`}},
		{"vx0 erspan_ver 1 type erspan", []string{`"erspan_ver" must come after`}},
		// gretap and ip6gretap
		{"tap0 type gretap" + ends6, []string{"type gretap needs IPv4 addresses", "type ip6gretap"}},
		{"tap6 type ip6gretap" + ends, []string{"type ip6gretap needs IPv6 addresses", "type gretap"}},
		{"tap0 type gretap local 198.51.100.1", []string{`missing "remote ADDR": a point-to-point gretap tunnel needs both ends`}},
		{"tap0 type gretap" + ends + " hoplimit 1 flowlabel 1", []string{`"flowlabel" is not valid for type gretap`, "IPv6 header"}},
		{"tap0 type gretap" + ends + " mode any", []string{`"mode" is not valid for type gretap`, "Ethernet frames"}},
		{"tap0 type gretap" + ends + " id 1", []string{`"id" is not valid for type gretap`, "geneve and vxlan", "key K"}},
		{"tap6 type ip6gretap" + ends6 + " nopmtudisc", []string{`"nopmtudisc" is not valid for type ip6gretap`, "no DF bit"}},
		{"tap6 type ip6gretap" + ends6 + " encap gue encap-dport 1 noencap-csum", []string{`"noencap-csum" is not valid for type ip6gretap`}},
		{"tap0 type gretap" + ends + " erspan_ver 1", []string{`"erspan_ver" is not valid for type gretap`, "erspan and ip6erspan"}},
		{"tap0 type gretap" + ends + " kye 1", []string{`unknown keyword "kye" after type gretap; expected one of: local remote key ikey okey csum`}},
		// vxlan and geneve: addresses
		{"vx0 type vxlan" + ends, []string{`missing "id VNI": a vxlan tunnel needs its VNI, 0..16777215`}},
		{"gnv0 type geneve remote 198.51.100.2", []string{`missing "id VNI": a geneve tunnel`}},
		{vx, []string{"remote any needs local ADDR: it picks the underlay family and is the outer source", "without remote"}},
		{vx + " remote any", []string{"remote any needs local ADDR: it picks the underlay family and is the outer source"}},
		{gnv + " remote any", []string{"remote any needs local ADDR: it picks the underlay family and is the outer source"}},
		{gnv + " local 198.51.100.1", []string{`missing "remote ADDR": a geneve tunnel needs remote ADDR, or remote any`}},
		{gnv, []string{`missing "remote ADDR"`}},
		{vx + " local 198.51.100.1 remote 2001:db8::2", []string{"local 198.51.100.1 and remote 2001:db8::2 are of different families", "vxlan"}},
		{gnv + " local 2001:db8::1 remote 198.51.100.2", []string{"different families"}},
		{vx + " local ::ffff:198.51.100.1 remote 198.51.100.2", []string{"local ::ffff:198.51.100.1 is an IPv4-mapped address", "write 198.51.100.1"}},
		{vx + " local 198.51.100.1 remote 239.1.1.1", []string{"remote 239.1.1.1 is multicast", "fdb add"}},
		{vx + " local 0.0.0.0", []string{"local 0.0.0.0 is unspecified"}},
		{vx + " local 198.51.100.1 remote 198.51.100.1", []string{"both 198.51.100.1"}},
		{vx + " local any", []string{`local "any" is not supported`}},
		{vx + " local vtep.example", []string{`bad address "vtep.example" for local`, "IPv4 or IPv6", "host names"}},
		{vx + " local fe80::1", []string{"local fe80::1 is link-local", "dev PHYS_DEV"}},
		{"tap0 type gretap local 198.51.100.1 remote any", []string{`remote "any" is not valid for type gretap`, "geneve and vxlan (FDB mode)"}},
		// VNI
		{vx + ends + " id 43", []string{`duplicate keyword "id"`}},
		{vx + ends + " vni 43", []string{`duplicate keyword "vni" (same as "id")`}},
		{"vx0 type vxlan" + ends + " id", []string{`"id" needs a value`, "0..16777215"}},
		{"vx0 type vxlan id 16777216" + ends, []string{`bad id "16777216": VNIs are 24 bits: want 0..16777215`}},
		{"vx0 type vxlan vni 99999999999999999999" + ends, []string{`bad vni "99999999999999999999": VNIs are 24 bits`}},
		{"vx0 type vxlan id x" + ends, []string{`bad id "x"`, "not a number", "0..16777215"}},
		{"vx0 type vxlan id 042" + ends, []string{`bad id "042"`, "octal", "write 42"}},
		// ports
		{vx + ends + " dstport 0", []string{`bad dstport "0"`, "cannot be a destination", "1..65535"}},
		{vx + ends + " dstport 65536", []string{`bad dstport "65536"`, "out of range"}},
		{vx + ends + " dstport", []string{`"dstport" needs a port`}},
		{vx + ends + " dstport 1 dstport 2", []string{`duplicate keyword "dstport"`}},
		{vx + ends + " srcport 1", []string{`"srcport" needs two ports: srcport MIN MAX`}},
		{vx + ends + " srcport 0 10", []string{`bad srcport MIN "0"`, "1..65535"}},
		{vx + ends + " srcport 10 65536", []string{`bad srcport MAX "65536"`, "out of range"}},
		{vx + ends + " srcport 5000 4000", []string{`bad srcport "5000 4000": MIN 5000 is above MAX 4000`, "srcport 4000 5000"}},
		{vx + ends + " port 2 1", []string{`bad port "2 1"`}},
		{vx + ends + " srcport 1 2 port 3 4", []string{`duplicate keyword "port" (same as "srcport")`}},
		{gnv + " remote 198.51.100.2 srcport 1 2", []string{`"srcport" is not valid for type geneve`, "vxlan"}},
		// ttl, tos, df, flowlabel
		{vx + ends + " ttl 256", []string{`bad ttl "256"`, "1..255, auto or inherit"}},
		{vx + ends + " ttl", []string{`"ttl" needs a value`, "auto"}},
		{vx + ends + " ttl 1 hoplimit 2", []string{`duplicate keyword "hoplimit" (same as "ttl")`}},
		{vx + ends + " df", []string{`"df" needs a value`, "set", "unset", "inherit"}},
		{vx + ends + " df on", []string{`bad df "on": want set, unset or inherit`}},
		{vx + ends + " df set df unset", []string{`duplicate keyword "df"`}},
		{"vx6 type vxlan id 42" + ends6 + " df set", []string{`"df" is for an IPv4 underlay`, "no DF bit"}},
		{vx + ends + " flowlabel 0x1", []string{`"flowlabel" is for an IPv6 underlay`, "IPv4"}},
		{vx + ends + " label 0x1", []string{`"label" is for an IPv6 underlay`}},
		{"vx6 type vxlan id 42" + ends6 + " flowlabel 0x100000", []string{`bad flowlabel "0x100000"`}},
		{vx + ends + " pmtudisc", []string{`"pmtudisc" is not valid for type vxlan`, "df set|unset|inherit"}},
		{vx + ends + " encaplimit 1", []string{`"encaplimit" is not valid for type vxlan`, "IPv6 option"}},
		{vx + ends + " key 1", []string{`"key" is not valid for type vxlan`, "id VNI"}},
		{vx + ends + " csum", []string{`"csum" is not valid for type vxlan`, "udpcsum"}},
		{vx + ends + " encap fou", []string{`"encap" is not valid for type vxlan`, "dstport"}},
		{vx + ends + " mode any", []string{`"mode" is not valid for type vxlan`, "Ethernet"}},
		{gnv + " remote 198.51.100.2 mode any", []string{`"mode" is not valid for type geneve`, "innerprotoinherit"}},
		// UDP checksums
		{"vx6 type vxlan id 42" + ends6 + " udpcsum", []string{`"udpcsum" is for an IPv4 underlay`, "vx6 runs over IPv6", "udp6zerocsumtx"}},
		{"vx6 type vxlan id 42" + ends6 + " noudpcsum", []string{`"noudpcsum" is for an IPv4 underlay`}},
		{vx + ends + " udp6zerocsumtx", []string{`"udp6zerocsumtx" is for an IPv6 underlay`, "vx0 runs over IPv4", "udpcsum"}},
		{vx + ends + " noudp6zerocsumrx", []string{`"noudp6zerocsumrx" is for an IPv6 underlay`}},
		{gnv + " remote any local 198.51.100.1 udp6zerocsumrx", []string{`"udp6zerocsumrx" is for an IPv6 underlay`}},
		{vx + ends + " udpcsum noudpcsum", []string{`"noudpcsum" conflicts with "udpcsum"`}},
		{"gre1 type gre" + ends + " udpcsum", []string{`"udpcsum" is not valid for type gre`, "geneve and vxlan"}},
		// learning
		{vx + ends + " learning", []string{"learning needs remote any (an FDB-mode tunnel)"}},
		{gnv + " remote 198.51.100.2 learning", []string{"learning needs remote any (an FDB-mode tunnel)"}},
		{vx + ends + " ageing 10", []string{`"ageing" needs learning, and learning needs remote any (an FDB-mode tunnel)`}},
		{vx + " local 198.51.100.1 ageing 10", []string{`"ageing" needs "learning"`}},
		{vx + " local 198.51.100.1 learning ageing 0", []string{`bad ageing "0"`, "1..4294967295"}},
		{vx + " local 198.51.100.1 learning ageing 4294967296", []string{`bad ageing "4294967296"`, "out of range"}},
		{vx + " local 198.51.100.1 learning nolearning", []string{`"nolearning" conflicts with "learning"`}},
		{"gre1 type gre" + ends + " learning", []string{`"learning" is not valid for type gre`, "geneve and vxlan"}},
		// unsupported vxlan words
		{vx + ends + " group 239.1.1.1", []string{`keyword "group" is not supported by xtunnel's vxlan`, "multicast", "fdb add 00:00:00:00:00:00"}},
		{vx + ends + " proxy", []string{`keyword "proxy" is not supported`, "ARP"}},
		{vx + ends + " noproxy", []string{`keyword "noproxy" is not needed`, "drop it"}},
		{vx + ends + " rsc", []string{`keyword "rsc" is not supported`}},
		{vx + ends + " l2miss", []string{`keyword "l2miss" is not supported`}},
		{vx + ends + " l3miss", []string{`keyword "l3miss" is not supported`}},
		{vx + ends + " external", []string{`keyword "external" is not supported by xtunnel's vxlan`}},
		{vx + ends + " noexternal", []string{`keyword "noexternal" is not supported`}},
		{vx + ends + " gbp", []string{`keyword "gbp" is not supported`}},
		{vx + ends + " gpe", []string{`keyword "gpe" is not supported`}},
		{vx + ends + " remcsumtx", []string{`keyword "remcsumtx" is not supported`}},
		{vx + ends + " remcsumrx", []string{`keyword "remcsumrx" is not supported`}},
		{vx + ends + " maxaddress 10", []string{`keyword "maxaddress" is not supported`}},
		{gnv + " remote 198.51.100.2 external", []string{`keyword "external" is not supported by xtunnel's geneve`}},
		{vx + ends + " innerprotoinherit", []string{`"innerprotoinherit" is not valid for type vxlan`, "geneve"}},
		{vx + ends + " opt 1:2:", []string{`"opt" is not valid for type vxlan`, "geneve"}},
		{vx + ends + " bogus", []string{`unknown keyword "bogus" after type vxlan; expected one of: id remote local dstport srcport ttl tos df flowlabel udpcsum`}},
		// geneve options
		{gnv + " remote 198.51.100.2 opt", []string{`"opt" needs an option`, "CLASS:TYPE:DATA"}},
		{gnv + " remote 198.51.100.2 opt 1:2", []string{`bad opt "1:2": want CLASS:TYPE:DATA`}},
		{gnv + " remote 198.51.100.2 opt 10000:2:", []string{`bad opt "10000:2:": class "10000"`, "0..ffff"}},
		{gnv + " remote 198.51.100.2 opt :2:", []string{`bad opt ":2:": class ""`}},
		{gnv + " remote 198.51.100.2 opt 1:100:", []string{`bad opt "1:100:": type "100"`, "0..ff"}},
		{gnv + " remote 198.51.100.2 opt 1:xy:", []string{`bad opt "1:xy:": type "xy": not hex`}},
		{gnv + " remote 198.51.100.2 opt 1:2:abc", []string{`bad opt "1:2:abc": data "abc" has an odd number of hex digits`}},
		{gnv + " remote 198.51.100.2 opt 1:2:zz", []string{`bad opt "1:2:zz": data "zz" is not hex`}},
		{gnv + " remote 198.51.100.2 opt 1:2:aabbcc", []string{`bad opt "1:2:aabbcc": data is 3 bytes`, "multiple of 4"}},
		{gnv + " remote 198.51.100.2 opt 1:2:" + strings.Repeat("00", 128), []string{"data is 128 bytes", "at most 124"}},
		{gnv + " remote 198.51.100.2 opt 1:1:" + strings.Repeat("00", 64), []string{"xtunnel's dataplane carries at most 64"}},
		{gnv + " remote 198.51.100.2 opt 1:1:" + strings.Repeat("00", 32) + " opt 2:2:" + strings.Repeat("00", 28),
			[]string{`bad opt "2:2:`, "68 bytes", "at most 64"}},
		{gnv + " remote 198.51.100.2 geneve_opts 1:2:,3:4", []string{`bad geneve_opts "3:4"`}},
		{gnv + " remote 198.51.100.2 innerprotoinherit innerprotoinherit", []string{`duplicate keyword "innerprotoinherit"`}},
		// erspan
		{"erspan1 type erspan" + ends, []string{`missing "key K": an erspan tunnel needs its session ID, key 0..1023`}},
		{"erspan6 type ip6erspan" + ends6, []string{`missing "key K": an ip6erspan tunnel`}},
		{"erspan1 type erspan" + ends + " key 1024", []string{`bad key "1024": ERSPAN session IDs are 10 bits: want 0..1023`}},
		{"erspan1 type erspan" + ends + " key 0.0.4.0", []string{`bad key "0.0.4.0": ERSPAN session IDs are 10 bits`}},
		{"erspan1 type erspan" + ends + " key x", []string{`bad key "x"`, "not a number", "0..1023"}},
		{"erspan1 type erspan" + ends + " key", []string{`"key" needs a value`, "session ID"}},
		{"erspan1 type erspan" + ends + " ikey 1", []string{`"ikey" is not valid for type erspan`, "one session ID", "key K"}},
		{"erspan1 type erspan" + ends + " okey 1", []string{`"okey" is not valid for type erspan`}},
		{ers + " noseq", []string{`"noseq" is not valid for type erspan`, "ERSPAN requires GRE sequence numbers"}},
		{ers + " nooseq", []string{`"nooseq" is not valid for type erspan`, "ERSPAN requires GRE sequence numbers"}},
		{ers + " seq iseq", []string{`"iseq" conflicts with "seq"`}},
		{ers + " csum", []string{`"csum" is not valid for type erspan`, "GRE checksum"}},
		{ers + " erspan_dir egress", []string{"erspan_dir needs erspan_ver 2"}},
		{ers + " erspan_ver 1 erspan_dir ingress", []string{"erspan_dir needs erspan_ver 2"}},
		{ers + " erspan_dir egress erspan_ver 1", []string{"erspan_dir needs erspan_ver 2"}},
		{ers + " erspan_hwid 3", []string{"erspan_hwid needs erspan_ver 2"}},
		{ers + " erspan_ver 2 erspan 5", []string{"erspan IDX is for erspan_ver 1"}},
		{ers + " erspan 5 erspan_ver 2", []string{"erspan IDX is for erspan_ver 1"}},
		{ers + " erspan_ver 2 erspan_hwid 64", []string{`bad erspan_hwid "64": want 0..63`}},
		{ers + " erspan_ver 2 erspan_hwid x", []string{`bad erspan_hwid "x"`, "not a number", "0..63"}},
		{ers + " erspan_ver 0", []string{`bad erspan_ver "0"`, "version 0", "not supported", "1 (type II) or 2 (type III)"}},
		{ers + " erspan_ver 3", []string{`bad erspan_ver "3"`, "want 1 (ERSPAN type II) or 2 (type III)"}},
		{ers + " erspan_ver", []string{`"erspan_ver" needs a version`}},
		{ers + " erspan_ver 1 erspan_ver 1", []string{`duplicate keyword "erspan_ver"`}},
		{ers + " erspan 1048576", []string{`bad erspan "1048576"`, "0..1048575"}},
		{ers + " erspan_ver 2 erspan_dir up", []string{`bad erspan_dir "up": want ingress or egress`}},
		{ers + " ignore-df", []string{`"ignore-df" is not valid for type erspan`}},
		{ers + " encap fou encap-dport 1", []string{`"encap" is not valid for type erspan`}},
		{ers + " ttl 64 nopmtudisc", []string{"ttl 64 and nopmtudisc are incompatible"}},
		{"erspan6 type ip6erspan" + ends6 + " key 10 nopmtudisc", []string{`"nopmtudisc" is not valid for type ip6erspan`, "no DF bit"}},
		{"erspan6 type ip6erspan" + ends + " key 10", []string{"type ip6erspan needs IPv6 addresses", "type erspan"}},
		{"erspan1 type erspan" + ends6 + " key 10", []string{"type erspan needs IPv4 addresses", "type ip6erspan"}},
		{"gre1 type gre" + ends + " erspan 1", []string{`"erspan" is not valid for type gre`, "erspan and ip6erspan"}},
		{"gre1 type ip6gre" + ends6 + " noseq erspan_hwid 1", []string{`"erspan_hwid" is not valid for type ip6gre`}},
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

// ethernetSpecs are valid Specs of the Ethernet types, for the round
// trip through Args and ParseLinkAdd.
func ethernetSpecs(t testing.TB) []Spec {
	return []Spec{
		tap0(nil),
		tap0(func(s *Spec) { s.IKey, s.OKey, s.ICsum, s.OSeq = key(1), key(2), true, true }),
		tap0(func(s *Spec) { s.TTL, s.TOSInherit, s.Dev, s.MTU = 9, true, "eth0", 1462 }),
		tap0(func(s *Spec) {
			s.NoPMTUDisc, s.IgnoreDF, s.Encap = true, true, Encap{Type: EncapGUE, DPort: 6080, Csum: true}
		}),
		tap6(nil),
		tap6(func(s *Spec) {
			s.TTL, s.EncapLimit, s.FlowLabel, s.IKey, s.OKey = 0, EncapLimitNone, 0xfffff, key(3), key(3)
		}),
		tap6(func(s *Spec) {
			s.EncapLimit, s.FlowInherit, s.TOS, s.ICsum, s.OCsum = EncapLimitZero, true, 0xb8, true, true
		}),
		vx0(nil),
		vx0(func(s *Spec) { s.VNI = 0 }),
		vx0(func(s *Spec) { s.VNI = MaxVNI }),
		vx0(func(s *Spec) { s.Local = netip.Addr{} }),
		vx0(func(s *Spec) { s.Remote = netip.Addr{} }),
		vx0(func(s *Spec) { s.Remote, s.Learning, s.Ageing = netip.Addr{}, true, DefaultAgeing }),
		vx0(func(s *Spec) { s.Remote, s.Learning, s.Ageing = netip.Addr{}, true, 1<<32-1 }),
		vx0(func(s *Spec) { s.DstPort, s.SrcPortMin, s.SrcPortMax = 8472, 1, 65535 }),
		vx0(func(s *Spec) { s.TTL, s.TOSInherit, s.DF, s.UDPCsum = 0, true, DFInherit, true }),
		vx0(func(s *Spec) { s.TTL, s.TOS, s.DF, s.Dev, s.MTU = 1, 0x10, DFSet, "eth0", 1450 }),
		vx6(nil),
		vx6(func(s *Spec) { s.Remote = netip.Addr{} }),
		vx6(func(s *Spec) { s.Local = netip.Addr{} }),
		vx6(func(s *Spec) {
			s.FlowLabel, s.UDP6ZeroCsumTx, s.UDP6ZeroCsumRx, s.TTL, s.TOS = 0xabcde, true, true, 255, 0x28
		}),
		vx6(func(s *Spec) { s.FlowInherit, s.Remote, s.Learning, s.Ageing = true, netip.Addr{}, true, 5 }),
		gnv0(nil),
		gnv0(func(s *Spec) { s.Local = addrA }),
		gnv0(func(s *Spec) { s.Local, s.Remote = addrA, netip.Addr{} }),
		gnv0(func(s *Spec) { s.Local, s.Remote, s.Learning, s.Ageing = addr6A, netip.Addr{}, true, 600 }),
		gnv0(func(s *Spec) { s.Remote, s.FlowLabel, s.UDP6ZeroCsumRx = addr6B, 7, true }),
		gnv0(func(s *Spec) { s.InnerProtoInherit, s.DstPort, s.DF, s.UDPCsum = true, 1, DFSet, true }),
		gnv0(func(s *Spec) { s.GeneveOpts = opts(t, GeneveOpt{0x0102, 0x80, []byte{0, 0, 0, 42}}) }),
		gnv0(func(s *Spec) {
			s.GeneveOpts = opts(t, GeneveOpt{0xffff, 0xff, nil}, GeneveOpt{0, 0, make([]byte, 8)}, GeneveOpt{1, 1, []byte{1, 2, 3, 4}})
		}),
		gnv0(func(s *Spec) { s.GeneveOpts = opts(t, GeneveOpt{1, 1, make([]byte, 60)}) }),
		ers1(nil),
		ers1(func(s *Spec) { s.ISeq, s.ERSPANIndex = true, 1048575 }),
		ers1(func(s *Spec) { s.IKey, s.OKey = key(0), key(0) }),
		ers1(func(s *Spec) { s.IKey, s.OKey, s.ERSPANVer = key(1023), key(1023), 2 }),
		ers1(func(s *Spec) { s.ERSPANVer, s.ERSPANDir, s.ERSPANHWID = 2, DirEgress, 63 }),
		ers1(func(s *Spec) { s.TTL, s.TOS, s.NoPMTUDisc, s.Dev, s.MTU = 0, 0x10, true, "eth0", 1400 }),
		ers6(nil),
		ers6(func(s *Spec) {
			s.ERSPANVer, s.ERSPANDir, s.EncapLimit, s.FlowLabel, s.TTL = 2, DirEgress, 9, 0x12345, 0
		}),
		ers6(func(s *Spec) {
			s.ISeq, s.ERSPANIndex, s.TOSInherit, s.FlowInherit, s.EncapLimit = true, 5, true, true, EncapLimitNone
		}),
	}
}

func TestEthernetArgs(t *testing.T) {
	tests := []struct {
		s    Spec
		want string
	}{
		{tap0(nil), "name tap0 type gretap local 198.51.100.1 remote 198.51.100.2"},
		{tap6(func(s *Spec) { s.IKey, s.OKey, s.ISeq, s.OSeq = key(5), key(5), true, true }),
			"name tap6 type ip6gretap local 2001:db8::1 remote 2001:db8::2 key 5 seq"},
		{vx0(nil), "name vx0 type vxlan id 42 local 198.51.100.1 remote 198.51.100.2"},
		{vx0(func(s *Spec) { s.Remote, s.Learning, s.Ageing = netip.Addr{}, true, DefaultAgeing }),
			"name vx0 type vxlan id 42 local 198.51.100.1 learning"},
		{vx0(func(s *Spec) {
			s.Remote, s.Learning, s.Ageing, s.DstPort, s.SrcPortMin, s.SrcPortMax, s.TTL, s.DF, s.UDPCsum = netip.Addr{}, true, 30, 8472, 1000, 2000, 0, DFInherit, true
		}),
			"name vx0 type vxlan id 42 local 198.51.100.1 ttl inherit dstport 8472 srcport 1000 2000 df inherit udpcsum learning ageing 30"},
		{vx6(func(s *Spec) { s.TTL, s.FlowLabel, s.UDP6ZeroCsumTx, s.UDP6ZeroCsumRx = 10, 0x1, true, true }),
			"name vx6 type vxlan id 42 local 2001:db8::1 remote 2001:db8::2 ttl 10 flowlabel 0x00001 udp6zerocsumtx udp6zerocsumrx"},
		{gnv0(nil), "name gnv0 type geneve id 7 remote 198.51.100.2"},
		{gnv0(func(s *Spec) { s.Local, s.Remote = addrA, netip.Addr{} }), "name gnv0 type geneve id 7 local 198.51.100.1 remote any"},
		{gnv0(func(s *Spec) {
			s.InnerProtoInherit, s.GeneveOpts = true, opts(t, GeneveOpt{0x0102, 0x80, []byte{0, 0, 0, 42}}, GeneveOpt{1, 2, nil})
		}),
			"name gnv0 type geneve id 7 remote 198.51.100.2 innerprotoinherit opt 0102:80:0000002a opt 0001:02:"},
		{ers1(nil), "name erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 key 10 erspan_ver 1"},
		{ers1(func(s *Spec) { s.ISeq, s.ERSPANIndex = true, 123 }),
			"name erspan1 type erspan local 198.51.100.1 remote 198.51.100.2 key 10 seq erspan_ver 1 erspan 123"},
		{ers6(func(s *Spec) { s.ERSPANVer, s.ERSPANDir, s.ERSPANHWID, s.TTL = 2, DirEgress, 7, 1 }),
			"name erspan6 type ip6erspan local 2001:db8::1 remote 2001:db8::2 key 10 hoplimit 1 erspan_ver 2 erspan_dir egress erspan_hwid 7"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.s.Args(), " "); got != tt.want {
			t.Errorf("Args()\n got %s\nwant %s", got, tt.want)
		}
	}
}

func TestValidateEthernet(t *testing.T) {
	tests := []struct {
		name string
		s    Spec
		want string // "" for valid
	}{
		{"gretap", tap0(nil), ""},
		{"vxlan", vx0(nil), ""},
		{"vxlan FDB", vx0(func(s *Spec) { s.Remote = netip.Addr{} }), ""},
		{"vxlan remote only", vx0(func(s *Spec) { s.Local = netip.Addr{} }), ""},
		{"geneve", gnv0(nil), ""},
		{"geneve FDB", gnv0(func(s *Spec) { s.Local, s.Remote = addr6A, netip.Addr{} }), ""},
		{"erspan", ers1(nil), ""},
		{"ip6erspan", ers6(nil), ""},
		{"gretap no remote", tap0(func(s *Spec) { s.Remote = netip.Addr{} }), `missing "remote ADDR"`},
		{"erspan no remote", ers1(func(s *Spec) { s.Remote = netip.Addr{} }), `missing "remote ADDR"`},
		{"vxlan no ends", vx0(func(s *Spec) { s.Local, s.Remote = netip.Addr{}, netip.Addr{} }), "remote any needs local ADDR"},
		{"vxlan same ends", vx0(func(s *Spec) { s.Remote = addrA }), "both 198.51.100.1"},
		{"vxlan families", vx0(func(s *Spec) { s.Remote = addr6B }), "different families"},
		{"vxlan VNI", vx0(func(s *Spec) { s.VNI = MaxVNI + 1 }), `bad id "16777216": VNIs are 24 bits: want 0..16777215`},
		{"vxlan no dstport", vx0(func(s *Spec) { s.DstPort = 0 }), "missing dstport"},
		{"vxlan srcport half", vx0(func(s *Spec) { s.SrcPortMin = 5 }), `bad srcport "5 0"`},
		{"vxlan srcport order", vx0(func(s *Spec) { s.SrcPortMin, s.SrcPortMax = 6, 5 }), "MIN 6 is above MAX 5"},
		{"vxlan srcport default", vx0(func(s *Spec) { s.SrcPortMin, s.SrcPortMax = 32768, 60999 }), "is the default"},
		{"geneve srcport", gnv0(func(s *Spec) { s.SrcPortMin, s.SrcPortMax = 1, 2 }), `"srcport" is not valid for type geneve`},
		{"vxlan df v6", vx6(func(s *Spec) { s.DF = DFSet }), `"df set" is for an IPv4 underlay`},
		{"vxlan df unknown", vx0(func(s *Spec) { s.DF = 9 }), "unknown df df(9)"},
		{"vxlan udpcsum v6", vx6(func(s *Spec) { s.UDPCsum = true }), `"udpcsum" is for an IPv4 underlay`},
		{"vxlan zerocsumtx v4", vx0(func(s *Spec) { s.UDP6ZeroCsumTx = true }), `"udp6zerocsumtx" is for an IPv6 underlay`},
		{"vxlan zerocsumrx v4", vx0(func(s *Spec) { s.UDP6ZeroCsumRx = true }), `"udp6zerocsumrx" is for an IPv6 underlay`},
		{"vxlan flowlabel v4", vx0(func(s *Spec) { s.FlowLabel = 1 }), `"flowlabel" is for an IPv6 underlay`},
		{"vxlan innerprotoinherit", vx0(func(s *Spec) { s.InnerProtoInherit = true }), `"innerprotoinherit" is not valid for type vxlan`},
		{"vxlan opts", vx0(func(s *Spec) { s.GeneveOpts = "\x00\x01\x02\x00" }), `"opt" is not valid for type vxlan`},
		{"vxlan learning fixed remote", vx0(func(s *Spec) { s.Learning, s.Ageing = true, 300 }), "learning needs remote any (an FDB-mode tunnel)"},
		{"vxlan ageing without learning", vx0(func(s *Spec) { s.Remote, s.Ageing = netip.Addr{}, 300 }), `"ageing" needs "learning"`},
		{"vxlan learning without ageing", vx0(func(s *Spec) { s.Remote, s.Learning = netip.Addr{}, true }), "learning needs ageing"},
		{"geneve opts truncated", gnv0(func(s *Spec) { s.GeneveOpts = "\x00\x01\x02" }), "bad GeneveOpts"},
		{"geneve opts short", gnv0(func(s *Spec) { s.GeneveOpts = "\x00\x01\x02\x01" }), "says it is 8 bytes; 4 are left"},
		{"geneve opts reserved bits", gnv0(func(s *Spec) { s.GeneveOpts = "\x00\x01\x02\x20" }), "reserved bits"},
		{"geneve opts too long", gnv0(func(s *Spec) {
			s.GeneveOpts = opts(t, GeneveOpt{1, 1, make([]byte, 32)}, GeneveOpt{1, 1, make([]byte, 28)})
		}), "at most 64"},
		{"gre vni", gre1(func(s *Spec) { s.VNI = 1 }), `"id" is not valid for type gre`},
		{"gre dstport", gre1(func(s *Spec) { s.DstPort = 1 }), `"dstport" is not valid for type gre`},
		{"gretap learning", tap0(func(s *Spec) { s.Learning = true }), `"learning" is not valid for type gretap`},
		{"ipip ageing", ipip0(func(s *Spec) { s.Ageing = 1 }), `"ageing" is not valid for type ipip`},
		{"gre erspan_ver", gre1(func(s *Spec) { s.ERSPANVer = 1 }), `"erspan_ver" is not valid for type gre`},
		{"gretap erspan index", tap0(func(s *Spec) { s.ERSPANIndex = 1 }), `"erspan" is not valid for type gretap`},
		{"ip6gre erspan_dir", gre6(func(s *Spec) { s.ERSPANDir = DirEgress }), `"erspan_dir" is not valid for type ip6gre`},
		{"vxlan erspan_hwid", vx0(func(s *Spec) { s.ERSPANHWID = 1 }), `"erspan_hwid" is not valid for type vxlan`},
		{"erspan ver 0", ers1(func(s *Spec) { s.ERSPANVer = 0 }), "erspan_ver 0 (ERSPAN type I, no ERSPAN header) is not supported"},
		{"erspan ver 3", ers1(func(s *Spec) { s.ERSPANVer = 3 }), `bad erspan_ver "3"`},
		{"erspan no key", ers1(func(s *Spec) { s.IKey, s.OKey = Key{}, Key{} }), `missing "key K"`},
		{"erspan okey only", ers1(func(s *Spec) { s.IKey = Key{} }), `missing "key K"`},
		{"erspan keys differ", ers1(func(s *Spec) { s.IKey = key(11) }), `missing "key K"`},
		{"erspan key 1024", ers1(func(s *Spec) { s.IKey, s.OKey = key(1024), key(1024) }), "ERSPAN session IDs are 10 bits: want 0..1023"},
		{"erspan no oseq", ers1(func(s *Spec) { s.OSeq = false }), "ERSPAN requires GRE sequence numbers"},
		{"erspan csum", ers1(func(s *Spec) { s.OCsum = true }), `"csum" is not valid for type erspan`},
		{"erspan index", ers1(func(s *Spec) { s.ERSPANIndex = 1 << 20 }), `bad erspan "1048576"`},
		{"erspan hwid", ers1(func(s *Spec) { s.ERSPANVer, s.ERSPANHWID = 2, 64 }), `bad erspan_hwid "64": want 0..63`},
		{"erspan dir unknown", ers1(func(s *Spec) { s.ERSPANVer, s.ERSPANDir = 2, 5 }), "unknown erspan_dir dir(5)"},
		{"erspan v1 dir", ers1(func(s *Spec) { s.ERSPANDir = DirEgress }), "erspan_dir needs erspan_ver 2"},
		{"erspan v1 hwid", ers1(func(s *Spec) { s.ERSPANHWID = 1 }), "erspan_hwid needs erspan_ver 2"},
		{"erspan v2 index", ers1(func(s *Spec) { s.ERSPANVer, s.ERSPANIndex = 2, 1 }), "erspan IDX is for erspan_ver 1"},
		{"erspan ignore-df", ers1(func(s *Spec) { s.IgnoreDF, s.NoPMTUDisc, s.TTL = true, true, 0 }), `"ignore-df" is not valid for type erspan`},
		{"ip6erspan v4", ers6(func(s *Spec) { s.Local, s.Remote = addrA, addrB }), "type ip6erspan needs IPv6 addresses"},
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

func TestOverhead(t *testing.T) {
	opt8 := opts(t, GeneveOpt{1, 1, []byte{1, 2, 3, 4}})
	tests := []struct {
		name string
		s    Spec
		mtu  int // overlay MTU over a 1500-byte underlay
	}{
		{"gre", gre1(nil), 1476},
		{"gre key", gre1(func(s *Spec) { s.OKey = key(1) }), 1472},
		{"ipip", ipip0(nil), 1480},
		{"ip6tnl", tnl6(nil), 1452},
		{"ip6gre", gre6(nil), 1448},
		{"gretap", tap0(nil), 1462},
		{"gretap key csum seq", tap0(func(s *Spec) { s.OKey, s.OCsum, s.OSeq = key(1), true, true }), 1450},
		{"gretap fou", tap0(func(s *Spec) { s.Encap = Encap{Type: EncapFOU, DPort: 1} }), 1454},
		{"ip6gretap", tap6(nil), 1434},
		{"ip6gretap encaplimit none", tap6(func(s *Spec) { s.EncapLimit = EncapLimitNone }), 1442},
		{"vxlan", vx0(nil), 1450},
		{"vxlan IPv6", vx6(nil), 1430},
		{"vxlan FDB IPv6", vx6(func(s *Spec) { s.Remote = netip.Addr{} }), 1430},
		{"vxlan remote only IPv6", vx6(func(s *Spec) { s.Local = netip.Addr{} }), 1430},
		{"geneve", gnv0(nil), 1450},
		{"geneve IPv6", gnv0(func(s *Spec) { s.Remote = addr6B }), 1430},
		{"geneve option", gnv0(func(s *Spec) { s.GeneveOpts = opt8 }), 1442},
		{"geneve innerprotoinherit", gnv0(func(s *Spec) { s.InnerProtoInherit = true }), 1464},
		{"geneve innerprotoinherit option", gnv0(func(s *Spec) { s.InnerProtoInherit, s.GeneveOpts = true, opt8 }), 1456},
		{"erspan v1", ers1(nil), 1450},
		{"erspan v1 key not in GRE", ers1(func(s *Spec) { s.IKey, s.OKey = key(1000), key(1000) }), 1450},
		{"erspan v2", ers1(func(s *Spec) { s.ERSPANVer = 2 }), 1446},
		{"ip6erspan v1", ers6(nil), 1422},
		{"ip6erspan v2 encaplimit none", ers6(func(s *Spec) { s.ERSPANVer, s.EncapLimit = 2, EncapLimitNone }), 1426},
	}
	for _, tt := range tests {
		if err := tt.s.Validate(); err != nil {
			t.Errorf("%s: test spec is invalid: %v", tt.name, err)
		}
		if got := 1500 - tt.s.Overhead(); got != tt.mtu {
			t.Errorf("%s: 1500 - Overhead() = %d, want %d", tt.name, got, tt.mtu)
		}
	}
}

func TestEthernetModel(t *testing.T) {
	tests := []struct {
		name                string
		s                   Spec
		outer6, eth, fdb    bool
		gre                 bool
		inners              Inner
		defaultTTL, dstPort int
	}{
		{"gre", gre1(nil), false, false, false, true, InnerIPv4 | InnerIPv6, 0, 0},
		{"ip6tnl", tnl6(nil), true, false, false, false, InnerIPv6, 64, 0},
		{"gretap", tap0(nil), false, true, false, true, 0, 0, 0},
		{"ip6gretap", tap6(nil), true, true, false, true, 0, 64, 0},
		{"erspan", ers1(nil), false, true, false, true, 0, 0, 0},
		{"ip6erspan", ers6(nil), true, true, false, true, 0, 64, 0},
		{"vxlan", vx0(nil), false, true, false, false, 0, 64, 4789},
		{"vxlan6", vx6(nil), true, true, false, false, 0, 64, 4789},
		{"vxlan FDB", vx0(func(s *Spec) { s.Remote = netip.Addr{} }), false, true, true, false, 0, 64, 4789},
		{"vxlan6 FDB", vx6(func(s *Spec) { s.Remote = netip.Addr{} }), true, true, true, false, 0, 64, 4789},
		{"geneve", gnv0(nil), false, true, false, false, 0, 64, 6081},
		{"geneve6 remote only", gnv0(func(s *Spec) { s.Remote = addr6B }), true, true, false, false, 0, 64, 6081},
		{"geneve FDB", gnv0(func(s *Spec) { s.Local, s.Remote = addrA, netip.Addr{} }), false, true, true, false, 0, 64, 6081},
		{"geneve L3", gnv0(func(s *Spec) { s.InnerProtoInherit = true }), false, false, false, false, InnerIPv4 | InnerIPv6, 64, 6081},
	}
	for _, tt := range tests {
		s := tt.s
		if s.Outer6() != tt.outer6 || s.Ethernet() != tt.eth || s.FDB() != tt.fdb || s.Type.IsGRE() != tt.gre ||
			s.Inners() != tt.inners || int(s.Type.DefaultTTL()) != tt.defaultTTL || int(s.Type.DefaultDstPort()) != tt.dstPort {
			t.Errorf("%s: Outer6 %v Ethernet %v FDB %v IsGRE %v Inners %v DefaultTTL %d DefaultDstPort %d; want %v %v %v %v %v %d %d",
				tt.name, s.Outer6(), s.Ethernet(), s.FDB(), s.Type.IsGRE(), s.Inners(), s.Type.DefaultTTL(), s.Type.DefaultDstPort(),
				tt.outer6, tt.eth, tt.fdb, tt.gre, tt.inners, tt.defaultTTL, tt.dstPort)
		}
	}
	for _, ty := range []Type{IP6TNL, IP6GRE, IP6GRETAP, IP6ERSPAN} {
		if !ty.Outer6() {
			t.Errorf("%v.Outer6() = false", ty)
		}
	}
	for _, ty := range []Type{GRE, IPIP, SIT, GRETAP, ERSPAN, GENEVE, VXLAN} {
		if ty.Outer6() {
			t.Errorf("%v.Outer6() = true", ty)
		}
	}
	for i, want := range []string{"gretap", "ip6gretap", "geneve", "vxlan", "erspan", "ip6erspan"} {
		ty := IP6GRE + 1 + Type(i)
		if ty.String() != want {
			t.Errorf("Type %d is %v, want %s", ty, ty, want)
		}
		if got, ok := ParseType(want); !ok || got != ty {
			t.Errorf("ParseType(%q) = %v, %v", want, got, ok)
		}
	}
	if on, limit := tap6(nil).EncapLimitOn(); !on || limit != 4 {
		t.Errorf("ip6gretap EncapLimitOn() = %v, %d; want true, 4", on, limit)
	}
	if on, _ := ers6(func(s *Spec) { s.EncapLimit = EncapLimitNone }).EncapLimitOn(); on {
		t.Errorf("ip6erspan encaplimit none: EncapLimitOn() = true")
	}
	if on, _ := vx6(nil).EncapLimitOn(); on {
		t.Errorf("vxlan over IPv6: EncapLimitOn() = true")
	}
}

func TestGeneveOpts(t *testing.T) {
	in := []GeneveOpt{{0x0102, 0x80, []byte{0, 0, 0, 42}}, {0xffff, 0x01, nil}, {0, 0x7f, make([]byte, 124)}}
	wire, err := EncodeGeneveOpts(in...)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x01, 0x02, 0x80, 0x01, 0, 0, 0, 42, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x7f, 31}, make([]byte, 124)...)
	s := gnv0(func(s *Spec) { s.GeneveOpts = wire })
	if !bytes.Equal(s.GeneveOptBytes(), want) {
		t.Errorf("GeneveOptBytes() = %x\nwant %x", s.GeneveOptBytes(), want)
	}
	got := s.GeneveOptions()
	for i := range got {
		if len(got[i].Data) == 0 {
			got[i].Data = nil
		}
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("GeneveOptions() = %v, want %v", got, in)
	}
	if !in[0].Critical() || in[1].Critical() || in[2].Critical() {
		t.Errorf("Critical: %v %v %v, want true false false", in[0].Critical(), in[1].Critical(), in[2].Critical())
	}
	if in[0].String() != "0102:80:0000002a" {
		t.Errorf("String() = %q", in[0].String())
	}
	if gnv0(nil).GeneveOptBytes() != nil || gnv0(nil).GeneveOptions() != nil {
		t.Errorf("no options: GeneveOptBytes %v, GeneveOptions %v; want nil", gnv0(nil).GeneveOptBytes(), gnv0(nil).GeneveOptions())
	}
	if got := (Spec{GeneveOpts: "\x00"}).GeneveOptions(); got != nil {
		t.Errorf("malformed GeneveOptions() = %v, want nil", got)
	}
	for _, bad := range []GeneveOpt{{1, 1, []byte{1}}, {1, 1, make([]byte, 128)}} {
		if _, err := EncodeGeneveOpts(bad); err == nil {
			t.Errorf("EncodeGeneveOpts(%v) = nil error", bad)
		}
	}
}

func TestLinkAddUsageNamesEveryType(t *testing.T) {
	for _, ty := range typeOrder {
		if !strings.Contains(LinkAddUsage, "  "+ty.String()+" ") {
			t.Errorf("LinkAddUsage does not describe type %s", ty)
		}
		for _, w := range typeKeywords[ty] {
			if !strings.Contains(LinkAddUsage, w) {
				t.Errorf("LinkAddUsage does not mention %s's keyword %q", ty, w)
			}
		}
	}
}
