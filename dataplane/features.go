package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/xtunnel/xtunnel/tunnel"
)

// kernelModules are the kernel drivers behind each type's slow path.
var kernelModules = map[tunnel.Type]string{tunnel.GRE: "ip_gre", tunnel.IPIP: "ipip",
	tunnel.SIT: "sit", tunnel.IP6TNL: "ip6_tunnel", tunnel.IP6GRE: "ip6_gre",
	tunnel.GRETAP: "ip_gre", tunnel.IP6GRETAP: "ip6_gre", tunnel.ERSPAN: "ip_gre",
	tunnel.IP6ERSPAN: "ip6_gre", tunnel.GENEVE: "geneve", tunnel.VXLAN: "vxlan"}

// kernelDriver reports whether the running kernel has module mod, built in
// or loadable.
func kernelDriver(mod string) bool {
	if _, err := os.Stat(filepath.Join("/sys/module", mod)); err == nil {
		return true
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	for _, f := range []string{"modules.dep", "modules.builtin"} {
		b, err := os.ReadFile(filepath.Join("/lib/modules", rel, f))
		if err == nil && strings.Contains(string(b), "/"+mod+".ko") {
			return true
		}
	}
	return false
}

func slowPathNote(t tunnel.Type) string {
	mod := kernelModules[t]
	if mod == "" || kernelDriver(mod) {
		return ""
	}
	return fmt.Sprintf("this kernel has no %s driver (%s): packets the fast path declines "+
		"(fragments, IP options or IPv6 extension headers, long checksummed packets) go to the stack undecapsulated", t, mod)
}

func probe(name string, err error, okDetail string) Feature {
	if err == nil {
		return Feature{Name: name, OK: true, Detail: okDetail}
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		return Feature{Name: name, Detail: "not supported by this kernel"}
	}
	return Feature{Name: name, Detail: err.Error()}
}

// Features probes the running kernel.
func Features() []Feature {
	var u unix.Utsname
	unix.Uname(&u)
	fs := []Feature{{Name: "kernel", OK: true, Detail: unix.ByteSliceToString(u.Release[:])}}
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	fs = append(fs,
		probe("btf", err, "/sys/kernel/btf/vmlinux"),
		probe("xdp", features.HaveProgramType(ebpf.XDP), "XDP programs"),
		probe("tc", features.HaveProgramType(ebpf.SchedCLS), "TC (clsact) programs"),
		tcxFeature(),
		probe("redirect_neigh", features.HaveProgramHelper(ebpf.SchedCLS, asm.FnRedirectNeigh), "bpf_redirect_neigh (5.10+)"),
		probe("check_mtu", features.HaveProgramHelper(ebpf.SchedCLS, asm.FnCheckMtu), "bpf_check_mtu (5.12+)"),
		probe("devmap_hash", features.HaveMapType(ebpf.DevMapHash), "XDP redirect map"),
	)
	for _, t := range []tunnel.Type{tunnel.GRE, tunnel.IPIP, tunnel.SIT, tunnel.IP6TNL, tunnel.IP6GRE,
		tunnel.GRETAP, tunnel.IP6GRETAP, tunnel.ERSPAN, tunnel.IP6ERSPAN, tunnel.GENEVE, tunnel.VXLAN} {
		f := Feature{Name: "slowpath-" + t.String(), OK: kernelDriver(kernelModules[t])}
		f.Detail = "kernel " + kernelModules[t] + " driver present"
		if !f.OK {
			f.Detail = "no " + kernelModules[t] + " driver: fast path only"
		}
		fs = append(fs, f)
	}
	return fs
}

// tcxFeature: TCX links arrived in Linux 6.6.
func tcxFeature() Feature {
	var u unix.Utsname
	unix.Uname(&u)
	var maj, min int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &maj, &min)
	if maj > 6 || (maj == 6 && min >= 6) {
		return Feature{Name: "tcx", OK: true, Detail: "TCX links (6.6+); else clsact"}
	}
	return Feature{Name: "tcx", Detail: "kernel older than 6.6: TC programs use a clsact qdisc"}
}
