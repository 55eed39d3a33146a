package netio

import "net/netip"

// Message is one received outer packet, in a batch. Buf is storage the
// caller owns and reuses; a read puts the payload in Buf[:N]: for raw ESP
// the ESP packet from its SPI on, for UDP the datagram's data. A payload
// longer than Buf is cut to len(Buf), as recvmmsg does, so give buffers of
// the largest packet expected (65535 octets never cut).
type Message struct {
	Buf []byte
	N   int
	Src netip.AddrPort // outer source address; port 0 for raw ESP
	Dst netip.Addr     // local address the packet arrived on
	TOS uint8          // outer DS field and ECN: IPv4 TOS or IPv6 Traffic Class
	// SegmentSize is set when the kernel coalesced several UDP datagrams
	// of one flow into Buf[:N] (UDP GRO): each is SegmentSize octets, the
	// last possibly shorter. 0 means Buf[:N] is one datagram.
	SegmentSize int
	// DstPort is the UDP port an ESP-in-UDP packet came to, set by
	// receivers that carry several (the xdp rings); 0 for raw ESP, and
	// from receivers whose port is their own (a UDP socket).
	DstPort uint16
	// Lent, when set, is the payload in the receiver's own memory
	// instead of in Buf[:N] (N is its length): FrameReceiver.ReadFrames
	// lends it until ReleaseFrames. Nil from ReadBatch.
	Lent []byte
	// lend asks parseESPFrame to lend the payload instead of copying it.
	lend bool
}

// SegmentSender sends a run of equal-sized UDP datagrams, all to one
// destination, in one system call: buf holds them back to back, each
// segSize octets but the last, which may be shorter (UDP GSO). The UDP
// receivers of ListenUDP implement it, sending from their own port.
type SegmentSender interface {
	SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error
}

// MaxSegments is the most datagrams one SendSegments call may carry (the
// kernel's UDP_MAX_SEGMENTS is 64 on older kernels).
const MaxSegments = 64

// Receiver reads batches of outer packets from one socket.
//
// ReadBatch blocks until at least one packet is there and fills msgs[:n]
// with n ≥ 1 of them; one call is one recvmmsg on Linux, reading at most
// IdealBatchSize. Close makes blocked and later calls fail with
// net.ErrClosed.
type Receiver interface {
	ReadBatch(msgs []Message) (n int, err error)
	Close() error
}

// Sender sends batches of complete outer packets. Each packet is a whole
// IPv4 or IPv6 packet, header first, then UDP or ESP, built by the data
// plane, which thereby chooses DSCP, ECN, DF, TTL and ports; the packet's
// destination address is where it goes.
//
// WriteBatch tries every packet and returns how many were sent. When some
// were not, err describes the first failure (n < len(pkts)); the others
// were still tried, so a packet that cannot be sent never holds up the
// rest. It blocks while the socket's send buffer is full. Close makes later
// calls fail with net.ErrClosed.
type Sender interface {
	WriteBatch(pkts [][]byte) (n int, err error)
	Close() error
}

// Network opens the outer sockets. Kernel opens real ones; a MemHost
// opens fakes on a MemNetwork. family is 4 or 6.
type Network interface {
	// ListenESP receives IP protocol 50 (ESP) packets to any local address.
	ListenESP(family int) (Receiver, error)
	// ListenUDP receives UDP datagrams to port on any local address.
	ListenUDP(family int, port uint16) (Receiver, error)
	// NewRawSender sends complete IP packets.
	NewRawSender(family int) (Sender, error)
}

// Kernel is the Network of the operating system's sockets: ListenESP,
// ListenUDP and NewRawSender (Linux only).
var Kernel Network = kernel{}

type kernel struct{}

func (kernel) ListenESP(family int) (Receiver, error)              { return ListenESP(family) }
func (kernel) ListenUDP(family int, port uint16) (Receiver, error) { return ListenUDP(family, port) }
func (kernel) NewRawSender(family int) (Sender, error)             { return NewRawSender(family) }
