package ikev2

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"

	"ipsecgw/ike/wire"
)

// TestNATDetectionHash: known values, computed independently with
//
//	python3 -c 'import hashlib,ipaddress,struct; print(hashlib.sha1(
//	    struct.pack(">QQ", spii, spir) + ipaddress.ip_address(ip).packed
//	    + struct.pack(">H", port)).hexdigest())'
func TestNATDetectionHash(t *testing.T) {
	for _, tc := range []struct {
		spiI, spiR uint64
		ap         string
		want       string
	}{
		{0x0123456789abcdef, 0, "192.0.2.1:500", "9426429034924268452f8e3ff79fb69e2a8d71eb"},
		{0x0123456789abcdef, 0, "198.51.100.7:500", "d1c191beb7b4eff026ebd11b3e4a1832449ac4d0"},
		{0x0123456789abcdef, 0xfedcba9876543210, "[2001:db8::1]:4500", "9de8bfefaab479f0d5a5609a6de20595c6307502"},
		{0x0123456789abcdef, 0xfedcba9876543210, "203.0.113.9:61234", "9b85fd942566683c5fa5bd42219694e1420a97c9"},
		// A dual-stack socket reports an IPv4 peer as IPv4-mapped IPv6.
		{0x0123456789abcdef, 0, "[::ffff:192.0.2.1]:500", "9426429034924268452f8e3ff79fb69e2a8d71eb"},
	} {
		got := NATDetectionHash(tc.spiI, tc.spiR, netip.MustParseAddrPort(tc.ap))
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("%s: %x, want %s", tc.ap, got, tc.want)
		}
	}
	// The forced-NAT value is SHA-1 of the SPIs alone (python: hashlib.sha1(
	// struct.pack(">QQ", 0x0123456789abcdef, 0)).hexdigest()).
	fake := fakeNATDetectionHash(0x0123456789abcdef, 0)
	if hex.EncodeToString(fake[:]) != "776c83c5cd4b4d5b764721099479407d85a37937" {
		t.Errorf("fake hash %x", fake)
	}
}

func TestCheckNATDetection(t *testing.T) {
	const spiI, spiR = 0x0123456789abcdef, 0
	initiator := netip.MustParseAddrPort("10.0.0.2:500")   // behind a NAT
	public := netip.MustParseAddrPort("203.0.113.9:61234") // what the NAT made of it
	responder := netip.MustParseAddrPort("198.51.100.7:500")
	responderPrivate := netip.MustParseAddrPort("192.168.1.7:500") // a responder behind a port forward
	notifies := func(local, remote netip.AddrPort, force bool) []wire.Payload {
		s, d := NATDetectionNotifies(spiI, spiR, local, remote, force)
		return []wire.Payload{&wire.Nonce{}, s, d}
	}
	for _, tc := range []struct {
		name     string
		payloads []wire.Payload
		src, dst netip.AddrPort // as the responder's socket saw the packet
		want     NATStatus
	}{
		{"no NAT", notifies(initiator, responder, false), initiator, responder,
			NATStatus{Supported: true}},
		{"initiator behind NAT", notifies(initiator, responder, false), public, responder,
			NATStatus{Supported: true, RemoteBehindNAT: true}},
		{"responder behind NAT", notifies(initiator, responder, false), initiator, responderPrivate,
			NATStatus{Supported: true, LocalBehindNAT: true}},
		{"both", notifies(initiator, responder, false), public, responderPrivate,
			NATStatus{Supported: true, LocalBehindNAT: true, RemoteBehindNAT: true}},
		{"forced by the initiator", notifies(initiator, responder, true), initiator, responder,
			NATStatus{Supported: true, RemoteBehindNAT: true}},
		{"one of several sources matches", append(notifies(public, responder, false), notifies(initiator, responder, false)[1]),
			initiator, responder, NATStatus{Supported: true}},
		{"peer without NAT traversal", []wire.Payload{&wire.Nonce{}}, public, responder, NATStatus{}},
	} {
		got, err := CheckNATDetection(tc.payloads, spiI, spiR, tc.src, tc.dst)
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
		if got.Detected() != (tc.want.LocalBehindNAT || tc.want.RemoteBehindNAT) {
			t.Errorf("%s: Detected %v", tc.name, got.Detected())
		}
	}
	short := &wire.Notify{Type: wire.NAT_DETECTION_SOURCE_IP, Data: make([]byte, 19)}
	s, d := NATDetectionNotifies(spiI, spiR, initiator, responder, false)
	for name, ps := range map[string][]wire.Payload{
		"short digest":     {short, d},
		"source only":      {s},
		"destination only": {d},
	} {
		_, err := CheckNATDetection(ps, spiI, spiR, initiator, responder)
		if !errors.Is(err, wire.ErrInvalidSyntax) || NotifyFor(err) != wire.INVALID_SYNTAX {
			t.Errorf("%s: %v, want INVALID_SYNTAX", name, err)
		}
	}
	if s.Type != wire.NAT_DETECTION_SOURCE_IP || d.Type != wire.NAT_DETECTION_DESTINATION_IP ||
		s.Protocol != wire.ProtocolNone || len(s.SPI) != 0 || len(s.Data) != 20 {
		t.Errorf("notifications: %+v %+v", s, d)
	}
}
