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
