package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// FDBUsage is the grammar of the fdb commands, for help output.
const FDBUsage = `fdb add MAC dst ADDR dev NAME
fdb append MAC dst ADDR dev NAME
fdb del MAC dev NAME [dst ADDR]
fdb show [dev NAME]
  MAC   an overlay Ethernet address, unicast, like 52:54:00:12:34:56;
        00:00:00:00:00:00 is the flood list: broadcast, multicast and
        unknown unicast frames go to every dst it holds, so add it once
        per peer (append is the same as add)
  ADDR  the underlay address of the peer (VTEP) that has MAC: unicast, of
        the tunnel's family; del takes dst to pick one entry of the list
  NAME  a vxlan or geneve tunnel without a fixed remote (FDB mode)
  As with bridge fdb, "to MAC" may name the MAC, and self, permanent and
  static are accepted: every entry made here is static.`

// FDBEntry is one forwarding-table entry of an FDB-mode vxlan or geneve
// tunnel: frames for MAC go to the peer at Dst. The all-zero MAC is the
// flood list, which holds one entry per peer.
type FDBEntry struct {
	MAC net.HardwareAddr
	Dst netip.Addr // invalid from ParseFDBDel when no dst is given
	Dev string
}

// Flood reports whether e is an entry of the flood list (the all-zero
// MAC).
func (e FDBEntry) Flood() bool {
	for _, b := range e.MAC {
		if b != 0 {
			return false
		}
	}
	return len(e.MAC) == 6
}

// Validate checks an FDBEntry built in code, as ParseFDBAdd does.
func (e FDBEntry) Validate() error {
	if err := checkFDBMAC(e.MAC.String(), e.MAC); err != nil {
		return err
	}
	if !e.Dst.IsValid() {
		return errors.New(`missing "dst ADDR": the underlay address of the peer that has the MAC`)
	}
	if err := checkFDBDst(e.Dst.String(), e.Dst); err != nil {
		return err
	}
	return checkIfname("dev", e.Dev)
}

// Args renders e as the words after `fdb add` that recreate it.
func (e FDBEntry) Args() []string {
	a := []string{e.MAC.String()}
	if e.Dst.IsValid() {
		a = append(a, "dst", e.Dst.String())
	}
	return append(a, "dev", e.Dev)
}

// String is e as `fdb show` prints it: "52:54:00:12:34:56 dst
// 198.51.100.2 dev vx0".
func (e FDBEntry) String() string { return strings.Join(e.Args(), " ") }

// ParseFDBAdd parses the words after `fdb add` (or `fdb append`): MAC,
// dst ADDR and dev NAME, in any order.
func ParseFDBAdd(args []string) (FDBEntry, error) {
	if len(args) == 0 {
		return FDBEntry{}, errors.New("fdb add needs an entry: fdb add MAC dst ADDR dev NAME (MAC 00:00:00:00:00:00 for the flood list)")
	}
	return parseFDB("fdb add", args, true)
}

// ParseFDBDel parses the words after `fdb del`: MAC and dev NAME, and
// dst ADDR to pick one entry of the flood list. Dst is invalid without
// dst.
func ParseFDBDel(args []string) (FDBEntry, error) {
	if len(args) == 0 {
		return FDBEntry{}, errors.New("fdb del needs an entry: fdb del MAC dev NAME [dst ADDR]")
	}
	return parseFDB("fdb del", args, false)
}

// ParseFDBShow parses the words after `fdb show`: nothing (every
// tunnel's entries), or dev NAME (or NAME).
func ParseFDBShow(args []string) (string, error) {
	return ParseDevName("fdb show", args, false)
}

// fdbUnsupported are bridge fdb words xtunnel does not take, with the
// reason.
var fdbUnsupported = map[string]string{
	"master":       "there is no bridge: entries go into the tunnel's own table",
	"router":       "there is no bridge: entries go into the tunnel's own table",
	"use":          "there is no bridge: entries go into the tunnel's own table",
	"extern_learn": "there is no bridge: entries go into the tunnel's own table",
	"sticky":       "there is no bridge: entries go into the tunnel's own table",
	"local":        "there is no bridge: entries go into the tunnel's own table",
	"dynamic":      "entries made here are static; learned ones come from learning",
	"port":         "the tunnel's dstport is used for every peer",
	"vni":          "the tunnel's id is used for every peer",
	"src_vni":      "the tunnel's id is used for every peer",
	"via":          "the peer is reached by the route to dst",
	"nhid":         "the peer is reached by the route to dst",
	"vlan":         "VLANs are not supported",
}

func parseFDB(cmd string, args []string, adding bool) (FDBEntry, error) {
	var e FDBEntry
	var macWord string
	seen := map[string]bool{}
	keywords := "MAC dst dev"
	for i := 0; i < len(args); i++ {
		w := args[i]
		value := func(what string) (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%q needs %s", w, what)
			}
			i++
			return args[i], nil
		}
		once := func() error {
			if seen[w] {
				return fmt.Errorf("duplicate keyword %q", w)
			}
			seen[w] = true
			return nil
		}
		switch w {
		case "dev":
			if err := once(); err != nil {
				return FDBEntry{}, err
			}
			v, err := value("the tunnel: dev NAME")
			if err != nil {
				return FDBEntry{}, err
			}
			if err := checkIfname("dev", v); err != nil {
				return FDBEntry{}, err
			}
			e.Dev = v
		case "dst":
			if err := once(); err != nil {
				return FDBEntry{}, err
			}
			v, err := value("the peer's underlay address: dst ADDR")
			if err != nil {
				return FDBEntry{}, err
			}
			a, err := parseFDBDst(v)
			if err != nil {
				return FDBEntry{}, err
			}
			e.Dst = a
		case "self", "permanent", "static":
			// bridge fdb words that say what every entry here is.
		default:
			if why, ok := fdbUnsupported[w]; ok {
				return FDBEntry{}, fmt.Errorf("keyword %q is not supported by xtunnel %s: %s", w, cmd, why)
			}
			mac := w
			if w == "to" {
				v, err := value("a MAC: to MAC")
				if err != nil {
					return FDBEntry{}, err
				}
				mac = v
			}
			if macWord != "" {
				if _, err := netip.ParseAddr(w); err == nil {
					return FDBEntry{}, fmt.Errorf("%q needs its keyword: %s %s dst %s", w, cmd, macWord, w)
				}
				if w == "to" {
					return FDBEntry{}, fmt.Errorf("%q names the MAC again: it is already %s", "to "+mac, macWord)
				}
				return FDBEntry{}, fmt.Errorf("unknown keyword %q for %s (the MAC is %s); expected one of: %s", w, cmd, macWord, keywords)
			}
			if _, err := net.ParseMAC(mac); err != nil {
				if _, err := netip.ParseAddr(mac); err == nil {
					return FDBEntry{}, fmt.Errorf("%q needs its keyword: %s MAC dst %s", mac, cmd, mac)
				}
			}
			hw, err := parseFDBMAC(mac)
			if err != nil {
				return FDBEntry{}, err
			}
			e.MAC, macWord = hw, mac
		}
	}
	switch {
	case macWord == "":
		return FDBEntry{}, fmt.Errorf("missing MAC: %s MAC ... (00:00:00:00:00:00 for the flood list)", cmd)
	case e.Dev == "":
		return FDBEntry{}, fmt.Errorf("missing \"dev NAME\": %s %s dev NAME names the vxlan or geneve tunnel", cmd, macWord)
	case adding && !e.Dst.IsValid():
		return FDBEntry{}, fmt.Errorf("missing \"dst ADDR\": %s %s dst ADDR gives the underlay address of the peer that has it", cmd, macWord)
	}
	return e, nil
}

// parseFDBMAC parses the MAC of an FDB entry: 6 bytes, unicast or all
// zero (the flood list).
func parseFDBMAC(v string) (net.HardwareAddr, error) {
	hw, err := net.ParseMAC(v)
	if err != nil {
		return nil, fmt.Errorf("bad MAC %q: want a 6-byte Ethernet address like 52:54:00:12:34:56", v)
	}
	if err := checkFDBMAC(v, hw); err != nil {
		return nil, err
	}
	return hw, nil
}

func checkFDBMAC(v string, hw net.HardwareAddr) error {
	switch {
	case len(hw) != 6:
		return fmt.Errorf("bad MAC %q: it is %d bytes; want a 6-byte Ethernet address like 52:54:00:12:34:56", v, len(hw))
	case hw[0]&1 != 0:
		kind := "multicast"
		if hw.String() == "ff:ff:ff:ff:ff:ff" {
			kind = "the broadcast address"
		}
		return fmt.Errorf("bad MAC %q: it is %s; use 00:00:00:00:00:00, the flood list, for broadcast and multicast", v, kind)
	}
	return nil
}

// parseFDBDst parses the dst of an FDB entry: a unicast address.
func parseFDBDst(v string) (netip.Addr, error) {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad dst %q: want the peer's IPv4 or IPv6 address, like 192.0.2.1 or 2001:db8::1", v)
	}
	if err := checkFDBDst(v, a); err != nil {
		return netip.Addr{}, err
	}
	return a, nil
}

func checkFDBDst(v string, a netip.Addr) error {
	var why string
	switch {
	case a.Zone() != "":
		why = "zones are not supported"
	case a.Is4In6():
		why = "it is IPv4-mapped; write " + a.Unmap().String()
	case a.IsUnspecified():
		why = "it is unspecified; want the peer's unicast address"
	case a.IsMulticast():
		why = "it is multicast; want the peer's unicast address (one flood-list entry per peer)"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		why = "it is the broadcast address; want the peer's unicast address"
	default:
		return nil
	}
	return fmt.Errorf("bad dst %q: %s", v, why)
}
