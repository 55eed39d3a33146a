package transform

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
)

// The MODP expectations below were computed outside Go by
// testdata/modp_vectors.py: Python's pow over primes taken from OpenSSL's
// built-in groups (modp_1536 … modp_4096, dh_2048_256) and, for the 768-
// and 1024-bit groups OpenSSL lacks, from the primes' defining formula with
// pi from mpmath. A mistyped prime in modp.go fails here. Public values and
// secrets are compared by SHA-256 to keep the file short.

const (
	modpXI = "26ae2d5d9c25db570b13cd7eb2bdc9c34d597fa4e2da53987fef2f937ec75a9b"
	modpXR = "383a0122f36b9d83b4818e6703d7ff901d2f2fdc0422b547d08c63e3bbf9e4c3"
)

func TestMODPKnownAnswers(t *testing.T) {
	cases := []struct {
		id          ID
		gi, gr, gir string // SHA-256 of g^xi, g^xr, g^(xi xr), each padded to the prime
	}{
		{InsecureMODP_768,
			"5007f52cf9b51ffb52d00433b40df86420d4115f8cd9bd8ca1bcbca3123c3bd5",
			"fd41c63a9f0240d88bf917c1cd1182b018490a15f9a7ba3f439f9888454d578a",
			"18b2cf4a9378028cf8f448c83227a024f9edb70c0babd9a882c1be75def3a84b"},
		{MODP_1024,
			"74f7c18e1f095060915909e4243101b87e7b02e55c8d8e6214201203fbb98607",
			"c04230224855a4efdc10f9219038ef393cf0edfae4682590aba28486fdde5905",
			"d4a763818e6a8bec1cecc6c891ac6d318877487e1862cd3697a5fa1a9a6b4b67"},
		{MODP_1536,
			"224eb772cb315f80ed87629c7477b83ca0c6b73f963429d849efc3b4db01fe1b",
			"cfebb2d56c1a9732ace79ae13fc266024087bfb49d1cfc618ae96c2da1bbba94",
			"4724074b8beec84f8932aee63020836b734c1a751cdeeffbb259a85bc2f7813b"},
		{MODP_2048,
			"6cc47fe7e00364bc8b3f272a9ee40c38c53768ad2e7214838bd59a1dd1a8f19e",
			"c985d4e5fdcff13c43a0d917c0d2191f384b759a74a5f6352c46a8cec3f76861",
			"eda08073a4a6c2a2223fce7ae1b2c141bb48464d7038bfea87058aa5701b940f"},
		{MODP_3072,
			"58e1bccf4af4980ee776ce9587c8c6d7078c0b0a2056be3663d7d4298837311c",
			"dea32b52a3a7057c019bd3a309fed5f3ad0e00ab2bf5fe4b4fca73ec8b993e4d",
			"2657e3bd9f6ea04f14e8dc6aca7de160ae9b4dd9db6b06bd731c89e3b7ba65e2"},
		{MODP_4096,
			"7600246e47dde72e387bd66718eaa8b092c6918622ac2951ae692f493d2b98af",
			"cff3e0f802fc0d1a40b896004d5aaef221ead714735d6b0956c5143354c91506",
			"60b0bd719198cd327686ea7c64dda15f11830fcf8cbbf265dc01a441f959a8ff"},
		{MODP_2048_256,
			"81362229dc123c7018cf7dbe17e20f7014bcefa439fd41868003f99c5a012ec0",
			"70d6ca9b881d797ecbb322f6385750a2576b9d53cb2e181078f98b1eb3bebc21",
			"499828df6981d1c93fec24650411017f1fe98a15ee3ba29f132f1000ab1bb237"},
	}
	for _, c := range cases {
		row, _ := Lookup(TypeKE, c.id, 0)
		t.Run(row.Name, func(t *testing.T) {
			grp := modpGroupOf(t, row)
			i := grp.withPrivate(row.Name, hexInt(t, modpXI))
			r := grp.withPrivate(row.Name, hexInt(t, modpXR))
			checkDigest(t, "g^xi", i.PublicKey(), c.gi)
			checkDigest(t, "g^xr", r.PublicKey(), c.gr)
			for _, side := range []struct {
				self *modpKE
				peer []byte
			}{{i, r.PublicKey()}, {r, i.PublicKey()}} {
				z, err := side.self.SharedSecret(side.peer)
				if err != nil {
					t.Fatal(err)
				}
				checkDigest(t, "g^xixr", z, c.gir)
			}
		})
	}
}

// TestMODPLeftPadding: RFC 7296 §3.4 and §2.14 pad public values and the
// shared secret with leading zeros to the prime's length. Group 2 values
// from testdata/modp_vectors.py: g^2 = 4; g^(xi*26) has a zero first octet.
func TestMODPLeftPadding(t *testing.T) {
	row, _ := Lookup(TypeKE, MODP_1024, 0)
	grp := modpGroupOf(t, row)
	small := grp.withPrivate(row.Name, big.NewInt(2)).PublicKey()
	want := make([]byte, 128)
	want[127] = 4
	if !bytes.Equal(small, want) {
		t.Errorf("g^2 = %x, want 4 padded to 128 bytes", small)
	}
	peer := grp.withPrivate(row.Name, big.NewInt(26)).PublicKey()
	z, err := grp.withPrivate(row.Name, hexInt(t, modpXI)).SharedSecret(peer)
	if err != nil {
		t.Fatal(err)
	}
	wantZ := unhex(t, `00ebc26f5f44184e41dae15161f8cff7c583496ecbdc78e7bf6a63fa923dbb41
		59f1955433abec2888bde87db381d083dc8a60818664d818d5028fbb9c26dfe4
		82e827574d70a751103edd57d6d7e3d612fbbfe10e89574802d53176a92b39fb
		ddb986b7623a49825535ae61566babfca7c1e0c7eefa42e3cbcef89cec427e9c`)
	if !bytes.Equal(z, wantZ) {
		t.Errorf("g^(xi*26) = %x, want %x", z, wantZ)
	}
}

// TestMODPGroupParameters checks what can be checked of each group without
// an outside source: the prime's length and form, safe primes where RFC 2409
// and RFC 3526 promise them, and RFC 5114's subgroup.
func TestMODPGroupParameters(t *testing.T) {
	for _, row := range keRows(t) {
		grp, ok := modpGroupFor(row)
		if !ok {
			continue
		}
		t.Run(row.Name, func(t *testing.T) {
			if grp.size != row.PublicKeySize || grp.p.BitLen() != 8*grp.size {
				t.Errorf("prime has %d bits, table says %d-byte public values", grp.p.BitLen(), row.PublicKeySize)
			}
			if !grp.p.ProbablyPrime(0) {
				t.Fatalf("p is not prime")
			}
			if grp.q == nil {
				if grp.g.Int64() != 2 {
					t.Errorf("generator %v, want 2", grp.g)
				}
				half := new(big.Int).Rsh(grp.p, 1)
				if !half.ProbablyPrime(0) {
					t.Errorf("(p-1)/2 is not prime: not a safe prime")
				}
				ones := new(big.Int).Sub(new(big.Int).Lsh(bigOne, 64), bigOne)
				if new(big.Int).And(grp.p, ones).Cmp(ones) != 0 || new(big.Int).Rsh(grp.p, uint(grp.p.BitLen()-64)).Cmp(ones) != 0 {
					t.Errorf("Oakley primes start and end with 64 one bits")
				}
				return
			}
			if grp.q.BitLen() != 256 || !grp.q.ProbablyPrime(0) {
				t.Errorf("q is not a 256-bit prime")
			}
			if new(big.Int).Mod(new(big.Int).Sub(grp.p, bigOne), grp.q).Sign() != 0 {
				t.Errorf("q does not divide p-1")
			}
			if new(big.Int).Exp(grp.g, grp.q, grp.p).Cmp(bigOne) != 0 || grp.g.Cmp(bigOne) == 0 {
				t.Errorf("g does not generate the order-q subgroup")
			}
		})
	}
}

// TestMODPRejectsPeerValues: RFC 6989 §2.1 (1 < y < p-1), RFC 7296 §3.4
// (the length of the prime) and, for group 24, RFC 6989 §2.2 (y^q = 1).
func TestMODPRejectsPeerValues(t *testing.T) {
	for _, row := range keRows(t) {
		grp, ok := modpGroupFor(row)
		if !ok {
			continue
		}
		t.Run(row.Name, func(t *testing.T) {
			kx := grp.withPrivate(row.Name, hexInt(t, modpXI))
			pad := func(v *big.Int) []byte { return v.FillBytes(make([]byte, grp.size)) }
			pMinus1 := new(big.Int).Sub(grp.p, bigOne)
			bad := map[string][]byte{
				"0":              make([]byte, grp.size),
				"1":              pad(bigOne),
				"p-1":            pad(pMinus1),
				"p":              pad(grp.p),
				"all ones (> p)": bytes.Repeat([]byte{0xff}, grp.size),
				"empty":          nil,
				"one byte short": kx.PublicKey()[1:],
				"one byte long":  append([]byte{0}, kx.PublicKey()...),
			}
			if grp.q != nil {
				// 2 is in (1, p-1) but not in g's subgroup of order q.
				bad["outside the subgroup"] = pad(big.NewInt(2))
			}
			for name, v := range bad {
				if z, err := kx.SharedSecret(v); !errors.Is(err, ErrInvalidPublicValue) || z != nil {
					t.Errorf("%s: SharedSecret = %x, %v; want ErrInvalidPublicValue", name, z, err)
				}
			}
			// The edges just inside the range are accepted by a safe-prime
			// group (their order is small, but RFC 6989 §2.1 asks no more).
			if grp.q == nil {
				for _, y := range []*big.Int{big.NewInt(2), new(big.Int).Sub(pMinus1, bigOne)} {
					if _, err := kx.SharedSecret(pad(y)); err != nil {
						t.Errorf("y = %v: %v", y, err)
					}
				}
			}
		})
	}
}

// TestMODPExponentSize: private values have the length RFC 3526 §8
// suggests, or lie below q (RFC 5114).
func TestMODPExponentSize(t *testing.T) {
	for _, row := range keRows(t) {
		grp, ok := modpGroupFor(row)
		if !ok {
			continue
		}
		x, err := grp.privateExponent(seeded(1))
		if err != nil {
			t.Fatal(err)
		}
		if grp.q != nil {
			if x.Sign() <= 0 || x.Cmp(grp.q) >= 0 {
				t.Errorf("%s: private value outside [1, q-1]", row.Name)
			}
			continue
		}
		if x.BitLen() > grp.exponentBits || x.BitLen() < grp.exponentBits-16 || grp.exponentBits < 240 {
			t.Errorf("%s: private exponent of %d bits, want about %d", row.Name, x.BitLen(), grp.exponentBits)
		}
	}
}

func modpGroupOf(t *testing.T, row *Transform) *modpGroup {
	t.Helper()
	grp, ok := modpGroupFor(row)
	if !ok {
		t.Fatalf("%s is not a MODP group", row.Name)
	}
	return grp
}

// modpGroupFor finds the parameters behind a row by building one exchange.
func modpGroupFor(row *Transform) (*modpGroup, bool) {
	kx, err := row.NewKeyExchange(seeded(0))
	if err != nil {
		return nil, false
	}
	m, ok := kx.(*modpKE)
	if !ok {
		return nil, false
	}
	return m.group, true
}

func hexInt(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return n
}

func checkDigest(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != want {
		t.Errorf("sha256(%s) = %x, want %s", what, sum, want)
	}
}
