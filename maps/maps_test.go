package maps

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/tunnel"
)

func TestKeyOnTheWire(t *testing.T) {
	tun := Tunnel{Spec: tunnel.Spec{Type: tunnel.GRE,
		Local: netip.MustParseAddr("198.51.100.1"), Remote: netip.MustParseAddr("198.51.100.2"),
		IKey: tunnel.Key{Set: true, Value: 0x0102032a}}}
	k := decapKeys(tun)[0]
	b := (*[4]byte)(unsafe.Pointer(&k.Key))[:]
	if !bytes.Equal(b, []byte{1, 2, 3, 0x2a}) {
		t.Errorf("key bytes %x, want 0102032a (network order)", b)
	}
	if want := [16]byte{10: 0xff, 11: 0xff, 12: 198, 13: 51, 14: 100, 15: 1}; k.Local != want {
		t.Errorf("local %x, want IPv4-mapped %x", k.Local, want)
	}
	if k.Proto != 47 || k.HasKey != 1 {
		t.Errorf("proto %d has_key %d, want 47 1", k.Proto, k.HasKey)
	}
}

func TestDecapKeysPerMode(t *testing.T) {
	v4 := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	for _, tc := range []struct {
		spec   tunnel.Spec
		protos []uint8
		anyRem bool
	}{
		{tunnel.Spec{Type: tunnel.GRE, Local: v4("10.0.0.1"), Remote: v4("10.0.0.2")}, []uint8{47}, false},
		{tunnel.Spec{Type: tunnel.IPIP, Local: v4("10.0.0.1"), Remote: v4("10.0.0.2")}, []uint8{4}, false},
		{tunnel.Spec{Type: tunnel.IPIP, Mode: tunnel.ModeAny, Local: v4("10.0.0.1"), Remote: v4("10.0.0.2")}, []uint8{4, 137}, false},
		{tunnel.Spec{Type: tunnel.SIT, Local: v4("10.0.0.1"), Remote: v4("10.0.0.2")}, []uint8{41}, false},
		{tunnel.Spec{Type: tunnel.SIT, Mode: tunnel.ModeAny, Local: v4("10.0.0.1")}, []uint8{4, 41, 137}, true},
		{tunnel.Spec{Type: tunnel.IP6TNL, Mode: tunnel.ModeAny, Local: v4("2001:db8::1"), Remote: v4("2001:db8::2")}, []uint8{4, 41}, false},
		{tunnel.Spec{Type: tunnel.IP6GRE, Local: v4("2001:db8::1"), Remote: v4("2001:db8::2")}, []uint8{47}, false},
	} {
		keys := decapKeys(Tunnel{Spec: tc.spec})
		var got []uint8
		for _, k := range keys {
			got = append(got, k.Proto)
			if tc.anyRem != (k.Remote == [16]uint8{}) {
				t.Errorf("%s %s: remote %x, want any=%v", tc.spec.Type, tc.spec.Mode, k.Remote, tc.anyRem)
			}
		}
		if !reflect.DeepEqual(got, tc.protos) {
			t.Errorf("%s %s: protocols %v, want %v", tc.spec.Type, tc.spec.Mode, got, tc.protos)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	peer, _ := net.ParseMAC("02:00:00:00:00:02")
	for _, tun := range []Tunnel{
		{Spec: tunnel.Spec{Name: "gre1", Type: tunnel.GRE,
			Local: netip.MustParseAddr("198.51.100.1"), Remote: netip.MustParseAddr("198.51.100.2"),
			IKey: tunnel.Key{Set: true, Value: 42}, OKey: tunnel.Key{Set: true, Value: 43},
			TTL: 64, TOS: 0x10},
			ID: 7, Ifindex: 5, PeerIfindex: 6, LinkIfindex: 2, OverlayMTU: 1472, MAC: mac, PeerMAC: peer},
		{Spec: tunnel.Spec{Name: "ipip-with-15ch", Type: tunnel.IPIP,
			Local: netip.MustParseAddr("10.0.0.1"), Remote: netip.MustParseAddr("10.0.0.2"),
			TOSInherit: true, NoPMTUDisc: true},
			ID: 4095, Ifindex: 9, PeerIfindex: 10, LinkIfindex: 3, OverlayMTU: 1480, MAC: mac, PeerMAC: peer},
		{Spec: tunnel.Spec{Name: "ip6tnl1", Type: tunnel.IP6TNL, Mode: tunnel.ModeAny,
			Local: netip.MustParseAddr("2001:db8::1"), Remote: netip.MustParseAddr("2001:db8::2"),
			EncapLimit: 7, FlowLabel: 0xabcde, TTL: 60},
			ID: 3, Ifindex: 11, PeerIfindex: 12, LinkIfindex: 3, OverlayMTU: 1452, MAC: mac, PeerMAC: peer},
		{Spec: tunnel.Spec{Name: "ip6tnl2", Type: tunnel.IP6TNL, EncapLimit: tunnel.EncapLimitNone,
			Local: netip.MustParseAddr("2001:db8::1"), Remote: netip.MustParseAddr("2001:db8::2"), FlowInherit: true},
			ID: 5, Ifindex: 13, PeerIfindex: 14, LinkIfindex: 3, OverlayMTU: 1460, MAC: mac, PeerMAC: peer},
		{Spec: tunnel.Spec{Name: "sit-isatap", Type: tunnel.SIT, ISATAP: true,
			Local: netip.MustParseAddr("198.51.100.1")},
			ID: 6, Ifindex: 15, PeerIfindex: 16, LinkIfindex: 3, OverlayMTU: 1480, MAC: mac, PeerMAC: peer},
	} {
		v, err := toValue(tun)
		if err != nil {
			t.Fatal(err)
		}
		got := fromValue(v)
		if !reflect.DeepEqual(got, tun) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, tun)
		}
	}
	if _, err := toValue(Tunnel{}); err == nil {
		t.Error("toValue of a tunnel without a type: want an error")
	}
}

// TestEthernetValueRoundTrip: every option of the Ethernet types survives
// the map value, as link show reads it back.
func TestEthernetValueRoundTrip(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	for i, line := range []string{
		"gt1 type gretap local 198.51.100.1 remote 198.51.100.2 key 7 csum seq",
		"gt6 type ip6gretap local 2001:db8::1 remote 2001:db8::2 key 9 encaplimit none",
		"vx1 type vxlan id 42 local 198.51.100.1 remote 198.51.100.2 dstport 4790 udpcsum df set tos 0x10",
		"vx2 type vxlan id 16777215 local 198.51.100.1 learning ageing 120 srcport 40000 40100",
		"vx6 type vxlan id 7 local 2001:db8::1 remote 2001:db8::2 udp6zerocsumtx udp6zerocsumrx",
		"gn1 type geneve id 77 local 198.51.100.1 remote 198.51.100.2 opt 0102:01:00000001 opt 0103:82: df inherit",
		"gn2 type geneve id 5 local 2001:db8::1 remote 2001:db8::2 innerprotoinherit",
		"gn3 type geneve id 6 local 198.51.100.1 remote any learning",
		"er1 type erspan local 198.51.100.1 remote 198.51.100.2 key 100 erspan_ver 1 erspan 12345",
		"er2 type erspan local 198.51.100.1 remote 198.51.100.2 key 1023 erspan_ver 2 erspan_dir egress erspan_hwid 63",
		"er6 type ip6erspan local 2001:db8::1 remote 2001:db8::2 key 5 erspan_ver 2 seq",
	} {
		s, err := tunnel.ParseLinkAdd(strings.Fields(line))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		tun := Tunnel{Spec: s, ID: uint32(i), Ifindex: 20 + i, PeerIfindex: 40 + i, LinkIfindex: 2,
			OverlayMTU: 1400, MAC: mac, PeerMAC: mac}
		v, err := toValue(tun)
		if err != nil {
			t.Fatal(err)
		}
		if got := fromValue(v); !reflect.DeepEqual(got, tun) {
			t.Errorf("%s: round trip:\n got %+v\nwant %+v", line, got.Spec, tun.Spec)
		}
	}
}

// TestERSPANNoGREKey: ERSPAN carries its session ID in its own header; the
// GRE header has no key (and always a sequence number).
func TestERSPANNoGREKey(t *testing.T) {
	s, err := tunnel.ParseLinkAdd(strings.Fields("er1 type erspan local 198.51.100.1 remote 198.51.100.2 key 100"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := toValue(Tunnel{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	if v.Flags&(loader.FlagOKey|loader.FlagIKey) != 0 || v.Flags&loader.FlagOSeq == 0 || v.Flags&loader.FlagERSPAN == 0 {
		t.Errorf("flags %#x: want ERSPAN and OSEQ, no GRE key", v.Flags)
	}
	if unwire(v.Okey) != 100 || v.ErspanVer != 1 {
		t.Errorf("session %d version %d, want 100 1", unwire(v.Okey), v.ErspanVer)
	}
	k := decapKeys(Tunnel{Spec: s})
	if len(k) != 1 || k[0].Proto != 47 || ntohs(k[0].Port) != ethPERSPAN || unwire(k[0].Key) != 100 || k[0].HasKey != 1 {
		t.Errorf("decap keys %+v: want one GRE key on session 100 marked ERSPAN", k)
	}
}
