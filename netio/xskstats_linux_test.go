package netio

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestXDPCountsDrops: what the AF_XDP data plane drops is counted. While
// nobody reads A's socket, ESP from B fills its receive half of UMEM and
// the kernel drops the rest: the counters from XDP_STATISTICS move (a
// dropped frame for want of a fill-ring frame, or for a full receive
// ring). Once read, the socket receives again, and a frame the XDP
// program steers but the reader refuses (an IPv4 total length beyond the
// frame, sent raw from B's packet socket) is counted as malformed. The
// kernel's counts stand after Close.
func TestXDPCountsDrops(t *testing.T) {
	l := newXDPLab(t)
	n, x, recv, a, b := l.n, l.x, l.recv, l.a, l.b
	var sendB Sender
	packetB := -1
	var toA unix.SockaddrLinklayer
	inNetns(t, n, "b", func() (err error) {
		if sendB, err = NewRawSender(4); err != nil {
			return err
		}
		ifi, err := net.InterfaceByName("veth-b")
		if err != nil {
			return err
		}
		toA = unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
		packetB, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	})
	t.Cleanup(func() { sendB.Close(); unix.Close(packetB) })
	if st := x.Stats(); st.Dropped+st.RingFull+st.FillEmpty+st.InvalidDescriptors+st.Malformed != 0 {
		t.Fatalf("drops before any traffic: %+v", st)
	}

	// Nobody reads: after xskFrames/2 frames the kernel has nowhere to
	// put the next. Send in batches until the counters move.
	const batch = 512
	sent := 0
	var st XDPStats
	deadline := time.Now().Add(30 * time.Second)
	for moved := false; !moved; {
		if time.Now().After(deadline) || sent >= 40*batch {
			t.Fatalf("no drop counted after %d packets to a socket of %d receive frames: %+v", sent, xskFrames/2, st)
		}
		var pkts [][]byte
		for i := range batch {
			pkts = append(pkts, xdpESPPacket(b, a, 0, byte(i), 200))
		}
		m, err := sendB.WriteBatch(pkts)
		if err != nil {
			t.Fatalf("B sent %d: %v", m, err)
		}
		sent += m
		for wait := time.Now().Add(time.Second); !moved && time.Now().Before(wait); {
			st = x.Stats()
			moved = st.Dropped > 0 && (st.FillEmpty > 0 || st.RingFull > 0)
			if !moved {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	t.Logf("after %d packets: %+v", sent, st)
	if st.Received != 0 || st.Malformed != 0 || st.InvalidDescriptors != 0 {
		t.Fatalf("nothing read yet, nothing malformed: %+v", st)
	}

	// Read what the ring holds, then a refused frame and an ESP packet
	// behind it: when the packet is read, the frame was refused.
	msgs := newMessages(64, 2048)
	got := 0
	for drain := time.Now().Add(10 * time.Second); got < xskFrames/2 && time.Now().Before(drain); {
		if !recv[0].(*xsk).rxReady() {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		m, err := recv[0].ReadBatch(msgs)
		if err != nil {
			t.Fatal(err)
		}
		got += m
	}
	if got < xskFrames/2 || got > sent {
		t.Fatalf("read %d of the %d sent, want at least %d (the receive frames)", got, sent, xskFrames/2)
	}
	bad := make([]byte, ethHeaderLen+60)
	copy(bad[6:], []byte{0x02, 0, 0, 0, 0, 1})
	bad[12], bad[13] = 0x08, 0x00
	copy(bad[ethHeaderLen:], xdpESPPacket(b, a, 0, 0xbd, 40))
	bad[ethHeaderLen+2], bad[ethHeaderLen+3] = 0x01, 0x00 // total length 256
	if err := unix.Sendto(packetB, bad, 0, &toA); err != nil {
		t.Fatalf("B's packet socket: %v", err)
	}
	good := xdpESPPacket(b, a, 0, 0x60, 100)
	if m, err := sendB.WriteBatch([][]byte{good}); m != 1 {
		t.Fatalf("B sent %d: %v", m, err)
	}
	readDeadline := time.Now().Add(10 * time.Second)
	for found := false; !found; {
		if time.Now().After(readDeadline) {
			t.Fatalf("the ESP packet behind the refused frame never came: %+v", x.Stats())
		}
		if !recv[0].(*xsk).rxReady() {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		m, err := recv[0].ReadBatch(msgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs[:m] {
			found = found || (msg.N == 100 && msg.Buf[0] == 0x60)
		}
	}
	after := x.Stats()
	if after.Malformed != 1 || after.Dropped < st.Dropped || after.FillEmpty < st.FillEmpty || after.RingFull < st.RingFull {
		t.Fatalf("after reading: %+v, want 1 malformed and the kernel's drops of %+v or more", after, st)
	}
	x.Close()
	if closed := x.Stats(); closed.Dropped != after.Dropped || closed.FillEmpty != after.FillEmpty || closed.Malformed != 1 {
		t.Fatalf("after Close: %+v, want the counts of %+v", closed, after)
	}
}
