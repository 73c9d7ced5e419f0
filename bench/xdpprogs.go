package bench

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// XDP actions.
const (
	xdpDrop = 1 // XDP_DROP
	xdpTX   = 3 // XDP_TX
)

// The small XDP programs the live measurements need, built here from a
// few instructions so that nothing but xtunnel's own object is compiled.

// counter is an XDP program that counts every frame in a per-CPU
// counter and returns a fixed action: XDP_DROP on the far end of a veth
// (where frames sent in XDP must find an XDP program to be accepted,
// and are counted as delivered), XDP_PASS in front of the kernel's
// stack.
type counter struct {
	Prog  *ebpf.Program
	count *ebpf.Map
}

func newCounter(action int32) (*counter, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name: "xt_bench_cnt", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("create a counter map: %w", err)
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "xt_bench_count",
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.StoreImm(asm.R10, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, action).WithSymbol("out"),
			asm.Return(),
		},
		License: "GPL",
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("load a counting XDP program: %w", err)
	}
	return &counter{Prog: p, count: m}, nil
}

// Count is the number of frames seen so far, summed over CPUs.
func (c *counter) Count() (uint64, error) {
	var per []uint64
	if err := c.count.Lookup(uint32(0), &per); err != nil {
		return 0, err
	}
	var n uint64
	for _, v := range per {
		n += v
	}
	return n, nil
}

func (c *counter) Close() {
	c.Prog.Close()
	c.count.Close()
}

// macSwapProgram swaps the Ethernet source and destination and returns
// XDP_TX: the least an XDP forwarder does, the pps baseline.
func macSwapProgram() (*ebpf.Program, error) {
	return ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:       "xt_bench_swap",
		Type:       ebpf.XDP,
		AttachType: ebpf.AttachXDP, // as xtunnel's: a tail call needs the same
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // data
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), // data_end
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, 14),
			asm.JGT.Reg(asm.R4, asm.R3, "drop"),
			asm.LoadMem(asm.R5, asm.R2, 0, asm.Word),
			asm.LoadMem(asm.R6, asm.R2, 4, asm.Half),
			asm.LoadMem(asm.R7, asm.R2, 6, asm.Word),
			asm.LoadMem(asm.R8, asm.R2, 10, asm.Half),
			asm.StoreMem(asm.R2, 0, asm.R7, asm.Word),
			asm.StoreMem(asm.R2, 4, asm.R8, asm.Half),
			asm.StoreMem(asm.R2, 6, asm.R5, asm.Word),
			asm.StoreMem(asm.R2, 10, asm.R6, asm.Half),
			asm.Mov.Imm(asm.R0, xdpTX),
			asm.Return(),
			asm.Mov.Imm(asm.R0, xdpDrop).WithSymbol("drop"),
			asm.Return(),
		},
		License: "GPL",
	})
}

// restorer runs a program on live frames that rewrite their packet: in
// live-frames mode the kernel recycles a page without rewriting its
// content (only data, data_end and data_meta are reset), so from the
// second batch on a program that changes the packet (decap, encap, a
// MAC swap) would see its own output. The restorer writes the original
// frame back (bpf_xdp_store_bytes from a map) and tail-calls the
// program: every run sees the frame as sent. Every live trial, baselines
// included, goes through one, so its cost is common to all of them.
type restorer struct {
	Prog  *ebpf.Program
	frame *ebpf.Map
	progs *ebpf.Map
}

func newRestorer(frame []byte, target *ebpf.Program) (r *restorer, err error) {
	r = &restorer{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	r.frame, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "xt_bench_frame", Type: ebpf.Array, KeySize: 4, ValueSize: uint32(len(frame)), MaxEntries: 1,
	})
	if err != nil {
		return r, fmt.Errorf("create the frame map: %w", err)
	}
	if err := r.frame.Put(uint32(0), frame); err != nil {
		return r, fmt.Errorf("store the frame: %w", err)
	}
	r.progs, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "xt_bench_tail", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1,
	})
	if err != nil {
		return r, fmt.Errorf("create the program array: %w", err)
	}
	r.Prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:       "xt_bench_restore",
		Type:       ebpf.XDP,
		AttachType: ebpf.AttachXDP, // as the programs it tail-calls (SEC("xdp"))
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.StoreImm(asm.R10, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, r.frame.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "drop"),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Reg(asm.R3, asm.R0),
			asm.Mov.Imm(asm.R4, int32(len(frame))),
			asm.FnXdpStoreBytes.Call(),
			asm.JNE.Imm(asm.R0, 0, "drop"),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, r.progs.FD()),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnTailCall.Call(),
			asm.Mov.Imm(asm.R0, xdpDrop).WithSymbol("drop"),
			asm.Return(),
		},
		License: "GPL",
	})
	if err != nil {
		return r, fmt.Errorf("load the frame-restoring XDP program: %w", err)
	}
	// After the restorer: the array's first user sets what may be put
	// in it, and the restorer is not JIT-compiled until loaded.
	if err := r.progs.Put(uint32(0), target); err != nil {
		return r, fmt.Errorf("program array: %w", err)
	}
	return r, nil
}

func (r *restorer) Close() {
	if r.Prog != nil {
		r.Prog.Close()
	}
	for _, m := range []*ebpf.Map{r.frame, r.progs} {
		if m != nil {
			m.Close()
		}
	}
}
