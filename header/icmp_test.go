package header

import (
	"bytes"
	"testing"
)

func TestICMPv6KnownChecksum(t *testing.T) {
	// Echo request id 0x1234 seq 1, 2001:db8::1 -> 2001:db8::2, by hand:
	// pseudo-header 2dba+2dbb+0008+003a = 5bb7; message 8000+1234+0001 =
	// 9235; total edec, complemented 1213.
	b := []byte{128, 0, 0x12, 0x13, 0x12, 0x34, 0x00, 0x01}
	m, ok := ParseICMPv6(b)
	if !ok {
		t.Fatal("ParseICMPv6 refused the known message")
	}
	if m.Type() != ICMPv6EchoRequest || m.Code() != 0 || m.Checksum() != 0x1213 || m.MTU() != 0x12340001 {
		t.Errorf("fields: type %d code %d checksum %#x word %#x", m.Type(), m.Code(), m.Checksum(), m.MTU())
	}
	if got := m.ComputeChecksum(hostA6, hostB6); got != 0x1213 {
		t.Errorf("ComputeChecksum = %#04x, want 0x1213", got)
	}
	if !m.ChecksumValid(hostA6, hostB6) || m.ChecksumValid(hostA6, gw6) {
		t.Error("ChecksumValid disagrees with the hand-computed checksum")
	}
}

func TestICMPv4KnownChecksum(t *testing.T) {
	// Echo request id 0x1234 seq 1: 0800+1234+0001 = 1a35, complemented e5ca.
	b := []byte{8, 0, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01}
	m, _ := ParseICMPv4(b)
	if got := m.ComputeChecksum(); got != 0xe5ca {
		t.Errorf("ComputeChecksum = %#04x, want 0xe5ca", got)
	}
	if !m.ChecksumValid() || m.Type() != ICMPv4EchoRequest || m.RestOfHeader() != 0x12340001 {
		t.Errorf("fields: valid %v type %d rest %#x", m.ChecksumValid(), m.Type(), m.RestOfHeader())
	}
}

func TestICMPRoundTrip(t *testing.T) {
	b := make([]byte, 8+11)
	copy(b[8:], pattern(11))
	m4, _ := ParseICMPv4(b)
	m4.SetType(ICMPv4DestinationUnreachable)
	m4.SetCode(ICMPv4FragmentationNeeded)
	m4.SetRestOfHeader(1400)
	m4.UpdateChecksum()
	p4, ok := ParseICMPv4(bytes.Clone(b))
	if !ok || p4.Type() != 3 || p4.Code() != 4 || p4.NextHopMTU() != 1400 || p4.RestOfHeader() != 1400 ||
		!bytes.Equal(p4.Payload(), pattern(11)) || !p4.ChecksumValid() {
		t.Errorf("ICMPv4 round trip: %d/%d mtu %d valid %v", p4.Type(), p4.Code(), p4.NextHopMTU(), p4.ChecksumValid())
	}
	m6, _ := ParseICMPv6(b)
	m6.SetType(ICMPv6PacketTooBig)
	m6.SetCode(0)
	m6.SetMTU(1280)
	m6.UpdateChecksum(gw6, hostA6)
	p6, ok := ParseICMPv6(bytes.Clone(b))
	if !ok || p6.Type() != 2 || p6.Code() != 0 || p6.MTU() != 1280 || !bytes.Equal(p6.Payload(), pattern(11)) ||
		!p6.ChecksumValid(gw6, hostA6) {
		t.Errorf("ICMPv6 round trip: %d/%d mtu %d", p6.Type(), p6.Code(), p6.MTU())
	}
	m6.SetChecksum(0)
	if p6 := ICMPv6(b); p6.Checksum() != 0 || p6.ChecksumValid(gw6, hostA6) {
		t.Error("SetChecksum(0) did not take or still verifies")
	}
}

func TestParseICMPEveryPrefixFails(t *testing.T) {
	b := []byte{3, 4, 0, 0, 0, 0, 5, 0x78}
	checkEveryPrefixFails(t, "ParseICMPv4", b, func(b []byte) bool { _, ok := ParseICMPv4(b); return ok })
	checkEveryPrefixFails(t, "ParseICMPv6", b, func(b []byte) bool { _, ok := ParseICMPv6(b); return ok })
}

func TestICMPErrorTypes(t *testing.T) {
	for ty, want := range map[uint8]bool{0: false, 3: true, 4: true, 5: true, 8: false, 11: true, 12: true, 13: false, 18: false, 40: true} {
		if got := icmpv4IsError(ty); got != want {
			t.Errorf("icmpv4IsError(%d) = %v, want %v", ty, got, want)
		}
	}
	for ty, want := range map[uint8]bool{1: true, 2: true, 127: true, 128: false, 135: false} {
		if got := icmpv6IsError(ty); got != want {
			t.Errorf("icmpv6IsError(%d) = %v, want %v", ty, got, want)
		}
	}
}

// FuzzICMP checks that both ICMP gates never panic and that a message
// checksummed by UpdateChecksum verifies.
func FuzzICMP(f *testing.F) {
	f.Add([]byte{128, 0, 0x12, 0x13, 0x12, 0x34, 0x00, 0x01})
	f.Add([]byte{3, 4, 0, 0, 0, 0, 5, 0x78, 0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := ParseICMPv4(bytes.Clone(b)); ok {
			_ = m.Type() + m.Code()
			_ = m.NextHopMTU()
			m.UpdateChecksum()
			if !m.ChecksumValid() || len(m.Payload()) != len(b)-ICMPHeaderSize {
				t.Fatalf("ICMPv4 % x: checksum does not verify after update", m)
			}
		}
		if m, ok := ParseICMPv6(bytes.Clone(b)); ok {
			m.UpdateChecksum(hostA6, gw6)
			if !m.ChecksumValid(hostA6, gw6) || m.MTU() != uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7]) {
				t.Fatalf("ICMPv6 % x: checksum or MTU wrong after update", m)
			}
		}
	})
}
