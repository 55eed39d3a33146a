package transform

import (
	"crypto/mlkem"
	"fmt"
	"io"
)

// ML-KEM (FIPS 203) as an IKEv2 key exchange method, with crypto/mlkem:
// ML-KEM-768 and ML-KEM-1024 (draft-ietf-ipsecme-ikev2-mlkem, IANA
// Transform Type 4 IDs 36 and 37). ML-KEM-512 (ID 35), which crypto/mlkem
// does not provide, comes from CIRCL (mlkem512.go), not written by hand.
//
// A KEM is not symmetric like Diffie-Hellman. RFC 9370 §2.2 carries it in
// the same Key Exchange payload: the initiator sends its encapsulation key
// (NewKeyExchange, PublicKey), the responder encapsulates to it and sends
// the ciphertext back (Respond), and the initiator decapsulates it
// (SharedSecret). The draft's length checks: the responder refuses an
// encapsulation key that is not exactly the method's size or fails FIPS
// 203's modulus check, the initiator a ciphertext of the wrong size; both
// wrap ErrInvalidPublicValue (the IKE SA answers INVALID_SYNTAX).

// kem is one ML-KEM parameter set, bound to crypto/mlkem's functions.
type kem struct {
	encapsulationKeySize, ciphertextSize int
	// newDecapsulationKey derives the initiator's key from a 64-byte seed
	// (FIPS 203's d || z).
	newDecapsulationKey func(seed []byte) (decapsulationKey, error)
	// encapsulate checks the initiator's encapsulation key and
	// encapsulates a fresh shared secret to it.
	encapsulate func(encapsulationKey []byte) (sharedKey, ciphertext []byte, err error)
}

type decapsulationKey interface {
	Decapsulate(ciphertext []byte) ([]byte, error)
	encapsulationKey() []byte
}

var (
	mlkem768 = &kem{
		encapsulationKeySize: mlkem.EncapsulationKeySize768, ciphertextSize: mlkem.CiphertextSize768,
		newDecapsulationKey: func(seed []byte) (decapsulationKey, error) {
			dk, err := mlkem.NewDecapsulationKey768(seed)
			return dk768{dk}, err
		},
		encapsulate: func(ek []byte) ([]byte, []byte, error) {
			k, err := mlkem.NewEncapsulationKey768(ek)
			if err != nil {
				return nil, nil, err
			}
			shared, ct := k.Encapsulate()
			return shared, ct, nil
		},
	}
	mlkem1024 = &kem{
		encapsulationKeySize: mlkem.EncapsulationKeySize1024, ciphertextSize: mlkem.CiphertextSize1024,
		newDecapsulationKey: func(seed []byte) (decapsulationKey, error) {
			dk, err := mlkem.NewDecapsulationKey1024(seed)
			return dk1024{dk}, err
		},
		encapsulate: func(ek []byte) ([]byte, []byte, error) {
			k, err := mlkem.NewEncapsulationKey1024(ek)
			if err != nil {
				return nil, nil, err
			}
			shared, ct := k.Encapsulate()
			return shared, ct, nil
		},
	}
)

type dk768 struct{ *mlkem.DecapsulationKey768 }

func (k dk768) encapsulationKey() []byte { return k.EncapsulationKey().Bytes() }

type dk1024 struct{ *mlkem.DecapsulationKey1024 }

func (k dk1024) encapsulationKey() []byte { return k.EncapsulationKey().Bytes() }

// kemKE is the initiator's side: the decapsulation key, drawn when made.
type kemKE struct {
	name   string
	kem    *kem
	dk     decapsulationKey
	public []byte // the encapsulation key, as sent
}

// newKeyExchange returns the constructor the table stores for this
// parameter set. The seed is read from the injected reader, so tests are
// deterministic (crypto/mlkem's GenerateKey takes no reader).
func (k *kem) newKeyExchange(name string) func(io.Reader) (KeyExchange, error) {
	return func(r io.Reader) (KeyExchange, error) {
		seed := make([]byte, mlkem.SeedSize)
		defer clear(seed)
		if _, err := io.ReadFull(r, seed); err != nil {
			return nil, fmt.Errorf("%s: generating the decapsulation key: %w", name, err)
		}
		dk, err := k.newDecapsulationKey(seed)
		if err != nil {
			return nil, fmt.Errorf("%s: generating the decapsulation key: %w", name, err)
		}
		return &kemKE{name: name, kem: k, dk: dk, public: dk.encapsulationKey()}, nil
	}
}

// PublicKey is the encapsulation key the initiator sends.
func (x *kemKE) PublicKey() []byte { return append([]byte(nil), x.public...) }

// SharedSecret decapsulates the responder's ciphertext. ML-KEM's implicit
// rejection means a tampered ciphertext of the right length gives a
// different secret, not an error: the IKE SA's AUTH then fails.
func (x *kemKE) SharedSecret(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != x.kem.ciphertextSize {
		return nil, fmt.Errorf("%s: ciphertext is %d bytes, want %d: %w",
			x.name, len(ciphertext), x.kem.ciphertextSize, ErrInvalidPublicValue)
	}
	secret, err := x.dk.Decapsulate(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%s: ciphertext refused: %w", x.name, ErrInvalidPublicValue)
	}
	return secret, nil
}

// String names the method and never the key.
func (x *kemKE) String() string { return x.name + " key exchange" }

// respond is the responder's side: it checks the initiator's encapsulation
// key and encapsulates to it.
func (k *kem) respond(name string, encapsulationKey []byte) (ciphertext, secret []byte, err error) {
	if len(encapsulationKey) != k.encapsulationKeySize {
		return nil, nil, fmt.Errorf("%s: encapsulation key is %d bytes, want %d: %w",
			name, len(encapsulationKey), k.encapsulationKeySize, ErrInvalidPublicValue)
	}
	secret, ciphertext, err = k.encapsulate(encapsulationKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encapsulation key fails the FIPS 203 modulus check: %w", name, ErrInvalidPublicValue)
	}
	return ciphertext, secret, nil
}
