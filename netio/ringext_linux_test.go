package netio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipsecgw/header"
	"ipsecgw/test/netns"
)

// extPacket6 is an IPv6 packet from src to dst carrying payload as
// protocol proto behind extension headers of the kinds in chain (8
// octets each: options headers filled by a PadN option, routing headers
// of the experimental type 253 with no segments left, which the kernel
// passes over).
func extPacket6(t testing.TB, src, dst netip.Addr, chain []uint8, proto uint8, payload []byte) []byte {
	t.Helper()
	var ext []byte
	for i := range chain {
		next := proto
		if i+1 < len(chain) {
			next = chain[i+1]
		}
		if chain[i] == ipProtoRouting {
			ext = append(ext, next, 0, 253, 0, 0, 0, 0, 0)
		} else {
			ext = append(ext, next, 0, 1, 4, 0, 0, 0, 0)
		}
	}
	first := proto
	if len(chain) > 0 {
		first = chain[0]
	}
	return ipPacket(t, src, dst, 0, first, append(ext, payload...))
}

// fragments6 cuts payload (of protocol proto) into two IPv6 fragments.
func fragments6(t testing.TB, src, dst netip.Addr, proto uint8, payload []byte, cut int) [][]byte {
	frag := func(off int, data []byte, more bool) []byte {
		h := make([]byte, 8)
		h[0] = proto
		v := uint16(off)
		if more {
			v |= 1
		}
		binary.BigEndian.PutUint16(h[2:], v)
		binary.BigEndian.PutUint32(h[4:], 0x4242)
		return ipPacket(t, src, dst, 0, 44, append(h, data...))
	}
	return [][]byte{frag(0, payload[:cut], true), frag(cut, payload[cut:], false)}
}

// fragments4 cuts payload (of protocol proto) into two IPv4 fragments.
func fragments4(t testing.TB, src, dst netip.Addr, proto uint8, payload []byte, cut int) [][]byte {
	frag := func(off int, data []byte, more bool) []byte {
		p := ipPacket(t, src, dst, 0, proto, data)
		v := uint16(off / 8)
		if more {
			v |= 0x2000
		}
		binary.BigEndian.PutUint16(p[6:], v) // DF clear
		header.IPv4(p).UpdateChecksum()
		return p
	}
	return [][]byte{frag(0, payload[:cut], true), frag(cut, payload[cut:], false)}
}

// withOptions4 is an IPv4 packet carrying payload as protocol proto
// whose header carries options.
func withOptions4(t testing.TB, src, dst netip.Addr, proto uint8, options, payload []byte) []byte {
	t.Helper()
	hlen := header.IPv4MinimumSize + len(options)
	b := make([]byte, hlen+len(payload))
	copy(b[hlen:], payload)
	h, ok := header.EncodeIPv4(b, header.IPv4Fields{
		TotalLength: uint16(len(b)), TTL: 64, Protocol: proto, Source: src, Destination: dst, Options: options,
	})
	if !ok {
		t.Fatal("EncodeIPv4 with options refused")
	}
	return h
}

// sentPacket is one packet (or fragments) of checkESPBehindHeaders: the
// ESP or IKE message in it, its destination and the receiver that must
// get it.
type sentPacket struct {
	pkts [][]byte
	esp  []byte
	dst  netip.Addr
	on   string
}

// id is the SPI, or for an IKE message the word after the marker.
func (s *sentPacket) id() uint32 {
	if id := binary.BigEndian.Uint32(s.esp); id != 0 {
		return id
	}
	return binary.BigEndian.Uint32(s.esp[4:])
}

// TestRingsTakeESPBehindHeaders, on each outer data plane: ESP and ESP in
// UDP behind IPv4 options and behind IPv6 extension headers (as many as
// the rings walk) arrive once, on the ring where there is one; ESP behind
// a longer chain and IPv6 fragments arrive once, on the raw ESP socket
// (the kernel reassembles the fragments), which beside packet rings must
// not take them for the ring's.
func TestRingsTakeESPBehindHeaders(t *testing.T) {
	for _, mode := range []string{"xdp", "packet-ring", "socket"} {
		t.Run(mode, func(t *testing.T) {
			if mode != "packet-ring" {
				checkESPBehindHeaders(t, mode)
				return
			}
			eachRingVersion(t, func(t *testing.T) { checkESPBehindHeaders(t, mode) })
		})
	}
}

func checkESPBehindHeaders(t *testing.T, mode string) {
	netns.RequireRoot(t)
	n := netns.New(t, "a", "b")
	n.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
	n.Exec("a", "ip", "addr", "add", "2001:db8:1::1/64", "dev", "veth-a", "nodad")
	n.Exec("b", "ip", "addr", "add", "2001:db8:1::2/64", "dev", "veth-b", "nodad")
	for _, dst := range []string{"198.51.100.1", "2001:db8:1::1"} {
		p := netns.Ping{Count: 1, Interval: 200 * time.Millisecond}
		if err := p.Check(dst, n.Exec("b", p.Args(dst)...)); err != nil {
			t.Fatal(err)
		}
	}
	a4, b4 := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	a6, b6 := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:1::2")

	recv := map[string]Receiver{}
	var stats func() string
	inNetns(t, n, "a", func() (err error) {
		listenESP, listenUDP := ListenESP, ListenUDP
		var attach func([]netip.Addr) ([]Receiver, error)
		switch mode {
		case "xdp":
			x, err := OpenXDP()
			if err != nil {
				return err
			}
			t.Cleanup(func() { x.Close() })
			if err := x.SetUDPPorts([]uint16{4500}); err != nil {
				return err
			}
			attach = x.Attach
			stats = func() string { return fmt.Sprintf("%+v", x.Stats()) }
		case "packet-ring":
			p, err := OpenPacketRing()
			if err != nil {
				return err
			}
			t.Cleanup(func() { p.Close() })
			if err := p.SetUDPPorts([]uint16{4500}); err != nil {
				return err
			}
			listenESP, listenUDP, attach = p.ListenESP, p.ListenUDP, p.Attach
			stats = func() string { return fmt.Sprintf("%+v", p.Stats()) }
		default:
			stats = func() string { return "sockets" }
		}
		for _, family := range []int{4, 6} {
			if recv[fmt.Sprintf("esp%d", family)], err = listenESP(family); err != nil {
				return err
			}
			if recv[fmt.Sprintf("udp%d", family)], err = listenUDP(family, 4500); err != nil {
				return err
			}
		}
		if attach != nil {
			rings, err := attach([]netip.Addr{a4, a6})
			if err == nil && len(rings) != 1 {
				err = fmt.Errorf("%d rings, want 1", len(rings))
			}
			if err != nil {
				return err
			}
			recv["ring"] = rings[0]
		}
		return nil
	})
	var send4, send6 Sender
	inNetns(t, n, "b", func() (err error) {
		if send4, err = NewRawSender(4); err != nil {
			return err
		}
		send6, err = NewRawSender(6)
		return err
	})
	t.Cleanup(func() { send4.Close(); send6.Close() })

	// Every receiver read on its own goroutine; a packet is known by its
	// SPI (ESP's first word, raw or in UDP).
	type arrival struct {
		on  string
		spi uint32
		m   Message
	}
	got := make(chan arrival, 256)
	var wg sync.WaitGroup
	for name, r := range recv {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msgs := newMessages(16, 4096)
			for {
				k, err := r.ReadBatch(msgs)
				if err != nil {
					return
				}
				for _, m := range msgs[:k] {
					if m.N >= 8 {
						m.Buf = bytes.Clone(m.Buf[:m.N])
						id := binary.BigEndian.Uint32(m.Buf)
						if id == 0 { // an IKE message: known by the word after the marker
							id = binary.BigEndian.Uint32(m.Buf[4:])
						}
						got <- arrival{name, id, m}
					}
				}
			}
		}()
	}
	t.Cleanup(func() {
		for _, r := range recv {
			r.Close()
		}
		wg.Wait()
	})

	ring := func(socket string) string {
		if mode == "socket" {
			return socket
		}
		return "ring"
	}
	nops := []byte{1, 1, 1, 1}
	dstOpts := []uint8{ipProtoDstOpts}
	five := []uint8{ipProtoDstOpts, ipProtoRouting, ipProtoDstOpts, ipProtoDstOpts, ipProtoDstOpts}
	var sends []*sentPacket
	add := func(spi uint32, dst netip.Addr, on string, build func(esp []byte) [][]byte) {
		esp := espBody(t, spi, 1, 200)
		switch spi {
		case 0x16:
			esp = espBody(t, spi, 1, 2000)
		case 0x1b, 0x1c: // IKE: the non-ESP marker, then the "SPI"
			esp = append(make([]byte, 4), esp...)
		}
		sends = append(sends, &sentPacket{build(esp), esp, dst, on})
	}
	add(0x11, a4, ring("esp4"), func(esp []byte) [][]byte {
		return [][]byte{withOptions4(t, b4, a4, header.IPProtoESP, nops, esp)}
	})
	add(0x12, a4, ring("udp4"), func(esp []byte) [][]byte {
		u := udpPacket(t, netip.AddrPortFrom(b4, 4500), netip.AddrPortFrom(a4, 4500), 0, esp)[header.IPv4MinimumSize:]
		return [][]byte{withOptions4(t, b4, a4, header.IPProtoUDP, nops, u)}
	})
	add(0x13, a6, ring("esp6"), func(esp []byte) [][]byte {
		return [][]byte{extPacket6(t, b6, a6, dstOpts, header.IPProtoESP, esp)}
	})
	add(0x14, a6, ring("udp6"), func(esp []byte) [][]byte {
		u := udpPacket(t, netip.AddrPortFrom(b6, 4500), netip.AddrPortFrom(a6, 4500), 0, esp)[header.IPv6MinimumSize:]
		return [][]byte{extPacket6(t, b6, a6, []uint8{ipProtoHopByHop, ipProtoDstOpts}, header.IPProtoUDP, u)}
	})
	add(0x15, a6, "esp6", func(esp []byte) [][]byte {
		return [][]byte{extPacket6(t, b6, a6, five, header.IPProtoESP, esp)}
	})
	add(0x16, a6, "esp6", func(esp []byte) [][]byte { return fragments6(t, b6, a6, header.IPProtoESP, esp, 1200) })
	// Sentinels, last, one for each receiver: plain ESP for the rings, a
	// long chain and fragments for the raw ESP sockets, IKE messages for
	// the UDP sockets. Once they are in, a duplicate of anything before
	// would be too (each receiver delivers in order).
	add(0x17, a4, ring("esp4"), func(esp []byte) [][]byte { return [][]byte{ipPacket(t, b4, a4, 0, header.IPProtoESP, esp)} })
	add(0x18, a6, ring("esp6"), func(esp []byte) [][]byte { return [][]byte{ipPacket(t, b6, a6, 0, header.IPProtoESP, esp)} })
	add(0x19, a6, "esp6", func(esp []byte) [][]byte {
		return [][]byte{extPacket6(t, b6, a6, five, header.IPProtoESP, esp)}
	})
	add(0x1a, a4, "esp4", func(esp []byte) [][]byte { return fragments4(t, b4, a4, header.IPProtoESP, esp, 96) })
	add(0x1b, a4, "udp4", func(esp []byte) [][]byte {
		return [][]byte{udpPacket(t, netip.AddrPortFrom(b4, 4500), netip.AddrPortFrom(a4, 4500), 0, esp)}
	})
	add(0x1c, a6, "udp6", func(esp []byte) [][]byte {
		return [][]byte{udpPacket(t, netip.AddrPortFrom(b6, 4500), netip.AddrPortFrom(a6, 4500), 0, esp)}
	})

	for _, s := range sends {
		sender := send4
		if s.dst.Is6() {
			sender = send6
		}
		if k, err := sender.WriteBatch(s.pkts); err != nil || k != len(s.pkts) {
			t.Fatalf("SPI %#x: sent %d of %d: %v", s.id(), k, len(s.pkts), err)
		}
	}
	seen := map[uint32][]string{}
	deadline := time.After(10 * time.Second)
	for len(seen) < len(sends) {
		select {
		case a := <-got:
			seen[a.spi] = append(seen[a.spi], a.on)
			for _, s := range sends {
				if s.id() != a.spi {
					continue
				}
				if !bytes.Equal(a.m.Buf, s.esp) || a.m.Dst != s.dst || a.m.Src.Addr() != map[bool]netip.Addr{true: b4, false: b6}[s.dst.Is4()] {
					t.Errorf("SPI %#x on %s: %d octets from %s to %s, want %d octets to %s", a.spi, a.on, len(a.m.Buf), a.m.Src, a.m.Dst, len(s.esp), s.dst)
				}
			}
		case <-deadline:
			t.Fatalf("within 10 s: %v (stats %s)", seen, stats())
		}
	}
	// Anything still queued is a duplicate.
	for more := true; more; {
		select {
		case a := <-got:
			seen[a.spi] = append(seen[a.spi], a.on)
		default:
			more = false
		}
	}
	for _, s := range sends {
		spi := s.id()
		if on := seen[spi]; len(on) != 1 || on[0] != s.on {
			t.Errorf("SPI %#x arrived on %v, want once on %s", spi, on, s.on)
		}
	}
	t.Logf("%s: %v; %s", mode, seen, stats())
}
