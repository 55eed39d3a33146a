package transform

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"strings"
	"testing"
)

// Known-answer tests run through the table's constructors, so a row wired to
// the wrong hash or cipher fails here.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

// HMAC vectors from RFC 2202 (MD5, SHA-1) and RFC 4231 (SHA-2). Each is run
// through the PRF row (full output) and the INTEG row (truncated ICV).
func TestHMACKnownAnswers(t *testing.T) {
	largeKey := "Test Using Larger Than Block-Size Key - Hash Key First"
	cases := []struct {
		name      string
		prf, auth ID
		key, data []byte
		want      string
	}{
		{"RFC2202/MD5/1", PRF_HMAC_MD5, AUTH_HMAC_MD5_96, bytes.Repeat([]byte{0x0b}, 16), []byte("Hi There"),
			"9294727a3638bb1c13f48ef8158bfc9d"},
		{"RFC2202/MD5/2", PRF_HMAC_MD5, AUTH_HMAC_MD5_96, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"750c783e6ab0b503eaa86e310a5db738"},
		{"RFC2202/MD5/6", PRF_HMAC_MD5, AUTH_HMAC_MD5_96, bytes.Repeat([]byte{0xaa}, 80), []byte(largeKey),
			"6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
		{"RFC2202/SHA1/1", PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96, bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There"),
			"b617318655057264e28bc0b6fb378c8ef146be00"},
		{"RFC2202/SHA1/2", PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"RFC2202/SHA1/6", PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96, bytes.Repeat([]byte{0xaa}, 80), []byte(largeKey),
			"aa4ae5e15272d00e95705637ce8a3b55ed402112"},
		{"RFC4231/SHA256/1", PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There"),
			"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"RFC4231/SHA256/2", PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"RFC4231/SHA256/6", PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, bytes.Repeat([]byte{0xaa}, 131), []byte(largeKey),
			"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{"RFC4231/SHA384/1", PRF_HMAC_SHA2_384, AUTH_HMAC_SHA2_384_192, bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There"),
			"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{"RFC4231/SHA384/2", PRF_HMAC_SHA2_384, AUTH_HMAC_SHA2_384_192, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{"RFC4231/SHA384/6", PRF_HMAC_SHA2_384, AUTH_HMAC_SHA2_384_192, bytes.Repeat([]byte{0xaa}, 131), []byte(largeKey),
			"4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"},
		{"RFC4231/SHA512/1", PRF_HMAC_SHA2_512, AUTH_HMAC_SHA2_512_256, bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There"),
			"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde" +
				"daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"RFC4231/SHA512/2", PRF_HMAC_SHA2_512, AUTH_HMAC_SHA2_512_256, []byte("Jefe"), []byte("what do ya want for nothing?"),
			"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" +
				"9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{"RFC4231/SHA512/6", PRF_HMAC_SHA2_512, AUTH_HMAC_SHA2_512_256, bytes.Repeat([]byte{0xaa}, 131), []byte(largeKey),
			"80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352" +
				"6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.want)
			prf, _ := Lookup(TypePRF, c.prf, 0)
			mac, err := prf.NewMAC(c.key)
			if err != nil {
				t.Fatal(err)
			}
			mac.Write(c.data)
			if got := mac.Sum(nil); !bytes.Equal(got, want) {
				t.Errorf("%s = %x, want %x", prf, got, want)
			}
			// An INTEG key has a fixed length, so the truncated check only
			// runs where the RFC's key happens to have it.
			auth, _ := Lookup(TypeINTEG, c.auth, 0)
			if len(c.key) != auth.KeySize() {
				return
			}
			mac, err = auth.NewMAC(c.key)
			if err != nil {
				t.Fatal(err)
			}
			mac.Write(c.data)
			if got := mac.Sum(nil)[:auth.ICVSize]; !bytes.Equal(got, want[:auth.ICVSize]) {
				t.Errorf("%s ICV = %x, want %x", auth, got, want[:auth.ICVSize])
			}
		})
	}
}

// RFC 4231 test case 5: truncation to 128 bits, with a 20-byte key, which
// an INTEG row does not accept; it checks the truncation point instead.
func TestHMACTruncation(t *testing.T) {
	cases := map[ID]string{
		PRF_HMAC_SHA2_256: "a3b6167473100ee06e0c796c2955552b",
		PRF_HMAC_SHA2_384: "3abf34c3503b2a23a46efc619baef897",
		PRF_HMAC_SHA2_512: "415fad6271580a531d4179bc891d87a6",
	}
	for id, want := range cases {
		prf, _ := Lookup(TypePRF, id, 0)
		mac, _ := prf.NewMAC(bytes.Repeat([]byte{0x0c}, 20))
		mac.Write([]byte("Test With Truncation"))
		if got := mac.Sum(nil)[:16]; !bytes.Equal(got, unhex(t, want)) {
			t.Errorf("%s truncated = %x, want %s", prf, got, want)
		}
	}
}

// AES-GCM test cases 4, 10 and 16 of McGrew and Viega, "The Galois/Counter
// Mode of Operation" (the NIST submission): 60-byte plaintext, 20-byte AAD.
func TestAESGCMKnownAnswers(t *testing.T) {
	const (
		nonce = "cafebabefacedbaddecaf888"
		plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
		aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2"
	)
	cases := []struct {
		bits      int
		key, want string
	}{
		{128, "feffe9928665731c6d6a8f9467308308",
			"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
				"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091" +
				"5bc94fbc3221a5db94fae95ae7121a47"},
		{192, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
			"3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c" +
				"7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710" +
				"2519498e80f1478f37ba55bd6d27618c"},
		{256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
			"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
				"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
				"76fc6ece0f4e1768cddf8853bb2d551b"},
	}
	for _, c := range cases {
		row, ok := Lookup(TypeENCR, ENCR_AES_GCM_16, c.bits)
		if !ok {
			t.Fatalf("no AES-GCM-%d row", c.bits)
		}
		aead, err := row.NewAEAD(unhex(t, c.key))
		if err != nil {
			t.Fatal(err)
		}
		checkAEAD(t, row.String(), aead, unhex(t, nonce), unhex(t, plain), unhex(t, aad), unhex(t, c.want))
	}
}

// ChaCha20-Poly1305: RFC 8439 §2.8.2, and RFC 7634 Appendix B (the IKEv2
// example, whose nonce is the ESP-style salt || IV).
func TestChaCha20Poly1305KnownAnswers(t *testing.T) {
	row, _ := Lookup(TypeENCR, ENCR_CHACHA20_POLY1305, 0)
	key := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
	aead, err := row.NewAEAD(key)
	if err != nil {
		t.Fatal(err)
	}
	sunscreen := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	checkAEAD(t, "RFC8439 2.8.2", aead,
		unhex(t, "070000004041424344454647"), sunscreen, unhex(t, "50515253c0c1c2c3c4c5c6c7"),
		unhex(t, `d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
			3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
			92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
			3ff4def08e4b7a9de576d26586cec64b6116
			1ae10b594f09e26a7e902ecbd0600691`))
	checkAEAD(t, "RFC7634 B", aead,
		unhex(t, "a0a1a2a3 1011121314151617"), unhex(t, "0000000c000040010000000a00"),
		unhex(t, "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029"),
		unhex(t, "610394701f8d017f7c12924889 6b71bfe25236efd7cdc67066906315b2"))
}

// AES-CBC: RFC 3602 §4 cases 1 and 2 through the table's block cipher.
func TestAESCBCKnownAnswers(t *testing.T) {
	cases := []struct{ key, iv, plain, want string }{
		{"06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
			hex.EncodeToString([]byte("Single block msg")), "e353779c1079aeb82708942dbe77181a"},
		{"c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			"d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"},
	}
	row, _ := Lookup(TypeENCR, ENCR_AES_CBC, 128)
	for i, c := range cases {
		block, err := row.NewBlock(unhex(t, c.key))
		if err != nil {
			t.Fatal(err)
		}
		got := unhex(t, c.plain)
		cipher.NewCBCEncrypter(block, unhex(t, c.iv)).CryptBlocks(got, got)
		if want := unhex(t, c.want); !bytes.Equal(got, want) {
			t.Errorf("RFC 3602 case %d: %x, want %x", i+1, got, want)
		}
	}
}

func checkAEAD(t *testing.T, name string, aead cipher.AEAD, nonce, plain, aad, want []byte) {
	t.Helper()
	got := aead.Seal(nil, nonce, plain, aad)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: Seal = %x, want %x", name, got, want)
		return
	}
	back, err := aead.Open(nil, nonce, want, aad)
	if err != nil || !bytes.Equal(back, plain) {
		t.Errorf("%s: Open = %x, %v", name, back, err)
	}
	tampered := bytes.Clone(want)
	tampered[len(tampered)-1] ^= 1
	if _, err := aead.Open(nil, nonce, tampered, aad); err == nil {
		t.Errorf("%s: Open accepted a flipped tag bit", name)
	}
}
