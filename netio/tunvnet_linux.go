package netio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Offloads the TUN is told the reader handles (include/uapi/linux/if_tun.h):
// checksums, TSO for both families, and USO (Linux 6.2 and later).
const (
	tunFCsum = 0x01
	tunFTSO4 = 0x02
	tunFTSO6 = 0x04
	tunFUSO4 = 0x20
	tunFUSO6 = 0x40

	// tunReadSize holds the largest super-packet and its virtio-net header.
	tunReadSize = vnetHdrLen + 65535
)

// vnetTUN is ipsecgw's own Linux TUN: IFF_VNET_HDR with checksum, TSO and
// USO offloads, reads split by splitPacket, writes coalesced by groTable
// and written with writev so that no segment is copied in user space.
type vnetTUN struct {
	file *os.File
	raw  interface {
		Write(func(uintptr) bool) error
	} // file's syscall.RawConn
	ctl    int // an AF_INET socket for the MTU ioctls
	name   string
	mtu    atomic.Int64 // the last MTU read back, for when the ioctl fails
	closed atomic.Bool
	uso    bool

	rbuf []byte // for reads whose first buffer is too short to read into

	wmu  sync.Mutex // one Write at a time: the table and iovecs are shared
	gro  *groTable
	iovs []unix.Iovec
	// The writev callback and its results, kept here so that a Write does
	// not allocate a closure.
	writev func(fd uintptr) bool
	wErr   error
}

// createVnetTUN opens /dev/net/tun as name with the given MTU.
func createVnetTUN(name string, mtu int) (TUN, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("netio: create TUN %q: %w", name, err)
	}
	t := &vnetTUN{ctl: -1, rbuf: make([]byte, tunReadSize)}
	fail := func(what string, err error) (TUN, error) {
		unix.Close(fd)
		if t.ctl >= 0 {
			unix.Close(t.ctl)
		}
		return nil, fmt.Errorf("netio: create TUN %q with MTU %d: %s: %w", name, mtu, what, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fail("name", err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fail("TUNSETIFF", err)
	}
	t.name = ifr.Name()
	offloads := tunFCsum | tunFTSO4 | tunFTSO6
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, offloads|tunFUSO4|tunFUSO6); err == nil {
		t.uso = true
	} else if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, offloads); err != nil {
		return fail("TUNSETOFFLOAD", err)
	}
	// A kernel that takes USO from the TUN takes UDP super-packets too.
	t.gro = newGROTable(t.uso)
	if t.ctl, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return fail("socket for the MTU", err)
	}
	if err := t.setMTU(mtu); err != nil {
		return fail("set MTU", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fail("non-blocking", err)
	}
	// Non-blocking, the file waits in the runtime's poller, and Close
	// wakes a blocked Read.
	t.file = os.NewFile(uintptr(fd), "/dev/net/tun")
	raw, err := t.file.SyscallConn()
	if err != nil {
		t.file.Close()
		unix.Close(t.ctl)
		return nil, fmt.Errorf("netio: create TUN %q: %w", name, err)
	}
	t.raw = raw
	t.writev = t.doWritev
	return t, nil
}

func (t *vnetTUN) Name() string   { return t.name }
func (t *vnetTUN) BatchSize() int { return IdealBatchSize }

// IO names the implementation, for the log.
func (t *vnetTUN) IO() string {
	if t.uso {
		return "ipsecgw vnet (TSO, USO)"
	}
	return "ipsecgw vnet (TSO)"
}

// MTU asks the kernel, so a change made with ip link (or by the daemon)
// shows at once; nothing on the packet path calls it.
func (t *vnetTUN) MTU() int {
	ifr, err := unix.NewIfreq(t.name)
	if err == nil && !t.closed.Load() {
		if err = unix.IoctlIfreq(t.ctl, unix.SIOCGIFMTU, ifr); err == nil {
			t.mtu.Store(int64(ifr.Uint32()))
		}
	}
	return int(t.mtu.Load())
}

func (t *vnetTUN) setMTU(mtu int) error {
	ifr, err := unix.NewIfreq(t.name)
	if err != nil {
		return err
	}
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(t.ctl, unix.SIOCSIFMTU, ifr); err != nil {
		return err
	}
	t.mtu.Store(int64(mtu))
	return nil
}

// Read reads one packet from the TUN and splits it (splitPacket). When
// the first buffer holds the largest super-packet after offset, and the
// offset the virtio-net header before it, the read goes straight there.
func (t *vnetTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	buf := t.rbuf
	if offset >= vnetHdrLen && len(bufs[0]) >= offset+tunReadSize-vnetHdrLen {
		buf = bufs[0][offset-vnetHdrLen : offset+tunReadSize-vnetHdrLen]
	}
	n, err := t.file.Read(buf)
	if err != nil {
		return 0, t.wrap("read", err)
	}
	if n < vnetHdrLen {
		return 0, fmt.Errorf("netio: read TUN %s: %d octets, shorter than the virtio-net header", t.name, n)
	}
	k, err := splitPacket(buf[vnetHdrLen:n], decodeVnetHdr(buf), bufs, sizes, offset)
	if err != nil {
		return 0, fmt.Errorf("netio: read TUN %s: %w", t.name, err)
	}
	return k, nil
}

// Write coalesces (groTable) and writes each packet or group with one
// writev, trying every one; it returns 0 and the first error if any
// failed.
func (t *vnetTUN) Write(bufs [][]byte, offset int) (int, error) {
	if offset < TUNHeadroom {
		return 0, ErrHeadroom
	}
	if t.closed.Load() {
		return 0, net.ErrClosed
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	g := t.gro
	g.plan(bufs, offset)
	var first error
	for i := range bufs {
		gi := g.group[i]
		if gi == groupMember {
			continue
		}
		b := bufs[i][offset-vnetHdrLen:]
		t.iovs = append(t.iovs[:0], iovec(b))
		if gi >= 0 && g.groups[gi].segs > 1 {
			grp := &g.groups[gi]
			grp.finish(b[vnetHdrLen:]).encode(b)
			for m := g.next[i]; m >= 0; m = g.next[m] {
				t.iovs = append(t.iovs, iovec(bufs[m][offset+grp.hdrLen:]))
			}
		} else {
			clear(b[:vnetHdrLen])
		}
		err := t.raw.Write(t.writev)
		if err == nil {
			err = t.wErr
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return 0, t.wrap("write", first)
	}
	return len(bufs), nil
}

// doWritev writes t.iovs; false asks the poller to wait for room.
func (t *vnetTUN) doWritev(fd uintptr) bool {
	_, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(unsafe.SliceData(t.iovs))), uintptr(len(t.iovs)))
	if e == unix.EAGAIN {
		return false
	}
	t.wErr = nil
	if e != 0 {
		t.wErr = e
	}
	return true
}

func iovec(b []byte) unix.Iovec {
	v := unix.Iovec{Base: unsafe.SliceData(b)}
	v.SetLen(len(b))
	return v
}

func (t *vnetTUN) wrap(op string, err error) error {
	if t.closed.Load() || errors.Is(err, os.ErrClosed) {
		return net.ErrClosed
	}
	return fmt.Errorf("netio: %s TUN %s: %w", op, t.name, err)
}

// Close removes the interface (the kernel does when its last file goes)
// and wakes a blocked Read.
func (t *vnetTUN) Close() error {
	if t.closed.Swap(true) {
		return nil
	}
	err := t.file.Close()
	unix.Close(t.ctl)
	if err != nil {
		return fmt.Errorf("netio: close TUN %s: %w", t.name, err)
	}
	return nil
}
