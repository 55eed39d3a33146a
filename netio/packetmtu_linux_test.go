package netio

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// TestPacketRingFollowsMTU: rings made on a veth of MTU 1500 are made
// again when both ends are raised to 9000, and ESP of 8900 octets then
// arrives whole on the ring and leaves by it; back at 1500, the ring
// hands a packet larger than the MTU to the kernel, which refuses it.
func TestPacketRingFollowsMTU(t *testing.T) { eachRingVersion(t, checkPacketRingFollowsMTU) }

func checkPacketRingFollowsMTU(t *testing.T) {
	netns.RequireRoot(t)
	n := netns.New(t, "a", "b")
	n.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
	n.Exec("a", "ping", "-c", "1", "-W", "5", "198.51.100.2")
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")

	var p *PacketRing
	var rawA, sendB Sender
	var espB Receiver
	var recv []Receiver
	inNetns(t, n, "a", func() (err error) {
		if p, err = OpenPacketRing(); err != nil {
			return err
		}
		if rawA, err = NewRawSender(4); err != nil {
			return err
		}
		if recv, err = p.Attach([]netip.Addr{a}); err == nil && len(recv) != 1 {
			err = fmt.Errorf("%d rings, want 1", len(recv))
		}
		return err
	})
	t.Cleanup(func() { rawA.Close(); p.Close() })
	inNetns(t, n, "b", func() (err error) {
		if espB, err = ListenESP(4); err != nil {
			return err
		}
		sendB, err = NewRawSender(4)
		return err
	})
	t.Cleanup(func() { espB.Close(); sendB.Close() })

	r := recv[0].(*packetRing)
	sendA := p.Sender(rawA)
	// setMTU sets both ends' MTU and waits for the ring's hand-over to
	// rings made for it.
	setMTU := func(mtu int) {
		t.Helper()
		n.Exec("a", "ip", "link", "set", "veth-a", "mtu", fmt.Sprint(mtu))
		n.Exec("b", "ip", "link", "set", "veth-b", "mtu", fmt.Sprint(mtu))
		for deadline := time.Now().Add(5 * time.Second); r.next.Load() == nil; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no rings made for MTU %d: %+v", mtu, p.Stats())
			}
		}
	}
	// both sends count packets of size octets each way: all through the
	// rings, none cut or dropped.
	both := func(size int) {
		t.Helper()
		const count = 20
		before := p.Stats()
		var in, out [][]byte
		for i := range count {
			in = append(in, xdpESPPacket(b, a, 0, byte(i), size))
			out = append(out, xdpESPPacket(a, b, 0, byte(i), size))
		}
		if m, err := sendB.WriteBatch(in); err != nil || m != count {
			t.Fatalf("B sent %d: %v", m, err)
		}
		got := readFor(t, recv[0], count, 5*time.Second, func(i int, m *Message) error {
			if !bytes.Equal(m.Buf[:m.N], in[i][20:]) {
				return fmt.Errorf("packet %d: %d octets, want %d", i, m.N, len(in[i])-20)
			}
			return nil
		})
		if st := p.Stats(); got != count || st.Received-before.Received != count || st.Truncated != 0 || st.Malformed != 0 {
			t.Fatalf("%d-octet ESP: ring received %d of %d (stats %+v)", size, got, count, st)
		}
		if m, err := sendA.WriteBatch(out); err != nil || m != count {
			t.Fatalf("A sent %d: %v", m, err)
		}
		if st := p.Stats(); st.Sent-before.Sent != count || st.ViaKernel != 0 {
			t.Fatalf("%d-octet ESP: A's sends %+v; want all %d on the ring", size, st, count)
		}
		got = readFor(t, espB, count, 5*time.Second, func(i int, m *Message) error {
			if !bytes.Equal(m.Buf[:m.N], out[i][20:]) {
				return fmt.Errorf("B's packet %d: %d octets, want %d", i, m.N, len(out[i])-20)
			}
			return nil
		})
		if got != count {
			t.Fatalf("%d-octet ESP: B received %d of %d", size, got, count)
		}
	}

	both(1400)
	setMTU(9000)
	both(8900)
	if st := p.Stats(); st.Resized != 1 || st.ResizeError != "" {
		t.Fatalf("after MTU 9000: %+v", st)
	}
	// Back to 1500: the ring takes nothing larger to send (the kernel would
	// drop it unsaid); the raw socket refuses it, as in socket mode.
	setMTU(1500)
	both(1400)
	sent := p.Stats().Sent
	if m, err := sendA.WriteBatch([][]byte{xdpESPPacket(a, b, 0, 1, 3000)}); err == nil || m != 0 || p.Stats().Sent != sent {
		t.Fatalf("a 3020-octet packet at MTU 1500: sent %d, %v; stats %+v", m, err, p.Stats())
	}
	if st := p.Stats(); st.Resized != 2 || st.Truncated != 0 {
		t.Fatalf("after MTU 1500 again: %+v", st)
	}
}
