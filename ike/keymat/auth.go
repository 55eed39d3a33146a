package keymat

import (
	"crypto/hmac"

	"ipsecgw/transform"
)

// keyPad is the constant of RFC 7296 §2.15: 17 ASCII octets, no terminator.
const keyPad = "Key Pad for IKEv2"

// SignedOctets returns the octets an AUTH payload covers (RFC 7296 §2.15):
//
//	InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
//	ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
//	MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
//	MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
//
// For the side whose AUTH is computed: message is the IKE_SA_INIT message it
// sent, byte for byte as sent (from the IKE header on, without a non-ESP
// marker); peerNonce is the other side's Nonce Data; skp is its SK_pi or
// SK_pr; id is its ID payload after the generic payload header (ID Type,
// three reserved octets, identification data). The same octets serve
// signatures, which is why they are built separately from PSKAuth.
func SignedOctets(prfRow *transform.Transform, message, peerNonce, skp, id []byte) ([]byte, error) {
	p, err := newPRF(prfRow, skp)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(message)+len(peerNonce)+prfRow.OutputSize)
	out = append(append(out, message...), peerNonce...)
	return p.sum(out, id), nil
}

// PSKAuth returns the AUTH payload's data for Shared Key Message Integrity
// Code authentication (RFC 7296 §2.15):
//
//	AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
//
// psk is the pre-shared key, or the MSK of EAP (§2.16), which takes the same
// computation; signedOctets comes from SignedOctets.
func PSKAuth(prfRow *transform.Transform, psk, signedOctets []byte) ([]byte, error) {
	p, err := newPRF(prfRow, psk)
	if err != nil {
		return nil, err
	}
	padded := p.key([]byte(keyPad))
	defer padded.Zero()
	q, err := newPRF(prfRow, padded)
	if err != nil {
		return nil, err
	}
	return q.sum(nil, signedOctets), nil
}

// VerifyPSKAuth reports whether auth is the AUTH a peer holding psk computes
// over signedOctets, comparing in constant time.
func VerifyPSKAuth(prfRow *transform.Transform, psk, signedOctets, auth []byte) (bool, error) {
	want, err := PSKAuth(prfRow, psk, signedOctets)
	if err != nil {
		return false, err
	}
	return hmac.Equal(want, auth), nil
}
