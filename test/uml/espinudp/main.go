// Command espinudp holds UDP sockets with UDP_ENCAP_ESPINUDP set, so that the
// Linux kernel decapsulates ESP-in-UDP (RFC 3948) arriving on that port and
// hands it to XFRM: what an IKE daemon's NAT-T socket does for the kernel.
// Without such a socket, ESP-in-UDP to the port is answered with an ICMP
// port unreachable, whatever SAs exist.
//
// Usage: espinudp [-port 4500] [-ipv6=true] [-ready FILE]
//
// It writes FILE once the sockets are ready, prints every non-ESP datagram
// it sees (IKE, NAT keepalives) to stdout, and runs until SIGTERM or SIGINT.
// It is a static binary the UML tests build and run inside the guest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	port := flag.Int("port", 4500, "UDP port to hold")
	v6 := flag.Bool("ipv6", true, "also hold the port on IPv6")
	ready := flag.String("ready", "", "file to create once the sockets are ready")
	flag.Parse()

	networks := []string{"udp4"}
	if *v6 {
		networks = append(networks, "udp6")
	}
	lc := net.ListenConfig{Control: setEncap}
	for _, n := range networks {
		addr := fmt.Sprintf(":%d", *port)
		c, err := lc.ListenPacket(context.Background(), n, addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "espinudp: %s %s: %v\n", n, addr, err)
			os.Exit(1)
		}
		go drain(c)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte("ready\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "espinudp: %v\n", err)
			os.Exit(1)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

// setEncap marks the socket before bind, as an IKE daemon does.
func setEncap(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_ENCAP, unix.UDP_ENCAP_ESPINUDP)
	})
	if err == nil && serr != nil {
		err = fmt.Errorf("setsockopt UDP_ENCAP_ESPINUDP: %w", serr)
	}
	return err
}

// drain reads what the kernel does not take for ESP: datagrams whose first
// four bytes are zero (IKE's non-ESP marker) and one-byte keepalives.
func drain(c net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "espinudp: read: %v\n", err)
			}
			return
		}
		fmt.Printf("non-ESP datagram: %d bytes from %s\n", n, from)
	}
}
