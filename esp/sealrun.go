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
			p.Pkt = nil
			if p.Err = sa.sealable(p.Seq, p.Buf, p.Off); p.Err != nil {
				continue
			}
			pkt := sa.layout(p.Buf, p.Off, p.NextHeader)
			iv := sa.writeHeader(pkt, p.Seq)
			// Field by field: a composite literal is built on the stack
			// with word stores and copied with wider loads, which stall
			// (store forwarding fails); that was a third of SealRun's time.
			m := &msgs[n]
			// The body's capacity ends at the ICV, where the tag goes.
			m.Text = pkt[sa.headroom : len(pkt)-sa.icvLen : len(pkt)]
			m.Nonce = sa.nonceIn(&p.nonce, iv)
			m.AAD = sa.aadIn(&p.aad, pkt, p.Seq)
			p.Pkt = pkt
			n++
		}
		ipsecmb.SealRun(sa.aead, msgs[:n])
	}
}
