package netio

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"ipsecgw/header"
)

// endpoints are the outer sockets of two gateways, A sending and B
// receiving on raw ESP and UDP 4500 of both families: over a MemNetwork
// here, over veth between two namespaces in socket_linux_test.go. The same
// checks run on both, so the fake is held to what the kernel does.
type endpoints struct {
	send4, send6 Sender
	esp4, esp6   Receiver
	udp4, udp6   Receiver
}

func (e *endpoints) open(t testing.TB, a, b Network) {
	t.Helper()
	var err error
	check := func() {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.send4, err = a.NewRawSender(4)
	check()
	e.send6, err = a.NewRawSender(6)
	check()
	e.esp4, err = b.ListenESP(4)
	check()
	e.esp6, err = b.ListenESP(6)
	check()
	e.udp4, err = b.ListenUDP(4, 4500)
	check()
	e.udp6, err = b.ListenUDP(6, 4500)
	check()
	t.Cleanup(func() {
		for _, c := range []interface{ Close() error }{e.send4, e.send6, e.esp4, e.esp6, e.udp4, e.udp6} {
			c.Close()
		}
	})
}

func (e *endpoints) sender(family int) Sender {
	if family == 4 {
		return e.send4
	}
	return e.send6
}

// checkDelivery sends one batch per family mixing ESP and UDP/4500 packets
// (ESP, NAT keepalive, IKE) with every test TOS, and checks B receives
// exactly their payloads, with Src, Dst and TOS, each kind in one batch.
// settle is how long to let the packets arrive before reading.
func checkDelivery(t *testing.T, e *endpoints, settle time.Duration) {
	for _, fam := range []struct {
		family   int
		src, dst netip.Addr
		esp, udp Receiver
	}{
		{4, addrA4, addrB4, e.esp4, e.udp4},
		{6, addrA6, addrB6, e.esp6, e.udp6},
	} {
		var pkts [][]byte
		var espWant, udpWant []want
		for i, tos := range testTOS {
			pkt, esp := espPacket(t, fam.src, fam.dst, tos, 0x1000+uint32(i), uint32(i+1), 64+i*300)
			pkts = append(pkts, pkt)
			espWant = append(espWant, want{esp, netip.AddrPortFrom(fam.src, 0), fam.dst, tos})

			data := [][]byte{espBody(t, 0x2000+uint32(i), 1, 100), {0xff}, ikeMessage(200), espBody(t, 0x3000, 9, 1400)}[i]
			from := netip.AddrPortFrom(fam.src, 4500+uint16(i))
			pkts = append(pkts, udpPacket(t, from, netip.AddrPortFrom(fam.dst, 4500), tos, data))
			udpWant = append(udpWant, want{data, from, fam.dst, tos})
		}
		if fam.family == 4 {
			// Options lengthen the header the receiver must strip.
			pkt, esp := espPacketWithOptions(t, fam.src, fam.dst, 0x1fff, []byte{1, 1, 1, 0})
			pkts = append(pkts, pkt)
			espWant = append(espWant, want{esp, netip.AddrPortFrom(fam.src, 0), fam.dst, 0})
		}
		n, err := e.sender(fam.family).WriteBatch(pkts)
		if n != len(pkts) || err != nil {
			t.Fatalf("IPv%d WriteBatch = %d, %v; want %d, nil", fam.family, n, err, len(pkts))
		}
		time.Sleep(settle)
		for _, c := range []struct {
			name string
			r    Receiver
			want []want
		}{{"ESP", fam.esp, espWant}, {"UDP", fam.udp, udpWant}} {
			msgs, batches := collect(t, c.r, len(c.want), 5*time.Second)
			if batches[0] != len(c.want) {
				t.Errorf("IPv%d %s: first ReadBatch returned %d of the %d waiting", fam.family, c.name, batches[0], len(c.want))
			}
			for i := range msgs {
				checkMessage(t, i, msgs[i], c.want[i])
			}
		}
	}
}

// memPair is two fake gateways on one MemNetwork.
type memPair struct {
	endpoints
	net  *MemNetwork
	a, b *MemHost
}

func newMemPair(t *testing.T) *memPair {
	t.Helper()
	p := &memPair{net: NewMemNetwork()}
	var err error
	if p.a, err = p.net.AddHost(addrA4, addrA6); err != nil {
		t.Fatal(err)
	}
	if p.b, err = p.net.AddHost(addrB4, addrB6); err != nil {
		t.Fatal(err)
	}
	p.open(t, p.a, p.b)
	return p
}

func TestMemNetworkDelivers(t *testing.T) {
	p := newMemPair(t)
	checkDelivery(t, &p.endpoints, 0)
	if s := p.net.Stats(); s.Sent != 17 || s.Delivered != 17 || s.NoListener+s.QueueFull+s.Undeliverable+s.Refused != 0 {
		t.Errorf("stats %+v; want 17 sent and delivered, nothing lost", s)
	}
}

// Every raw ESP receiver gets its own copy, as every raw socket does.
func TestMemNetworkESPCopiesToEveryReceiver(t *testing.T) {
	p := newMemPair(t)
	second, err := p.b.ListenESP(4)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	pkt, esp := espPacket(t, addrA4, addrB4, 0, 7, 1, 100)
	if _, err := p.send4.WriteBatch([][]byte{pkt}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Receiver{p.esp4, second} {
		msgs := newMessages(1, 2000)
		if n, err := r.ReadBatch(msgs); n != 1 || err != nil {
			t.Fatalf("ReadBatch = %d, %v", n, err)
		}
		checkMessage(t, 0, msgs[0], want{esp, netip.AddrPortFrom(addrA4, 0), addrB4, 0})
	}
}

// Lost packets are counted under the right name and never block the
// sender or fail the batch, as on a real network.
func TestMemNetworkCountsDrops(t *testing.T) {
	p := newMemPair(t)
	udpTo := func(port uint16) []byte {
		return udpPacket(t, netip.AddrPortFrom(addrA4, 4500), netip.AddrPortFrom(addrB4, port), 0, []byte("data"))
	}
	unknown, _ := espPacket(t, addrA4, other4, 0, 1, 1, 40)
	badSum := udpTo(4500)
	badSum[len(badSum)-1] ^= 0x55
	zeroSum6 := udpPacket(t, netip.AddrPortFrom(addrA6, 4500), netip.AddrPortFrom(addrB6, 4500), 0, []byte("data"))
	zeroSum6[header.IPv6MinimumSize+6], zeroSum6[header.IPv6MinimumSize+7] = 0, 0
	zeroSum4 := udpTo(4500)
	zeroSum4[header.IPv4MinimumSize+6], zeroSum4[header.IPv4MinimumSize+7] = 0, 0 // "no checksum": fine over IPv4
	fragment, _ := espPacket(t, addrA4, addrB4, 0, 1, 1, 40)
	h, _ := header.ParseIPv4(fragment)
	h.SetDontFragment(false)
	fragment[6] |= 0x20 // MF
	h.UpdateChecksum()
	hopByHop := ipPacket(t, addrA6, addrB6, 0, header.IPProtoHopByHop, make([]byte, 16))
	gre := ipPacket(t, addrA4, addrB4, 0, 47, make([]byte, 16))

	for _, c := range []struct {
		name   string
		send   Sender
		pkt    []byte
		before func() MemNetworkStats
		want   MemNetworkStats
	}{
		{name: "unknown destination", send: p.send4, pkt: unknown, want: MemNetworkStats{Sent: 1, NoListener: 1}},
		{name: "closed port", send: p.send4, pkt: udpTo(500), want: MemNetworkStats{Sent: 1, NoListener: 1}},
		{name: "protocol nobody receives", send: p.send4, pkt: gre, want: MemNetworkStats{Sent: 1, NoListener: 1}},
		{name: "bad UDP checksum", send: p.send4, pkt: badSum, want: MemNetworkStats{Sent: 1, Undeliverable: 1}},
		{name: "zero UDP checksum over IPv6", send: p.send6, pkt: zeroSum6, want: MemNetworkStats{Sent: 1, Undeliverable: 1}},
		{name: "zero UDP checksum over IPv4", send: p.send4, pkt: zeroSum4, want: MemNetworkStats{Sent: 1, Delivered: 1}},
		{name: "IPv4 fragment", send: p.send4, pkt: fragment, want: MemNetworkStats{Sent: 1, Undeliverable: 1}},
		{name: "IPv6 extension header", send: p.send6, pkt: hopByHop, want: MemNetworkStats{Sent: 1, Undeliverable: 1}},
	} {
		before := p.net.Stats()
		n, err := c.send.WriteBatch([][]byte{c.pkt})
		if n != 1 || err != nil {
			t.Errorf("%s: WriteBatch = %d, %v; want 1, nil (a lost packet is no send error)", c.name, n, err)
		}
		if got := diffStats(p.net.Stats(), before); got != c.want {
			t.Errorf("%s: counted %+v, want %+v", c.name, got, c.want)
		}
	}
}

func diffStats(a, b MemNetworkStats) MemNetworkStats {
	return MemNetworkStats{
		Sent: a.Sent - b.Sent, Refused: a.Refused - b.Refused, Delivered: a.Delivered - b.Delivered,
		NoListener: a.NoListener - b.NoListener, QueueFull: a.QueueFull - b.QueueFull,
		Undeliverable: a.Undeliverable - b.Undeliverable,
	}
}

// A packet a raw socket would refuse fails the batch's error, but the
// others in the batch are still sent.
func TestMemNetworkRefusesWhatTheKernelWould(t *testing.T) {
	p := newMemPair(t)
	good, esp := espPacket(t, addrA4, addrB4, 0, 1, 1, 100)
	v6, _ := espPacket(t, addrA6, addrB6, 0, 1, 1, 100)
	big, _ := espPacket(t, addrA4, addrB4, 0, 2, 1, DefaultMemMTU)
	for _, c := range []struct {
		name  string
		bad   []byte
		errIs error
	}{
		{"truncated", good[:len(good)-1], errNotPacket},
		{"IPv6 on an IPv4 sender", v6, errNotPacket},
		{"longer than the MTU", big, syscall.EMSGSIZE},
		{"empty", nil, errNotPacket},
	} {
		n, err := p.send4.WriteBatch([][]byte{good, c.bad, good})
		if n != 2 || !errors.Is(err, c.errIs) {
			t.Errorf("%s: WriteBatch = %d, %v; want 2 sent and an error wrapping %v", c.name, n, err, c.errIs)
		}
		msgs := newMessages(4, 2000)
		if n, _ := p.esp4.ReadBatch(msgs); n != 2 {
			t.Fatalf("%s: received %d, want the 2 good packets", c.name, n)
		}
		checkMessage(t, 1, msgs[1], want{esp, netip.AddrPortFrom(addrA4, 0), addrB4, 0})
	}
	if s := p.net.Stats(); s.Refused != 4 {
		t.Errorf("Refused = %d, want 4", s.Refused)
	}
	p.net.SetMTU(9000)
	if n, err := p.send4.WriteBatch([][]byte{big}); n != 1 || err != nil {
		t.Errorf("after SetMTU(9000): WriteBatch = %d, %v", n, err)
	}
}

// Every proper prefix of a valid packet is refused: none is delivered as
// a shorter packet.
func TestMemNetworkEveryPrefixRefused(t *testing.T) {
	p := newMemPair(t)
	for _, pkt := range [][]byte{
		first(espPacket(t, addrA4, addrB4, 0, 1, 1, 48)),
		udpPacket(t, netip.AddrPortFrom(addrA4, 4500), netip.AddrPortFrom(addrB4, 4500), 0, []byte("0123")),
	} {
		for i := range len(pkt) {
			if n, err := p.send4.WriteBatch([][]byte{pkt[:i]}); n != 0 || err == nil {
				t.Fatalf("%d-octet prefix of a %d-octet packet: WriteBatch = %d, %v; want refused", i, len(pkt), n, err)
			}
		}
	}
	if s := p.net.Stats(); s.Delivered != 0 {
		t.Errorf("a prefix was delivered: %+v", s)
	}
}

func first(a, _ []byte) []byte { return a }

// A payload longer than Buf is cut to fit, as recvmmsg cuts it.
func TestMemNetworkTruncatesToBuf(t *testing.T) {
	p := newMemPair(t)
	pkt, esp := espPacket(t, addrA4, addrB4, 0, 1, 1, 300)
	p.send4.WriteBatch([][]byte{pkt})
	msgs := newMessages(1, 100)
	if n, err := p.esp4.ReadBatch(msgs); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if msgs[0].N != 100 || string(msgs[0].Buf) != string(esp[:100]) {
		t.Errorf("N = %d, want 100 octets of the packet", msgs[0].N)
	}
}

func TestMemNetworkQueueFullDropsWithoutBlocking(t *testing.T) {
	p := newMemPair(t)
	pkt, _ := espPacket(t, addrA4, addrB4, 0, 1, 1, 60)
	batch := make([][]byte, memQueueLen+10)
	for i := range batch {
		batch[i] = pkt
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if n, err := p.send4.WriteBatch(batch); n != len(batch) || err != nil {
			t.Errorf("WriteBatch = %d, %v", n, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("WriteBatch blocked on a full receiver")
	}
	if s := p.net.Stats(); s.Delivered != memQueueLen || s.QueueFull != 10 {
		t.Errorf("stats %+v; want %d delivered and 10 QueueFull", s, memQueueLen)
	}
}

func TestMemNetworkClose(t *testing.T) {
	p := newMemPair(t)
	errc := make(chan error, 1)
	go func() {
		_, err := p.esp4.ReadBatch(newMessages(1, 100))
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	p.esp4.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadBatch after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake ReadBatch")
	}
	if _, err := p.esp4.ReadBatch(newMessages(1, 100)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadBatch on a closed receiver: %v", err)
	}
	pkt, _ := espPacket(t, addrA4, addrB4, 0, 1, 1, 60)
	before := p.net.Stats()
	p.send4.WriteBatch([][]byte{pkt})
	if d := diffStats(p.net.Stats(), before); d.NoListener != 1 {
		t.Errorf("to a closed receiver: counted %+v, want NoListener", d)
	}
	// The port is free again once its receiver is closed.
	p.udp4.Close()
	r, err := p.b.ListenUDP(4, 4500)
	if err != nil {
		t.Fatalf("ListenUDP after Close: %v", err)
	}
	r.Close()
	p.send4.Close()
	if _, err := p.send4.WriteBatch([][]byte{pkt}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteBatch on a closed sender: %v", err)
	}
}

func TestMemNetworkSetupErrors(t *testing.T) {
	p := newMemPair(t)
	if _, err := p.b.ListenUDP(4, 4500); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second ListenUDP(4, 4500): %v, want EADDRINUSE", err)
	}
	if r, err := p.b.ListenUDP(6, 500); err != nil {
		t.Errorf("ListenUDP(6, 500): %v", err)
	} else {
		r.Close()
	}
	if _, err := p.b.ListenUDP(4, 0); err == nil {
		t.Error("ListenUDP port 0 accepted")
	}
	if _, err := p.b.ListenESP(5); err == nil {
		t.Error("ListenESP(5) accepted")
	}
	if _, err := p.net.AddHost(addrB4); err == nil {
		t.Error("an address on two hosts accepted")
	}
	if _, err := p.net.AddHost(netip.IPv4Unspecified()); err == nil {
		t.Error("unspecified host address accepted")
	}
	var _ Network = p.a
}

// Sending and receiving a warm batch allocates nothing.
func TestMemNetworkSteadyStateAllocs(t *testing.T) {
	p := newMemPair(t)
	pkts := make([][]byte, 32)
	for i := range pkts {
		pkts[i], _ = espPacket(t, addrA4, addrB4, 0, 1, uint32(i), 1400)
	}
	msgs := newMessages(32, 2048)
	allocs := testing.AllocsPerRun(100, func() {
		p.send4.WriteBatch(pkts)
		for got := 0; got < len(pkts); {
			n, _ := p.esp4.ReadBatch(msgs)
			got += n
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per batch, want 0", allocs)
	}
}

// FuzzMemNetworkRoute sends arbitrary bytes: nothing panics, and whatever
// is delivered is a piece of what was sent.
func FuzzMemNetworkRoute(f *testing.F) {
	f.Add(first(espPacket(f, addrA4, addrB4, 0xb8, 1, 1, 40)))
	f.Add(first(espPacket(f, addrA6, addrB6, 0xb8, 1, 1, 40)))
	f.Add(udpPacket(f, netip.AddrPortFrom(addrA4, 4500), netip.AddrPortFrom(addrB4, 4500), 0, []byte{0xff}))
	f.Add(udpPacket(f, netip.AddrPortFrom(addrA6, 4500), netip.AddrPortFrom(addrB6, 4500), 0, ikeMessage(30)))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		n := NewMemNetwork()
		a, _ := n.AddHost(addrA4, addrA6)
		b, _ := n.AddHost(addrB4, addrB6)
		var rs []Receiver
		for _, fam := range []int{4, 6} {
			e, _ := b.ListenESP(fam)
			u, _ := b.ListenUDP(fam, 4500)
			rs = append(rs, e, u)
			s, _ := a.NewRawSender(fam)
			s.WriteBatch([][]byte{pkt})
		}
		for _, r := range rs {
			msgs := newMessages(4, 65535)
			for r.(*memReceiver).q.len() > 0 {
				k, _ := r.ReadBatch(msgs)
				for _, m := range msgs[:k] {
					if !bytes.Contains(pkt, m.Buf[:m.N]) {
						t.Fatalf("delivered % x, which is not in the packet sent", m.Buf[:m.N])
					}
				}
			}
			r.Close()
		}
		s := n.Stats()
		if s.Sent+s.Refused != 2 || s.Delivered+s.NoListener+s.Undeliverable+s.QueueFull != s.Sent {
			t.Fatalf("stats do not add up: %+v", s)
		}
	})
}
