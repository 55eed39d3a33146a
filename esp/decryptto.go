package esp

// DecryptLeasedTo is DecryptLeased with the plaintext written to dst
// instead of over pkt: for a packet in memory that is only lent (an
// AF_XDP receive frame), so that decrypting it is also the copy out of
// it, and the inner packet lands where the caller wants it (the returned
// inner starts at dst[0] and keeps dst's capacity). pkt is only read.
// dst must not overlap pkt; it needs room for the encrypted body (the
// packet less ESP header, IV and ICV), or ErrTruncated. The errors and
// what they mean for Accept are DecryptLeased's.
func (sa *Inbound) DecryptLeasedTo(l *Lease, pkt []byte, seq uint64, dst []byte) (inner []byte, nextHeader byte, err error) {
	icvAt := len(pkt) - sa.icvLen
	bodyLen := icvAt - sa.headroom
	if bodyLen < 0 || len(dst) < bodyLen {
		return nil, 0, ErrTruncated
	}
	w := l.of(sa.suite)
	if w == nil {
		w = sa.workSlots.get()
		defer sa.workSlots.put(w)
	}
	if sa.aead != nil {
		iv := pkt[headerLen:sa.headroom]
		body, err := sa.aead.Open(dst[:0], sa.nonce(w, iv), pkt[sa.headroom:], sa.aad(w, pkt, seq))
		if err != nil {
			return nil, 0, ErrAuthentication
		}
		return splitTrailer(body)
	}
	if !sa.verifyICV(pkt, icvAt, seq, w) {
		return nil, 0, ErrAuthentication
	}
	body := dst[:bodyLen]
	copy(body, pkt[sa.headroom:icvAt])
	cbcDecrypt(sa.block, pkt[headerLen:sa.headroom], body)
	return splitTrailer(body)
}
