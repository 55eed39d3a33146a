package cluster

import (
	"net/netip"
	"testing"
)

// IKEv1 messages are not recorded (doc.go: an IKEv1 survivor needs no
// request of the old owner): Quick Mode, Informational (DPD) and Main Mode
// messages from a group's virtual IP go out at once, none is written, and
// the log needs no store for them.
func TestRequestLogPassesIKEv1(t *testing.T) {
	vip := netip.MustParseAddr("198.51.100.10")
	owner := func(a netip.Addr) (int, int64, bool) { return 1, 7, a == vip }
	snd := &sendRecorder{check: func([]byte) bool { return false }}
	l := NewRequestLog(nil, snd, owner, nil) // no Run: anything queued would never go out
	from, to := netip.AddrPortFrom(vip, 4500), netip.MustParseAddrPort("198.51.100.100:4500")
	for i, exchange := range []byte{32, 5, 2, 4, 6} { // Quick Mode, Informational, Main, Aggressive, Transaction
		msg := ikeMessage(1, 2, exchange, false, 0x8a6f1c00+uint32(i))
		msg[17], msg[19] = 0x10, 0x01 // ISAKMP 1.0, encrypted
		if err := l.Send(msg, from, to); err != nil {
			t.Fatal(err)
		}
		if snd.count() != i+1 {
			t.Fatalf("IKEv1 exchange %d was held back", exchange)
		}
	}
	if w, txns := l.Stats(); w != 0 || txns != 0 {
		t.Fatalf("%d records written in %d transactions for IKEv1 messages", w, txns)
	}
}
