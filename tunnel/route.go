package tunnel

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RouteUsage is the grammar of the route commands, for help output.
const RouteUsage = `route add PREFIX dev NAME
route add PREFIX encap ip [id KEY] dst ADDR [src ADDR] [ttl TTL] [tos TOS] dev NAME
route add PREFIX encap ip6 [id KEY] dst ADDR [src ADDR] [hoplimit TTL] [tclass TOS] dev NAME
route del PREFIX [dev NAME]
route show [dev NAME]
  PREFIX  the inner destination, IPv4 or IPv6: 10.1.0.0/16, 2001:db8:1::/48;
          an address alone is a host route (/32, /128); default is
          0.0.0.0/0, and ::/0 the IPv6 default. Host bits must be clear.
          "to PREFIX" is the same. One route per prefix
  NAME    without encap: a point-to-point xtunnel link, whose remote gets
          the traffic; with encap: an external link (link add NAME type
          gre|ip6gre|ipip|sit|ip6tnl external), of which the route is one
          peer
  encap ip   the peer is over IPv4 (gre, ipip and sit external links);
  encap ip6  over IPv6 (ip6gre and ip6tnl external links). As with ip
          route, the encap words follow encap, before dev:
    id KEY    the GRE key to and from this peer (gre and ip6gre links):
              0..4294967295 or a dotted quad like 0.0.0.42; without id, no
              key. ip route's key flag is accepted: alone, it is id 0
    dst ADDR  the peer's underlay address (required)
    src ADDR  the outer source; default: the link's local, else the source
              of the route to the peer
    ttl TTL   outer TTL 1..255 (hoplimit is the same word); inherit or 0:
              the link's ttl, the default
    tos TOS   outer TOS in hex, like 0x10 (tclass is the same word);
              default: the link's
  route del finds the route by its prefix (and dev, if given).`

// Route is one entry of xtunnel's route table: an inner destination
// prefix into a point-to-point tunnel (Encap nil), or to one peer of an
// external tunnel, as `route add` describes it.
type Route struct {
	Prefix netip.Prefix `json:"prefix"` // masked; IPv4 is never IPv4-mapped
	Dev    string       `json:"dev"`    // the xtunnel link; "" only from ParseRouteDel
	Encap  *RouteEncap  `json:"encap,omitempty"`
}

// RouteEncap is the peer of a route into an external tunnel: `encap ip`
// or `encap ip6` and its words.
type RouteEncap struct {
	IPv6   bool       `json:"ipv6"` // encap ip6: an IPv6 underlay
	KeySet bool       `json:"key_set"`
	Key    uint32     `json:"key"` // id KEY; 0 without it
	Dst    netip.Addr `json:"dst"` // the peer's underlay address
	Src    netip.Addr `json:"src"` // optional outer source
	TTL    uint8      `json:"ttl"` // 0: the link's (inherit unless link add set ttl)
	TOS    uint8      `json:"tos"` // 0: the link's; never with the lowest (inherit) bit
}

// String is r as `route show` prints it:
// "10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre".
func (r Route) String() string { return strings.Join(r.Args(), " ") }

// Args renders r as the canonical words after `route add` that recreate
// it: ParseRouteAdd(r.Args()) is r for every valid Route (and
// ParseRouteDel for one without Encap).
func (r Route) Args() []string {
	a := make([]string, 0, 16)
	a = append(a, prefixWord(r.Prefix))
	if e := r.Encap; e != nil {
		a = append(a, "encap", e.family())
		if e.KeySet {
			a = append(a, "id", strconv.FormatUint(uint64(e.Key), 10))
		}
		a = append(a, "dst", e.Dst.String())
		if e.Src.IsValid() {
			a = append(a, "src", e.Src.String())
		}
		if e.TTL != 0 {
			a = append(a, e.ttlWord(), strconv.Itoa(int(e.TTL)))
		}
		if e.TOS != 0 {
			a = append(a, e.tosWord(), fmt.Sprintf("0x%02x", e.TOS))
		}
	}
	if r.Dev != "" {
		a = append(a, "dev", r.Dev)
	}
	return a
}

// prefixWord is p as ip route prints it: "default" for 0.0.0.0/0, a host
// route without its length.
func prefixWord(p netip.Prefix) string {
	switch {
	case !p.IsValid():
		return "invalid"
	case p.Addr().Is4() && p.Bits() == 0:
		return "default"
	case p.IsSingleIP():
		return p.Addr().String()
	}
	return p.String()
}

func (e *RouteEncap) family() string {
	if e.IPv6 {
		return "ip6"
	}
	return "ip"
}

func (e *RouteEncap) ttlWord() string {
	if e.IPv6 {
		return "hoplimit"
	}
	return "ttl"
}

func (e *RouteEncap) tosWord() string {
	if e.IPv6 {
		return "tclass"
	}
	return "tos"
}

// Validate checks a Route built in code, as ParseRouteAdd does.
func (r Route) Validate() error {
	if err := checkRoutePrefix(r.Prefix.String(), r.Prefix); err != nil {
		return err
	}
	if err := checkIfname("dev", r.Dev); err != nil {
		return err
	}
	e := r.Encap
	if e == nil {
		return nil
	}
	if !e.Dst.IsValid() {
		return fmt.Errorf("missing \"dst ADDR\" after encap %s: the peer's underlay address", e.family())
	}
	if err := e.checkAddr("dst", e.Dst.String(), e.Dst); err != nil {
		return err
	}
	if e.Src.IsValid() {
		if err := e.checkAddr("src", e.Src.String(), e.Src); err != nil {
			return err
		}
	}
	switch {
	case !e.KeySet && e.Key != 0:
		return fmt.Errorf("key %d without KeySet: set KeySet for id %d, or leave Key 0", e.Key, e.Key)
	case e.TOS&1 != 0:
		return fmt.Errorf("bad %s 0x%02x: the lowest bit means inherit to the kernel; want 0x%02x", e.tosWord(), e.TOS, e.TOS&^1)
	}
	return nil
}

// ParseRouteAdd parses the words after `route add`, in ip route's
// lightweight-tunnel grammar (RouteUsage). Each error is one line that
// names the offending word and says what would be accepted.
func ParseRouteAdd(args []string) (Route, error) {
	if len(args) == 0 {
		return Route{}, errors.New("route add needs a route: route add PREFIX dev NAME, or route add PREFIX encap ip dst ADDR dev NAME")
	}
	p := routeParser{cmd: "route add", words: args, adding: true}
	return p.parse()
}

// ParseRouteDel parses the words after `route del`: PREFIX and,
// optionally, dev NAME. The Route it returns has no Encap.
func ParseRouteDel(args []string) (Route, error) {
	if len(args) == 0 {
		return Route{}, errors.New("route del needs a prefix: route del PREFIX [dev NAME]")
	}
	p := routeParser{cmd: "route del", words: args}
	return p.parse()
}

// ParseRouteShow parses the words after `route show`: nothing (every
// route), or dev NAME (or NAME).
func ParseRouteShow(args []string) (string, error) {
	return ParseDevName("route show", args, false)
}

// routeUnsupported are ip route words xtunnel's routes do not take, with
// the reason.
var routeUnsupported = map[string]string{
	"via":         "the next hop is the link's remote, or the peer given with encap ip|ip6 dst ADDR",
	"nexthop":     "a route has one tunnel: no multipath",
	"nhid":        "a route has one tunnel: no nexthop objects",
	"metric":      "there is one route per prefix",
	"preference":  "there is one route per prefix",
	"priority":    "there is one route per prefix",
	"table":       "xtunnel has one route table",
	"vrf":         "xtunnel has one route table",
	"proto":       "routes have no protocol here",
	"protocol":    "routes have no protocol here",
	"scope":       "routes have no scope here",
	"realm":       "routes have no realms here",
	"realms":      "routes have no realms here",
	"mtu":         "the link's MTU applies (ip link set NAME mtu N)",
	"advmss":      "TCP metrics are not kept",
	"window":      "TCP metrics are not kept",
	"rtt":         "TCP metrics are not kept",
	"initcwnd":    "TCP metrics are not kept",
	"initrwnd":    "TCP metrics are not kept",
	"congctl":     "TCP metrics are not kept",
	"onlink":      "the peer is reached by the underlay's own route to it",
	"from":        "routes match the destination only",
	"expires":     "routes stay until route del",
	"pref":        "router preference is for IPv6 router advertisements",
	"src":         "outside encap ip|ip6, src is ip route's preferred source, which xtunnel has not; for the outer source write src ADDR right after encap ip|ip6",
	"tos":         "outside encap ip|ip6, tos is ip route's TOS selector, which xtunnel has not; for the outer TOS write tos TOS right after encap ip|ip6",
	"dsfield":     "outside encap ip|ip6, dsfield is ip route's TOS selector, which xtunnel has not; for the outer TOS write tos TOS right after encap ip|ip6",
	"unicast":     "every xtunnel route is a unicast route into a tunnel",
	"blackhole":   "every xtunnel route is a unicast route into a tunnel",
	"unreachable": "every xtunnel route is a unicast route into a tunnel",
	"prohibit":    "every xtunnel route is a unicast route into a tunnel",
	"throw":       "every xtunnel route is a unicast route into a tunnel",
	"local":       "every xtunnel route is a unicast route into a tunnel",
	"broadcast":   "every xtunnel route is a unicast route into a tunnel",
	"multicast":   "every xtunnel route is a unicast route into a tunnel",
	"anycast":     "every xtunnel route is a unicast route into a tunnel",
	"nat":         "every xtunnel route is a unicast route into a tunnel",
}

// encapWords are the words of encap ip and encap ip6, with their aliases:
// each maps to the keyword it stands for.
var encapWords = map[string]string{
	"id": "id", "dst": "dst", "src": "src",
	"ttl": "ttl", "hoplimit": "ttl", "hlim": "ttl",
	"tos": "tos", "tclass": "tos", "tc": "tos", "dsfield": "tos",
	"key": "key", "csum": "csum", "seq": "seq",
}

// encapWordSlots are the keywords encapWords stand for, each filled once.
var encapWordSlots = [...]string{"id", "dst", "src", "ttl", "tos", "key"}

// encapTypes are ip route's other lightweight tunnel encapsulations.
var encapTypes = map[string]bool{
	"mpls": true, "seg6": true, "seg6local": true, "bpf": true, "ila": true,
	"ioam6": true, "xfrm": true, "rpl": true,
}

type routeParser struct {
	cmd    string // "route add" or "route del", for messages
	words  []string
	pos    int
	adding bool
	r      Route
	encap  RouteEncap
	// seen holds the keywords given so far (encap words by what they
	// stand for) and the words that gave them, for duplicate messages:
	// an array, which keeps the parser off the heap.
	seen  [len(encapWordSlots) + 4][2]string
	nseen int
	// inEncap is true while the words after encap ip|ip6 are read.
	inEncap bool
}

func (p *routeParser) once(slot, w string) error {
	if prev, ok := p.given(slot); ok {
		if prev == w {
			return fmt.Errorf("duplicate keyword %q", w)
		}
		return fmt.Errorf("duplicate keyword %q (same as %q)", w, prev)
	}
	p.seen[p.nseen] = [2]string{slot, w}
	p.nseen++
	return nil
}

func (p *routeParser) given(slot string) (string, bool) {
	for _, s := range p.seen[:p.nseen] {
		if s[0] == slot {
			return s[1], true
		}
	}
	return "", false
}

// value takes the word after keyword w; what describes it for the
// error, with % standing for w.
func (p *routeParser) value(w, what string) (string, error) {
	if p.pos >= len(p.words) {
		return "", fmt.Errorf("%q needs %s", w, strings.ReplaceAll(what, "%", w))
	}
	v := p.words[p.pos]
	p.pos++
	return v, nil
}

func (p *routeParser) parse() (Route, error) {
	for p.pos < len(p.words) {
		w := p.words[p.pos]
		p.pos++
		if p.inEncap {
			if _, ok := encapWords[w]; ok {
				if err := p.encapWord(w); err != nil {
					return Route{}, err
				}
				continue
			}
			if err := p.closeEncap(); err != nil {
				return Route{}, err
			}
		}
		if err := p.word(w); err != nil {
			return Route{}, err
		}
	}
	if p.inEncap {
		if err := p.closeEncap(); err != nil {
			return Route{}, err
		}
	}
	if !p.r.Prefix.IsValid() {
		return Route{}, fmt.Errorf("missing PREFIX: %s PREFIX ..., like 10.1.0.0/16, 2001:db8::/32 or default", p.cmd)
	}
	if p.adding && p.r.Dev == "" {
		return Route{}, fmt.Errorf("missing \"dev NAME\": %s %s ... dev NAME names the xtunnel link", p.cmd, prefixWord(p.r.Prefix))
	}
	return p.r, nil
}

// word parses one word outside the encap words.
func (p *routeParser) word(w string) error {
	switch w {
	case "dev":
		if err := p.once("dev", w); err != nil {
			return err
		}
		v, err := p.value(w, "the xtunnel link: dev NAME")
		if err != nil {
			return err
		}
		if err := checkIfname("dev", v); err != nil {
			return err
		}
		p.r.Dev = v
		return nil
	case "to":
		v, err := p.value(w, "a prefix: to PREFIX")
		if err != nil {
			return err
		}
		return p.prefix(v)
	case "encap":
		if !p.adding {
			return p.notNeeded(w)
		}
		if err := p.once("encap", w); err != nil {
			return err
		}
		v, err := p.value(w, "a type: encap ip or encap ip6")
		if err != nil {
			return err
		}
		switch {
		case v == "ip" || v == "ip6":
			p.encap = RouteEncap{IPv6: v == "ip6"}
			p.inEncap = true
			return nil
		case encapTypes[v]:
			return fmt.Errorf("encap %s is not supported: xtunnel routes encapsulate with encap ip (an IPv4 underlay) or encap ip6 (IPv6)", v)
		}
		return fmt.Errorf("bad encap %q: want ip (an IPv4 underlay) or ip6 (IPv6)", v)
	}
	if kw, ok := encapWords[w]; ok {
		switch {
		case !p.adding:
			return p.notNeeded(w)
		case kw == "csum" || kw == "seq":
			return linkFlagError(w)
		case p.r.Encap != nil:
			return fmt.Errorf("%q must come with the encap words, right after \"encap %s\" (ip route reads the words after them as its own): route add PREFIX encap %s ... %s ... dev NAME",
				w, p.r.Encap.family(), p.r.Encap.family(), w)
		case kw == "src" || kw == "tos":
			// ip route's own src and tos: routeUnsupported says why.
		default:
			return fmt.Errorf("%q needs \"encap ip\" or \"encap ip6\" before it: route add PREFIX encap ip [id KEY] dst ADDR dev NAME", w)
		}
	}
	if why, ok := routeUnsupported[w]; ok {
		return fmt.Errorf("keyword %q is not supported by xtunnel %s: %s", w, p.cmd, why)
	}
	if _, ok := p.given("prefix"); !ok && looksLikePrefix(w) {
		return p.prefix(w)
	}
	if prev, ok := p.given("prefix"); ok {
		if looksLikePrefix(w) {
			return fmt.Errorf("%q is a second prefix: the prefix is already %s; a route has one", w, prev)
		}
		return fmt.Errorf("unknown keyword %q for %s (the prefix is %s); expected one of: %s", w, p.cmd, prev, p.keywords())
	}
	return fmt.Errorf("unknown keyword %q for %s; expected PREFIX (like 10.1.0.0/16 or default) or one of: %s", w, p.cmd, p.keywords())
}

func (p *routeParser) keywords() string {
	if p.adding {
		return "to encap dev"
	}
	return "to dev"
}

// notNeeded is the error for an encap word given to route del.
func (p *routeParser) notNeeded(w string) error {
	return fmt.Errorf("%q is not needed by %s: a route is named by its prefix (and dev); write %s PREFIX [dev NAME]", w, p.cmd, p.cmd)
}

// looksLikePrefix reports whether w is meant as a prefix rather than a
// keyword: default, or an address with or without a length.
func looksLikePrefix(w string) bool {
	return w == "default" || w == "all" || w == "any" || strings.ContainsAny(w, ".:/") || strings.Trim(w, "0123456789") == ""
}

func (p *routeParser) prefix(v string) error {
	if prev, ok := p.given("prefix"); ok {
		return fmt.Errorf("%q is a second prefix: the prefix is already %s; a route has one", v, prev)
	}
	pfx, err := ParseRoutePrefix(v)
	if err != nil {
		return err
	}
	p.seen[p.nseen] = [2]string{"prefix", v}
	p.nseen++
	p.r.Prefix = pfx
	return nil
}

// ParseRoutePrefix parses a route's PREFIX: an IPv4 or IPv6 prefix with
// its host bits clear, an address alone (a host route), or default
// (0.0.0.0/0; ::/0 is the IPv6 default).
func ParseRoutePrefix(v string) (netip.Prefix, error) {
	if v == "default" {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	want := "want an IPv4 or IPv6 prefix like 10.1.0.0/16 or 2001:db8::/32, an address alone, or default"
	addrPart, bitsPart, hasBits := strings.Cut(v, "/")
	a, err := netip.ParseAddr(addrPart)
	if err != nil {
		if v == "all" || v == "any" {
			return netip.Prefix{}, fmt.Errorf("bad prefix %q: %s (0.0.0.0/0; ::/0 for IPv6)", v, want)
		}
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: %s", v, want)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: zones are not supported; drop %q", v, "%"+a.Zone())
	}
	if a.Is4In6() {
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: it is IPv4-mapped; write the IPv4 prefix, like %s", v, a.Unmap())
	}
	if !hasBits {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	bits, why := parseNumber(bitsPart, uint64(a.BitLen()))
	if why != "" || strings.HasPrefix(bitsPart, "0x") {
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: the length %q is not 0..%d", v, bitsPart, a.BitLen())
	}
	pfx := netip.PrefixFrom(a, int(bits))
	if err := checkRoutePrefix(v, pfx); err != nil {
		return netip.Prefix{}, err
	}
	return pfx, nil
}

// checkRoutePrefix refuses a prefix with host bits set, as ip route does
// ("Invalid prefix for given prefix length"), saying which.
func checkRoutePrefix(v string, p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("bad prefix %q: want an IPv4 or IPv6 prefix like 10.1.0.0/16", v)
	}
	a := p.Addr()
	switch {
	case a.Zone() != "":
		return fmt.Errorf("bad prefix %q: zones are not supported", v)
	case a.Is4In6():
		return fmt.Errorf("bad prefix %q: it is IPv4-mapped; write the IPv4 prefix", v)
	}
	m := p.Masked()
	if m.Addr() == a {
		return nil
	}
	// The host bits as an address of their own: a XOR its masked self.
	x, y := a.As16(), m.Addr().As16()
	for i := range x {
		x[i] ^= y[i]
	}
	host := netip.AddrFrom16(x)
	if a.Is4() {
		host = netip.AddrFrom4([4]byte(x[12:]))
	}
	return fmt.Errorf("bad prefix %q: invalid prefix for given prefix length: host bits %s are set; write %s", v, host, m)
}

// encapWord parses one word after encap ip|ip6.
func (p *routeParser) encapWord(w string) error {
	kw := encapWords[w]
	e := &p.encap
	fam := e.family()
	switch kw {
	case "csum", "seq":
		return linkFlagError(w)
	case "key":
		// ip route's flag that sends id as the GRE key: here id does.
		if err := p.once("key", w); err != nil {
			return err
		}
		e.KeySet = true
		return nil
	}
	if err := p.once(kw, w); err != nil {
		return err
	}
	switch kw {
	case "id":
		v, err := p.value(w, "a value: id KEY, KEY decimal 0..4294967295 or a dotted quad like 0.0.0.42")
		if err != nil {
			return err
		}
		k, why := parseKey(v)
		if why != "" {
			return fmt.Errorf("bad id %q: %s", v, withWant(why, "want 0..4294967295 or a dotted quad like 0.0.0.42"))
		}
		e.KeySet, e.Key = true, k
	case "dst", "src":
		what := "the peer's underlay address: dst ADDR"
		if kw == "src" {
			what = "the outer source address: src ADDR"
		}
		v, err := p.value(w, what)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fmt.Errorf("bad %s %q: want an %s address like %s", w, v, e.addrFamily(), e.example())
		}
		if err := e.checkAddr(w, v, a); err != nil {
			return err
		}
		if kw == "dst" {
			e.Dst = a
		} else {
			e.Src = a
		}
	case "ttl":
		v, err := p.value(w, "a value: % 1..255 or % inherit")
		if err != nil {
			return err
		}
		if v == "inherit" {
			e.TTL = 0
			return nil
		}
		n, why := parseNumber(v, 255)
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 1..255, or inherit (the link's ttl)"))
		}
		e.TTL = uint8(n)
	case "tos":
		v, err := p.value(w, "a value: % 0x10, in hex")
		if err != nil {
			return err
		}
		if v == "inherit" {
			return fmt.Errorf("bad %s %q: a route's outer %s is a value; for %s inherit set it on the link (link add ... %s inherit) and leave it out here",
				w, v, e.tosWord(), e.tosWord(), e.tosWord())
		}
		n, why := parseTOS(v)
		if why == "" && n&1 != 0 {
			why = fmt.Sprintf("its lowest bit means inherit to the kernel; write %s 0x%02x", w, n&^1)
		}
		if why != "" {
			return fmt.Errorf("bad %s %q: %s", w, v, strings.ReplaceAll(why, " or inherit", ""))
		}
		e.TOS = n
	default:
		return fmt.Errorf("internal error: encap %s word %q has no parser", fam, w)
	}
	return nil
}

// linkFlagError is the error for ip route's csum and seq flags: here
// they belong to the link.
func linkFlagError(w string) error {
	what := map[string]string{"csum": "checksums", "seq": "sequence numbers"}[w]
	return fmt.Errorf("%q is not a route word in xtunnel: GRE %s are set on the link, for every peer (link add NAME type gre|ip6gre external %s)", w, what, w)
}

// closeEncap ends the encap words: dst is required.
func (p *routeParser) closeEncap() error {
	p.inEncap = false
	e := p.encap
	if !e.Dst.IsValid() {
		return fmt.Errorf("missing \"dst ADDR\" after encap %s: the peer's underlay address, like %s", e.family(), e.example())
	}
	p.r.Encap = &e
	return nil
}

func (e *RouteEncap) addrFamily() string {
	if e.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

func (e *RouteEncap) example() string {
	if e.IPv6 {
		return "2001:db8::7"
	}
	return "198.51.100.7"
}

// checkAddr checks dst or src (kw, as given: v) against the encap's
// family: a unicast address without zone.
func (e *RouteEncap) checkAddr(kw, v string, a netip.Addr) error {
	var why string
	switch {
	case a.Is4In6() && e.IPv6:
		why = fmt.Sprintf("it is IPv4-mapped; for an IPv4 peer write encap ip and %s %s", kw, a.Unmap())
	case a.Is4In6():
		why = "it is IPv4-mapped; write " + a.Unmap().String()
	case a.Is4() && e.IPv6:
		why = "encap ip6 is an IPv6 underlay; for an IPv4 peer write encap ip"
	case a.Is6() && !e.IPv6:
		why = "encap ip is an IPv4 underlay; for an IPv6 peer write encap ip6"
	case a.Zone() != "":
		why = "zones are not supported"
	case a.IsUnspecified():
		why = "it is unspecified; want a unicast address"
	case a.IsMulticast():
		why = "it is multicast; want a unicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		why = "it is the broadcast address; want a unicast address"
	default:
		return nil
	}
	return fmt.Errorf("bad %s %q: %s", kw, v, why)
}
