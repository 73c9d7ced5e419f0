package tunnel

import (
	"errors"
	"fmt"
	"net/netip"
)

// Validate checks a Spec as a whole: what ParseLinkAdd checks once every
// word is read. A Spec built in code should pass it before it is used.
// It also refuses non-canonical spellings of a default (a mode that is
// the type's own, EncapLimit 4), so that each tunnel has one Spec.
func (s Spec) Validate() error {
	if err := checkIfname("name", s.Name); err != nil {
		return err
	}
	t := s.Type
	if _, ok := typeKeywords[t]; !ok {
		if t == TypeNone {
			return fmt.Errorf(`missing "type %s" for %q`, typeList("|"), s.Name)
		}
		return fmt.Errorf("unsupported tunnel type %s; supported: %s", t, typeList(" "))
	}
	switch {
	case s.External:
		if err := s.checkExternal(); err != nil {
			return err
		}
	case t.isUDP():
		// local is optional with a fixed remote; without one (FDB
		// mode) local picks the family and is the source.
		if !s.Local.IsValid() && !s.Remote.IsValid() {
			return fdbNeedsLocal(t)
		}
	case !s.Local.IsValid():
		return fmt.Errorf("missing \"local ADDR\": a point-to-point %s tunnel needs both ends%s", t, externalOffer(t))
	case !s.Remote.IsValid() && t != SIT:
		return fmt.Errorf("missing \"remote ADDR\": a point-to-point %s tunnel needs both ends%s", t, externalOffer(t))
	}
	for _, e := range []struct {
		kw string
		a  netip.Addr
	}{{"local", s.Local}, {"remote", s.Remote}} {
		if e.a.IsValid() {
			if err := s.checkAddr(e.kw, e.a); err != nil {
				return err
			}
		}
	}
	if s.Local.IsValid() && s.Local == s.Remote {
		return fmt.Errorf("local and remote are both %s; the remote end must be another host", s.Local)
	}
	if err := s.checkWords(); err != nil {
		return err
	}
	if err := s.checkMode(); err != nil {
		return err
	}
	if err := s.checkDF(); err != nil {
		return err
	}
	if s.TOS&1 != 0 {
		return fmt.Errorf("%s 0x%02x has the inherit bit set; use TOSInherit for %s inherit", t.TOSWord(), s.TOS, t.TOSWord())
	}
	if s.TOSInherit && s.TOS != 0 {
		return fmt.Errorf("%s 0x%02x and %s inherit are both set; give one of them", t.TOSWord(), s.TOS, t.TOSWord())
	}
	if err := s.checkIP6(); err != nil {
		return err
	}
	if err := s.checkEncap(); err != nil {
		return err
	}
	if err := s.checkEthernet(); err != nil {
		return err
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

// checkAddr checks one end's address family and kind for the type.
func (s Spec) checkAddr(kw string, a netip.Addr) error {
	t := s.Type
	switch {
	case t.isUDP():
		if a.Is4In6() {
			return fmt.Errorf("%s %s is an IPv4-mapped address; write %s for an IPv4 underlay", kw, a, a.Unmap())
		}
	case t.Outer6():
		switch {
		case a.Is4():
			return fmt.Errorf("type %s needs IPv6 addresses: %s %s is IPv4; for an IPv4 underlay use type %s", t, kw, a, underlay4[t])
		case a.Is4In6():
			return fmt.Errorf("type %s needs IPv6 addresses: %s %s is an IPv4-mapped address; for an IPv4 underlay use type %s", t, kw, a, underlay4[t])
		}
	case !a.Is4():
		hint := "for an IPv6 underlay use type " + underlay6[t]
		if a.Is4In6() {
			hint = "write " + a.Unmap().String()
		}
		return fmt.Errorf("type %s needs IPv4 addresses: %s %s is IPv6; %s", t, kw, a, hint)
	}
	unicast := "a point-to-point tunnel needs a unicast address"
	if t.isUDP() {
		unicast = "xtunnel needs a unicast address; for many peers use remote any and fdb add MAC dst ADDR dev NAME"
	}
	switch {
	case a.IsUnspecified():
		return fmt.Errorf("%s %s is unspecified; %s", kw, a, unicast)
	case a.IsMulticast():
		return fmt.Errorf("%s %s is multicast; %s", kw, a, unicast)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s %s is the broadcast address; %s", kw, a, unicast)
	case a.Is6() && a.IsLinkLocalUnicast() && s.Dev == "":
		return fmt.Errorf("%s %s is link-local: name the link it is on with dev PHYS_DEV", kw, a)
	}
	return nil
}

// underlay4 and underlay6 name the type to use for the other underlay
// family, for messages.
var (
	underlay4 = map[Type]string{IP6TNL: "ipip or sit", IP6GRE: "gre", IP6GRETAP: "gretap", IP6ERSPAN: "erspan"}
	underlay6 = map[Type]string{GRE: "ip6gre", IPIP: "ip6tnl mode ipip6", SIT: "ip6tnl", GRETAP: "ip6gretap", ERSPAN: "ip6erspan"}
)

// checkWords refuses options the type does not have.
func (s Spec) checkWords() error {
	t := s.Type
	for _, o := range []struct {
		set bool
		kw  string
	}{
		{s.IKey.Set || s.OKey.Set, "key"},
		{s.ICsum || s.OCsum, "csum"},
		{s.ISeq || s.OSeq, "seq"},
		{s.Mode != ModeDefault, "mode"},
		{s.ISATAP, "isatap"},
		{s.NoPMTUDisc, "nopmtudisc"},
		{s.IgnoreDF, "ignore-df"},
		{s.EncapLimit != 0, "encaplimit"},
		{s.FlowLabel != 0 || s.FlowInherit, "flowlabel"},
		{s.VNI != 0, "id"},
		{s.DstPort != 0, "dstport"},
		{s.SrcPortMin != 0 || s.SrcPortMax != 0, "srcport"},
		{s.DF != DFUnset, "df"},
		{s.UDPCsum, "udpcsum"},
		{s.UDP6ZeroCsumTx, "udp6zerocsumtx"},
		{s.UDP6ZeroCsumRx, "udp6zerocsumrx"},
		{s.InnerProtoInherit, "innerprotoinherit"},
		{s.GeneveOpts != "", "opt"},
		{s.Learning, "learning"},
		{s.Ageing != 0, "ageing"},
		{s.ERSPANVer != 0, "erspan_ver"},
		{s.ERSPANIndex != 0, "erspan"},
		{s.ERSPANDir != DirIngress, "erspan_dir"},
		{s.ERSPANHWID != 0, "erspan_hwid"},
		{s.Encap != (Encap{}), "encap"},
	} {
		if o.set && !accepts(t, o.kw) {
			return notForType(t, o.kw)
		}
	}
	return nil
}

// checkMode checks the mode, and the sit tunnels without a fixed remote.
func (s Spec) checkMode() error {
	t := s.Type
	if s.Mode != ModeDefault {
		if _, ok := modeNames[s.Mode]; !ok {
			return fmt.Errorf("unknown mode %d for type %s; want one of: %s", s.Mode, t, modeNamesOf(t))
		}
		if s.Mode == defaultModes[t] {
			return fmt.Errorf("mode %s is the default of %s: leave Mode as ModeDefault", s.Mode, t)
		}
		if _, err := parseModeFor(t, s.Mode.String()); err != nil {
			return err
		}
	}
	if t != SIT {
		return nil
	}
	switch {
	case s.ISATAP && s.Remote.IsValid():
		return fmt.Errorf("\"isatap\" conflicts with \"remote %s\": ISATAP takes the remote from each inner destination; drop remote (or write remote any)", s.Remote)
	case s.ISATAP && s.Mode != ModeDefault:
		return fmt.Errorf("\"isatap\" conflicts with \"mode %s\": ISATAP carries IPv6 only; drop mode (or write mode ip6ip)", s.Mode)
	case !s.Remote.IsValid() && !s.External && s.Mode != ModeDefault:
		return fmt.Errorf("\"remote any\" conflicts with \"mode %s\": 6to4 takes the remote from the inner IPv6 destination, so it needs mode ip6ip; give remote ADDR for mode %s", s.Mode, s.Mode)
	}
	return nil
}

// checkDF checks nopmtudisc and ignore-df against the TTL, as the kernel.
func (s Spec) checkDF() error {
	if s.NoPMTUDisc && s.TTL != 0 {
		return fmt.Errorf("ttl %d and nopmtudisc are incompatible; use ttl inherit with nopmtudisc, or drop nopmtudisc", s.TTL)
	}
	if s.IgnoreDF && !s.NoPMTUDisc {
		return errors.New(`"ignore-df" needs "nopmtudisc": with pmtudisc the outer DF bit is set and the kernel refuses ignore-df; add nopmtudisc (with ttl inherit)`)
	}
	return nil
}

// checkIP6 checks the flow label and the encapsulation limit.
func (s Spec) checkIP6() error {
	switch {
	case s.FlowLabel > 0xfffff:
		return fmt.Errorf("bad flowlabel 0x%x: want 0x0..0xfffff", s.FlowLabel)
	case s.FlowInherit && s.FlowLabel != 0:
		return fmt.Errorf("flowlabel 0x%05x and flowlabel inherit are both set; give one of them", s.FlowLabel)
	case s.EncapLimit == 4:
		return errors.New("encaplimit 4 is the default: leave EncapLimit 0")
	case s.EncapLimit != EncapLimitNone && s.EncapLimit != EncapLimitZero && (s.EncapLimit < 0 || s.EncapLimit > 255):
		return fmt.Errorf("bad encaplimit %d: want 1..255, 0 for the default 4, EncapLimitZero or EncapLimitNone", s.EncapLimit)
	}
	return nil
}

// checkEncap checks the FOU or GUE encapsulation.
func (s Spec) checkEncap() error {
	e := s.Encap
	switch e.Type {
	case EncapNone:
		switch {
		case e.DPort != 0:
			return fmt.Errorf("\"encap-dport %d\" needs \"encap fou\" or \"encap gue\"", e.DPort)
		case e.SPort != 0:
			return fmt.Errorf("\"encap-sport %d\" needs \"encap fou\" or \"encap gue\"", e.SPort)
		case e.Csum:
			return errors.New(`"encap-csum" needs "encap fou" or "encap gue"`)
		}
	case EncapFOU, EncapGUE:
		if e.DPort == 0 {
			return fmt.Errorf("\"encap %s\" needs \"encap-dport PORT\": the UDP port the remote end listens on (fou add port PORT)", e.Type)
		}
	default:
		return fmt.Errorf("unknown encap %s; want fou, gue or none", e.Type)
	}
	return nil
}

// externalOffer points a t tunnel without ends to external, when t has it.
func externalOffer(t Type) string {
	if !accepts(t, "external") {
		return ""
	}
	return "; for one netdev with many peers (routes) write external"
}

// externalEncap is the route encap word of an external t tunnel's peers.
func externalEncap(t Type) string {
	if t.Outer6() {
		return "ip6"
	}
	return "ip"
}

// externalRemoteHint says where an external tunnel's remotes come from.
func externalRemoteHint(s Spec) string {
	return fmt.Sprintf("external tunnels take their remotes from routes: xtunnel route add PREFIX encap %s dst ADDR dev %s",
		externalEncap(s.Type), s.Name)
}

// externalKeyHint says where an external tunnel's keys come from.
func externalKeyHint(s Spec) string {
	return fmt.Sprintf("with external the key is per peer: xtunnel route add PREFIX encap %s id KEY dst ADDR dev %s",
		externalEncap(s.Type), s.Name)
}

const externalISATAPHint = "ISATAP takes each remote from the inner destination, an external tunnel from its routes; give one of them"

// checkExternal checks an external (collect_md) tunnel: a type that has
// it, no remote, no keys, no ISATAP; local is optional.
func (s Spec) checkExternal() error {
	t := s.Type
	switch {
	case !accepts(t, "external"):
		if err := unsupportedFor(t, "external"); err != nil {
			return err
		}
		return notForType(t, "external")
	case s.Remote.IsValid():
		return fmt.Errorf("remote %s conflicts with external: %s", s.Remote, externalRemoteHint(s))
	case s.IKey.Set || s.OKey.Set:
		return fmt.Errorf("a key conflicts with external: %s", externalKeyHint(s))
	case s.ISATAP:
		return fmt.Errorf("isatap conflicts with external: %s", externalISATAPHint)
	}
	return nil
}
