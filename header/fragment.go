package header

import (
	"encoding/binary"
	"errors"
)

// IPv4 fragmentation, RFC 791 §2.3 and §3.2, for the tunnel-MTU check of
// the outbound path: an inner packet too big for the tunnel, with DF
// clear, is split before ESP so that each fragment travels in its own ESP
// packet and the inner destination reassembles.
//
// Every fragment carries a copy of the original header with its own Total
// Length, MF flag, offset and checksum. The first fragment keeps all the
// options; later ones keep only those whose copied flag (the high bit of
// the option type) is set, padded with End of Option List to a whole word.
// Each fragment but the last carries a multiple of 8 data octets, as the
// offset field counts 8-octet units.

// Errors of NewIPv4Fragmenter and IPv4Fragmenter.Next. They are sentinel
// values so the data plane can count each reason without allocating.
var (
	ErrDontFragment    = errors.New("header: IPv4 packet exceeds the MTU and has DF set; expected DF clear (send ICMP fragmentation needed instead)")
	ErrMTUTooSmall     = errors.New("header: MTU too small for the IPv4 header plus 8 octets of data; expected at least header length + 8")
	ErrBadIPv4Options  = errors.New("header: IPv4 options malformed (an option runs past the header or has length below 2); expected well-formed options")
	ErrFragmentTooLong = errors.New("header: IPv4 fragment offset plus length exceeds 65535 octets; expected a datagram that reassembles within 65535")
	ErrShortBuffer     = errors.New("header: destination buffer too short for the packet to write")
	ErrNoMoreFragments = errors.New("header: all fragments already written")
)

// IPv4 option types whose handling fragmentation depends on (RFC 791).
const (
	ipv4OptionEOL        = 0    // end of option list
	ipv4OptionNOP        = 1    // no operation
	ipv4OptionCopiedFlag = 0x80 // copy the option into every fragment
)

// IPv4Fragmenter writes the fragments of one IPv4 packet, one per Next
// call, into buffers the caller provides. It holds no buffers of its own
// and allocates nothing; the packet it splits must stay unchanged, and
// no buffer given to Next may overlap it, until the last fragment is
// written. The zero value has nothing to write.
type IPv4Fragmenter struct {
	pkt IPv4
	mtu int

	// whole is set when the packet fits the MTU: its one fragment is an
	// exact copy, DF and all.
	whole bool

	// copied holds the options later fragments carry, padded to a whole
	// number of words; copiedLen is that padded length.
	copied    [ipv4MaximumOptions]byte
	copiedLen int

	// sent counts the payload octets already written. baseOffset is the
	// original packet's own fragment offset (non-zero when it is itself
	// a fragment) and lastMF its MF flag, which the last fragment
	// inherits, so re-fragmenting a fragment stays correct.
	sent       int
	baseOffset int
	lastMF     bool

	// pending is set while a fragment remains to be written.
	pending bool
}

// NewIPv4Fragmenter prepares to split pkt into fragments of at most mtu
// octets. A packet that already fits yields one fragment, an exact copy.
// It refuses a packet that needs splitting but has DF set
// (ErrDontFragment: the caller owes the sender an ICMP Fragmentation
// Needed), an MTU that cannot carry the header and 8 octets of data
// (ErrMTUTooSmall), malformed options (ErrBadIPv4Options) and a fragment
// whose offset and length reach past 65535 octets (ErrFragmentTooLong).
func NewIPv4Fragmenter(pkt IPv4, mtu int) (IPv4Fragmenter, error) {
	mtu = min(mtu, IPv4MaximumSize)
	if len(pkt) <= mtu {
		return IPv4Fragmenter{pkt: pkt, mtu: mtu, whole: true, pending: true}, nil
	}
	hlen := pkt.HeaderLength()
	switch {
	case pkt.DontFragment():
		return IPv4Fragmenter{}, ErrDontFragment
	case mtu < hlen+ipv4FragmentUnit:
		return IPv4Fragmenter{}, ErrMTUTooSmall
	case pkt.FragmentOffset()+len(pkt) > IPv4MaximumSize:
		// The reassembled datagram (this fragment's header, data
		// before it and its own data) would not fit Total Length.
		return IPv4Fragmenter{}, ErrFragmentTooLong
	}
	f := IPv4Fragmenter{
		pkt:        pkt,
		mtu:        mtu,
		baseOffset: pkt.FragmentOffset(),
		lastMF:     pkt.MoreFragments(),
		pending:    true,
	}
	n, ok := copiedOptions(f.copied[:], pkt.Options())
	if !ok {
		return IPv4Fragmenter{}, ErrBadIPv4Options
	}
	f.copiedLen = n
	return f, nil
}

// copiedOptions writes into dst the options of opts whose copied flag is
// set, padded with zeros (End of Option List) to a multiple of 4, and
// returns the padded length. It reports false on malformed options. dst
// must be at least as long as opts.
func copiedOptions(dst, opts []byte) (int, bool) {
	n := 0
	for i := 0; i < len(opts); {
		switch opts[i] {
		case ipv4OptionEOL:
			i = len(opts)
			continue
		case ipv4OptionNOP:
			i++
			continue
		}
		if i+1 >= len(opts) {
			return 0, false
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			return 0, false
		}
		if opts[i]&ipv4OptionCopiedFlag != 0 {
			n += copy(dst[n:], opts[i:i+l])
		}
		i += l
	}
	padded := (n + 3) &^ 3
	clear(dst[n:padded])
	return padded, true
}

// More reports whether a fragment remains to be written.
func (f *IPv4Fragmenter) More() bool { return f.pending }

// NextLength returns the length of the fragment Next will write, or 0
// when none remains.
func (f *IPv4Fragmenter) NextLength() int {
	if !f.pending {
		return 0
	}
	hlen, data, _ := f.next()
	return hlen + data
}

// Count returns how many fragments remain to be written.
func (f *IPv4Fragmenter) Count() int {
	g := *f
	n := 0
	for g.pending {
		_, data, last := g.next()
		g.sent += data
		g.pending = !last
		n++
	}
	return n
}

// next returns the header and data lengths of the next fragment and
// whether it is the last. Unless the packet is whole, every fragment but
// the last carries a non-zero multiple of 8 data octets (the MTU check in
// NewIPv4Fragmenter guarantees room for 8 after the longest header), so
// each call makes progress and the last one carries what is left.
func (f *IPv4Fragmenter) next() (hlen, data int, last bool) {
	hlen = f.pkt.HeaderLength()
	remaining := len(f.pkt) - hlen - f.sent
	if f.whole {
		return hlen, remaining, true
	}
	if f.sent > 0 {
		hlen = IPv4MinimumSize + f.copiedLen
	}
	if hlen+remaining <= f.mtu {
		return hlen, remaining, true
	}
	return hlen, (f.mtu - hlen) &^ (ipv4FragmentUnit - 1), false
}

// Next writes the next fragment at the start of dst and returns it as a
// view of dst. It fails with ErrShortBuffer when dst is shorter than
// NextLength, and with ErrNoMoreFragments once the last one is written.
func (f *IPv4Fragmenter) Next(dst []byte) (IPv4, error) {
	if !f.pending {
		return nil, ErrNoMoreFragments
	}
	hlen, data, last := f.next()
	if len(dst) < hlen+data {
		return nil, ErrShortBuffer
	}
	frag := IPv4(dst[:hlen+data])
	if f.whole {
		copy(frag, f.pkt)
		f.pending = false
		return frag, nil
	}
	copy(frag[:IPv4MinimumSize], f.pkt)
	if f.sent == 0 {
		copy(frag[IPv4MinimumSize:hlen], f.pkt.Options())
	} else {
		copy(frag[IPv4MinimumSize:hlen], f.copied[:f.copiedLen])
	}
	copy(frag[hlen:], f.pkt.Payload()[f.sent:f.sent+data])

	frag[ipv4VersionIHL] = ipv4Version<<4 | uint8(hlen/4)
	binary.BigEndian.PutUint16(frag[ipv4TotalLength:], uint16(hlen+data))
	frag.setFlagsOffset(false, f.lastMF || !last, f.baseOffset+f.sent)
	frag.UpdateChecksum()

	f.sent += data
	f.pending = !last
	return frag, nil
}
