package esp

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	"ipsecgw/esp/replay"
)

// Inbound is the receiving side of an SA.
type Inbound struct {
	*suite
	window *replay.Window
}

// NewInbound builds the receiving side of an SA.
func NewInbound(cfg Config) (*Inbound, error) {
	s, err := newSuite(&cfg)
	if err != nil {
		return nil, err
	}
	w, err := replay.New(replay.Config{Size: cfg.ReplayWindow, ESN: cfg.ESN, Disabled: cfg.NoAntiReplay})
	if err != nil {
		return nil, fmt.Errorf("esp: SA 0x%08x: %w", cfg.SPI, err)
	}
	return &Inbound{suite: s, window: w}, nil
}

// ReplayWindow returns the anti-replay window size, and whether anti-replay
// is enabled, for show commands.
func (sa *Inbound) ReplayWindow() (size int, enabled bool) {
	return sa.window.Size(), sa.window.Enabled()
}

// Sequence returns the highest sequence number received and authenticated.
func (sa *Inbound) Sequence() uint64 { return sa.window.Top() }

// Open decapsulates an ESP packet in place. pkt starts at the SPI and ends
// with the ICV (outer IP and UDP headers already removed). It returns the
// inner packet, a sub-slice of pkt, and its next header (NextHeaderIPv4 or
// NextHeaderIPv6). On error the packet is to be dropped and counted by the
// error's value; its bytes may have been overwritten.
//
// Open is Check, Decrypt and Accept in a row. A data plane that decrypts
// on several cores calls them itself: Check in arrival order, Decrypt on
// any core, Accept in arrival order again, so the replay window moves only
// for authenticated packets, as RFC 4303 §3.4.3 asks.
func (sa *Inbound) Open(pkt []byte) (inner []byte, nextHeader byte, err error) {
	seq, err := sa.Check(pkt)
	if err != nil {
		return nil, 0, err
	}
	inner, nextHeader, err = sa.Decrypt(pkt, seq)
	if err == ErrAuthentication {
		return nil, 0, err
	}
	if !sa.Accept(seq) {
		return nil, 0, ErrReplay
	}
	return inner, nextHeader, err
}

// Check is what Open does before the ICV: length, SPI, block alignment and
// the replay pre-check. It returns the full sequence number (with ESN, the
// inferred high half) that Decrypt and Accept take.
func (sa *Inbound) Check(pkt []byte) (seq uint64, err error) {
	if len(pkt) < sa.headroom+sa.minBody+sa.icvLen {
		return 0, ErrTruncated
	}
	if binary.BigEndian.Uint32(pkt[offSPI:]) != sa.spi {
		return 0, ErrSPIMismatch
	}
	if sa.block != nil && (len(pkt)-sa.headroom-sa.icvLen)%sa.enc.BlockSize != 0 {
		return 0, ErrDecryption
	}
	seq, ok := sa.window.Check(binary.BigEndian.Uint32(pkt[offSeq:]))
	if !ok {
		return 0, ErrReplay
	}
	return seq, nil
}

// Decrypt verifies the ICV of a packet that passed Check, decrypts it in
// place and takes the trailer apart. It touches no shared state, so any
// number of cores may run it at once on packets of one SA. With
// ErrAuthentication the packet is not authentic and must not reach
// Accept; with any other error it is authentic but malformed, and Accept
// still records it (as Open does). pkt must be what Check saw.
func (sa *Inbound) Decrypt(pkt []byte, seq uint64) (inner []byte, nextHeader byte, err error) {
	return sa.DecryptLeased(nil, pkt, seq)
}

// Lease lends the SA's work area to the calling goroutine for a run of
// DecryptLeased calls (see Lease).
func (sa *Inbound) Lease() Lease { return sa.suite.lease() }

// DecryptLeased is Decrypt with the work area of l (nil, or a lease of
// another SA: one is taken for the call).
func (sa *Inbound) DecryptLeased(l *Lease, pkt []byte, seq uint64) (inner []byte, nextHeader byte, err error) {
	w := l.of(sa.suite)
	if w == nil {
		w = sa.workSlots.get()
		defer sa.workSlots.put(w)
	}
	icvAt := len(pkt) - sa.icvLen
	if sa.aead != nil {
		// Here rather than in verifyICV: one call fewer per packet on the
		// path every AES-GCM packet takes.
		sealed := pkt[sa.headroom:] // body || tag
		if _, err := sa.aead.Open(sealed[:0], sa.nonce(w, pkt[headerLen:sa.headroom]), sealed, sa.aad(w, pkt, seq)); err != nil {
			return nil, 0, ErrAuthentication
		}
		return splitTrailer(pkt[sa.headroom:icvAt])
	}
	if !sa.verifyICV(pkt, icvAt, seq, w) {
		return nil, 0, ErrAuthentication
	}
	body := pkt[sa.headroom:icvAt]
	cbcDecrypt(sa.block, pkt[headerLen:sa.headroom], body)
	return splitTrailer(body)
}

// Accept records an authenticated sequence number in the replay window;
// false means it is a replay after all (a copy accepted since Check).
// Called in arrival order, it keeps the window exactly as sequential Opens
// would.
func (sa *Inbound) Accept(seq uint64) bool { return sa.window.Accept(seq) }

// AcceptRun is Accept for the authenticated sequence numbers of a run
// of the SA's packets, in arrival order, for a data plane that finishes
// packets in batches: ok[i] is Accept(seqs[i])'s answer; the window's
// lock is taken once for the run instead of once per packet.
func (sa *Inbound) AcceptRun(seqs []uint64, ok []bool) { sa.window.AcceptRun(seqs, ok) }

// LastReplay returns the last packet the anti-replay window refused
// (counted as a replay error); false if none was.
func (sa *Inbound) LastReplay() (replay.Refusal, bool) { return sa.window.LastRefused() }

// ReplayRefusals counts the packets the anti-replay window refused (the
// replay errors) by why: duplicate, late or invalid, before or after the
// ICV.
func (sa *Inbound) ReplayRefusals() replay.Refusals { return sa.window.Refusals() }

// verifyICV checks the HMAC ICV of a CBC SA's packet.
func (sa *Inbound) verifyICV(pkt []byte, icvAt int, seq uint64, w *work) bool {
	want := sa.icv(w, pkt[:icvAt], seq)
	return subtle.ConstantTimeCompare(want, pkt[icvAt:]) == 1
}
