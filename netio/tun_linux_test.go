package netio

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ipsecgw/header"
	"ipsecgw/test/netns"
)

var (
	tunLocal = netip.MustParseAddr("198.18.0.1") // st0-test's own address
	tunPeer  = netip.MustParseAddr("198.18.0.2") // routed into st0-test
)

// newKernelTUN creates st0-test in a fresh namespace, addressed
// 198.18.0.1/24 and up, so the namespace routes 198.18.0.0/24 into it.
func newKernelTUN(t *testing.T) (*netns.Net, TUN) {
	t.Helper()
	n := netns.New(t, "a")
	var dev TUN
	inNetns(t, n, "a", func() (err error) {
		dev, err = CreateTUN("st0-test", 1420)
		return err
	})
	t.Cleanup(func() { dev.Close() })
	if dev.Name() != "st0-test" || dev.MTU() != 1420 || dev.BatchSize() != IdealBatchSize {
		t.Errorf("Name, MTU, BatchSize = %q, %d, %d; want st0-test, 1420, %d", dev.Name(), dev.MTU(), dev.BatchSize(), IdealBatchSize)
	}
	n.Exec("a", "ip", "addr", "add", tunLocal.String()+"/24", "dev", "st0-test")
	n.Exec("a", "ip", "link", "set", "st0-test", "up")
	return n, dev
}

// readMatching reads dev until a batch holds a packet match accepts,
// ignoring others (the host's IPv6 chatter), and returns that batch. It
// fails the test after timeout, closing dev to free the reader.
func readMatching(t *testing.T, dev TUN, offset, size int, match func(header.IPv4) bool, timeout time.Duration) (bufs [][]byte, sizes []int, n int) {
	t.Helper()
	type batch struct {
		bufs  [][]byte
		sizes []int
		n     int
		err   error
	}
	done := make(chan batch, 1)
	go func() {
		for {
			b := batch{}
			b.bufs, b.sizes = tunBufs(dev.BatchSize(), offset, size)
			b.n, b.err = dev.Read(b.bufs, b.sizes, offset)
			if b.err != nil {
				done <- b
				return
			}
			for i := range b.n {
				if h, ok := header.ParseIPv4(b.bufs[i][offset : offset+b.sizes[i]]); ok && match(h) {
					done <- b
					return
				}
			}
		}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case b := <-done:
		if b.err != nil {
			t.Fatalf("TUN Read: %v", b.err)
		}
		return b.bufs, b.sizes, b.n
	case <-timer.C:
		dev.Close()
		<-done
		t.Fatalf("nothing matching came out of the TUN within %v", timeout)
		return nil, nil, 0
	}
}

// TestKernelTUNPing pings through a real TUN: the echo request comes out
// of Read, the reply built in the same buffer goes back with Write at the
// least offset (TUNHeadroom), and ping must see it.
func TestKernelTUNPing(t *testing.T) {
	n, dev := newKernelTUN(t)
	var out bytes.Buffer
	ping := exec.Command("ip", "netns", "exec", n.Name("a"), "ping", "-n", "-c", "1", "-W", "5", tunPeer.String())
	ping.Stdout, ping.Stderr = &out, &out
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	var pingErr error
	exited := make(chan struct{})
	go func() {
		pingErr = ping.Wait()
		close(exited)
	}()
	defer func() {
		ping.Process.Kill() // harmless once it has exited
		<-exited
	}()

	isEcho := func(h header.IPv4) bool {
		m, ok := header.ParseICMPv4(h.Payload())
		return ok && h.Protocol() == header.IPProtoICMP && h.Destination() == tunPeer && m.Type() == 8
	}
	bufs, sizes, count := readMatching(t, dev, TUNHeadroom, 65535, isEcho, 5*time.Second)
	var reply []byte
	for i := range count {
		h, ok := header.ParseIPv4(bufs[i][TUNHeadroom : TUNHeadroom+sizes[i]])
		if !ok || !isEcho(h) {
			continue
		}
		if !h.ChecksumValid() {
			t.Error("echo request read with a bad IPv4 checksum")
		}
		m, _ := header.ParseICMPv4(h.Payload())
		m.SetType(0)
		m.UpdateChecksum()
		src, dst := h.Source(), h.Destination()
		h.SetSource(dst)
		h.SetDestination(src)
		h.UpdateChecksum()
		reply = bufs[i][:TUNHeadroom+sizes[i]]
	}
	if n, err := dev.Write([][]byte{reply}, TUNHeadroom); n != 1 || err != nil {
		t.Fatalf("TUN Write of the echo reply = %d, %v", n, err)
	}
	select {
	case <-exited:
		if pingErr != nil {
			t.Fatalf("ping got no reply through the TUN: %v\n%s", pingErr, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("ping still running\n%s", out.String())
	}
}

// TestKernelTUNSplitsUSO sends one UDP super-packet (UDP_SEGMENT) into the
// TUN: with offloads on it reaches the TUN whole, and a single Read must
// return it split into its MSS-sized datagrams, checksums filled in. Read
// into buffers of 64 KB (the super-packet read straight into the first)
// and of the MTU (read aside, then split).
func TestKernelTUNSplitsUSO(t *testing.T) {
	for _, b := range []struct{ offset, size int }{{64, 65535}, {0, 1420}} {
		splitsUSO(t, b.offset, b.size)
	}
}

func splitsUSO(t *testing.T, offset, size int) {
	n, dev := newKernelTUN(t)
	const segment, segments, last = 1000, 8, 500
	payload := pattern(segment*segments+last, 9)
	var fd int
	inNetns(t, n, "a", func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		return err
	})
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_SEGMENT, segment); err != nil {
		t.Fatalf("UDP_SEGMENT: %v", err)
	}
	if err := unix.Sendto(fd, payload, 0, &unix.SockaddrInet4{Port: 9, Addr: tunPeer.As4()}); err != nil {
		t.Fatalf("send super-packet: %v", err)
	}

	isOurs := func(h header.IPv4) bool {
		u, ok := header.ParseUDP(h.Payload())
		return ok && h.Protocol() == header.IPProtoUDP && u.DestinationPort() == 9
	}
	bufs, sizes, count := readMatching(t, dev, offset, size, isOurs, 5*time.Second)
	if count != segments+1 {
		t.Fatalf("buffers of %d at offset %d: one Read returned %d packets; want the super-packet split into %d", size, offset, count, segments+1)
	}
	var got []byte
	for i := range count {
		h, ok := header.ParseIPv4(bufs[i][offset : offset+sizes[i]])
		if !ok || !isOurs(h) || !h.ChecksumValid() {
			t.Fatalf("segment %d: not a valid IPv4 UDP packet to port 9", i)
		}
		u, _ := header.ParseUDP(h.Payload())
		if !u.ChecksumValid(h.Source(), h.Destination()) {
			t.Errorf("segment %d: bad UDP checksum", i)
		}
		got = append(got, u.Payload()...)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("segments carry %d octets that differ from the %d sent", len(got), len(payload))
	}
}

// Close wakes a blocked Read with net.ErrClosed and leaves no goroutine
// behind (wireguard-go's has some).
func TestKernelTUNClose(t *testing.T) {
	before := runtime.NumGoroutine()
	_, dev := newKernelTUN(t)
	errc := make(chan error, 1)
	go func() {
		bufs, sizes := tunBufs(dev.BatchSize(), TUNHeadroom, 65535)
		for {
			if _, err := dev.Read(bufs, sizes, TUNHeadroom); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := dev.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake Read")
	}
	if _, err := dev.Write([][]byte{make([]byte, 60)}, TUNHeadroom); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
	for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the TUN", runtime.NumGoroutine(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
