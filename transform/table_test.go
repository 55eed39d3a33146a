package transform

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestRowsConsistent checks every row's sizes against what its constructor
// actually builds, so a mistyped size in the table cannot survive.
func TestRowsConsistent(t *testing.T) {
	for _, row := range All() {
		t.Run(row.String()+"/"+row.Type.String(), func(t *testing.T) {
			if row.Name == "" || row.Display == "" {
				t.Fatalf("row lacks a name or display name: %+v", row)
			}
			k := 0
			if row.KeyLengthAttribute {
				k = row.KeyBits
			}
			if got, ok := Lookup(row.Type, row.ID, k); !ok || got != row {
				t.Errorf("Lookup(%s, %d, %d) = %v, %v; want this row", row.Type, row.ID, k, got, ok)
			}
			if row.KeyLengthAttribute {
				if _, ok := Lookup(row.Type, row.ID, 0); ok {
					t.Errorf("Lookup without key length found a row that needs one")
				}
			} else if row.KeyBits != 0 {
				if _, ok := Lookup(row.Type, row.ID, row.KeyBits); ok {
					t.Errorf("Lookup with a key length found a fixed-length row")
				}
			}
			switch row.Type {
			case TypeENCR:
				checkENCR(t, row)
			case TypePRF, TypeINTEG:
				checkMAC(t, row)
			case TypeKE:
				checkKE(t, row)
			case TypeESN:
				if row.IsAEAD() || row.IsCBC() || row.hash != nil || row.KeyBits != 0 {
					t.Errorf("ESN row has a constructor or key")
				}
			default:
				t.Errorf("unknown type %d", row.Type)
			}
		})
	}
}

func checkENCR(t *testing.T, row *Transform) {
	t.Helper()
	if row.hash != nil || row.newKeyExchange != nil {
		t.Errorf("ENCR row has a MAC or KE constructor")
	}
	key := testKey(row.KeySize())
	if row.Insecure {
		if row.IsAEAD() || row.IsCBC() {
			t.Errorf("insecure row has a constructor")
		}
		if _, err := row.NewBlock(key); !errors.Is(err, ErrNotImplemented) {
			t.Errorf("NewBlock on insecure row: err = %v, want ErrNotImplemented", err)
		}
		return
	}
	if row.IsAEAD() == row.IsCBC() {
		t.Fatalf("ENCR row must be exactly one of AEAD or CBC")
	}
	if _, err := row.NewMAC(key); !errors.Is(err, ErrWrongConstructor) {
		t.Errorf("NewMAC on cipher: err = %v, want ErrWrongConstructor", err)
	}
	if row.IsAEAD() {
		if _, err := row.NewAEAD(key[:len(key)-1]); err == nil {
			t.Errorf("NewAEAD accepted a short key")
		}
		aead, err := row.NewAEAD(key)
		if err != nil {
			t.Fatal(err)
		}
		if aead.NonceSize() != row.SaltSize+row.IVSize {
			t.Errorf("nonce %d bytes, table says salt %d + IV %d", aead.NonceSize(), row.SaltSize, row.IVSize)
		}
		if aead.Overhead() != row.ICVSize {
			t.Errorf("tag %d bytes, table says ICV %d", aead.Overhead(), row.ICVSize)
		}
		if row.SaltSize != 4 || row.IVSize != 8 || row.BlockSize != 1 {
			t.Errorf("ESP AEADs use a 4-byte salt, 8-byte IV and no block: %+v", row)
		}
		if _, err := row.NewBlock(key); !errors.Is(err, ErrWrongConstructor) {
			t.Errorf("NewBlock on AEAD: err = %v, want ErrWrongConstructor", err)
		}
		return
	}
	if _, err := row.NewBlock(key[1:]); err == nil {
		t.Errorf("NewBlock accepted a short key")
	}
	block, err := row.NewBlock(key)
	if err != nil {
		t.Fatal(err)
	}
	if block.BlockSize() != row.BlockSize || row.IVSize != row.BlockSize {
		t.Errorf("block %d bytes, table says block %d IV %d", block.BlockSize(), row.BlockSize, row.IVSize)
	}
	if row.ICVSize != 0 || row.SaltSize != 0 {
		t.Errorf("CBC row has an ICV or salt")
	}
	if row.IKEv1ESP == 0 {
		t.Errorf("CBC cipher lacks its IKEv1 ESP transform ID")
	}
}

func checkMAC(t *testing.T, row *Transform) {
	t.Helper()
	if row.hash == nil || row.IsAEAD() || row.IsCBC() {
		t.Fatalf("%s row must have exactly a hash", row.Type)
	}
	mac, err := row.NewMAC(testKey(row.KeySize()))
	if err != nil {
		t.Fatal(err)
	}
	if mac.Size() != row.OutputSize || row.KeySize() != row.OutputSize {
		t.Errorf("HMAC output %d, table says output %d key %d", mac.Size(), row.OutputSize, row.KeySize())
	}
	if row.Type == TypePRF {
		if row.ICVSize != 0 {
			t.Errorf("PRF row has an ICV size")
		}
		if _, err := row.NewMAC([]byte("any length key")); err != nil {
			t.Errorf("PRF refused a key of another length: %v", err)
		}
		return
	}
	if row.ICVSize < 12 || row.ICVSize > row.OutputSize {
		t.Errorf("ICV %d outside 12..%d", row.ICVSize, row.OutputSize)
	}
	if _, err := row.NewMAC(testKey(row.KeySize() - 1)); err == nil {
		t.Errorf("INTEG accepted a short key")
	}
}

func checkKE(t *testing.T, row *Transform) {
	t.Helper()
	if row.PublicKeySize == 0 {
		t.Errorf("KE row lacks its public value size")
	}
	if row.IsKEM() {
		checkKEM(t, row)
		return
	}
	if row.CiphertextSize != 0 || row.ResponderPublicKeySize() != row.PublicKeySize {
		t.Errorf("Diffie-Hellman row has a ciphertext size")
	}
	want := "group" + strings.TrimPrefix(row.Display, "DH-group-")
	if row.IKEKeyword != want || row.IPsecKeyword != want {
		t.Errorf("keywords %q/%q, display %q", row.IKEKeyword, row.IPsecKeyword, row.Display)
	}
	// Every KE row, the insecure 768-bit group included, has an
	// implementation (see Transform.Insecure); ke_test.go tests them.
	kx, err := row.NewKeyExchange(nil)
	if err != nil {
		t.Fatalf("NewKeyExchange: %v", err)
	}
	if len(kx.PublicKey()) != row.PublicKeySize {
		t.Errorf("public value %d bytes, table says %d", len(kx.PublicKey()), row.PublicKeySize)
	}
	if row.IsAEAD() || row.IsCBC() || row.hash != nil {
		t.Errorf("KE row has a cipher or MAC constructor")
	}
	if _, err := row.NewMAC(testKey(16)); !errors.Is(err, ErrWrongConstructor) && !errors.Is(err, ErrNotImplemented) {
		t.Errorf("NewMAC on a KE row: err = %v", err)
	}
}

func testKey(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*7 + 1) // distinct 8-byte thirds, so 3DES accepts it
	}
	return k
}

// TestJunosKeywords resolves every keyword of the Junos reference (§2.1,
// §2.5, §2.6, §3.5) to the IANA transform §3.5 maps it to.
func TestJunosKeywords(t *testing.T) {
	type want struct {
		ctx     Context
		typ     Type
		keyword string
		id      ID
		keyBits int
		ikev1   uint16
	}
	cases := []want{
		{IKE, TypeENCR, "des-cbc", InsecureENCR_DES, 64, 1},
		{IKE, TypeENCR, "3des-cbc", ENCR_3DES, 192, 5},
		{IKE, TypeENCR, "aes-128-cbc", ENCR_AES_CBC, 128, 7},
		{IKE, TypeENCR, "aes-192-cbc", ENCR_AES_CBC, 192, 7},
		{IKE, TypeENCR, "aes-256-cbc", ENCR_AES_CBC, 256, 7},
		{IKE, TypeENCR, "aes-128-gcm", ENCR_AES_GCM_16, 128, 0},
		{IKE, TypeENCR, "aes-256-gcm", ENCR_AES_GCM_16, 256, 0},
		{IKE, TypeENCR, "chacha20-poly1305", ENCR_CHACHA20_POLY1305, 256, 0},
		{IKE, TypePRF, "md5", PRF_HMAC_MD5, 128, 1},
		{IKE, TypePRF, "sha1", PRF_HMAC_SHA1, 160, 2},
		{IKE, TypePRF, "sha-256", PRF_HMAC_SHA2_256, 256, 4},
		{IKE, TypePRF, "sha-384", PRF_HMAC_SHA2_384, 384, 5},
		{IKE, TypePRF, "sha-512", PRF_HMAC_SHA2_512, 512, 6},
		{IKE, TypeINTEG, "md5", AUTH_HMAC_MD5_96, 128, 1},
		{IKE, TypeINTEG, "sha1", AUTH_HMAC_SHA1_96, 160, 2},
		{IKE, TypeINTEG, "sha-256", AUTH_HMAC_SHA2_256_128, 256, 5},
		{IKE, TypeINTEG, "sha-384", AUTH_HMAC_SHA2_384_192, 384, 6},
		{IKE, TypeINTEG, "sha-512", AUTH_HMAC_SHA2_512_256, 512, 7},
		{IPsec, TypeENCR, "des-cbc", InsecureENCR_DES, 64, 1},
		{IPsec, TypeENCR, "3des-cbc", ENCR_3DES, 192, 5},
		{IPsec, TypeENCR, "aes-128-cbc", ENCR_AES_CBC, 128, 7},
		{IPsec, TypeENCR, "aes-192-cbc", ENCR_AES_CBC, 192, 7},
		{IPsec, TypeENCR, "aes-256-cbc", ENCR_AES_CBC, 256, 7},
		{IPsec, TypeENCR, "aes-128-gcm", ENCR_AES_GCM_16, 128, 0},
		{IPsec, TypeENCR, "aes-192-gcm", ENCR_AES_GCM_16, 192, 0},
		{IPsec, TypeENCR, "aes-256-gcm", ENCR_AES_GCM_16, 256, 0},
		{IPsec, TypeENCR, "chacha20-poly1305", ENCR_CHACHA20_POLY1305, 256, 0},
		{IPsec, TypeINTEG, "hmac-md5-96", AUTH_HMAC_MD5_96, 128, 1},
		{IPsec, TypeINTEG, "hmac-sha1-96", AUTH_HMAC_SHA1_96, 160, 2},
		{IPsec, TypeINTEG, "hmac-sha-256-128", AUTH_HMAC_SHA2_256_128, 256, 5},
		{IPsec, TypeINTEG, "hmac-sha-256-96", AUTH_HMAC_SHA2_256_96, 256, 0},
		{IPsec, TypeINTEG, "hmac-sha-384-192", AUTH_HMAC_SHA2_384_192, 384, 6},
		{IPsec, TypeINTEG, "hmac-sha-512-256", AUTH_HMAC_SHA2_512_256, 512, 7},
	}
	for _, n := range []ID{1, 2, 5, 14, 15, 16, 19, 20, 21, 24, 31} {
		ikev1 := uint16(n)
		if n == CURVE25519 {
			ikev1 = 0
		}
		kw := "group" + strconv.Itoa(int(n))
		cases = append(cases, want{IKE, TypeKE, kw, n, 0, ikev1}, want{IPsec, TypeKE, kw, n, 0, ikev1})
	}
	for _, c := range cases {
		row, ok := LookupKeyword(c.ctx, c.typ, c.keyword)
		if !ok {
			t.Errorf("%s %s %q does not resolve", c.ctx, c.typ, c.keyword)
			continue
		}
		if row.ID != c.id || row.KeyBits != c.keyBits || row.IKEv1 != c.ikev1 {
			t.Errorf("%s %s %q = %s id %d bits %d IKEv1 %d; want id %d bits %d IKEv1 %d",
				c.ctx, c.typ, c.keyword, row, row.ID, row.KeyBits, row.IKEv1, c.id, c.keyBits, c.ikev1)
		}
	}
	if _, ok := LookupKeyword(IKE, TypeENCR, "aes-192-gcm"); ok {
		t.Errorf("aes-192-gcm is an IPsec-only keyword in Junos")
	}
	if _, ok := LookupKeyword(IKE, TypeINTEG, "hmac-sha1-96"); ok {
		t.Errorf("an IPsec keyword resolved in an IKE proposal")
	}
	if _, ok := LookupKeyword(IPsec, TypeINTEG, "sha1"); ok {
		t.Errorf("an IKE keyword resolved in an IPsec proposal")
	}
}

// TestKeywordLists pins the enumerations the configuration schema gets.
func TestKeywordLists(t *testing.T) {
	groups := []string{"group1", "group2", "group5", "group14", "group15", "group16",
		"group19", "group20", "group21", "group24", "group31"}
	cases := []struct {
		ctx  Context
		typ  Type
		want []string
	}{
		{IKE, TypeENCR, []string{"des-cbc", "3des-cbc", "aes-128-cbc", "aes-192-cbc", "aes-256-cbc",
			"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"}},
		{IKE, TypePRF, []string{"md5", "sha1", "sha-256", "sha-384", "sha-512"}},
		{IKE, TypeINTEG, []string{"md5", "sha1", "sha-256", "sha-384", "sha-512"}},
		{IKE, TypeKE, groups},
		{IPsec, TypeENCR, []string{"des-cbc", "3des-cbc", "aes-128-cbc", "aes-192-cbc", "aes-256-cbc",
			"aes-128-gcm", "aes-192-gcm", "aes-256-gcm", "chacha20-poly1305"}},
		{IPsec, TypeINTEG, []string{"hmac-md5-96", "hmac-sha1-96", "hmac-sha-256-128", "hmac-sha-256-96",
			"hmac-sha-384-192", "hmac-sha-512-256"}},
		{IPsec, TypePRF, nil},
		{IPsec, TypeKE, groups},
		{IPsec, TypeESN, nil},
	}
	for _, c := range cases {
		got := Keywords(c.ctx, c.typ)
		if !slices.Equal(got, c.want) {
			t.Errorf("Keywords(%s, %s) = %q, want %q", c.ctx, c.typ, got, c.want)
		}
	}
	// The caller owns the slice it gets.
	l := Keywords(IKE, TypeENCR)
	l[0] = "changed"
	if Keywords(IKE, TypeENCR)[0] != "des-cbc" {
		t.Errorf("Keywords returned the table's own slice")
	}
}

func TestTripleDESRejectsDegenerateKey(t *testing.T) {
	row, _ := Lookup(TypeENCR, ENCR_3DES, 0)
	k := bytes.Repeat([]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, 3)
	if _, err := row.NewBlock(k); err == nil {
		t.Fatal("3DES accepted K1 = K2 = K3")
	}
}

func TestErrorsCarryNoKey(t *testing.T) {
	row, _ := Lookup(TypeENCR, ENCR_AES_GCM_16, 256)
	key := []byte("secret-key-bytes")
	_, err := row.NewAEAD(key)
	if err == nil {
		t.Fatal("16-byte key accepted for AES-256")
	}
	if strings.Contains(err.Error(), string(key)) {
		t.Fatalf("error leaks the key: %v", err)
	}
	if want := "ENCR_AES_GCM_16(256) needs a 32-byte key, got 16 bytes"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestPrivateUse(t *testing.T) {
	row, _ := LookupKeyword(IPsec, TypeINTEG, "hmac-sha-256-96")
	if !row.PrivateUse() {
		t.Errorf("hmac-sha-256-96 has no IANA number, must be private use")
	}
	row, _ = LookupKeyword(IPsec, TypeINTEG, "hmac-sha-256-128")
	if row.PrivateUse() {
		t.Errorf("AUTH_HMAC_SHA2_256_128 is an IANA number")
	}
}
