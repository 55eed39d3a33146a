package dataplane

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/header"
)

// tcpSYN builds an IPv4 TCP packet with flags and an MSS option, its TCP
// checksum right.
func tcpSYN(src, dst netip.Addr, flags byte, mss uint16) []byte {
	const ihl, thl = 20, 24
	b := make([]byte, ihl+thl)
	header.EncodeIPv4(b, header.IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: header.IPProtoTCP, Source: src, Destination: dst})
	tcp := b[ihl:]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	tcp[12], tcp[13] = thl/4<<4, flags
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	copy(tcp[20:], []byte{2, 4, byte(mss >> 8), byte(mss)})
	binary.BigEndian.PutUint16(tcp[16:], tcpChecksum(src, dst, tcp))
	return b
}

func tcpChecksum(src, dst netip.Addr, tcp []byte) uint16 {
	c := append([]byte(nil), tcp...)
	c[16], c[17] = 0, 0
	return ^header.PartialChecksum(c, header.PseudoHeaderChecksum(header.IPProtoTCP, src, dst, uint32(len(c))))
}

// TestTCPMSSHooks: with tcp-mss set, a SYN is clamped going into the
// tunnel (gateway A, 1379) and again coming out of it (gateway B, lower
// still, 1300), each gateway counting it once; the checksum arrives right;
// a segment without SYN passes unchanged and uncounted.
func TestTCPMSSHooks(t *testing.T) {
	p := newPair(t, pairOptions{})
	p.a.SetTCPMSS(1379)
	p.b.SetTCPMSS(1300)
	for _, tc := range []struct {
		flags byte
		want  uint16
	}{{0x02, 1300}, {0x10, 1460}} {
		if !p.tunA.Inject(tcpSYN(hostA, hostB, tc.flags, 1460)) {
			t.Fatal("inject")
		}
		got, err := p.tunB.Receive(2 * time.Second)
		if err != nil {
			t.Fatalf("nothing came out: %v", err)
		}
		tcp := got[20:]
		if mss := binary.BigEndian.Uint16(tcp[22:]); mss != tc.want {
			t.Errorf("flags %#x: MSS %d, want %d", tc.flags, mss, tc.want)
		}
		if binary.BigEndian.Uint16(tcp[16:]) != tcpChecksum(hostA, hostB, tcp) {
			t.Errorf("flags %#x: TCP checksum wrong after clamping", tc.flags)
		}
		if a, b := p.a.Stats.TCPMSSClamped.Load(), p.b.Stats.TCPMSSClamped.Load(); a != 1 || b != 1 {
			t.Errorf("flags %#x: counted %d and %d, want 1 and 1", tc.flags, a, b)
		}
	}
	p.a.SetTCPMSS(0)
	p.tunA.Inject(tcpSYN(hostA, hostB, 0x02, 1460))
	if got, err := p.tunB.Receive(2 * time.Second); err != nil || binary.BigEndian.Uint16(got[42:]) != 1300 {
		t.Errorf("with A's clamping off, B alone: %v", err)
	}
	if a := p.a.Stats.TCPMSSClamped.Load(); a != 1 {
		t.Errorf("A counted with clamping off: %d", a)
	}
}

// TestTCPMSSPerSA: an SA's own tcp-mss (a service set's) clamps SYNs
// through it without the engine-wide setting, and the smaller of the two
// wins where both are set.
func TestTCPMSSPerSA(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		saOut, saIn, engineA int
		want                 uint16
		clampedA, clampedB   uint64
	}{
		{name: "outbound SA only", saOut: 1350, want: 1350, clampedA: 1},
		{name: "inbound SA only", saIn: 1320, want: 1320, clampedB: 1},
		{name: "engine lower than SA", saOut: 1350, engineA: 1300, want: 1300, clampedA: 1},
		{name: "SA lower than engine", saOut: 1280, engineA: 1400, want: 1280, clampedA: 1},
		{name: "SA above the SYN's MSS", saOut: 1500, want: 1460},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, pairOptions{saMSSOut: tc.saOut, saMSSIn: tc.saIn})
			p.a.SetTCPMSS(tc.engineA)
			if !p.tunA.Inject(tcpSYN(hostA, hostB, 0x02, 1460)) {
				t.Fatal("inject")
			}
			got, err := p.tunB.Receive(2 * time.Second)
			if err != nil {
				t.Fatalf("nothing came out: %v", err)
			}
			if mss := binary.BigEndian.Uint16(got[42:]); mss != tc.want {
				t.Errorf("MSS %d, want %d", mss, tc.want)
			}
			if binary.BigEndian.Uint16(got[36:]) != tcpChecksum(hostA, hostB, got[20:]) {
				t.Error("TCP checksum wrong after clamping")
			}
			if a, b := p.a.Stats.TCPMSSClamped.Load(), p.b.Stats.TCPMSSClamped.Load(); a != tc.clampedA || b != tc.clampedB {
				t.Errorf("counted %d and %d, want %d and %d", a, b, tc.clampedA, tc.clampedB)
			}
		})
	}
}
