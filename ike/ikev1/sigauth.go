package ikev1

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"

	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// Main Mode authenticated with RSA signatures (RFC 2409 §5.1), both roles,
// for a peer with an ike.Authenticator:
//
//	HDR, SA                       -->
//	                              <--  HDR, SA
//	HDR, KE, Ni, CR               -->
//	                              <--  HDR, KE, Nr, CR
//	HDR*, IDii, CERT+, SIG_I      -->
//	                              <--  HDR*, IDir, CERT+, SIG_R
//
// SKEYID = prf(Ni_b | Nr_b, g^xy); HASH_I and HASH_R are computed as with
// a pre-shared key, and SIG_I / SIG_R are their PKCS #1 v1.5 signatures
// without a DigestInfo (RFC 2409 §5.1: "the hash is signed"), which is
// what every IKEv1 implementation (strongSwan, libreswan) makes. The
// peer's chain and identity are the Authenticator's to judge.

// authMethodOf is the phase 1 Authentication Method of a peer's proposals.
func authMethodOf(p *ike.Peer) uint16 {
	if p.Auth != nil {
		return v1.AuthRSASignature
	}
	return v1.AuthPSK
}

// auth is the proposal's Authentication Method (zero: pre-shared key).
func (pp Phase1Proposal) auth() uint16 {
	if pp.Auth == 0 {
		return v1.AuthPSK
	}
	return pp.Auth
}

// signs reports whether the chosen proposal authenticates with RSA
// signatures.
func (sa *isakmpSA) signs() bool {
	return sa.chosen.auth() == v1.AuthRSASignature && sa.peer.Auth != nil
}

// credential reads our certificate and key once per SA.
func (sa *isakmpSA) credential() (*ike.Credential, error) {
	if sa.cred == nil && sa.credErr == nil {
		sa.cred, sa.credErr = sa.peer.Auth.Local()
		if sa.credErr == nil {
			if _, ok := sa.cred.Key.Public().(*rsa.PublicKey); !ok {
				sa.cred, sa.credErr = nil, errors.New("IKEv1 signs with RSA only; the local certificate's key is not RSA")
			}
		}
	}
	return sa.cred, sa.credErr
}

// certID is the identity of our certificate (local-identity when
// configured exactly), when phase 1 signs.
func (sa *isakmpSA) certID() (v1.Identification, bool) {
	if !sa.signs() {
		return v1.Identification{}, false
	}
	if sa.peer.localID.Type != 0 {
		return sa.peer.localID, true
	}
	cred, err := sa.credential()
	if err != nil {
		return v1.Identification{}, false // authPayloads reports it
	}
	return v1ID(cred.ID), true
}

// certReqs are the CR payloads of messages 3 and 4 when phase 1 signs: one
// per trusted CA, by its subject (RFC 2408 §3.10), or an empty one (any
// CA) when none is loaded.
func (sa *isakmpSA) certReqs() []v1.Payload {
	if !sa.signs() {
		return nil
	}
	var out []v1.Payload
	for _, dn := range sa.peer.Auth.CASubjects() {
		out = append(out, &v1.CertReq{Encoding: v1.CertX509Signature, Authority: dn})
	}
	if len(out) == 0 {
		out = append(out, &v1.CertReq{Encoding: v1.CertX509Signature})
	}
	return out
}

// authPayloads are message 5's or 6's payloads after the encrypted header:
// the identity and HASH, or, signing, the identity, our certificates and
// the signature of hash.
func (sa *isakmpSA) authPayloads(id *v1.Identification, hash []byte) ([]v1.Payload, error) {
	if !sa.signs() {
		return []v1.Payload{id, &v1.Hash{Data: hash}}, nil
	}
	cred, err := sa.credential()
	if err != nil {
		return nil, err
	}
	ps := []v1.Payload{id}
	for _, der := range cred.Certificates {
		ps = append(ps, &v1.Cert{Encoding: v1.CertX509Signature, Data: der})
	}
	sig, err := cred.Key.Sign(sa.e.rand, hash, crypto.Hash(0)) // raw PKCS #1 v1.5: no DigestInfo
	if err != nil {
		return nil, err
	}
	return append(ps, &v1.Signature{Data: sig}), nil
}

// hasAuth reports whether message 5 or 6 carries what authenticates it.
func (sa *isakmpSA) hasAuth(ps []v1.Payload) bool {
	if sa.signs() {
		_, i := v1.Find[*v1.Signature](ps)
		return i >= 0
	}
	_, i := v1.Find[*v1.Hash](ps)
	return i >= 0
}

// checkPeerAuth checks the peer's message 5 or 6: its HASH against want,
// or, signing, its certificates and identity (the Authenticator) and its
// signature of want. name is HASH_I or HASH_R, for the message.
func (sa *isakmpSA) checkPeerAuth(ps []v1.Payload, id v1.Identification, want []byte, name string) ike.Failure {
	if !sa.signs() {
		hash, _ := v1.Find[*v1.Hash](ps)
		if hash == nil || !bytes.Equal(want, hash.Data) {
			return ike.Failf(ike.CauseAuthentication, "authentication of the peer failed: wrong pre-shared key (%s does not verify)", name)
		}
		return ike.Failure{}
	}
	var certs [][]byte
	for _, p := range ps {
		if c, ok := p.(*v1.Cert); ok && c.Encoding == v1.CertX509Signature {
			certs = append(certs, c.Data)
		}
	}
	pc, err := sa.peer.Auth.VerifyPeer(certs, ike.Identity{Type: ike.IDType(id.Type), Data: id.Data}, sa.e.clock.Now())
	if err != nil {
		return ike.CertificateFailure(err)
	}
	sig, _ := v1.Find[*v1.Signature](ps)
	pub, ok := pc.Key.(*rsa.PublicKey)
	if !ok {
		return ike.CertificateFailure(&ike.AuthError{Reason: "bad signature", Err: errors.New("the peer's certificate key is not RSA (rsa-signatures)")})
	}
	if sig == nil || rsa.VerifyPKCS1v15(pub, crypto.Hash(0), want, sig.Data) != nil {
		return ike.CertificateFailure(&ike.AuthError{Reason: "bad signature", Err: errors.New("SIG does not verify with the peer's certificate (" + pc.Subject + ")")})
	}
	sa.peerCert = pc.Subject
	return ike.Failure{}
}

// aggressiveAuth refuses a signature proposal in Aggressive Mode, which
// ipsecgw runs with pre-shared keys only (the configuration refuses
// rsa-signatures with mode aggressive; this is a peer's offer to a Main
// Mode gateway).
func aggressiveAuth(pp Phase1Proposal) error {
	if pp.auth() != v1.AuthPSK {
		return errors.New("Aggressive Mode with RSA signatures is not supported (Main Mode is)")
	}
	return nil
}
