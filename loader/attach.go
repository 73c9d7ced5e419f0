package loader

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	tc "github.com/florianl/go-tc"
	"github.com/florianl/go-tc/core"
	"golang.org/x/sys/unix"
)

// XDP attach modes.
const (
	ModeAuto    = "auto"
	ModeNative  = "native"
	ModeGeneric = "generic"
	ModeTCX     = "tcx"
	ModeClsact  = "clsact"
)

// AttachXDP attaches prog to ifindex and pins the link at pin. Mode auto
// tries native, then generic. It returns the mode it got. If a link is
// already pinned there, its program is replaced atomically (an upgrade
// that drops no packet) and the mode is left as it was.
func AttachXDP(prog *ebpf.Program, ifname string, ifindex int, mode, pin string) (string, error) {
	if l, err := link.LoadPinnedLink(pin, nil); err == nil {
		defer l.Close()
		info, ierr := l.Info()
		if ierr == nil && info.XDP() != nil && int(info.XDP().Ifindex) == ifindex {
			if err := l.Update(prog); err != nil {
				return "", fmt.Errorf("attach %s: replace program: %w", ifname, err)
			}
			return "", nil
		}
		// Defunct: its netdev went away. Replace it.
		l.Unpin()
	}

	try := []string{mode}
	if mode == ModeAuto || mode == "" {
		try = []string{ModeNative, ModeGeneric}
	}
	var errs []error
	for _, m := range try {
		flags := link.XDPDriverMode
		if m == ModeGeneric {
			flags = link.XDPGenericMode
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: flags})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m, err))
			continue
		}
		if err := l.Pin(pin); err != nil {
			l.Close()
			return "", fmt.Errorf("attach %s: pin %s: %w", ifname, pin, err)
		}
		l.Close()
		return m, nil
	}
	err := errors.Join(errs...)
	switch {
	case errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST):
		return "", fmt.Errorf("attach %s: it already has an XDP program xtunnel did not attach; "+
			"remove it first (ip link set dev %s xdp off): %w", ifname, ifname, err)
	case mode == ModeNative:
		return "", fmt.Errorf("attach %s: native XDP not supported by its driver; retry with --xdp-mode generic: %w", ifname, err)
	case errors.Is(err, os.ErrPermission):
		return "", fmt.Errorf("attach %s: permission denied; run as root: %w", ifname, err)
	}
	return "", fmt.Errorf("attach %s: XDP: %w", ifname, err)
}

// AttachTC attaches prog to ifindex's egress (or ingress). TCX links are
// pinned at pin; a clsact filter lives as long as the netdev, which xtunnel
// owns (only overlay netdevs and their peers get TC programs), so it needs
// no pin. It returns the mode it used.
func AttachTC(prog *ebpf.Program, ifname string, ifindex int, mode, pin string, ingress bool) (string, error) {
	at, parent := ebpf.AttachTCXEgress, tc.HandleMinEgress
	if ingress {
		at, parent = ebpf.AttachTCXIngress, tc.HandleMinIngress
	}
	if mode == ModeAuto || mode == "" || mode == ModeTCX {
		l, err := link.AttachTCX(link.TCXOptions{Program: prog, Attach: at, Interface: ifindex})
		if err == nil {
			if err := l.Pin(pin); err != nil {
				l.Close()
				return "", fmt.Errorf("attach tc %s: pin %s: %w", ifname, pin, err)
			}
			l.Close()
			return ModeTCX, nil
		}
		if mode == ModeTCX {
			return "", fmt.Errorf("attach tc %s: TCX (kernel 6.6+) failed; retry with --tc-mode clsact: %w", ifname, err)
		}
	}
	if err := attachClsact(prog, ifindex, parent); err != nil {
		return "", fmt.Errorf("attach tc %s: clsact: %w", ifname, err)
	}
	return ModeClsact, nil
}

// mirrorHandle is the clsact filter handle of xtunnel's mirror programs:
// they live on netdevs xtunnel does not own, so they must be found again.
const mirrorHandle = 0x7874

// AttachMirror attaches a mirror program to ifindex's ingress or egress,
// ahead of other TCX programs there (it copies and lets the frame go on).
// TCX links are pinned at pin; clsact filters carry mirrorHandle.
func AttachMirror(prog *ebpf.Program, ifname string, ifindex int, mode, pin string, ingress bool) (string, error) {
	at, parent := ebpf.AttachTCXEgress, tc.HandleMinEgress
	if ingress {
		at, parent = ebpf.AttachTCXIngress, tc.HandleMinIngress
	}
	if mode == ModeAuto || mode == "" || mode == ModeTCX {
		l, err := link.AttachTCX(link.TCXOptions{Program: prog, Attach: at, Interface: ifindex, Anchor: link.Head()})
		if err == nil {
			if err := l.Pin(pin); err != nil {
				l.Close()
				return "", fmt.Errorf("mirror %s: pin %s: %w", ifname, pin, err)
			}
			l.Close()
			return ModeTCX, nil
		}
		if mode == ModeTCX {
			return "", fmt.Errorf("mirror %s: TCX (kernel 6.6+) failed; retry with --tc-mode clsact: %w", ifname, err)
		}
	}
	if err := attachClsactHandle(prog, ifindex, parent, mirrorHandle); err != nil {
		return "", fmt.Errorf("mirror %s: clsact: %w", ifname, err)
	}
	return ModeClsact, nil
}

// DetachMirror removes what AttachMirror attached; nothing there is fine.
func DetachMirror(ifindex int, pin string, ingress bool) error {
	if Pinned(pin) {
		return Unpin(pin)
	}
	parent := uint32(tc.HandleMinEgress)
	if ingress {
		parent = tc.HandleMinIngress
	}
	nl, err := tc.Open(&tc.Config{})
	if err != nil {
		return fmt.Errorf("rtnetlink: %w", err)
	}
	defer nl.Close()
	filter := tc.Object{
		Msg: tc.Msg{Family: unix.AF_UNSPEC, Ifindex: uint32(ifindex), Handle: mirrorHandle,
			Parent: core.BuildHandle(tc.HandleRoot, parent),
			Info:   core.BuildHandle(1, uint32(htons(unix.ETH_P_ALL)))},
		Attribute: tc.Attribute{Kind: "bpf"},
	}
	err = nl.Filter().Delete(&filter)
	if err != nil && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENODEV)) {
		err = nil
	}
	if err != nil {
		return err
	}
	// The clsact qdisc AttachMirror added goes too once no filter is left
	// on either side: the netdev is not xtunnel's.
	for _, p := range []uint32{tc.HandleMinIngress, tc.HandleMinEgress} {
		fs, ferr := nl.Filter().Get(&tc.Msg{Family: unix.AF_UNSPEC, Ifindex: uint32(ifindex),
			Parent: core.BuildHandle(tc.HandleRoot, p)})
		if ferr != nil || len(fs) > 0 {
			return nil
		}
	}
	qdisc := tc.Object{
		Msg: tc.Msg{Family: unix.AF_UNSPEC, Ifindex: uint32(ifindex),
			Handle: core.BuildHandle(tc.HandleRoot, 0), Parent: tc.HandleIngress},
		Attribute: tc.Attribute{Kind: "clsact"},
	}
	if err := nl.Qdisc().Delete(&qdisc); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("delete clsact qdisc: %w", err)
	}
	return nil
}

func attachClsact(prog *ebpf.Program, ifindex int, parent uint32) error {
	return attachClsactHandle(prog, ifindex, parent, 0)
}

func attachClsactHandle(prog *ebpf.Program, ifindex int, parent, handle uint32) error {
	nl, err := tc.Open(&tc.Config{})
	if err != nil {
		return fmt.Errorf("rtnetlink: %w", err)
	}
	defer nl.Close()
	qdisc := tc.Object{
		Msg: tc.Msg{Family: unix.AF_UNSPEC, Ifindex: uint32(ifindex),
			Handle: core.BuildHandle(tc.HandleRoot, 0), Parent: tc.HandleIngress},
		Attribute: tc.Attribute{Kind: "clsact"},
	}
	if err := nl.Qdisc().Add(&qdisc); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add clsact qdisc: %w", err)
	}
	fd := uint32(prog.FD())
	name := "xtunnel"
	if info, err := prog.Info(); err == nil {
		name = info.Name
	}
	flags := uint32(tc.BpfActDirect)
	filter := tc.Object{
		Msg: tc.Msg{Family: unix.AF_UNSPEC, Ifindex: uint32(ifindex), Handle: handle,
			Parent: core.BuildHandle(tc.HandleRoot, parent),
			Info:   core.BuildHandle(1, uint32(htons(unix.ETH_P_ALL)))},
		Attribute: tc.Attribute{Kind: "bpf", BPF: &tc.Bpf{FD: &fd, Name: &name, Flags: &flags}},
	}
	if err := nl.Filter().Add(&filter); err != nil {
		return fmt.Errorf("add bpf filter: %w", err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Unpin removes a pinned link, detaching it. A missing pin is not an error.
func Unpin(pin string) error {
	l, err := link.LoadPinnedLink(pin, nil)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		// Not a link (or unreadable): remove the file anyway.
		if rerr := os.Remove(pin); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return rerr
		}
		return nil
	}
	defer l.Close()
	return l.Unpin()
}

// Pinned reports whether a link is pinned at pin.
func Pinned(pin string) bool {
	_, err := os.Stat(pin)
	return err == nil
}
