package netio

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/header"
)

// Test addresses, from the documentation ranges only (RFC 5737, RFC 3849).
var (
	addrA4 = netip.MustParseAddr("198.51.100.1")
	addrB4 = netip.MustParseAddr("198.51.100.2")
	addrA6 = netip.MustParseAddr("2001:db8:1::1")
	addrB6 = netip.MustParseAddr("2001:db8:1::2")
	other4 = netip.MustParseAddr("203.0.113.9")
)

// Traffic classes worth telling apart: best effort, EF with ECT(0), AF41
// with CE, CS1 with ECT(1).
var testTOS = []uint8{0x00, 46<<2 | 2, 34<<2 | 3, 8<<2 | 1}

// ipPacket builds a whole outer packet from src to dst carrying payload as
// protocol proto: IPv4 (DF set, TTL 64) or IPv6 (hop limit 64) by the
// family of src.
func ipPacket(t testing.TB, src, dst netip.Addr, tos, proto uint8, payload []byte) []byte {
	t.Helper()
	if src.Is4() {
		b := make([]byte, header.IPv4MinimumSize+len(payload))
		copy(b[header.IPv4MinimumSize:], payload)
		h, ok := header.EncodeIPv4(b, header.IPv4Fields{
			TOS: tos, TotalLength: uint16(len(b)), ID: 0x4242, DontFragment: true, TTL: 64,
			Protocol: proto, Source: src, Destination: dst,
		})
		if !ok {
			t.Fatalf("EncodeIPv4 %s → %s refused", src, dst)
		}
		return h
	}
	b := make([]byte, header.IPv6MinimumSize+len(payload))
	copy(b[header.IPv6MinimumSize:], payload)
	h, ok := header.EncodeIPv6(b, header.IPv6Fields{
		TrafficClass: tos, FlowLabel: 0x12345, PayloadLength: uint16(len(payload)), NextHeader: proto,
		HopLimit: 64, Source: src, Destination: dst,
	})
	if !ok {
		t.Fatalf("EncodeIPv6 %s → %s refused", src, dst)
	}
	return h
}

// espBody returns an ESP packet (SPI, sequence number, then size-8 octets
// of pattern standing in for IV, ciphertext and ICV).
func espBody(t testing.TB, spi, seq uint32, size int) []byte {
	t.Helper()
	b := pattern(size, byte(spi))
	if _, ok := header.EncodeESP(b, spi, seq); !ok {
		t.Fatalf("EncodeESP(spi %#x) refused", spi)
	}
	return b
}

// espPacket is a whole outer ESP packet; it returns the packet and the
// ESP part a receiver must deliver.
func espPacket(t testing.TB, src, dst netip.Addr, tos uint8, spi, seq uint32, size int) (pkt, esp []byte) {
	t.Helper()
	esp = espBody(t, spi, seq, size)
	return ipPacket(t, src, dst, tos, header.IPProtoESP, esp), esp
}

// espPacketWithOptions is an outer IPv4 ESP packet whose header carries
// options.
func espPacketWithOptions(t testing.TB, src, dst netip.Addr, spi uint32, options []byte) (pkt, esp []byte) {
	t.Helper()
	esp = espBody(t, spi, 1, 120)
	hlen := header.IPv4MinimumSize + len(options)
	b := make([]byte, hlen+len(esp))
	copy(b[hlen:], esp)
	h, ok := header.EncodeIPv4(b, header.IPv4Fields{
		TotalLength: uint16(len(b)), TTL: 64, Protocol: header.IPProtoESP, Source: src, Destination: dst, Options: options,
	})
	if !ok {
		t.Fatal("EncodeIPv4 with options refused")
	}
	return h, esp
}

// udpPacket is a whole outer UDP packet with a correct checksum carrying
// data.
func udpPacket(t testing.TB, src, dst netip.AddrPort, tos uint8, data []byte) []byte {
	t.Helper()
	b := make([]byte, header.UDPMinimumSize+len(data))
	copy(b[header.UDPMinimumSize:], data)
	u, ok := header.EncodeUDP(b, header.UDPFields{SourcePort: src.Port(), DestinationPort: dst.Port(), Length: uint16(len(b))})
	if !ok {
		t.Fatal("EncodeUDP refused")
	}
	u.UpdateChecksum(src.Addr(), dst.Addr())
	return ipPacket(t, src.Addr(), dst.Addr(), tos, header.IPProtoUDP, b)
}

// ikeMessage is a UDP/4500 payload carrying IKE: the non-ESP marker, then
// stand-in octets.
func ikeMessage(size int) []byte {
	b := pattern(size, 0x1e)
	binary.BigEndian.PutUint32(b, 0)
	return b
}

// pattern returns n octets that differ from their neighbours and start
// from seed, so a misplaced or foreign copy shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i>>8)
	}
	return b
}

// want is what a receiver must report for one packet.
type want struct {
	payload []byte
	src     netip.AddrPort
	dst     netip.Addr
	tos     uint8
}

func checkMessage(t testing.TB, i int, got Message, w want) {
	t.Helper()
	if string(got.Buf[:got.N]) != string(w.payload) {
		t.Errorf("message %d: payload of %d octets % x…, want %d octets % x…", i, got.N, head(got.Buf[:got.N]), len(w.payload), head(w.payload))
	}
	if got.Src != w.src || got.Dst != w.dst || got.TOS != w.tos {
		t.Errorf("message %d: src %s dst %s tos %#02x, want src %s dst %s tos %#02x", i, got.Src, got.Dst, got.TOS, w.src, w.dst, w.tos)
	}
}

func head(b []byte) []byte { return b[:min(len(b), 12)] }

// newMessages returns n messages with buffers of size octets.
func newMessages(n, size int) []Message {
	msgs := make([]Message, n)
	for i := range msgs {
		msgs[i].Buf = make([]byte, size)
	}
	return msgs
}

// collect reads from r until it has count messages, failing the test if
// they do not all come within timeout (it then closes r to free the
// reader). It returns the messages and the sizes of the batches they came
// in.
func collect(t testing.TB, r Receiver, count int, timeout time.Duration) ([]Message, []int) {
	t.Helper()
	type result struct {
		msgs    []Message
		batches []int
		err     error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		for len(res.msgs) < count {
			msgs := newMessages(IdealBatchSize, 65535)
			n, err := r.ReadBatch(msgs)
			if err != nil {
				res.err = err
				break
			}
			res.batches = append(res.batches, n)
			res.msgs = append(res.msgs, msgs[:n]...)
		}
		done <- res
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("ReadBatch after %d of %d messages: %v", len(res.msgs), count, res.err)
		}
		return res.msgs, res.batches
	case <-timer.C:
		r.Close()
		res := <-done
		t.Fatalf("only %d of %d messages within %v", len(res.msgs), count, timeout)
		return nil, nil
	}
}
