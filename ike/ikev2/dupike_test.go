package ikev2

import (
	"net/netip"
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
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	defer func() {
		a.Close()
		b.Close()
		p.wg.Wait()
	}()
	p.mu.Lock()
	p.holdIf = func(msg []byte, _, _ netip.AddrPort) bool {
		h, err := wire.ParseHeader(msg)
		return err == nil && h.Exchange == wire.IKE_AUTH && !h.IsResponse()
	}
	p.drop = func(msg []byte) bool {
		h, err := wire.ParseHeader(msg)
		return err == nil && h.Exchange == wire.INFORMATIONAL && !h.IsResponse() && h.Flags&wire.FlagInitiator != 0
	}
	p.mu.Unlock()
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	b.Initiate(netip.MustParseAddr("192.0.2.1"))
	within(t, "both IKE_AUTH requests out", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.held) == 2
	})
	p.release()
	within(t, "one IKE SA each, the same", func() bool {
		sa, sb := upSAs(a), upSAs(b)
		return len(a.SAs()) == 1 && len(b.SAs()) == 1 && len(sa) == 1 && len(sb) == 1 &&
			sa[0].InitiatorSPI == sb[0].InitiatorSPI && sa[0].Children == 1 && sb[0].Children == 1
	})
}
