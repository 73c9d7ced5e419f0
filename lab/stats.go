package lab

import (
	"encoding/json"
	"fmt"
)

// Stats is the document `xtunnel --json stats [NAME]` prints, as the lab
// reads it:
//
//	{"tunnels": [{"name": "xt0", "rx_packets": 5, "rx_bytes": 420, "rx_dropped": 0,
//	              "tx_packets": 5, "tx_bytes": 420, "tx_dropped": 0}],
//	 "reasons": {"decap": 5, "encap": 5, "pass_not_tunnel": 2}}
//
// "reasons" is there when no NAME is given. Other fields are ignored.
type Stats struct {
	Tunnels map[string]Counters // by overlay netdev name
	Reasons map[string]uint64
}

// Counters are one tunnel's counters as `xtunnel --json stats` prints them.
type Counters struct {
	RxPackets uint64 `json:"rx_packets"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxDropped uint64 `json:"rx_dropped"`
	TxPackets uint64 `json:"tx_packets"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxDropped uint64 `json:"tx_dropped"`
}

const statsShape = `{"tunnels": [{"name": NAME, "rx_packets": N, ...}], "reasons": {"REASON": N}}`

// ParseStats is the one place that knows the shape of
// `xtunnel --json stats` output.
func ParseStats(b []byte) (Stats, error) {
	var raw struct {
		Tunnels *[]struct {
			Name string `json:"name"`
			Counters
		} `json:"tunnels"`
		Reasons map[string]uint64 `json:"reasons"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Stats{}, fmt.Errorf("xtunnel --json stats: %w; want %s", err, statsShape)
	}
	if raw.Tunnels == nil {
		return Stats{}, fmt.Errorf(`xtunnel --json stats: no "tunnels" list; want %s`, statsShape)
	}
	st := Stats{Tunnels: map[string]Counters{}, Reasons: raw.Reasons}
	for _, t := range *raw.Tunnels {
		st.Tunnels[t.Name] = t.Counters
	}
	return st, nil
}

// ParseLinkStats reads the counters of the one netdev of
// `ip -s -j link show dev NAME`: its "stats64" rx and tx packets, bytes
// and drops.
func ParseLinkStats(b []byte) (Counters, error) {
	type dir struct {
		Bytes   uint64 `json:"bytes"`
		Packets uint64 `json:"packets"`
		Dropped uint64 `json:"dropped"`
	}
	var links []struct {
		Stats64 *struct {
			Rx dir `json:"rx"`
			Tx dir `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(b, &links); err != nil {
		return Counters{}, err
	}
	if len(links) != 1 || links[0].Stats64 == nil {
		return Counters{}, fmt.Errorf(`want one netdev with "stats64", got %d netdevs`, len(links))
	}
	st := links[0].Stats64
	return Counters{
		RxPackets: st.Rx.Packets, RxBytes: st.Rx.Bytes, RxDropped: st.Rx.Dropped,
		TxPackets: st.Tx.Packets, TxBytes: st.Tx.Bytes, TxDropped: st.Tx.Dropped,
	}, nil
}

// Sub returns c - o field by field: the counters' movement since o.
func (c Counters) Sub(o Counters) Counters {
	return Counters{
		RxPackets: c.RxPackets - o.RxPackets,
		RxBytes:   c.RxBytes - o.RxBytes,
		RxDropped: c.RxDropped - o.RxDropped,
		TxPackets: c.TxPackets - o.TxPackets,
		TxBytes:   c.TxBytes - o.TxBytes,
		TxDropped: c.TxDropped - o.TxDropped,
	}
}

// Packets is every packet the tunnel's BPF programs carried: rx + tx.
func (c Counters) Packets() uint64 { return c.RxPackets + c.TxPackets }

// ReasonDelta returns after - before for every reason that moved.
func ReasonDelta(before, after map[string]uint64) map[string]uint64 {
	d := map[string]uint64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}
