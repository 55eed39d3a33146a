package ikesock

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipsecgw/netio"
)

// sender records what the transport sends.
type sender struct {
	netio.Receiver
	got [][]byte
}

func (s *sender) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	s.got = append(s.got, append([]byte(nil), buf...))
	return nil
}

// TestTransportMarker: on port 4500 a message goes behind the non-ESP
// marker, on 500 as it is; a port without a socket is an error.
func TestTransportMarker(t *testing.T) {
	tr := NewTransport()
	s500, s4500 := &sender{}, &sender{}
	tr.Add(4, 500, s500)
	tr.Add(4, 4500, s4500)
	peer := netip.MustParseAddrPort("192.0.2.2:500")
	if err := tr.Send([]byte{1, 2}, netip.MustParseAddrPort("192.0.2.1:500"), peer); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send([]byte{1, 2}, netip.MustParseAddrPort("192.0.2.1:4500"), peer); err != nil {
		t.Fatal(err)
	}
	if len(s500.got) != 1 || !bytes.Equal(s500.got[0], []byte{1, 2}) || len(s4500.got) != 1 || !bytes.Equal(s4500.got[0], []byte{0, 0, 0, 0, 1, 2}) {
		t.Fatalf("sent %x on 500, %x on 4500", s500.got, s4500.got)
	}
	if err := tr.Send([]byte{1}, netip.MustParseAddrPort("[2001:db8::1]:500"), netip.MustParseAddrPort("[2001:db8::2]:500")); err == nil {
		t.Fatal("sent on IPv6 without a socket")
	}
}

func TestVersionOf(t *testing.T) {
	msg := make([]byte, 28)
	msg[17] = 0x20
	if VersionOf(msg) != 2 || VersionOf(msg[:27]) != 0 {
		t.Fatalf("version %d, short %d", VersionOf(msg), VersionOf(msg[:27]))
	}
	msg[17] = 0x10
	if VersionOf(msg) != 1 {
		t.Fatalf("version %d", VersionOf(msg))
	}
}

// TestPoolOrder: the messages of one IKE SA (one initiator SPI) reach the
// handler in the order they were dispatched; a message too short for an
// SPI is dropped.
func TestPoolOrder(t *testing.T) {
	var mu sync.Mutex
	got := map[uint64][]byte{}
	p := NewPool(4, func(b []byte, from, to netip.AddrPort) {
		mu.Lock()
		defer mu.Unlock()
		spi := binary.BigEndian.Uint64(b[:8])
		got[spi] = append(got[spi], b[8])
	}, slog.New(slog.DiscardHandler))
	from, to := netip.MustParseAddrPort("192.0.2.2:500"), netip.MustParseAddrPort("192.0.2.1:500")
	for i := range 100 {
		for spi := uint64(1); spi <= 8; spi++ {
			b := binary.BigEndian.AppendUint64(nil, spi)
			p.Dispatch(append(b, byte(i)), from, to)
		}
	}
	p.Dispatch([]byte{1, 2, 3}, from, to)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, l := range got {
			n += len(l)
		}
		mu.Unlock()
		if n == 800 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	p.Stop()
	for spi := uint64(1); spi <= 8; spi++ {
		l := got[spi]
		if len(l) != 100 {
			t.Fatalf("SPI %d: %d messages", spi, len(l))
		}
		for i, b := range l {
			if int(b) != i {
				t.Fatalf("SPI %d: message %d came as %d", spi, b, i)
			}
		}
	}
	p.Dispatch(binary.BigEndian.AppendUint64(nil, 1), from, to) // after Stop: dropped, no block
}
