package wire

import "fmt"

// Cutting a protected message into Encrypted Fragment payloads (RFC 7383
// §2.5). The inner payload chain, built once with AppendPayloads, is cut
// into pieces that each fit one IP datagram once sealed; each piece is
// padded and laid out in its own message with an SKF payload, to be sealed
// with the same recipe as an SK payload (see encrypted.go), one Regions
// each. Reassembly is package ike/fragment's.

// The IP datagram sizes RFC 7383 §2.5.1 recommends when the path MTU is
// not known: fragments that any IPv4 host must accept, and IPv6's minimum
// MTU.
const (
	FragmentDatagramIPv4 = 576
	FragmentDatagramIPv6 = 1280
)

// Header sizes around an IKE message on the wire.
const (
	ipv4HeaderLen   = 20 // without options
	ipv6HeaderLen   = 40 // without extension headers
	udpHeaderLen    = 8
	nonESPMarkerLen = 4 // RFC 3948 §2.2, on port 4500
)

// FragmentPath is what surrounds a fragment on its way to the peer.
type FragmentPath struct {
	IPv6 bool
	// NonESPMarker is set on port 4500 (NAT traversal), where each IKE
	// message follows four zero bytes.
	NonESPMarker bool
	// Datagram is the largest IP datagram to send, IP header included
	// (Junos's fragmentation size); zero means FragmentDatagramIPv4 or
	// FragmentDatagramIPv6.
	Datagram int
}

// datagram is the size in force.
func (p FragmentPath) datagram() int {
	switch {
	case p.Datagram > 0:
		return p.Datagram
	case p.IPv6:
		return FragmentDatagramIPv6
	}
	return FragmentDatagramIPv4
}

// overhead is what surrounds an IKE message in its datagram: the IP and
// UDP headers and, on port 4500, the non-ESP marker.
func (p FragmentPath) overhead() int {
	n := ipv4HeaderLen + udpHeaderLen
	if p.IPv6 {
		n = ipv6HeaderLen + udpHeaderLen
	}
	if p.NonESPMarker {
		n += nonESPMarkerLen
	}
	return n
}

// Fits reports whether an IKE message of n bytes fits in one datagram on
// path p: the IKE SA fragments a message only when it does not (RFC 7383
// §2.5).
func (p FragmentPath) Fits(n int) bool { return n+p.overhead() <= p.datagram() }

// FragmentContentSize is how many bytes of the inner chain one fragment
// carries on path p with the IKE SA's cipher sizes: the datagram less the
// IP and UDP headers, the non-ESP marker, the IKE header, the SKF header
// with its two fragment fields, the IV and the ICV, less Pad Length and
// the padding to a whole number of blocks (RFC 7383 §2.5.1).
func FragmentContentSize(p FragmentPath, c CipherSizes) (int, error) {
	if s := c.check(); s != "" {
		return 0, encodeError("%s", s)
	}
	room := p.datagram() - p.overhead() - HeaderLen - genericHeaderLen - fragmentFieldsLen - c.IV - c.ICV
	if c.Block > 1 {
		room -= room % c.Block
	}
	room-- // Pad Length
	if room < 1 {
		return 0, encodeError("a %d-byte datagram leaves no room for fragment contents (IV %d, ICV %d, block %d)",
			p.datagram(), c.IV, c.ICV, c.Block)
	}
	return room, nil
}

// Sealable is one message laid out for the IKE SA to seal: Regions points
// into Message.
type Sealable struct {
	Message []byte
	Regions Regions
}

// AppendFragments lays out the inner payloads as Encrypted Fragment
// payloads of at most size content bytes each (FragmentContentSize), one
// message each with m's header (Message ID, flags) and Total Fragments
// set. m may hold no clear payloads: IKEv2 fragments only messages that are
// all protected. A chain that fits in one fragment still gives one (the
// IKE SA decides whether to fragment at all by comparing the whole
// message with the path's datagram size).
func (m *Message) AppendFragments(inner []Payload, size int, c CipherSizes) ([]Sealable, error) {
	if len(m.Payloads) != 0 {
		return nil, encodeError("a fragmented message carries no clear payloads, got %d", len(m.Payloads))
	}
	if size < 1 {
		return nil, encodeError("fragment content size %d, want at least 1", size)
	}
	first, chain, err := AppendPayloads(nil, inner)
	if err != nil {
		return nil, err
	}
	return m.AppendChainFragments(first, chain, size, c)
}

// AppendChainFragments is AppendFragments for an inner payload chain
// already encoded (what the decrypted contents of an SK payload are, with
// the padding trimmed): first names its first payload.
func (m *Message) AppendChainFragments(first PayloadType, chain []byte, size int, c CipherSizes) ([]Sealable, error) {
	if len(m.Payloads) != 0 {
		return nil, encodeError("a fragmented message carries no clear payloads, got %d", len(m.Payloads))
	}
	if size < 1 {
		return nil, encodeError("fragment content size %d, want at least 1", size)
	}
	n := max(1, (len(chain)+size-1)/size)
	if n > maxFragments {
		return nil, encodeError("%d-byte message in %d-byte pieces needs %d fragments, more than Total Fragments can say",
			len(chain), size, n)
	}
	total := uint16(n)
	frags := make([]Sealable, 0, n)
	for i := range n {
		piece := chain[i*size : min((i+1)*size, len(chain))]
		out, r, err := m.AppendFragment(make([]byte, 0, HeaderLen+genericHeaderLen+fragmentFieldsLen+c.IV+len(piece)+c.Block+c.ICV),
			first, uint16(i+1), total, piece, c)
		if err != nil {
			return nil, fmt.Errorf("fragment %d of %d: %w", i+1, n, err)
		}
		frags = append(frags, Sealable{Message: out, Regions: r})
	}
	return frags, nil
}

// maxFragments is the most Total Fragments can say.
const maxFragments = 1<<16 - 1
