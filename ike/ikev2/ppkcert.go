package ikev2

import (
	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
)

// NO_PPK_AUTH whatever the authentication method (RFC 8784 §3): its data
// is what the AUTH payload would carry with the plain SK_pi, by the same
// method as AUTH. With a pre-shared key that is the key's MAC; with a
// certificate it is a second signature, over the octets that name the
// plain SK_pi. A responder without the initiator's PPK checks it in place
// of AUTH, with the method of the AUTH payload (ppkAuthRequest).

// noPPKAuthData is the initiator's NO_PPK_AUTH data for identity id.
func (sa *ikeSA) noPPKAuthData(id wire.Identification) ([]byte, error) {
	if sa.peer.Auth == nil {
		return sa.pskAuthWith(sa.hs.initReq, sa.hs.nr, sa.hs.ppk.plainPI, id)
	}
	cred, err := sa.peer.Auth.Local()
	if err != nil {
		return nil, err
	}
	octets, err := sa.plainSignedOctets(id)
	if err != nil {
		return nil, err
	}
	auth, err := sa.peer.Auth.SignAuth(sa.e.rand, cred, sa.hs.cert.peerHashes, octets)
	if err != nil {
		return nil, err
	}
	return auth.Data, nil
}

// noPPKAuthVerifies reports whether the initiator's NO_PPK_AUTH data
// verifies with the plain SK_pi, by the method of its AUTH payload: the
// responder then knows the PPKs differ while the pre-shared key or the
// certificate is right.
func (sa *ikeSA) noPPKAuthVerifies(id wire.Identification, auth *wire.Auth, data []byte) bool {
	if sa.peer.Auth == nil {
		return sa.verifyPSKWith(sa.hs.initReq, sa.hs.nr, sa.hs.ppk.plainPI, id, data)
	}
	pc, err := sa.peer.Auth.VerifyPeer(sa.hs.cert.peerCerts, ike.Identity{Type: ike.IDType(id.Type), Data: id.Data}, sa.e.clock.Now())
	if err != nil {
		return false
	}
	octets, err := sa.plainSignedOctets(id)
	if err != nil {
		return false
	}
	return sa.peer.Auth.VerifyAuth(pc, &wire.Auth{Method: auth.Method, Data: data}, octets) == nil
}

// plainSignedOctets are the initiator's signed octets (§2.15) with the
// plain SK_pi.
func (sa *ikeSA) plainSignedOctets(id wire.Identification) ([]byte, error) {
	octets, err := keymat.SignedOctets(sa.suite.PRF, sa.hs.initReq, sa.hs.nr, sa.hs.ppk.plainPI, id.AppendBody(nil))
	if err != nil {
		return nil, err
	}
	return sa.intAuthOctets(octets), nil // intermediate.go
}

// authKind names what the peer authenticates with, for messages.
func (sa *ikeSA) authKind() string {
	if sa.peer.Auth == nil {
		return "pre-shared key"
	}
	return "certificate signature"
}

// certRefusal is, for a certificate peer whose certificate or signature
// was refused, why (" (certificate expired: ...)"), so that a failure
// under a PPK does not blame the PPK alone; "" otherwise.
func (sa *ikeSA) certRefusal() string {
	if sa.peer.Auth == nil || sa.hs == nil || !sa.hs.cert.failure.Failed() {
		return ""
	}
	return " (" + sa.hs.cert.failure.Message + ")"
}
