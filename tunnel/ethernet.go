package tunnel

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds what the Ethernet tunnel types add to the model and the
// grammar: geneve and vxlan (VNI, UDP ports and checksums, DF, options,
// FDB mode) and erspan and ip6erspan (version, index, direction,
// hardware ID). gretap and ip6gretap take exactly the words of gre and
// ip6gre.

// DFMode is how a geneve or vxlan tunnel sets the DF bit of its outer
// IPv4 header.
type DFMode uint8

const (
	DFUnset   DFMode = iota // df unset: DF clear (the default)
	DFSet                   // df set: DF set
	DFInherit               // df inherit: DF copied from the inner IPv4 header, set for inner IPv6
)

var dfNames = map[DFMode]string{DFUnset: "unset", DFSet: "set", DFInherit: "inherit"}

func (d DFMode) String() string {
	if n, ok := dfNames[d]; ok {
		return n
	}
	return fmt.Sprintf("df(%d)", uint8(d))
}

// ERSPANDir is the direction an ERSPAN type III (erspan_ver 2) header
// reports for the mirrored frame.
type ERSPANDir uint8

const (
	DirIngress ERSPANDir = iota // erspan_dir ingress (the default)
	DirEgress                   // erspan_dir egress
)

var dirNames = map[ERSPANDir]string{DirIngress: "ingress", DirEgress: "egress"}

func (d ERSPANDir) String() string {
	if n, ok := dirNames[d]; ok {
		return n
	}
	return fmt.Sprintf("dir(%d)", uint8(d))
}

// Defaults and limits of the Ethernet tunnel types.
const (
	GenevePort        = 6081 // geneve's default dstport (IANA)
	VXLANPort         = 4789 // vxlan's default dstport (IANA)
	DefaultAgeing     = 300  // seconds a learned FDB entry lives by default
	MaxVNI            = 1<<24 - 1
	MaxGeneveOptBytes = 64     // geneve options xtunnel's dataplane carries, headers included
	maxGeneveOptData  = 31 * 4 // the option length field has 5 bits of 4-byte words
	maxERSPANIndex    = 1<<20 - 1
	maxERSPANSession  = 1<<10 - 1
	maxERSPANHWID     = 63
	srcPortLow        = 32768 // the default vxlan source port range,
	srcPortHigh       = 60999 // which SrcPortMin = SrcPortMax = 0 stands for
)

// DefaultDstPort is the UDP destination port ParseLinkAdd gives a t
// tunnel that names none: 6081 for geneve, 4789 for vxlan, else 0.
func (t Type) DefaultDstPort() uint16 {
	switch t {
	case GENEVE:
		return GenevePort
	case VXLAN:
		return VXLANPort
	}
	return 0
}

// GeneveOpt is one Geneve option (a TLV after the Geneve header).
type GeneveOpt struct {
	Class uint16
	Type  uint8  // the high bit marks a critical option
	Data  []byte // a multiple of 4 bytes, at most 124
}

// Critical reports whether a receiver that does not know o must drop the
// packet (the high bit of the type).
func (o GeneveOpt) Critical() bool { return o.Type&0x80 != 0 }

// String is o as the opt keyword takes it: CLASS:TYPE:DATA in hex.
func (o GeneveOpt) String() string {
	return fmt.Sprintf("%04x:%02x:%s", o.Class, o.Type, hex.EncodeToString(o.Data))
}

func (o GeneveOpt) check() error {
	switch {
	case len(o.Data)%4 != 0:
		return fmt.Errorf("bad opt %q: its data is %d bytes; Geneve option data is a multiple of 4 bytes (pad it with zeros)", o, len(o.Data))
	case len(o.Data) > maxGeneveOptData:
		return fmt.Errorf("bad opt %q: its data is %d bytes; want at most %d", o, len(o.Data), maxGeneveOptData)
	}
	return nil
}

// EncodeGeneveOpts renders opts as on the wire, for Spec.GeneveOpts: each
// is class (2 bytes, big endian), type (1), length in 4-byte words (1: the
// low 5 bits; the reserved bits 0), then its data.
func EncodeGeneveOpts(opts ...GeneveOpt) (string, error) {
	var b []byte
	for _, o := range opts {
		if err := o.check(); err != nil {
			return "", err
		}
		b = binary.BigEndian.AppendUint16(b, o.Class)
		b = append(b, o.Type, byte(len(o.Data)/4))
		b = append(b, o.Data...)
	}
	return string(b), nil
}

// GeneveOptBytes is s's geneve options as on the wire, in order.
func (s Spec) GeneveOptBytes() []byte {
	if s.GeneveOpts == "" {
		return nil
	}
	return []byte(s.GeneveOpts)
}

// GeneveOptions parses s's geneve options back; nil if there are none or
// they are malformed (which Validate reports).
func (s Spec) GeneveOptions() []GeneveOpt {
	opts, err := decodeGeneveOpts(s.GeneveOpts)
	if err != nil {
		return nil
	}
	return opts
}

func decodeGeneveOpts(b string) ([]GeneveOpt, error) {
	var opts []GeneveOpt
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("bad GeneveOpts: %d bytes left after the last option, too few for an option header", len(b))
		}
		if b[3]&^0x1f != 0 {
			return nil, fmt.Errorf("bad GeneveOpts: option %d has reserved bits set (length byte 0x%02x)", len(opts)+1, b[3])
		}
		n := 4 + 4*int(b[3]&0x1f)
		if len(b) < n {
			return nil, fmt.Errorf("bad GeneveOpts: option %d says it is %d bytes; %d are left", len(opts)+1, n, len(b))
		}
		opts = append(opts, GeneveOpt{
			Class: binary.BigEndian.Uint16([]byte(b[:2])),
			Type:  b[2],
			Data:  []byte(b[4:n]),
		})
		b = b[n:]
	}
	return opts, nil
}

// Keywords of the Ethernet types.
var (
	erspanKeywords = []string{"key", "seq", "iseq", "oseq", "erspan_ver", "erspan", "erspan_dir", "erspan_hwid"}
	udpKeywords    = []string{"id", "remote", "local", "dstport"}
	udpOptKeywords = []string{"ttl", "tos", "df", "flowlabel", "udpcsum", "noudpcsum",
		"udp6zerocsumtx", "noudp6zerocsumtx", "udp6zerocsumrx", "noudp6zerocsumrx"}
	learnKeywords = []string{"learning", "nolearning", "ageing"}
)

// udpUnsupported are iproute2's vxlan and geneve words xtunnel does not
// take, with the reason.
var udpUnsupported = map[string]string{
	"group":       "multicast underlays are not supported; for many peers give local ADDR and no remote (FDB mode), and each peer with fdb add 00:00:00:00:00:00 dst ADDR dev NAME",
	"proxy":       "xtunnel does not answer ARP or ND for the overlay",
	"rsc":         "route short-circuiting is not supported",
	"l2miss":      "netlink miss notifications are not supported",
	"l3miss":      "netlink miss notifications are not supported",
	"external":    "one netdev for many peers is FDB mode here: local ADDR and no remote, and each peer with fdb add MAC dst ADDR dev NAME",
	"gbp":         "the Group Based Policy extension is not supported",
	"gpe":         "the Generic Protocol Extension is not supported",
	"remcsumtx":   "remote checksum offload is not supported",
	"remcsumrx":   "remote checksum offload is not supported",
	"maxaddress":  "the forwarding table has no per-tunnel limit",
	"vnifilter":   "VNI filtering is not supported: one VNI per tunnel",
	"localbypass": "local bypass is not supported",
}

// unsupportedFor explains why t does not take w when w is an iproute2
// word of t that xtunnel leaves out; nil otherwise.
func unsupportedFor(t Type, w string) error {
	if !t.isUDP() {
		return nil
	}
	base := strings.TrimPrefix(w, "no")
	why, ok := udpUnsupported[base]
	if !ok {
		return nil
	}
	if base != w && base != "external" {
		return fmt.Errorf("keyword %q is not needed by xtunnel's %s: %s; drop it", w, t, why)
	}
	return fmt.Errorf("keyword %q is not supported by xtunnel's %s: %s", w, t, why)
}

// ethernetWord parses a keyword only the Ethernet types have; handled is
// false for any other keyword.
func (p *linkAddParser) ethernetWord(kw, w string) (handled bool, err error) {
	s := &p.spec
	switch kw {
	case "id":
		return true, p.vni(w)
	case "dstport":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "a port: dstport 1..65535")
		if err != nil {
			return true, err
		}
		n, why := parseNumber(v, 65535)
		if why == "" && n == 0 {
			why = "port 0 cannot be a destination"
		}
		if why != "" {
			return true, fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 1..65535"))
		}
		s.DstPort = uint16(n)
		return true, nil
	case "srcport":
		return true, p.srcPort(w)
	case "df":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "a value: df set, df unset or df inherit")
		if err != nil {
			return true, err
		}
		for d, n := range dfNames {
			if n == v {
				s.DF = d
				return true, nil
			}
		}
		return true, fmt.Errorf("bad df %q: want set, unset or inherit", v)
	case "udpcsum", "noudpcsum":
		return true, p.flag("udpcsum", w, &s.UDPCsum)
	case "udp6zerocsumtx", "noudp6zerocsumtx":
		return true, p.flag("udp6zerocsumtx", w, &s.UDP6ZeroCsumTx)
	case "udp6zerocsumrx", "noudp6zerocsumrx":
		return true, p.flag("udp6zerocsumrx", w, &s.UDP6ZeroCsumRx)
	case "learning", "nolearning":
		return true, p.flag("learning", w, &s.Learning)
	case "innerprotoinherit":
		return true, p.flag(kw, w, &s.InnerProtoInherit)
	case "opt", "geneve_opts":
		return true, p.geneveOpts(w)
	case "ageing":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "a value: ageing SECONDS, 1..4294967295")
		if err != nil {
			return true, err
		}
		n, why := parseNumber(v, 1<<32-1)
		if why == "" && n == 0 {
			why = "learned entries need a lifetime"
		}
		if why != "" {
			return true, fmt.Errorf("bad ageing %q: %s", v, withWant(why, "want 1..4294967295 seconds (default 300)"))
		}
		s.Ageing = uint32(n)
		return true, nil
	case "erspan_ver":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "a version: erspan_ver 1 or erspan_ver 2")
		if err != nil {
			return true, err
		}
		n, why := parseNumber(v, 255)
		switch {
		case why == "" && n == 0:
			return true, fmt.Errorf("bad erspan_ver %q: version 0 (ERSPAN type I, no ERSPAN header) is not supported; want 1 (type II) or 2 (type III)", v)
		case why == "" && n > 2:
			why = "no such version"
		}
		if why != "" {
			return true, fmt.Errorf("bad erspan_ver %q: %s", v, withWant(why, "want 1 (ERSPAN type II) or 2 (type III)"))
		}
		s.ERSPANVer = uint8(n)
		return true, nil
	case "erspan":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "an index: erspan IDX, 0..1048575")
		if err != nil {
			return true, err
		}
		n, why := parseNumber(v, maxERSPANIndex)
		if why != "" {
			return true, fmt.Errorf("bad erspan %q: %s", v, withWant(why, "want 0..1048575 (20 bits)"))
		}
		s.ERSPANIndex = uint32(n)
		return true, nil
	case "erspan_dir":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "a direction: erspan_dir ingress or erspan_dir egress")
		if err != nil {
			return true, err
		}
		for d, n := range dirNames {
			if n == v {
				s.ERSPANDir = d
				return true, nil
			}
		}
		return true, fmt.Errorf("bad erspan_dir %q: want ingress or egress", v)
	case "erspan_hwid":
		if err := p.fill(kw, w); err != nil {
			return true, err
		}
		v, err := p.value(w, "a value: erspan_hwid 0..63")
		if err != nil {
			return true, err
		}
		n, why := parseNumber(v, maxERSPANHWID)
		if why == "out of range" {
			return true, fmt.Errorf("bad erspan_hwid %q: want 0..63", v)
		}
		if why != "" {
			return true, fmt.Errorf("bad erspan_hwid %q: %s", v, withWant(why, "want 0..63"))
		}
		s.ERSPANHWID = uint8(n)
		return true, nil
	}
	return false, nil
}

// flag parses an on/off word pair: on, and "no"+on, filling slot.
func (p *linkAddParser) flag(slot, w string, dst *bool) error {
	if err := p.fill(slot, w); err != nil {
		return err
	}
	*dst = !strings.HasPrefix(w, "no")
	return nil
}

// vni parses id VNI (or vni VNI).
func (p *linkAddParser) vni(w string) error {
	if err := p.fill("id", w); err != nil {
		return err
	}
	v, err := p.value(w, "a value: "+w+" VNI, 0..16777215")
	if err != nil {
		return err
	}
	n, why := parseNumber(v, 1<<32-1)
	if why == "out of range" || (why == "" && n > MaxVNI) {
		return fmt.Errorf("bad %s %q: VNIs are 24 bits: want 0..16777215", w, v)
	}
	if why != "" {
		return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 0..16777215"))
	}
	p.spec.VNI = uint32(n)
	return nil
}

// srcPort parses srcport MIN MAX (or port MIN MAX).
func (p *linkAddParser) srcPort(w string) error {
	if err := p.fill("srcport", w); err != nil {
		return err
	}
	var ports [2]uint16
	for i, name := range []string{"MIN", "MAX"} {
		v, err := p.value(w, "two ports: "+w+" MIN MAX, each 1..65535")
		if err != nil {
			return err
		}
		n, why := parseNumber(v, 65535)
		if why == "" && n == 0 {
			why = "port 0 cannot be a source"
		}
		if why != "" {
			return fmt.Errorf("bad %s %s %q: %s", w, name, v, withWant(why, "want 1..65535"))
		}
		ports[i] = uint16(n)
	}
	if ports[0] > ports[1] {
		return fmt.Errorf("bad %s \"%d %d\": MIN %d is above MAX %d; write %s %d %d", w, ports[0], ports[1], ports[0], ports[1], w, ports[1], ports[0])
	}
	p.spec.SrcPortMin, p.spec.SrcPortMax = ports[0], ports[1]
	return nil
}

// geneveOpts parses opt CLASS:TYPE:DATA, or geneve_opts with a comma
// separated list of them; each adds to the options given before.
func (p *linkAddParser) geneveOpts(w string) error {
	v, err := p.value(w, "an option: "+w+" CLASS:TYPE:DATA in hex, like 0102:80:0000002a")
	if err != nil {
		return err
	}
	items := []string{v}
	if w == "geneve_opts" {
		items = strings.Split(v, ",")
	}
	s := &p.spec
	for _, item := range items {
		o, err := parseGeneveOpt(w, item)
		if err != nil {
			return err
		}
		b, err := EncodeGeneveOpts(o)
		if err != nil {
			return err
		}
		if n := len(s.GeneveOpts) + len(b); n > MaxGeneveOptBytes {
			return fmt.Errorf("bad %s %q: the geneve options come to %d bytes with it, option headers included; xtunnel's dataplane carries at most %d", w, item, n, MaxGeneveOptBytes)
		}
		s.GeneveOpts += b
	}
	return nil
}

// parseGeneveOpt parses CLASS:TYPE:DATA, each in hex (with or without
// 0x); DATA may be empty.
func parseGeneveOpt(w, v string) (GeneveOpt, error) {
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return GeneveOpt{}, fmt.Errorf("bad %s %q: want CLASS:TYPE:DATA in hex, like 0102:80:0000002a (DATA may be empty)", w, v)
	}
	class, err := parseHexField(parts[0], 16)
	if err != nil {
		return GeneveOpt{}, fmt.Errorf("bad %s %q: class %q: %v; want hex 0..ffff", w, v, parts[0], err)
	}
	typ, err := parseHexField(parts[1], 8)
	if err != nil {
		return GeneveOpt{}, fmt.Errorf("bad %s %q: type %q: %v; want hex 0..ff (80 and up are critical)", w, v, parts[1], err)
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(parts[2], "0x"), "0X")
	if len(digits)%2 != 0 {
		return GeneveOpt{}, fmt.Errorf("bad %s %q: data %q has an odd number of hex digits; write two per byte", w, v, parts[2])
	}
	data, err := hex.DecodeString(digits)
	if err != nil {
		return GeneveOpt{}, fmt.Errorf("bad %s %q: data %q is not hex", w, v, parts[2])
	}
	o := GeneveOpt{Class: uint16(class), Type: uint8(typ), Data: data}
	switch {
	case len(data)%4 != 0:
		return GeneveOpt{}, fmt.Errorf("bad %s %q: data is %d bytes; Geneve option data is a multiple of 4 bytes (pad it with zeros)", w, v, len(data))
	case len(data) > maxGeneveOptData:
		return GeneveOpt{}, fmt.Errorf("bad %s %q: data is %d bytes; want at most %d", w, v, len(data), maxGeneveOptData)
	}
	return o, nil
}

// parseHexField parses a hex number of at most bits bits, with or without
// 0x, as tc's geneve_opts does.
func parseHexField(s string, bits int) (uint64, error) {
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if digits == "" {
		return 0, errors.New("empty")
	}
	n, err := strconv.ParseUint(digits, 16, bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, errors.New("out of range")
		}
		return 0, errors.New("not hex")
	}
	return n, nil
}

// fdbNeedsLocal is the error for an FDB-mode tunnel without local ADDR.
func fdbNeedsLocal(t Type) error {
	msg := "remote any needs local ADDR: it picks the underlay family and is the outer source"
	if t == VXLAN {
		msg += " (a vxlan tunnel without remote is remote any)"
	}
	return errors.New(msg)
}

// finishEthernet fills the defaults of the Ethernet types once every
// word is read, and checks what depends on words given in any order.
func (p *linkAddParser) finishEthernet() error {
	s := &p.spec
	t := s.Type
	_, seenRemote := p.seen["remote"]
	switch {
	case t.isUDP():
		if _, ok := p.seen["id"]; !ok {
			return fmt.Errorf("missing \"id VNI\": a %s tunnel needs its VNI, 0..16777215", t)
		}
		if t == GENEVE && !seenRemote {
			return errors.New(`missing "remote ADDR": a geneve tunnel needs remote ADDR, or remote any (with local ADDR) for an FDB-mode tunnel`)
		}
		if !s.Local.IsValid() && !s.Remote.IsValid() {
			return fdbNeedsLocal(t)
		}
		if _, ok := p.seen["dstport"]; !ok {
			s.DstPort = t.DefaultDstPort()
		}
		if s.SrcPortMin == srcPortLow && s.SrcPortMax == srcPortHigh {
			s.SrcPortMin, s.SrcPortMax = 0, 0
		}
		if w, ok := p.seen["ageing"]; ok && !s.Learning {
			if !s.FDB() {
				return fmt.Errorf("%q needs learning, and learning needs remote any (an FDB-mode tunnel)", w)
			}
			return fmt.Errorf("%q needs \"learning\": it is how long learned entries live", w)
		}
		if s.Learning && s.FDB() && s.Ageing == 0 {
			s.Ageing = DefaultAgeing
		}
		return p.familyWords()
	case t.isERSPAN():
		if !s.OKey.Set {
			return fmt.Errorf("missing \"key K\": an %s tunnel needs its session ID, key 0..1023", t)
		}
		if _, ok := p.seen["erspan_ver"]; !ok {
			s.ERSPANVer = 1
		}
		if s.ERSPANVer != 2 {
			for _, kw := range []string{"erspan_dir", "erspan_hwid"} {
				if _, ok := p.seen[kw]; ok {
					return fmt.Errorf("%s needs erspan_ver 2: version 1 (ERSPAN type II) has no direction or hardware ID; add erspan_ver 2, or drop %s", kw, kw)
				}
			}
		}
		if _, ok := p.seen["erspan"]; ok && s.ERSPANVer != 1 {
			return errors.New("erspan IDX is for erspan_ver 1 (ERSPAN type II); version 2 has erspan_dir and erspan_hwid instead: drop erspan IDX, or write erspan_ver 1")
		}
		s.OSeq = true // ERSPAN requires GRE sequence numbers
	}
	return nil
}

// familyWords refuses geneve and vxlan words for the other underlay
// family, naming the word as given.
func (p *linkAddParser) familyWords() error {
	s := &p.spec
	six := s.Outer6()
	for _, f := range []struct {
		slot string
		v6   bool // the word is for an IPv6 underlay
		why  string
	}{
		{"udpcsum", false, "over IPv6 the UDP checksum is always sent unless udp6zerocsumtx"},
		{"df", false, "an IPv6 header has no DF bit"},
		{"udp6zerocsumtx", true, "over IPv4 the UDP checksum is udpcsum or noudpcsum"},
		{"udp6zerocsumrx", true, "over IPv4 the UDP checksum is udpcsum or noudpcsum"},
		{"flowlabel", true, "the flow label is in the IPv6 header"},
	} {
		w, ok := p.seen[f.slot]
		if !ok || f.v6 == six {
			continue
		}
		is, family := "IPv6", "IPv4"
		if f.v6 {
			is, family = "IPv4", "IPv6"
		}
		return fmt.Errorf("%q is for an %s underlay, and %s runs over %s: %s", w, family, s.Name, is, f.why)
	}
	return nil
}

// checkEthernet checks the fields of the Ethernet types.
func (s Spec) checkEthernet() error {
	t := s.Type
	if t.isUDP() {
		if err := s.checkUDP(); err != nil {
			return err
		}
	}
	if t.isERSPAN() {
		return s.checkERSPAN()
	}
	return nil
}

func (s Spec) checkUDP() error {
	t := s.Type
	if s.Local.IsValid() && s.Remote.IsValid() && s.Local.Is4() != s.Remote.Is4() {
		return fmt.Errorf("local %s and remote %s are of different families: both ends of a %s tunnel are IPv4 or both IPv6", s.Local, s.Remote, t)
	}
	six := s.Outer6()
	family := "IPv4"
	if six {
		family = "IPv6"
	}
	switch {
	case s.VNI > MaxVNI:
		return fmt.Errorf("bad id \"%d\": VNIs are 24 bits: want 0..16777215", s.VNI)
	case s.DstPort == 0:
		return fmt.Errorf("missing dstport: %s needs a UDP destination port (ParseLinkAdd fills %d)", t, t.DefaultDstPort())
	case (s.SrcPortMin == 0) != (s.SrcPortMax == 0):
		return fmt.Errorf("bad srcport \"%d %d\": want both 1..65535, or both 0 for the default %d..%d", s.SrcPortMin, s.SrcPortMax, srcPortLow, srcPortHigh)
	case s.SrcPortMin > s.SrcPortMax:
		return fmt.Errorf("bad srcport \"%d %d\": MIN %d is above MAX %d", s.SrcPortMin, s.SrcPortMax, s.SrcPortMin, s.SrcPortMax)
	case s.SrcPortMin == srcPortLow && s.SrcPortMax == srcPortHigh:
		return fmt.Errorf("srcport %d %d is the default: leave SrcPortMin and SrcPortMax 0", srcPortLow, srcPortHigh)
	case s.DF > DFInherit:
		return fmt.Errorf("unknown df %s; want set, unset or inherit", s.DF)
	case six && s.DF != DFUnset:
		return fmt.Errorf("\"df %s\" is for an IPv4 underlay, and %s runs over IPv6: an IPv6 header has no DF bit", s.DF, s.Name)
	case six && s.UDPCsum:
		return fmt.Errorf("\"udpcsum\" is for an IPv4 underlay, and %s runs over IPv6: the UDP checksum is always sent unless udp6zerocsumtx", s.Name)
	case !six && s.UDP6ZeroCsumTx:
		return fmt.Errorf("\"udp6zerocsumtx\" is for an IPv6 underlay, and %s runs over IPv4: use udpcsum or noudpcsum", s.Name)
	case !six && s.UDP6ZeroCsumRx:
		return fmt.Errorf("\"udp6zerocsumrx\" is for an IPv6 underlay, and %s runs over IPv4: use udpcsum or noudpcsum", s.Name)
	case !six && (s.FlowLabel != 0 || s.FlowInherit):
		return fmt.Errorf("\"flowlabel\" is for an IPv6 underlay, and %s runs over %s: the flow label is in the IPv6 header", s.Name, family)
	case s.Learning && !s.FDB():
		return fmt.Errorf("learning needs remote any (an FDB-mode tunnel): %s has the fixed remote %s", s.Name, s.Remote)
	case s.Ageing != 0 && !s.Learning:
		return errors.New(`"ageing" needs "learning": it is how long learned entries live`)
	case s.Learning && s.Ageing == 0:
		return fmt.Errorf("learning needs ageing 1..4294967295 seconds: set Ageing (ParseLinkAdd fills %d)", DefaultAgeing)
	}
	opts, err := decodeGeneveOpts(s.GeneveOpts)
	if err != nil {
		return err
	}
	for _, o := range opts {
		if err := o.check(); err != nil {
			return err
		}
	}
	if len(s.GeneveOpts) > MaxGeneveOptBytes {
		return fmt.Errorf("the geneve options are %d bytes, option headers included; xtunnel's dataplane carries at most %d", len(s.GeneveOpts), MaxGeneveOptBytes)
	}
	return nil
}

func (s Spec) checkERSPAN() error {
	switch {
	case s.ERSPANVer == 0:
		return errors.New("erspan_ver 0 (ERSPAN type I, no ERSPAN header) is not supported; want erspan_ver 1 (type II) or 2 (type III)")
	case s.ERSPANVer > 2:
		return fmt.Errorf("bad erspan_ver \"%d\": want 1 (ERSPAN type II) or 2 (type III)", s.ERSPANVer)
	case !s.IKey.Set || !s.OKey.Set || s.IKey.Value != s.OKey.Value:
		return fmt.Errorf("missing \"key K\": an %s tunnel needs its session ID, key 0..1023, in both IKey and OKey", s.Type)
	case s.OKey.Value > maxERSPANSession:
		return fmt.Errorf("bad key \"%d\": ERSPAN session IDs are 10 bits: want 0..1023", s.OKey.Value)
	case !s.OSeq:
		return errors.New("ERSPAN requires GRE sequence numbers: set OSeq (ParseLinkAdd does)")
	case s.ERSPANIndex > maxERSPANIndex:
		return fmt.Errorf("bad erspan \"%d\": want 0..1048575 (20 bits)", s.ERSPANIndex)
	case s.ERSPANHWID > maxERSPANHWID:
		return fmt.Errorf("bad erspan_hwid \"%d\": want 0..63", s.ERSPANHWID)
	case s.ERSPANDir > DirEgress:
		return fmt.Errorf("unknown erspan_dir %s; want ingress or egress", s.ERSPANDir)
	case s.ERSPANVer == 1 && s.ERSPANDir != DirIngress:
		return errors.New("erspan_dir needs erspan_ver 2: version 1 (ERSPAN type II) has no direction")
	case s.ERSPANVer == 1 && s.ERSPANHWID != 0:
		return errors.New("erspan_hwid needs erspan_ver 2: version 1 (ERSPAN type II) has no hardware ID")
	case s.ERSPANVer == 2 && s.ERSPANIndex != 0:
		return errors.New("erspan IDX is for erspan_ver 1 (ERSPAN type II); version 2 has erspan_dir and erspan_hwid instead")
	}
	return nil
}

// EthernetWords renders the words of the Ethernet types besides the
// addresses and the GRE key: dstport (when not the default), srcport,
// df, the UDP checksum words, innerprotoinherit, each opt, learning and
// ageing; for erspan the version and its fields.
func (s Spec) EthernetWords() []string {
	var a []string
	t := s.Type
	if t.isERSPAN() {
		a = append(a, "erspan_ver", strconv.Itoa(int(s.ERSPANVer)))
		if s.ERSPANIndex != 0 {
			a = append(a, "erspan", strconv.FormatUint(uint64(s.ERSPANIndex), 10))
		}
		if s.ERSPANDir != DirIngress {
			a = append(a, "erspan_dir", s.ERSPANDir.String())
		}
		if s.ERSPANHWID != 0 {
			a = append(a, "erspan_hwid", strconv.Itoa(int(s.ERSPANHWID)))
		}
		return a
	}
	if !t.isUDP() {
		return nil
	}
	if s.DstPort != t.DefaultDstPort() {
		a = append(a, "dstport", strconv.Itoa(int(s.DstPort)))
	}
	if s.SrcPortMin != 0 || s.SrcPortMax != 0 {
		a = append(a, "srcport", strconv.Itoa(int(s.SrcPortMin)), strconv.Itoa(int(s.SrcPortMax)))
	}
	if s.DF != DFUnset {
		a = append(a, "df", s.DF.String())
	}
	for _, f := range []struct {
		on bool
		w  string
	}{
		{s.UDPCsum, "udpcsum"}, {s.UDP6ZeroCsumTx, "udp6zerocsumtx"}, {s.UDP6ZeroCsumRx, "udp6zerocsumrx"},
		{s.InnerProtoInherit, "innerprotoinherit"},
	} {
		if f.on {
			a = append(a, f.w)
		}
	}
	for _, o := range s.GeneveOptions() {
		a = append(a, "opt", o.String())
	}
	if s.Learning {
		a = append(a, "learning")
		if s.Ageing != DefaultAgeing {
			a = append(a, "ageing", strconv.FormatUint(uint64(s.Ageing), 10))
		}
	}
	return a
}

// sessionID parses key K for erspan and ip6erspan: the ERSPAN session ID,
// in both IKey and OKey.
func (p *linkAddParser) sessionID(w string) error {
	v, err := p.value(w, "a value: key K, the ERSPAN session ID 0..1023")
	if err != nil {
		return err
	}
	k, why := parseKey(v)
	if why == "out of range" || (why == "" && k > maxERSPANSession) {
		return fmt.Errorf("bad %s %q: ERSPAN session IDs are 10 bits: want 0..1023", w, v)
	}
	if why != "" {
		return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 0..1023"))
	}
	p.spec.IKey = Key{Set: true, Value: k}
	p.spec.OKey = p.spec.IKey
	return nil
}

// udpTTL parses ttl for geneve and vxlan. As with iproute2 and the
// kernel, auto and 0 mean the route's default, 64 here; inherit copies
// the inner packet's.
func (p *linkAddParser) udpTTL(w string) error {
	v, err := p.value(w, "a value: "+w+" 1..255, "+w+" auto or "+w+" inherit")
	if err != nil {
		return err
	}
	s := &p.spec
	switch v {
	case "inherit":
		s.TTL = 0
		return nil
	case "auto":
		s.TTL = s.Type.DefaultTTL()
		return nil
	}
	n, why := parseNumber(v, 255)
	if why != "" {
		return fmt.Errorf("bad %s %q: %s", w, v, withWant(why, "want 1..255, auto or inherit"))
	}
	if n == 0 {
		n = uint64(s.Type.DefaultTTL()) // not inherit: write ttl inherit for that
	}
	s.TTL = uint8(n)
	return nil
}
