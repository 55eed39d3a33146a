package transform

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
)

// Elliptic curve Diffie-Hellman with crypto/ecdh: the ECP groups 19, 20 and
// 21 (RFC 5903) and Curve25519 (RFC 8031).
//
// crypto/ecdh has taken no randomness from its callers since Go 1.26
// (GenerateKey ignores its reader), so the private scalar is read here from
// the injected reader and handed to NewPrivateKey. That keeps tests
// deterministic and leaves the choice of source to the caller.

// ecGroup is one curve with its wire format.
type ecGroup struct {
	curve ecdh.Curve
	// scalarSize is the private scalar's length in bytes; topMask clears
	// the bits of its first byte above the group order's length (P-521's
	// order has 521 bits, so 7 bits of the 66th byte are always zero).
	scalarSize int
	topMask    byte
	// publicSize is the Key Exchange payload's data length: x || y for an
	// ECP group (RFC 5903 §7, without SEC 1's 0x04 prefix), the
	// u-coordinate for Curve25519 (RFC 8031 §2).
	publicSize int
	// sec1 is set for the NIST curves, whose crypto/ecdh encoding carries
	// the 0x04 prefix RFC 5903 leaves off.
	sec1 bool
}

var (
	ecp256     = &ecGroup{curve: ecdh.P256(), scalarSize: 32, topMask: 0xff, publicSize: 64, sec1: true}
	ecp384     = &ecGroup{curve: ecdh.P384(), scalarSize: 48, topMask: 0xff, publicSize: 96, sec1: true}
	ecp521     = &ecGroup{curve: ecdh.P521(), scalarSize: 66, topMask: 0x01, publicSize: 132, sec1: true}
	curve25519 = &ecGroup{curve: ecdh.X25519(), scalarSize: 32, topMask: 0xff, publicSize: 32}
)

// sec1Uncompressed is the SEC 1 prefix of an uncompressed point.
const sec1Uncompressed = 0x04

// maxScalarDraws bounds the rejection sampling of a NIST scalar. A draw
// is out of range with probability below 2^-32 for P-256 and far less for
// the others, so running out means the reader is broken.
const maxScalarDraws = 64

var errScalarDraws = errors.New("random source gave no valid scalar in 64 draws")

type ecKE struct {
	name   string // the row's Name, for errors
	group  *ecGroup
	priv   *ecdh.PrivateKey
	public []byte // the Key Exchange payload data
}

// newKeyExchange returns the constructor the table stores for this group.
func (grp *ecGroup) newKeyExchange(name string) func(io.Reader) (KeyExchange, error) {
	return func(r io.Reader) (KeyExchange, error) {
		priv, err := grp.generate(r)
		if err != nil {
			return nil, fmt.Errorf("%s: generating the private value: %w", name, err)
		}
		return grp.withPrivate(name, priv), nil
	}
}

// generate draws a private key from r. X25519 takes any 32 bytes (RFC 7748
// §5 clamps them); a NIST scalar must lie in [1, n-1], so out-of-range
// draws are rejected and drawn again, which keeps the scalar uniform.
func (grp *ecGroup) generate(r io.Reader) (*ecdh.PrivateKey, error) {
	b := make([]byte, grp.scalarSize)
	defer clear(b)
	for range maxScalarDraws {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		b[0] &= grp.topMask
		priv, err := grp.curve.NewPrivateKey(b)
		if err == nil {
			return priv, nil
		}
		if !grp.sec1 {
			return nil, err
		}
	}
	return nil, errScalarDraws
}

// withPrivate builds the exchange for a given private key. Tests use it for
// the RFC vectors.
func (grp *ecGroup) withPrivate(name string, priv *ecdh.PrivateKey) *ecKE {
	public := priv.PublicKey().Bytes()
	if grp.sec1 {
		public = public[1:]
	}
	return &ecKE{name: name, group: grp, priv: priv, public: public}
}

func (k *ecKE) PublicKey() []byte { return append([]byte(nil), k.public...) }

// SharedSecret returns the x coordinate of the common point for an ECP group
// (RFC 5903 §7) and the X25519 output for Curve25519. crypto/ecdh checks
// that an ECP point is on the curve and refuses an all-zero X25519 output,
// the low-order-point check RFC 8031 §2 requires.
func (k *ecKE) SharedSecret(peerPublic []byte) ([]byte, error) {
	grp := k.group
	if len(peerPublic) != grp.publicSize {
		return nil, fmt.Errorf("%s: peer public value is %d bytes, want %d: %w",
			k.name, len(peerPublic), grp.publicSize, ErrInvalidPublicValue)
	}
	encoded := peerPublic
	if grp.sec1 {
		encoded = make([]byte, 1+len(peerPublic))
		encoded[0] = sec1Uncompressed
		copy(encoded[1:], peerPublic)
	}
	peer, err := grp.curve.NewPublicKey(encoded)
	if err != nil {
		return nil, fmt.Errorf("%s: peer public value is not a point on the curve: %w", k.name, ErrInvalidPublicValue)
	}
	secret, err := k.priv.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("%s: peer public value is a low-order point (all-zero shared secret, RFC 8031 §2): %w",
			k.name, ErrInvalidPublicValue)
	}
	return secret, nil
}

// String names the group and never the private value.
func (k *ecKE) String() string { return k.name + " key exchange" }
