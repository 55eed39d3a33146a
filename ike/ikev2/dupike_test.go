package ikev2

import (
	"testing"

	"ipsecgw/ike/wire"
)

// TestSimultaneousInitiationPeerKeepsDuplicate: both sides initiate at
// once and both IKE SAs come up (each IKE_AUTH request is held until both
// are out, so neither side's IKE_SA_INIT is unanswered when the peer's
// IKE SA comes up: abandoninit.go), but the initiator of the one to go
// never gets its DELETE through (every INFORMATIONAL request an IKE SA's
// initiator sends is lost), as with a peer that keeps its duplicate
// (strongSwan). The other side deletes it itself after duplicateIKEWait:
// both end with the same single IKE SA and Child SA.
func TestSimultaneousInitiationPeerKeepsDuplicate(t *testing.T) {
	a, b, p := plainPair(t, nil) // abandoninit_test.go
	p.mu.Lock()
	p.drop = func(msg []byte) bool {
		h, err := wire.ParseHeader(msg)
		return err == nil && h.Exchange == wire.INFORMATIONAL && !h.IsResponse() && h.Flags&wire.FlagInitiator != 0
	}
	p.mu.Unlock()
	initiateBothAnswered(t, p, a, b) // abandoninit_test.go
	within(t, "one IKE SA each, the same", func() bool { return oneSameSA(a, b) })
}
