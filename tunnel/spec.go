// Package tunnel holds the tunnel model users configure and the
// iproute2-style grammar that describes it.
package tunnel

import (
	"fmt"
	"net/netip"
)

// Type is a tunnel link type, named as iproute2 names it.
type Type uint8

const (
	TypeNone Type = iota
	GRE
	IPIP
	SIT
	IP6TNL
	IP6GRE
	GRETAP    // Ethernet over GRE over IPv4
	IP6GRETAP // Ethernet over GRE over IPv6
	GENEVE    // Ethernet (or IP) over Geneve over UDP, IPv4 or IPv6
	VXLAN     // Ethernet over VXLAN over UDP, IPv4 or IPv6
	ERSPAN    // mirrored Ethernet over GRE and ERSPAN over IPv4
	IP6ERSPAN // mirrored Ethernet over GRE and ERSPAN over IPv6
)

var typeNames = map[Type]string{GRE: "gre", IPIP: "ipip", SIT: "sit", IP6TNL: "ip6tnl", IP6GRE: "ip6gre",
	GRETAP: "gretap", IP6GRETAP: "ip6gretap", GENEVE: "geneve", VXLAN: "vxlan", ERSPAN: "erspan", IP6ERSPAN: "ip6erspan"}

// Outer6 reports whether t always runs over an IPv6 underlay. Geneve and
// VXLAN take either family: ask Spec.Outer6.
func (t Type) Outer6() bool {
	return t == IP6TNL || t == IP6GRE || t == IP6GRETAP || t == IP6ERSPAN
}

// IsGRE reports whether t puts a GRE header after the outer IP header:
// gre, gretap, erspan and their IPv6 twins.
func (t Type) IsGRE() bool {
	switch t {
	case GRE, IP6GRE, GRETAP, IP6GRETAP, ERSPAN, IP6ERSPAN:
		return true
	}
	return false
}

// isERSPAN reports whether t is erspan or ip6erspan.
func (t Type) isERSPAN() bool { return t == ERSPAN || t == IP6ERSPAN }

// isUDP reports whether t is geneve or vxlan: a UDP tunnel with a VNI,
// over either family, with an optional fixed remote.
func (t Type) isUDP() bool { return t == GENEVE || t == VXLAN }

// Outer6 reports whether s runs over an IPv6 underlay: its type says so,
// or it is a geneve or vxlan tunnel whose addresses are IPv6.
func (s Spec) Outer6() bool {
	if s.Type.isUDP() {
		return s.Local.Is6() || s.Remote.Is6()
	}
	return s.Type.Outer6()
}

// Ethernet reports whether s's overlay is an Ethernet device: gretap,
// ip6gretap, erspan, ip6erspan, vxlan, and geneve without
// innerprotoinherit.
func (s Spec) Ethernet() bool {
	switch s.Type {
	case GRETAP, IP6GRETAP, ERSPAN, IP6ERSPAN, VXLAN:
		return true
	case GENEVE:
		return !s.InnerProtoInherit
	}
	return false
}

// FDB reports whether s is a geneve or vxlan tunnel without a fixed
// remote: its peers are forwarding-table entries (fdb add), learned or
// configured.
func (s Spec) FDB() bool { return s.Type.isUDP() && !s.Remote.IsValid() }

// Mode is the set of inner payloads an IP-in-IP tunnel carries, named as
// iproute2 names them for ipip, sit and ip6tnl.
type Mode uint8

const (
	ModeDefault Mode = iota // the type's own: ipip, ip6ip, ip6ip6
	ModeIPIP                // IPv4 inner (ipip, sit)
	ModeIP6IP               // IPv6 in IPv4 (sit)
	ModeMPLSIP              // MPLS in IPv4 (ipip, sit; RFC 4023)
	ModeAny                 // every inner the type carries
	ModeIP6IP6              // IPv6 in IPv6 (ip6tnl)
	ModeIPIP6               // IPv4 in IPv6 (ip6tnl)
)

var modeNames = map[Mode]string{ModeIPIP: "ipip", ModeIP6IP: "ip6ip", ModeMPLSIP: "mplsip",
	ModeAny: "any", ModeIP6IP6: "ip6ip6", ModeIPIP6: "ipip6"}

func (m Mode) String() string {
	if n, ok := modeNames[m]; ok {
		return n
	}
	return "default"
}

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, bool) {
	for m, n := range modeNames {
		if n == s {
			return m, true
		}
	}
	return ModeDefault, false
}

// Inner is what a tunnel carries, as a set.
type Inner uint8

const (
	InnerIPv4 Inner = 1 << iota
	InnerIPv6
	InnerMPLS
)

// Inners is the set of payloads s carries: its type and mode decide. It
// is 0 for an Ethernet tunnel (see Ethernet), whose payload is a frame.
func (s Spec) Inners() Inner {
	switch s.Type {
	case GENEVE:
		if s.InnerProtoInherit {
			return InnerIPv4 | InnerIPv6
		}
	case GRE, IP6GRE:
		return InnerIPv4 | InnerIPv6
	case IPIP:
		switch s.Mode {
		case ModeMPLSIP:
			return InnerMPLS
		case ModeAny:
			return InnerIPv4 | InnerMPLS
		}
		return InnerIPv4
	case SIT:
		switch s.Mode {
		case ModeIPIP:
			return InnerIPv4
		case ModeMPLSIP:
			return InnerMPLS
		case ModeAny:
			return InnerIPv4 | InnerIPv6 | InnerMPLS
		}
		return InnerIPv6
	case IP6TNL:
		switch s.Mode {
		case ModeIPIP6:
			return InnerIPv4
		case ModeAny:
			return InnerIPv4 | InnerIPv6
		}
		return InnerIPv6
	}
	return 0
}

// EncapType is the UDP encapsulation of an ipip, sit or gre tunnel.
type EncapType uint8

const (
	EncapNone EncapType = iota
	EncapFOU
	EncapGUE
)

// Encap is `encap fou|gue encap-sport auto|N encap-dport P [encap-csum]`.
type Encap struct {
	Type  EncapType
	SPort uint16 // 0: auto, a hash of the inner flow
	DPort uint16
	Csum  bool // UDP checksum on transmit
}

// Spec.EncapLimit values besides 0 (the default, 4) and 1..255 except 4.
const (
	// EncapLimitNone disables the encapsulation-limit option
	// (encaplimit none).
	EncapLimitNone = -1
	// EncapLimitZero is an explicit encaplimit 0: the option is sent with
	// the value 0 (no further encapsulation allowed, RFC 2473). Use
	// EncapLimitOn rather than reading EncapLimit as a number.
	EncapLimitZero = -2
)

func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType returns the Type named s ("gre", "ipip").
func ParseType(s string) (Type, bool) {
	for t, n := range typeNames {
		if n == s {
			return t, true
		}
	}
	return TypeNone, false
}

// Key is an optional 32-bit GRE key.
type Key struct {
	Set   bool
	Value uint32
}

// Spec is one tunnel as `link add` describes it: point-to-point, or
// External with its peers in routes.
type Spec struct {
	Name   string // overlay netdev name, at most 15 bytes
	Type   Type
	Local  netip.Addr // outer source; optional for geneve and vxlan with a Remote
	Remote netip.Addr // outer destination; invalid for sit 6to4/ISATAP, FDB-mode geneve and vxlan, and External
	// External is one netdev for many peers (the kernel's collect_md):
	// gre, ip6gre, ipip, sit and ip6tnl only. Its peers are routes
	// (ParseRouteAdd with encap), which give each one's remote and key:
	// it has no Remote and no keys; Local is optional.
	External   bool
	IKey, OKey Key   // "key K" sets both; erspan: the session ID 0..1023, in both
	TTL        uint8 // 0: inherit from the inner packet
	TOS        uint8
	TOSInherit bool
	NoPMTUDisc bool   // outer DF clear; needs TTL 0 (inherit) as in iproute2
	Dev        string // underlay netdev; "" picks the route to Remote
	MTU        int    // 0: underlay MTU minus Overhead()

	Mode         Mode // ipip, sit, ip6tnl
	ISATAP       bool // sit: remote from the inner destination (RFC 5214)
	IgnoreDF     bool // ignore-df: encapsulate even when the inner DF is set
	EncapLimit   int  // ip6tnl, ip6gre, ip6gretap, ip6erspan: 0 is the default 4, EncapLimitNone none, EncapLimitZero 0, else 1..255 (never 4)
	FlowLabel    uint32
	FlowInherit  bool // flowlabel inherit
	ICsum, OCsum bool // gre, ip6gre, gretap, ip6gretap: checksum verified / sent
	ISeq, OSeq   bool // GRE types: sequence numbers expected / sent; OSeq always for erspan
	Encap        Encap

	// geneve, vxlan
	VNI               uint32 // id VNI (alias vni): 0..16777215, required
	DstPort           uint16 // dstport; ParseLinkAdd fills the default 6081 (geneve) / 4789 (vxlan)
	SrcPortMin        uint16 // vxlan srcport MIN MAX; both 0: the default range 32768..60999 (no other meaning)
	SrcPortMax        uint16
	DF                DFMode // df unset (default) | set | inherit; IPv4 underlays only
	UDPCsum           bool   // udpcsum / noudpcsum: UDP checksum on IPv4 transmit (default off)
	UDP6ZeroCsumTx    bool   // udp6zerocsumtx / noudp6zerocsumtx: send zero UDP checksums over IPv6 (default off: checksums are sent)
	UDP6ZeroCsumRx    bool   // udp6zerocsumrx / noudp6zerocsumrx: accept zero UDP checksums over IPv6 (default off)
	InnerProtoInherit bool   // geneve innerprotoinherit: IPv4/IPv6 payload, no Ethernet header
	// GeneveOpts are the geneve options (opt CLASS:TYPE:HEX, repeatable)
	// in order, as on the wire: a string keeps Spec comparable with ==.
	// Build it with EncodeGeneveOpts; read it with GeneveOptions or
	// GeneveOptBytes.
	GeneveOpts string
	Learning   bool   // FDB-mode vxlan, geneve: learning / nolearning (default off)
	Ageing     uint32 // ageing SECONDS for learned entries: ParseLinkAdd fills 300 for FDB-mode learning tunnels; 0 otherwise

	// erspan, ip6erspan
	ERSPANVer   uint8     // erspan_ver 1|2; ParseLinkAdd fills 1
	ERSPANIndex uint32    // erspan IDX (version 1 only): 0..1048575 (20 bits), default 0
	ERSPANDir   ERSPANDir // erspan_dir ingress|egress (version 2 only), default ingress
	ERSPANHWID  uint8     // erspan_hwid 0..63 (version 2 only), default 0
}

// EncapLimitOn reports whether s sends the encapsulation-limit
// destination option (RFC 2473), and its value: ip6tnl, ip6gre,
// ip6gretap and ip6erspan do unless encaplimit none.
func (s Spec) EncapLimitOn() (bool, uint8) {
	if !s.Type.Outer6() || s.EncapLimit == EncapLimitNone {
		return false, 0
	}
	switch s.EncapLimit {
	case 0:
		return true, 4
	case EncapLimitZero:
		return true, 0
	}
	return true, uint8(s.EncapLimit)
}

// Overhead is the number of bytes the outer headers add, plus 14 for the
// inner Ethernet header of an Ethernet tunnel: the overlay MTU is the
// underlay MTU minus Overhead (gretap 1462 and vxlan 1450 over 1500).
func (s Spec) Overhead() int {
	n := 20
	if s.Outer6() {
		n = 40
	}
	if on, _ := s.EncapLimitOn(); on {
		n += 8
	}
	switch s.Encap.Type {
	case EncapFOU:
		n += 8
	case EncapGUE:
		n += 8 + 4
	}
	switch {
	case s.Type.isERSPAN():
		// GRE with a sequence number and never a key: the session ID is
		// in the ERSPAN header, 8 bytes (type II) or 12 (type III).
		n += 8 + 8
		if s.ERSPANVer == 2 {
			n += 4
		}
	case s.Type.IsGRE():
		n += 4
		// An external tunnel's key is per peer: leave room for one.
		for _, opt := range []bool{s.OCsum, s.OKey.Set || s.External, s.OSeq} {
			if opt {
				n += 4
			}
		}
	case s.Type.isUDP():
		n += 8 + 8 + len(s.GeneveOpts) // UDP, VXLAN or Geneve, options
	}
	if s.Ethernet() {
		n += 14
	}
	return n
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
// none: 64 over IPv6 (ip6tnl, ip6gre, ...) as iproute2 does, and for
// geneve and vxlan as the kernel does; else 0 (inherit).
func (t Type) DefaultTTL() uint8 {
	if t.Outer6() || t.isUDP() {
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
