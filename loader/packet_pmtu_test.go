package loader_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// Path MTU tests. Under BPF_PROG_TEST_RUN the TC program's skb->dev is the
// loopback device of the calling thread's network namespace (MTU 65536),
// and bpf_check_mtu looks the underlay ifindex up in that namespace. So
// each test makes a namespace with veth pairs of the MTUs it needs and
// runs the program from a thread inside it: the tunnel stays on lo
// (Ifindex 1, skb->ifindex), its LinkIfindex is a veth with a small MTU.

// underlay is a network namespace with one veth per MTU.
type underlay struct {
	ns      netns.NsHandle
	ifindex map[int]int // MTU -> ifindex of a veth with that MTU
}

func newUnderlay(t *testing.T, mtus ...int) *underlay {
	t.Helper()
	requireRootForBPF(t)
	u := &underlay{ifindex: map[int]int{}}
	// netns.New switches the thread: lock it, and switch back before unlocking.
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("current netns: %v", err)
	}
	u.ns, err = netns.New()
	if serr := netns.Set(orig); serr != nil {
		// Leave the thread locked: Go discards it with this goroutine.
		t.Fatalf("back to the original netns: %v", serr)
	}
	orig.Close()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatalf("new netns: %v", err)
	}
	t.Cleanup(func() { u.ns.Close() }) // the last reference: the namespace and its veths go

	h, err := netlink.NewHandleAt(u.ns)
	if err != nil {
		t.Fatalf("netlink in the test netns: %v", err)
	}
	defer h.Close()
	for i, mtu := range mtus {
		name := fmt.Sprintf("xtu%d", i)
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu}, PeerName: fmt.Sprintf("xtp%d", i)}
		if err := h.LinkAdd(veth); err != nil {
			t.Fatalf("add veth %s mtu %d: %v", name, mtu, err)
		}
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatalf("veth %s: %v", name, err)
		}
		if l.Attrs().MTU != mtu {
			t.Fatalf("veth %s has MTU %d, want %d", name, l.Attrs().MTU, mtu)
		}
		u.ifindex[mtu] = l.Attrs().Index
	}
	return u
}

// in runs f on a thread inside the namespace.
func (u *underlay) in(t *testing.T, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("current netns: %v", err)
	}
	if err := netns.Set(u.ns); err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Fatalf("enter the test netns: %v", err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original netns: %v", err) // thread stays locked, see newUnderlay
			return
		}
		orig.Close()
		runtime.UnlockOSThread()
	}()
	f()
}

// run is d.run from inside the namespace.
func (u *underlay) run(t *testing.T, d *dataplane, pkt []byte) result {
	t.Helper()
	var res result
	u.in(t, func() { res = d.run(t, d.objs.Encap, pkt) })
	return res
}

// onLink is tun sending out of the veth with the given MTU.
func (u *underlay) onLink(t *testing.T, tun maps.Tunnel, mtu int) maps.Tunnel {
	t.Helper()
	idx, ok := u.ifindex[mtu]
	if !ok {
		t.Fatalf("no veth with MTU %d in the test netns", mtu)
	}
	tun.LinkIfindex = idx
	return tun
}

// big is an inner packet of exactly size bytes: IPv4 (DF, TOS 0x2a) +
// ICMP echo request, or IPv6 + UDP. The payload counts bytes so that a
// quote cut at the wrong place shows. f may change the headers.
type big struct {
	v6   bool
	size int
	v4   func(*layers.IPv4, *layers.ICMPv4)
	ip6  func(*layers.IPv6, *gopacket.SerializableLayer)
}

func (b big) etherType() layers.EthernetType {
	if b.v6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

func (b big) bytes(t *testing.T) []byte {
	t.Helper()
	var ls []gopacket.SerializableLayer
	if b.v6 {
		ip6 := &layers.IPv6{
			Version: 6, TrafficClass: 0x28, FlowLabel: 0x12345, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.ParseIP("fd00:9::1"), DstIP: net.ParseIP("fd00:20::5"),
		}
		var l4 gopacket.SerializableLayer = &layers.UDP{SrcPort: 40000, DstPort: 5001}
		if b.ip6 != nil {
			b.ip6(ip6, &l4)
		}
		if c, ok := l4.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			if err := c.SetNetworkLayerForChecksum(ip6); err != nil {
				t.Fatal(err)
			}
		}
		ls = []gopacket.SerializableLayer{ip6, l4}
	} else {
		ip4 := &layers.IPv4{
			Version: 4, TOS: 0x2a, Id: 0x1234, TTL: 64, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolICMPv4, SrcIP: net.IPv4(10, 9, 0, 1).To4(), DstIP: net.IPv4(10, 20, 0, 5).To4(),
		}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 77, Seq: 1}
		if b.v4 != nil {
			b.v4(ip4, icmp)
		}
		ls = []gopacket.SerializableLayer{ip4, icmp}
	}
	pl := make([]byte, b.size-len(serialize(t, ls...)))
	for i := range pl {
		pl[i] = byte(i % 251)
	}
	out := serialize(t, append(ls, gopacket.Payload(pl))...)
	if len(out) != b.size {
		t.Fatalf("inner packet of %d bytes, want %d", len(out), b.size)
	}
	return out
}

// fragNeeded is the ICMP error the program must make of the inner IPv4
// packet l3: from its destination to its source, TOS precedence 6 with
// the inner TOS bits (0x2a -> 0xc8), TTL 64, no DF, Id as the program
// chose it (random), type 3 code 4 with the MTU, quoting l3 up to a
// 576-byte IP packet. Ethernet as on decapsulated frames.
func fragNeeded(t *testing.T, tun maps.Tunnel, l3 []byte, tos uint8, id, mtu uint16) []byte {
	t.Helper()
	quote := l3[:min(len(l3), 576-20-8)]
	return serialize(t,
		&layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{
			Version: 4, IHL: 5, TOS: tos, Id: id, TTL: 64, Protocol: layers.IPProtocolICMPv4,
			SrcIP: net.IP(l3[16:20]), DstIP: net.IP(l3[12:16]),
		},
		// Destination unreachable: Id is the unused half, Seq the next-hop MTU.
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable,
			layers.ICMPv4CodeFragmentationNeeded), Seq: mtu},
		gopacket.Payload(quote))
}

// packetTooBig is the ICMPv6 error for the inner IPv6 packet l3: traffic
// class and flow label 0, hop limit 64, type 2 with the MTU, quoting l3 up
// to a 1280-byte IPv6 packet.
func packetTooBig(t *testing.T, tun maps.Tunnel, l3 []byte, mtu uint32) []byte {
	t.Helper()
	quote := l3[:min(len(l3), 1280-40-8)]
	ip6 := &layers.IPv6{
		Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6,
		SrcIP: net.IP(l3[24:40]), DstIP: net.IP(l3[8:24]),
	}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypePacketTooBig, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip6); err != nil {
		t.Fatal(err)
	}
	body := binary.BigEndian.AppendUint32(nil, mtu)
	return serialize(t,
		&layers.Ethernet{DstMAC: tun.MAC, SrcMAC: tun.PeerMAC, EthernetType: layers.EthernetTypeIPv6},
		ip6, icmp, gopacket.Payload(append(body, quote...)))
}

func TestPMTU(t *testing.T) {
	u := newUnderlay(t, 1400, 1300, 552)
	g, gk, ii := greTunnel(-1), greTunnel(42), ipipTunnel()
	// ip6tnl: IPv6 outer (40) + the encapsulation limit option (8).
	ip6 := newTunnel(tunnel.IP6TNL, addr6Local, addr6Remote)
	ip6any := with(ip6, func(tun *maps.Tunnel) { tun.Mode, tun.EncapLimit = tunnel.ModeAny, tunnel.EncapLimitNone })
	ignoreDF := with(g, func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.IgnoreDF, tun.TTL = true, true, 0 })
	noPMTU := with(g, func(tun *maps.Tunnel) { tun.NoPMTUDisc, tun.TTL = true, 0 })
	noDF := func(ip *layers.IPv4, _ *layers.ICMPv4) { ip.Flags = 0 }

	const (
		icmp4   = "icmp4"  // want fragNeeded
		icmp6   = "icmp6"  // want packetTooBig
		encap   = "encap"  // fits: encapsulated
		tooBig  = "tooBig" // dropped as tx_too_big, no reply
		v4Bytes = 20 + 8 + 548
	)
	cases := []struct {
		name string
		tun  maps.Tunnel
		link int // underlay MTU
		in   big
		want string
		mtu  uint32 // MTU in the error
	}{
		// Outer 24 (IPv4 + GRE), 28 (GRE key), 20 (IPIP).
		{name: "gre inner v4 df", tun: g, link: 1400, in: big{size: 1400}, want: icmp4, mtu: 1376},
		{name: "gre key inner v4 df", tun: gk, link: 1400, in: big{size: 1400}, want: icmp4, mtu: 1372},
		{name: "ipip inner v4 df", tun: ii, link: 1400, in: big{size: 1400}, want: icmp4, mtu: 1380},
		{name: "gre inner v4 df fits exactly", tun: g, link: 1400, in: big{size: 1376}, want: encap},
		{name: "gre inner v4 df one byte over", tun: g, link: 1400, in: big{size: 1377}, want: icmp4, mtu: 1376},
		{name: "gre inner v4 df whole packet quoted", tun: g, link: 552, in: big{size: 540}, want: icmp4, mtu: 528},
		{name: "gre inner v4 df quote up to 576 bytes", tun: g, link: 552, in: big{size: v4Bytes - 28 + 1}, want: icmp4, mtu: 528},
		{name: "nopmtudisc inner v4 df", tun: noPMTU, link: 1400, in: big{size: 1400}, want: icmp4, mtu: 1376},
		{name: "gre inner v6", tun: g, link: 1400, in: big{v6: true, size: 1400}, want: icmp6, mtu: 1376},
		{name: "gre key inner v6", tun: gk, link: 1400, in: big{v6: true, size: 1400}, want: icmp6, mtu: 1372},
		{name: "gre inner v6 fits exactly", tun: g, link: 1400, in: big{v6: true, size: 1376}, want: encap},
		{name: "gre inner v6 mtu raised to 1280", tun: g, link: 1300, in: big{v6: true, size: 1290}, want: icmp6, mtu: 1280},
		{name: "ip6tnl inner v6", tun: ip6, link: 1400, in: big{v6: true, size: 1400}, want: icmp6, mtu: 1352},
		{name: "ip6tnl any inner v4 df", tun: ip6any, link: 1400, in: big{size: 1400}, want: icmp4, mtu: 1360},
		{name: "inner v6 echo request", tun: g, link: 1400, in: big{v6: true, size: 1400, ip6: func(ip *layers.IPv6, l4 *gopacket.SerializableLayer) {
			ip.NextHeader = layers.IPProtocolICMPv6
			*l4 = &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
		}}, want: icmp6, mtu: 1376},

		// Too big, and no error would help or may be sent.
		{name: "inner v4 without df", tun: g, link: 1400, in: big{size: 1400, v4: noDF}, want: tooBig},
		{name: "ignore-df inner v4 df", tun: ignoreDF, link: 1400, in: big{size: 1400}, want: tooBig},
		{name: "inner v6 of 1280 bytes", tun: g, link: 1300, in: big{v6: true, size: 1280}, want: tooBig},
		{name: "inner v4 later fragment", tun: g, link: 1400, in: big{size: 1400, v4: func(ip *layers.IPv4, _ *layers.ICMPv4) {
			ip.Flags, ip.FragOffset = layers.IPv4DontFragment|layers.IPv4MoreFragments, 185
		}}, want: tooBig},
		{name: "inner v4 icmp error", tun: g, link: 1400, in: big{size: 1400, v4: func(_ *layers.IPv4, ic *layers.ICMPv4) {
			ic.TypeCode = layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodePort)
		}}, want: tooBig},
		{name: "inner v4 from 0.0.0.0", tun: g, link: 1400, in: big{size: 1400, v4: func(ip *layers.IPv4, _ *layers.ICMPv4) {
			ip.SrcIP = net.IPv4zero.To4()
		}}, want: tooBig},
		{name: "inner v4 to multicast", tun: g, link: 1400, in: big{size: 1400, v4: func(ip *layers.IPv4, _ *layers.ICMPv4) {
			ip.DstIP = net.IPv4(224, 0, 0, 5).To4()
		}}, want: tooBig},
		{name: "inner v4 to broadcast", tun: g, link: 1400, in: big{size: 1400, v4: func(ip *layers.IPv4, _ *layers.ICMPv4) {
			ip.DstIP = net.IPv4bcast.To4()
		}}, want: tooBig},
		{name: "inner v6 from ::", tun: g, link: 1400, in: big{v6: true, size: 1400, ip6: func(ip *layers.IPv6, _ *gopacket.SerializableLayer) {
			ip.SrcIP = net.IPv6unspecified
		}}, want: tooBig},
		{name: "inner v6 to multicast", tun: g, link: 1400, in: big{v6: true, size: 1400, ip6: func(ip *layers.IPv6, _ *gopacket.SerializableLayer) {
			ip.DstIP = net.ParseIP("ff02::1")
		}}, want: tooBig},
		{name: "inner v6 icmpv6 error", tun: g, link: 1400, in: big{v6: true, size: 1400, ip6: func(ip *layers.IPv6, l4 *gopacket.SerializableLayer) {
			ip.NextHeader = layers.IPProtocolICMPv6
			*l4 = &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeDestinationUnreachable, 0)}
		}}, want: tooBig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tun := u.onLink(t, c.tun, c.link)
			d := newDataplane(t, tun)
			l3 := c.in.bytes(t)
			frame := ethFrame(t, wireDstMAC, wireSrcMAC, c.in.etherType(), l3)
			res := u.run(t, d, frame)
			switch c.want {
			case icmp4:
				checkVerdict(t, res, tcRedirect, "tx_pmtu_icmp")
				var id uint16
				if len(res.out) >= 14+20 {
					id = binary.BigEndian.Uint16(res.out[14+4:]) // random, as without DF
				}
				checkFrame(t, res.out, fragNeeded(t, tun, l3, 0xc8, id, uint16(c.mtu)))
				checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
			case icmp6:
				checkVerdict(t, res, tcRedirect, "tx_pmtu_icmp")
				checkFrame(t, res.out, packetTooBig(t, tun, l3, c.mtu))
				checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
			case encap:
				checkVerdict(t, res, tcRedirect, "encap")
				if len(res.out) != len(frame)+tun.Overhead() {
					t.Errorf("encapsulated frame of %d bytes, want %d", len(res.out), len(frame)+tun.Overhead())
				}
				checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxPackets: 1, TxBytes: uint64(len(l3))})
			case tooBig:
				checkVerdict(t, res, tcShot, "tx_too_big")
				checkFrame(t, res.out, frame)
				checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: 1})
			}
		})
	}
}

// TestPMTUErrorIsValid decodes the errors the program sends with gopacket
// and checks what a sender reads in them, independently of the expected
// packets built above.
func TestPMTUErrorIsValid(t *testing.T) {
	u := newUnderlay(t, 1400)
	tun := u.onLink(t, greTunnel(-1), 1400)
	for _, in := range []big{{size: 1400}, {v6: true, size: 1400}} {
		t.Run(in.etherType().String(), func(t *testing.T) {
			d := newDataplane(t, tun)
			l3 := in.bytes(t)
			res := u.run(t, d, ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), l3))
			checkVerdict(t, res, tcRedirect, "tx_pmtu_icmp")
			p := gopacket.NewPacket(res.out, layers.LayerTypeEthernet, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatalf("decode: %v", el.Error())
			}
			var quoted []byte
			if in.v6 {
				ip, ok1 := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
				ic, ok2 := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
				if !ok1 || !ok2 {
					t.Fatalf("no IPv6 + ICMPv6 in %v", p)
				}
				if ic.TypeCode.Type() != layers.ICMPv6TypePacketTooBig || binary.BigEndian.Uint32(ic.Payload) != 1376 {
					t.Errorf("ICMPv6 %v MTU %d, want packet too big 1376", ic.TypeCode, binary.BigEndian.Uint32(ic.Payload))
				}
				if !ip.SrcIP.Equal(net.IP(l3[24:40])) || !ip.DstIP.Equal(net.IP(l3[8:24])) || len(res.out) != 14+1280 {
					t.Errorf("%v -> %v, %d bytes; want the inner addresses swapped, 1280 bytes", ip.SrcIP, ip.DstIP, len(res.out)-14)
				}
				if sum := icmp6Sum(ip.SrcIP, ip.DstIP, res.out[14+40:]); sum != 0xffff {
					t.Errorf("ICMPv6 checksum does not verify (sum %#04x)", sum)
				}
				quoted = ic.Payload[4:]
			} else {
				ip, ok1 := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				ic, ok2 := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
				if !ok1 || !ok2 {
					t.Fatalf("no IPv4 + ICMPv4 in %v", p)
				}
				if ic.TypeCode != layers.CreateICMPv4TypeCode(3, 4) || ic.Seq != 1376 {
					t.Errorf("ICMP %v MTU %d, want fragmentation needed 1376", ic.TypeCode, ic.Seq)
				}
				if !ip.SrcIP.Equal(net.IP(l3[16:20])) || !ip.DstIP.Equal(net.IP(l3[12:16])) || ip.Length != 576 {
					t.Errorf("%v -> %v, %d bytes; want the inner addresses swapped, 576 bytes", ip.SrcIP, ip.DstIP, ip.Length)
				}
				if ipv4Checksum(res.out[14:34]) != ip.Checksum {
					t.Errorf("IPv4 header checksum %#04x does not verify", ip.Checksum)
				}
				if sum := onesSum(0, res.out[14+20:]); sum != 0xffff {
					t.Errorf("ICMP checksum does not verify (sum %#04x)", sum)
				}
				quoted = ic.Payload
			}
			if !bytes.Equal(quoted, l3[:len(quoted)]) {
				t.Errorf("the error does not quote the start of the packet")
			}
		})
	}
}

func onesSum(sum uint32, b []byte) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

func icmp6Sum(src, dst net.IP, msg []byte) uint16 {
	var ph []byte
	ph = append(ph, src.To16()...)
	ph = append(ph, dst.To16()...)
	ph = binary.BigEndian.AppendUint32(ph, uint32(len(msg)))
	ph = append(ph, 0, 0, 0, 58)
	return onesSum(uint32(onesSum(0, ph)), msg)
}

// bucket is struct xt_ratelimit.
type bucket struct {
	LastNs uint64
	Tokens uint64
}

const (
	pmtuBurst      = 50                        // errors per CPU before the limit
	pmtuNsPerToken = uint64(time.Second / 100) // 100 errors/s per CPU
)

func setBuckets(t *testing.T, m *ebpf.Map, b bucket) {
	t.Helper()
	n, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	all := make([]bucket, n)
	for i := range all {
		all[i] = b
	}
	if err := m.Put(uint32(0), all); err != nil {
		t.Fatalf("write xt_icmp_rl: %v", err)
	}
}

func getBucket(t *testing.T, m *ebpf.Map, cpu int) bucket {
	t.Helper()
	var all []bucket
	if err := m.Lookup(uint32(0), &all); err != nil {
		t.Fatalf("read xt_icmp_rl: %v", err)
	}
	return all[cpu]
}

// monotonicNs is bpf_ktime_get_ns now.
func monotonicNs(t *testing.T) uint64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return uint64(ts.Nano())
}

// pinned runs f on one CPU (the bucket is per CPU) inside the namespace.
func (u *underlay) pinned(t *testing.T, f func(cpu int)) {
	t.Helper()
	u.in(t, func() {
		var old, one unix.CPUSet
		if err := unix.SchedGetaffinity(0, &old); err != nil {
			t.Fatalf("sched_getaffinity: %v", err)
		}
		cpu := -1
		for i := 0; i < len(old)*64 && cpu < 0; i++ {
			if old.IsSet(i) {
				cpu = i
			}
		}
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatalf("sched_setaffinity: %v", err)
		}
		defer func() {
			if err := unix.SchedSetaffinity(0, &old); err != nil {
				t.Errorf("restore affinity: %v", err)
			}
		}()
		f(cpu)
	})
}

func TestPMTURateLimit(t *testing.T) {
	u := newUnderlay(t, 1400)
	tun := u.onLink(t, greTunnel(42), 1400)
	for _, in := range []big{{size: 1400}, {v6: true, size: 1400}} {
		t.Run(in.etherType().String(), func(t *testing.T) {
			d := newDataplane(t, tun)
			rl := d.objs.Maps.ICMPRL
			frame := ethFrame(t, wireDstMAC, wireSrcMAC, in.etherType(), in.bytes(t))
			limited := func(t *testing.T, res result) {
				t.Helper()
				checkVerdict(t, res, tcShot, "tx_pmtu_limited")
				checkFrame(t, res.out, frame) // dropped as it was: no reply
			}
			u.pinned(t, func(cpu int) {
				// A fresh bucket holds a burst; it refills at 100/s, so
				// while this loop runs a few more may get through.
				start := time.Now()
				replies := 0
				var res result
				for replies <= 4*pmtuBurst {
					res = d.run(t, d.objs.Encap, frame)
					if res.ret != tcRedirect {
						break
					}
					replies++
				}
				slack := int(time.Since(start)/time.Duration(pmtuNsPerToken)) + 1
				if replies < pmtuBurst || replies > pmtuBurst+slack {
					t.Errorf("%d errors before the limit, want %d (+ up to %d refilled)", replies, pmtuBurst, slack)
				}
				limited(t, res)
				checkCounters(t, d.counters(t, tun.ID), maps.Counters{TxDropped: uint64(replies) + 1})

				// Exactly: 2 tokens and no refill (last refill in the future).
				setBuckets(t, rl, bucket{LastNs: monotonicNs(t) + uint64(time.Hour), Tokens: 2})
				for i := 0; i < 2; i++ {
					checkVerdict(t, d.run(t, d.objs.Encap, frame), tcRedirect, "tx_pmtu_icmp")
				}
				limited(t, d.run(t, d.objs.Encap, frame))
				limited(t, d.run(t, d.objs.Encap, frame))
				if b := getBucket(t, rl, cpu); b.Tokens != 0 {
					t.Errorf("bucket after the limit: %+v, want 0 tokens", b)
				}

				// Empty, last refilled a second ago: full again (capped at
				// the burst), one taken.
				now := monotonicNs(t)
				setBuckets(t, rl, bucket{LastNs: now - uint64(time.Second), Tokens: 0})
				checkVerdict(t, d.run(t, d.objs.Encap, frame), tcRedirect, "tx_pmtu_icmp")
				if b := getBucket(t, rl, cpu); b.Tokens != pmtuBurst-1 || b.LastNs < now {
					t.Errorf("bucket after a refill: %+v, want %d tokens, refilled after %d", b, pmtuBurst-1, now)
				}

				// Empty, 25 ms of refill: 2 tokens, the half token kept.
				now = monotonicNs(t)
				last := now - 25*uint64(time.Millisecond)
				setBuckets(t, rl, bucket{LastNs: last, Tokens: 0})
				checkVerdict(t, d.run(t, d.objs.Encap, frame), tcRedirect, "tx_pmtu_icmp")
				if b := getBucket(t, rl, cpu); b.Tokens < 1 || b.LastNs < last+2*pmtuNsPerToken || (b.LastNs-last)%pmtuNsPerToken != 0 {
					t.Errorf("bucket after 25 ms: %+v, want >= 1 token, refilled by whole tokens from %d", b, last)
				}
			})
		})
	}
}

// TestICMPAboutOurPacketsNotDecapsulated: an ICMP error a router on the
// underlay sends about one of our outer packets quotes our GRE or IPIP
// header. Decap must leave it to the stack (which updates the PMTU of the
// route to the remote), never take the quote for tunnel data.
func TestICMPAboutOurPacketsNotDecapsulated(t *testing.T) {
	requireRootForBPF(t)
	router := net.IPv4(198, 51, 100, 254).To4()
	router6 := net.ParseIP("2001:db8::fe")
	ip6gre := greTunnel(42)
	ip6gre.Type, ip6gre.Local, ip6gre.Remote = tunnel.IP6GRE, addr6Local, addr6Remote

	// quote4 is what the router quotes of our outer IPv4 packet.
	quote4 := func(t *testing.T, tun maps.Tunnel) []byte {
		in := inner{df: true}
		outer := encapFrame(t, tun, in.etherType(), in.bytes(t), outerWant{ttl: 64, df: true}, 0)[14:]
		return outer[:min(len(outer), 576-28)]
	}
	fragNeededFrom := func(t *testing.T, tun maps.Tunnel) []byte {
		return serialize(t,
			&layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, IHL: 5, TOS: 0xc0, TTL: 63, Protocol: layers.IPProtocolICMPv4,
				SrcIP: router, DstIP: ip(tun.Local)},
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable,
				layers.ICMPv4CodeFragmentationNeeded), Seq: 1300},
			gopacket.Payload(quote4(t, tun)))
	}
	packetTooBigFrom := func(t *testing.T, tun maps.Tunnel) []byte {
		in := inner{}
		q := serialize(t,
			&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolGRE, SrcIP: ip(tun.Local), DstIP: ip(tun.Remote)},
			&layers.GRE{KeyPresent: true, Key: tun.OKey.Value, Protocol: in.etherType()},
			gopacket.Payload(in.bytes(t)))
		ip6 := &layers.IPv6{Version: 6, HopLimit: 63, NextHeader: layers.IPProtocolICMPv6, SrcIP: router6, DstIP: ip(tun.Local)}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypePacketTooBig, 0)}
		if err := icmp.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		return serialize(t,
			&layers.Ethernet{DstMAC: wireDstMAC, SrcMAC: wireSrcMAC, EthernetType: layers.EthernetTypeIPv6},
			ip6, icmp, gopacket.Payload(append(binary.BigEndian.AppendUint32(nil, 1280), q...)))
	}
	cases := []struct {
		name  string
		tun   maps.Tunnel
		frame func(*testing.T, maps.Tunnel) []byte
	}{
		{name: "frag needed quoting gre", tun: greTunnel(42), frame: fragNeededFrom},
		{name: "frag needed quoting gre without key", tun: greTunnel(-1), frame: fragNeededFrom},
		{name: "frag needed quoting ipip", tun: ipipTunnel(), frame: fragNeededFrom},
		{name: "packet too big quoting ip6gre", tun: ip6gre, frame: packetTooBigFrom},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t, c.tun)
			frame := c.frame(t, c.tun)
			res := d.run(t, d.objs.Underlay, frame)
			checkVerdict(t, res, xdpPass, "pass_not_tunnel")
			checkFrame(t, res.out, frame)
			checkCounters(t, d.counters(t, c.tun.ID), maps.Counters{})
		})
	}
}
