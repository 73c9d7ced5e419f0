package bench

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/xtunnel/xtunnel/loader"
)

func TestProtoScale2(t *testing.T) {
	objs, err := loader.LoadSized("", loader.Sizes{Routes: 1 << 21})
	if err != nil {
		t.Fatal(err)
	}
	defer objs.Close()
	N := 1000000
	keys := make([]loader.RouteKeyT, N)
	vals := make([]loader.RouteT, N)
	pk := make([]loader.PeerKeyT, N)
	pv := make([]uint32, N)
	for i := range keys {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		keys[i] = loader.RouteKeyT{Prefixlen: 128, Addr: a.As16()}
		vals[i] = loader.RouteT{Ifindex: 1}
		r := netip.AddrFrom4([4]byte{100, 64 + byte(i>>16), byte(i >> 8), byte(i)})
		pk[i] = loader.PeerKeyT{Remote: r.As16(), Proto: 47}
		pv[i] = 1
	}
	start := time.Now()
	var cur loader.RouteT
	for i := range keys {
		objs.Maps.Routes.Lookup(&keys[i], &cur)
	}
	t.Logf("lookups %v", time.Since(start))
	start = time.Now()
	for i := 0; i < N; i += 65536 {
		if _, err := objs.Maps.RPeers.BatchUpdate(pk[i:min(N, i+65536)], pv[i:min(N, i+65536)], nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("rpeers batch %v", time.Since(start))
	start = time.Now()
	n, err := objs.Maps.Routes.BatchUpdate(keys[:1000], vals[:1000], &ebpf.BatchOptions{ElemFlags: uint64(ebpf.UpdateNoExist)})
	t.Logf("routes batch 1000: n=%d err=%v %v", n, err, time.Since(start))
	start = time.Now()
	for i := 1000; i < N; i++ {
		if err := objs.Maps.Routes.Update(&keys[i], &vals[i], ebpf.UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("routes single %v", time.Since(start))
}
