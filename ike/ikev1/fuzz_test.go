package ikev1

import (
	"net/netip"
	"testing"

	v1 "ipsecgw/ike/wire/v1"
)

// FuzzHandleMessage: any bytes, as a first message to a responder or in
// the middle of its exchanges, are dropped or answered, never a panic.
// The seeds are a real Main Mode message 1 and a message 3 of the same
// responder SA.
func FuzzHandleMessage(f *testing.F) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	e, _ := newSide(f, side{me: 2, peer: 1, group: "group2", hash: "sha1", enc: "3des-cbc", psk: "k", espEnc: "3des-cbc", espAuth: "hmac-sha1-96"}, p)
	// A message 1 as an initiator with matching proposals sends it.
	init, _ := newSide(f, side{me: 1, peer: 2, group: "group2", hash: "sha1", enc: "3des-cbc", psk: "k", espEnc: "3des-cbc", espAuth: "hmac-sha1-96"}, p)
	var first []byte
	capture := &captureTransport{}
	init.transport = capture
	init.Initiate(netip.MustParseAddr("192.0.2.2"))
	first = capture.last
	f.Add(first)
	if m, err := v1.Parse(first); err == nil {
		h := m.Header
		h.ResponderCookie = 1
		h.Exchange = v1.QuickMode
		h.MessageID = 7
		h.Flags = v1.FlagEncryption
		if b, err := v1.MarshalEncrypted(h, v1.PayloadHash, make([]byte, 16)); err == nil {
			f.Add(b)
		}
	}
	from := netip.MustParseAddrPort("192.0.2.1:500")
	to := netip.MustParseAddrPort("192.0.2.2:500")
	f.Fuzz(func(t *testing.T, b []byte) {
		e.HandleMessage(b, from, to)
	})
}

// captureTransport keeps what an engine sends.
type captureTransport struct{ last []byte }

func (c *captureTransport) Send(b []byte, from, to netip.AddrPort) error {
	c.last = append([]byte(nil), b...)
	return nil
}

// TestDropsCounted: what the engine drops is counted by why.
func TestDropsCounted(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	e, _ := newSide(t, side{me: 2, peer: 1, group: "group2", hash: "sha1", enc: "3des-cbc", psk: "k", espEnc: "3des-cbc", espAuth: "hmac-sha1-96"}, p)
	from, to := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
	e.HandleMessage([]byte("not an ISAKMP message at all, not even close"), from, to)
	h := v1.Header{InitiatorCookie: 1, ResponderCookie: 2, Exchange: v1.QuickMode, MessageID: 9, Flags: v1.FlagEncryption}
	b, err := v1.MarshalEncrypted(h, v1.PayloadHash, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	e.HandleMessage(b, from, to)
	if d := e.Drops(); d["malformed"] != 1 || d["no-sa"] != 1 || d["unauthenticated"] != 0 {
		t.Fatalf("drops %v", d)
	}
}
