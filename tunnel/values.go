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
