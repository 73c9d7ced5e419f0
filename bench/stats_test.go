package bench

import (
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"
)

func TestStat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want Stat
	}{
		{"none", nil, Stat{}},
		{"one", []float64{3}, Stat{3, 3, 3}},
		{"odd, unsorted", []float64{5, 1, 3}, Stat{3, 1, 5}},
		{"even: mean of the middle two", []float64{4, 1, 2, 10}, Stat{3, 1, 10}},
		{"ties", []float64{2, 2, 2, 7}, Stat{2, 2, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			if got := stat(tc.in); got != tc.want {
				t.Errorf("stat(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("stat reordered its input: %v, was %v", tc.in, in)
			}
		})
	}
}

func TestRatios(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []float64
		want []float64
	}{
		{"paired by index", []float64{2, 9, 4}, []float64{1, 3, 8}, []float64{2, 3, 0.5}},
		{"shorter b", []float64{2, 9, 4}, []float64{1}, []float64{2}},
		{"zero denominator left out", []float64{2, 9}, []float64{0, 3}, []float64{3}},
		{"empty", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ratios(tc.a, tc.b); !slices.Equal(got, tc.want) {
				t.Errorf("ratios(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		t        *Target
		met      bool
		miss     float64
		rendered string
	}{
		{"at least, met", atLeast(0.75, 0.70), true, 0, "≥0.70 met"},
		{"at least, exactly", atLeast(0.70, 0.70), true, 0, "≥0.70 met"},
		{"at least, missed", atLeast(0.35, 0.70), false, 0.5, "≥0.70 MISSED by 50%"},
		{"ratio target above 1", atLeast(1.6, 4), false, 0.6, "≥4 MISSED by 60%"},
		{"at most, met", atMost(150, 256), true, 0, "≤256 met"},
		{"at most, missed", atMost(14, 10), false, 0.4, "≤10 MISSED by 40%"},
		{"at most, decimal", atMost(1.8, 1.2), false, 0.5, "≤1.2 MISSED by 50%"},
		{"not a number is never met", atLeast(math.NaN(), 0.5), false, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.t.Met != tc.met {
				t.Errorf("met = %v, want %v (%+v)", tc.t.Met, tc.met, tc.t)
			}
			if math.Abs(tc.t.Miss-tc.miss) > 1e-9 && !math.IsNaN(tc.t.Got) {
				t.Errorf("miss = %v, want %v", tc.t.Miss, tc.miss)
			}
			if tc.rendered != "" && tc.t.String() != tc.rendered {
				t.Errorf("String() = %q, want %q", tc.t.String(), tc.rendered)
			}
		})
	}
	var none *Target
	if none.String() != "" {
		t.Errorf("a nil target renders as %q, want nothing", none.String())
	}
}

func TestGatewayTargets(t *testing.T) {
	for _, tc := range []struct {
		path, class string
		want        float64
	}{
		{"decap→forward", "ip", TargetDecapIP},
		{"decap→forward", "udp", TargetDecapUDP},
		{"encap→forward", "ip", TargetEncapIP},
		{"encap→forward", "udp", TargetEncapUDP},
	} {
		if got := gwTarget(tc.path, tc.class); got != tc.want {
			t.Errorf("gwTarget(%s, %s) = %v, want %v", tc.path, tc.class, got, tc.want)
		}
	}
	for _, g := range gwTypes {
		if g.Class != "ip" && g.Class != "udp" {
			t.Errorf("gateway type %s has class %q: no target applies", g.Name, g.Class)
		}
	}
}

func TestRotate(t *testing.T) {
	xs := []int{1, 2, 3, 4}
	for r, want := range [][]int{{1, 2, 3, 4}, {2, 3, 4, 1}, {3, 4, 1, 2}, {4, 1, 2, 3}, {1, 2, 3, 4}} {
		if got := rotate(xs, r); !slices.Equal(got, want) {
			t.Errorf("rotate(%v, %d) = %v, want %v", xs, r, got, want)
		}
	}
	if got := rotate([]int(nil), 3); got != nil {
		t.Errorf("rotate(nil) = %v", got)
	}
	if !slices.Equal(xs, []int{1, 2, 3, 4}) {
		t.Errorf("rotate changed its input: %v", xs)
	}
}

func TestParallel(t *testing.T) {
	var ran atomic.Int32
	seen := make([]bool, 50)
	err := parallel(len(seen), 3, func(i int) error {
		ran.Add(1)
		seen[i] = true
		if i == 7 || i == 30 {
			return errors.New("boom")
		}
		return nil
	})
	if ran.Load() != 50 || slices.Contains(seen, false) {
		t.Errorf("ran %d of 50 (every one must run, failed ones too)", ran.Load())
	}
	if err == nil {
		t.Fatal("want the failures joined")
	}
	if err := parallel(0, 2, func(int) error { return errors.New("no") }); err != nil {
		t.Errorf("nothing to run: %v", err)
	}
}
