package keymat

import (
	"encoding/binary"
	"fmt"

	"ipsecgw/transform"
)

// IKESuite is what an IKE SA negotiated, as rows of the transform table.
type IKESuite struct {
	Encryption *transform.Transform // ENCR
	PRF        *transform.Transform // PRF
	Integrity  *transform.Transform // INTEG; nil with an AEAD cipher
}

// check refuses a suite whose rows do not fit together: RFC 7296 §3.3 has
// an AEAD proposal carry no integrity transform, and anything else one.
func (s IKESuite) check() error {
	if err := checkRow(s.Encryption, transform.TypeENCR, "ENCR"); err != nil {
		return err
	}
	if err := checkRow(s.PRF, transform.TypePRF, "PRF"); err != nil {
		return err
	}
	return checkIntegrity(s.Encryption, s.Integrity)
}

func checkIntegrity(encr, integ *transform.Transform) error {
	if encr.IsAEAD() {
		if integ != nil {
			return fmt.Errorf("keymat: %s is an AEAD and takes no integrity transform, got %s", encr, integ)
		}
		return nil
	}
	return checkRow(integ, transform.TypeINTEG, "INTEG")
}

// IKESAKeys are the seven secrets of an IKE SA (RFC 7296 §2.14). The i keys
// protect what the original initiator sends, the r keys the other direction.
type IKESAKeys struct {
	D      Key // SK_d: derives Child SA keys and a rekeyed IKE SA's SKEYSEED
	AI, AR Key // SK_ai, SK_ar: integrity keys; nil with an AEAD
	EI, ER Key // SK_ei, SK_er: encryption keys, followed by the salt for an AEAD
	PI, PR Key // SK_pi, SK_pr: MAC the identities in AUTH payloads (§2.15)
}

// Zero overwrites every key.
func (k *IKESAKeys) Zero() {
	for _, key := range []Key{k.D, k.AI, k.AR, k.EI, k.ER, k.PI, k.PR} {
		key.Zero()
	}
}

// SKEYSEED returns prf(Ni | Nr, g^ir) (RFC 7296 §2.14). ni and nr are the
// Nonce Data of IKE_SA_INIT, gir the shared secret as KeyExchange returns it
// (padded to the group's length).
func SKEYSEED(prfRow *transform.Transform, ni, nr, gir []byte) (Key, error) {
	p, err := newPRF(prfRow, concat(ni, nr))
	if err != nil {
		return nil, err
	}
	return p.key(gir), nil
}

// RekeySKEYSEED returns the SKEYSEED of an IKE SA rekeyed by CREATE_CHILD_SA
// (RFC 7296 §2.18):
//
//	SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
//
// prfRow is the old IKE SA's PRF, which §2.18 uses even when the new SA
// negotiated another; ni and nr are the CREATE_CHILD_SA nonces. The new SA's
// keys then come from NewIKESAKeys with the new suite and SPIs.
func RekeySKEYSEED(prfRow *transform.Transform, oldSKd, gir, ni, nr []byte) (Key, error) {
	p, err := newPRF(prfRow, oldSKd)
	if err != nil {
		return nil, err
	}
	return p.key(gir, ni, nr), nil
}

// NewIKESAKeys expands SKEYSEED into the IKE SA's keys (RFC 7296 §2.14):
//
//	{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//	        = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
//
// SK_d, SK_pi and SK_pr have the PRF's preferred key length (§2.13), SK_a
// the integrity transform's key length and SK_e the cipher's key plus, for
// an AEAD, its salt (RFC 5282 §7.1, RFC 7634 §4). spiI and spiR are the IKE
// header's SPIs, in network byte order on the wire.
func NewIKESAKeys(s IKESuite, skeyseed, ni, nr []byte, spiI, spiR uint64) (*IKESAKeys, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	p, err := newPRF(s.PRF, skeyseed)
	if err != nil {
		return nil, err
	}
	seed := concat(ni, nr, binary.BigEndian.AppendUint64(nil, spiI), binary.BigEndian.AppendUint64(nil, spiR))
	d := s.PRF.KeySize()
	a := 0
	if s.Integrity != nil {
		a = s.Integrity.KeySize()
	}
	e := s.Encryption.KeyMaterialSize()
	buf, err := p.plus(seed, d+2*a+2*e+2*d)
	if err != nil {
		return nil, err
	}
	keys := split(buf, d, a, a, e, e, d, d)
	return &IKESAKeys{D: keys[0], AI: keys[1], AR: keys[2], EI: keys[3], ER: keys[4], PI: keys[5], PR: keys[6]}, nil
}

// ChildSuite is what a Child SA (ESP) negotiated.
type ChildSuite struct {
	Encryption *transform.Transform // ENCR
	Integrity  *transform.Transform // INTEG; nil with an AEAD cipher
}

func (s ChildSuite) check() error {
	if err := checkRow(s.Encryption, transform.TypeENCR, "ENCR"); err != nil {
		return err
	}
	return checkIntegrity(s.Encryption, s.Integrity)
}

// sizes are the encryption key (with an AEAD's salt) and integrity key
// lengths of one SA.
func (s ChildSuite) sizes() (e, a int) {
	if s.Integrity != nil {
		a = s.Integrity.KeySize()
	}
	return s.Encryption.KeyMaterialSize(), a
}

// DirectionKeys are the keys of one ESP SA, in the form esp.Config takes
// them.
type DirectionKeys struct {
	// Encryption is the cipher key followed, for an AEAD, by its 4-byte
	// salt (RFC 4106 §8.1, RFC 7634 §2).
	Encryption Key
	// Integrity is the integrity key; nil with an AEAD.
	Integrity Key
}

// Zero overwrites both keys.
func (k *DirectionKeys) Zero() {
	k.Encryption.Zero()
	k.Integrity.Zero()
}

// ChildSAKeys are the keys of the two ESP SAs of a Child SA.
type ChildSAKeys struct {
	InitiatorToResponder DirectionKeys
	ResponderToInitiator DirectionKeys
}

// Zero overwrites every key.
func (k *ChildSAKeys) Zero() {
	k.InitiatorToResponder.Zero()
	k.ResponderToInitiator.Zero()
}

// NewChildSAKeys derives the keys of a Child SA (RFC 7296 §2.17):
//
//	KEYMAT = prf+(SK_d, Ni | Nr)                  (gir nil)
//	KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)     (CREATE_CHILD_SA with KE)
//
// ni and nr are IKE_SA_INIT's nonces for the Child SA of IKE_AUTH, else the
// CREATE_CHILD_SA's. The initiator-to-responder SA's keys come first, and
// each SA takes its encryption key, then its integrity key (RFC 4301 via
// §2.17). Only ESP is keyed: AH would take an integrity key alone.
func NewChildSAKeys(prfRow *transform.Transform, s ChildSuite, skd, gir, ni, nr []byte) (*ChildSAKeys, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	e, a := s.sizes()
	buf, err := childKEYMAT(prfRow, skd, gir, ni, nr, 2*(e+a))
	if err != nil {
		return nil, err
	}
	keys := split(buf, e, a, e, a)
	return &ChildSAKeys{
		InitiatorToResponder: DirectionKeys{Encryption: keys[0], Integrity: keys[1]},
		ResponderToInitiator: DirectionKeys{Encryption: keys[2], Integrity: keys[3]},
	}, nil
}

func childKEYMAT(prfRow *transform.Transform, skd, gir, ni, nr []byte, n int) (Key, error) {
	p, err := newPRF(prfRow, skd)
	if err != nil {
		return nil, err
	}
	seed := concat(gir, ni, nr)
	defer clear(seed) // holds g^ir
	return p.plus(seed, n)
}

// concat returns a new slice holding parts one after another.
func concat(parts ...[]byte) []byte {
	n := 0
	for _, b := range parts {
		n += len(b)
	}
	out := make([]byte, 0, n)
	for _, b := range parts {
		out = append(out, b...)
	}
	return out
}
