// Package pki holds the gateway's keys and certificates and does the
// certificate work of IKE: the store behind `request security pki` and
// `show security pki` (keys, local certificates, CA certificates and CRLs
// kept in the state directory), chain verification to a ca-profile, the
// identity checks of RFC 4945, and signing and verifying AUTH payloads.
//
// What an IKE engine calls, in the order of an IKE_AUTH exchange:
//
//	store.Local(policy.Certificate.LocalCertificate)    our key and certificate
//	pki.LocalIdentity(local, gateway.LocalIdentity)    the IDi/IDr we send
//	store.CertReq(trustedCA.Name)                      our CERTREQ (the profile's CA key hashes)
//	store.Requested(local, peerCERTREQ.CAs())          whether the peer asked for our CA
//	local.CertPayloads()                               our CERT payloads (leaf, then intermediates)
//	pki.AuthMethod(proposal.AuthenticationMethod, local.Key.Public())
//	pki.SignatureHashes()                              our SIGNATURE_HASH_ALGORITHMS
//	pki.SignAuth(rand, local.Key, method, peerHashes, signedOctets)
//	                                                   our AUTH payload
//	store.VerifyChain(pki.TrustPolicy{...}, peerCERTs, now)
//	                                                   the peer's chain, leaf first
//	pki.MatchRemoteIdentity(gateway.RemoteIdentity, chain[0], peerID)
//	pki.VerifyAuth(chain[0].PublicKey, peerAUTH, peerSignedOctets)
//
// TrustPolicyFor turns the configuration's ca-profile into a TrustPolicy.
// Every refusal is an *Error whose Cause (expired, unknown CA, revoked,
// CRL unavailable, bad signature, identity mismatch...) the engine keeps
// with the failed negotiation; CauseOf reads it from any wrapped error.
//
// Private keys never leave the store in text: Local.String and every error
// name a key by its public fingerprint.
package pki

import "ipsecgw/config/schema"

// TrustPolicyFor is the trust policy of a ca-profile from the
// configuration: its certificates anchor the chain, and revocation is
// checked as revocation-check says (Junos's default: CRL, refusing when
// none is loaded unless "crl disable on-download-failure").
func TrustPolicyFor(p *schema.CAProfile) TrustPolicy {
	return TrustPolicy{Profile: p.Name, CheckCRL: p.CheckCRL, AcceptWithoutCRL: p.AcceptWithoutCRL}
}
