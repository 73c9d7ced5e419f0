package bench

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/maps"
	"github.com/xtunnel/xtunnel/tunnel"
)

// xdpMD is struct xdp_md, the context of an XDP test run: with
// BPF_F_TEST_XDP_LIVE_FRAMES, IngressIfindex is the netdev the frames
// arrive on (in the calling thread's namespace), where XDP_TX sends
// them back out and whose namespace bpf_fib_lookup asks.
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// liveBatch is how many frames the kernel runs before it flushes the
// redirects and lets softirqs run (the default of BPF_PROG_RUN).
const liveBatch = 64

// liveRun runs prog on n copies of frame in live-frames mode
// (BPF_F_TEST_XDP_LIVE_FRAMES), as if they arrived on dev, from a thread
// inside dev's namespace pinned to cpu. The verdicts are carried out:
// XDP_TX and XDP_REDIRECT transmit for real. Each frame starts from the
// original bytes. It returns the wall time of the call.
func liveRun(prog *ebpf.Program, dev nsLink, frame []byte, n uint32, cpu int) (time.Duration, error) {
	var took time.Duration
	err := inNS(dev.NS, cpu, func() error {
		opts := &ebpf.RunOptions{
			Data:      frame,
			Repeat:    n,
			Flags:     unix.BPF_F_TEST_XDP_LIVE_FRAMES,
			BatchSize: liveBatch,
			Context:   &xdpMD{DataEnd: uint32(len(frame)), IngressIfindex: uint32(dev.Index)},
		}
		start := time.Now()
		_, err := prog.Run(opts)
		took = time.Since(start)
		if err != nil {
			return fmt.Errorf("live frames on %s: %w", dev.Name, err)
		}
		return nil
	})
	return took, err
}

// encapsulated is what a tunnel endpoint of spec sends for the frame in
// (an IP packet in an Ethernet frame, or for an Ethernet tunnel the frame
// itself), addressed from src to dst on the wire: the bytes come from
// xtunnel's own encap program, run once under BPF_PROG_TEST_RUN in a
// private load, so that no outer header is written by hand.
func encapsulated(spec tunnel.Spec, in []byte, dst, src net.HardwareAddr, reasons *reasonIndex) ([]byte, error) {
	t := maps.Tunnel{Spec: spec, ID: 1, Ifindex: 1, PeerIfindex: 1, LinkIfindex: 1, OverlayMTU: 1400,
		MAC: net.HardwareAddr{0x02, 0, 0, 0, 0x01, 0x01}, PeerMAC: net.HardwareAddr{0x02, 0, 0, 0, 0x01, 0x02}}
	d, err := newPrivLoad(loadConfig{tun: t})
	if err != nil {
		return nil, fmt.Errorf("build a %s frame: %w", spec.Type, err)
	}
	defer d.Close()
	prog := d.objs.Encap
	if maps.SlowTX(spec) {
		prog = d.objs.Peer
	}
	out, err := runChecked(d, prog, in, tcRedirect, reasons, reasons.encap)
	if err != nil {
		return nil, fmt.Errorf("build a %s frame: encap: %w", spec.Type, err)
	}
	copy(out[0:6], dst)
	copy(out[6:12], src)
	return out, nil
}

// plainFrame is a ping-sized IP packet from src to dst in an Ethernet
// frame from smac to dmac.
func plainFrame(src, dst netip.Addr, dmac, smac net.HardwareAddr) ([]byte, error) {
	l3, typ, err := ipPacket(src, dst)
	if err != nil {
		return nil, err
	}
	return ethFrame(dmac, smac, typ, l3)
}
