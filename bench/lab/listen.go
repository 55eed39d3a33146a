package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ListenUDP opens a UDP socket on ap inside namespace ns, for a load
// generator that runs in this process. A socket stays in the namespace it
// was created in, so only the creating thread enters ns: it is locked to a
// goroutine that ends without unlocking, and the runtime then discards the
// thread instead of reusing it in the wrong namespace.
func (n *Namespaces) ListenUDP(ns string, ap netip.AddrPort) (*net.UDPConn, error) {
	type result struct {
		c   *net.UDPConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(n.Path(ns))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("entering namespace %s: %w", n.Path(ns), err)}
			return
		}
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
		if err == nil {
			// Bursts of thousands of answers must not overflow the queue.
			_ = c.SetReadBuffer(8 << 20)
			_ = c.SetWriteBuffer(8 << 20)
		}
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}
