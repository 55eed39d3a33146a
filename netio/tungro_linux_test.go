package netio

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"ipsecgw/header"
	"ipsecgw/test/netns"
)

// TestKernelTUNCoalescesTCP: consecutive TCP segments of one flow handed
// to Write in one batch reach the kernel as one GRO super-packet (the
// inner side of the data plane keeps the TUN offloads), so the kernel
// counts far fewer packets received than were written.
func TestKernelTUNCoalescesTCP(t *testing.T) {
	netns.RequireRoot(t)
	n, dev := newKernelTUN(t)
	const segments, payload = 16, 1000
	bufs := make([][]byte, segments)
	for i := range bufs {
		tcp := make([]byte, 20+payload)
		binary.BigEndian.PutUint16(tcp[0:], 5000)
		binary.BigEndian.PutUint16(tcp[2:], 6000)
		binary.BigEndian.PutUint32(tcp[4:], uint32(1+i*payload)) // sequence
		binary.BigEndian.PutUint32(tcp[8:], 1)                   // acknowledgement
		tcp[12] = 5 << 4
		tcp[13] = 0x10 // ACK
		binary.BigEndian.PutUint16(tcp[14:], 65535)
		for j := 20; j < len(tcp); j++ {
			tcp[j] = byte(i + j)
		}
		sum := ^header.PartialChecksum(tcp, header.PseudoHeaderChecksum(header.IPProtoTCP, tunPeer, tunLocal, uint32(len(tcp))))
		binary.BigEndian.PutUint16(tcp[16:], sum)
		// Room after each packet: Write coalesces into the first buffer.
		b := make([]byte, TUNHeadroom+20+len(tcp), 1<<16)
		header.EncodeIPv4(b[TUNHeadroom:], header.IPv4Fields{TotalLength: uint16(20 + len(tcp)), ID: uint16(100 + i),
			DontFragment: true, TTL: 64, Protocol: header.IPProtoTCP, Source: tunPeer, Destination: tunLocal})
		copy(b[TUNHeadroom+20:], tcp)
		bufs[i] = b
	}
	rx := func(stat string) uint64 {
		v, err := strconv.ParseUint(strings.TrimSpace(n.Exec("a", "cat", "/sys/class/net/st0-test/statistics/"+stat)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	packets0, bytes0 := rx("rx_packets"), rx("rx_bytes")
	if w, err := dev.Write(bufs, TUNHeadroom); err != nil || w != segments {
		t.Fatalf("Write: %d, %v", w, err)
	}
	packets, bytes := rx("rx_packets")-packets0, rx("rx_bytes")-bytes0
	t.Logf("%d segments written, the kernel received %d packets, %d octets", segments, packets, bytes)
	if packets == 0 || packets > 2 || bytes < segments*payload {
		t.Fatalf("the kernel received %d packets (%d octets) for %d segments of one flow; want them coalesced into one or two", packets, bytes, segments)
	}
}
