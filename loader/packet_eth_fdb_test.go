package loader_test

// The forwarding table of vxlan and geneve tunnels without a fixed
// remote (xt_fdb): a unicast destination MAC it knows goes to its remote;
// any other frame to the flood list (the all-zero MAC, idx 0..7), the
// first remote getting the frame itself after a copy went to each other
// one (tx_flood_copy). Learned entries expire after the tunnel's ageing;
// decap learns inner source MAC -> outer source, never over a static
// entry.

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
)

var (
	otherMAC     = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x0e, 0x03}
	multicastMAC = net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}
	zeroMAC      = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	addr6Second  = netip.MustParseAddr("2001:db8::4") // a second IPv6 peer
)

// fdbTunnel is tun without a fixed remote: its peers come from xt_fdb.
func fdbTunnel(tun maps.Tunnel) maps.Tunnel {
	tun.Remote = netip.Addr{}
	return tun
}

// learning is tun learning, learned entries living ageing seconds.
func learning(tun maps.Tunnel, ageing uint32) maps.Tunnel {
	tun.Learning, tun.Ageing = true, ageing
	return tun
}

// fdbEntry is one xt_fdb entry of a test, written to the map as is.
type fdbEntry struct {
	mac     net.HardwareAddr
	idx     int
	dst     netip.Addr
	learned bool
	age     time.Duration // learned: last seen this long ago
	ifindex int           // 0: the tunnel's
}

func fdbKeyOf(ifindex int, mac net.HardwareAddr, idx int) loader.FDBKeyT {
	k := loader.FDBKeyT{Ifindex: uint32(ifindex), Idx: uint16(idx)}
	copy(k.Mac[:], mac)
	return k
}

func putFDB(t *testing.T, d *dataplane, tun maps.Tunnel, entries ...fdbEntry) {
	t.Helper()
	now := monotonicNs(t)
	for _, e := range entries {
		ifindex := e.ifindex
		if ifindex == 0 {
			ifindex = tun.Ifindex
		}
		v := loader.FDBEntryT{Remote: e.dst.As16()}
		if e.learned {
			if uint64(e.age) >= now {
				t.Skipf("the monotonic clock is at %v, less than an entry age of %v", time.Duration(now), e.age)
			}
			v.Learned, v.UpdatedNs = 1, now-uint64(e.age)
		}
		k := fdbKeyOf(ifindex, e.mac, e.idx)
		if err := d.objs.Maps.FDB.Put(&k, &v); err != nil {
			t.Fatalf("put fdb entry %+v: %v", e, err)
		}
	}
}

func getFDB(t *testing.T, d *dataplane, ifindex int, mac net.HardwareAddr, idx int) (loader.FDBEntryT, bool) {
	t.Helper()
	var v loader.FDBEntryT
	k := fdbKeyOf(ifindex, mac, idx)
	if err := d.objs.Maps.FDB.Lookup(&k, &v); err != nil {
		return v, false
	}
	return v, true
}

func flood(idx int, dst netip.Addr) fdbEntry { return fdbEntry{mac: zeroMAC, idx: idx, dst: dst} }

func TestEthFDB(t *testing.T) {
	requireRootForBPF(t)
	vx := learning(fdbTunnel(vxlanTunnel(false)), 1)
	r1, r2 := addrRemote, addrGateway
	static := func(mac net.HardwareAddr, dst netip.Addr) fdbEntry { return fdbEntry{mac: mac, dst: dst} }
	learnedAgo := func(mac net.HardwareAddr, dst netip.Addr, age time.Duration) fdbEntry {
		return fdbEntry{mac: mac, dst: dst, learned: true, age: age}
	}
	to := func(dst net.HardwareAddr) ethInner { return ethInner{dst: dst, in: inner{}} }
	cases := []struct {
		name    string
		tun     maps.Tunnel
		entries []fdbEntry
		e       ethInner
		remote  netip.Addr // zero: tx_fdb_miss
	}{
		{name: "unicast known", tun: vx, entries: []fdbEntry{static(innerDstMAC, r1), flood(0, r2)}, e: to(innerDstMAC), remote: r1},
		{name: "unicast known, no flood list", tun: vx, entries: []fdbEntry{static(innerDstMAC, r1)}, e: to(innerDstMAC), remote: r1},
		{name: "unicast unknown floods", tun: vx, entries: []fdbEntry{static(otherMAC, r1), flood(0, r2)}, e: to(innerDstMAC), remote: r2},
		{name: "broadcast floods", tun: vx, entries: []fdbEntry{static(broadcast, r1), flood(0, r2)}, e: to(broadcast), remote: r2},
		{name: "multicast floods", tun: vx, entries: []fdbEntry{static(multicastMAC, r1), flood(0, r2)}, e: to(multicastMAC), remote: r2},
		{name: "empty fdb", tun: vx, e: to(innerDstMAC)},
		{name: "empty fdb broadcast", tun: vx, e: to(broadcast)},
		{name: "unicast unknown, no flood list", tun: vx, entries: []fdbEntry{static(otherMAC, r1)}, e: to(innerDstMAC)},
		{name: "flood list without entry 0", tun: vx, entries: []fdbEntry{flood(1, r2)}, e: to(broadcast)},
		{name: "another tunnel's entries", tun: vx, e: to(innerDstMAC),
			entries: []fdbEntry{{mac: innerDstMAC, dst: r1, ifindex: 99}, {mac: zeroMAC, dst: r1, ifindex: 99}}},
		{name: "learned entry", tun: vx, entries: []fdbEntry{learnedAgo(innerDstMAC, r1, 0), flood(0, r2)}, e: to(innerDstMAC), remote: r1},
		{name: "learned entry aged out floods", tun: vx, entries: []fdbEntry{learnedAgo(innerDstMAC, r1, time.Hour), flood(0, r2)},
			e: to(innerDstMAC), remote: r2},
		{name: "learned entry aged out, no flood list", tun: vx, entries: []fdbEntry{learnedAgo(innerDstMAC, r1, 10*time.Second)},
			e: to(innerDstMAC)},
		{name: "learned entry within ageing 300", tun: learning(fdbTunnel(vxlanTunnel(false)), 300),
			entries: []fdbEntry{learnedAgo(innerDstMAC, r1, 250*time.Second), flood(0, r2)}, e: to(innerDstMAC), remote: r1},
		{name: "learned entry past ageing 300", tun: learning(fdbTunnel(vxlanTunnel(false)), 300),
			entries: []fdbEntry{learnedAgo(innerDstMAC, r1, 350*time.Second), flood(0, r2)}, e: to(innerDstMAC), remote: r2},
		{name: "static entry never ages", tun: vx, entries: []fdbEntry{static(innerDstMAC, r1), flood(0, r2)}, e: to(innerDstMAC), remote: r1},
		{name: "geneve unicast known", tun: fdbTunnel(geneveTunnel(t, false, optA)), entries: []fdbEntry{static(innerDstMAC, r2), flood(0, r1)},
			e: to(innerDstMAC), remote: r2},
		{name: "geneve broadcast floods", tun: fdbTunnel(geneveTunnel(t, false)), entries: []fdbEntry{flood(0, r1)}, e: to(broadcast), remote: r1},
		{name: "vxlan6 unicast known", tun: fdbTunnel(vxlanTunnel(true)), entries: []fdbEntry{static(innerDstMAC, addr6Remote), flood(0, addr6Second)},
			e: to(innerDstMAC), remote: addr6Remote},
		{name: "vxlan6 unicast unknown floods", tun: fdbTunnel(vxlanTunnel(true)), entries: []fdbEntry{static(otherMAC, addr6Remote), flood(0, addr6Second)},
			e: to(innerDstMAC), remote: addr6Second},
		{name: "vxlan6 empty fdb", tun: fdbTunnel(vxlanTunnel(true)), e: to(broadcast)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ethDataplane(t, c.tun)
			putFDB(t, d, c.tun, c.entries...)
			if !c.remote.IsValid() {
				var res result
				if maps.SlowTX(c.tun.Spec) {
					res = ethSend(t, d, c.tun, c.e.bytes(t))
				} else {
					res = d.run(t, d.objs.Encap, c.e.bytes(t))
				}
				checkVerdict(t, res, tcShot, "tx_fdb_miss")
				checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{TxDropped: 1})
				return
			}
			checkEthEncap(t, d, ethCase{tun: c.tun, e: c.e, wire: func(w *ethWire) { w.dst = c.remote }})
		})
	}
}

// TestEthFDBPut: entries the control plane writes (maps.Tables.PutFDB)
// are the ones the program reads.
func TestEthFDBPut(t *testing.T) {
	requireRootForBPF(t)
	tun := fdbTunnel(vxlanTunnel(false))
	d := ethDataplane(t, tun)
	for _, e := range []maps.FDBEntry{
		{Ifindex: tun.Ifindex, MAC: innerDstMAC, Dst: addrGateway},
		{Ifindex: tun.Ifindex, MAC: zeroMAC, Dst: addrRemote},
	} {
		if err := d.tables.PutFDB(e); err != nil {
			t.Fatalf("put fdb %+v: %v", e, err)
		}
	}
	checkEthEncap(t, d, ethCase{tun: tun, e: ethInner{in: inner{}}, wire: func(w *ethWire) { w.dst = addrGateway }})
	if err := d.tables.ResetCounters(tun.ID); err != nil {
		t.Fatal(err)
	}
	checkEthEncap(t, d, ethCase{tun: tun, e: ethInner{dst: otherMAC, in: inner{v6: true}}, wire: func(w *ethWire) { w.dst = addrRemote }})
}

// capture is a packet socket on one netdev of a namespace.
type capture struct{ fd int }

func (n *nextHop) capture(t *testing.T, ifindex int) *capture {
	t.Helper()
	c := &capture{fd: -1}
	n.in(t, func() {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			t.Fatalf("packet socket: %v", err)
		}
		c.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
			unix.Close(fd)
			t.Fatalf("bind packet socket to ifindex %d: %v", ifindex, err)
		}
	})
	t.Cleanup(func() { unix.Close(c.fd) })
	tv := unix.Timeval{Usec: 200000}
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return c
}

// frames returns what arrived that keep says to, until 200 ms pass with
// nothing new.
func (c *capture) frames(t *testing.T, keep func([]byte) bool) [][]byte {
	t.Helper()
	var out [][]byte
	buf := make([]byte, 65536)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			return out
		}
		if keep(buf[:n]) {
			out = append(out, append([]byte(nil), buf[:n]...))
		}
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// fromTunnel reports whether frame b is a UDP packet from tun's local
// address to its port: what a flood copy of tun is.
func fromTunnel(tun maps.Tunnel) func([]byte) bool {
	l := ethLayoutOf(tun)
	return func(b []byte) bool {
		if len(b) < l.inner {
			return false
		}
		var src []byte
		if tun.Outer6() {
			src = b[14+8 : 14+24]
		} else {
			src = b[14+12 : 14+16]
		}
		return bytes.Equal(src, tun.Local.AsSlice()) && int(b[l.l4+2])<<8|int(b[l.l4+3]) == int(tun.DstPort)
	}
}

// TestEthFDBFlood: a frame to the flood list leaves as a copy to each
// remote but the last (bpf_clone_redirect after fib_xmit's lookup, the
// same device and MACs a non-IP frame gets) and itself to the last, each
// copy addressed to its remote with its checksums right (retarget). A
// copy without a next hop is counted (tx_no_neigh) and skipped.
func TestEthFDBFlood(t *testing.T) {
	requireRootForBPF(t)
	nh := newNextHop(t, true).withIPv6(t)
	// Eight remotes on xtu0's subnet with neighbours: a full flood list.
	var full []netip.Addr
	macOf := map[netip.Addr]net.HardwareAddr{addrRemote: neighMAC, addrGateway: gatewayMAC, addr6Remote: neighMAC, addr6Second: gatewayMAC}
	func() {
		h, err := netlink.NewHandleAt(nh.ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if err := h.NeighAdd(&netlink.Neigh{LinkIndex: nh.link, Family: unix.AF_INET6, State: netlink.NUD_PERMANENT,
			IP: ip(addr6Second), HardwareAddr: gatewayMAC}); err != nil {
			t.Fatalf("neighbour %s: %v", addr6Second, err)
		}
		for i := 0; i < loader.FloodMax; i++ {
			a := netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)})
			mac := net.HardwareAddr{0x02, 0, 0, 0, 0x0d, byte(i)}
			if err := h.NeighAdd(&netlink.Neigh{LinkIndex: nh.link, Family: unix.AF_INET, State: netlink.NUD_PERMANENT,
				IP: ip(a), HardwareAddr: mac}); err != nil {
				t.Fatalf("neighbour %s: %v", a, err)
			}
			full = append(full, a)
			macOf[a] = mac
		}
	}()
	bcast := ethInner{dst: broadcast, in: inner{}}
	arp := ethInner{dst: broadcast, arp: true}
	cases := []struct {
		name   string
		tun    maps.Tunnel
		remote []netip.Addr
		e      ethInner
		ip     bool // geneve innerprotoinherit: e's IP packet
	}{
		{name: "two remotes", tun: vxlanTunnel(false), remote: []netip.Addr{addrRemote, addrGateway}, e: bcast},
		{name: "three remotes", tun: vxlanTunnel(false), remote: []netip.Addr{addrRemote, addrGateway, addrRelay}, e: bcast},
		{name: "full flood list", tun: vxlanTunnel(false), remote: full, e: ethInner{dst: innerDstMAC, in: inner{v6: true}}},
		{name: "udpcsum", tun: with(vxlanTunnel(false), func(tun *maps.Tunnel) { tun.UDPCsum = true }),
			remote: []netip.Addr{addrGateway, addrRemote, full[3]}, e: bcast},
		{name: "geneve options", tun: geneveTunnel(t, false, optA, optB), remote: []netip.Addr{full[1], full[0]}, e: bcast},
		{name: "arp", tun: vxlanTunnel(false), remote: []netip.Addr{full[5], full[6], addrRemote}, e: arp},
		{name: "vxlan6", tun: vxlanTunnel(true), remote: []netip.Addr{addr6Remote, addr6Second}, e: bcast},
		{name: "vxlan6 arp", tun: vxlanTunnel(true), remote: []netip.Addr{addr6Second, addr6Remote}, e: arp},
		{name: "vxlan6 udp6zerocsumtx", tun: with(vxlanTunnel(true), func(tun *maps.Tunnel) { tun.UDP6ZeroCsumTx = true }),
			remote: []netip.Addr{addr6Second, addr6Remote}, e: bcast},
		{name: "copy without next hop", tun: vxlanTunnel(false), remote: []netip.Addr{addrUnknown, addrRemote}, e: bcast},
		// The all-zero MAC is the flood list's key, never a unicast
		// entry: a frame to it is flooded like any unknown unicast.
		{name: "zero destination mac", tun: vxlanTunnel(false), remote: []netip.Addr{addrRemote, addrGateway},
			e: ethInner{dst: zeroMAC, in: inner{}}},
		// An IP payload has no destination MAC: it goes to every remote.
		{name: "innerprotoinherit", tun: inheritTunnel(t, false, optA), remote: []netip.Addr{addrGateway, full[2], addrRemote},
			e: ethInner{in: inner{}}, ip: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tun := nh.onPeer(fdbTunnel(c.tun))
			d := nh.dataplane(t, tun)
			var entries []fdbEntry
			for i, r := range c.remote {
				entries = append(entries, flood(i, r))
			}
			putFDB(t, d, tun, entries...)
			capt := nh.capture(t, nh.peer)

			frame, p := ethCase{tun: tun, e: c.e, ip: c.ip}.sent(t)
			res := nh.ethSend(t, d, tun, frame)
			last := c.remote[len(c.remote)-1]
			copies := c.remote[:len(c.remote)-1]
			var sent []netip.Addr // copies that found a next hop
			for _, r := range copies {
				if _, ok := macOf[r]; ok {
					sent = append(sent, r)
				}
			}
			want := map[string]uint64{"encap": 1}
			if len(sent) > 0 {
				want["tx_flood_copy"] = uint64(len(sent))
			}
			if n := len(copies) - len(sent); n > 0 {
				want["tx_no_neigh"] = uint64(n)
			}
			if res.ret != tcRedirect || fmt.Sprint(res.moved) != fmt.Sprint(want) {
				t.Errorf("verdict %d, reasons %v; want %d, %v", res.ret, res.moved, tcRedirect, want)
			}
			checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(p.b))})

			// The frame itself goes to the last remote. An IP frame
			// leaves through bpf_redirect_neigh, which sets the MACs;
			// until then it has those of the last copy's lookup (or the
			// placeholders when none was made).
			w := sendWire(tun)
			w.dst = last
			switch {
			case !c.ip && !skbIP(c.e):
				w.ethDst, w.ethSrc = macOf[last], linkMAC
			case len(sent) > 0:
				w.ethDst, w.ethSrc = macOf[sent[len(sent)-1]], linkMAC
			}
			takeVarying(t, tun, res.out, &w)
			wantFrame, _ := ethWireFrame(t, tun, w, p)
			checkFrame(t, res.out, wantFrame)
			checkEthChecksums(t, tun, res.out, w.udpCsum)

			// The copies, as they arrived on the other end of xtu0.
			got := capt.frames(t, fromTunnel(tun))
			if len(got) != len(sent) {
				t.Fatalf("captured %d copies on xtp0, want %d (to %v)", len(got), len(sent), sent)
			}
			for i, r := range sent {
				w := sendWire(tun)
				w.dst, w.ethDst, w.ethSrc = r, macOf[r], linkMAC
				takeVarying(t, tun, got[i], &w)
				wantCopy, _ := ethWireFrame(t, tun, w, p)
				checkFrame(t, got[i], wantCopy)
				checkEthChecksums(t, tun, got[i], w.udpCsum)
			}
			if !slices.Equal(sent, copies) {
				t.Logf("copies sent to %v of %v", sent, copies)
			}
		})
	}
}

// skbIP reports whether frame e leaves through bpf_redirect_neigh: its
// skb is IP (no in-line VLAN tag, not ARP).
func skbIP(e ethInner) bool { return !e.arp && e.vlan == 0 }

// TestEthFDBLearn: decap of a learning tunnel records inner source MAC ->
// outer source (learned, now); a learned entry follows its MAC to a new
// remote and is refreshed at most once a second; static entries, group
// and all-zero source MACs are never written.
func TestEthFDBLearn(t *testing.T) {
	requireRootForBPF(t)
	vx, vx6 := learning(fdbTunnel(vxlanTunnel(false)), 300), learning(fdbTunnel(vxlanTunnel(true)), 300)
	from := func(a netip.Addr) func(*ethWire) { return func(w *ethWire) { w.src = a } }
	cases := []struct {
		name    string
		tun     maps.Tunnel
		entries []fdbEntry
		e       ethInner
		src     netip.Addr
		mac     net.HardwareAddr // the entry to look at; nil: e's source
		idx     int
		want    *fdbEntry // nil: no entry
		fresh   bool      // want.updated is the time of the decap
	}{
		{name: "learns", tun: vx, e: ethInner{in: inner{}}, src: addrRemote,
			want: &fdbEntry{dst: addrRemote, learned: true}, fresh: true},
		{name: "learns over ipv6", tun: vx6, e: ethInner{in: inner{v6: true}}, src: addr6Second,
			want: &fdbEntry{dst: addr6Second, learned: true}, fresh: true},
		{name: "learns from arp", tun: fdbTunnel(learning(geneveTunnel(t, false, optB), 60)), e: ethInner{dst: broadcast, arp: true}, src: addrGateway,
			want: &fdbEntry{dst: addrGateway, learned: true}, fresh: true},
		{name: "static entry not overwritten", tun: vx, entries: []fdbEntry{{mac: innerSrcMAC, dst: addrGateway}},
			e: ethInner{in: inner{}}, src: addrRemote, want: &fdbEntry{dst: addrGateway}},
		{name: "learned entry moves", tun: vx, entries: []fdbEntry{{mac: innerSrcMAC, dst: addrGateway, learned: true, age: time.Minute}},
			e: ethInner{in: inner{}}, src: addrRemote, want: &fdbEntry{dst: addrRemote, learned: true}, fresh: true},
		{name: "learned entry refreshed", tun: vx, entries: []fdbEntry{{mac: innerSrcMAC, dst: addrRemote, learned: true, age: 5 * time.Second}},
			e: ethInner{in: inner{}}, src: addrRemote, want: &fdbEntry{dst: addrRemote, learned: true}, fresh: true},
		{name: "learned entry not refreshed within a second", tun: vx,
			entries: []fdbEntry{{mac: innerSrcMAC, dst: addrRemote, learned: true, age: 100 * time.Millisecond}},
			e:       ethInner{in: inner{}}, src: addrRemote, want: &fdbEntry{dst: addrRemote, learned: true, age: 100 * time.Millisecond}},
		{name: "multicast source not learned", tun: vx, e: ethInner{src: multicastMAC, in: inner{}}, src: addrRemote},
		{name: "zero source not learned", tun: vx, entries: []fdbEntry{flood(0, addrGateway)},
			e: ethInner{src: zeroMAC, in: inner{}}, src: addrRemote, want: &fdbEntry{dst: addrGateway}},
		{name: "no learning", tun: fdbTunnel(vxlanTunnel(false)), e: ethInner{in: inner{}}, src: addrRemote},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ethDataplane(t, c.tun)
			putFDB(t, d, c.tun, c.entries...)
			var before uint64
			if len(c.entries) > 0 {
				if v, ok := getFDB(t, d, c.tun.Ifindex, c.entries[0].mac, c.entries[0].idx); ok {
					before = v.UpdatedNs
				}
			}
			frame, want, n := ethDecapCase{ethCase: ethCase{tun: c.tun, e: c.e, wire: from(c.src)}}.received(t)
			t0 := monotonicNs(t)
			checkEthDecap(t, d, c.tun, frame, xdpRedirect, "decap", want, n)
			t1 := monotonicNs(t)

			mac := c.mac
			if mac == nil {
				_, mac = c.e.macs()
			}
			got, ok := getFDB(t, d, c.tun.Ifindex, mac, c.idx)
			if c.want == nil {
				if ok {
					t.Errorf("fdb entry %s idx %d = %+v; want none", mac, c.idx, got)
				}
				return
			}
			if !ok {
				t.Fatalf("no fdb entry for %s idx %d", mac, c.idx)
			}
			if dst := netip.AddrFrom16(got.Remote).Unmap(); dst != c.want.dst || (got.Learned == 1) != c.want.learned {
				t.Errorf("fdb entry %s = dst %s learned %d; want dst %s learned %v", mac, dst, got.Learned, c.want.dst, c.want.learned)
			}
			switch {
			case c.fresh && (got.UpdatedNs < t0 || got.UpdatedNs > t1):
				t.Errorf("fdb entry updated at %d, want the decap's time, in %d..%d", got.UpdatedNs, t0, t1)
			case !c.fresh && got.UpdatedNs != before:
				t.Errorf("fdb entry updated at %d, want unchanged %d", got.UpdatedNs, before)
			}
		})
	}

	// What decap learned, encap uses.
	t.Run("learned then sent to", func(t *testing.T) {
		d := ethDataplane(t, vx)
		putFDB(t, d, vx, flood(0, addrGateway))
		frame, want, n := ethDecapCase{ethCase: ethCase{tun: vx, e: ethInner{in: inner{}}, wire: from(addrRemote)}}.received(t)
		checkEthDecap(t, d, vx, frame, xdpRedirect, "decap", want, n)
		if err := d.tables.ResetCounters(vx.ID); err != nil {
			t.Fatal(err)
		}
		reply := ethInner{dst: innerSrcMAC, src: innerDstMAC, in: inner{v6: true}}
		checkEthEncap(t, d, ethCase{tun: vx, e: reply, wire: func(w *ethWire) { w.dst = addrRemote }})
	})
}
