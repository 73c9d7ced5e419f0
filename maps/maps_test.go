package maps

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"unsafe"

	"github.com/xtunnel/xtunnel/tunnel"
)

func TestKeyOnTheWire(t *testing.T) {
	tun := Tunnel{Spec: tunnel.Spec{Type: tunnel.GRE,
		Local: netip.MustParseAddr("198.51.100.1"), Remote: netip.MustParseAddr("198.51.100.2"),
		IKey: tunnel.Key{Set: true, Value: 0x0102032a}}}
	k := decapKey(tun)
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
