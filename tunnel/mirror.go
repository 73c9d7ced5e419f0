package tunnel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MirrorUsage is the grammar of the mirror commands, for help output.
const MirrorUsage = `mirror add dev MON ingress|egress|both to NAME [sample 1/N]
mirror del dev MON [ingress|egress|both]
mirror show [dev MON]
  MON      the netdev whose frames are copied
  ingress  the frames MON receives; egress: the frames it sends; both
  NAME     the erspan or ip6erspan tunnel the copies are sent through
  sample   1/N (or N) copies one frame in N, N 1..65535; default 1/1,
           every frame (--sample is the same word)
  del without a direction stops both.
This is tc's matchall mirror action without tc: mirror add dev eth1 both
to erspan1 does what tc filter add dev eth1 ... matchall action mirred
egress mirror dev erspan1 does for each direction.`

// Mirror copies the frames a netdev receives, sends or both into an
// ERSPAN tunnel.
type Mirror struct {
	Dev             string // the monitored netdev
	Ingress, Egress bool   // which of its frames are copied
	To              string // the erspan or ip6erspan tunnel
	Sample          uint32 // 1: every frame; N: one in N (1..65535); 0 from ParseMirrorDel
}

// maxSample is the largest N of sample 1/N.
const maxSample = 65535

// Direction names m's directions as the grammar does: ingress, egress or
// both; "" for none.
func (m Mirror) Direction() string {
	switch {
	case m.Ingress && m.Egress:
		return "both"
	case m.Ingress:
		return "ingress"
	case m.Egress:
		return "egress"
	}
	return ""
}

// Validate checks a Mirror built in code, as ParseMirrorAdd does.
func (m Mirror) Validate() error {
	if err := checkIfname("dev", m.Dev); err != nil {
		return err
	}
	if err := checkIfname("to", m.To); err != nil {
		return err
	}
	switch {
	case !m.Ingress && !m.Egress:
		return fmt.Errorf("mirror of %s copies nothing: set Ingress, Egress or both", m.Dev)
	case m.Sample == 0 || m.Sample > maxSample:
		return fmt.Errorf("bad sample \"%d\": want 1/N, N 1..65535 (1 copies every frame)", m.Sample)
	case m.Dev == m.To:
		return fmt.Errorf("mirroring %s into itself would loop: give another netdev to dev or to", m.Dev)
	}
	return nil
}

// Args renders m as the words after `mirror add` that recreate it:
// ParseMirrorAdd(m.Args()) == m for every valid Mirror.
func (m Mirror) Args() []string {
	a := []string{"dev", m.Dev, m.Direction(), "to", m.To}
	if m.Sample > 1 {
		a = append(a, "sample", "1/"+strconv.FormatUint(uint64(m.Sample), 10))
	}
	return a
}

// String is m as `mirror show` prints it: "dev eth1 both to erspan1".
func (m Mirror) String() string { return strings.Join(m.Args(), " ") }

// ParseMirrorAdd parses the words after `mirror add`: dev MON, a
// direction, to NAME and optionally sample 1/N, in any order.
func ParseMirrorAdd(args []string) (Mirror, error) {
	if len(args) == 0 {
		return Mirror{}, errors.New("mirror add needs a mirror: mirror add dev MON ingress|egress|both to NAME [sample 1/N]")
	}
	return parseMirror("mirror add", args, true)
}

// ParseMirrorDel parses the words after `mirror del`: dev MON and
// optionally a direction, both when none is given. To and Sample are
// left zero.
func ParseMirrorDel(args []string) (Mirror, error) {
	if len(args) == 0 {
		return Mirror{}, errors.New("mirror del needs a device: mirror del dev MON [ingress|egress|both]")
	}
	return parseMirror("mirror del", args, false)
}

// ParseMirrorShow parses the words after `mirror show`: nothing (every
// mirror), or dev MON (or MON).
func ParseMirrorShow(args []string) (string, error) {
	return ParseDevName("mirror show", args, false)
}

func parseMirror(cmd string, args []string, adding bool) (Mirror, error) {
	var m Mirror
	seen := map[string]string{} // slot: the word that filled it
	fill := func(slot, w string) error {
		if prev, ok := seen[slot]; ok {
			if prev == w {
				return fmt.Errorf("duplicate keyword %q", w)
			}
			if slot == "direction" {
				return fmt.Errorf("%q conflicts with %q: give one direction, ingress, egress or both", w, prev)
			}
			return fmt.Errorf("duplicate keyword %q (same as %q)", w, prev)
		}
		seen[slot] = w
		return nil
	}
	keywords := "dev ingress egress both"
	if adding {
		keywords = "dev ingress egress both to sample"
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
		case w == "dev":
			if err := fill("dev", w); err != nil {
				return Mirror{}, err
			}
			v, err := value("the monitored netdev: dev MON")
			if err != nil {
				return Mirror{}, err
			}
			if err := checkIfname("dev", v); err != nil {
				return Mirror{}, err
			}
			m.Dev = v
		case w == "ingress" || w == "egress" || w == "both":
			if err := fill("direction", w); err != nil {
				return Mirror{}, err
			}
			m.Ingress, m.Egress = w != "egress", w != "ingress"
		case adding && w == "to":
			if err := fill("to", w); err != nil {
				return Mirror{}, err
			}
			v, err := value("the erspan tunnel: to NAME")
			if err != nil {
				return Mirror{}, err
			}
			if err := checkIfname("to", v); err != nil {
				return Mirror{}, err
			}
			m.To = v
		case adding && (w == "sample" || w == "--sample" || strings.HasPrefix(w, "--sample=")):
			kw, v, inline := strings.Cut(w, "=")
			if err := fill("sample", kw); err != nil {
				return Mirror{}, err
			}
			if !inline {
				var err error
				if v, err = value("a rate: " + w + " 1/N, one frame in N"); err != nil {
					return Mirror{}, err
				}
			}
			n, err := parseSample(kw, v)
			if err != nil {
				return Mirror{}, err
			}
			m.Sample = n
		case !adding && (w == "to" || w == "sample" || w == "--sample" || strings.HasPrefix(w, "--sample=")):
			return Mirror{}, fmt.Errorf("%q is not needed by mirror del: a mirror is named by its dev and direction; write mirror del dev MON [ingress|egress|both]", strings.SplitN(w, "=", 2)[0])
		case w == "action" || w == "mirror" || w == "redirect" || w == "mirred" || w == "matchall":
			return Mirror{}, fmt.Errorf("%q is tc's word, not needed by %s: write %s dev MON ingress|egress|both to NAME", w, cmd, cmd)
		default:
			if _, named := seen["dev"]; !named && checkIfname("dev", w) == nil {
				return Mirror{}, fmt.Errorf("%q needs its keyword: %s dev %s", w, cmd, w)
			}
			return Mirror{}, fmt.Errorf("unknown keyword %q for %s; expected one of: %s", w, cmd, keywords)
		}
	}
	if m.Dev == "" {
		return Mirror{}, fmt.Errorf("missing \"dev MON\": %s dev MON names the netdev whose frames are copied", cmd)
	}
	if _, ok := seen["direction"]; !ok {
		if !adding {
			m.Ingress, m.Egress = true, true
			return m, nil
		}
		return Mirror{}, fmt.Errorf("%s dev %s needs a direction: ingress, egress or both", cmd, m.Dev)
	}
	if !adding {
		return m, nil
	}
	if m.To == "" {
		return Mirror{}, fmt.Errorf("missing \"to NAME\": %s dev %s %s to NAME names the erspan tunnel the copies go through", cmd, m.Dev, m.Direction())
	}
	if m.Sample == 0 {
		m.Sample = 1
	}
	if m.Dev == m.To {
		return Mirror{}, fmt.Errorf("mirroring %s into itself would loop: give another netdev to dev or to", m.Dev)
	}
	return m, nil
}

// parseSample parses the rate after sample: 1/N or N, N 1..65535.
func parseSample(kw, v string) (uint32, error) {
	num, den, frac := strings.Cut(v, "/")
	if !frac {
		num, den = "1", v
	}
	if num != "1" {
		return 0, fmt.Errorf("bad %s %q: want 1/N, one frame in N, or N alone", kw, v)
	}
	n, why := parseNumber(den, maxSample)
	if why == "" && n == 0 {
		why = "one frame in 0 is no frame"
	}
	if why != "" {
		return 0, fmt.Errorf("bad %s %q: %s", kw, v, withWant(why, "want 1/N with N 1..65535 (1/1 copies every frame)"))
	}
	return uint32(n), nil
}
