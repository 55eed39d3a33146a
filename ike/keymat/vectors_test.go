package keymat

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"ipsecgw/transform"
)

// Known answers. Two sources:
//
//   - NIST's CAVS/ACVP component KDF cases for SHA-1 (IKEv2; IKEv1 with
//     pre-shared keys and with signatures), test case 100 of each, as
//     libreswan records them in programs/cavp/test.acvp.ikev2.run,
//     test.acvp.ikev1_psk.run and test.acvp.ikev1_dsa.run. They are the
//     literals below.
//   - testdata/kdf_vectors.json, written by testdata/kdf_vectors.py with
//     Python's hmac and hashlib from the RFC formulas, for what the NIST
//     cases do not cover: SHA-2, AUTH (RFC 7296 has no vectors), App. B key
//     expansion and phase 2 KEYMAT. The script re-derives the NIST cases
//     first, so it is checked against a published source.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

func row(t testing.TB, typ transform.Type, id transform.ID, bits int) *transform.Transform {
	t.Helper()
	r, ok := transform.Lookup(typ, id, bits)
	if !ok {
		t.Fatalf("no %s row %d/%d", typ, id, bits)
	}
	return r
}

func checkKey(t testing.TB, name string, got Key, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s =\n %x, want\n %x", name, []byte(got), want)
	}
}

// ikev2Case is one IKEv2 KDF case, in NIST's terms (the JSON keys match the
// field names case-insensitively).
type ikev2Case struct {
	PRF                  transform.ID
	Ni, Nr, Gir, GirNew  string
	SPIi, SPIr           string
	SKEYSEED, DKM        string
	DKMChild, DKMChildDH string
	SKEYSEEDRekey        string
	ike                  IKESuite   // an IKE SA suite whose keys fit in DKM
	child                ChildSuite // a Child SA suite whose keys fit in DKM(Child SA)
}

// NIST IKEv2 KDF, SHA-1, Ni and Nr 64 bits, g^ir 256 bits, DKM 1056 bits.
var nistIKEv2 = ikev2Case{
	PRF:    transform.PRF_HMAC_SHA1,
	Ni:     "32b50d5f4a3763f3",
	Nr:     "9206a04b26564cb1",
	Gir:    "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52",
	GirNew: "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330",
	SPIi:   "34c9e7c188868785",
	SPIr:   "3ff77d760d2b2199",

	SKEYSEED: "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7",
	DKM: `a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002
		a2a63080e514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a
		5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd1119
		8af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4`,
	DKMChild: `8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c581
		1a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee7181
		4ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf
		285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4`,
	DKMChildDH: `bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d373016
		28190e38c66232eab4b3ab14c400a5197dd3730ed4820a8a10394d51e1c04000
		52f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a
		05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054d56fd74c`,
	SKEYSEEDRekey: "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
}

type vectorFile struct {
	IKEv2 []ikev2Case `json:"ikev2"`
	Auth  []struct {
		PRF                          transform.ID
		Message, Nonce, SKp, ID, PSK string
		SignedOctets, Auth           string
	} `json:"auth"`
	IKEv1Expansion []struct {
		PRF     transform.ID
		SKEYIDE string `json:"skeyidE"`
		Encr    transform.ID
		KeyBits int
		Key     string
	} `json:"ikev1Expansion"`
	IKEv1Keymat []struct {
		PRF      transform.ID
		SKEYIDD  string `json:"skeyidD"`
		Gqm      string
		Protocol uint8
		SPI      uint32
		Ni, Nr   string
		N        int
		Keymat   string
	} `json:"ikev1Keymat"`
}

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/kdf_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.IKEv2) != 3 || len(v.Auth) != 3 || len(v.IKEv1Expansion) != 3 || len(v.IKEv1Keymat) != 6 {
		t.Fatalf("kdf_vectors.json has %d/%d/%d/%d cases, want 3/3/3/6",
			len(v.IKEv2), len(v.Auth), len(v.IKEv1Expansion), len(v.IKEv1Keymat))
	}
	return &v
}

func TestIKEv2KnownAnswers(t *testing.T) {
	aes := func(bits int) *transform.Transform {
		return row(t, transform.TypeENCR, transform.ENCR_AES_CBC, bits)
	}
	gcm256 := row(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, 256)
	integ := func(id transform.ID) *transform.Transform { return row(t, transform.TypeINTEG, id, 0) }

	nist := nistIKEv2
	prf := row(t, transform.TypePRF, nist.PRF, 0)
	// SHA-1 PRF, AES-128-CBC and HMAC-SHA1-96 take exactly the 132 bytes
	// of the NIST DKM: 20 + 2*20 + 2*16 + 2*20.
	nist.ike = IKESuite{Encryption: aes(128), PRF: prf, Integrity: integ(transform.AUTH_HMAC_SHA1_96)}
	nist.child = ChildSuite{Encryption: aes(128), Integrity: integ(transform.AUTH_HMAC_SHA1_96)}
	cases := map[string]ikev2Case{"NIST CAVS SHA-1": nist}

	v := loadVectors(t)
	suites := map[transform.ID]struct {
		ike   IKESuite
		child ChildSuite
	}{
		transform.PRF_HMAC_SHA2_256: {
			IKESuite{Encryption: aes(256), Integrity: integ(transform.AUTH_HMAC_SHA2_256_128)},
			ChildSuite{Encryption: aes(256), Integrity: integ(transform.AUTH_HMAC_SHA2_256_128)}},
		transform.PRF_HMAC_SHA2_384: {
			IKESuite{Encryption: gcm256},
			ChildSuite{Encryption: gcm256}},
		transform.PRF_HMAC_SHA2_512: {
			IKESuite{Encryption: aes(256), Integrity: integ(transform.AUTH_HMAC_SHA2_512_256)},
			ChildSuite{Encryption: row(t, transform.TypeENCR, transform.ENCR_CHACHA20_POLY1305, 0)}},
	}
	for _, c := range v.IKEv2 {
		s := suites[c.PRF]
		c.ike, c.child = s.ike, s.child
		c.ike.PRF = row(t, transform.TypePRF, c.PRF, 0)
		cases["Python "+c.ike.PRF.Name] = c
	}

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			prf := c.ike.PRF
			ni, nr, gir, girNew := unhex(t, c.Ni), unhex(t, c.Nr), unhex(t, c.Gir), unhex(t, c.GirNew)
			dkm := unhex(t, c.DKM)

			skeyseed, err := SKEYSEED(prf, ni, nr, gir)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, "SKEYSEED", skeyseed, unhex(t, c.SKEYSEED))
			spiI, spiR := unhex(t, c.SPIi), unhex(t, c.SPIr)
			got, err := PRFPlus(prf, skeyseed, concat(ni, nr, spiI, spiR), len(dkm))
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, "DKM", got, dkm)

			// The seven keys are DKM cut in the §2.14 order.
			keys, err := NewIKESAKeys(c.ike, skeyseed, ni, nr, be64(spiI), be64(spiR))
			if err != nil {
				t.Fatal(err)
			}
			d, e, a := prf.KeySize(), c.ike.Encryption.KeyMaterialSize(), 0
			if c.ike.Integrity != nil {
				a = c.ike.Integrity.KeySize()
			}
			rest := dkm
			for _, k := range []struct {
				name string
				key  Key
				size int
			}{{"SK_d", keys.D, d}, {"SK_ai", keys.AI, a}, {"SK_ar", keys.AR, a}, {"SK_ei", keys.EI, e},
				{"SK_er", keys.ER, e}, {"SK_pi", keys.PI, d}, {"SK_pr", keys.PR, d}} {
				if len(k.key) != k.size {
					t.Fatalf("%s is %d bytes, want %d", k.name, len(k.key), k.size)
				}
				if len(rest) < k.size {
					t.Fatalf("suite needs more than the %d bytes of DKM", len(dkm))
				}
				checkKey(t, k.name, k.key, rest[:k.size])
				rest = rest[k.size:]
			}

			skd := dkm[:prf.KeySize()]
			for _, child := range []struct {
				name string
				gir  []byte
				want string
			}{{"DKM(Child SA)", nil, c.DKMChild}, {"DKM(Child SA D-H)", girNew, c.DKMChildDH}} {
				want := unhex(t, child.want)
				got, err := childKEYMAT(prf, skd, child.gir, ni, nr, len(want))
				if err != nil {
					t.Fatal(err)
				}
				checkKey(t, child.name, got, want)
				ck, err := NewChildSAKeys(prf, c.child, skd, child.gir, ni, nr)
				if err != nil {
					t.Fatal(err)
				}
				e, a := c.child.Encryption.KeyMaterialSize(), 0
				if c.child.Integrity != nil {
					a = c.child.Integrity.KeySize()
				}
				rest := want
				for _, k := range []struct {
					name string
					key  Key
					size int
				}{{"i->r encryption", ck.InitiatorToResponder.Encryption, e}, {"i->r integrity", ck.InitiatorToResponder.Integrity, a},
					{"r->i encryption", ck.ResponderToInitiator.Encryption, e}, {"r->i integrity", ck.ResponderToInitiator.Integrity, a}} {
					if len(k.key) != k.size {
						t.Fatalf("%s key is %d bytes, want %d", k.name, len(k.key), k.size)
					}
					checkKey(t, child.name+" "+k.name, k.key, rest[:k.size])
					rest = rest[k.size:]
				}
			}

			rekey, err := RekeySKEYSEED(prf, skd, girNew, ni, nr)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, "SKEYSEED(Rekey)", rekey, unhex(t, c.SKEYSEEDRekey))
		})
	}
}

func be64(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

func TestPSKAuthKnownAnswers(t *testing.T) {
	for _, c := range loadVectors(t).Auth {
		prf := row(t, transform.TypePRF, c.PRF, 0)
		t.Run(prf.Name, func(t *testing.T) {
			octets, err := SignedOctets(prf, unhex(t, c.Message), unhex(t, c.Nonce), unhex(t, c.SKp), unhex(t, c.ID))
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, c.SignedOctets); !bytes.Equal(octets, want) {
				t.Fatalf("signed octets =\n %x, want\n %x", octets, want)
			}
			psk := unhex(t, c.PSK)
			auth, err := PSKAuth(prf, psk, octets)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, c.Auth)
			if !bytes.Equal(auth, want) {
				t.Errorf("AUTH = %x, want %x", auth, want)
			}
			if ok, err := VerifyPSKAuth(prf, psk, octets, want); !ok || err != nil {
				t.Errorf("VerifyPSKAuth refused the right AUTH: %v", err)
			}
			for _, bad := range [][]byte{want[1:], append(bytes.Clone(want), 0), flip(want, 0), flip(want, len(want)-1), nil} {
				if ok, _ := VerifyPSKAuth(prf, psk, octets, bad); ok {
					t.Errorf("VerifyPSKAuth accepted %x", bad)
				}
			}
			if ok, _ := VerifyPSKAuth(prf, append(bytes.Clone(psk), 'x'), octets, want); ok {
				t.Errorf("VerifyPSKAuth accepted another pre-shared key")
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// NIST IKEv1 KDF, SHA-1, test case 100 of the pre-shared key and of the
// signature (DSA) sets.
func TestIKEv1NISTKnownAnswers(t *testing.T) {
	prf := row(t, transform.TypePRF, transform.PRF_HMAC_SHA1, 0)
	cases := []struct {
		name            string
		psk             string // empty for signatures
		ckyI, ckyR      uint64
		ni, nr, gxy     string
		skeyid, d, a, e string
	}{
		{"pre-shared key", "75", 0x83d374c30b3b5082, 0x5afc0da06c728029,
			"b9a2d0e922dc66dd", "2130166863b5ddef",
			"739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc",
			"62b04d112877e442fc3282fc37c076997718a0b9", "369e5aad1bdb5faf6a3d929d500cdc236710a9ab",
			"588e957d8d790d093b3a39f121473473af78e9bb", "cd74b0c048219db81384d3fda8f6cda51e398a2b"},
		{"signature", "", 0x8c3bcd3a69831d7f, 0xd2d9a7ff4fbe95a7,
			"69a62284195f1680", "80c94ba25c8abda5",
			"8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb",
			"707197817fb2d90cf54d1842606bdea59b9f4823", "384be709a8a5e63c3ed160cfe3921c4b37d5b32d",
			"48b327575abe3adba0f279849e289022a13e2b47", "a4a415c8e0c38c0da847c356cc61c24df8025560"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ni, nr, gxy := unhex(t, c.ni), unhex(t, c.nr), unhex(t, c.gxy)
			var skeyid Key
			var err error
			if c.psk != "" {
				skeyid, err = SKEYIDPreShared(prf, unhex(t, c.psk), ni, nr)
			} else {
				skeyid, err = SKEYIDSignature(prf, ni, nr, gxy)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, "SKEYID", skeyid, unhex(t, c.skeyid))
			keys, err := NewPhase1Keys(prf, skeyid, gxy, c.ckyI, c.ckyR)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, "SKEYID_d", keys.D, unhex(t, c.d))
			checkKey(t, "SKEYID_a", keys.A, unhex(t, c.a))
			checkKey(t, "SKEYID_e", keys.E, unhex(t, c.e))
		})
	}
}

func TestIKEv1KeyExpansion(t *testing.T) {
	for _, c := range loadVectors(t).IKEv1Expansion {
		prf := row(t, transform.TypePRF, c.PRF, 0)
		bits := c.KeyBits
		if c.Encr == transform.ENCR_3DES {
			bits = 0
		}
		encr := row(t, transform.TypeENCR, c.Encr, bits)
		keys := &Phase1Keys{prf: prf, E: unhex(t, c.SKEYIDE)}
		got, err := keys.EncryptionKey(encr)
		if err != nil {
			t.Fatal(err)
		}
		checkKey(t, encr.String()+" key", got, unhex(t, c.Key))
	}
}

func TestIKEv1Phase2KEYMAT(t *testing.T) {
	aes128 := row(t, transform.TypeENCR, transform.ENCR_AES_CBC, 128)
	sha1 := row(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA1_96, 0)
	gcm := row(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, 256)
	for _, c := range loadVectors(t).IKEv1Keymat {
		prf := row(t, transform.TypePRF, c.PRF, 0)
		skd, gqm, ni, nr := unhex(t, c.SKEYIDD), unhex(t, c.Gqm), unhex(t, c.Ni), unhex(t, c.Nr)
		want := unhex(t, c.Keymat)
		got, err := phase2KEYMAT(prf, skd, gqm, c.Protocol, c.SPI, ni, nr, c.N)
		if err != nil {
			t.Fatal(err)
		}
		checkKey(t, "KEYMAT", got, want)
		keys := &Phase1Keys{prf: prf, D: skd}
		for _, s := range []ChildSuite{{Encryption: aes128, Integrity: sha1}, {Encryption: gcm}} {
			dk, err := keys.Phase2Keys(s, c.Protocol, c.SPI, gqm, ni, nr)
			if err != nil {
				t.Fatal(err)
			}
			e, a := s.Encryption.KeyMaterialSize(), 0
			if s.Integrity != nil {
				a = s.Integrity.KeySize()
			}
			if len(dk.Encryption) != e || len(dk.Integrity) != a {
				t.Fatalf("%s: keys of %d and %d bytes, want %d and %d", s.Encryption, len(dk.Encryption), len(dk.Integrity), e, a)
			}
			checkKey(t, "encryption key", dk.Encryption, want[:e])
			checkKey(t, "integrity key", dk.Integrity, want[e:e+a])
		}
	}
}
