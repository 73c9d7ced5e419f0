package loader_test

import (
	"testing"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// TestRoundTrip feeds what one end encapsulates into the decap of the other
// end (local and remote swapped, ikey and okey swapped): the overlay there
// must receive the original inner packet.
func TestRoundTrip(t *testing.T) {
	requireRootForBPF(t)
	cases := []struct {
		name string
		tun  maps.Tunnel // the sending end
		in   inner
	}{
		{name: "gre key inner v4", tun: greTunnel(42), in: inner{}},
		{name: "gre key inner v6", tun: greTunnel(42), in: inner{v6: true}},
		{name: "gre no key inner v4", tun: greTunnel(-1), in: inner{}},
		{name: "gre no key inner v6", tun: greTunnel(-1), in: inner{v6: true}},
		{name: "gre ikey differs from okey", tun: with(greTunnel(-1), func(tun *maps.Tunnel) {
			tun.IKey, tun.OKey = tunnel.Key{Set: true, Value: 10}, tunnel.Key{Set: true, Value: 20}
		}), in: inner{v6: true}},
		{name: "ipip", tun: ipipTunnel(), in: inner{}},
		{name: "ipip inherit ttl tos ect0", tun: with(ipipTunnel(), func(tun *maps.Tunnel) {
			tun.TTL, tun.TOSInherit = 0, true
		}), in: inner{tos: 0x28 | ect0, ttl: 5}},
		{name: "gre inner ce", tun: greTunnel(42), in: inner{tos: 0x28 | ce}},
		{name: "gre inner v6 ce", tun: greTunnel(42), in: inner{v6: true, tos: 0xb8 | ce}},
		{name: "gre nopmtudisc", tun: with(greTunnel(42), func(tun *maps.Tunnel) {
			tun.NoPMTUDisc, tun.TTL = true, 0
		}), in: inner{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l3 := c.in.bytes(t)
			tx := newDataplane(t, c.tun)
			enc := tx.run(t, tx.objs.Encap, ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3))
			checkVerdict(t, enc, tcRedirect, "encap")

			peer := mirror(c.tun)
			rx := newDataplane(t, peer)
			dec := rx.run(t, rx.objs.Underlay, enc.out)
			checkVerdict(t, dec, xdpRedirect, "decap")
			checkFrame(t, dec.out, ethFrame(t, peer.MAC, peer.PeerMAC, c.in.etherType(), l3))
			checkCounters(t, tx.counters(t, c.tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
			checkCounters(t, rx.counters(t, peer.ID), maps.Counters{RxPackets: 1, RxBytes: uint64(len(l3))})

			// The sender's own decap does not take its own packets.
			own := tx.run(t, tx.objs.Underlay, enc.out)
			checkVerdict(t, own, xdpPass, "pass_no_tunnel")
		})
	}
}
