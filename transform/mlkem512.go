package transform

import (
	"fmt"

	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
)

// ML-KEM-512 (IANA Transform Type 4 ID 35), which Go's crypto/mlkem does
// not offer, comes from Cloudflare's CIRCL (its FIPS 203 implementation,
// whose PublicKey.Unpack does the modulus check). The seed is FIPS 203's
// d || z, as crypto/mlkem's, so the row behaves like the other two.
var mlkem512KEM = &kem{
	encapsulationKeySize: mlkem512.PublicKeySize, ciphertextSize: mlkem512.CiphertextSize,
	newDecapsulationKey: func(seed []byte) (decapsulationKey, error) {
		if len(seed) != mlkem512.KeySeedSize {
			return nil, fmt.Errorf("ML-KEM-512 seed of %d bytes, want %d", len(seed), mlkem512.KeySeedSize)
		}
		pk, sk := mlkem512.NewKeyFromSeed(seed)
		return dk512{pk, sk}, nil
	},
	encapsulate: func(ek []byte) ([]byte, []byte, error) {
		var pk mlkem512.PublicKey
		if err := pk.Unpack(ek); err != nil {
			return nil, nil, err
		}
		ct, ss := make([]byte, mlkem512.CiphertextSize), make([]byte, mlkem512.SharedKeySize)
		pk.EncapsulateTo(ct, ss, nil) // nil: CIRCL draws the randomness from crypto/rand
		return ss, ct, nil
	},
}

type dk512 struct {
	pk *mlkem512.PublicKey
	sk *mlkem512.PrivateKey
}

func (k dk512) Decapsulate(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != mlkem512.CiphertextSize { // DecapsulateTo panics on another size
		return nil, fmt.Errorf("ML-KEM-512 ciphertext of %d bytes", len(ciphertext))
	}
	ss := make([]byte, mlkem512.SharedKeySize)
	k.sk.DecapsulateTo(ss, ciphertext)
	return ss, nil
}

func (k dk512) encapsulationKey() []byte {
	b := make([]byte, mlkem512.PublicKeySize)
	k.pk.Pack(b)
	return b
}
