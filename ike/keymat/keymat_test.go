package keymat

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"ipsecgw/transform"
)

func rowsOf(typ transform.Type) []*transform.Transform {
	var rows []*transform.Transform
	for _, r := range transform.All() {
		if r.Type == typ && !r.Insecure {
			rows = append(rows, r)
		}
	}
	return rows
}

// TestPRFPlusLimits: prf+ stops at 255 blocks (RFC 7296 §2.13), and a
// shorter output is a prefix of a longer one.
func TestPRFPlusLimits(t *testing.T) {
	key, seed := []byte("key"), []byte("seed")
	for _, prf := range rowsOf(transform.TypePRF) {
		max := 255 * prf.OutputSize
		long, err := PRFPlus(prf, key, seed, max)
		if err != nil || len(long) != max {
			t.Fatalf("%s: %d bytes: %v", prf, len(long), err)
		}
		for _, n := range []int{0, 1, prf.OutputSize - 1, prf.OutputSize, prf.OutputSize + 1, 3*prf.OutputSize + 7} {
			short, err := PRFPlus(prf, key, seed, n)
			if err != nil || !bytes.Equal(short, long[:n]) {
				t.Errorf("%s: prf+ of %d bytes is not a prefix of the longest: %v", prf, n, err)
			}
			if cap(short) != n {
				t.Errorf("%s: prf+ of %d bytes has capacity %d: appending would overwrite hidden output", prf, n, cap(short))
			}
		}
		for _, n := range []int{max + 1, -1} {
			if _, err := PRFPlus(prf, key, seed, n); !errors.Is(err, ErrTooLong) {
				t.Errorf("%s: %d bytes: err = %v, want ErrTooLong", prf, n, err)
			}
		}
	}
}

// TestWrongTransforms: a missing, insecure or mistyped row, and a suite
// whose rows do not fit together, are refused by name.
func TestWrongTransforms(t *testing.T) {
	sha256 := row(t, transform.TypePRF, transform.PRF_HMAC_SHA2_256, 0)
	aes := row(t, transform.TypeENCR, transform.ENCR_AES_CBC, 128)
	gcm := row(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, 128)
	des := row(t, transform.TypeENCR, transform.InsecureENCR_DES, 0)
	integ := row(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA2_256_128, 0)
	chacha := row(t, transform.TypeENCR, transform.ENCR_CHACHA20_POLY1305, 0)
	secret := []byte("do-not-print-this-secret")
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nil PRF", second(PRFPlus(nil, secret, nil, 16)), "no PRF transform"},
		{"INTEG as PRF", second(SKEYSEED(integ, secret, secret, secret)), "AUTH_HMAC_SHA2_256_128 given as the PRF transform, but its type is INTEG"},
		{"AEAD with integrity", second(NewIKESAKeys(IKESuite{gcm, sha256, integ}, secret, nil, nil, 1, 2)), "is an AEAD and takes no integrity"},
		{"CBC without integrity", second(NewIKESAKeys(IKESuite{aes, sha256, nil}, secret, nil, nil, 1, 2)), "no INTEG transform"},
		{"insecure cipher", second(NewChildSAKeys(sha256, ChildSuite{des, integ}, secret, nil, nil, nil)), "insecure"},
		{"PRF as ENCR", second(NewChildSAKeys(sha256, ChildSuite{sha256, integ}, secret, nil, nil, nil)), "given as the ENCR transform"},
		{"AEAD phase 1", second((&Phase1Keys{prf: sha256, E: secret}).EncryptionKey(gcm)), "no IKEv1 phase 1"},
		{"ChaCha20 phase 2", second2((&Phase1Keys{prf: sha256, D: secret}).Phase2Keys(ChildSuite{Encryption: chacha}, ProtocolESP, 1, nil, nil, nil)), "no IKEv1 ESP"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one saying %q", c.name, c.err, c.want)
			continue
		}
		if strings.Contains(c.err.Error(), string(secret)) || strings.Contains(c.err.Error(), hex.EncodeToString(secret)) {
			t.Errorf("%s: error carries the secret: %v", c.name, c.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func second2(_ DirectionKeys, err error) error { return err }

// TestKeySizesEverySuite derives IKE SA and Child SA keys for every usable
// combination in the table and checks sizes, independence and Zero.
func TestKeySizesEverySuite(t *testing.T) {
	for _, encr := range rowsOf(transform.TypeENCR) {
		integs := rowsOf(transform.TypeINTEG)
		if encr.IsAEAD() {
			integs = []*transform.Transform{nil}
		}
		for _, integ := range integs {
			for _, prf := range rowsOf(transform.TypePRF) {
				checkIKESizes(t, IKESuite{encr, prf, integ})
				checkChildSizes(t, prf, ChildSuite{encr, integ})
			}
		}
	}
}

func checkIKESizes(t *testing.T, s IKESuite) {
	t.Helper()
	keys, err := NewIKESAKeys(s, []byte("skeyseed"), []byte("ni"), []byte("nr"), 1, 2)
	if err != nil {
		t.Fatalf("%v: %v", s, err)
	}
	d, e, a := s.PRF.KeySize(), s.Encryption.KeyMaterialSize(), 0
	if s.Integrity != nil {
		a = s.Integrity.KeySize()
	}
	all := []Key{keys.D, keys.AI, keys.AR, keys.EI, keys.ER, keys.PI, keys.PR}
	for i, want := range []int{d, a, a, e, e, d, d} {
		if len(all[i]) != want {
			t.Errorf("%s/%s/%v: key %d is %d bytes, want %d", s.Encryption, s.PRF, s.Integrity, i, len(all[i]), want)
		}
		if want == 0 && all[i] != nil {
			t.Errorf("key %d of an AEAD suite is not nil", i)
		}
	}
	checkIndependent(t, all)
	keys.Zero()
	for i, k := range all {
		if bytes.Count(k, []byte{0}) != len(k) {
			t.Errorf("key %d not zeroed", i)
		}
	}
}

func checkChildSizes(t *testing.T, prf *transform.Transform, s ChildSuite) {
	t.Helper()
	keys, err := NewChildSAKeys(prf, s, []byte("sk_d"), nil, []byte("ni"), []byte("nr"))
	if err != nil {
		t.Fatalf("%v: %v", s, err)
	}
	a := 0
	if s.Integrity != nil {
		a = s.Integrity.KeySize()
	}
	for _, dk := range []DirectionKeys{keys.InitiatorToResponder, keys.ResponderToInitiator} {
		if len(dk.Encryption) != s.Encryption.KeyMaterialSize() || len(dk.Integrity) != a {
			t.Errorf("%s/%v: keys of %d and %d bytes", s.Encryption, s.Integrity, len(dk.Encryption), len(dk.Integrity))
		}
	}
	all := []Key{keys.InitiatorToResponder.Encryption, keys.InitiatorToResponder.Integrity,
		keys.ResponderToInitiator.Encryption, keys.ResponderToInitiator.Integrity}
	checkIndependent(t, all)
	keys.Zero()
	for i, k := range all {
		if bytes.Count(k, []byte{0}) != len(k) {
			t.Errorf("child key %d not zeroed", i)
		}
	}
}

// checkIndependent: appending to one key must not change the next, though
// they are cut from one buffer.
func checkIndependent(t *testing.T, keys []Key) {
	t.Helper()
	before := make([][]byte, len(keys))
	for i, k := range keys {
		before[i] = bytes.Clone(k)
	}
	for i, k := range keys {
		_ = append(k, 0xAA, 0xAA, 0xAA, 0xAA)
		for j := range keys {
			if !bytes.Equal(keys[j], before[j]) {
				t.Fatalf("appending to key %d changed key %d", i, j)
			}
		}
	}
}

// TestKeysNeverPrint: neither a Key nor a struct of keys shows its bytes
// through fmt, encoding/json or log/slog.
func TestKeysNeverPrint(t *testing.T) {
	secret := Key("\x8e\x01secret-key-material\xfe")
	keys := &IKESAKeys{D: secret, EI: secret}
	child := ChildSAKeys{InitiatorToResponder: DirectionKeys{Encryption: secret}}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "% x"} {
		out = append(out, fmt.Sprintf(verb, secret), fmt.Sprintf(verb, keys), fmt.Sprintf(verb, child))
	}
	out = append(out, fmt.Sprint(secret), fmt.Sprintln(keys), secret.String())
	j, err := json.Marshal(struct {
		K    Key
		Keys *IKESAKeys
	}{secret, keys})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("keys", "key", secret, "ike", keys)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("keys", "key", secret, "child", child)
	out = append(out, logs.String())

	forms := []string{"secret-key-material", hex.EncodeToString(secret), strings.ToUpper(hex.EncodeToString(secret)),
		"jgFzZWNyZXQta2V5LW1hdGVyaWFs", "142 1 115"} // raw, hex, HEX, base64, %d
	for _, s := range out {
		for _, f := range forms {
			if strings.Contains(s, f) {
				t.Errorf("key bytes printed: %s", s)
			}
		}
	}
	if got := fmt.Sprint(secret); got != "Key(22 bytes)" {
		t.Errorf("Sprint(key) = %q", got)
	}
}

// FuzzPRFPlus compares PRFPlus with prf+ written out as RFC 7296 §2.13
// states it, one block at a time from the recursion, for any PRF, key,
// seed and length.
func FuzzPRFPlus(f *testing.F) {
	f.Add(uint8(0), []byte("key"), []byte("seed"), uint16(100))
	f.Add(uint8(3), []byte{}, []byte{}, uint16(0))
	f.Add(uint8(2), bytes.Repeat([]byte{0xff}, 200), []byte{1}, uint16(8000))
	prfs := rowsOf(transform.TypePRF)
	f.Fuzz(func(t *testing.T, which uint8, key, seed []byte, n uint16) {
		prf := prfs[int(which)%len(prfs)]
		got, err := PRFPlus(prf, key, seed, int(n))
		if int(n) > 255*prf.OutputSize {
			if !errors.Is(err, ErrTooLong) {
				t.Fatalf("%d bytes: err = %v", n, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var want, tPrev []byte
		for i := byte(1); len(want) < int(n); i++ {
			mac, _ := prf.NewMAC(key)
			mac.Write(append(append(bytes.Clone(tPrev), seed...), i))
			tPrev = mac.Sum(nil)
			want = append(want, tPrev...)
		}
		if !bytes.Equal(got, want[:n]) {
			t.Fatalf("%s prf+ of %d bytes differs from the definition", prf, n)
		}
	})
}
