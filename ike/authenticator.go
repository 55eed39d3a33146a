package ike

import (
	"crypto"
	"errors"
	"io"
	"time"

	"ipsecgw/ike/wire"
)

// Authenticator is a peer's signature authentication: the local
// certificate and key of its IKE policy, and the check of the peer's
// certificate against the policy's trusted CA and the gateway's
// remote-identity. The daemon makes one from package pki's store (the
// engines never see the configuration or the store); a Peer without one
// authenticates with its pre-shared key.
//
// The store can change while a peer is configured (request security pki
// ... load): every call reads it afresh.
type Authenticator interface {
	// Local is our credential for one negotiation.
	Local() (*Credential, error)
	// CAKeyHashes name the CAs we trust, for our CERTREQ (RFC 7296 §3.7).
	CAKeyHashes() [][wire.CAKeyHashLen]byte
	// CASubjects are the same CAs' DER subjects, for IKEv1's CERTREQ
	// (RFC 2408 §3.10).
	CASubjects() [][]byte
	// VerifyPeer checks the peer's certificates (DER, its own first, then
	// intermediates) at now, and the identity it sent against the
	// certificate and remote-identity. A refusal is an *AuthError.
	VerifyPeer(certs [][]byte, id Identity, now time.Time) (*PeerCertificate, error)
	// SignAuth makes an IKEv2 AUTH payload over octets with our key
	// (method 1, 9, 10, 11 or 14); peerHashes are the peer's
	// SIGNATURE_HASH_ALGORITHMS (nil: it announced none).
	SignAuth(rand io.Reader, c *Credential, peerHashes []wire.HashAlgorithm, octets []byte) (*wire.Auth, error)
	// VerifyAuth checks the peer's IKEv2 AUTH payload over octets with its
	// certificate's key. A refusal is an *AuthError.
	VerifyAuth(p *PeerCertificate, auth *wire.Auth, octets []byte) error
}

// Credential is our side of signature authentication: the key (a
// crypto.Signer: its private part never leaves the store), our
// certificate and the intermediates loaded with it (DER, leaf first), the
// identity we send, and the IKEv2 Auth Method the policy's
// authentication-method and the key choose.
type Credential struct {
	Key          crypto.Signer
	Certificates [][]byte
	ID           Identity
	Method       wire.AuthMethod
	// Subject is the certificate's subject as text, for logs.
	Subject string
}

// PeerCertificate is a verified peer certificate: its subject as text and
// its public key.
type PeerCertificate struct {
	Subject string
	Key     crypto.PublicKey
}

// AuthError is a peer's certificate or signature refused, with the short
// reason ("certificate expired", "unknown CA", "certificate revoked",
// "identity mismatch", ...) that the show commands and the failure carry.
// Err says what exactly, and names no secret.
type AuthError struct {
	Reason string
	Err    error
}

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// CertificateFailure is the Failure of a refused peer certificate or
// signature: authentication, with the reason first in the message.
func CertificateFailure(err error) Failure {
	f := Failf(CauseAuthentication, "authentication of the peer failed: %v", err)
	var ae *AuthError
	if errors.As(err, &ae) {
		f.Reason = ae.Reason
	}
	return f
}
