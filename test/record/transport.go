package main

// ipsecgw's side of a case: its IKE engine's UDP sockets inside the
// gateway's namespace, and the installer that keeps the Child SA.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
)

// transport is ipsecgw's UDP: sockets on 500 and 4500 opened inside the
// gateway's namespace. It records every IKE message both ways.
type transport struct {
	conns map[uint16]*net.UDPConn
	mu    sync.Mutex
	msgs  []Msg
}

func (t *transport) note(b []byte, from, to netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.msgs = append(t.msgs, Msg{From: from.String(), To: to.String(), Hex: hex.EncodeToString(b)})
}

func (t *transport) Send(msg []byte, from, to netip.AddrPort) error {
	c := t.conns[from.Port()]
	if c == nil {
		return fmt.Errorf("no socket on port %d", from.Port())
	}
	t.note(msg, from, to)
	b := msg
	if from.Port() == 4500 {
		b = append([]byte{0, 0, 0, 0}, msg...) // non-ESP marker (RFC 3948)
	}
	_, err := c.WriteToUDPAddrPort(b, to)
	return err
}

// listen opens the sockets inside the namespace: a locked thread enters it,
// makes them and ends with its goroutine (the thread is not reused).
func listen(nsName string) (*transport, error) {
	type result struct {
		t   *transport
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		f, err := os.Open("/run/netns/" + nsName)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns %s: %w", nsName, err)}
			return
		}
		t := &transport{conns: map[uint16]*net.UDPConn{}}
		for _, port := range []uint16{500, 4500} {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(gwAddr, port)))
			if err != nil {
				ch <- result{err: err}
				return
			}
			t.conns[port] = c
		}
		ch <- result{t: t}
	}()
	r := <-ch
	return r.t, r.err
}

func (t *transport) serve(e *ikev2.Engine) {
	for port, c := range t.conns {
		go func() {
			buf := make([]byte, 65536)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				b := buf[:n]
				if port == 4500 {
					if n < 4 || !bytes.Equal(b[:4], []byte{0, 0, 0, 0}) {
						continue // ESP in UDP or a keepalive
					}
					b = b[4:]
				}
				from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
				to := netip.AddrPortFrom(gwAddr, port)
				t.note(b, from, to)
				e.HandleMessage(append([]byte(nil), b...), from, to)
			}
		}()
	}
}

func (t *transport) close() {
	for _, c := range t.conns {
		c.Close()
	}
}

// installer hands out one SPI and keeps the Child SA it is given.
type installer struct {
	spi  uint32
	mu   sync.Mutex
	got  *ike.ChildSA
	done chan struct{}
}

func (i *installer) AllocateSPI() (uint32, error) { return i.spi, nil }

func (i *installer) InstallChild(vpn string, c *ike.ChildSA) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.got == nil {
		cp := *c
		cp.Inbound.Encryption = append([]byte(nil), c.Inbound.Encryption...)
		cp.Inbound.Integrity = append([]byte(nil), c.Inbound.Integrity...)
		cp.Outbound.Encryption = append([]byte(nil), c.Outbound.Encryption...)
		cp.Outbound.Integrity = append([]byte(nil), c.Outbound.Integrity...)
		i.got = &cp
		close(i.done)
	}
	return nil
}

func (i *installer) RemoveChild(string, *ike.ChildSA) {}
