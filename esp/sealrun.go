package esp

import "ipsecgw/esp/ipsecmb"

// Sealing is one packet of Outbound.SealRun: the caller's part (Seq, Buf,
// Off, NextHeader as SealLeased takes them), then SealRun's (Pkt or Err,
// as SealLeased returns them). It also holds the packet's nonce and AAD
// until the run is sealed, so a run needs no work area per packet; for
// that a slice of Sealings must be heap memory (make), which SealRun's
// use of ipsecmb.SealRun makes the compiler see to.
type Sealing struct {
	Seq        uint64
	Buf        []byte
	Off        int
	NextHeader byte

	Pkt []byte
	Err error

	nonce, aad [12]byte
}

// sealRunMax is how many packets SealRun and DecryptRun hand to ipsec-mb
// at once: as many as it takes in one call into C. The messages' array
// lives on their stack, and is zeroed on every call, so no larger.
const sealRunMax = 32

// SealRun seals a run of the SA's packets, each exactly as SealLeased
// would (same checks, same packet). With ipsec-mb's AES-GCM the whole run
// is sealed in one call into C per sealRunMax packets, which saves the
// call's cost per packet (ipsecmb.SealRun); otherwise it is SealLeased
// packet by packet with l.
func (sa *Outbound) SealRun(l *Lease, run []Sealing) {
	if !sa.sealRuns {
		for i := range run {
			p := &run[i]
			p.Pkt, p.Err = sa.SealLeased(l, p.Seq, p.Buf, p.Off, p.NextHeader)
		}
		return
	}
	var msgs [sealRunMax]ipsecmb.Message
	for lo := 0; lo < len(run); lo += sealRunMax {
		n := 0
		for i := lo; i < min(lo+sealRunMax, len(run)); i++ {
			p := &run[i]
			p.Pkt, p.Err = nil, nil
			switch {
			case p.Seq == 0 || p.Seq > sa.lastSeq:
				p.Err = ErrSequenceOutOfRange
				continue
			case !sa.fits(p.Buf, p.Off):
				p.Err = ErrNoRoom
				continue
			}
			bl := bodyLen(len(p.Buf)-p.Off, sa.align)
			pkt := p.Buf[p.Off-sa.headroom : p.Off+bl+sa.icvLen]
			writeTrailer(pkt[sa.headroom:sa.headroom+bl], len(p.Buf)-p.Off, p.NextHeader)
			iv := sa.writeHeader(pkt, p.Seq)
			copy(p.nonce[:], sa.salt[:sa.saltLen])
			k := copy(p.nonce[sa.saltLen:], iv)
			// Field by field: a composite literal is built on the stack
			// with word stores and copied with wider loads, which stall
			// (store forwarding fails); that was a third of SealRun's time.
			m := &msgs[n]
			// The body's capacity ends at the ICV, where the tag goes.
			m.Text = pkt[sa.headroom : sa.headroom+bl : len(pkt)]
			m.Nonce = p.nonce[:sa.saltLen+k]
			m.AAD = sa.aadIn(&p.aad, pkt, p.Seq)
			p.Pkt = pkt
			n++
		}
		ipsecmb.SealRun(sa.aead, msgs[:n])
	}
}
