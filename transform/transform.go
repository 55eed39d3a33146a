// Package transform is the one table of cryptographic algorithms that
// IKEv2, IKEv1, ESP and the configuration schema share.
//
// A row is keyed by (transform type, IANA transform ID, key length) as in the
// IKEv2 registry (RFC 7296 §3.3.2) and carries everything the rest of the
// gateway needs to know about the algorithm: its names (IANA, Junos show
// output, Junos configuration keywords), its IKEv1 attribute value, its sizes
// and its constructor. Adding an algorithm is adding one row to table.go.
//
// Rows are shared and read-only: the *Transform values handed out by the
// lookup functions point into the table and must not be modified.
package transform

import (
	"crypto/cipher"
	"crypto/hmac"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Type is the IKEv2 transform type (IANA "Transform Type Values").
type Type uint8

const (
	TypeENCR  Type = 1 // encryption algorithm
	TypePRF   Type = 2 // pseudorandom function
	TypeINTEG Type = 3 // integrity algorithm
	TypeKE    Type = 4 // key exchange method (Diffie-Hellman group), RFC 9370's name
	TypeESN   Type = 5 // extended sequence numbers

	// TypeADDKE1 to TypeADDKE7 are RFC 9370's additional key exchanges,
	// run one after the other after the KE of IKE_SA_INIT or
	// CREATE_CHILD_SA. Their IDs are those of TypeKE (and NONE, 0, for an
	// optional one); Lookup finds the TypeKE row.
	TypeADDKE1 Type = 6
	TypeADDKE2 Type = 7
	TypeADDKE3 Type = 8
	TypeADDKE4 Type = 9
	TypeADDKE5 Type = 10
	TypeADDKE6 Type = 11
	TypeADDKE7 Type = 12
)

// NONE is the ID of an additional key exchange that may be left out
// (RFC 9370 §2.2.1): a proposal offering it with others makes that round
// optional.
const NONE ID = 0

// IsKeyExchange reports whether t is TypeKE or one of the ADDKE types.
func (t Type) IsKeyExchange() bool { return t == TypeKE || t.IsAdditionalKE() }

// IsAdditionalKE reports whether t is one of ADDKE1 to ADDKE7.
func (t Type) IsAdditionalKE() bool { return t >= TypeADDKE1 && t <= TypeADDKE7 }

func (t Type) String() string {
	switch t {
	case TypeENCR:
		return "ENCR"
	case TypePRF:
		return "PRF"
	case TypeINTEG:
		return "INTEG"
	case TypeKE:
		return "KE"
	case TypeESN:
		return "ESN"
	}
	// ADDKE1..7 still print as Type(6)..Type(12): ike/ikev2's tests assert
	// that text in their messages, and naming them is left to the session
	// that teaches the engine RFC 9370.
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ID is an IANA transform ID. Its meaning depends on the Type: ID 2 is
// ENCR_DES, PRF_HMAC_SHA1 and AUTH_HMAC_SHA1_96.
type ID uint16

// firstPrivateID is where IKEv2's private-use range starts for ENCR, PRF,
// INTEG and KE (RFC 7296 §3.3.2).
const firstPrivateID ID = 1024

// Context says where a Junos keyword is written: the same algorithm has
// different keywords in an IKE proposal (sha-256) and an IPsec proposal
// (hmac-sha-256-128).
type Context uint8

const (
	// IKE is [edit security ike proposal]: encryption-algorithm,
	// authentication-algorithm (which names both the PRF and the integrity
	// transform) and dh-group.
	IKE Context = 1
	// IPsec is [edit security ipsec proposal] (encryption-algorithm,
	// authentication-algorithm) and [edit security ipsec policy
	// perfect-forward-secrecy keys].
	IPsec Context = 2
)

func (c Context) String() string {
	switch c {
	case IKE:
		return "ike"
	case IPsec:
		return "ipsec"
	}
	return fmt.Sprintf("Context(%d)", uint8(c))
}

// Transform is one row of the table.
//
// Sizes are in bytes except KeyBits. A size that does not apply to the
// row's Type is zero.
type Transform struct {
	Type Type
	ID   ID
	// KeyBits is the key length in bits: the IKEv2 Key Length attribute
	// when KeyLengthAttribute is set, otherwise the algorithm's fixed key
	// length (for an HMAC, the hash output length of RFC 2104/4868; for a
	// PRF, its preferred key length). Zero for KE and ESN rows.
	KeyBits int
	// KeyLengthAttribute is set for variable-length ciphers (AES), whose
	// proposals must carry the Key Length attribute; RFC 7296 §3.3.5 forbids
	// it for every other transform.
	KeyLengthAttribute bool

	// Name is the IANA registry name, e.g. "ENCR_AES_GCM_16".
	Name string
	// Display is how Junos show commands print the algorithm, e.g.
	// "aes256-gcm", "hmac-sha256-128", "hmac-sha1", "DH-group-14".
	Display string
	// IKEKeyword and IPsecKeyword are the Junos configuration keywords, empty
	// where the algorithm cannot be configured in that context.
	IKEKeyword   string
	IPsecKeyword string

	// IKEv1 is the IKEv1 attribute value, zero where none exists. Its
	// meaning follows the Type: ENCR, the phase 1 Encryption Algorithm
	// (RFC 2409 App. A); PRF, the phase 1 Hash Algorithm; INTEG, the phase 2
	// Authentication Algorithm (RFC 2407 §4.5); KE, the Group Description.
	IKEv1 uint16
	// IKEv1ESP is, for ENCR rows, the phase 2 ESP transform ID of the IPsec
	// DOI (RFC 2407 §4.4.4), zero where none exists.
	IKEv1ESP uint16

	// BlockSize is the unit the ciphertext comes in: the block cipher's
	// block for CBC, 1 for counter-mode and stream AEADs. ESP pads to
	// max(BlockSize, 4) (RFC 4303 §2.4).
	BlockSize int
	// IVSize is the explicit IV carried in each packet.
	IVSize int
	// ICVSize is the integrity check value: the AEAD tag, or the truncated
	// HMAC output of an INTEG row.
	ICVSize int
	// SaltSize is the implicit nonce part taken from the key material after
	// the key (RFC 4106 §8.1, RFC 7634 §2); the nonce is salt || IV.
	SaltSize int
	// OutputSize is the full output of a PRF or of the HMAC behind an INTEG
	// row.
	OutputSize int
	// PublicKeySize is the length of a KE row's public value as carried in
	// the Key Exchange payload; for a KEM, the initiator's encapsulation
	// key.
	PublicKeySize int
	// CiphertextSize is, for a KEM row, the length of the ciphertext the
	// responder sends back in its Key Exchange payload; zero for
	// Diffie-Hellman (see ResponderPublicKeySize).
	CiphertextSize int

	// Insecure marks algorithms kept only so that configurations naming them
	// parse and can be rejected with a clear message (the configuration
	// schema refuses them by name). Their ID constants are spelled Insecure…
	// so every use is visible. An insecure cipher has no constructor. The
	// 768-bit MODP group keeps its key exchange, so that it stays usable
	// where a caller deliberately allows it; configuration cannot select
	// it, and code that builds a key exchange from a peer's proposal must
	// check Insecure first.
	Insecure bool

	// Constructors; exactly one is set on a usable row (see the methods).
	newAEAD  func(key []byte) (cipher.AEAD, error)
	newBlock func(key []byte) (cipher.Block, error)
	hash     func() hash.Hash
	// newKeyExchange is set on every KE row: MODP groups in modp.go, ECP
	// groups and Curve25519 in ecp.go.
	newKeyExchange func(rand io.Reader) (KeyExchange, error)
	// kem is set on KEM rows (mlkem.go) beside newKeyExchange, which makes
	// the initiator's side.
	kem *kem
}

// KeyExchange is one side of a key exchange method (a Diffie-Hellman group):
// a private value drawn when it is made, and its public value. Use one per
// exchange. Its String names the group, never the private value.
//
// For a KEM (IsKEM) it is the initiator's side only: PublicKey is the
// encapsulation key and SharedSecret decapsulates the responder's
// ciphertext. The responder of any method uses Transform.Respond.
type KeyExchange interface {
	// PublicKey returns the local public value, as carried in the Key
	// Exchange payload (PublicKeySize bytes): g^x left-padded to the
	// prime's length for MODP (RFC 7296 §3.4), x || y for ECP (RFC 5903
	// §7), the u-coordinate for Curve25519 (RFC 8031 §2). The slice is the
	// caller's.
	PublicKey() []byte
	// SharedSecret checks the peer's public value and combines it with the
	// local private value into g^ir, as the key derivation takes it: for
	// MODP left-padded to the prime's length (RFC 7296 §2.14), for ECP the
	// x coordinate (RFC 5903 §7). A value that fails the checks returns an
	// error wrapping ErrInvalidPublicValue. It may be called more than once.
	SharedSecret(peerPublic []byte) ([]byte, error)
}

var (
	// ErrNotImplemented is returned by a constructor the row does not have:
	// an insecure cipher.
	ErrNotImplemented = errors.New("transform: algorithm not implemented")
	// ErrWrongConstructor is returned when a row is asked for a primitive
	// of another kind (an AEAD from a CBC cipher, a MAC from a DH group).
	ErrWrongConstructor = errors.New("transform: algorithm does not provide this primitive")
	// ErrInvalidPublicValue is wrapped by KeyExchange.SharedSecret when the
	// peer's public value has the wrong length, lies outside the group, or
	// would give a degenerate shared secret.
	ErrInvalidPublicValue = errors.New("transform: invalid key exchange public value")
)

// String returns the IANA name with the key length where one is negotiated,
// e.g. "ENCR_AES_CBC(256)".
func (t *Transform) String() string {
	if t.KeyLengthAttribute {
		return fmt.Sprintf("%s(%d)", t.Name, t.KeyBits)
	}
	return t.Name
}

// IsAEAD reports whether the row is a combined-mode cipher that needs no
// integrity transform.
func (t *Transform) IsAEAD() bool { return t.newAEAD != nil }

// IsCBC reports whether the row is a block cipher used in CBC mode.
func (t *Transform) IsCBC() bool { return t.newBlock != nil }

// PrivateUse reports whether the ID lies in IKEv2's private-use range: such
// a row interoperates only with peers configured to the same number.
func (t *Transform) PrivateUse() bool { return t.ID >= firstPrivateID }

// KeySize is the length in bytes of the key the constructors take (without
// any salt).
func (t *Transform) KeySize() int { return t.KeyBits / 8 }

// KeyMaterialSize is how many bytes the transform takes from KEYMAT
// (RFC 7296 §2.17): the key followed by the salt.
func (t *Transform) KeyMaterialSize() int { return t.KeySize() + t.SaltSize }

// NewAEAD returns the AEAD of an ENCR row whose IsAEAD is true. key is the
// cipher key alone, KeySize bytes; the salt is not part of it. The AEAD
// takes a nonce of SaltSize+IVSize bytes and appends an ICVSize-byte tag.
func (t *Transform) NewAEAD(key []byte) (cipher.AEAD, error) {
	if t.newAEAD == nil {
		return nil, t.missing("an AEAD")
	}
	if err := t.checkKey(key); err != nil {
		return nil, err
	}
	return t.newAEAD(key)
}

// NewBlock returns the block cipher of an ENCR row whose IsCBC is true, for
// use in CBC mode. key is KeySize bytes.
func (t *Transform) NewBlock(key []byte) (cipher.Block, error) {
	if t.newBlock == nil {
		return nil, t.missing("a block cipher")
	}
	if err := t.checkKey(key); err != nil {
		return nil, err
	}
	return t.newBlock(key)
}

// NewMAC returns the HMAC of a PRF or INTEG row, keyed with key. Its Sum
// is the full OutputSize; an integrity check uses the first ICVSize bytes.
// An INTEG key must be KeySize bytes (RFC 2404, RFC 4868 §2.1.1); a PRF
// takes a key of any length (RFC 2104).
func (t *Transform) NewMAC(key []byte) (hash.Hash, error) {
	if t.hash == nil {
		return nil, t.missing("a MAC")
	}
	if t.Type == TypeINTEG {
		if err := t.checkKey(key); err != nil {
			return nil, err
		}
	}
	return hmac.New(t.hash, key), nil
}

// NewHash returns the bare hash of a PRF or INTEG row: IKEv1 derives its
// CBC IVs and NAT-D values with the negotiated hash itself, not its HMAC
// (RFC 2409 App. B, RFC 3947 §3.2).
func (t *Transform) NewHash() (hash.Hash, error) {
	if t.hash == nil {
		return nil, t.missing("a hash")
	}
	return t.hash(), nil
}

// NewKeyExchange starts a key exchange of a KE row: it draws a private value
// from rand (nil means crypto/rand.Reader) and computes the public value.
// For a KEM this is the initiator's side (see KeyExchange). It does not
// refuse an Insecure row; see Transform.Insecure.
func (t *Transform) NewKeyExchange(rand io.Reader) (KeyExchange, error) {
	if t.Type != TypeKE {
		return nil, t.missing("a key exchange")
	}
	if t.newKeyExchange == nil {
		return nil, fmt.Errorf("%s: key exchange: %w", t.Name, ErrNotImplemented)
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	return t.newKeyExchange(rand)
}

// IsKEM reports whether the row is a key encapsulation mechanism (ML-KEM)
// rather than a Diffie-Hellman group: its two Key Exchange payloads differ
// (encapsulation key, then ciphertext) and the responder must use Respond.
func (t *Transform) IsKEM() bool { return t.kem != nil }

// ResponderPublicKeySize is the length of the responder's Key Exchange
// data: the ciphertext for a KEM, the public value for Diffie-Hellman.
func (t *Transform) ResponderPublicKeySize() int {
	if t.IsKEM() {
		return t.CiphertextSize
	}
	return t.PublicKeySize
}

// Respond is the responder's side of a key exchange of a KE row, the same
// call for Diffie-Hellman and KEMs as RFC 9370 treats them: given the
// initiator's Key Exchange data it returns the responder's (a fresh public
// value, or the ciphertext encapsulated to the initiator's key) and the
// shared secret. Data of the wrong length or outside the group gives an
// error wrapping ErrInvalidPublicValue. rand (nil means crypto/rand.Reader)
// draws a Diffie-Hellman private value; ML-KEM encapsulation takes its
// randomness from crypto/mlkem itself, which accepts no reader.
func (t *Transform) Respond(rand io.Reader, initiatorPublic []byte) (responderPublic, secret []byte, err error) {
	if t.IsKEM() {
		return t.kem.respond(t.Name, initiatorPublic)
	}
	kx, err := t.NewKeyExchange(rand)
	if err != nil {
		return nil, nil, err
	}
	secret, err = kx.SharedSecret(initiatorPublic)
	if err != nil {
		return nil, nil, err
	}
	return kx.PublicKey(), secret, nil
}

func (t *Transform) missing(what string) error {
	if t.Insecure {
		return fmt.Errorf("%s is insecure and has no implementation: %w", t, ErrNotImplemented)
	}
	return fmt.Errorf("%s does not provide %s: %w", t, what, ErrWrongConstructor)
}

// checkKey reports a key of the wrong length. The message names lengths
// only, never key bytes.
func (t *Transform) checkKey(key []byte) error {
	if len(key) != t.KeySize() {
		return fmt.Errorf("%s needs a %d-byte key, got %d bytes", t, t.KeySize(), len(key))
	}
	return nil
}
