package loader_test

// The mirror program (bpf/tc_mirror.c): on a monitored netdev's TC
// ingress (xt_tc_mirror_in) or egress (xt_tc_mirror_out) it copies
// frames to the ERSPAN overlay netdev its xt_mirrors entry names, with
// bpf_clone_redirect, one in sample; the frame itself goes on untouched
// (TC_ACT_UNSPEC: to the next program, if any). The copy needs a real
// target: the runs happen in a nextHop namespace, copies go to xtu0 and
// arrive on xtp0.

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xtunnel/xtunnel/maps"
)

const tcUnspec = 0xffffffff // TC_ACT_UNSPEC (-1)

// mirrorOf is the xt_mirrors entry of (ifindex, egress).
func mirrorOf(t *testing.T, d *dataplane, ifindex int, egress bool) maps.Mirror {
	t.Helper()
	ms, err := d.tables.Mirrors()
	if err != nil {
		t.Fatalf("read xt_mirrors: %v", err)
	}
	for _, m := range ms {
		if m.Ifindex == ifindex && m.Egress == egress {
			return m
		}
	}
	t.Fatalf("no mirror of ifindex %d egress %v in %+v", ifindex, egress, ms)
	return maps.Mirror{}
}

func TestMirror(t *testing.T) {
	requireRootForBPF(t)
	nh := newNextHop(t, false)
	frame := ethInner{in: inner{}}.bytes(t)
	const lo = 1 // skb->dev of a test run: the namespace's loopback device

	cases := []struct {
		name    string
		mirrors []maps.Mirror
		egress  bool // run xt_tc_mirror_out
		ifindex int  // skb->dev; 0: lo
		reason  string
		copied  bool
	}{
		{name: "ingress", mirrors: []maps.Mirror{{Ifindex: lo, Target: nh.link}}, reason: "mirror", copied: true},
		{name: "ingress sample 1", mirrors: []maps.Mirror{{Ifindex: lo, Target: nh.link, Sample: 1}}, reason: "mirror", copied: true},
		{name: "egress", mirrors: []maps.Mirror{{Ifindex: lo, Egress: true, Target: nh.link}}, egress: true, reason: "mirror", copied: true},
		{name: "egress of xtp0", mirrors: []maps.Mirror{{Ifindex: nh.peer, Egress: true, Target: nh.link}},
			egress: true, ifindex: nh.peer, reason: "mirror", copied: true},
		{name: "no entry", egress: false},
		{name: "no entry egress", egress: true},
		{name: "ingress entry only, egress run", mirrors: []maps.Mirror{{Ifindex: lo, Target: nh.link}}, egress: true},
		{name: "egress entry only, ingress run", mirrors: []maps.Mirror{{Ifindex: lo, Egress: true, Target: nh.link}}},
		{name: "another netdev's entry", mirrors: []maps.Mirror{{Ifindex: nh.peer, Target: nh.link}}},
		{name: "target gone", mirrors: []maps.Mirror{{Ifindex: lo, Target: 9999}}, reason: "mirror_fail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t)
			for _, m := range c.mirrors {
				if err := d.tables.PutMirror(m); err != nil {
					t.Fatalf("put mirror %+v: %v", m, err)
				}
			}
			prog := d.objs.MirrorIn
			if c.egress {
				prog = d.objs.MirrorOut
			}
			capt := nh.capture(t, nh.peer)
			var res result
			nh.in(t, func() { res = d.runCtx(t, prog, frame, skbCtx{Ifindex: uint32(c.ifindex)}) })
			if res.ret != tcUnspec {
				t.Errorf("verdict %d, want TC_ACT_UNSPEC (-1)", int32(res.ret))
			}
			if c.reason == "" {
				if len(res.moved) != 0 {
					t.Errorf("reasons moved: %v, want none", res.moved)
				}
			} else {
				checkVerdict(t, res, tcUnspec, c.reason)
			}
			checkFrame(t, res.out, frame) // the frame goes on as it came
			for _, m := range c.mirrors {
				got := mirrorOf(t, d, m.Ifindex, m.Egress)
				var want uint64
				if c.copied {
					want = 1
				}
				if got.Packets != want || got.Skipped != 0 {
					t.Errorf("mirror %+v counted %d copied, %d skipped; want %d, 0", m, got.Packets, got.Skipped, want)
				}
			}
			copies := capt.frames(t, func(b []byte) bool { return bytes.Equal(b, frame) })
			if n := len(copies); (n == 1) != c.copied || n > 1 {
				t.Errorf("%d copies arrived on xtp0, want copied %v", n, c.copied)
			}
		})
	}
}

// TestMirrorSample: with sample N > 1 about one frame in N is copied,
// the rest counted as mirror_sampled_out; both counters add up to the
// frames, and the entry's packets and skipped follow them.
func TestMirrorSample(t *testing.T) {
	requireRootForBPF(t)
	nh := newNextHop(t, false)
	frame := ethInner{dst: broadcast, arp: true}.bytes(t)
	for _, c := range []struct {
		name   string
		egress bool
		sample uint32
		runs   int
	}{
		{"ingress 1 in 4", false, 4, 400},
		{"egress 1 in 2", true, 2, 300},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDataplane(t)
			m := maps.Mirror{Ifindex: 1, Egress: c.egress, Target: nh.link, Sample: c.sample}
			if err := d.tables.PutMirror(m); err != nil {
				t.Fatal(err)
			}
			prog := d.objs.MirrorIn
			if c.egress {
				prog = d.objs.MirrorOut
			}
			before := d.reasons(t)
			nh.in(t, func() {
				for i := 0; i < c.runs; i++ {
					ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
					if err != nil {
						t.Fatalf("run %d: %v", i, err)
					}
					if ret != tcUnspec {
						t.Fatalf("run %d: verdict %d, want TC_ACT_UNSPEC (-1)", i, int32(ret))
					}
				}
			})
			after := d.reasons(t)
			moved := func(name string) uint64 { i := reasonIndex(t, name); return after[i] - before[i] }
			copied, skipped := moved("mirror"), moved("mirror_sampled_out")
			if copied+skipped != uint64(c.runs) {
				t.Errorf("mirror %d + mirror_sampled_out %d = %d, want %d frames", copied, skipped, copied+skipped, c.runs)
			}
			if failed := moved("mirror_fail"); failed != 0 {
				t.Errorf("mirror_fail %d", failed)
			}
			// Binomial(runs, 1/sample): the bounds are over 5 standard deviations out.
			mean := float64(c.runs) / float64(c.sample)
			if f := float64(copied); f < mean/2 || f > mean*1.5 {
				t.Errorf("%d of %d frames copied with sample %d, want about %.0f", copied, c.runs, c.sample, mean)
			}
			got := mirrorOf(t, d, 1, c.egress)
			if got.Packets != copied || got.Skipped != skipped {
				t.Errorf("mirror entry: packets %d, skipped %d; reasons: mirror %d, mirror_sampled_out %d", got.Packets, got.Skipped, copied, skipped)
			}
			t.Logf("%d copied, %d sampled out", copied, skipped)
		})
	}
}
