package tunnel

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FOUUsage is the grammar of the fou commands, for help output.
const FOUUsage = `fou add port PORT ipproto 4|41|47 [-6]
fou add port PORT gue [-6]
fou del port PORT [-6]
fou show
  PORT     UDP port 1..65535 that receives FOU or GUE packets
  ipproto  direct FOU: what the UDP payload is, 4 (IPv4, for ipip and
           sit mode ipip), 41 (IPv6, for sit) or 47 (GRE, for gre); also
           by name: ipencap, ipv6, gre
  gue      GUE: the protocol is in each packet's GUE header (version 0)
  -6       the port listens on IPv6 rather than IPv4
Links send to such a port with: link add ... encap fou|gue encap-dport PORT`

// FOUPort is a UDP port that receives FOU or GUE packets and hands their
// payload on as if it had arrived with the IP protocol it carries, as
// `ip fou add` sets one up.
type FOUPort struct {
	Port    uint16
	GUE     bool  // GUE: the protocol is in the GUE header; IPProto is 0
	IPProto uint8 // direct FOU: 4 (IPv4), 41 (IPv6) or 47 (GRE)
	IPv6    bool  // -6: an IPv6 listener, else IPv4
}

// fouProtos are the payload protocols a direct FOU port can carry.
var fouProtos = []uint8{4, 41, 47}

// fouProtoNames are the /etc/protocols names ip fou takes for them.
var fouProtoNames = map[string]uint8{
	"ipencap": 4, "IP-ENCAP": 4, "ipv6": 41, "IPv6": 41, "gre": 47, "GRE": 47,
}

// ParseFOUAdd parses the words after `fou add`: port PORT, then
// ipproto PROTO or gue, and -6 for an IPv6 listener, in any order.
func ParseFOUAdd(args []string) (FOUPort, error) {
	if len(args) == 0 {
		return FOUPort{}, errors.New("fou add needs a port: fou add port PORT ipproto 4|41|47, or fou add port PORT gue")
	}
	return parseFOU("fou add", args, true)
}

// ParseFOUDel parses the words after `fou del`: port PORT, and -6 for
// the IPv6 listener. The FOUPort it returns has only Port and IPv6 set:
// those name a port.
func ParseFOUDel(args []string) (FOUPort, error) {
	if len(args) == 0 {
		return FOUPort{}, errors.New("fou del needs a port: fou del port PORT [-6]")
	}
	return parseFOU("fou del", args, false)
}

// ParseFOUShow parses the words after `fou show`: there are none.
func ParseFOUShow(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected word %q after fou show; it takes none", args[0])
	}
	return nil
}

func parseFOU(cmd string, args []string, adding bool) (FOUPort, error) {
	var p FOUPort
	seen := map[string]string{} // slot: the words that filled it
	fill := func(slot, words string) error {
		if prev, ok := seen[slot]; ok {
			if strings.Fields(prev)[0] == strings.Fields(words)[0] {
				return fmt.Errorf("duplicate keyword %q", strings.Fields(words)[0])
			}
			return fmt.Errorf("%q conflicts with %q: a GUE port reads the protocol from each packet's GUE header; give ipproto or gue, not both", words, prev)
		}
		seen[slot] = words
		return nil
	}
	keywords := "port -6"
	if adding {
		keywords = "port ipproto gue -6"
	}
	for i := 0; i < len(args); i++ {
		w := args[i]
		value := func(what string) (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%q needs %s", w, what)
			}
			i++
			return args[i], nil
		}
		switch {
		case w == "port":
			if err := fill("port", w); err != nil {
				return FOUPort{}, err
			}
			v, err := value("a value: port 1..65535")
			if err != nil {
				return FOUPort{}, err
			}
			n, why := parseNumber(v, 65535)
			if why == "" && n == 0 {
				why = "port 0 cannot receive"
			}
			if why != "" {
				return FOUPort{}, fmt.Errorf("bad port %q: %s", v, withWant(why, "want 1..65535"))
			}
			p.Port = uint16(n)
		case w == "ipproto" && adding:
			v, err := value("a protocol: ipproto 4, 41 or 47")
			if err != nil {
				return FOUPort{}, err
			}
			if err := fill("proto", w+" "+v); err != nil {
				return FOUPort{}, err
			}
			proto, err := parseFOUProto(v)
			if err != nil {
				return FOUPort{}, err
			}
			p.IPProto = proto
		case w == "gue" && adding:
			if err := fill("proto", w); err != nil {
				return FOUPort{}, err
			}
			p.GUE = true
		case w == "-6":
			if err := fill("-6", w); err != nil {
				return FOUPort{}, err
			}
			p.IPv6 = true
		case !adding && (w == "ipproto" || w == "gue"):
			return FOUPort{}, fmt.Errorf("%q is not needed by fou del: a port is named by its number (and -6); write fou del port PORT", w)
		case w == "local" || w == "peer" || w == "peer_port" || w == "dev":
			return FOUPort{}, fmt.Errorf("keyword %q is not supported yet for %s; xtunnel's FOU ports receive on every address; supported: %s", w, cmd, keywords)
		case w == "-4":
			return FOUPort{}, fmt.Errorf("%q is not a keyword of %s: an IPv4 listener is the default; drop it", w, cmd)
		default:
			if _, why := parseNumber(w, 65535); why == "" {
				return FOUPort{}, fmt.Errorf("%q needs its keyword: %s port %s", w, cmd, w)
			}
			return FOUPort{}, fmt.Errorf("unknown keyword %q for %s; expected one of: %s", w, cmd, keywords)
		}
	}
	if _, ok := seen["port"]; !ok {
		return FOUPort{}, fmt.Errorf("missing \"port PORT\": %s port PORT", cmd)
	}
	if _, ok := seen["proto"]; !ok && adding {
		return FOUPort{}, fmt.Errorf("fou add port %d needs what it carries: ipproto 4|41|47, or gue", p.Port)
	}
	return p, nil
}

// parseFOUProto parses the protocol after ipproto: a number or an
// /etc/protocols name, as ip fou does.
func parseFOUProto(v string) (uint8, error) {
	if v == "ipip" || v == "IPIP" {
		return 0, fmt.Errorf("bad ipproto %q: in /etc/protocols %s is protocol 94, not IPv4-in-IP's 4; write ipproto 4", v, v)
	}
	n, ok := fouProtoNames[v]
	if !ok {
		m, why := parseNumber(v, 255)
		if why != "" {
			return 0, fmt.Errorf("bad ipproto %q: %s", v, withWant(why, "want 4, 41 or 47"))
		}
		n = uint8(m)
	}
	for _, p := range fouProtos {
		if n == p {
			return n, nil
		}
	}
	return 0, fmt.Errorf("ipproto %s is not supported: xtunnel's FOU carries 4 (IPv4), 41 (IPv6) or 47 (GRE)", v)
}

// Validate checks a FOUPort built in code, as ParseFOUAdd does.
func (p FOUPort) Validate() error {
	switch {
	case p.Port == 0:
		return errors.New("bad port \"0\": want 1..65535")
	case p.GUE && p.IPProto != 0:
		return fmt.Errorf("\"ipproto %d\" conflicts with \"gue\": a GUE port reads the protocol from each packet's GUE header", p.IPProto)
	case !p.GUE:
		if _, err := parseFOUProto(strconv.Itoa(int(p.IPProto))); err != nil {
			return err
		}
	}
	return nil
}

// Args renders p as the words after `fou add` that recreate it:
// ParseFOUAdd(p.Args()) == p for every valid FOUPort.
func (p FOUPort) Args() []string {
	a := []string{"port", strconv.Itoa(int(p.Port))}
	if p.GUE {
		a = append(a, "gue")
	} else {
		a = append(a, "ipproto", strconv.Itoa(int(p.IPProto)))
	}
	if p.IPv6 {
		a = append(a, "-6")
	}
	return a
}

// String is p as `fou show` prints it: "port 5555 ipproto 4 -6".
func (p FOUPort) String() string { return strings.Join(p.Args(), " ") }

// SortFOUPorts sorts ports for listing: IPv4 listeners first, then by port.
func SortFOUPorts(ports []FOUPort) {
	sort.SliceStable(ports, func(i, j int) bool {
		if ports[i].IPv6 != ports[j].IPv6 {
			return !ports[i].IPv6
		}
		return ports[i].Port < ports[j].Port
	})
}
