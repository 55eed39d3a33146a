// Package keymat derives the keys of IKE SAs and of the IPsec SAs they
// negotiate:
//
//	IKEv2 (RFC 7296)                     ikev2.go, auth.go
//	  prf+                               §2.13  PRFPlus
//	  SKEYSEED, SK_d … SK_pr             §2.14  SKEYSEED, NewIKESAKeys
//	  AUTH with a pre-shared key         §2.15  SignedOctets, PSKAuth
//	  Child SA KEYMAT                    §2.17  NewChildSAKeys
//	  SKEYSEED of a rekeyed IKE SA       §2.18  RekeySKEYSEED
//	IKEv1 (RFC 2409)                     ikev1.go
//	  SKEYID, SKEYID_d/_a/_e             §5     SKEYIDPreShared, NewPhase1Keys
//	  phase 1 key expansion              App. B Phase1Keys.EncryptionKey
//	  phase 2 KEYMAT                     §5.5   Phase1Keys.Phase2Keys
//
// The negotiated algorithms are rows of the transform table: the PRF row
// gives prf and the preferred key length, ENCR and INTEG rows the key sizes.
// IKEv1's prf is the HMAC of the negotiated hash, which is the PRF row
// whose IKEv1 value is that Hash Algorithm.
//
// Derived secrets are Keys: printing one shows only its length, and Zero
// overwrites it. What Go keeps out of reach is not wiped: the HMAC state
// keyed with a secret, and copies the runtime makes.
package keymat

import (
	"errors"
	"fmt"
	"hash"

	"ipsecgw/transform"
)

// Key is secret key material. fmt, log/slog and encoding/json print only its
// length, never its bytes.
type Key []byte

// Zero overwrites the key with zeros.
func (k Key) Zero() { clear(k) }

func (k Key) String() string { return fmt.Sprintf("Key(%d bytes)", len(k)) }

// Format makes every fmt verb (%x and %#v included) print String.
func (k Key) Format(f fmt.State, verb rune) { f.Write([]byte(k.String())) }

// MarshalText makes encoding/json and slog's handlers print String rather
// than the bytes.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ErrTooLong is returned when more keying material is asked of prf+ than it
// defines: 255 blocks of the PRF's output (RFC 7296 §2.13).
var ErrTooLong = errors.New("keymat: more keying material than prf+ defines")

// prf is a PRF row keyed once and used for one or more outputs.
type prf struct {
	row *transform.Transform
	mac hash.Hash
}

// newPRF keys the PRF of row. Every PRF row in the table is an HMAC, which
// takes a key of any length; a PRF that does not (AES-XCBC-PRF-128 or
// AES-CMAC-PRF-128, which also need special handling of the nonces in
// SKEYSEED, RFC 7296 §2.14) would need code here.
func newPRF(row *transform.Transform, key []byte) (*prf, error) {
	if err := checkRow(row, transform.TypePRF, "PRF"); err != nil {
		return nil, err
	}
	mac, err := row.NewMAC(key)
	if err != nil {
		return nil, fmt.Errorf("keymat: %w", err)
	}
	return &prf{row: row, mac: mac}, nil
}

// sum appends prf(K, parts[0] | parts[1] | …) to dst.
func (p *prf) sum(dst []byte, parts ...[]byte) []byte {
	p.mac.Reset()
	for _, b := range parts {
		p.mac.Write(b)
	}
	return p.mac.Sum(dst)
}

// key returns prf(K, parts…) as a new Key.
func (p *prf) key(parts ...[]byte) Key {
	return p.sum(make(Key, 0, p.row.OutputSize), parts...)
}

// PRF returns prf(key, parts[0] | parts[1] | …) with the PRF of prfRow:
// IKEv1's HASH_I, HASH_R and Quick Mode hashes are such outputs.
func PRF(prfRow *transform.Transform, key []byte, parts ...[]byte) (Key, error) {
	p, err := newPRF(prfRow, key)
	if err != nil {
		return nil, err
	}
	return p.key(parts...), nil
}

// PRFPlus returns the first n bytes of prf+(K, S) (RFC 7296 §2.13):
//
//	prf+ (K,S) = T1 | T2 | T3 | T4 | ...
//	T1 = prf (K, S | 0x01)
//	T2 = prf (K, T1 | S | 0x02)
//	T3 = prf (K, T2 | S | 0x03)
//
// prfRow is the negotiated PRF. prf+ is not defined past 255 blocks, so n
// may be at most 255 times the PRF's output size.
func PRFPlus(prfRow *transform.Transform, key, seed []byte, n int) (Key, error) {
	p, err := newPRF(prfRow, key)
	if err != nil {
		return nil, err
	}
	return p.plus(seed, n)
}

func (p *prf) plus(seed []byte, n int) (Key, error) {
	size := p.row.OutputSize
	if n < 0 || n > 255*size {
		return nil, fmt.Errorf("%w: %d bytes asked of %s, at most %d", ErrTooLong, n, p.row, 255*size)
	}
	blocks := (n + size - 1) / size
	// One buffer for every block, so that Sum appends in place and the
	// previous block can be read from it while the next is written.
	out := make(Key, 0, blocks*size)
	var prev []byte
	for i := 1; i <= blocks; i++ {
		start := len(out)
		out = p.sum(out, prev, seed, []byte{byte(i)})
		prev = out[start:]
	}
	clear(out[n:])
	return out[:n:n], nil
}

// checkRow reports a transform of the wrong type; a missing transform is
// named as such.
func checkRow(row *transform.Transform, typ transform.Type, role string) error {
	if row == nil {
		return fmt.Errorf("keymat: no %s transform", role)
	}
	if row.Type != typ {
		return fmt.Errorf("keymat: %s given as the %s transform, but its type is %s", row, role, row.Type)
	}
	if row.Insecure {
		return fmt.Errorf("keymat: %s is insecure and not keyed", row)
	}
	return nil
}

// split cuts buf into consecutive keys of the given sizes. Each key is capped
// so that appending to one cannot overwrite the next; a size of zero gives a
// nil key.
func split(buf Key, sizes ...int) []Key {
	keys := make([]Key, len(sizes))
	off := 0
	for i, n := range sizes {
		if n > 0 {
			keys[i] = buf[off : off+n : off+n]
		}
		off += n
	}
	return keys
}
