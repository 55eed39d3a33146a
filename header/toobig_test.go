package header

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

func TestBuildFragmentationNeeded(t *testing.T) {
	inv := udp4Packet(t, 40000, 53, pattern(1472))
	inv.SetDontFragment(true)
	inv.UpdateChecksum()
	dst := make([]byte, 1500)
	pkt, err := BuildFragmentationNeeded(dst, inv, gw4, 1400)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ParseIPv4(dst); !ok || len(p) != len(pkt) {
		t.Fatal("the message does not parse as an IPv4 packet of its own length")
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"TotalLength", pkt.TotalLength(), uint16(576)}, // RFC 1812 §4.3.2.3 limit
		{"Source", pkt.Source(), gw4},
		{"Destination", pkt.Destination(), hostA4},
		{"Protocol", pkt.Protocol(), IPProtoICMP},
		{"TTL", pkt.TTL(), uint8(64)},
		{"TOS", pkt.TOS(), uint8(0xc0)},
		{"DontFragment", pkt.DontFragment(), true},
		{"IsFragment", pkt.IsFragment(), false},
		{"HeaderChecksumValid", pkt.ChecksumValid(), true},
	} {
		if c.got != c.want {
			t.Errorf("IP %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	m, ok := ParseICMPv4(pkt.Payload())
	if !ok {
		t.Fatal("no ICMP header")
	}
	if m.Type() != 3 || m.Code() != 4 || m.NextHopMTU() != 1400 || m.RestOfHeader()>>16 != 0 {
		t.Errorf("ICMP type %d code %d MTU %d unused %#x; want 3, 4, 1400, 0", m.Type(), m.Code(), m.NextHopMTU(), m.RestOfHeader()>>16)
	}
	if !m.ChecksumValid() {
		t.Error("ICMP checksum does not verify")
	}
	if !bytes.Equal(m.Payload(), inv[:576-28]) {
		t.Error("the quote is not the first 548 octets of the invoking packet")
	}
}

func TestBuildFragmentationNeededQuoteLimits(t *testing.T) {
	small := udp4Packet(t, 1, 2, pattern(3)) // 31 octets: quoted whole
	pkt, err := BuildFragmentationNeeded(make([]byte, 100), small, gw4, 576)
	if err != nil || !bytes.Equal(ICMPv4(pkt.Payload()).Payload(), small) {
		t.Fatalf("small invoking packet: %v, quote not whole", err)
	}
	big := udp4Packet(t, 1, 2, pattern(100))
	// Room for the header and 8 octets of data only.
	pkt, err = BuildFragmentationNeeded(make([]byte, 28+28), big, gw4, 576)
	if err != nil || len(pkt) != 56 {
		t.Fatalf("minimum quote: %v, length %d, want 56", err, len(pkt))
	}
	if _, err := BuildFragmentationNeeded(make([]byte, 28+27), big, gw4, 576); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("quote below header+8: %v, want ErrShortBuffer", err)
	}
}

func TestBuildFragmentationNeededRefuses(t *testing.T) {
	mk := func(f IPv4Fields, payload []byte) IPv4 {
		if f.Protocol == 0 {
			f.Protocol = IPProtoUDP
		}
		if !f.Source.IsValid() {
			f.Source = hostA4
		}
		if !f.Destination.IsValid() {
			f.Destination = hostB4
		}
		f.TTL = 64
		return ipv4Packet(t, f, payload)
	}
	echo := []byte{ICMPv4EchoRequest, 0, 0, 0, 0, 0, 0, 0}
	unreach := []byte{ICMPv4DestinationUnreachable, 1, 0, 0, 0, 0, 0, 0}
	good := mk(IPv4Fields{}, pattern(20))
	for _, c := range []struct {
		name string
		inv  IPv4
		from netip.Addr
		mtu  int
		want error
	}{
		{"ICMP error", mk(IPv4Fields{Protocol: IPProtoICMP}, unreach), gw4, 576, ErrAboutICMPError},
		{"empty ICMP", mk(IPv4Fields{Protocol: IPProtoICMP}, nil), gw4, 576, ErrAboutICMPError},
		{"non-first fragment", mk(IPv4Fields{FragmentOffset: 8}, pattern(20)), gw4, 576, ErrAboutFragment},
		{"unspecified source", mk(IPv4Fields{Source: netip.IPv4Unspecified()}, nil), gw4, 576, ErrSourceNotUnicast},
		{"loopback source", mk(IPv4Fields{Source: netip.MustParseAddr("127.0.0.1")}, nil), gw4, 576, ErrSourceNotUnicast},
		{"multicast source", mk(IPv4Fields{Source: netip.MustParseAddr("224.0.0.5")}, nil), gw4, 576, ErrSourceNotUnicast},
		{"broadcast source", mk(IPv4Fields{Source: netip.MustParseAddr("255.255.255.255")}, nil), gw4, 576, ErrSourceNotUnicast},
		{"multicast destination", mk(IPv4Fields{Destination: netip.MustParseAddr("239.1.1.1")}, nil), gw4, 576, ErrDestNotUnicast},
		{"broadcast destination", mk(IPv4Fields{Destination: netip.MustParseAddr("255.255.255.255")}, nil), gw4, 576, ErrDestNotUnicast},
		{"IPv6 from", good, gw6, 576, ErrFromAddressFamily},
		{"MTU 67", good, gw4, 67, ErrMTUOutOfRange},
		{"MTU 65536", good, gw4, 65536, ErrMTUOutOfRange},
	} {
		if _, err := BuildFragmentationNeeded(make([]byte, 576), c.inv, c.from, c.mtu); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// An echo request and a first fragment are answered.
	for _, inv := range []IPv4{mk(IPv4Fields{Protocol: IPProtoICMP}, echo), mk(IPv4Fields{MoreFragments: true}, pattern(16))} {
		if _, err := BuildFragmentationNeeded(make([]byte, 576), inv, gw4, 576); err != nil {
			t.Errorf("proto %d MF %v: %v, want a message", inv.Protocol(), inv.MoreFragments(), err)
		}
	}
}

func TestBuildPacketTooBig(t *testing.T) {
	inv := udp6Packet(t, 40000, 443, pattern(1452)) // 1500 octets
	dst := make([]byte, 1500)
	pkt, err := BuildPacketTooBig(dst, inv, gw6, 1400)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ParseIPv6(dst); !ok || len(p) != len(pkt) {
		t.Fatal("the message does not parse as an IPv6 packet of its own length")
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"length", len(pkt), 1280}, // RFC 4443 §3.2: no more than the minimum MTU
		{"PayloadLength", pkt.PayloadLength(), uint16(1240)},
		{"Source", pkt.Source(), gw6},
		{"Destination", pkt.Destination(), hostA6},
		{"NextHeader", pkt.NextHeader(), IPProtoICMPv6},
		{"HopLimit", pkt.HopLimit(), uint8(64)},
		{"TrafficClass", pkt.TrafficClass(), uint8(0xc0)},
		{"FlowLabel", pkt.FlowLabel(), uint32(0)},
	} {
		if c.got != c.want {
			t.Errorf("IPv6 %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	m, ok := ParseICMPv6(pkt.Payload())
	if !ok {
		t.Fatal("no ICMPv6 header")
	}
	if m.Type() != ICMPv6PacketTooBig || m.Code() != 0 || m.MTU() != 1400 {
		t.Errorf("ICMPv6 type %d code %d MTU %d; want 2, 0, 1400", m.Type(), m.Code(), m.MTU())
	}
	if !m.ChecksumValid(gw6, hostA6) {
		t.Error("ICMPv6 checksum does not verify")
	}
	if !bytes.Equal(m.Payload(), inv[:1232]) {
		t.Error("the quote is not the first 1232 octets of the invoking packet")
	}
	// A short invoking packet is quoted whole.
	small := udp6Packet(t, 1, 2, nil)
	pkt, err = BuildPacketTooBig(dst, small, gw6, 1280)
	if err != nil || !bytes.Equal(ICMPv6(pkt.Payload()).Payload(), small) {
		t.Errorf("short invoking packet: %v, quote not whole", err)
	}
}

func TestBuildPacketTooBigRefuses(t *testing.T) {
	mk := func(src, dst netip.Addr, next uint8, payload []byte) IPv6 {
		return ipv6Packet(t, IPv6Fields{NextHeader: next, HopLimit: 64, Source: src, Destination: dst}, payload)
	}
	errMsg := []byte{ICMPv6DestinationUnreachable, 0, 0, 0, 0, 0, 0, 0}
	// The ICMPv6 error hides behind a Destination Options header.
	behindOpts := append([]byte{IPProtoICMPv6, 0, 1, 4, 0, 0, 0, 0}, errMsg...)
	good := mk(hostA6, hostB6, IPProtoUDP, pattern(8))
	for _, c := range []struct {
		name string
		inv  IPv6
		from netip.Addr
		mtu  int
		dst  int
		want error
	}{
		{"ICMPv6 error", mk(hostA6, hostB6, IPProtoICMPv6, errMsg), gw6, 1280, 1280, ErrAboutICMPError},
		{"ICMPv6 error behind options", mk(hostA6, hostB6, IPProtoDestOpts, behindOpts), gw6, 1280, 1280, ErrAboutICMPError},
		{"empty ICMPv6", mk(hostA6, hostB6, IPProtoICMPv6, nil), gw6, 1280, 1280, ErrAboutICMPError},
		{"unspecified source", mk(netip.IPv6Unspecified(), hostB6, IPProtoUDP, nil), gw6, 1280, 1280, ErrSourceNotUnicast},
		{"loopback source", mk(netip.IPv6Loopback(), hostB6, IPProtoUDP, nil), gw6, 1280, 1280, ErrSourceNotUnicast},
		{"multicast source", mk(netip.MustParseAddr("ff02::1"), hostB6, IPProtoUDP, nil), gw6, 1280, 1280, ErrSourceNotUnicast},
		{"IPv4 from", good, gw4, 1280, 1280, ErrFromAddressFamily},
		{"MTU 1279", good, gw6, 1279, 1280, ErrMTUOutOfRange},
		{"dst below header+40", good, gw6, 1280, 48 + 39, ErrShortBuffer},
	} {
		if _, err := BuildPacketTooBig(make([]byte, c.dst), c.inv, c.from, c.mtu); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Packet Too Big goes to multicast senders too (RFC 4443 §2.4 e.2),
	// and answers an echo request.
	for _, inv := range []IPv6{
		mk(hostA6, netip.MustParseAddr("ff0e::1"), IPProtoUDP, pattern(8)),
		mk(hostA6, hostB6, IPProtoICMPv6, []byte{ICMPv6EchoRequest, 0, 0, 0, 0, 0, 0, 0}),
	} {
		if _, err := BuildPacketTooBig(make([]byte, 1280), inv, gw6, 1280); err != nil {
			t.Errorf("to %v next %d: %v, want a message", inv.Destination(), inv.NextHeader(), err)
		}
	}
}

// FuzzTooBig builds both ICMP messages about whatever the IP gates
// accept, and checks the messages parse and their checksums verify.
func FuzzTooBig(f *testing.F) {
	f.Add([]byte(udp4Packet(f, 1, 2, pattern(30))))
	f.Add([]byte(udp6Packet(f, 1, 2, pattern(30))))
	f.Add([]byte(ipv6Packet(f, IPv6Fields{NextHeader: IPProtoFragment, Source: hostA6, Destination: hostB6},
		[]byte{IPProtoICMPv6, 0, 0, 9, 0, 0, 0, 1, 1, 2, 3})))
	f.Fuzz(func(t *testing.T, b []byte) {
		dst := make([]byte, 1500)
		if inv, ok := ParseIPv4(b); ok {
			if pkt, err := BuildFragmentationNeeded(dst, inv, gw4, 1400); err == nil {
				m, ok := ParseICMPv4(pkt.Payload())
				if !pkt.ChecksumValid() || !ok || !m.ChecksumValid() || pkt.Destination() != inv.Source() || len(pkt) > 576 {
					t.Fatalf("bad Fragmentation Needed\n% x", pkt)
				}
			}
		}
		if inv, ok := ParseIPv6(b); ok {
			if pkt, err := BuildPacketTooBig(dst, inv, gw6, 1400); err == nil {
				m, ok := ParseICMPv6(pkt.Payload())
				if !ok || !m.ChecksumValid(gw6, inv.Source()) || m.MTU() != 1400 || len(pkt) > IPv6MinimumMTU {
					t.Fatalf("bad Packet Too Big\n% x", pkt)
				}
			}
		}
	})
}
