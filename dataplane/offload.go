package dataplane

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Legacy ethtool commands (linux/ethtool.h); still served by every kernel.
const (
	ethtoolSTXCSUM = 0x17 // set TX checksum offload
	ethtoolSSG     = 0x19 // set scatter-gather
	ethtoolSTSO    = 0x1f // set TCP segmentation offload
	ethtoolSGSO    = 0x24 // set generic segmentation offload
)

type ethtoolValue struct {
	cmd  uint32
	data uint32
}

type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data uintptr
}

// offloadsOff turns off segmentation and TX checksum offload on a netdev,
// so that what it transmits is one packet with its checksums complete.
func offloadsOff(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, c := range []struct {
		cmd  uint32
		what string
	}{{ethtoolSTSO, "tso"}, {ethtoolSGSO, "gso"}, {ethtoolSTXCSUM, "tx checksum"}, {ethtoolSSG, "sg"}} {
		v := ethtoolValue{cmd: c.cmd}
		var req ifreqData
		copy(req.name[:], name)
		req.data = uintptr(unsafe.Pointer(&v))
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&req))); e != 0 {
			return fmt.Errorf("turn %s offload off on %s: %w", c.what, name, e)
		}
	}
	return nil
}
