package ikev2

import (
	"bytes"
	"encoding/binary"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Rekey collisions with additional key exchanges (RFC 9370 §2.2.4, RFC
// 7296 §2.8.1 and §2.8.2), and follow-ups an initiator abandons.
//
// Both sides may rekey the same SA at once. With IKE_FOLLOWUP_KE neither
// new SA exists when the CREATE_CHILD_SA exchanges end, so the collision
// is settled before the follow-ups rather than by deleting one: each side
// that answered the peer's rekey while its own was unanswered compares the
// four nonces once its answer comes, and the exchange with the lowest
// nonce loses. Its initiator sends no IKE_FOLLOWUP_KE (nothing was made,
// nothing is deleted); the winner's follow-ups go on, and the winner drops
// its state for the loser's. Both compute the same result from the same
// nonces. A rekey request that arrives once our follow-ups have started is
// answered TEMPORARY_FAILURE: ours goes on, and the peer's side then sees
// no collision.
//
// A responder keeps the state of the peer's follow-ups for followupTimeout
// after each answer: an initiator that lost its state (a restart), or a
// collision it settled without us noticing, sends no more, and the state
// goes. A late IKE_FOLLOWUP_KE then gets STATE_NOT_FOUND.

// followupTimeout is how long a responder waits for the next
// IKE_FOLLOWUP_KE: longer than an initiator retransmits one request
// (ike.Backoff, ike.MaxSends: 31 s).
const followupTimeout = 60 * time.Second

// expireFollowup (re)arms the responder's timer for f.
func (sa *ikeSA) expireFollowup(f *followup) {
	if f.expiry != nil {
		f.expiry.Stop()
	}
	f.expiry = sa.e.clock.AfterFunc(followupTimeout, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.peerFollowup != f {
			return
		}
		sa.e.log.Warn("the peer sent no IKE_FOLLOWUP_KE in time; its CREATE_CHILD_SA is dropped", "gateway", sa.peer.Gateway,
			"done", f.done, "of", len(f.methods))
		sa.dropPeerFollowup()
	})
}

// dropPeerFollowup forgets the peer's follow-ups, releasing what they held.
func (sa *ikeSA) dropPeerFollowup() {
	f := sa.peerFollowup
	if f == nil {
		return
	}
	sa.peerFollowup = nil
	if f.expiry != nil {
		f.expiry.Stop()
	}
	clear(f.secrets)
	if f.abort != nil {
		f.abort()
	}
}

// rekeyingInFollowups answers TEMPORARY_FAILURE, reporting true, to a
// CREATE_CHILD_SA that would collide with our follow-ups under way: any
// while our IKE SA rekey's run (the IKE SA is going), an IKE SA rekey or
// a rekey of the same Child SA while our Child SA rekey's run.
func (sa *ikeSA) rekeyingInFollowups(id uint32, offered *wire.SA, ps []wire.Payload) bool {
	if sa.followup == nil || !sa.followup.initiator {
		return false
	}
	busy := sa.ikeRekey != nil || offered.Proposals[0].Protocol == wire.ProtocolIKE
	if r := sa.rekey; !busy && r != nil {
		if n, ok := wire.FindNotify(ps, wire.REKEY_SA); ok && len(n.SPI) == 4 {
			busy = binary.BigEndian.Uint32(n.SPI) == r.old.OutboundSPI
		}
	}
	if !busy {
		return false
	}
	sa.e.log.Info("peer's CREATE_CHILD_SA collides with our rekey's IKE_FOLLOWUP_KE exchanges; TEMPORARY_FAILURE", "gateway", sa.peer.Gateway)
	sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
	return true
}

// noteIKECollision records the peer's IKE SA rekey (its Ni, our Nr) when
// ours is in flight, unanswered.
func (sa *ikeSA) noteIKECollision(ni, nr []byte) {
	if r := sa.ikeRekey; r != nil && sa.followup == nil {
		sa.e.log.Info("simultaneous IKE SA rekey with additional key exchanges", "gateway", sa.peer.Gateway)
		r.collided = &collision{ni: bytes.Clone(ni), nr: bytes.Clone(nr)}
	}
}

// noteChildCollision records the peer's rekey of old (its Ni, our Nr) when
// ours of the same Child SA is in flight, unanswered.
func (sa *ikeSA) noteChildCollision(old *ike.ChildSA, ni, nr []byte) {
	if r := sa.rekey; r != nil && r.old == old && sa.followup == nil {
		sa.e.log.Info("simultaneous Child SA rekey with additional key exchanges", "vpn", old.VPN, "in", spiHex(old.InboundSPI))
		r.peerAddKE = &collision{ni: bytes.Clone(ni), nr: bytes.Clone(nr)}
	}
}

// lostCollision settles a collision once our CREATE_CHILD_SA (nonces ni,
// nr) is answered: it reports true when ours has the lowest nonce and so
// must stop here. When ours wins, the peer stops its own: we drop our
// state for it.
func (sa *ikeSA) lostCollision(c *collision, ni, nr []byte, what string) bool {
	if c == nil {
		return false
	}
	if ourRekeyRedundant(ni, nr, c) {
		sa.e.log.Info("simultaneous "+what+" rekey: ours has the lowest nonce; the peer's goes on, ours stops before IKE_FOLLOWUP_KE",
			"gateway", sa.peer.Gateway)
		return true
	}
	sa.e.log.Info("simultaneous "+what+" rekey: the peer's has the lowest nonce and stops; ours goes on", "gateway", sa.peer.Gateway)
	sa.dropPeerFollowup()
	return false
}
