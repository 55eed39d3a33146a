package transform

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"io"
	"strconv"

	"golang.org/x/crypto/chacha20poly1305"
)

// IANA transform IDs, spelled as in the IKEv2 registry (as crypto/tls spells
// cipher suites), so that a packet capture, an RFC and this code use the same
// words.

// Encryption algorithms (TypeENCR).
const (
	InsecureENCR_DES       ID = 2 // RFC 2405; 56-bit key, kept only to reject it by name
	ENCR_3DES              ID = 3 // RFC 2451
	ENCR_AES_CBC           ID = 12
	ENCR_AES_GCM_16        ID = 20 // RFC 4106, 16-byte ICV
	ENCR_CHACHA20_POLY1305 ID = 28 // RFC 7634
)

// Pseudorandom functions (TypePRF).
const (
	PRF_HMAC_MD5      ID = 1
	PRF_HMAC_SHA1     ID = 2
	PRF_HMAC_SHA2_256 ID = 5
	PRF_HMAC_SHA2_384 ID = 6
	PRF_HMAC_SHA2_512 ID = 7
)

// Integrity algorithms (TypeINTEG).
const (
	AUTH_HMAC_MD5_96       ID = 1  // RFC 2403
	AUTH_HMAC_SHA1_96      ID = 2  // RFC 2404
	AUTH_HMAC_SHA2_256_128 ID = 12 // RFC 4868
	AUTH_HMAC_SHA2_384_192 ID = 13
	AUTH_HMAC_SHA2_512_256 ID = 14
	// AUTH_HMAC_SHA2_256_96 is the pre-RFC 4868 truncation of SHA-256 to 96
	// bits that Junos offers as hmac-sha-256-96 for legacy peers. It has no
	// IANA number; this is the private-use number strongSwan gives it.
	AUTH_HMAC_SHA2_256_96 ID = 1026
)

// Key exchange methods (TypeKE), the "Diffie-Hellman groups" of Junos.
const (
	InsecureMODP_768 ID = 1 // group1: 768 bits, forbidden by RFC 8247
	MODP_1024        ID = 2
	MODP_1536        ID = 5
	MODP_2048        ID = 14
	MODP_3072        ID = 15
	MODP_4096        ID = 16
	ECP_256          ID = 19
	ECP_384          ID = 20
	ECP_521          ID = 21
	MODP_2048_256    ID = 24 // RFC 5114, 256-bit prime order subgroup
	CURVE25519       ID = 31 // RFC 8031
	// ML-KEM (draft-ietf-ipsecme-ikev2-mlkem): 768 and 1024 from
	// crypto/mlkem, 512 from CIRCL (mlkem512.go).
	ML_KEM_512  ID = 35
	ML_KEM_768  ID = 36
	ML_KEM_1024 ID = 37
)

// Extended sequence numbers (TypeESN).
const (
	NO_ESN ID = 0
	ESN    ID = 1
)

// table is every algorithm the gateway knows, in the order Junos lists the
// keywords (the configuration schema's enumerations follow this order).
var table = [...]Transform{
	// Encryption. DES is here only so that "des-cbc" parses and is rejected
	// as insecure rather than as unknown.
	{Type: TypeENCR, ID: InsecureENCR_DES, KeyBits: 64, Name: "ENCR_DES", Display: "des-cbc",
		IKEKeyword: "des-cbc", IPsecKeyword: "des-cbc", IKEv1: 1, IKEv1ESP: 2,
		BlockSize: 8, IVSize: 8, Insecure: true},
	{Type: TypeENCR, ID: ENCR_3DES, KeyBits: 192, Name: "ENCR_3DES", Display: "3des-cbc",
		IKEKeyword: "3des-cbc", IPsecKeyword: "3des-cbc", IKEv1: 5, IKEv1ESP: 3,
		BlockSize: 8, IVSize: 8, newBlock: newTripleDES},
	aesCBC(128), aesCBC(192), aesCBC(256),
	aesGCM(128, true), aesGCM(192, false), aesGCM(256, true),
	{Type: TypeENCR, ID: ENCR_CHACHA20_POLY1305, KeyBits: 256, Name: "ENCR_CHACHA20_POLY1305",
		Display: "chacha20-poly1305", IKEKeyword: "chacha20-poly1305", IPsecKeyword: "chacha20-poly1305",
		BlockSize: 1, IVSize: 8, ICVSize: chacha20poly1305.Overhead, SaltSize: 4,
		newAEAD: chacha20poly1305.New},

	// Pseudorandom functions. The IKE keyword is the proposal's
	// authentication-algorithm, which selects the PRF and the integrity
	// transform together.
	{Type: TypePRF, ID: PRF_HMAC_MD5, KeyBits: 128, Name: "PRF_HMAC_MD5", Display: "hmac-md5",
		IKEKeyword: "md5", IKEv1: 1, OutputSize: md5.Size, hash: md5.New},
	{Type: TypePRF, ID: PRF_HMAC_SHA1, KeyBits: 160, Name: "PRF_HMAC_SHA1", Display: "hmac-sha1",
		IKEKeyword: "sha1", IKEv1: 2, OutputSize: sha1.Size, hash: sha1.New},
	{Type: TypePRF, ID: PRF_HMAC_SHA2_256, KeyBits: 256, Name: "PRF_HMAC_SHA2_256", Display: "hmac-sha256",
		IKEKeyword: "sha-256", IKEv1: 4, OutputSize: sha256.Size, hash: sha256.New},
	{Type: TypePRF, ID: PRF_HMAC_SHA2_384, KeyBits: 384, Name: "PRF_HMAC_SHA2_384", Display: "hmac-sha384",
		IKEKeyword: "sha-384", IKEv1: 5, OutputSize: sha512.Size384, hash: sha512.New384},
	{Type: TypePRF, ID: PRF_HMAC_SHA2_512, KeyBits: 512, Name: "PRF_HMAC_SHA2_512", Display: "hmac-sha512",
		IKEKeyword: "sha-512", IKEv1: 6, OutputSize: sha512.Size, hash: sha512.New},

	// Integrity. Keys are as long as the hash output (RFC 2403, 2404, 4868).
	{Type: TypeINTEG, ID: AUTH_HMAC_MD5_96, KeyBits: 128, Name: "AUTH_HMAC_MD5_96", Display: "hmac-md5-96",
		IKEKeyword: "md5", IPsecKeyword: "hmac-md5-96", IKEv1: 1,
		ICVSize: 12, OutputSize: md5.Size, hash: md5.New},
	{Type: TypeINTEG, ID: AUTH_HMAC_SHA1_96, KeyBits: 160, Name: "AUTH_HMAC_SHA1_96", Display: "hmac-sha1-96",
		IKEKeyword: "sha1", IPsecKeyword: "hmac-sha1-96", IKEv1: 2,
		ICVSize: 12, OutputSize: sha1.Size, hash: sha1.New},
	{Type: TypeINTEG, ID: AUTH_HMAC_SHA2_256_128, KeyBits: 256, Name: "AUTH_HMAC_SHA2_256_128", Display: "hmac-sha256-128",
		IKEKeyword: "sha-256", IPsecKeyword: "hmac-sha-256-128", IKEv1: 5,
		ICVSize: 16, OutputSize: sha256.Size, hash: sha256.New},
	{Type: TypeINTEG, ID: AUTH_HMAC_SHA2_256_96, KeyBits: 256, Name: "AUTH_HMAC_SHA2_256_96", Display: "hmac-sha256-96",
		IPsecKeyword: "hmac-sha-256-96", ICVSize: 12, OutputSize: sha256.Size, hash: sha256.New},
	{Type: TypeINTEG, ID: AUTH_HMAC_SHA2_384_192, KeyBits: 384, Name: "AUTH_HMAC_SHA2_384_192", Display: "hmac-sha384-192",
		IKEKeyword: "sha-384", IPsecKeyword: "hmac-sha-384-192", IKEv1: 6,
		ICVSize: 24, OutputSize: sha512.Size384, hash: sha512.New384},
	{Type: TypeINTEG, ID: AUTH_HMAC_SHA2_512_256, KeyBits: 512, Name: "AUTH_HMAC_SHA2_512_256", Display: "hmac-sha512-256",
		IKEKeyword: "sha-512", IPsecKeyword: "hmac-sha-512-256", IKEv1: 7,
		ICVSize: 32, OutputSize: sha512.Size, hash: sha512.New},

	// Key exchange. The same groupN keyword serves the IKE proposal's
	// dh-group and the IPsec policy's perfect-forward-secrecy keys.
	// Curve25519 has no IKEv1 group number.
	ke(InsecureMODP_768, "768-bit MODP Group", 96, 1, true, modp768.newKeyExchange),
	ke(MODP_1024, "1024-bit MODP Group", 128, 2, false, modp1024.newKeyExchange),
	ke(MODP_1536, "1536-bit MODP Group", 192, 5, false, modp1536.newKeyExchange),
	ke(MODP_2048, "2048-bit MODP Group", 256, 14, false, modp2048.newKeyExchange),
	ke(MODP_3072, "3072-bit MODP Group", 384, 15, false, modp3072.newKeyExchange),
	ke(MODP_4096, "4096-bit MODP Group", 512, 16, false, modp4096.newKeyExchange),
	ke(ECP_256, "256-bit random ECP group", 64, 19, false, ecp256.newKeyExchange),
	ke(ECP_384, "384-bit random ECP group", 96, 20, false, ecp384.newKeyExchange),
	ke(ECP_521, "521-bit random ECP group", 132, 21, false, ecp521.newKeyExchange),
	ke(MODP_2048_256, "2048-bit MODP Group with 256-bit Prime Order Subgroup", 256, 24, false, modp2048s256.newKeyExchange),
	ke(CURVE25519, "Curve25519", 32, 0, false, curve25519.newKeyExchange),
	// ML-KEM has no keyword yet: configuration cannot name it until the
	// IKE SAs run additional key exchanges (RFC 9370), so it cannot become
	// a dh-group or perfect-forward-secrecy keys keyword by accident. It
	// has no IKEv1 group.
	kemRow(ML_KEM_512, "ml-kem-512", "ML-KEM-512", mlkem512KEM),
	kemRow(ML_KEM_768, "ml-kem-768", "ML-KEM-768", mlkem768),
	kemRow(ML_KEM_1024, "ml-kem-1024", "ML-KEM-1024", mlkem1024),

	// Extended sequence numbers: negotiated in IKEv2, switched on in Junos
	// by the extended-sequence-number flag rather than a keyword.
	{Type: TypeESN, ID: NO_ESN, Name: "No Extended Sequence Numbers", Display: "Disabled"},
	{Type: TypeESN, ID: ESN, Name: "Extended Sequence Numbers", Display: "Enabled"},
}

func aesCBC(bits int) Transform {
	kw := "aes-" + strconv.Itoa(bits) + "-cbc"
	return Transform{Type: TypeENCR, ID: ENCR_AES_CBC, KeyBits: bits, KeyLengthAttribute: true,
		Name: "ENCR_AES_CBC", Display: "aes" + strconv.Itoa(bits) + "-cbc",
		IKEKeyword: kw, IPsecKeyword: kw, IKEv1: 7, IKEv1ESP: 12,
		BlockSize: aes.BlockSize, IVSize: aes.BlockSize, newBlock: aes.NewCipher}
}

// aesGCM builds an AES-GCM row with the 16-byte ICV. Junos offers
// aes-192-gcm only in IPsec proposals, hence inIKE. GCM has no IKEv1 phase 1
// value; RFC 4106 §8 gives it ESP transform ID 20 in the IPsec DOI.
func aesGCM(bits int, inIKE bool) Transform {
	kw := "aes-" + strconv.Itoa(bits) + "-gcm"
	t := Transform{Type: TypeENCR, ID: ENCR_AES_GCM_16, KeyBits: bits, KeyLengthAttribute: true,
		Name: "ENCR_AES_GCM_16", Display: "aes" + strconv.Itoa(bits) + "-gcm",
		IPsecKeyword: kw, IKEv1ESP: 20,
		BlockSize: 1, IVSize: 8, ICVSize: 16, SaltSize: 4, newAEAD: newAESGCM}
	if inIKE {
		t.IKEKeyword = kw
	}
	return t
}

// ke builds a KE row; impl binds the group's parameters to its row name.
func ke(id ID, name string, publicSize int, ikev1 uint16, insecure bool,
	impl func(name string) func(io.Reader) (KeyExchange, error)) Transform {
	n := strconv.Itoa(int(id))
	return Transform{Type: TypeKE, ID: id, Name: name, Display: "DH-group-" + n,
		IKEKeyword: "group" + n, IPsecKeyword: "group" + n, IKEv1: ikev1,
		PublicKeySize: publicSize, Insecure: insecure, newKeyExchange: impl(name)}
}

// kemRow builds a KEM row. Its keywords stay empty (see the table).
func kemRow(id ID, name, display string, k *kem) Transform {
	return Transform{Type: TypeKE, ID: id, Name: name, Display: display,
		PublicKeySize: k.encapsulationKeySize, CiphertextSize: k.ciphertextSize,
		newKeyExchange: k.newKeyExchange(name), kem: k}
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// errDegenerate3DES reports a 3DES key whose thirds repeat, which turns
// EDE into single DES (RFC 2451 §2.5 asks that such keys be rejected).
var errDegenerate3DES = errors.New("transform: ENCR_3DES key has two equal 8-byte parts (degenerates to single DES)")

func newTripleDES(key []byte) (cipher.Block, error) {
	k1, k2, k3 := key[0:8], key[8:16], key[16:24]
	if subtle.ConstantTimeCompare(k1, k2) == 1 || subtle.ConstantTimeCompare(k2, k3) == 1 {
		return nil, errDegenerate3DES
	}
	return des.NewTripleDESCipher(key)
}
