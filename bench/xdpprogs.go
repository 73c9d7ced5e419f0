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
		Name: "xt_bench_swap",
		Type: ebpf.XDP,
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
