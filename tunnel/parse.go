package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// LinkAddUsage is the grammar ParseLinkAdd accepts, for help output.
const LinkAddUsage = `link add [name] NAME [mtu MTU] type TYPE local ADDR remote ADDR [OPTIONS]
  TYPE and its OPTIONS:
  gre     GRE over IPv4, IPv4 and IPv6 inner
          [key K | ikey K okey K] [csum | icsum | ocsum | nocsum]
          [seq | iseq | oseq | noseq] [ttl TTL] [tos TOS]
          [pmtudisc | nopmtudisc] [ignore-df | noignore-df] [ENCAP]
  ipip    IPv4 over IPv4: [mode ipip|mplsip|any] [ttl TTL] [tos TOS]
          [pmtudisc | nopmtudisc] [ignore-df | noignore-df] [ENCAP]
  sit     IPv6 over IPv4: [mode ip6ip|ipip|mplsip|any] [isatap] and the
          ipip options; remote any is 6to4 (2002:V4ADDR::/48), and with
          isatap the remote comes from each inner destination
  ip6tnl  over IPv6: [mode ip6ip6|ipip6|any] [hoplimit TTL] [tclass TOS]
          [flowlabel FL] [encaplimit ELIM]
  ip6gre  GRE over IPv6: the gre keys, csum and seq words, [hoplimit TTL]
          [tclass TOS] [flowlabel FL] [encaplimit ELIM]
  every type: [dev PHYS_DEV] [mtu MTU]
  ENCAP  encap fou|gue encap-dport PORT [encap-sport auto|PORT]
         [encap-csum | noencap-csum]   (encap none or noencap: plain)
  NAME  overlay netdev name, 1..15 bytes ("dev NAME" before type also names it)
  ADDR  IPv4 address for gre, ipip and sit; IPv6 for ip6tnl and ip6gre
  K     GRE key: decimal 0..4294967295 or a dotted quad like 0.0.0.42
  TTL   1..255; inherit (or 0) copies the inner packet's; ttl and hoplimit
        are the same word. Default: inherit; 64 for ip6tnl and ip6gre
  TOS   hex (0x10) or inherit; tos and tclass are the same word
  FL    IPv6 flow label, hex 0x0..0xfffff, or inherit; default 0
  ELIM  tunnel encapsulation limit (RFC 2473) 0..255, or none; default 4
  PORT  UDP port 1..65535; encap-sport auto (the default) hashes the flow
  MTU   68..65535; default is the underlay MTU minus the tunnel overhead`

// maxNameLen is IFNAMSIZ-1: the longest name a netdev can have.
const maxNameLen = 15

// typeOrder is the supported types in the order messages list them.
var typeOrder = []Type{GRE, IPIP, SIT, IP6TNL, IP6GRE}

// typeList joins the supported type names with sep.
func typeList(sep string) string {
	names := make([]string, len(typeOrder))
	for i, t := range typeOrder {
		names[i] = t.String()
	}
	return strings.Join(names, sep)
}

// beforeTypeKeywords are the words link add accepts before "type".
var beforeTypeKeywords = []string{"name", "dev", "mtu", "type"}

// Keyword groups shared by several types.
var (
	keyKeywords     = []string{"key", "ikey", "okey"}
	csumSeqKeywords = []string{"csum", "nocsum", "icsum", "ocsum", "seq", "noseq", "iseq", "oseq"}
	dfKeywords      = []string{"pmtudisc", "nopmtudisc", "ignore-df", "noignore-df"}
	encapKeywords   = []string{"encap", "noencap", "encap-sport", "encap-dport", "encap-csum", "noencap-csum"}
	ip6Keywords     = []string{"hoplimit", "tclass", "flowlabel", "encaplimit"}
)

func words(groups ...[]string) []string {
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// typeKeywords are the words each type accepts after "type TYPE", in the
// order error messages list them. Aliases (keywordAliases) are accepted
// wherever the keyword they stand for is.
var typeKeywords = map[Type][]string{
	GRE: words([]string{"local", "remote"}, keyKeywords, csumSeqKeywords,
		[]string{"ttl", "tos", "dev", "mtu"}, dfKeywords, encapKeywords),
	IPIP: words([]string{"local", "remote", "mode", "ttl", "tos", "dev", "mtu"}, dfKeywords, encapKeywords),
	SIT: words([]string{"local", "remote", "mode", "isatap", "ttl", "tos", "dev", "mtu"},
		dfKeywords, encapKeywords),
	IP6TNL: words([]string{"local", "remote", "mode"}, ip6Keywords, []string{"dev", "mtu"}, encapKeywords),
	IP6GRE: words([]string{"local", "remote"}, keyKeywords, csumSeqKeywords, ip6Keywords, []string{"dev", "mtu"},
		encapKeywords),
}

// keywordAliases maps iproute2's alternative spellings to the keyword
// they stand for.
var keywordAliases = map[string]string{
	"hoplimit": "ttl",
	"hlim":     "ttl",
	"dsfield":  "tos",
	"tclass":   "tos",
}

// laterKeywords are iproute2 tunnel keywords xtunnel will accept in a
// later version; naming them gets a "not supported yet" error rather than
// "unknown keyword".
var laterKeywords = map[string]bool{
	"external": true, "noexternal": true, "encap-remcsum": true, "noencap-remcsum": true,
	"encap-udp6-csum": true, "noencap-udp6-csum": true, "fwmark": true,
	"erspan": true, "erspan_ver": true, "erspan_dir": true, "erspan_hwid": true,
	"id": true, "dstport": true, "6rd-prefix": true, "6rd-relay_prefix": true, "6rd-reset": true,
	"dscp": true, "allow-localremote": true, "noallow-localremote": true,
}

// linkKeywords are generic `ip link add` keywords that xtunnel does not
// take; the tunnel's netdev can be changed with `ip link set` afterwards.
var linkKeywords = map[string]bool{
	"txqueuelen": true, "txqlen": true, "qlen": true, "address": true,
	"broadcast": true, "brd": true, "link": true, "numtxqueues": true,
	"numrxqueues": true, "group": true, "netns": true, "index": true,
	"alias": true, "up": true, "down": true, "arp": true, "multicast": true,
	"allmulticast": true, "promisc": true, "master": true, "vrf": true,
	"addrgenmode": true, "gso_max_size": true, "gso_max_segs": true,
}

// laterTypes are kernel tunnel types (plus VXLAN) xtunnel will support.
var laterTypes = map[string]bool{
	"gretap": true, "ip6gretap": true, "vti": true, "vti6": true, "geneve": true,
	"vxlan": true, "erspan": true, "ip6erspan": true, "ip6erspan6": true,
}

// modeWord is one spelling iproute2 accepts for a mode.
type modeWord struct {
	word string
	mode Mode
}

// typeModes are the modes of each IP-in-IP type, with iproute2's
// spellings; the first spelling of each mode is its name.
var typeModes = map[Type][]modeWord{
	IPIP: {{"ipip", ModeIPIP}, {"mplsip", ModeMPLSIP}, {"any", ModeAny},
		{"ipv4/ipv4", ModeIPIP}, {"ip4ip4", ModeIPIP}, {"mpls/ipv4", ModeMPLSIP}, {"any/ipv4", ModeAny}},
	SIT: {{"ip6ip", ModeIP6IP}, {"ipip", ModeIPIP}, {"mplsip", ModeMPLSIP}, {"any", ModeAny},
		{"ipv6/ipv4", ModeIP6IP}, {"ipv4/ipv4", ModeIPIP}, {"ip4ip4", ModeIPIP}, {"mpls/ipv4", ModeMPLSIP}, {"any/ipv4", ModeAny}},
	IP6TNL: {{"ip6ip6", ModeIP6IP6}, {"ipip6", ModeIPIP6}, {"any", ModeAny},
		{"ipv6/ipv6", ModeIP6IP6}, {"ip4ip6", ModeIPIP6}, {"ip/ipv6", ModeIPIP6}, {"ipv4/ipv6", ModeIPIP6}, {"any/ipv6", ModeAny}},
}

// defaultModes are the modes ModeDefault stands for.
var defaultModes = map[Type]Mode{IPIP: ModeIPIP, SIT: ModeIP6IP, IP6TNL: ModeIP6IP6}

// modeNamesOf lists the mode names of t, for messages.
func modeNamesOf(t Type) string {
	var names []string
	seen := map[Mode]bool{}
	for _, mw := range typeModes[t] {
		if !seen[mw.mode] {
			seen[mw.mode] = true
			names = append(names, mw.mode.String())
		}
	}
	return strings.Join(names, " ")
}

// EffectiveMode is the mode s runs in, with ModeDefault resolved to the
// type's own (ModeIPIP for ipip, ModeIP6IP for sit, ModeIP6IP6 for
// ip6tnl); ModeDefault for gre and ip6gre, which have no mode.
func (s Spec) EffectiveMode() Mode {
	if s.Mode == ModeDefault {
		return defaultModes[s.Type]
	}
	return s.Mode
}

// TTLWord is the keyword iproute2 prints for t's outer TTL: hoplimit over
// IPv6, ttl over IPv4.
func (t Type) TTLWord() string {
	if t.Outer6() {
		return "hoplimit"
	}
	return "ttl"
}

// TOSWord is the keyword iproute2 prints for t's outer TOS: tclass over
// IPv6, tos over IPv4.
func (t Type) TOSWord() string {
	if t.Outer6() {
		return "tclass"
	}
	return "tos"
}

// DefaultTTL is the outer TTL ParseLinkAdd gives a t tunnel that names
// none: 64 for ip6tnl and ip6gre as iproute2 does, else 0 (inherit).
func (t Type) DefaultTTL() uint8 {
	if t.Outer6() {
		return 64
	}
	return 0
}

var encapNames = map[EncapType]string{EncapNone: "none", EncapFOU: "fou", EncapGUE: "gue"}

func (e EncapType) String() string {
	if n, ok := encapNames[e]; ok {
		return n
	}
	return fmt.Sprintf("encap(%d)", uint8(e))
}

// ParseLinkAdd parses the words after `link add`, following iproute2's
// grammar for `ip link add ... type gre|ipip|sit|ip6tnl|ip6gre ...`. Each
// error is one line that names the offending word and says what would be
// accepted. The Spec it returns is canonical: a mode that is the type's
// default is ModeDefault, encaplimit 4 is EncapLimit 0, and an ip6tnl or
// ip6gre tunnel without hoplimit gets 64 as with iproute2.
func ParseLinkAdd(args []string) (Spec, error) {
	p := linkAddParser{words: args, seen: map[string]string{}}
	if err := p.parse(); err != nil {
		return Spec{}, err
	}
	return p.spec, nil
}

type linkAddParser struct {
	words []string
	pos   int
	spec  Spec
	typed bool
	// seen maps a keyword slot ("name", "ttl", "ikey", "pmtudisc", ...) to
	// the word that filled it, for duplicate and conflict messages.
	seen map[string]string
}

func (p *linkAddParser) next() (string, bool) {
	if p.pos >= len(p.words) {
		return "", false
	}
	w := p.words[p.pos]
	p.pos++
	return w, true
}

// value takes the word after keyword kw; what describes it for the error.
func (p *linkAddParser) value(kw, what string) (string, error) {
	v, ok := p.next()
	if !ok {
		return "", fmt.Errorf("%q needs %s", kw, what)
	}
	return v, nil
}

// pairWords are the keywords that set both directions at once.
var pairWords = map[string]struct{ in, out, arg, or string }{
	"key":  {"ikey", "okey", " K", "ikey K and okey K"},
	"csum": {"icsum", "ocsum", "", "icsum and/or ocsum"},
	"seq":  {"iseq", "oseq", "", "iseq and/or oseq"},
}

// fill records that word fills slot, failing if the slot is already taken.
func (p *linkAddParser) fill(slot, word string) error {
	prev, ok := p.seen[slot]
	switch {
	case !ok:
		p.seen[slot] = word
		return nil
	case prev == word:
		return fmt.Errorf("duplicate keyword %q", word)
	case canonical(prev) == canonical(word):
		return fmt.Errorf("duplicate keyword %q (same as %q)", word, prev)
	}
	for _, ws := range [][2]string{{prev, word}, {word, prev}} {
		both, other := ws[0], ws[1]
		if pw, ok := pairWords[both]; ok && (other == pw.in || other == pw.out) {
			return fmt.Errorf("%q conflicts with %q: %s%s sets both %s and %s; give %s%s alone, or %s",
				word, prev, both, pw.arg, pw.in, pw.out, both, pw.arg, pw.or)
		}
	}
	return fmt.Errorf("%q conflicts with %q given before; give only one of them", word, prev)
}

// canonical is the keyword w stands for.
func canonical(w string) string {
	if a, ok := keywordAliases[w]; ok {
		return a
	}
	return w
}

// accepts reports whether type t takes the keyword w (or what it aliases).
func accepts(t Type, w string) bool {
	kw := canonical(w)
	for _, k := range typeKeywords[t] {
		if canonical(k) == kw {
			return true
		}
	}
	return false
}

func (p *linkAddParser) parse() error {
	if len(p.words) == 0 {
		return fmt.Errorf(`link add needs a tunnel: link add NAME type %s local ADDR remote ADDR`, typeList("|"))
	}
	for {
		w, ok := p.next()
		if !ok {
			break
		}
		var err error
		if p.typed {
			err = p.afterType(w)
		} else {
			err = p.beforeType(w)
		}
		if err != nil {
			return err
		}
	}
	if p.spec.Name == "" {
		return errors.New(`missing the tunnel name: write "name NAME" before "type"`)
	}
	if !p.typed {
		return fmt.Errorf(`missing "type %s" after the name %q`, typeList("|"), p.spec.Name)
	}
	s := &p.spec
	if _, ok := p.seen["remote"]; !ok && s.Type == SIT && !s.ISATAP {
		if _, ok := p.seen["local"]; ok {
			return errors.New(`missing "remote ADDR": a point-to-point sit tunnel needs both ends; write remote any for 6to4, or isatap`)
		}
	}
	if _, ok := p.seen["ttl"]; !ok {
		s.TTL = s.Type.DefaultTTL()
	}
	if s.Mode == defaultModes[s.Type] {
		s.Mode = ModeDefault
	}
	return s.Validate()
}

func (p *linkAddParser) beforeType(w string) error {
	switch w {
	case "name", "dev":
		v, err := p.value(w, "a tunnel name: "+w+" NAME")
		if err != nil {
			return err
		}
		return p.setName(w, v)
	case "mtu":
		return p.mtu(w)
	case "type":
		if err := p.fill("type", w); err != nil {
			return err
		}
		v, err := p.value(w, "a tunnel type: one of "+typeList(" "))
		if err != nil {
			return err
		}
		t, ok := ParseType(v)
		if !ok {
			if laterTypes[v] {
				return fmt.Errorf("tunnel type %q is not supported yet; supported: %s", v, typeList(" "))
			}
			return fmt.Errorf("unknown tunnel type %q; supported: %s", v, typeList(" "))
		}
		p.spec.Type = t
		p.typed = true
		return nil
	}
	if _, ok := keywordAliases[w]; ok || isTypeKeyword(w) || laterKeywords[w] {
		return fmt.Errorf("%q must come after \"type %s\"", w, typeList("|"))
	}
	if linkKeywords[w] {
		name := p.spec.Name
		if name == "" {
			name = "NAME"
		}
		return fmt.Errorf("keyword %q is not supported by xtunnel link add; set it with `ip link set %s %s ...` once the tunnel exists", w, name, w)
	}
	if _, named := p.seen["name"]; named {
		return fmt.Errorf("unknown keyword %q before type (the name is already %q); expected one of: %s",
			w, p.spec.Name, strings.Join(beforeTypeKeywords, " "))
	}
	// A bare first word is the name, as in `ip link add gre1 type gre`.
	return p.setName(w, w)
}

func isTypeKeyword(w string) bool {
	if w == "dev" || w == "mtu" {
		return false
	}
	for _, t := range typeOrder {
		if accepts(t, w) {
			return true
		}
	}
	return false
}

func (p *linkAddParser) setName(kw, name string) error {
	if prev, ok := p.seen["name"]; ok {
		if prev == kw && (kw == "name" || kw == "dev") {
			return fmt.Errorf("duplicate keyword %q", kw)
		}
		return fmt.Errorf("%q names the tunnel again: the name is already %q", strings.TrimSpace(kw+" "+name), p.spec.Name)
	}
	if err := checkIfname("name", name); err != nil {
		return err
	}
	p.seen["name"] = kw
	p.spec.Name = name
	return nil
}

func (p *linkAddParser) mtu(w string) error {
	if err := p.fill("mtu", w); err != nil {
		return err
	}
	v, err := p.value(w, "a value: mtu 68..65535")
	if err != nil {
		return err
	}
	n, why := parseNumber(v, 65535)
	if why == "" && n < 68 {
		why = "too small"
	}
	if why != "" {
		return fmt.Errorf("bad mtu %q: %s", v, withWant(why, "want 68..65535"))
	}
	p.spec.MTU = int(n)
	return nil
}

// notForType explains why type t does not take w when another type does;
// nil when no type takes w.
func notForType(t Type, w string) error {
	var others []string
	for _, o := range typeOrder {
		if o != t && accepts(o, w) {
			others = append(others, o.String())
		}
	}
	if len(others) == 0 {
		return nil
	}
	var why string
	switch kw := canonical(w); kw {
	case "key", "ikey", "okey":
		keyed := "gre"
		if t.Outer6() {
			keyed = "ip6gre"
		}
		why = fmt.Sprintf("%s has no key; use type %s for a keyed tunnel", t, keyed)
	case "csum", "nocsum", "icsum", "ocsum":
		why = "only gre and ip6gre carry a GRE checksum"
		if !t.Outer6() {
			why += "; for a UDP checksum use encap fou|gue with encap-csum"
		}
	case "seq", "noseq", "iseq", "oseq":
		why = "only gre and ip6gre carry GRE sequence numbers"
	case "mode":
		why = fmt.Sprintf("%s carries IPv4 and IPv6 inner and has no mode", t)
	case "isatap":
		why = "only sit does ISATAP"
	case "encaplimit":
		why = "the tunnel encapsulation limit is an IPv6 option, for ip6tnl and ip6gre only"
	case "flowlabel":
		why = "the flow label is in the IPv6 header, for ip6tnl and ip6gre only"
	case "pmtudisc", "nopmtudisc", "ignore-df", "noignore-df":
		why = fmt.Sprintf("an IPv6 outer header has no DF bit, and iproute2 has no %s for %s", w, t)
	default:
		why = "it is for type " + strings.Join(others, " and ")
	}
	return fmt.Errorf("%q is not valid for type %s: %s", w, t, why)
}

func (p *linkAddParser) afterType(w string) error {
	kw := canonical(w)
	t := p.spec.Type
	s := &p.spec
	switch kw {
	case "type":
		return fmt.Errorf("duplicate keyword %q", w)
	case "name":
		return fmt.Errorf("%q must come before \"type %s\"", w, t)
	}
	if !accepts(t, w) {
		if err := notForType(t, w); err != nil {
			return err
		}
		if laterKeywords[w] {
			return fmt.Errorf("keyword %q is not supported yet for %s; supported: %s", w, t, strings.Join(typeKeywords[t], " "))
		}
		return fmt.Errorf("unknown keyword %q after type %s; expected one of: %s", w, t, strings.Join(typeKeywords[t], " "))
	}
	switch kw {
	case "local", "remote":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "an address")
		if err != nil {
			return err
		}
		if v == "any" && kw == "remote" && t == SIT {
			s.Remote = netip.Addr{}
			return nil
		}
		a, err := parseAddr(t, w, v)
		if err != nil {
			return err
		}
		if kw == "local" {
			s.Local = a
		} else {
			s.Remote = a
		}
		return nil
	case "key", "ikey", "okey":
		if kw != "okey" {
			if err := p.fill("ikey", w); err != nil {
				return err
			}
		}
		if kw != "ikey" {
			if err := p.fill("okey", w); err != nil {
				return err
			}
		}
		v, err := p.value(w, "a value: "+w+" K, K decimal or a dotted quad like 1.2.3.4")
		if err != nil {
			return err
		}
		k, why := parseKey(v)
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 0..4294967295 or a dotted quad like 0.0.0.42"))
		}
		if kw != "okey" {
			s.IKey = Key{Set: true, Value: k}
		}
		if kw != "ikey" {
			s.OKey = Key{Set: true, Value: k}
		}
		return nil
	case "csum", "nocsum", "icsum", "ocsum":
		return p.pair(w, "csum", &s.ICsum, &s.OCsum)
	case "seq", "noseq", "iseq", "oseq":
		return p.pair(w, "seq", &s.ISeq, &s.OSeq)
	case "mode":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "a mode: mode "+strings.ReplaceAll(modeNamesOf(t), " ", "|"))
		if err != nil {
			return err
		}
		m, err := parseModeFor(t, v)
		if err != nil {
			return err
		}
		s.Mode = m
		return nil
	case "isatap":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		s.ISATAP = true
		return nil
	case "ttl":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "a value: "+w+" 1..255 or "+w+" inherit")
		if err != nil {
			return err
		}
		if v == "inherit" {
			s.TTL = 0
			return nil
		}
		n, why := parseNumber(v, 255)
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 0..255 or inherit"))
		}
		s.TTL = uint8(n)
		return nil
	case "tos":
		return p.tos(w)
	case "flowlabel":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "a value: flowlabel 0x0..0xfffff or flowlabel inherit")
		if err != nil {
			return err
		}
		if v == "inherit" {
			s.FlowLabel, s.FlowInherit = 0, true
			return nil
		}
		n, why := parseHex(v, 0xfffff, "flow labels", 1)
		if why != "" {
			return fmt.Errorf("bad flowlabel %q: %s", v, why)
		}
		s.FlowLabel = uint32(n)
		return nil
	case "encaplimit":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "a value: encaplimit 0..255 or encaplimit none")
		if err != nil {
			return err
		}
		if v == "none" {
			s.EncapLimit = EncapLimitNone
			return nil
		}
		n, why := parseNumber(v, 255)
		if why != "" {
			return fmt.Errorf("bad encaplimit %q: %s", v, withWant(why, "want 0..255 or none"))
		}
		switch n {
		case 0:
			s.EncapLimit = EncapLimitZero
		case 4:
			s.EncapLimit = 0 // the default
		default:
			s.EncapLimit = int(n)
		}
		return nil
	case "dev":
		if err := p.fill("underlay", w); err != nil {
			return err
		}
		v, err := p.value(w, "the underlay netdev: dev PHYS_DEV")
		if err != nil {
			return err
		}
		if err := checkIfname("dev", v); err != nil {
			return err
		}
		s.Dev = v
		return nil
	case "mtu":
		return p.mtu(w)
	case "pmtudisc", "nopmtudisc":
		if err := p.fill("pmtudisc", w); err != nil {
			return err
		}
		s.NoPMTUDisc = kw == "nopmtudisc"
		return nil
	case "ignore-df", "noignore-df":
		if err := p.fill("ignore-df", w); err != nil {
			return err
		}
		s.IgnoreDF = kw == "ignore-df"
		return nil
	case "encap", "noencap":
		if err := p.fill("encap", w); err != nil {
			return err
		}
		if kw == "noencap" {
			s.Encap.Type = EncapNone
			return nil
		}
		v, err := p.value(w, "a type: encap fou, encap gue or encap none")
		if err != nil {
			return err
		}
		switch v {
		case "fou":
			s.Encap.Type = EncapFOU
		case "gue":
			s.Encap.Type = EncapGUE
		case "none":
			s.Encap.Type = EncapNone
		default:
			return fmt.Errorf("bad encap %q: want fou, gue or none", v)
		}
		return nil
	case "encap-sport", "encap-dport":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		what, want := "a port: encap-dport 1..65535", "want 1..65535"
		if kw == "encap-sport" {
			what, want = "a port: encap-sport auto or encap-sport 1..65535", "want 1..65535 or auto"
		}
		v, err := p.value(w, what)
		if err != nil {
			return err
		}
		if kw == "encap-sport" && v == "auto" {
			s.Encap.SPort = 0
			return nil
		}
		n, why := parseNumber(v, 65535)
		if why == "" && n == 0 && kw == "encap-dport" {
			why = "port 0 cannot be a destination"
		}
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, want))
		}
		if kw == "encap-sport" {
			s.Encap.SPort = uint16(n) // 0 is auto, as in the kernel
		} else {
			s.Encap.DPort = uint16(n)
		}
		return nil
	case "encap-csum", "noencap-csum":
		if err := p.fill("encap-csum", w); err != nil {
			return err
		}
		if kw == "noencap-csum" && t.Outer6() {
			return fmt.Errorf(`"noencap-csum" is not valid for type %s: UDP over IPv6 always carries a checksum here (zero checksums need receivers that accept them, RFC 6936)`, t)
		}
		s.Encap.Csum = kw == "encap-csum"
		return nil
	}
	return fmt.Errorf("internal error: keyword %q of type %s has no parser", w, t)
}

// pair parses one of the GRE flag words: both (csum, seq) sets in and
// out, "no"+both clears them, "i"+both and "o"+both set one direction.
func (p *linkAddParser) pair(w, both string, in, out *bool) error {
	setIn, setOut := w != "o"+both, w != "i"+both
	if setIn {
		if err := p.fill("i"+both, w); err != nil {
			return err
		}
	}
	if setOut {
		if err := p.fill("o"+both, w); err != nil {
			return err
		}
	}
	on := w != "no"+both
	if setIn {
		*in = on
	}
	if setOut {
		*out = on
	}
	return nil
}

func (p *linkAddParser) tos(w string) error {
	if err := p.fill("tos", w); err != nil {
		return err
	}
	v, err := p.value(w, "a value: "+w+" 0x10 or "+w+" inherit")
	if err != nil {
		return err
	}
	s := &p.spec
	if v == "inherit" {
		s.TOS, s.TOSInherit = 0, true
		return nil
	}
	n, why := parseTOS(v)
	if why == "" && n&1 != 0 {
		switch {
		case s.Type.Outer6():
			why = fmt.Sprintf("for %s this is not inherit but a traffic class with an ECN bit set, which xtunnel does not send; write %s inherit, or %s 0x%02x",
				s.Type, w, w, n&^1)
		case n != 1:
			why = fmt.Sprintf("its lowest bit means inherit to the kernel; write %s inherit, or %s 0x%02x", w, w, n&^1)
		}
	}
	if why != "" {
		return fmt.Errorf("bad %s %q: %s", w, v, why)
	}
	// As in the kernel, TOS 1 is how iproute2 spells inherit over IPv4.
	s.TOS, s.TOSInherit = n&^1, n == 1
	return nil
}

// parseModeFor parses the word after "mode" for type t.
func parseModeFor(t Type, v string) (Mode, error) {
	for _, mw := range typeModes[t] {
		if mw.word == v {
			return mw.mode, nil
		}
	}
	for _, o := range typeOrder {
		for _, mw := range typeModes[o] {
			if mw.word == v {
				return 0, fmt.Errorf("mode %s is not valid for type %s: it is a mode of %s; %s modes: %s",
					v, t, o, t, modeNamesOf(t))
			}
		}
	}
	return 0, fmt.Errorf("unknown mode %q for type %s; want one of: %s", v, t, modeNamesOf(t))
}

// parseAddr parses the address given to keyword kw (local or remote) of
// a t tunnel.
func parseAddr(t Type, kw, v string) (netip.Addr, error) {
	if v == "any" {
		if kw == "remote" {
			return netip.Addr{}, fmt.Errorf("remote %q is not valid for type %s: only sit takes remote any (6to4, ISATAP); a point-to-point tunnel needs a unicast address for both ends", v, t)
		}
		return netip.Addr{}, fmt.Errorf("%s %q is not supported: a point-to-point tunnel needs a unicast address for both ends", kw, v)
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		hint := "want an IPv4 address like 192.0.2.1"
		if t.Outer6() {
			hint = "want an IPv6 address like 2001:db8::1"
		}
		if strings.IndexFunc(v, unicode.IsLetter) >= 0 && !strings.Contains(v, ":") {
			hint += " (host names are not resolved)"
		}
		return netip.Addr{}, fmt.Errorf("bad address %q for %s; %s", v, kw, hint)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("bad address %q for %s: zones are not supported; drop %q (and name the link with dev PHYS_DEV)", v, kw, "%"+a.Zone())
	}
	return a, nil
}

// parseNumber parses a decimal or 0x-prefixed hex number no larger than
// max. On failure it returns a reason. A leading zero is refused because
// iproute2 reads "010" as octal 8: accepting it as 10 would make the same
// command mean two things.
func parseNumber(s string, max uint64) (uint64, string) {
	base, digits := 10, s
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		base, digits = 16, s[2:]
	} else if len(s) > 1 && s[0] == '0' && strings.Trim(s, "0123456789") == "" {
		plain := strings.TrimLeft(s, "0")
		if plain == "" {
			plain = "0"
		}
		if oct, err := strconv.ParseUint(s, 8, 64); err == nil && oct <= max {
			return 0, fmt.Sprintf("a leading zero means octal to iproute2 (%s = %d); write %s, or %d for the octal value", s, oct, plain, oct)
		}
		return 0, fmt.Sprintf("a leading zero means octal to iproute2; write %s", plain)
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, "out of range"
		}
		return 0, "not a number"
	}
	if n > max {
		return 0, "out of range"
	}
	return n, ""
}

// withWant appends the accepted range to a reason, unless the reason
// already says what to write.
func withWant(why, want string) string {
	if strings.Contains(why, "; write ") {
		return why
	}
	return why + "; " + want
}

// parseKey parses a GRE key: a 32-bit number or a dotted quad whose bytes
// are the key in network order, as iproute2 does.
func parseKey(s string) (uint32, string) {
	if strings.Contains(s, ".") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return 0, "not a dotted quad"
		}
		b := a.As4()
		return binary.BigEndian.Uint32(b[:]), ""
	}
	n, why := parseNumber(s, 1<<32-1)
	return uint32(n), why
}

// parseTOS parses a TOS byte, in hex as iproute2 reads it (parseHex).
func parseTOS(s string) (uint8, string) {
	n, why := parseHex(s, 255, "TOS", 2)
	return uint8(n), why
}

// parseHex parses a number no larger than max that iproute2 reads in hex
// even without 0x (TOS, traffic class, flow label: "10" is 0x10). A
// value whose decimal and hex readings differ must carry 0x: it is
// refused rather than read differently from iproute2. what names the
// values in messages; width is the number of hex digits to print.
func parseHex(s string, max uint64, what string, width int) (uint64, string) {
	want := fmt.Sprintf("want hex 0x%0*x..0x%0*x or inherit", width, 0, width, max)
	digits := s
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		digits = s[2:]
	} else if len(s) > 1 && strings.Trim(s, "0123456789") == "" {
		hex, herr := strconv.ParseUint(s, 16, 64)
		dec, derr := strconv.ParseUint(s, 10, 64)
		hexOK, decOK := herr == nil && hex <= max, derr == nil && dec <= max
		switch {
		case !hexOK && !decOK:
			return 0, "out of range; " + want
		case hex == dec:
			return dec, ""
		}
		// Digits read as hex are never less than read as decimal.
		why := fmt.Sprintf("ambiguous: iproute2 reads %s as hex, so %s means 0x%s", what, s, s)
		if !hexOK {
			why += ", which is out of range"
		}
		why += fmt.Sprintf("; write 0x%0*x for decimal %d", width, dec, dec)
		if hexOK {
			why += fmt.Sprintf(" or 0x%s for hex", s)
		}
		return 0, why
	}
	n, err := strconv.ParseUint(digits, 16, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, "out of range; " + want
		}
		return 0, "not a number; " + want
	}
	if n > max {
		return 0, "out of range; " + want
	}
	return n, ""
}

// CheckName reports whether name can name a netdev, with the kernel's
// rules: 1..15 bytes, no '/', ':' or white space, and not "." or "..".
func CheckName(name string) error {
	return checkIfname("name", name)
}

func checkIfname(what, name string) error {
	var why string
	switch {
	case name == "":
		why = "a netdev name cannot be empty"
	case len(name) > maxNameLen:
		why = fmt.Sprintf("it is %d bytes; a netdev name has at most %d", len(name), maxNameLen)
	case name == "." || name == "..":
		why = "a netdev name cannot be . or .."
	case strings.ContainsRune(name, '/'):
		why = "a netdev name cannot contain '/'"
	case strings.ContainsRune(name, ':'):
		why = "a netdev name cannot contain ':'"
	case strings.IndexFunc(name, unicode.IsSpace) >= 0:
		why = "a netdev name cannot contain white space"
	default:
		return nil
	}
	return fmt.Errorf("bad %s %q: %s", what, name, why)
}

// Validate checks a Spec as a whole: what ParseLinkAdd checks once every
// word is read. A Spec built in code should pass it before it is used.
// It also refuses non-canonical spellings of a default (a mode that is
// the type's own, EncapLimit 4), so that each tunnel has one Spec.
func (s Spec) Validate() error {
	if err := checkIfname("name", s.Name); err != nil {
		return err
	}
	t := s.Type
	if _, ok := typeKeywords[t]; !ok {
		if t == TypeNone {
			return fmt.Errorf(`missing "type %s" for %q`, typeList("|"), s.Name)
		}
		return fmt.Errorf("unsupported tunnel type %s; supported: %s", t, typeList(" "))
	}
	if !s.Local.IsValid() {
		return fmt.Errorf("missing \"local ADDR\": a point-to-point %s tunnel needs both ends", t)
	}
	if !s.Remote.IsValid() && t != SIT {
		return fmt.Errorf("missing \"remote ADDR\": a point-to-point %s tunnel needs both ends", t)
	}
	for _, e := range []struct {
		kw string
		a  netip.Addr
	}{{"local", s.Local}, {"remote", s.Remote}} {
		if e.a.IsValid() {
			if err := s.checkAddr(e.kw, e.a); err != nil {
				return err
			}
		}
	}
	if s.Local == s.Remote {
		return fmt.Errorf("local and remote are both %s; the remote end must be another host", s.Local)
	}
	if err := s.checkWords(); err != nil {
		return err
	}
	if err := s.checkMode(); err != nil {
		return err
	}
	if err := s.checkDF(); err != nil {
		return err
	}
	if s.TOS&1 != 0 {
		return fmt.Errorf("%s 0x%02x has the inherit bit set; use TOSInherit for %s inherit", t.TOSWord(), s.TOS, t.TOSWord())
	}
	if s.TOSInherit && s.TOS != 0 {
		return fmt.Errorf("%s 0x%02x and %s inherit are both set; give one of them", t.TOSWord(), s.TOS, t.TOSWord())
	}
	if err := s.checkIP6(); err != nil {
		return err
	}
	if err := s.checkEncap(); err != nil {
		return err
	}
	if s.MTU != 0 && (s.MTU < 68 || s.MTU > 65535) {
		return fmt.Errorf("bad mtu \"%d\": want 68..65535", s.MTU)
	}
	if s.Dev != "" {
		if err := checkIfname("dev", s.Dev); err != nil {
			return err
		}
	}
	return nil
}

// checkAddr checks one end's address family and kind for the type.
func (s Spec) checkAddr(kw string, a netip.Addr) error {
	t := s.Type
	if t.Outer6() {
		switch {
		case a.Is4():
			return fmt.Errorf("type %s needs IPv6 addresses: %s %s is IPv4; for an IPv4 underlay use type %s", t, kw, a, map[Type]string{IP6TNL: "ipip or sit", IP6GRE: "gre"}[t])
		case a.Is4In6():
			return fmt.Errorf("type %s needs IPv6 addresses: %s %s is an IPv4-mapped address; for an IPv4 underlay use type %s", t, kw, a, map[Type]string{IP6TNL: "ipip or sit", IP6GRE: "gre"}[t])
		}
	} else if !a.Is4() {
		hint := "for an IPv6 underlay use type " + map[Type]string{GRE: "ip6gre", IPIP: "ip6tnl mode ipip6", SIT: "ip6tnl"}[t]
		if a.Is4In6() {
			hint = "write " + a.Unmap().String()
		}
		return fmt.Errorf("type %s needs IPv4 addresses: %s %s is IPv6; %s", t, kw, a, hint)
	}
	switch {
	case a.IsUnspecified():
		return fmt.Errorf("%s %s is unspecified; a point-to-point tunnel needs a unicast address", kw, a)
	case a.IsMulticast():
		return fmt.Errorf("%s %s is multicast; a point-to-point tunnel needs a unicast address", kw, a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s %s is the broadcast address; a point-to-point tunnel needs a unicast address", kw, a)
	case a.Is6() && a.IsLinkLocalUnicast() && s.Dev == "":
		return fmt.Errorf("%s %s is link-local: name the link it is on with dev PHYS_DEV", kw, a)
	}
	return nil
}

// checkWords refuses options the type does not have.
func (s Spec) checkWords() error {
	t := s.Type
	for _, o := range []struct {
		set bool
		kw  string
	}{
		{s.IKey.Set || s.OKey.Set, "key"},
		{s.ICsum || s.OCsum, "csum"},
		{s.ISeq || s.OSeq, "seq"},
		{s.Mode != ModeDefault, "mode"},
		{s.ISATAP, "isatap"},
		{s.NoPMTUDisc, "nopmtudisc"},
		{s.IgnoreDF, "ignore-df"},
		{s.EncapLimit != 0, "encaplimit"},
		{s.FlowLabel != 0 || s.FlowInherit, "flowlabel"},
		{s.Encap != (Encap{}), "encap"},
	} {
		if o.set && !accepts(t, o.kw) {
			return notForType(t, o.kw)
		}
	}
	return nil
}

// checkMode checks the mode, and the sit tunnels without a fixed remote.
func (s Spec) checkMode() error {
	t := s.Type
	if s.Mode != ModeDefault {
		if _, ok := modeNames[s.Mode]; !ok {
			return fmt.Errorf("unknown mode %d for type %s; want one of: %s", s.Mode, t, modeNamesOf(t))
		}
		if s.Mode == defaultModes[t] {
			return fmt.Errorf("mode %s is the default of %s: leave Mode as ModeDefault", s.Mode, t)
		}
		if _, err := parseModeFor(t, s.Mode.String()); err != nil {
			return err
		}
	}
	if t != SIT {
		return nil
	}
	switch {
	case s.ISATAP && s.Remote.IsValid():
		return fmt.Errorf("\"isatap\" conflicts with \"remote %s\": ISATAP takes the remote from each inner destination; drop remote (or write remote any)", s.Remote)
	case s.ISATAP && s.Mode != ModeDefault:
		return fmt.Errorf("\"isatap\" conflicts with \"mode %s\": ISATAP carries IPv6 only; drop mode (or write mode ip6ip)", s.Mode)
	case !s.Remote.IsValid() && s.Mode != ModeDefault:
		return fmt.Errorf("\"remote any\" conflicts with \"mode %s\": 6to4 takes the remote from the inner IPv6 destination, so it needs mode ip6ip; give remote ADDR for mode %s", s.Mode, s.Mode)
	}
	return nil
}

// checkDF checks nopmtudisc and ignore-df against the TTL, as the kernel.
func (s Spec) checkDF() error {
	if s.NoPMTUDisc && s.TTL != 0 {
		return fmt.Errorf("ttl %d and nopmtudisc are incompatible; use ttl inherit with nopmtudisc, or drop nopmtudisc", s.TTL)
	}
	if s.IgnoreDF && !s.NoPMTUDisc {
		return errors.New(`"ignore-df" needs "nopmtudisc": with pmtudisc the outer DF bit is set and the kernel refuses ignore-df; add nopmtudisc (with ttl inherit)`)
	}
	return nil
}

// checkIP6 checks the flow label and the encapsulation limit.
func (s Spec) checkIP6() error {
	switch {
	case s.FlowLabel > 0xfffff:
		return fmt.Errorf("bad flowlabel 0x%x: want 0x0..0xfffff", s.FlowLabel)
	case s.FlowInherit && s.FlowLabel != 0:
		return fmt.Errorf("flowlabel 0x%05x and flowlabel inherit are both set; give one of them", s.FlowLabel)
	case s.EncapLimit == 4:
		return errors.New("encaplimit 4 is the default: leave EncapLimit 0")
	case s.EncapLimit != EncapLimitNone && s.EncapLimit != EncapLimitZero && (s.EncapLimit < 0 || s.EncapLimit > 255):
		return fmt.Errorf("bad encaplimit %d: want 1..255, 0 for the default 4, EncapLimitZero or EncapLimitNone", s.EncapLimit)
	}
	return nil
}

// checkEncap checks the FOU or GUE encapsulation.
func (s Spec) checkEncap() error {
	e := s.Encap
	switch e.Type {
	case EncapNone:
		switch {
		case e.DPort != 0:
			return fmt.Errorf("\"encap-dport %d\" needs \"encap fou\" or \"encap gue\"", e.DPort)
		case e.SPort != 0:
			return fmt.Errorf("\"encap-sport %d\" needs \"encap fou\" or \"encap gue\"", e.SPort)
		case e.Csum:
			return errors.New(`"encap-csum" needs "encap fou" or "encap gue"`)
		}
	case EncapFOU, EncapGUE:
		if e.DPort == 0 {
			return fmt.Errorf("\"encap %s\" needs \"encap-dport PORT\": the UDP port the remote end listens on (fou add port PORT)", e.Type)
		}
	default:
		return fmt.Errorf("unknown encap %s; want fou, gue or none", e.Type)
	}
	return nil
}

// Args renders s as the canonical words after `link add` that recreate
// it: ParseLinkAdd(s.Args()) == s for every valid Spec. They are valid
// words for `ip link add` as well (mtu comes before type, TOS is in hex).
func (s Spec) Args() []string {
	a := []string{"name", s.Name}
	if s.MTU != 0 {
		a = append(a, "mtu", strconv.Itoa(s.MTU))
	}
	a = append(a, "type", s.Type.String())
	a = append(a, s.ModeWords()...)
	if s.Local.IsValid() {
		a = append(a, "local", s.Local.String())
	}
	switch {
	case s.Remote.IsValid():
		a = append(a, "remote", s.Remote.String())
	case s.Type == SIT && !s.ISATAP:
		a = append(a, "remote", "any")
	}
	if s.ISATAP {
		a = append(a, "isatap")
	}
	a = append(a, s.KeyWords()...)
	a = append(a, s.CsumSeqWords()...)
	if s.TTL != s.Type.DefaultTTL() {
		ttl := "inherit"
		if s.TTL != 0 {
			ttl = strconv.Itoa(int(s.TTL))
		}
		a = append(a, s.Type.TTLWord(), ttl)
	}
	a = append(a, s.TOSWords()...)
	a = append(a, s.FlowLabelWords()...)
	a = append(a, s.EncapLimitWords()...)
	if s.Dev != "" {
		a = append(a, "dev", s.Dev)
	}
	if s.NoPMTUDisc {
		a = append(a, "nopmtudisc")
	}
	if s.IgnoreDF {
		a = append(a, "ignore-df")
	}
	return append(a, s.EncapWords()...)
}

// KeyWords renders the keys: "key K" when both directions share one.
func (s Spec) KeyWords() []string {
	if s.IKey.Set && s.OKey.Set && s.IKey.Value == s.OKey.Value {
		return []string{"key", strconv.FormatUint(uint64(s.IKey.Value), 10)}
	}
	var a []string
	if s.IKey.Set {
		a = append(a, "ikey", strconv.FormatUint(uint64(s.IKey.Value), 10))
	}
	if s.OKey.Set {
		a = append(a, "okey", strconv.FormatUint(uint64(s.OKey.Value), 10))
	}
	return a
}

// TOSWords renders the TOS setting (hex, as iproute2; tclass over IPv6);
// none for TOS 0.
func (s Spec) TOSWords() []string {
	if s.TOSInherit {
		return []string{s.Type.TOSWord(), "inherit"}
	}
	if s.TOS != 0 {
		return []string{s.Type.TOSWord(), fmt.Sprintf("0x%02x", s.TOS)}
	}
	return nil
}

// ModeWords renders a mode other than the type's default: "mode any".
func (s Spec) ModeWords() []string {
	if s.Mode == ModeDefault {
		return nil
	}
	return []string{"mode", s.Mode.String()}
}

// CsumSeqWords renders the GRE checksum and sequence flags: "csum" when
// both directions have it, else "icsum" and "ocsum"; the same for seq.
func (s Spec) CsumSeqWords() []string {
	var a []string
	for _, f := range []struct {
		both    string
		in, out bool
	}{{"csum", s.ICsum, s.OCsum}, {"seq", s.ISeq, s.OSeq}} {
		switch {
		case f.in && f.out:
			a = append(a, f.both)
		case f.in:
			a = append(a, "i"+f.both)
		case f.out:
			a = append(a, "o"+f.both)
		}
	}
	return a
}

// FlowLabelWords renders the IPv6 flow label (hex, as iproute2); none for
// flow label 0.
func (s Spec) FlowLabelWords() []string {
	switch {
	case s.FlowInherit:
		return []string{"flowlabel", "inherit"}
	case s.FlowLabel != 0:
		return []string{"flowlabel", fmt.Sprintf("0x%05x", s.FlowLabel)}
	}
	return nil
}

// EncapLimitWords renders the encapsulation limit; none for the default.
func (s Spec) EncapLimitWords() []string {
	switch s.EncapLimit {
	case 0:
		return nil
	case EncapLimitNone:
		return []string{"encaplimit", "none"}
	case EncapLimitZero:
		return []string{"encaplimit", "0"}
	}
	return []string{"encaplimit", strconv.Itoa(s.EncapLimit)}
}

// EncapWords renders the FOU or GUE encapsulation; none without one.
func (s Spec) EncapWords() []string {
	e := s.Encap
	if e.Type == EncapNone {
		return nil
	}
	a := []string{"encap", e.Type.String()}
	if e.SPort != 0 {
		a = append(a, "encap-sport", strconv.Itoa(int(e.SPort)))
	}
	a = append(a, "encap-dport", strconv.Itoa(int(e.DPort)))
	if e.Csum {
		a = append(a, "encap-csum")
	}
	return a
}

// ParseLinkDel parses the words after `link del`: NAME, name NAME or
// dev NAME.
func ParseLinkDel(args []string) (string, error) {
	return ParseDevName("link del", args, true)
}

// ParseLinkShow parses the words after `link show`: nothing (every
// tunnel), NAME, name NAME or dev NAME.
func ParseLinkShow(args []string) (string, error) {
	return ParseDevName("link show", args, false)
}

// ParseDevName parses the words after a command that takes one netdev
// name (NAME, name NAME or dev NAME); cmd names the command in errors.
// With required false, no words at all give "".
func ParseDevName(cmd string, args []string, required bool) (string, error) {
	if len(args) == 0 {
		if required {
			return "", fmt.Errorf("%s needs a name: %s NAME", cmd, cmd)
		}
		return "", nil
	}
	name, rest := args[0], args[1:]
	if name == "name" || name == "dev" {
		if len(rest) == 0 {
			return "", fmt.Errorf("%q needs a name: %s %s NAME", name, cmd, name)
		}
		name, rest = rest[0], rest[1:]
	}
	if err := checkIfname("name", name); err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("unexpected word %q after %s %s; it takes one name", rest[0], cmd, name)
	}
	return name, nil
}
