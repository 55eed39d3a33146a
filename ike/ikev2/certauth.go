package ikev2

import (
	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
)

// Signature authentication with certificates (RFC 7296 §2.15, §3.6-3.8;
// RFC 7427), for a peer whose ike.Peer has an Authenticator:
//
//	HDR, SAi1, KEi, Ni, N(SIGNATURE_HASH_ALGORITHMS)  -->
//	     <--  HDR, SAr1, KEr, Nr, CERTREQ, N(SIGNATURE_HASH_ALGORITHMS)
//	HDR, SK {IDi, CERT+, CERTREQ, [IDr,] AUTH, SAi2, TSi, TSr}  -->
//	     <--  HDR, SK {IDr, CERT+, AUTH, SAr2, TSi, TSr}
//
// The AUTH payload signs the same octets as a pre-shared key's MAC covers
// (the first message, the peer's nonce, prf(SK_p, ID')). The peer's chain,
// identity and signature are the Authenticator's to judge; a refusal is
// AUTHENTICATION_FAILED with the Authenticator's reason kept in the
// failure ("certificate expired", "unknown CA", ...).

// certHandshake is what signature authentication keeps during the
// handshake.
type certHandshake struct {
	// peerHashes are the peer's SIGNATURE_HASH_ALGORITHMS (nil: none sent).
	peerHashes []wire.HashAlgorithm
	// peerCerts are the DER certificates of the peer's IKE_AUTH, its own
	// first.
	peerCerts [][]byte
	// failure is why the peer's certificate or signature was refused.
	failure ike.Failure
}

// initCertPayloads are what IKE_SA_INIT adds for a certificate peer: the
// hashes we sign and accept (RFC 7427 §4), and, from the responder, its
// CERTREQ (§3.7: in IKE_SA_INIT's response or IKE_AUTH's request).
func (sa *ikeSA) initCertPayloads() []wire.Payload {
	if sa.peer.Auth == nil {
		return nil
	}
	ps := []wire.Payload{wire.SignatureHashAlgorithms(signatureHashes...)}
	if !sa.initiator {
		ps = append(ps, wire.X509CertReq(sa.peer.Auth.CAKeyHashes()...))
	}
	return ps
}

// signatureHashes are the RFC 7427 hashes we announce (pki.SignatureHashes:
// the engine does not import pki).
var signatureHashes = []wire.HashAlgorithm{wire.HashSHA2_256, wire.HashSHA2_384, wire.HashSHA2_512, wire.HashIdentity}

// takeSignatureHashes keeps the peer's SIGNATURE_HASH_ALGORITHMS from its
// IKE_SA_INIT message.
func (sa *ikeSA) takeSignatureHashes(ps []wire.Payload) {
	if sa.peer.Auth == nil || sa.hs == nil {
		return
	}
	if n, ok := wire.FindNotify(ps, wire.SIGNATURE_HASH_ALGORITHMS); ok {
		if hashes, err := wire.ParseSignatureHashAlgorithms(n.Data); err == nil && len(hashes) > 0 {
			sa.hs.cert.peerHashes = hashes
		}
	}
}

// takeCerts keeps the CERT payloads of the peer's IKE_AUTH message, for
// verifyAuth.
func (sa *ikeSA) takeCerts(ps []wire.Payload) {
	if sa.peer.Auth == nil || sa.hs == nil {
		return
	}
	sa.hs.cert.peerCerts = nil
	for _, p := range ps {
		if c, ok := p.(*wire.Cert); ok {
			if der, err := c.X509(); err == nil {
				sa.hs.cert.peerCerts = append(sa.hs.cert.peerCerts, der)
			}
		}
	}
}

// localAuth is our identity, the payloads that go before AUTH (CERTs and,
// from the initiator, CERTREQ) and the AUTH payload: signed with our
// certificate's key for a certificate peer, else the pre-shared key's MAC.
func (sa *ikeSA) localAuth() (wire.Identification, []wire.Payload, *wire.Auth, error) {
	if sa.peer.Auth == nil {
		id := sa.localID()
		data, err := sa.authData(id)
		if err != nil {
			return id, nil, nil, err
		}
		return id, nil, &wire.Auth{Method: wire.AuthSharedKey, Data: data}, nil
	}
	cred, err := sa.peer.Auth.Local()
	if err != nil {
		return wire.Identification{}, nil, nil, err
	}
	id := sa.peer.localID
	if id.Type == 0 {
		id = wireID(cred.ID)
	}
	var ps []wire.Payload
	for _, der := range cred.Certificates {
		ps = append(ps, wire.X509Cert(der))
	}
	if sa.initiator {
		ps = append(ps, wire.X509CertReq(sa.peer.Auth.CAKeyHashes()...))
	}
	octets, err := sa.signedOctets(true, id)
	if err != nil {
		return id, nil, nil, err
	}
	auth, err := sa.peer.Auth.SignAuth(sa.e.rand, cred, sa.hs.cert.peerHashes, octets)
	if err != nil {
		return id, nil, nil, err
	}
	sa.authMethod, sa.localCert = auth.Method, cred.Subject
	return id, ps, auth, nil
}

// signedOctets are the octets an AUTH payload covers (§2.15): ours
// (the message we sent first, the peer's nonce, prf(SK_p, our ID')) or the
// peer's.
func (sa *ikeSA) signedOctets(ours bool, id wire.Identification) ([]byte, error) {
	weSentRequest := sa.initiator == ours
	msg, nonce, skp := sa.hs.initReq, sa.hs.nr, sa.keys.PI
	if !weSentRequest {
		msg, nonce, skp = sa.hs.initResp, sa.hs.ni, sa.keys.PR
	}
	return keymat.SignedOctets(sa.suite.PRF, msg, nonce, skp, id.AppendBody(nil))
}

// verifyCertAuth checks the peer's certificates, identity and signed AUTH
// (verifyAuth's work for a certificate peer); a refusal is kept in the
// handshake for authFailure.
func (sa *ikeSA) verifyCertAuth(id wire.Identification, auth *wire.Auth) bool {
	refuse := func(err error) bool {
		sa.hs.cert.failure = ike.CertificateFailure(err)
		return false
	}
	if auth == nil {
		return refuse(&ike.AuthError{Reason: "no AUTH payload", Err: errString("the peer sent no AUTH payload")})
	}
	if auth.Method == wire.AuthSharedKey {
		return refuse(&ike.AuthError{Reason: "pre-shared key", Err: errString("the peer authenticated with a pre-shared key; this gateway's policy wants a certificate")})
	}
	pc, err := sa.peer.Auth.VerifyPeer(sa.hs.cert.peerCerts, ike.Identity{Type: ike.IDType(id.Type), Data: id.Data}, sa.e.clock.Now())
	if err != nil {
		return refuse(err)
	}
	octets, err := sa.signedOctets(false, id)
	if err != nil {
		return refuse(err)
	}
	if err := sa.peer.Auth.VerifyAuth(pc, auth, octets); err != nil {
		return refuse(err)
	}
	sa.peerCert, sa.peerAuthMethod = pc.Subject, auth.Method
	return true
}

// authFailure is why the peer's IKE_AUTH did not authenticate.
func (sa *ikeSA) authFailure() ike.Failure {
	if sa.hs != nil && sa.hs.cert.failure.Failed() {
		return sa.hs.cert.failure
	}
	return ike.Failf(ike.CauseAuthentication, "authentication of the peer failed: wrong pre-shared key or identity")
}

type errString string

func (e errString) Error() string { return string(e) }

// tellAuthFailed tells a responder whose certificate or signature we
// refused (§2.21.2: the initiator MAY, in a separate INFORMATIONAL
// exchange), so that it does not keep an IKE SA we will never use. The
// request is sent once and not waited for: the SA closes at once.
func (sa *ikeSA) tellAuthFailed() {
	if sa.peer.Auth == nil || !sa.initiator || sa.out == nil {
		return
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.Notify{Type: wire.AUTHENTICATION_FAILED}})
	if err != nil {
		return
	}
	if err := sa.e.transport.Send(b, sa.local, sa.remote); err != nil {
		sa.e.log.Debug("IKE send", "err", err)
	}
}

// refusedFailure is our failure when the peer answered our IKE_AUTH with
// AUTHENTICATION_FAILED.
func (sa *ikeSA) refusedFailure() ike.Failure {
	if sa.peer.Auth == nil {
		return ike.Failf(ike.CauseAuthentication, "peer refused our authentication (AUTHENTICATION_FAILED): check the pre-shared key and identities")
	}
	return ike.Failf(ike.CauseAuthentication, "peer refused our authentication (AUTHENTICATION_FAILED): check our local certificate (validity, revocation, its CA trusted by the peer) and identities")
}

// peerRefusedAuth handles an INFORMATIONAL request carrying
// AUTHENTICATION_FAILED: an initiator that refused our IKE_AUTH answer
// (tellAuthFailed is ours). The SA ends with that failure; it reports
// whether the request was one.
func (sa *ikeSA) peerRefusedAuth(id uint32, ps []wire.Payload) bool {
	if _, ok := wire.FindNotify(ps, wire.AUTHENTICATION_FAILED); !ok {
		return false
	}
	sa.answer(id, wire.INFORMATIONAL, nil)
	sa.fail(sa.refusedFailure().Received(uint16(wire.AUTHENTICATION_FAILED)))
	return true
}

// inheritAuth gives an IKE SA made by a rekey (§2.18: no new
// authentication) what its predecessor's authentication established.
func (sa *ikeSA) inheritAuth(old *ikeSA) {
	sa.authMethod, sa.peerAuthMethod, sa.localCert, sa.peerCert = old.authMethod, old.peerAuthMethod, old.localCert, old.peerCert
}
