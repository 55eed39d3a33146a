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
func (sa *Inbound) Open(pkt []byte) (inner []byte, nextHeader byte, err error) {
	if len(pkt) < sa.headroom+sa.minBody+sa.icvLen {
		return nil, 0, ErrTruncated
	}
	if binary.BigEndian.Uint32(pkt[offSPI:]) != sa.spi {
		return nil, 0, ErrSPIMismatch
	}
	icvAt := len(pkt) - sa.icvLen
	body := pkt[sa.headroom:icvAt]
	if sa.block != nil && len(body)%sa.enc.BlockSize != 0 {
		return nil, 0, ErrDecryption
	}
	seq, ok := sa.window.Check(binary.BigEndian.Uint32(pkt[offSeq:]))
	if !ok {
		return nil, 0, ErrReplay
	}
	if !sa.verify(pkt, icvAt, seq) {
		return nil, 0, ErrAuthentication
	}
	if !sa.window.Accept(seq) {
		return nil, 0, ErrReplay
	}
	if sa.block != nil {
		cbcDecrypt(sa.block, pkt[headerLen:sa.headroom], body)
	}
	return splitTrailer(body)
}

// verify checks the ICV; for an AEAD it also decrypts body in place.
func (sa *Inbound) verify(pkt []byte, icvAt int, seq uint64) bool {
	w := sa.workSlots.get()
	var ok bool
	if sa.aead != nil {
		iv := pkt[headerLen:sa.headroom]
		sealed := pkt[sa.headroom:] // body || tag
		_, err := sa.aead.Open(sealed[:0], sa.nonce(w, iv), sealed, sa.aad(w, pkt, seq))
		ok = err == nil
	} else {
		want := sa.icv(w, pkt[:icvAt], seq)
		ok = subtle.ConstantTimeCompare(want, pkt[icvAt:]) == 1
	}
	sa.workSlots.put(w)
	return ok
}
