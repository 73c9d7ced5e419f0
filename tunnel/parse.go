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
const LinkAddUsage = `link add [name] NAME [mtu MTU] type gre|ipip local ADDR remote ADDR
         [key K | ikey K okey K] [ttl TTL|inherit] [tos TOS|inherit]
         [dev PHYS_DEV] [mtu MTU] [pmtudisc|nopmtudisc]
  NAME  overlay netdev name, 1..15 bytes ("dev NAME" before type also names it)
  ADDR  IPv4 address of each end of the tunnel
  K     GRE key: decimal 0..4294967295 or a dotted quad like 0.0.0.42 (gre only)
  TTL   outer TTL 1..255; inherit (or 0) copies the inner packet's
  TOS   outer TOS as hex (0x10) or inherit
  MTU   68..65535; default is the underlay MTU minus the tunnel overhead`

// maxNameLen is IFNAMSIZ-1: the longest name a netdev can have.
const maxNameLen = 15

// beforeTypeKeywords are the words link add accepts before "type".
var beforeTypeKeywords = []string{"name", "dev", "mtu", "type"}

// typeKeywords are the words each type accepts after "type TYPE", in the
// order error messages list them.
var typeKeywords = map[Type][]string{
	GRE:  {"local", "remote", "key", "ikey", "okey", "ttl", "tos", "dev", "mtu", "pmtudisc", "nopmtudisc"},
	IPIP: {"local", "remote", "ttl", "tos", "dev", "mtu", "pmtudisc", "nopmtudisc"},
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
	"external": true, "noexternal": true,
	"encap": true, "noencap": true, "encap-sport": true, "encap-dport": true,
	"encap-csum": true, "noencap-csum": true, "encap-remcsum": true, "noencap-remcsum": true,
	"csum": true, "nocsum": true, "icsum": true, "ocsum": true,
	"seq": true, "noseq": true, "iseq": true, "oseq": true,
	"ignore-df": true, "noignore-df": true, "fwmark": true, "mode": true,
	"erspan": true, "erspan_ver": true, "erspan_dir": true, "erspan_hwid": true,
	"id": true, "dstport": true, "isatap": true, "6rd-prefix": true,
	"encaplimit": true, "flowlabel": true,
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
	"gretap": true, "ip6gre": true, "ip6gretap": true, "sit": true,
	"ip6tnl": true, "vti": true, "vti6": true, "geneve": true, "vxlan": true,
	"erspan": true, "ip6erspan": true, "ip6erspan6": true,
}

// ParseLinkAdd parses the words after `link add`, following iproute2's
// grammar for `ip link add ... type gre|ipip ...`. Each error is one line
// that names the offending word and says what would be accepted.
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
	case prev == "key" || word == "key":
		return fmt.Errorf("%q conflicts with %q: key K sets both ikey and okey; give key K alone, or ikey K and okey K", word, prev)
	default:
		return fmt.Errorf("%q conflicts with %q given before; give only one of them", word, prev)
	}
}

// canonical is the keyword w stands for.
func canonical(w string) string {
	if a, ok := keywordAliases[w]; ok {
		return a
	}
	return w
}

func (p *linkAddParser) parse() error {
	if len(p.words) == 0 {
		return errors.New(`link add needs a tunnel: link add NAME type gre|ipip local ADDR remote ADDR`)
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
		return fmt.Errorf(`missing "type gre|ipip" after the name %q`, p.spec.Name)
	}
	return p.spec.Validate()
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
		v, err := p.value(w, "a tunnel type: gre or ipip")
		if err != nil {
			return err
		}
		t, ok := ParseType(v)
		if !ok {
			if laterTypes[v] {
				return fmt.Errorf("tunnel type %q is not supported yet; supported: gre ipip", v)
			}
			return fmt.Errorf("unknown tunnel type %q; supported: gre ipip", v)
		}
		p.spec.Type = t
		p.typed = true
		return nil
	}
	if _, ok := keywordAliases[w]; ok || isTypeKeyword(w) || laterKeywords[w] {
		return fmt.Errorf("%q must come after \"type gre|ipip\"", w)
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
	for _, kws := range typeKeywords {
		for _, kw := range kws {
			if kw == w && w != "dev" && w != "mtu" {
				return true
			}
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

func (p *linkAddParser) afterType(w string) error {
	kw := canonical(w)
	t := p.spec.Type
	switch kw {
	case "local", "remote":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "an address")
		if err != nil {
			return err
		}
		a, err := parseAddr(w, v)
		if err != nil {
			return err
		}
		if kw == "local" {
			p.spec.Local = a
		} else {
			p.spec.Remote = a
		}
		return nil
	case "key", "ikey", "okey":
		if t != GRE {
			return fmt.Errorf("%q is not valid for type %s: %s has no key; use type gre for a keyed tunnel", w, t, t)
		}
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
			p.spec.IKey = Key{Set: true, Value: k}
		}
		if kw != "ikey" {
			p.spec.OKey = Key{Set: true, Value: k}
		}
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
			p.spec.TTL = 0
			return nil
		}
		n, why := parseNumber(v, 255)
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 0..255 or inherit"))
		}
		p.spec.TTL = uint8(n)
		return nil
	case "tos":
		if err := p.fill(kw, w); err != nil {
			return err
		}
		v, err := p.value(w, "a value: "+w+" 0x10 or "+w+" inherit")
		if err != nil {
			return err
		}
		if v == "inherit" {
			p.spec.TOS, p.spec.TOSInherit = 0, true
			return nil
		}
		n, why := parseTOS(v)
		if why == "" && n&1 != 0 && n != 1 {
			why = fmt.Sprintf("its lowest bit means inherit to the kernel; write %s inherit, or %s 0x%02x", w, w, n&^1)
		}
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, why)
		}
		// As in the kernel, TOS 1 is how iproute2 spells inherit.
		p.spec.TOS, p.spec.TOSInherit = n&^1, n == 1
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
		p.spec.Dev = v
		return nil
	case "mtu":
		return p.mtu(w)
	case "pmtudisc", "nopmtudisc":
		if err := p.fill("pmtudisc", w); err != nil {
			return err
		}
		p.spec.NoPMTUDisc = kw == "nopmtudisc"
		return nil
	case "type":
		return fmt.Errorf("duplicate keyword %q", w)
	case "name":
		return fmt.Errorf("%q must come before \"type %s\"", w, t)
	}
	if laterKeywords[w] {
		return fmt.Errorf("keyword %q is not supported yet for %s; supported: %s", w, t, strings.Join(typeKeywords[t], " "))
	}
	return fmt.Errorf("unknown keyword %q after type %s; expected one of: %s", w, t, strings.Join(typeKeywords[t], " "))
}

// parseAddr parses the address given to keyword kw (local or remote).
func parseAddr(kw, v string) (netip.Addr, error) {
	if v == "any" {
		return netip.Addr{}, fmt.Errorf("%s %q is not supported: a point-to-point tunnel needs a unicast address for both ends", kw, v)
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		hint := "want an IPv4 address like 192.0.2.1"
		if strings.IndexFunc(v, unicode.IsLetter) >= 0 && !strings.Contains(v, ":") {
			hint += " (host names are not resolved)"
		}
		return netip.Addr{}, fmt.Errorf("bad address %q for %s; %s", v, kw, hint)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("bad address %q for %s: zones are not supported; drop %q", v, kw, "%"+a.Zone())
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

// parseTOS parses a TOS byte. iproute2 reads TOS in hex even without 0x
// ("tos 10" is 0x10), so a value whose decimal and hex readings differ
// must carry 0x: it is refused rather than read differently from iproute2.
func parseTOS(s string) (uint8, string) {
	const want = "want hex 0x00..0xff or inherit"
	digits := s
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		digits = s[2:]
	} else if len(s) > 1 && strings.Trim(s, "0123456789") == "" {
		if len(s) > 3 {
			return 0, "out of range; " + want
		}
		hex, _ := strconv.ParseUint(s, 16, 64)
		dec, _ := strconv.ParseUint(s, 10, 64)
		if hex == dec {
			return uint8(dec), ""
		}
		why := fmt.Sprintf("ambiguous: iproute2 reads TOS as hex, so %s means 0x%s", s, s)
		if hex > 255 {
			why += ", which is out of range"
		}
		if dec <= 255 {
			why += fmt.Sprintf("; write 0x%02x for decimal %d", dec, dec)
		}
		if hex <= 255 {
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
	if n > 255 {
		return 0, "out of range; " + want
	}
	return uint8(n), ""
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
func (s Spec) Validate() error {
	if err := checkIfname("name", s.Name); err != nil {
		return err
	}
	t := s.Type
	if _, ok := typeKeywords[t]; !ok {
		if t == TypeNone {
			return fmt.Errorf(`missing "type gre|ipip" for %q`, s.Name)
		}
		return fmt.Errorf("unsupported tunnel type %s; supported: gre ipip", t)
	}
	for _, e := range []struct {
		kw string
		a  netip.Addr
	}{{"local", s.Local}, {"remote", s.Remote}} {
		if !e.a.IsValid() {
			return fmt.Errorf("missing \"%s ADDR\": a point-to-point %s tunnel needs both ends", e.kw, t)
		}
	}
	if s.Local.Is4() != s.Remote.Is4() {
		return fmt.Errorf("local %s and remote %s are different address families; give two IPv4 addresses", s.Local, s.Remote)
	}
	for _, e := range []struct {
		kw string
		a  netip.Addr
	}{{"local", s.Local}, {"remote", s.Remote}} {
		a := e.a
		switch {
		case !a.Is4():
			return fmt.Errorf("IPv6 underlay is not supported yet for %s: %s %s; use IPv4 addresses", t, e.kw, a)
		case a.IsUnspecified():
			return fmt.Errorf("%s %s is unspecified; a point-to-point tunnel needs a unicast address", e.kw, a)
		case a.IsMulticast():
			return fmt.Errorf("%s %s is multicast; a point-to-point tunnel needs a unicast address", e.kw, a)
		case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
			return fmt.Errorf("%s %s is the broadcast address; a point-to-point tunnel needs a unicast address", e.kw, a)
		}
	}
	if s.Local == s.Remote {
		return fmt.Errorf("local and remote are both %s; the remote end must be another host", s.Local)
	}
	if t != GRE && (s.IKey.Set || s.OKey.Set) {
		return fmt.Errorf("\"key\" is not valid for type %s: %s has no key; use type gre for a keyed tunnel", t, t)
	}
	if s.NoPMTUDisc && s.TTL != 0 {
		return fmt.Errorf("ttl %d and nopmtudisc are incompatible; use ttl inherit with nopmtudisc, or drop nopmtudisc", s.TTL)
	}
	if s.TOS&1 != 0 {
		return fmt.Errorf("tos 0x%02x has the inherit bit set; use TOSInherit for tos inherit", s.TOS)
	}
	if s.TOSInherit && s.TOS != 0 {
		return fmt.Errorf("tos 0x%02x and tos inherit are both set; give one of them", s.TOS)
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

// Args renders s as the canonical words after `link add` that recreate
// it: ParseLinkAdd(s.Args()) == s for every valid Spec. They are valid
// words for `ip link add` as well (mtu comes before type, TOS is in hex).
func (s Spec) Args() []string {
	a := []string{"name", s.Name}
	if s.MTU != 0 {
		a = append(a, "mtu", strconv.Itoa(s.MTU))
	}
	a = append(a, "type", s.Type.String())
	if s.Local.IsValid() {
		a = append(a, "local", s.Local.String())
	}
	if s.Remote.IsValid() {
		a = append(a, "remote", s.Remote.String())
	}
	a = append(a, s.KeyWords()...)
	if s.TTL != 0 {
		a = append(a, "ttl", strconv.Itoa(int(s.TTL)))
	}
	a = append(a, s.TOSWords()...)
	if s.Dev != "" {
		a = append(a, "dev", s.Dev)
	}
	if s.NoPMTUDisc {
		a = append(a, "nopmtudisc")
	}
	return a
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

// TOSWords renders the TOS setting (hex, as iproute2); none for TOS 0.
func (s Spec) TOSWords() []string {
	if s.TOSInherit {
		return []string{"tos", "inherit"}
	}
	if s.TOS != 0 {
		return []string{"tos", fmt.Sprintf("0x%02x", s.TOS)}
	}
	return nil
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
