package transform

import (
	"bytes"
	"errors"
	"testing"
)

// RFC 5903 §8: each group's initiator and responder private values (i, r),
// public values (gix || giy, grx || gry) and shared secret girx.
var rfc5903Vectors = []struct {
	id                ID
	i, gi, r, gr, gir string
}{
	{ECP_256, // §8.1
		"C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
		`DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180
		 5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3`,
		"C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
		`D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63
		 56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB`,
		"D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"},
	{ECP_384, // §8.2
		`099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655
		 E35B5380 41E649EE 3FAEF896 783AB194`,
		`667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6
		 DE3AC808 ACB4BDB4 C88732AE E95F41AA
		 9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E
		 EB9FCFF3 C2C947DA E69B4C63 4573A81C`,
		`41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942
		 E0308312 916B8ED2 960E4BD5 5A7448FC`,
		`E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D
		 0D1AC43A 0336DEF9 6FDA41D0 774A3571
		 DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF
		 F83FA401 42209DFF 5EAAD96D B9E6386C`,
		`11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4
		 D6031355 69B9E9D0 9CF5D4A2 70F59746`},
	{ECP_521, // §8.3
		`0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0
		 95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D
		 4A52`,
		`0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE
		 E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C
		 ED3E
		 017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A
		 D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F
		 9582`,
		`0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E
		 9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168
		 5EB9`,
		`00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21
		 9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9
		 460F
		 015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87
		 220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F
		 C56A`,
		`01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04
		 D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3
		 DDEA`},
}

// RFC 7748 §6.1: Alice's and Bob's private keys, public keys and K.
var rfc7748Vector = struct{ i, gi, r, gr, gir string }{
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
}

// TestECKnownAnswers runs the RFC vectors through the table's rows: the
// private values are fed in through the injected reader, so the scalar
// handling of generate is covered too.
func TestECKnownAnswers(t *testing.T) {
	type vector struct {
		id                ID
		i, gi, r, gr, gir string
	}
	vectors := []vector{{CURVE25519, rfc7748Vector.i, rfc7748Vector.gi, rfc7748Vector.r, rfc7748Vector.gr, rfc7748Vector.gir}}
	for _, v := range rfc5903Vectors {
		vectors = append(vectors, vector(v))
	}
	for _, v := range vectors {
		row, _ := Lookup(TypeKE, v.id, 0)
		t.Run(row.Name, func(t *testing.T) {
			i, err := row.NewKeyExchange(bytes.NewReader(unhex(t, v.i)))
			if err != nil {
				t.Fatal(err)
			}
			r, err := row.NewKeyExchange(bytes.NewReader(unhex(t, v.r)))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := i.PublicKey(), unhex(t, v.gi); !bytes.Equal(got, want) {
				t.Errorf("initiator public value = %x, want %x", got, want)
			}
			if got, want := r.PublicKey(), unhex(t, v.gr); !bytes.Equal(got, want) {
				t.Errorf("responder public value = %x, want %x", got, want)
			}
			for _, side := range []struct {
				kx   KeyExchange
				peer string
			}{{i, v.gr}, {r, v.gi}} {
				z, err := side.kx.SharedSecret(unhex(t, side.peer))
				if err != nil {
					t.Fatal(err)
				}
				if want := unhex(t, v.gir); !bytes.Equal(z, want) {
					t.Errorf("shared secret = %x, want %x", z, want)
				}
			}
		})
	}
}

// TestECRejectsPeerValues: a value of the wrong length (including SEC 1's
// tagged form, which RFC 5903 §7 leaves off), a point off the curve, a
// coordinate outside the field, and X25519 points of small order, whose
// all-zero shared secret RFC 8031 §2 requires refusing.
func TestECRejectsPeerValues(t *testing.T) {
	for _, v := range rfc5903Vectors {
		row, _ := Lookup(TypeKE, v.id, 0)
		t.Run(row.Name, func(t *testing.T) {
			kx, err := row.NewKeyExchange(bytes.NewReader(unhex(t, v.i)))
			if err != nil {
				t.Fatal(err)
			}
			gr := unhex(t, v.gr)
			offCurve := bytes.Clone(gr)
			offCurve[len(offCurve)-1] ^= 1
			n := len(gr)
			checkRejected(t, kx, map[string][]byte{
				"empty":                  nil,
				"one byte short":         gr[1:],
				"one byte long":          append(bytes.Clone(gr), 0),
				"SEC 1 0x04 || x || y":   append([]byte{sec1Uncompressed}, gr...),
				"y flipped (off curve)":  offCurve,
				"(0, 0)":                 make([]byte, n),
				"coordinates all ones":   bytes.Repeat([]byte{0xff}, n),
				"x only (half a point)":  gr[:n/2],
				"another group's length": make([]byte, n+32),
			})
		})
	}
	row, _ := Lookup(TypeKE, CURVE25519, 0)
	kx, err := row.NewKeyExchange(bytes.NewReader(unhex(t, rfc7748Vector.i)))
	if err != nil {
		t.Fatal(err)
	}
	one := make([]byte, 32)
	one[0] = 1
	checkRejected(t, kx, map[string][]byte{
		"empty":           nil,
		"31 bytes":        make([]byte, 31),
		"33 bytes":        make([]byte, 33),
		"u = 0":           make([]byte, 32),
		"u = 1":           one,
		"u = p-1":         unhex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		"u = p (0 mod p)": unhex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		"order 8 point":   unhex(t, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
	})
}

func checkRejected(t *testing.T, kx KeyExchange, bad map[string][]byte) {
	t.Helper()
	for name, v := range bad {
		if z, err := kx.SharedSecret(v); !errors.Is(err, ErrInvalidPublicValue) || z != nil {
			t.Errorf("%s: SharedSecret = %x, %v; want ErrInvalidPublicValue", name, z, err)
		}
	}
}

// TestECScalarDraws: a NIST scalar out of range is drawn again rather than
// reduced, and a reader that never gives a valid one fails cleanly.
func TestECScalarDraws(t *testing.T) {
	row, _ := Lookup(TypeKE, ECP_256, 0)
	v := rfc5903Vectors[0]
	// The all-ones draw is above the group order; the next is the RFC's i.
	r := bytes.NewReader(append(bytes.Repeat([]byte{0xff}, 32), unhex(t, v.i)...))
	kx, err := row.NewKeyExchange(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kx.PublicKey(), unhex(t, v.gi)) {
		t.Errorf("the draw after an out-of-range one was not used as is")
	}
	if _, err := row.NewKeyExchange(bytes.NewReader(make([]byte, 32*maxScalarDraws))); !errors.Is(err, errScalarDraws) {
		t.Errorf("all-zero reader: err = %v, want errScalarDraws", err)
	}
	if _, err := row.NewKeyExchange(bytes.NewReader(nil)); err == nil {
		t.Errorf("empty reader: no error")
	}
	// P-521's 66-byte draw is masked to the order's 521 bits.
	row521, _ := Lookup(TypeKE, ECP_521, 0)
	if _, err := row521.NewKeyExchange(bytes.NewReader(bytes.Repeat([]byte{0xff}, 66*maxScalarDraws))); !errors.Is(err, errScalarDraws) {
		t.Errorf("P-521 all-ones reader: err = %v, want errScalarDraws (2^521-1 > n)", err)
	}
}
