package ikev2

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/netip"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Protection of the responder against floods of IKE_SA_INIT requests
// (RFC 7296 §2.6): each half-open IKE SA costs a key exchange and memory,
// so past a threshold the responder answers statelessly with a COOKIE the
// initiator must echo, proving it receives at its address; and a half-open
// SA that never authenticates expires.

const (
	// cookieThreshold is how many half-open SAs the responder holds before
	// it asks for cookies.
	cookieThreshold = 64
	// halfOpenTimeout removes a responder SA whose IKE_AUTH never came.
	halfOpenTimeout = 30 * time.Second
	cookieVersion   = 1
)

// cookieFor is <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>).
func (e *Engine) cookieFor(ni []byte, from netip.Addr, spiI uint64) []byte {
	if e.cookieSecret == nil {
		e.cookieSecret = make([]byte, 32)
		if _, err := io.ReadFull(e.rand, e.cookieSecret); err != nil {
			return nil
		}
	}
	m := hmac.New(sha256.New, e.cookieSecret)
	m.Write(ni)
	m.Write(from.AsSlice())
	var spi [8]byte
	binary.BigEndian.PutUint64(spi[:], spiI)
	m.Write(spi[:])
	return append([]byte{0, 0, 0, cookieVersion}, m.Sum(nil)...)
}

// needCookie reports whether req must first be answered with a COOKIE
// (and does so): only when the half-open count is past the threshold and
// the request does not carry the right cookie.
func (e *Engine) needCookie(req *wire.Message, ni []byte, from, to netip.AddrPort) bool {
	if e.halfOpen < cookieThreshold {
		return false
	}
	want := e.cookieFor(ni, from.Addr(), req.Header.InitiatorSPI)
	if n, ok := wire.FindNotify(req.Payloads, wire.COOKIE); ok && hmac.Equal(n.Data, want) {
		return false
	}
	e.answerInitError(req, from, to, wire.COOKIE, want)
	return true
}

// expireHalfOpen removes a responder SA that is still waiting for IKE_AUTH
// after halfOpenTimeout.
func (sa *ikeSA) expireHalfOpen() {
	sa.after(halfOpenTimeout, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateInitReplied {
			sa.fail(ike.Failf(ike.CauseTimeout, "half-open: no IKE_AUTH within %v of IKE_SA_INIT", halfOpenTimeout))
		}
	})
}
