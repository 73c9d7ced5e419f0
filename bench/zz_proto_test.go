package bench

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xtunnel/xtunnel/loader"
	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

func memlock(fd int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "memlock") {
			return l
		}
	}
	return "?"
}

func TestProtoScale(t *testing.T) {
	objs, err := loader.LoadSized("", loader.Sizes{Routes: 1 << 21})
	if err != nil {
		t.Fatal(err)
	}
	defer objs.Close()
	tb := maps.New(objs.Maps)
	tun := newTunnel(tunnel.GRE, false)
	tun.External = true
	tun.Remote = netip.Addr{}
	if err := tb.PutTunnel(tun); err != nil {
		t.Fatal(err)
	}
	N := 1000000
	rs := make([]maps.Route, N)
	for i := range rs {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		r := netip.AddrFrom4([4]byte{100, 64 + byte(i>>16), byte(i >> 8), byte(i)})
		rs[i] = maps.Route{Prefix: netip.PrefixFrom(a, 32), Ifindex: 1, Remote: r, Protos: maps.DecapProtos(tun)}
	}
	start := time.Now()
	for i := 0; i < N; i += 65536 {
		if err := tb.PutRoutes(rs[i:min(i+65536, N)]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("put %d routes in %v", N, time.Since(start))
	t.Logf("routes %s rpeers %s", memlock(objs.Maps.Routes.FD()), memlock(objs.Maps.RPeers.FD()))
}
