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
)

var typeNames = map[Type]string{GRE: "gre", IPIP: "ipip", SIT: "sit", IP6TNL: "ip6tnl", IP6GRE: "ip6gre"}

// Outer6 reports whether t runs over an IPv6 underlay.
func (t Type) Outer6() bool { return t == IP6TNL || t == IP6GRE }

// IsGRE reports whether t puts a GRE header between outer and inner.
func (t Type) IsGRE() bool { return t == GRE || t == IP6GRE }

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

// Inners is the set of payloads s carries: its type and mode decide.
func (s Spec) Inners() Inner {
	switch s.Type {
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

// Spec is one point-to-point tunnel as `link add` describes it.
type Spec struct {
	Name       string // overlay netdev name, at most 15 bytes
	Type       Type
	Local      netip.Addr // outer source
	Remote     netip.Addr // outer destination
	IKey, OKey Key        // "key K" sets both
	TTL        uint8      // 0: inherit from the inner packet
	TOS        uint8
	TOSInherit bool
	NoPMTUDisc bool   // outer DF clear; needs TTL 0 (inherit) as in iproute2
	Dev        string // underlay netdev; "" picks the route to Remote
	MTU        int    // 0: underlay MTU minus Overhead()

	Mode         Mode // ipip, sit, ip6tnl
	ISATAP       bool // sit: remote from the inner destination (RFC 5214)
	IgnoreDF     bool // ignore-df: encapsulate even when the inner DF is set
	EncapLimit   int  // ip6tnl, ip6gre: 0 is the default 4, EncapLimitNone none, EncapLimitZero 0, else 1..255 (never 4)
	FlowLabel    uint32
	FlowInherit  bool // flowlabel inherit
	ICsum, OCsum bool // gre, ip6gre: checksum verified / sent
	ISeq, OSeq   bool // gre, ip6gre: sequence numbers expected / sent
	Encap        Encap
}

// EncapLimitOn reports whether ip6tnl sends the encapsulation-limit
// destination option (RFC 2473), and its value.
func (s Spec) EncapLimitOn() (bool, uint8) {
	if (s.Type != IP6TNL && s.Type != IP6GRE) || s.EncapLimit == EncapLimitNone {
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

// Overhead is the number of bytes the outer headers add.
func (s Spec) Overhead() int {
	n := 20
	if s.Type.Outer6() {
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
	if s.Type.IsGRE() {
		n += 4
		for _, opt := range []bool{s.OCsum, s.OKey.Set, s.OSeq} {
			if opt {
				n += 4
			}
		}
	}
	return n
}
