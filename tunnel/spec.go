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
)

var typeNames = map[Type]string{GRE: "gre", IPIP: "ipip"}

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
}

// Overhead is the number of bytes the outer headers add.
func (s Spec) Overhead() int {
	n := 0
	if s.Local.Is4() {
		n = 20
	} else {
		n = 40
	}
	if s.Type == GRE {
		n += 4
		if s.OKey.Set {
			n += 4
		}
	}
	return n
}
