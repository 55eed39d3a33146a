package ikev1

import (
	"net/netip"
	"time"

	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
	"ipsecgw/transform"
)

// peer is a resolved peer and what IKEv1 makes of it once: the phase 1
// proposals, the ID payloads, Quick Mode's identities.
type peer struct {
	*ike.Peer
	// phase1 is the IKE policy's proposals in preference order.
	phase1 []Phase1Proposal
	// localID and remoteID: the zero value means "the address" for the
	// local identity and "any" for the remote one.
	localID, remoteID v1.Identification
	// localTS and remoteTS are Quick Mode's identities (IDci, IDcr as the
	// initiator sends them): the traffic behind each side.
	localTS, remoteTS netip.Prefix

	// vpns are the gateway's VPNs once it has several (vpns.go), one
	// peer each for its Quick Modes; nil: the peer is its only VPN.
	vpns []*peer
}

// Phase1Proposal is one phase 1 transform: cipher, hash, group, lifetime,
// authentication by pre-shared key.
type Phase1Proposal struct {
	Encryption *transform.Transform // ENCR row with an IKEv1 value
	Hash       *transform.Transform // PRF row: the Hash Algorithm and the HMAC prf
	Group      *transform.Transform // KE row with an IKEv1 group number
	Lifetime   time.Duration
	// Auth is the Authentication Method (sigauth.go): v1.AuthPSK (also
	// when zero) or v1.AuthRSASignature.
	Auth uint16
}

// newPeer makes the IKEv1 forms of a resolved peer (daemon/plan has
// checked that IKEv1 can name its algorithms and identities). Quick Mode
// proposes the first of its selectors, or the whole space of the peer's
// address family.
func newPeer(p *ike.Peer) (*peer, error) {
	ep := &peer{Peer: p, localID: v1ID(p.LocalID), remoteID: v1ID(p.RemoteID),
		localTS: anyOf(p.Remote), remoteTS: anyOf(p.Remote)}
	for _, pp := range p.IKEProposals {
		ep.phase1 = append(ep.phase1, Phase1Proposal{Encryption: pp.Encryption, Hash: pp.PRF, Group: pp.Group, Lifetime: pp.Lifetime, Auth: authMethodOf(p)})
	}
	if len(p.Selectors) > 0 && len(p.Selectors[0].Local) > 0 && len(p.Selectors[0].Remote) > 0 {
		ep.localTS, ep.remoteTS = p.Selectors[0].Local[0], p.Selectors[0].Remote[0]
	}
	return ep, nil
}

// v1ID is an identity's ID payload (both versions number the types
// alike).
func v1ID(id ike.Identity) v1.Identification {
	return v1.Identification{Type: v1.IDType(id.Type), Data: id.Data}
}

func anyOf(a netip.Addr) netip.Prefix {
	if a.Is6() {
		return netip.MustParsePrefix("::/0")
	}
	return netip.MustParsePrefix("0.0.0.0/0")
}
