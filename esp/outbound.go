package esp

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
)

// Outbound is the sending side of an SA.
type Outbound struct {
	*suite
	// seq is the last sequence number handed out; the first packet carries
	// 1 (RFC 4303 §3.3.3). It only grows, up to lastSeq.
	seq     atomic.Uint64
	lastSeq uint64
	// makeIV writes the explicit IV for a sequence number: the number
	// itself for an AEAD, cbcIV under a random key for CBC. Tests replace it
	// to reproduce published packets.
	makeIV func(iv []byte, seq uint64)
}

// NewOutbound builds the sending side of an SA.
func NewOutbound(cfg Config) (*Outbound, error) {
	s, err := newSuite(&cfg)
	if err != nil {
		return nil, err
	}
	sa := &Outbound{suite: s, lastSeq: 1<<32 - 1}
	if cfg.ESN {
		sa.lastSeq = 1<<64 - 1
	}
	if s.aead != nil {
		// RFC 4106 §3.1 and RFC 7634 §2: the IV must never repeat under a
		// key. The sequence number never repeats within this SA, but the
		// same key can drive two SAs: a manual SA uses one key in both
		// directions, and again after every restart, and each starts at
		// sequence 1. So the IV is the sequence number XOR a random mask
		// drawn per SA (the kernel's "seqiv" does the same): unique within
		// the SA, and a collision with another SA under the same key needs
		// two sequence numbers whose XOR equals the XOR of the masks, about
		// 2^-64 per packet pair. The peer needs nothing: the IV travels in
		// the packet.
		var mask [8]byte
		r := cfg.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return nil, fmt.Errorf("esp: SA 0x%08x: reading IV mask: %w", cfg.SPI, err)
		}
		m := binary.BigEndian.Uint64(mask[:])
		sa.makeIV = func(iv []byte, seq uint64) { binary.BigEndian.PutUint64(iv, seq^m) }
		return sa, nil
	}
	ivKey, err := newIVKey(&cfg)
	if err != nil {
		return nil, err
	}
	sa.makeIV = func(iv []byte, seq uint64) { cbcIV(ivKey, iv, seq) }
	return sa, nil
}

// newIVKey makes the secret block cipher of the CBC IV generator: the SA's
// own cipher under a fresh random key.
func newIVKey(cfg *Config) (cipher.Block, error) {
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	key := make([]byte, cfg.Encryption.KeySize())
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, fmt.Errorf("esp: SA 0x%08x: reading IV generator key: %w", cfg.SPI, err)
	}
	b, err := cfg.Encryption.NewBlock(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("esp: SA 0x%08x: IV generator: %w", cfg.SPI, err)
	}
	return b, nil
}

// Sequence returns the last sequence number used, 0 before the first
// packet. The data plane compares it with a soft limit to rekey in time.
func (sa *Outbound) Sequence() uint64 { return sa.seq.Load() }

// NextSequence reserves the next sequence number. Together with
// SealWithSequence it lets the data plane number packets in queue order and
// encrypt them in parallel. After the last number (2^32-1, or 2^64-1 with
// ESN) it returns ErrSequenceExhausted, forever.
func (sa *Outbound) NextSequence() (uint64, error) {
	for {
		cur := sa.seq.Load()
		if cur >= sa.lastSeq {
			return 0, ErrSequenceExhausted
		}
		if sa.seq.CompareAndSwap(cur, cur+1) {
			return cur + 1, nil
		}
	}
}

// Seal encapsulates an inner IP packet in place and returns the ESP packet.
//
// buf[off:] is the inner packet (the whole inner datagram). Seal writes the
// ESP header and IV into buf[off-Headroom():off], and padding, trailer and
// ICV after the inner packet, within cap(buf): the caller leaves at least
// Headroom() bytes before it and Tailroom() spare capacity after it, or gets
// ErrNoRoom. The result is buf[off-Headroom() : len(buf)+k] for the k
// bytes added at the tail; outer headers go in front of it. nextHeader is
// NextHeaderIPv4 or NextHeaderIPv6 (NextHeaderNone for a dummy packet).
func (sa *Outbound) Seal(buf []byte, off int, nextHeader byte) ([]byte, error) {
	if !sa.fits(buf, off) {
		return nil, ErrNoRoom
	}
	seq, err := sa.NextSequence()
	if err != nil {
		return nil, err
	}
	return sa.seal(seq, buf, off, nextHeader, nil), nil
}

// SealWithSequence is Seal with a sequence number from NextSequence. Each
// number must be sealed at most once: with an AEAD a repeated number
// repeats the nonce, which breaks the cipher's confidentiality and
// integrity for this key.
func (sa *Outbound) SealWithSequence(seq uint64, buf []byte, off int, nextHeader byte) ([]byte, error) {
	return sa.SealLeased(nil, seq, buf, off, nextHeader)
}

// Lease lends the SA's work area to the calling goroutine for a run of
// SealLeased calls (see Lease).
func (sa *Outbound) Lease() Lease { return sa.suite.lease() }

// SealLeased is SealWithSequence with the work area of l (nil, or a lease
// of another SA: one is taken for the call).
func (sa *Outbound) SealLeased(l *Lease, seq uint64, buf []byte, off int, nextHeader byte) ([]byte, error) {
	if err := sa.sealable(seq, buf, off); err != nil {
		return nil, err
	}
	return sa.seal(seq, buf, off, nextHeader, l.of(sa.suite)), nil
}

// sealable is what SealLeased and SealRun check before they seal: a
// sequence number in range and room in buf.
func (sa *Outbound) sealable(seq uint64, buf []byte, off int) error {
	if seq == 0 || seq > sa.lastSeq {
		return ErrSequenceOutOfRange
	}
	if !sa.fits(buf, off) {
		return ErrNoRoom
	}
	return nil
}

func (sa *Outbound) fits(buf []byte, off int) bool {
	if off < sa.headroom || off > len(buf) {
		return false
	}
	return cap(buf)-off >= bodyLen(len(buf)-off, sa.align)+sa.icvLen
}

// seal does the work once the buffer is known to fit, with work area w
// (nil: one from the SA's list).
func (sa *Outbound) seal(seq uint64, buf []byte, off int, nextHeader byte, w *work) []byte {
	pkt := sa.layout(buf, off, nextHeader)
	sa.encrypt(pkt, seq, w)
	return pkt
}

// layout returns the ESP packet around the inner packet at buf[off:]
// (header and IV in front, padding, trailer and ICV behind), with the
// trailer written: what encrypt, or SealRun, fills in.
func (sa *Outbound) layout(buf []byte, off int, nextHeader byte) []byte {
	n := len(buf) - off
	bl := bodyLen(n, sa.align)
	pkt := buf[off-sa.headroom : off+bl+sa.icvLen]
	writeTrailer(pkt[sa.headroom:sa.headroom+bl], n, nextHeader)
	return pkt
}

// encrypt fills in header, IV, ciphertext and ICV of pkt, whose body (the
// bytes between IV and ICV) already holds inner packet and trailer.
func (sa *Outbound) encrypt(pkt []byte, seq uint64, w *work) {
	iv := sa.writeHeader(pkt, seq)
	icvAt := len(pkt) - sa.icvLen
	// body's capacity ends at the ICV, so the AEAD appends its tag in place.
	body := pkt[sa.headroom:icvAt:len(pkt)]

	if w == nil {
		w = sa.workSlots.get()
		defer sa.workSlots.put(w)
	}
	if sa.aead != nil {
		sa.aead.Seal(body[:0], sa.nonce(w, iv), body, sa.aad(w, pkt, seq))
	} else {
		cbcEncrypt(sa.block, iv, body)
		copy(pkt[icvAt:], sa.icv(w, pkt[:icvAt], seq))
	}
}

// writeHeader writes SPI, sequence number and IV in front of pkt's body
// and returns the IV.
func (sa *Outbound) writeHeader(pkt []byte, seq uint64) (iv []byte) {
	binary.BigEndian.PutUint32(pkt[offSPI:], sa.spi)
	binary.BigEndian.PutUint32(pkt[offSeq:], uint32(seq))
	iv = pkt[headerLen:sa.headroom]
	sa.makeIV(iv, seq)
	return iv
}
