package netio

import (
	"errors"
	"fmt"
	"os"
)

// TUN is a tunnel interface (st0.N): inner packets the host routes into it
// come out of Read, and packets given to Write are handed to the host as
// if they had arrived on it. It has the shape of wireguard-go's
// tun.Device batch API.
//
// Read fills bufs[i][offset:offset+sizes[i]] for i < n with one IP packet
// each and returns n ≥ 1, blocking until there is one. len(sizes) must be
// at least len(bufs). On the Linux TUN one read of the device may return a
// TSO/USO super-packet, which Read splits into up to BatchSize MTU-sized
// packets, so pass BatchSize buffers of at least offset+MTU octets each.
// Read may use the octets before offset as scratch (the Linux TUN reads
// its virtio-net header there when the first buffer holds 64 KB after
// offset, and the super-packet right after it, saving a copy).
//
// Write hands bufs[i][offset:] to the host for every i and returns
// len(bufs) when all were taken; with an error, n counts those known to
// have been (the Linux TUN tries every packet but cannot say which failed,
// so 0). offset must be at least TUNHeadroom: the
// Linux TUN writes a virtio-net header into the octets before each packet.
// Write may also coalesce TCP and UDP packets of one flow into the first
// buffer of the flow, using its spare capacity (cap beyond len), so Write
// owns bufs, headroom and capacity included, until it returns.
//
// Close makes blocked and later calls fail with net.ErrClosed.
type TUN interface {
	Name() string
	MTU() int
	BatchSize() int
	Read(bufs [][]byte, sizes []int, offset int) (n int, err error)
	Write(bufs [][]byte, offset int) (n int, err error)
	Close() error
}

const (
	// TUNHeadroom is the least offset TUN.Write accepts: room for the
	// 10-octet virtio-net header (struct virtio_net_hdr) that the Linux
	// TUN with offloads puts in front of every packet it writes. Read
	// needs no headroom, but the data plane reads with more anyway, to
	// write the outer headers in place.
	TUNHeadroom = 10

	// IdealBatchSize is the number of packets a TUN read or write and a
	// socket batch aim at: wireguard-go's conn.IdealBatchSize, which the
	// Linux TUN also reports as its BatchSize.
	IdealBatchSize = 128
)

var (
	// ErrHeadroom is returned by TUN.Write when offset is below
	// TUNHeadroom; nothing is written.
	ErrHeadroom = fmt.Errorf("netio: TUN write offset below the %d octets of headroom the Linux TUN needs", TUNHeadroom)

	// ErrShortBuffer is wrapped by a TUN Read whose buffer, after the
	// offset, cannot hold the next packet; that packet is dropped.
	ErrShortBuffer = errors.New("netio: buffer too short for the packet after the offset")

	// ErrTimeout is returned by the fakes' test-side receive methods when
	// nothing came in time. It wraps os.ErrDeadlineExceeded.
	ErrTimeout = fmt.Errorf("netio: no packet before the timeout: %w", os.ErrDeadlineExceeded)
)

func tooSmall(pkt, buf, offset int) error {
	return fmt.Errorf("%w: packet of %d octets, buffer of %d with offset %d; expected buffers of at least offset+MTU",
		ErrShortBuffer, pkt, buf, offset)
}

// checkFamily accepts the address family numbers the constructors take.
func checkFamily(family int) error {
	if family != 4 && family != 6 {
		return fmt.Errorf("netio: address family %d; expected 4 (IPv4) or 6 (IPv6)", family)
	}
	return nil
}

// TUNIO names the implementation behind a TUN (the Linux TUN's is chosen
// by IPSECGW_TUN, see CreateTUN), for the log; "" when it says nothing.
func TUNIO(t TUN) string {
	if n, ok := t.(interface{ IO() string }); ok {
		return n.IO()
	}
	return ""
}
