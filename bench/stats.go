package bench

import (
	"fmt"
	"math"
	"slices"
)

// Stat is a median with its spread: the figure of every measurement,
// taken over interleaved trials (rounds).
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// stat summarises samples; no samples give a zero Stat.
func stat(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stat{Median: med, Min: s[0], Max: s[n-1]}
}

// ratios pairs two sample series trial by trial: a[i]/b[i]. Trials whose
// b is 0 are left out.
func ratios(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// Target is what a figure must reach: at least Value (Op ">=") or at
// most Value (Op "<="). Got is the figure's median; Met whether it
// reaches Value; Miss, when not met, how far off it is relative to
// Value (0.12: 12% short of a minimum, or 12% over a maximum).
type Target struct {
	Op    string  `json:"op"`
	Value float64 `json:"value"`
	Got   float64 `json:"got"`
	Met   bool    `json:"met"`
	Miss  float64 `json:"miss,omitempty"`
}

// atLeast and atMost make a Target for got.
func atLeast(got, v float64) *Target { return newTarget(">=", got, v) }
func atMost(got, v float64) *Target  { return newTarget("<=", got, v) }

func newTarget(op string, got, v float64) *Target {
	t := &Target{Op: op, Value: v, Got: got}
	switch op {
	case ">=":
		t.Met = got >= v
		if !t.Met && v != 0 {
			t.Miss = (v - got) / v
		}
	case "<=":
		t.Met = got <= v
		if !t.Met && v != 0 {
			t.Miss = (got - v) / v
		}
	}
	if math.IsNaN(got) {
		t.Met = false
	}
	return t
}

// String is the target as the table shows it: ">=0.70 met" or
// ">=0.70 MISSED by 12%".
func (t *Target) String() string {
	if t == nil {
		return ""
	}
	op := map[string]string{">=": "≥", "<=": "≤"}[t.Op]
	v := trimFloat(t.Value)
	if t.Met {
		return fmt.Sprintf("%s%s met", op, v)
	}
	return fmt.Sprintf("%s%s MISSED by %.0f%%", op, v, 100*t.Miss)
}

// trimFloat prints v with at most two decimals and no trailing zeros
// beyond what the value needs: 0.7 -> "0.70", 4 -> "4", 1.2 -> "1.2".
func trimFloat(v float64) string {
	switch {
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v < 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// Targets of the issue; the table shows each figure next to its own.
const (
	TargetDecapIP   = 0.70 // decap→forward pps over the MAC-swap baseline: ipip, gre
	TargetDecapUDP  = 0.55 // ... FOU, GUE, geneve
	TargetEncapIP   = 0.60 // encap→forward
	TargetEncapUDP  = 0.50
	TargetVXLANPeer = 4.0  // xtunnel's VXLAN decap pps over the kernel driver's
	TargetTCPFair   = 0.8  // TCP through a tunnel over plain veth with an empty XDP program
	TargetTCPKernel = 1.0  // TCP through a tunnel over the kernel's VXLAN, same setup
	TargetScaleCost = 1.2  // cost with 1M peers over cost with 1
	TargetLoadSecs  = 10.0 // seconds to load 1M peers
	TargetPeerBytes = 256  // map memory per peer
)
