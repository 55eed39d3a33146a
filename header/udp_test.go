package header

import (
	"bytes"
	"testing"
)

func TestUDPKnownChecksumIPv4(t *testing.T) {
	// A NAT-keepalive, 192.0.2.1:4500 -> 198.51.100.2:4500, by hand:
	// pseudo-header c000+0201+c633+6402+0011+0009 = 1ec50; header and
	// data 1194+1194+0009+ff00 = 12231; total 30e81, folded 0e84,
	// complemented f17b.
	b := []byte{0x11, 0x94, 0x11, 0x94, 0x00, 0x09, 0xf1, 0x7b, 0xff}
	u, ok := ParseUDP(b)
	if !ok {
		t.Fatal("ParseUDP refused the known datagram")
	}
	if !u.ChecksumValid(hostA4, hostB4) {
		t.Error("ChecksumValid = false for the known datagram")
	}
	if got := u.ComputeChecksum(hostA4, hostB4); got != 0xf17b {
		t.Errorf("ComputeChecksum = %#04x, want 0xf17b", got)
	}
	if u.ChecksumValid(hostA4, gw4) {
		t.Error("ChecksumValid = true for the wrong destination")
	}
	if !IsNATKeepalive(u.Payload()) {
		t.Error("IsNATKeepalive = false for 0xff")
	}
}

func TestUDPKnownChecksumIPv6(t *testing.T) {
	// 2001:db8::1 -> 2001:db8::2, port 500 both ways, data "ike":
	// pseudo-header 2dba+2dbb+000b+0011 = 5b91; header and data
	// 01f4+01f4+000b+696b+6500 = d25e; total 12def, folded 2df0,
	// complemented d20f.
	b := []byte{0x01, 0xf4, 0x01, 0xf4, 0x00, 0x0b, 0xd2, 0x0f, 'i', 'k', 'e'}
	u, _ := ParseUDP(b)
	if got := u.ComputeChecksum(hostA6, hostB6); got != 0xd20f {
		t.Errorf("ComputeChecksum = %#04x, want 0xd20f", got)
	}
	if !u.ChecksumValid(hostA6, hostB6) {
		t.Error("ChecksumValid = false for the known datagram")
	}
}

func TestUDPZeroChecksum(t *testing.T) {
	u, _ := EncodeUDP(make([]byte, 12), UDPFields{SourcePort: 4500, DestinationPort: 4500, Length: 12})
	if !u.ChecksumValid(hostA4, hostB4) {
		t.Error("a zero checksum over IPv4 means none and must be accepted")
	}
	if u.ChecksumValid(hostA6, hostB6) {
		t.Error("a zero checksum over IPv6 must be refused")
	}
}

func TestUDPComputedZeroIsAllOnes(t *testing.T) {
	// Choose data so that the sum of everything else is 0xffff: then
	// the checksum computes to zero and must be sent as 0xffff.
	b := make([]byte, 10)
	u, _ := EncodeUDP(b, UDPFields{SourcePort: 1, DestinationPort: 2, Length: 10})
	rest := ^u.ComputeChecksum(hostA4, hostB4) // sum without the data word
	copy(b[8:], []byte{byte(^rest >> 8), byte(^rest)})
	if got := u.ComputeChecksum(hostA4, hostB4); got != 0xffff {
		t.Fatalf("ComputeChecksum = %#04x, want 0xffff for a zero sum", got)
	}
	u.UpdateChecksum(hostA4, hostB4)
	if u.Checksum() != 0xffff || !u.ChecksumValid(hostA4, hostB4) {
		t.Error("all-ones checksum does not verify")
	}
}

func TestUDPRoundTrip(t *testing.T) {
	data := pattern(13)
	b := append(make([]byte, UDPMinimumSize), data...)
	u, ok := EncodeUDP(b, UDPFields{SourcePort: 49152, DestinationPort: 4500, Length: uint16(len(b))})
	if !ok {
		t.Fatal("EncodeUDP refused")
	}
	u.UpdateChecksum(hostA6, hostB6)
	p, ok := ParseUDP(append(b, 0xee))
	if !ok {
		t.Fatal("ParseUDP refused what EncodeUDP wrote")
	}
	if p.SourcePort() != 49152 || p.DestinationPort() != 4500 || p.Length() != 21 || len(p) != 21 ||
		!bytes.Equal(p.Payload(), data) || !p.ChecksumValid(hostA6, hostB6) {
		t.Errorf("round trip: %d -> %d len %d view %d payload % x", p.SourcePort(), p.DestinationPort(), p.Length(), len(p), p.Payload())
	}
	p.SetSourcePort(1)
	p.SetDestinationPort(2)
	p.SetLength(8)
	p.SetChecksum(3)
	if p.SourcePort() != 1 || p.DestinationPort() != 2 || p.Length() != 8 || p.Checksum() != 3 {
		t.Error("UDP setters did not stick")
	}
}

func TestParseUDPEveryPrefixFails(t *testing.T) {
	b := udpSegment(t, hostA4, hostB4, 500, 500, pattern(5))
	checkEveryPrefixFails(t, "ParseUDP", b, func(b []byte) bool { _, ok := ParseUDP(b); return ok })
}

func TestUDPRefuses(t *testing.T) {
	if _, ok := ParseUDP([]byte{0, 1, 0, 2, 0, 7, 0, 0}); ok {
		t.Error("ParseUDP accepted Length 7")
	}
	if _, ok := EncodeUDP(make([]byte, 8), UDPFields{Length: 7}); ok {
		t.Error("EncodeUDP accepted Length 7")
	}
	if _, ok := EncodeUDP(make([]byte, 8), UDPFields{Length: 9}); ok {
		t.Error("EncodeUDP accepted Length past the buffer")
	}
}

// FuzzUDP checks that ParseUDP never panics and that its view and
// checksum agree with themselves.
func FuzzUDP(f *testing.F) {
	f.Add(udpSegment(f, hostA4, hostB4, 4500, 4500, []byte{0xff}))
	f.Add(udpSegment(f, hostA6, hostB6, 500, 500, []byte("ike")))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, ok := ParseUDP(b)
		if !ok {
			return
		}
		if len(u) != int(u.Length()) || len(u.Payload()) != len(u)-UDPMinimumSize {
			t.Fatalf("view %d octets for Length %d", len(u), u.Length())
		}
		c := bytes.Clone(u)
		UDP(c).UpdateChecksum(hostA6, hostB6)
		if !UDP(c).ChecksumValid(hostA6, hostB6) {
			t.Fatalf("UpdateChecksum then ChecksumValid failed for % x", c)
		}
	})
}
