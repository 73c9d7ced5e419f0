package tunnel

import (
	"fmt"
	"strconv"
)

// Args renders s as the canonical words after `link add` that recreate
// it: ParseLinkAdd(s.Args()) == s for every valid Spec. They are valid
// words for `ip link add` as well (mtu comes before type, TOS is in hex).
func (s Spec) Args() []string {
	a := []string{"name", s.Name}
	if s.MTU != 0 {
		a = append(a, "mtu", strconv.Itoa(s.MTU))
	}
	a = append(a, "type", s.Type.String())
	if s.Type.isUDP() {
		a = append(a, "id", strconv.FormatUint(uint64(s.VNI), 10))
	}
	a = append(a, s.ModeWords()...)
	if s.External {
		a = append(a, "external")
	}
	if s.Local.IsValid() {
		a = append(a, "local", s.Local.String())
	}
	switch {
	case s.Remote.IsValid():
		a = append(a, "remote", s.Remote.String())
	case (s.Type == SIT && !s.ISATAP && !s.External) || s.Type == GENEVE:
		a = append(a, "remote", "any") // vxlan: no remote is remote any
	}
	if s.ISATAP {
		a = append(a, "isatap")
	}
	a = append(a, s.KeyWords()...)
	switch {
	case !s.Type.isERSPAN():
		a = append(a, s.CsumSeqWords()...)
	case s.ISeq:
		a = append(a, "seq") // erspan always sends them
	}
	if s.TTL != s.Type.DefaultTTL() {
		ttl := "inherit"
		if s.TTL != 0 {
			ttl = strconv.Itoa(int(s.TTL))
		}
		a = append(a, s.Type.TTLWord(), ttl)
	}
	a = append(a, s.TOSWords()...)
	a = append(a, s.FlowLabelWords()...)
	a = append(a, s.EncapLimitWords()...)
	if s.Dev != "" {
		a = append(a, "dev", s.Dev)
	}
	if s.NoPMTUDisc {
		a = append(a, "nopmtudisc")
	}
	if s.IgnoreDF {
		a = append(a, "ignore-df")
	}
	a = append(a, s.EncapWords()...)
	return append(a, s.EthernetWords()...)
}

// KeyWords renders the keys: "key K" when both directions share one.
func (s Spec) KeyWords() []string {
	if s.IKey.Set && s.OKey.Set && s.IKey.Value == s.OKey.Value {
		return []string{"key", strconv.FormatUint(uint64(s.IKey.Value), 10)}
	}
	var a []string
	if s.IKey.Set {
		a = append(a, "ikey", strconv.FormatUint(uint64(s.IKey.Value), 10))
	}
	if s.OKey.Set {
		a = append(a, "okey", strconv.FormatUint(uint64(s.OKey.Value), 10))
	}
	return a
}

// TOSWords renders the TOS setting (hex, as iproute2; tclass over IPv6);
// none for TOS 0.
func (s Spec) TOSWords() []string {
	if s.TOSInherit {
		return []string{s.Type.TOSWord(), "inherit"}
	}
	if s.TOS != 0 {
		return []string{s.Type.TOSWord(), fmt.Sprintf("0x%02x", s.TOS)}
	}
	return nil
}

// ModeWords renders a mode other than the type's default: "mode any".
func (s Spec) ModeWords() []string {
	if s.Mode == ModeDefault {
		return nil
	}
	return []string{"mode", s.Mode.String()}
}

// CsumSeqWords renders the GRE checksum and sequence flags: "csum" when
// both directions have it, else "icsum" and "ocsum"; the same for seq.
func (s Spec) CsumSeqWords() []string {
	var a []string
	for _, f := range []struct {
		both    string
		in, out bool
	}{{"csum", s.ICsum, s.OCsum}, {"seq", s.ISeq, s.OSeq}} {
		switch {
		case f.in && f.out:
			a = append(a, f.both)
		case f.in:
			a = append(a, "i"+f.both)
		case f.out:
			a = append(a, "o"+f.both)
		}
	}
	return a
}

// FlowLabelWords renders the IPv6 flow label (hex, as iproute2); none for
// flow label 0.
func (s Spec) FlowLabelWords() []string {
	switch {
	case s.FlowInherit:
		return []string{"flowlabel", "inherit"}
	case s.FlowLabel != 0:
		return []string{"flowlabel", fmt.Sprintf("0x%05x", s.FlowLabel)}
	}
	return nil
}

// EncapLimitWords renders the encapsulation limit; none for the default.
func (s Spec) EncapLimitWords() []string {
	switch s.EncapLimit {
	case 0:
		return nil
	case EncapLimitNone:
		return []string{"encaplimit", "none"}
	case EncapLimitZero:
		return []string{"encaplimit", "0"}
	}
	return []string{"encaplimit", strconv.Itoa(s.EncapLimit)}
}

// EncapWords renders the FOU or GUE encapsulation; none without one.
func (s Spec) EncapWords() []string {
	e := s.Encap
	if e.Type == EncapNone {
		return nil
	}
	a := []string{"encap", e.Type.String()}
	if e.SPort != 0 {
		a = append(a, "encap-sport", strconv.Itoa(int(e.SPort)))
	}
	a = append(a, "encap-dport", strconv.Itoa(int(e.DPort)))
	if e.Csum {
		a = append(a, "encap-csum")
	}
	return a
}
