package loader_test

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// outerWant is what the outer IPv4 header of an encapsulated packet must say.
type outerWant struct {
	tos uint8
	ttl uint8
	df  bool // DF set and Id 0; without DF the Id is random and not compared
}

// encapFrame is what the TC program must make of the inner packet l3:
// built independently with gopacket, checksum computed by gopacket.
func encapFrame(t *testing.T, tun maps.Tunnel, typ layers.EthernetType, l3 []byte, o outerWant, id uint16) []byte {
	t.Helper()
	ip4 := &layers.IPv4{
		Version: 4, IHL: 5, TOS: o.tos, Id: id, TTL: o.ttl,
		Protocol: layers.IPProtocolIPv4, SrcIP: ip(tun.Local), DstIP: ip(tun.Remote),
	}
	if o.df {
		ip4.Flags = layers.IPv4DontFragment
	}
	ls := []gopacket.SerializableLayer{
		&layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv4},
		ip4,
	}
	if tun.Type == tunnel.GRE {
		ip4.Protocol = layers.IPProtocolGRE
		ls = append(ls, &layers.GRE{KeyPresent: tun.OKey.Set, Key: tun.OKey.Value, Protocol: typ})
	}
	return serialize(t, append(ls, gopacket.Payload(l3))...)
}

// with returns tun changed by f.
func with(tun maps.Tunnel, f func(*maps.Tunnel)) maps.Tunnel {
	f(&tun)
	return tun
}

func TestEncap(t *testing.T) {
	requireRootForBPF(t)
	gk, g, ii := greTunnel(42), greTunnel(-1), ipipTunnel()
	v4 := inner{ttl: 33}
	v4df := inner{ttl: 33, df: true}
	v6 := inner{v6: true, ttl: 33}
	tos := func(in inner, tos uint8) inner { in.tos = tos; return in }
	ttlInherit := func(tun *maps.Tunnel) { tun.TTL = 0 }
	tosInherit := func(tun *maps.Tunnel) { tun.TOSInherit = true }
	noPMTU := func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 }
	fixedTOS := func(v uint8) func(*maps.Tunnel) { return func(tun *maps.Tunnel) { tun.TOS = v } }

	cases := []struct {
		name string
		tun  maps.Tunnel
		in   inner
		want outerWant
	}{
		{name: "gre okey inner v4", tun: gk, in: v4, want: outerWant{ttl: 64, df: true}},
		{name: "gre okey inner v6", tun: gk, in: v6, want: outerWant{ttl: 64, df: true}},
		{name: "gre no key inner v4", tun: g, in: v4, want: outerWant{ttl: 64, df: true}},
		{name: "gre no key inner v6", tun: g, in: v6, want: outerWant{ttl: 64, df: true}},
		{name: "gre ikey differs from okey", tun: with(g, func(tun *maps.Tunnel) {
			tun.IKey, tun.OKey = tunnel.Key{Set: true, Value: 10}, tunnel.Key{Set: true, Value: 0xdeadbeef}
		}), in: v4, want: outerWant{ttl: 64, df: true}},
		{name: "gre only ikey", tun: with(g, func(tun *maps.Tunnel) { tun.IKey = tunnel.Key{Set: true, Value: 10} }), in: v4, want: outerWant{ttl: 64, df: true}},
		{name: "gre okey 0", tun: greTunnel(0), in: v4, want: outerWant{ttl: 64, df: true}},
		{name: "ipip", tun: ii, in: v4, want: outerWant{ttl: 64, df: true}},

		{name: "ttl fixed", tun: with(gk, func(tun *maps.Tunnel) { tun.TTL = 200 }), in: v4, want: outerWant{ttl: 200, df: true}},
		{name: "ttl inherit v4", tun: with(gk, ttlInherit), in: v4, want: outerWant{ttl: 33, df: true}},
		{name: "ttl inherit v6", tun: with(gk, ttlInherit), in: v6, want: outerWant{ttl: 33, df: true}},
		{name: "ttl inherit ipip", tun: with(ii, ttlInherit), in: inner{ttl: 7}, want: outerWant{ttl: 7, df: true}},

		{name: "tos fixed", tun: with(gk, fixedTOS(0x10)), in: tos(v4, 0x28), want: outerWant{tos: 0x10, ttl: 64, df: true}},
		{name: "tos fixed ecn bits ignored", tun: with(gk, fixedTOS(0x13)), in: v4, want: outerWant{tos: 0x10, ttl: 64, df: true}},
		{name: "tos fixed inner ect1", tun: with(gk, fixedTOS(0x10)), in: tos(v4, 0x28|ect1), want: outerWant{tos: 0x11, ttl: 64, df: true}},
		{name: "tos fixed inner ect0", tun: with(ii, fixedTOS(0x10)), in: tos(v4, ect0), want: outerWant{tos: 0x12, ttl: 64, df: true}},
		{name: "tos fixed inner ce", tun: with(gk, fixedTOS(0x10)), in: tos(v4, 0x28|ce), want: outerWant{tos: 0x12, ttl: 64, df: true}},
		{name: "tos fixed inner v6 ce", tun: with(gk, fixedTOS(0x10)), in: tos(v6, 0xb8|ce), want: outerWant{tos: 0x12, ttl: 64, df: true}},
		{name: "tos inherit", tun: with(gk, tosInherit), in: tos(v4, 0x28), want: outerWant{tos: 0x28, ttl: 64, df: true}},
		{name: "tos inherit ect0", tun: with(gk, tosInherit), in: tos(v4, 0x28|ect0), want: outerWant{tos: 0x2a, ttl: 64, df: true}},
		{name: "tos inherit ce", tun: with(gk, tosInherit), in: tos(v4, 0x28|ce), want: outerWant{tos: 0x2a, ttl: 64, df: true}},
		{name: "tos inherit v6", tun: with(gk, tosInherit), in: tos(v6, 0xb8|ect1), want: outerWant{tos: 0xb9, ttl: 64, df: true}},
		{name: "tos inherit v6 ce", tun: with(g, tosInherit), in: tos(v6, 0xb8|ce), want: outerWant{tos: 0xba, ttl: 64, df: true}},
		{name: "tos inherit ipip", tun: with(ii, tosInherit), in: tos(v4, 0xe0|ect1), want: outerWant{tos: 0xe1, ttl: 64, df: true}},

		{name: "pmtudisc inner without df", tun: gk, in: v4, want: outerWant{ttl: 64, df: true}},
		{name: "nopmtudisc inner df", tun: with(gk, noPMTU), in: v4df, want: outerWant{ttl: 33, df: true}},
		{name: "nopmtudisc inner without df", tun: with(gk, noPMTU), in: v4, want: outerWant{ttl: 33}},
		{name: "nopmtudisc inner v6", tun: with(g, noPMTU), in: v6, want: outerWant{ttl: 33}},
		{name: "nopmtudisc ipip", tun: with(ii, noPMTU), in: v4, want: outerWant{ttl: 33}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			l3 := c.in.bytes(t)
			res := d.run(t, d.objs.Encap, ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3))
			checkVerdict(t, res, tcRedirect, "encap")
			var id uint16
			if !c.want.df && len(res.out) >= 14+20 {
				id = binary.BigEndian.Uint16(res.out[14+4:]) // random without DF
			}
			checkFrame(t, res.out, encapFrame(t, c.tun, c.in.etherType(), l3, c.want, id))
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
		})
	}
}

// TestEncapRandomID checks that without DF the outer Id is not constant.
func TestEncapRandomID(t *testing.T) {
	tun := with(greTunnel(42), func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 })
	d := newDataplane(t, tun)
	frame := ethFrame(t, wireDstMAC, wireSrcMAC, layers.EthernetTypeIPv4, inner{}.bytes(t))
	ids := map[uint16]bool{}
	for i := 0; i < 16; i++ {
		res := d.run(t, d.objs.Encap, frame)
		checkVerdict(t, res, tcRedirect, "encap")
		ids[binary.BigEndian.Uint16(res.out[14+4:])] = true
	}
	if len(ids) < 2 {
		t.Errorf("16 packets without DF all got outer Id %v; want random Ids", ids)
	}
}

func TestEncapDrop(t *testing.T) {
	requireRootForBPF(t)
	frameOf := func(in inner) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
		}
	}
	v4, v6 := frameOf(inner{}), frameOf(inner{v6: true})
	arp := func(t *testing.T) []byte {
		return serialize(t, &layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeARP}, &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: wireSrcMAC, SourceProtAddress: net.IPv4(10, 9, 0, 1).To4(),
			DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: net.IPv4(10, 9, 0, 2).To4(),
		})
	}
	cases := []struct {
		name   string
		tun    *maps.Tunnel // nil: no tunnel on the device
		frame  func(t *testing.T) []byte
		reason string
	}{
		{name: "ipv6 on ipip", tun: ptrTo(ipipTunnel()), frame: v6, reason: "tx_inner_family"},
		{name: "arp", tun: ptrTo(greTunnel(42)), frame: arp, reason: "tx_not_ip"},
		{name: "arp on ipip", tun: ptrTo(ipipTunnel()), frame: arp, reason: "tx_not_ip"},
		{name: "no tunnel on the device", frame: v4, reason: "tx_no_tunnel"},
		{name: "tunnel on another device", tun: ptrTo(with(greTunnel(42), func(tun *maps.Tunnel) { tun.Ifindex = 1000 })),
			frame: v4, reason: "tx_no_tunnel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d *dataplane
			if c.tun == nil {
				d = newDataplane(t)
			} else {
				d = newDataplane(t, *c.tun)
			}
			res := d.run(t, d.objs.Encap, c.frame(t))
			checkVerdict(t, res, tcShot, c.reason)
			if c.tun != nil {
				want := maps.Counters{TxDropped: 1}
				if c.reason == "tx_no_tunnel" {
					want = maps.Counters{}
				}
				checkCounters(t, d.counters(t, c.tun.ID), want)
			}
		})
	}
}

// TestEncapTruncated cuts inner packets at every length inside their L3
// header (Ethernet + 10 bytes of IPv4, ...): each must be dropped as
// tx_truncated. Linux 6.18's BPF_PROG_TEST_RUN refuses such skbs itself
// (EINVAL: an IPv4/IPv6 ethertype needs a whole L3 header), so there the
// program cannot be reached; kernels that accept them do check it.
func TestEncapTruncated(t *testing.T) {
	requireRootForBPF(t)
	for _, in := range []inner{{}, {v6: true}} {
		t.Run(in.etherType().String(), func(t *testing.T) {
			tun := greTunnel(42)
			d := newDataplane(t, tun)
			frame := ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
			hdr := 20
			if in.v6 {
				hdr = 40
			}
			var ran, refused uint64
			for n := 14; n < 14+hdr; n++ {
				res, err := d.tryRun(t, d.objs.Encap, frame[:n])
				if errors.Is(err, unix.EINVAL) {
					refused++
					continue
				}
				if err != nil {
					t.Fatalf("len %d: %v", n, err)
				}
				ran++
				if res.ret != tcShot || len(res.moved) != 1 || res.moved["tx_truncated"] != 1 {
					t.Errorf("len %d: verdict %d, reasons %v; want %d, tx_truncated", n, res.ret, res.moved, tcShot)
				}
			}
			if refused > 0 {
				t.Logf("%d of %d truncated lengths refused by BPF_PROG_TEST_RUN (EINVAL) before the program ran", refused, hdr)
			}
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: ran})
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
