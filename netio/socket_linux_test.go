package netio

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ipsecgw/header"
	"ipsecgw/test/netns"
)

// kernelPair is two namespaces joined by a veth pair, 198.51.100.1/24 and
// 2001:db8:1::1/64 in a, .2 and ::2 in b, with A's raw senders and B's
// receivers open (root only).
type kernelPair struct {
	endpoints
	n *netns.Net
}

func newKernelPair(t *testing.T) *kernelPair {
	t.Helper()
	p := &kernelPair{n: netns.New(t, "a", "b")}
	p.n.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
	// nodad: usable at once, not after duplicate address detection.
	p.n.Exec("a", "ip", "addr", "add", "2001:db8:1::1/64", "dev", "veth-a", "nodad")
	p.n.Exec("b", "ip", "addr", "add", "2001:db8:1::2/64", "dev", "veth-b", "nodad")
	// Resolve the neighbours first, so no packet waits in an ARP or ND queue.
	p.n.Exec("a", "ping", "-c", "1", "-W", "5", "198.51.100.2")
	p.n.Exec("a", "ping", "-6", "-c", "1", "-W", "5", "2001:db8:1::2")
	var ka, kb namespaced
	inNetns(t, p.n, "a", func() error { return ka.open(true) })
	inNetns(t, p.n, "b", func() error { return kb.open(false) })
	p.send4, p.send6 = ka.send4, ka.send6
	p.esp4, p.esp6, p.udp4, p.udp6 = kb.esp4, kb.esp6, kb.udp4, kb.udp6
	t.Cleanup(func() {
		for _, c := range []interface{ Close() error }{p.send4, p.send6, p.esp4, p.esp6, p.udp4, p.udp6} {
			if c != nil {
				c.Close()
			}
		}
	})
	return p
}

// namespaced opens the kernel sockets of one side inside its namespace,
// returning errors rather than failing, since it runs on a borrowed
// thread.
type namespaced struct{ endpoints }

func (e *namespaced) open(sender bool) (err error) {
	if sender {
		if e.send4, err = NewRawSender(4); err != nil {
			return err
		}
		e.send6, err = NewRawSender(6)
		return err
	}
	if e.esp4, err = ListenESP(4); err != nil {
		return err
	}
	if e.esp6, err = ListenESP(6); err != nil {
		return err
	}
	if e.udp4, err = ListenUDP(4, 4500); err != nil {
		return err
	}
	e.udp6, err = ListenUDP(6, 4500)
	return err
}

// TestKernelDelivers runs the MemNetwork's delivery checks over real
// sockets: raw ESP and UDP/4500, both families, every TOS.
func TestKernelDelivers(t *testing.T) {
	p := newKernelPair(t)
	checkDelivery(t, &p.endpoints, 200*time.Millisecond)
}

// TestKernelRawESPSuppressesUnreachable checks the fact ListenESP rests
// on: with no ESP in the kernel, an ESP packet draws ICMP protocol
// unreachable (IPv6: parameter problem) only while no raw ESP socket is
// open to take it.
func TestKernelRawESPSuppressesUnreachable(t *testing.T) {
	p := newKernelPair(t)
	counters := func() (uint64, uint64) {
		return snmpCounter(t, p.n, "b", "Icmp", "OutDestUnreachs"), snmpCounter(t, p.n, "b", "", "Icmp6OutParmProblems")
	}
	send := func() {
		pkt4, _ := espPacket(t, addrA4, addrB4, 0, 0x99, 1, 100)
		pkt6, _ := espPacket(t, addrA6, addrB6, 0, 0x99, 1, 100)
		if n, err := p.send4.WriteBatch([][]byte{pkt4}); n != 1 || err != nil {
			t.Fatalf("WriteBatch IPv4: %d, %v", n, err)
		}
		if n, err := p.send6.WriteBatch([][]byte{pkt6}); n != 1 || err != nil {
			t.Fatalf("WriteBatch IPv6: %d, %v", n, err)
		}
	}

	un4, pp6 := counters()
	send()
	collect(t, p.esp4, 1, 5*time.Second)
	collect(t, p.esp6, 1, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	if a, b := counters(); a != un4 || b != pp6 {
		t.Fatalf("with raw ESP sockets open, B sent %d protocol unreachable and %d parameter problem; want none", a-un4, b-pp6)
	}

	p.esp4.Close()
	p.esp6.Close()
	send()
	deadline := time.Now().Add(3 * time.Second)
	for {
		a, b := counters()
		if a > un4 && b > pp6 {
			t.Logf("without raw ESP sockets, B answered with %d unreachable and %d parameter problem", a-un4, b-pp6)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("without raw ESP sockets, B sent %d unreachable and %d parameter problem; want both > 0 (is there ESP in this kernel?)", a-un4, b-pp6)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKernelRawSender checks what the raw senders rely on: a packet longer
// than the MTU fails with EMSGSIZE without holding up the rest of its
// batch, and the kernel fills in the IPv4 header checksum.
func TestKernelRawSender(t *testing.T) {
	p := newKernelPair(t)
	for _, fam := range []struct {
		family   int
		src, dst netip.Addr
		r        Receiver
	}{{4, addrA4, addrB4, p.esp4}, {6, addrA6, addrB6, p.esp6}} {
		good1, esp1 := espPacket(t, fam.src, fam.dst, 0, 1, 1, 200)
		good2, esp2 := espPacket(t, fam.src, fam.dst, 0, 2, 1, 300)
		big, _ := espPacket(t, fam.src, fam.dst, 0, 3, 1, 1600)
		if fam.family == 4 {
			h, _ := header.ParseIPv4(good2)
			h.SetChecksum(0)
		}
		n, err := p.sender(fam.family).WriteBatch([][]byte{good1, big, good2})
		if n != 2 || !errors.Is(err, unix.EMSGSIZE) {
			t.Errorf("IPv%d WriteBatch(good, 1600 octets, good) = %d, %v; want 2 and EMSGSIZE", fam.family, n, err)
		}
		msgs, _ := collect(t, fam.r, 2, 5*time.Second)
		checkMessage(t, 0, msgs[0], want{esp1, netip.AddrPortFrom(fam.src, 0), fam.dst, 0})
		checkMessage(t, 1, msgs[1], want{esp2, netip.AddrPortFrom(fam.src, 0), fam.dst, 0})
	}
}

// A warm send-and-receive cycle over real sockets allocates nothing.
func TestKernelSteadyStateAllocs(t *testing.T) {
	p := newKernelPair(t)
	for _, fam := range []struct {
		family   int
		src, dst netip.Addr
		r        Receiver
	}{{4, addrA4, addrB4, p.esp4}, {6, addrA6, addrB6, p.udp6}} {
		pkts := make([][]byte, 32)
		for i := range pkts {
			if fam.family == 4 {
				pkts[i], _ = espPacket(t, fam.src, fam.dst, 0, 1, uint32(i), 1400)
			} else {
				pkts[i] = udpPacket(t, netip.AddrPortFrom(fam.src, 4500), netip.AddrPortFrom(fam.dst, 4500), 0, espBody(t, 1, uint32(i), 1400))
			}
		}
		msgs := newMessages(32, 2048)
		s := p.sender(fam.family)
		allocs := testing.AllocsPerRun(50, func() {
			s.WriteBatch(pkts)
			for got := 0; got < len(pkts); {
				n, err := fam.r.ReadBatch(msgs)
				if err != nil {
					t.Fatal(err)
				}
				got += n
			}
		})
		if allocs != 0 {
			t.Errorf("IPv%d: %v allocations per batch, want 0", fam.family, allocs)
		}
	}
}

// Close wakes a blocked ReadBatch with net.ErrClosed, and a closed sender
// refuses with it too.
func TestKernelClose(t *testing.T) {
	p := newKernelPair(t)
	errc := make(chan error, 2)
	for _, r := range []Receiver{p.udp4, p.esp6} {
		go func() {
			_, err := r.ReadBatch(newMessages(4, 2048))
			errc <- err
		}()
	}
	time.Sleep(50 * time.Millisecond)
	p.udp4.Close()
	p.esp6.Close()
	for range 2 {
		select {
		case err := <-errc:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("ReadBatch after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not wake ReadBatch")
		}
	}
	p.send4.Close()
	pkt, _ := espPacket(t, addrA4, addrB4, 0, 1, 1, 100)
	if _, err := p.send4.WriteBatch([][]byte{pkt}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteBatch after Close: %v, want net.ErrClosed", err)
	}
}
