package keymat

import (
	"encoding/binary"
	"fmt"

	"ipsecgw/transform"
)

// IKEv1 key derivation (RFC 2409). The prf is the HMAC of the negotiated
// Hash Algorithm: pass the PRF row whose IKEv1 value is that hash. Nonces
// are the bodies of the Nonce payloads (Ni_b, Nr_b) and CKY-I, CKY-R the
// ISAKMP header's cookies.

// ProtocolESP is the IPsec DOI protocol ID of ESP (RFC 2407 §4.4.1), the
// protocol byte of phase 2 KEYMAT.
const ProtocolESP = 3

// SKEYIDPreShared returns SKEYID for pre-shared key authentication
// (RFC 2409 §5):
//
//	SKEYID = prf(pre-shared-key, Ni_b | Nr_b)
func SKEYIDPreShared(prfRow *transform.Transform, psk, ni, nr []byte) (Key, error) {
	p, err := newPRF(prfRow, psk)
	if err != nil {
		return nil, err
	}
	return p.key(ni, nr), nil
}

// SKEYIDSignature returns SKEYID for signature authentication (RFC 2409 §5):
//
//	SKEYID = prf(Ni_b | Nr_b, g^xy)
func SKEYIDSignature(prfRow *transform.Transform, ni, nr, gxy []byte) (Key, error) {
	p, err := newPRF(prfRow, concat(ni, nr))
	if err != nil {
		return nil, err
	}
	return p.key(gxy), nil
}

// Phase1Keys are an ISAKMP SA's keys (RFC 2409 §5).
type Phase1Keys struct {
	prf *transform.Transform

	SKEYID Key // keys HASH_I and HASH_R
	D      Key // SKEYID_d: derives phase 2 KEYMAT
	A      Key // SKEYID_a: keys the phase 2 and informational HASH payloads
	E      Key // SKEYID_e: the phase 1 cipher's key, through EncryptionKey
}

// Zero overwrites every key, SKEYID included.
func (k *Phase1Keys) Zero() {
	for _, key := range []Key{k.SKEYID, k.D, k.A, k.E} {
		key.Zero()
	}
}

// NewPhase1Keys derives SKEYID_d, SKEYID_a and SKEYID_e (RFC 2409 §5):
//
//	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//
// The result keeps skeyid itself (not a copy) as its SKEYID, so its Zero
// wipes it too.
func NewPhase1Keys(prfRow *transform.Transform, skeyid Key, gxy []byte, ckyI, ckyR uint64) (*Phase1Keys, error) {
	p, err := newPRF(prfRow, skeyid)
	if err != nil {
		return nil, err
	}
	cky := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, ckyI), ckyR)
	d := p.key(gxy, cky, []byte{0})
	a := p.key(d, gxy, cky, []byte{1})
	e := p.key(a, gxy, cky, []byte{2})
	return &Phase1Keys{prf: prfRow, SKEYID: skeyid, D: d, A: a, E: e}, nil
}

// EncryptionKey returns the phase 1 cipher's key from SKEYID_e (RFC 2409
// App. B): its first octets when it is long enough, else the first octets
// of
//
//	Ka = K1 | K2 | K3 | ...
//	K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1), K3 = prf(SKEYID_e, K2)
//
// where 0 is a single zero octet. 3DES, AES-192 and AES-256 need the
// expansion with SHA-1; AES-128 never does.
func (k *Phase1Keys) EncryptionKey(encr *transform.Transform) (Key, error) {
	if err := checkRow(encr, transform.TypeENCR, "ENCR"); err != nil {
		return nil, err
	}
	if encr.IKEv1 == 0 {
		return nil, fmt.Errorf("keymat: %s has no IKEv1 phase 1 encryption algorithm value", encr)
	}
	n := encr.KeySize()
	if n <= len(k.E) {
		return append(make(Key, 0, n), k.E[:n]...), nil
	}
	p, err := newPRF(k.prf, k.E)
	if err != nil {
		return nil, err
	}
	size := k.prf.OutputSize
	out := make(Key, 0, (n+size-1)/size*size)
	prev := []byte{0}
	for len(out) < n {
		start := len(out)
		out = p.sum(out, prev)
		prev = out[start:]
	}
	clear(out[n:])
	return out[:n:n], nil
}

// Phase2Keys derives one IPsec SA's keys from quick mode (RFC 2409 §5.5):
//
//	KEYMAT = K1 | K2 | K3 | ...
//	K1 = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
//	K2 = prf(SKEYID_d, K1 | [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
//
// gqm is quick mode's shared secret, nil without PFS; protocol is
// ProtocolESP; spi is this SA's SPI, the one its receiver chose, so the
// inbound and outbound SAs of a pair get different keys from two calls. ni
// and nr are quick mode's nonces. The encryption key (with an AEAD's salt,
// RFC 4106 §8.1) comes first, then the integrity key.
func (k *Phase1Keys) Phase2Keys(s ChildSuite, protocol uint8, spi uint32, gqm, ni, nr []byte) (DirectionKeys, error) {
	if err := s.check(); err != nil {
		return DirectionKeys{}, err
	}
	if s.Encryption.IKEv1ESP == 0 {
		return DirectionKeys{}, fmt.Errorf("keymat: %s has no IKEv1 ESP transform ID", s.Encryption)
	}
	e, a := s.sizes()
	buf, err := phase2KEYMAT(k.prf, k.D, gqm, protocol, spi, ni, nr, e+a)
	if err != nil {
		return DirectionKeys{}, err
	}
	keys := split(buf, e, a)
	return DirectionKeys{Encryption: keys[0], Integrity: keys[1]}, nil
}

func phase2KEYMAT(prfRow *transform.Transform, skeyidD Key, gqm []byte, protocol uint8, spi uint32, ni, nr []byte, n int) (Key, error) {
	p, err := newPRF(prfRow, skeyidD)
	if err != nil {
		return nil, err
	}
	seed := concat(gqm, []byte{protocol}, binary.BigEndian.AppendUint32(nil, spi), ni, nr)
	defer clear(seed) // holds g(qm)^xy
	size := prfRow.OutputSize
	out := make(Key, 0, (n+size-1)/size*size)
	var prev []byte
	for len(out) < n {
		start := len(out)
		out = p.sum(out, prev, seed)
		prev = out[start:]
	}
	clear(out[n:])
	return out[:n:n], nil
}
