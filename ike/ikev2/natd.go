package ikev2

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"net/netip"

	"ipsecgw/ike/wire"
)

// NAT detection (RFC 7296 §2.23). Each side of IKE_SA_INIT sends
//
//	NAT_DETECTION_SOURCE_IP       SHA-1(SPIi | SPIr | source IP | source port)
//	NAT_DETECTION_DESTINATION_IP  SHA-1(SPIi | SPIr | destination IP | destination port)
//
// with the SPIs as the IKE header carries them (SPIr is zero in the
// request), the address in its 4 or 16 bytes and the port in network
// order. The receiver recomputes both from the packet as it arrived: a
// source that does not match means a NAT translated the sender's address
// (the peer is behind NAT); a destination that does not match means the
// receiver's own address was translated (this gateway is behind NAT).
// Either way both sides move to port 4500 and UDP-encapsulate ESP; the
// side behind the NAT also sends keepalives.

// NATDetectionHash is the notification data for one address and port.
// An IPv4-mapped IPv6 address (as a dual-stack socket reports an IPv4
// peer) is hashed as the IPv4 address it is, like the peer hashes it.
func NATDetectionHash(spiI, spiR uint64, ap netip.AddrPort) [sha1.Size]byte {
	h := sha1.New()
	var b [8 + 8 + 16 + 2]byte
	binary.BigEndian.PutUint64(b[0:], spiI)
	binary.BigEndian.PutUint64(b[8:], spiR)
	n := copy(b[16:], ap.Addr().Unmap().AsSlice())
	binary.BigEndian.PutUint16(b[16+n:], ap.Port())
	h.Write(b[:16+n+2])
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}

// fakeNATDetectionHash stands in for the source hash when NAT is forced:
// the digest of the SPIs alone, which no address and port give (their
// input is 14 or 26 bytes longer), so the peer always sees a translated
// source. strongSwan's encap=yes sends a random value to the same end.
func fakeNATDetectionHash(spiI, spiR uint64) [sha1.Size]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:], spiI)
	binary.BigEndian.PutUint64(b[8:], spiR)
	return sha1.Sum(b[:])
}

// NATDetectionNotifies returns the NAT_DETECTION_SOURCE_IP and
// NAT_DETECTION_DESTINATION_IP notifications of an IKE_SA_INIT message
// sent from local to remote, spiI and spiR being its header's SPIs.
// forceNAT sends a source hash no address matches, so the peer concludes
// this gateway is behind a NAT and both sides encapsulate ESP in UDP even
// without one (the seed's and strongSwan's encap=yes).
func NATDetectionNotifies(spiI, spiR uint64, local, remote netip.AddrPort, forceNAT bool) (source, destination *wire.Notify) {
	src := NATDetectionHash(spiI, spiR, local)
	if forceNAT {
		src = fakeNATDetectionHash(spiI, spiR)
	}
	dst := NATDetectionHash(spiI, spiR, remote)
	return &wire.Notify{Type: wire.NAT_DETECTION_SOURCE_IP, Data: src[:]},
		&wire.Notify{Type: wire.NAT_DETECTION_DESTINATION_IP, Data: dst[:]}
}

// NATStatus is what the peer's NAT detection notifications say.
type NATStatus struct {
	// Supported: the peer sent them. A peer that does not cannot do NAT
	// traversal, and both flags stay false.
	Supported bool
	// LocalBehindNAT: our address as the peer addressed it differs from
	// the address the packet arrived on. This side sends NAT keepalives.
	LocalBehindNAT bool
	// RemoteBehindNAT: the peer's address as it sent the packet differs
	// from the one it arrived from (or the peer forces encapsulation).
	RemoteBehindNAT bool
}

// Detected reports a NAT on either side: IKE moves to port 4500 and ESP
// is encapsulated in UDP (RFC 3948).
func (s NATStatus) Detected() bool { return s.LocalBehindNAT || s.RemoteBehindNAT }

// CheckNATDetection reads the NAT detection notifications among the
// payloads of a received IKE_SA_INIT message. spiI and spiR are its
// header's SPIs; src is where the packet came from and dst where it
// arrived, as the socket reports them. The sender may include several
// source notifications (one per address it might send from, §2.23); one
// match is enough. A notification whose data is not a SHA-1 digest, or
// one kind without the other, is an error wrapping wire.ErrInvalidSyntax.
func CheckNATDetection(payloads []wire.Payload, spiI, spiR uint64, src, dst netip.AddrPort) (NATStatus, error) {
	var s NATStatus
	var sources, destinations int
	srcMatch, dstMatch := false, false
	wantSrc := NATDetectionHash(spiI, spiR, src)
	wantDst := NATDetectionHash(spiI, spiR, dst)
	for _, p := range payloads {
		n, ok := p.(*wire.Notify)
		if !ok || n.Type != wire.NAT_DETECTION_SOURCE_IP && n.Type != wire.NAT_DETECTION_DESTINATION_IP {
			continue
		}
		if len(n.Data) != sha1.Size {
			return NATStatus{}, fmt.Errorf("%w: %v carries %d bytes, want a %d-byte SHA-1 digest",
				wire.ErrInvalidSyntax, n.Type, len(n.Data), sha1.Size)
		}
		if n.Type == wire.NAT_DETECTION_SOURCE_IP {
			sources++
			srcMatch = srcMatch || subtle.ConstantTimeCompare(n.Data, wantSrc[:]) == 1
		} else {
			destinations++
			dstMatch = dstMatch || subtle.ConstantTimeCompare(n.Data, wantDst[:]) == 1
		}
	}
	switch {
	case sources == 0 && destinations == 0:
		return s, nil
	case sources == 0 || destinations == 0:
		return NATStatus{}, fmt.Errorf("%w: %d NAT_DETECTION_SOURCE_IP and %d NAT_DETECTION_DESTINATION_IP notifications, want both kinds",
			wire.ErrInvalidSyntax, sources, destinations)
	}
	s.Supported = true
	s.RemoteBehindNAT = !srcMatch
	s.LocalBehindNAT = !dstMatch
	return s, nil
}
