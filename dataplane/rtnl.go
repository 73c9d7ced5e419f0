package dataplane

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Kernel routes in bulk: a gateway adds a route per peer, up to millions,
// and one netlink round trip per route (what vishvananda/netlink does)
// costs more than the BPF maps do. These send many RTM_NEWROUTE or
// RTM_DELROUTE messages per sendmsg and read one acknowledgement each.

// linkRoute is PREFIX dev IFINDEX scope link, proto xtunnel.
type linkRoute struct {
	Prefix  netip.Prefix
	Ifindex int
}

const rtnlChunk = 512 // messages per sendmsg

// rtnlRoutes adds (add) or deletes routes; errs[i] is the error of rs[i]
// (nil: done). err is a failure of the socket itself.
func rtnlRoutes(rs []linkRoute, add bool) (errs []error, err error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink socket: %w", err)
	}
	defer unix.Close(fd)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("rtnetlink bind: %w", err)
	}
	errs = make([]error, len(rs))
	seq0 := uint32(os.Getpid()) << 20
	buf := make([]byte, 0, rtnlChunk*64)
	rbuf := make([]byte, 1<<16)
	for start := 0; start < len(rs); start += rtnlChunk {
		end := min(start+rtnlChunk, len(rs))
		buf = buf[:0]
		for i := start; i < end; i++ {
			buf = appendRouteMsg(buf, rs[i], add, seq0+uint32(i))
		}
		if err := unix.Sendto(fd, buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return errs, fmt.Errorf("rtnetlink send: %w", err)
		}
		for pending := end - start; pending > 0; {
			n, _, err := unix.Recvfrom(fd, rbuf, 0)
			if err != nil {
				return errs, fmt.Errorf("rtnetlink receive: %w", err)
			}
			msgs, err := syscall.ParseNetlinkMessage(rbuf[:n])
			if err != nil {
				return errs, fmt.Errorf("rtnetlink receive: %w", err)
			}
			for _, m := range msgs {
				if m.Header.Type != unix.NLMSG_ERROR || len(m.Data) < 4 {
					continue
				}
				i := int(m.Header.Seq - seq0)
				if i < start || i >= end {
					continue
				}
				if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
					errs[i] = unix.Errno(-code)
				}
				pending--
			}
		}
	}
	return errs, nil
}

// appendRouteMsg appends one RTM_NEWROUTE / RTM_DELROUTE request.
func appendRouteMsg(b []byte, r linkRoute, add bool, seq uint32) []byte {
	addr := r.Prefix.Addr()
	alen, family := 4, byte(unix.AF_INET)
	if addr.Is6() {
		alen, family = 16, unix.AF_INET6
	}
	attrs := (4 + alen + 3) &^ 3 // RTA_DST
	attrs += 8                   // RTA_OIF
	total := unix.SizeofNlMsghdr + unix.SizeofRtMsg + attrs
	typ, flags := uint16(unix.RTM_DELROUTE), uint16(unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	if add {
		typ, flags = unix.RTM_NEWROUTE, flags|unix.NLM_F_CREATE|unix.NLM_F_EXCL
	}
	var h [unix.SizeofNlMsghdr]byte
	binary.NativeEndian.PutUint32(h[0:], uint32(total))
	binary.NativeEndian.PutUint16(h[4:], typ)
	binary.NativeEndian.PutUint16(h[6:], flags)
	binary.NativeEndian.PutUint32(h[8:], seq)
	b = append(b, h[:]...)
	b = append(b, family, byte(r.Prefix.Bits()), 0, 0, // family, dst_len, src_len, tos
		unix.RT_TABLE_MAIN, rtprotXtunnel, unix.RT_SCOPE_LINK, unix.RTN_UNICAST, 0, 0, 0, 0) // table, protocol, scope, type, flags
	var a [4]byte
	binary.NativeEndian.PutUint16(a[0:], uint16(4+alen))
	binary.NativeEndian.PutUint16(a[2:], unix.RTA_DST)
	b = append(b, a[:]...)
	b = append(b, addr.AsSlice()...)
	for pad := (4 + alen + 3) &^ 3; pad > 4+alen; pad-- {
		b = append(b, 0)
	}
	binary.NativeEndian.PutUint16(a[0:], 8)
	binary.NativeEndian.PutUint16(a[2:], unix.RTA_OIF)
	b = append(b, a[:]...)
	var oif [4]byte
	binary.NativeEndian.PutUint32(oif[:], uint32(r.Ifindex))
	return append(b, oif[:]...)
}
