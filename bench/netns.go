package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// inNS runs f on a thread locked to it that has entered the named
// network namespace (one the bench created, under /run/netns): netlink
// calls, XDP attachment by ifindex and BPF_PROG_RUN's ingress device all
// act in the calling thread's namespace. With cpu >= 0 the thread is
// pinned to that CPU. Afterwards the thread goes back to its namespace
// and CPUs; if that fails it stays locked and exits with the goroutine,
// so no other code ever runs in the namespace by accident.
func inNS(name string, cpu int, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored := false
		defer func() {
			if restored {
				runtime.UnlockOSThread()
			}
			if r := recover(); r != nil {
				errc <- fmt.Errorf("in namespace %s: panic: %v", name, r)
			}
		}()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("this thread's namespace: %w", err)
			return
		}
		defer orig.Close()
		var aff unix.CPUSet
		if err := unix.SchedGetaffinity(0, &aff); err != nil {
			errc <- fmt.Errorf("CPU affinity: %w", err)
			return
		}
		h, err := netns.GetFromName(name)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", name, err)
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", name, err)
			return
		}
		err = nil
		if cpu >= 0 {
			var set unix.CPUSet
			set.Set(cpu)
			if err = unix.SchedSetaffinity(0, &set); err != nil {
				err = fmt.Errorf("pin to CPU %d: %w", cpu, err)
			}
		}
		if err == nil {
			err = f()
		}
		restored = netns.Set(orig) == nil && unix.SchedSetaffinity(0, &aff) == nil
		errc <- err
	}()
	return <-errc
}

// ipNS runs `ip -n NS args...` (or `ip args...` with ns ""), which acts
// on the bench's namespaces only.
func ipNS(ctx context.Context, ns string, args ...string) error {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// nsLink is a netdev of a namespace: its ifindex and MAC.
type nsLink struct {
	NS, Name string
	Index    int
	MAC      net.HardwareAddr
}

// lookupLinks finds netdevs by name inside ns.
func lookupLinks(ns string, names ...string) ([]nsLink, error) {
	out := make([]nsLink, len(names))
	err := inNS(ns, -1, func() error {
		for i, n := range names {
			l, err := netlink.LinkByName(n)
			if err != nil {
				return fmt.Errorf("[%s] %s: %w", ns, n, err)
			}
			out[i] = nsLink{NS: ns, Name: n, Index: l.Attrs().Index, MAC: l.Attrs().HardwareAddr}
		}
		return nil
	})
	return out, err
}

// xdpAttachment is an XDP program the bench attached; Close detaches it.
type xdpAttachment struct {
	l link.Link
}

// attachXDP attaches prog in native mode to dev (a netdev of its
// namespace), through a BPF link the bench holds: closing it detaches.
func attachXDP(prog *ebpf.Program, dev nsLink) (*xdpAttachment, error) {
	var a xdpAttachment
	err := inNS(dev.NS, -1, func() error {
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: dev.Index, Flags: link.XDPDriverMode})
		if err != nil {
			return fmt.Errorf("[%s] attach XDP to %s: %w", dev.NS, dev.Name, err)
		}
		a.l = l
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (a *xdpAttachment) Close() error {
	if a == nil || a.l == nil {
		return nil
	}
	err := a.l.Close()
	a.l = nil
	return err
}

// cleanups runs cleanup steps last first and joins their errors.
type cleanups []func() error

func (c *cleanups) add(f func() error) { *c = append(*c, f) }

func (c *cleanups) run() error {
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		if err := (*c)[i](); err != nil {
			errs = append(errs, err)
		}
	}
	*c = nil
	return errors.Join(errs...)
}

// joinErr is errors.Join for two.
func joinErr(a, b error) error { return errors.Join(a, b) }
