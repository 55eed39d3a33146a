package dataplane

import "ipsecgw/header"

// SetTCPMSS sets the largest TCP MSS a SYN or SYN-ACK entering or leaving a
// tunnel may announce (security flow tcp-mss ipsec-vpn mss N); 0 turns
// clamping off. Packets in flight see the old or the new value.
func (e *Engine) SetTCPMSS(mss int) {
	if mss < 0 || mss > 0xffff {
		mss = 0
	}
	e.tcpMSS.Store(uint32(mss))
}

// clampTCPMSS lowers the MSS of an inner packet, a TCP SYN, going into or
// coming out of a tunnel, and counts it. The limit is the smaller of the
// engine's (security flow) and the SA's (a service set's tcp-mss) where
// both are set. The check for clamping being on is one atomic load;
// ClampTCPMSS allocates nothing.
func (e *Engine) clampTCPMSS(inner []byte, saMSS int) {
	mss := e.tcpMSS.Load()
	if saMSS > 0 && saMSS <= 0xffff && (mss == 0 || uint32(saMSS) < mss) {
		mss = uint32(saMSS)
	}
	if mss != 0 && header.ClampTCPMSS(inner, uint16(mss)) {
		e.Stats.TCPMSSClamped.Add(1)
	}
}
