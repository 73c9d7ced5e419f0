package tunnel

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// LinkAddUsage is the grammar ParseLinkAdd accepts, for help output.
const LinkAddUsage = `link add [name] NAME [mtu MTU] type TYPE local ADDR remote ADDR [OPTIONS]
link add [name] NAME [mtu MTU] type gre|ip6gre|ipip|sit|ip6tnl external [local ADDR] [OPTIONS]
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
  gretap     Ethernet over GRE over IPv4: the gre options
  ip6gretap  Ethernet over GRE over IPv6: the ip6gre options
  erspan     mirrored Ethernet over GRE and ERSPAN over IPv4:
             key SESSION [seq | iseq] [erspan_ver 1 [erspan IDX]]
             [erspan_ver 2 [erspan_dir ingress|egress] [erspan_hwid HWID]]
             [ttl TTL] [tos TOS] [pmtudisc | nopmtudisc]
  ip6erspan  the same over IPv6, with [hoplimit TTL] [tclass TOS]
             [flowlabel FL] [encaplimit ELIM] rather than pmtudisc
  vxlan   Ethernet over VXLAN over UDP: id VNI [remote ADDR] [local ADDR]
          [dstport PORT] [srcport MIN MAX] [ttl TTL] [tos TOS]
          [df set|unset|inherit] [flowlabel FL] [udpcsum | noudpcsum]
          [udp6zerocsumtx | noudp6zerocsumtx]
          [udp6zerocsumrx | noudp6zerocsumrx]
          [learning | nolearning] [ageing SECONDS]
  geneve  Ethernet over Geneve over UDP: id VNI remote ADDR|any [local ADDR]
          and the vxlan options but srcport, [innerprotoinherit]
          [opt CLASS:TYPE:DATA]... (also geneve_opts OPT[,OPT...])
  every type: [dev PHYS_DEV] [mtu MTU]
  external  gre, ip6gre, ipip, sit and ip6tnl: one netdev for many peers
          (the kernel's collect_md). No remote and no key: each peer is a
          route, with its remote and key: xtunnel route add PREFIX encap
          ip|ip6 [id KEY] dst ADDR dev NAME (see: xtunnel route help).
          local is optional: without it the outer source is the one the
          route to each peer picks. noexternal, the default: one peer
  ENCAP  encap fou|gue encap-dport PORT [encap-sport auto|PORT]
         [encap-csum | noencap-csum]   (encap none or noencap: plain)
  NAME  overlay netdev name, 1..15 bytes ("dev NAME" before type also names it)
  ADDR  IPv4 address for gre, ipip, sit, gretap and erspan; IPv6 for ip6tnl,
        ip6gre, ip6gretap and ip6erspan; either for vxlan and geneve, both
        ends of one family. vxlan and geneve take local alone: remote any
        (vxlan: no remote) is FDB mode, whose peers come from fdb add;
        there local ADDR is required. learning and ageing are FDB mode only
  K     GRE key: decimal 0..4294967295 or a dotted quad like 0.0.0.42
  TTL   1..255; inherit (or 0) copies the inner packet's; ttl and hoplimit
        are the same word. Default: inherit; 64 over IPv6 and for vxlan
        and geneve, where auto and 0 mean 64
  TOS   hex (0x10) or inherit; tos and tclass are the same word
  FL    IPv6 flow label, hex 0x0..0xfffff, or inherit; default 0
  ELIM  tunnel encapsulation limit (RFC 2473) 0..255, or none; default 4
  PORT  UDP port 1..65535; encap-sport auto (the default) hashes the flow;
        dstport defaults to 4789 (vxlan) and 6081 (geneve), srcport to
        32768 60999
  VNI   VXLAN or Geneve network identifier 0..16777215 (vni is the same word)
  SESSION  ERSPAN session ID 0..1023; IDX 0..1048575; HWID 0..63;
        erspan_ver defaults to 1
  CLASS:TYPE:DATA  Geneve option in hex: class 0..ffff, type 0..ff (80 and
        up critical), data a multiple of 4 bytes; 64 bytes of options at most
  MTU   68..65535; default is the underlay MTU minus the tunnel overhead`

// maxNameLen is IFNAMSIZ-1: the longest name a netdev can have.
const maxNameLen = 15

// typeOrder is the supported types in the order messages list them.
var typeOrder = []Type{GRE, IPIP, SIT, IP6TNL, IP6GRE, GRETAP, IP6GRETAP, GENEVE, VXLAN, ERSPAN, IP6ERSPAN}

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
	externalWords   = []string{"external", "noexternal"}
)

func words(groups ...[]string) []string {
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// The words of gre and ip6gre, which gretap and ip6gretap take too.
var (
	greKeywords = words([]string{"local", "remote"}, keyKeywords, csumSeqKeywords,
		[]string{"ttl", "tos", "dev", "mtu"}, dfKeywords, encapKeywords)
	ip6greKeywords = words([]string{"local", "remote"}, keyKeywords, csumSeqKeywords, ip6Keywords,
		[]string{"dev", "mtu"}, encapKeywords)
)

// typeKeywords are the words each type accepts after "type TYPE", in the
// order error messages list them. Aliases (keywordAliases) are accepted
// wherever the keyword they stand for is.
var typeKeywords = map[Type][]string{
	GRE:       words(greKeywords, externalWords),
	GRETAP:    greKeywords,
	IP6GRE:    words(ip6greKeywords, externalWords),
	IP6GRETAP: ip6greKeywords,
	IPIP:      words([]string{"local", "remote", "mode", "ttl", "tos", "dev", "mtu"}, dfKeywords, encapKeywords, externalWords),
	SIT: words([]string{"local", "remote", "mode", "isatap", "ttl", "tos", "dev", "mtu"},
		dfKeywords, encapKeywords, externalWords),
	IP6TNL:    words([]string{"local", "remote", "mode"}, ip6Keywords, []string{"dev", "mtu"}, encapKeywords, externalWords),
	ERSPAN:    words([]string{"local", "remote"}, erspanKeywords, []string{"ttl", "tos", "dev", "mtu", "pmtudisc", "nopmtudisc"}),
	IP6ERSPAN: words([]string{"local", "remote"}, erspanKeywords, ip6Keywords, []string{"dev", "mtu"}),
	GENEVE: words(udpKeywords, udpOptKeywords, []string{"innerprotoinherit", "opt", "geneve_opts"}, learnKeywords,
		[]string{"dev", "mtu"}),
	VXLAN: words(udpKeywords, []string{"srcport"}, udpOptKeywords, learnKeywords, []string{"dev", "mtu"}),
}

// keywordAliases maps iproute2's alternative spellings to the keyword
// they stand for.
var keywordAliases = map[string]string{
	"hoplimit": "ttl",
	"hlim":     "ttl",
	"dsfield":  "tos",
	"tclass":   "tos",
	"vni":      "id",        // geneve, vxlan
	"label":    "flowlabel", // geneve, vxlan
	"port":     "srcport",   // vxlan
}

// laterKeywords are iproute2 tunnel keywords xtunnel will accept in a
// later version; naming them gets a "not supported yet" error rather than
// "unknown keyword".
var laterKeywords = map[string]bool{
	"encap-remcsum": true, "noencap-remcsum": true,
	"encap-udp6-csum": true, "noencap-udp6-csum": true, "fwmark": true,
	"6rd-prefix": true, "6rd-relay_prefix": true, "6rd-reset": true,
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

// laterTypes are kernel tunnel types xtunnel will support.
var laterTypes = map[string]bool{"vti": true, "vti6": true}

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

// ParseLinkAdd parses the words after `link add`, following iproute2's
// grammar for `ip link add ... type TYPE ...` for each type of LinkAddUsage.
// Each error is one line that names the offending word and says what
// would be accepted. The Spec it returns is canonical: a mode that is the
// type's default is ModeDefault, encaplimit 4 is EncapLimit 0, a tunnel
// without ttl gets DefaultTTL (64 over IPv6 and for vxlan and geneve),
// vxlan and geneve get their default dstport (and ageing 300 when they
// learn), and erspan gets erspan_ver 1 and its GRE sequence numbers.
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
	if _, ok := p.seen["remote"]; !ok && s.Type == SIT && !s.ISATAP && !s.External {
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
	if err := p.finishEthernet(); err != nil {
		return err
	}
	if err := p.finishExternal(); err != nil {
		return err
	}
	return s.Validate()
}

// finishExternal refuses the words an external tunnel takes from its
// routes, naming them as given.
func (p *linkAddParser) finishExternal() error {
	s := &p.spec
	if !s.External {
		return nil
	}
	ext := p.seen["external"]
	if w, ok := p.seen["remote"]; ok {
		return fmt.Errorf("%q conflicts with %q: %s", w, ext, externalRemoteHint(*s))
	}
	for _, slot := range []string{"ikey", "okey"} {
		if w, ok := p.seen[slot]; ok {
			return fmt.Errorf("%q conflicts with %q: %s", w, ext, externalKeyHint(*s))
		}
	}
	if w, ok := p.seen["isatap"]; ok {
		return fmt.Errorf("%q conflicts with %q: %s", w, ext, externalISATAPHint)
	}
	return nil
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
	why := "it is for type " + joinAnd(others)
	switch kw := canonical(w); kw {
	case "key", "ikey", "okey":
		switch {
		case t.isUDP():
			why = fmt.Sprintf("%s has no GRE key; its tunnel ID is id VNI", t)
		case t.isERSPAN():
			why = fmt.Sprintf("%s takes one session ID for both directions: key K, 0..1023", t)
		default:
			keyed := "gre"
			if t.Outer6() {
				keyed = "ip6gre"
			}
			why = fmt.Sprintf("%s has no key; use type %s for a keyed tunnel", t, keyed)
		}
	case "csum", "nocsum", "icsum", "ocsum":
		why = fmt.Sprintf("only %s carry a GRE checksum", joinAnd(others))
		switch {
		case t.isUDP():
			why += "; for a UDP checksum use udpcsum (IPv4) or udp6zerocsumtx (IPv6)"
		case accepts(t, "encap-csum") && !t.Outer6():
			why += "; for a UDP checksum use encap fou|gue with encap-csum"
		}
	case "seq", "noseq", "iseq", "oseq":
		why = fmt.Sprintf("only %s carry GRE sequence numbers", joinAnd(others))
	case "mode":
		why = fmt.Sprintf("%s carries IPv4 and IPv6 inner and has no mode", t)
		if t != GRE && t != IP6GRE {
			why = fmt.Sprintf("%s carries Ethernet frames and has no mode", t)
		}
		if t == GENEVE {
			why += "; for IPv4 and IPv6 without an Ethernet header use innerprotoinherit"
		}
	case "isatap":
		why = "only sit does ISATAP"
	case "external", "noexternal":
		switch {
		case t.isERSPAN():
			why = fmt.Sprintf("an %s tunnel mirrors to one collector; make one link per collector", t)
		default:
			why = fmt.Sprintf("%s carries Ethernet frames; for one netdev with many Ethernet peers use vxlan or geneve with remote any (FDB mode)", t)
		}
	case "encaplimit":
		why = fmt.Sprintf("the tunnel encapsulation limit is an IPv6 option, for %s only", joinAnd(others))
	case "flowlabel":
		var six []string
		for _, o := range typeOrder {
			if o.Outer6() && accepts(o, w) {
				six = append(six, o.String())
			}
		}
		why = fmt.Sprintf("the flow label is in the IPv6 header: it is for %s, and for geneve and vxlan over IPv6", joinAnd(six))
	case "pmtudisc", "nopmtudisc", "ignore-df", "noignore-df":
		switch {
		case t.isUDP():
			why = fmt.Sprintf("%s sets the outer DF bit with df set|unset|inherit", t)
		case t.Outer6():
			why = fmt.Sprintf("an IPv6 outer header has no DF bit, and iproute2 has no %s for %s", w, t)
		}
	case "df":
		if accepts(t, "pmtudisc") {
			why += fmt.Sprintf("; %s sets the outer DF bit with pmtudisc or nopmtudisc", t)
		}
	case "encap", "noencap", "encap-sport", "encap-dport", "encap-csum", "noencap-csum":
		if t.isUDP() {
			why = fmt.Sprintf("%s is a UDP tunnel already; its port is dstport PORT", t)
		}
	case "id":
		if accepts(t, "key") && !t.isERSPAN() {
			why += fmt.Sprintf("; the GRE key of %s is key K", t)
		}
	}
	return fmt.Errorf("%q is not valid for type %s: %s", w, t, why)
}

// joinAnd lists names as "a", "a and b" or "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
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
	if t.isERSPAN() && (w == "noseq" || w == "nooseq") {
		return fmt.Errorf("%q is not valid for type %s: ERSPAN requires GRE sequence numbers; %s always sends them (seq or iseq also checks them on receive)", w, t, t)
	}
	if !accepts(t, w) {
		if err := unsupportedFor(t, w); err != nil {
			return err
		}
		if err := notForType(t, w); err != nil {
			return err
		}
		if laterKeywords[w] {
			return fmt.Errorf("keyword %q is not supported yet for %s; supported: %s", w, t, strings.Join(typeKeywords[t], " "))
		}
		return fmt.Errorf("unknown keyword %q after type %s; expected one of: %s", w, t, strings.Join(typeKeywords[t], " "))
	}
	if handled, err := p.ethernetWord(kw, w); handled {
		return err
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
		if v == "any" && kw == "remote" && (t == SIT || t.isUDP()) {
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
		if t.isERSPAN() {
			return p.sessionID(w)
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
	case "external", "noexternal":
		return p.flag("external", w, &s.External)
	case "ttl":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		if t.isUDP() {
			return p.udpTTL(w)
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
			return netip.Addr{}, fmt.Errorf("remote %q is not valid for type %s: only sit (6to4, ISATAP), geneve and vxlan (FDB mode) take remote any; a point-to-point tunnel needs a unicast address for both ends", v, t)
		}
		return netip.Addr{}, fmt.Errorf("%s %q is not supported: a tunnel needs a unicast address for its own end", kw, v)
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		hint := "want an IPv4 address like 192.0.2.1"
		switch {
		case t.isUDP():
			hint = "want an IPv4 or IPv6 address like 192.0.2.1 or 2001:db8::1"
		case t.Outer6():
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
