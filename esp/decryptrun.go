package esp

import "ipsecgw/esp/ipsecmb"

// Opening is one packet of Inbound.DecryptRun: the caller's part (Pkt
// and Seq as DecryptLeased takes them, and Dst as DecryptLeasedTo does,
// or nil to decrypt in place), then DecryptRun's (what they return). It
// holds the packet's nonce and AAD until the run is opened; a slice of
// Openings must be heap memory (make), as a Sealing's.
type Opening struct {
	Pkt []byte
	Seq uint64
	Dst []byte

	Inner      []byte
	NextHeader byte
	Err        error

	nonce, aad [12]byte
}

// DecryptRun decrypts a run of the SA's packets that passed Check, each
// exactly as DecryptLeased (Dst nil) or DecryptLeasedTo would, with the
// same errors. With ipsec-mb's AES-GCM the run is opened in one call into
// C per sealRunMax packets (ipsecmb.OpenRun); otherwise packet by packet
// with l.
func (sa *Inbound) DecryptRun(l *Lease, run []Opening) {
	if !sa.sealRuns {
		for i := range run {
			p := &run[i]
			if p.Dst == nil {
				p.Inner, p.NextHeader, p.Err = sa.DecryptLeased(l, p.Pkt, p.Seq)
			} else {
				p.Inner, p.NextHeader, p.Err = sa.DecryptLeasedTo(l, p.Pkt, p.Seq, p.Dst)
			}
		}
		return
	}
	var msgs [sealRunMax]ipsecmb.Message
	for lo := 0; lo < len(run); lo += sealRunMax {
		hi := min(lo+sealRunMax, len(run))
		for i := lo; i < hi; i++ {
			p := &run[i]
			if p.Dst != nil {
				if body := len(p.Pkt) - sa.headroom - sa.icvLen; body < 0 || len(p.Dst) < body {
					// DecryptLeasedTo's ErrTruncated, below; OpenRun
					// refuses a text too short for its tag untouched.
					m := &msgs[i-lo]
					m.Text, m.Out, m.Nonce, m.AAD = nil, nil, p.nonce[:], nil
					continue
				}
			}
			sealed := p.Pkt[sa.headroom:] // body || tag
			out := sealed
			if p.Dst != nil {
				out = p.Dst
			}
			m := &msgs[i-lo] // field by field, as in SealRun
			m.Text, m.Out, m.Nonce = sealed, out, sa.nonceIn(&p.nonce, p.Pkt[headerLen:sa.headroom])
			m.AAD = sa.aadIn(&p.aad, p.Pkt, p.Seq)
		}
		ipsecmb.OpenRun(sa.aead, msgs[:hi-lo])
		for i := lo; i < hi; i++ {
			p, m := &run[i], &msgs[i-lo]
			p.Inner, p.NextHeader, p.Err = nil, 0, nil
			switch {
			case m.Text == nil:
				p.Err = ErrTruncated // only ever with Dst: see above
			case m.Bad:
				p.Err = ErrAuthentication
			default:
				p.Inner, p.NextHeader, p.Err = splitTrailer(m.Out[:len(m.Text)-sa.icvLen])
			}
		}
	}
}
