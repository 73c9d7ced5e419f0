package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// State is keyed by network namespace: <bpffs dir>/ns-<netns cookie>. The
// cookie is unique for the life of the machine and never reused, so
// namespaces never see each other's maps or links, and a namespace that is
// deleted and created again under the same name starts clean.
func netnsCookie() (uint64, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return 0, fmt.Errorf("read network namespace cookie (needs Linux 5.14+): %w", err)
	}
	return c, nil
}

func isBPFFS(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && uint32(st.Type) == unix.BPF_FS_MAGIC
}

// hostViews are the mount namespaces to look for the host's bpffs in when
// ours has none: `ip netns exec` gives a command a mount namespace of its
// own with a fresh /sys, which hides the host's /sys/fs/bpf. Returned are
// root directories of namespaces other than ours, and whether ours is
// private (differs from a readable PID 1 or parent namespace).
func hostViews() (roots []string, private bool) {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return nil, false
	}
	for _, pid := range []int{1, os.Getppid()} {
		other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
		if err != nil || other == self {
			continue
		}
		private = true
		roots = append(roots, fmt.Sprintf("/proc/%d/root", pid))
	}
	return roots, private
}

// resolveBase finds the bpffs directory to keep state in, mounting bpffs
// on /sys/fs/bpf when the default is asked for and nothing is mounted.
func resolveBase(base string) (string, error) {
	if base == "" {
		base = DefaultBPFFS
	}
	base = filepath.Clean(base)
	if isBPFFS(base) || isBPFFS(filepath.Dir(base)) {
		return base, nil
	}
	if base != DefaultBPFFS {
		return "", fmt.Errorf("--bpffs %s is not on a BPF filesystem; mount one (mount -t bpf bpf DIR) or omit --bpffs", base)
	}
	mnt := filepath.Dir(base)
	roots, private := hostViews()
	for _, r := range roots {
		if isBPFFS(filepath.Join(r, mnt)) {
			return filepath.Join(r, base), nil
		}
	}
	if private {
		return "", fmt.Errorf("this process has a private mount namespace (ip netns exec?) with no BPF filesystem on %s, "+
			"so state would not outlive it; mount one on the host first (mount -t bpf bpf %s) or pass --bpffs DIR outside /sys", mnt, mnt)
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", mnt, err)
	}
	if err := unix.Mount("bpf", mnt, "bpf", 0, "mode=0700"); err != nil {
		return "", fmt.Errorf("mount bpffs on %s: %w (mount it yourself: mount -t bpf bpf %s)", mnt, err, mnt)
	}
	return base, nil
}

func stateDir(base string) (string, error) {
	b, err := resolveBase(base)
	if err != nil {
		return "", err
	}
	c, err := netnsCookie()
	if err != nil {
		return "", err
	}
	return filepath.Join(b, fmt.Sprintf("ns-%d", c)), nil
}

func (d *Dataplane) mapsDir() string  { return filepath.Join(d.dir, "maps") }
func (d *Dataplane) linksDir() string { return filepath.Join(d.dir, "links") }

// pin names: xdp-IFINDEX (underlay), xdpo-IFINDEX and tc-IFINDEX (overlay),
// tcp-IFINDEX (overlay peer, slow TX path).
func (d *Dataplane) pin(kind string, ifindex int) string {
	return filepath.Join(d.linksDir(), fmt.Sprintf("%s-%d", kind, ifindex))
}

// removeState deletes the namespace's pins when nothing is attached and
// no FOU/GUE port is open.
func (d *Dataplane) removeState() error {
	entries, err := os.ReadDir(d.linksDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "xdp-") {
			return nil
		}
	}
	if ports, err := d.FOUPorts(); err != nil || len(ports) > 0 {
		return err
	}
	d.closeObjects()
	return os.RemoveAll(d.dir)
}
