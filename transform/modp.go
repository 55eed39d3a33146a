package transform

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Finite-field Diffie-Hellman over the MODP groups of RFC 2409 §6 (groups
// 1 and 2), RFC 3526 (5, 14, 15, 16) and RFC 5114 §2.3 (24), with math/big.
//
// math/big is not constant-time: how long Exp takes depends on the private
// exponent. That is accepted for MODP here. Every exponent is ephemeral (one
// exchange, then dropped), so an observer gets one timing sample per secret,
// and the groups a configuration should prefer (19, 20, 21, 31) run on
// crypto/ecdh, which is constant-time.

// modpGroup is one MODP group's parameters. They are read-only after init.
type modpGroup struct {
	p, g *big.Int
	// q is the prime order of the subgroup g generates, set only for RFC
	// 5114 groups. The RFC 2409 and 3526 primes are safe primes, p = 2q'+1,
	// where 1 < y < p-1 is all a peer's value needs (RFC 6989 §2.1).
	q *big.Int
	// size is the prime's length in bytes: the length of a public value
	// (RFC 7296 §3.4) and of the shared secret (§2.14), both left-padded.
	size int
	// exponentBits is the length of a private exponent in a safe-prime
	// group. RFC 3526 §8 asks for at least twice the group's strength; this
	// is twice its larger ("Estimate 2") figure. Groups 1 and 2 predate the
	// table and take group 5's 240 bits, well past twice their strength.
	exponentBits int
}

// The primes, in the RFCs' layout. Each was checked against its defining
// formula, 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k), and against
// OpenSSL's built-in groups (modp_1536 … modp_4096, dh_2048_256); see
// modp_test.go.
var (
	// RFC 2409 §6.1 (also RFC 7296 App. B.1): group 1, 768 bits.
	modp768 = newMODP(`
		FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
		020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
		4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A63A3620 FFFFFFFF FFFFFFFF`,
		"2", "", 240)

	// RFC 2409 §6.2 (also RFC 7296 App. B.2): group 2, 1024 bits.
	modp1024 = newMODP(`
		FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
		020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
		4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
		EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381 FFFFFFFF FFFFFFFF`,
		"2", "", 240)

	// RFC 3526 §2: group 5, 1536 bits.
	modp1536 = newMODP(`
		FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
		020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
		4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
		EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05
		98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
		9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA237327 FFFFFFFF FFFFFFFF`,
		"2", "", 240)

	// RFC 3526 §3: group 14, 2048 bits.
	modp2048 = newMODP(`
		FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
		020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
		4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
		EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05
		98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
		9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
		E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718
		3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AACAA68 FFFFFFFF FFFFFFFF`,
		"2", "", 320)

	// RFC 3526 §4: group 15, 3072 bits.
	modp3072 = newMODP(`
		FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
		020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
		4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
		EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05
		98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
		9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
		E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718
		3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AAAC42D AD33170D 04507A33
		A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7
		ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864
		D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2
		08E24FA0 74E5AB31 43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF`,
		"2", "", 420)

	// RFC 3526 §5: group 16, 4096 bits.
	modp4096 = newMODP(`
		FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
		020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
		4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
		EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05
		98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
		9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
		E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718
		3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AAAC42D AD33170D 04507A33
		A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7
		ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864
		D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2
		08E24FA0 74E5AB31 43DB5BFC E0FD108E 4B82D120 A9210801 1A723C12 A787E6D7
		88719A10 BDBA5B26 99C32718 6AF4E23C 1A946834 B6150BDA 2583E9CA 2AD44CE8
		DBBBC2DB 04DE8EF9 2E8EFC14 1FBECAA6 287C5947 4E6BC05D 99B2964F A090C3A2
		233BA186 515BE7ED 1F612970 CEE2D7AF B81BDD76 2170481C D0069127 D5B05AA9
		93B4EA98 8D8FDDC1 86FFB7DC 90A6C08F 4DF435C9 34063199 FFFFFFFF FFFFFFFF`,
		"2", "", 480)

	// RFC 5114 §2.3: group 24, a 2048-bit prime with a 256-bit prime order
	// subgroup. Private values are drawn below q, so exponentBits is unused.
	modp2048s256 = newMODP(`
		87A8E61D B4B6663C FFBBD19C 65195999 8CEEF608 660DD0F2 5D2CEED4 435E3B00
		E00DF8F1 D61957D4 FAF7DF45 61B2AA30 16C3D911 34096FAA 3BF4296D 830E9A7C
		209E0C64 97517ABD 5A8A9D30 6BCF67ED 91F9E672 5B4758C0 22E0B1EF 4275BF7B
		6C5BFC11 D45F9088 B941F54E B1E59BB8 BC39A0BF 12307F5C 4FDB70C5 81B23F76
		B63ACAE1 CAA6B790 2D525267 35488A0E F13C6D9A 51BFA4AB 3AD83477 96524D8E
		F6A167B5 A41825D9 67E144E5 14056425 1CCACB83 E6B486F6 B3CA3F79 71506026
		C0B857F6 89962856 DED4010A BD0BE621 C3A3960A 54E710C3 75F26375 D7014103
		A4B54330 C198AF12 6116D227 6E11715F 693877FA D7EF09CA DB094AE9 1E1A1597`, `
		3FB32C9B 73134D0B 2E775066 60EDBD48 4CA7B18F 21EF2054 07F4793A 1A0BA125
		10DBC150 77BE463F FF4FED4A AC0BB555 BE3A6C1B 0C6B47B1 BC3773BF 7E8C6F62
		901228F8 C28CBB18 A55AE313 41000A65 0196F931 C77A57F2 DDF463E5 E9EC144B
		777DE62A AAB8A862 8AC376D2 82D6ED38 64E67982 428EBC83 1D14348F 6F2F9193
		B5045AF2 767164E1 DFC967C1 FB3F2E55 A4BD1BFF E83B9C80 D052B985 D182EA0A
		DB2A3B73 13D3FE14 C8484B1E 052588B9 B7D2BBD2 DF016199 ECD06E15 57CD0915
		B3353BBB 64E0EC37 7FD02837 0DF92B52 C7891428 CDC67EB6 184B523D 1DB246C3
		2F630784 90F00EF8 D647D148 D4795451 5E2327CF EF98C582 664B4C0F 6CC41659`, `
		8CF83642 A709A097 B4479976 40129DA2 99B1A47D 1EB3750B A308B0FE 64F5FBD3`,
		0)
)

// newMODP parses a group's parameters from RFC-style hex (whitespace is
// ignored); q is empty for a safe prime.
func newMODP(p, g, q string, exponentBits int) *modpGroup {
	grp := &modpGroup{p: parseHex(p), g: parseHex(g), exponentBits: exponentBits}
	if q != "" {
		grp.q = parseHex(q)
	}
	grp.size = (grp.p.BitLen() + 7) / 8
	return grp
}

func parseHex(s string) *big.Int {
	n, ok := new(big.Int).SetString(strings.Join(strings.Fields(s), ""), 16)
	if !ok {
		panic("transform: bad hex in a MODP group constant")
	}
	return n
}

// modpKE is one side of a MODP exchange.
type modpKE struct {
	name   string // the row's Name, for errors
	group  *modpGroup
	x      *big.Int // private exponent
	public []byte   // g^x mod p, left-padded to group.size
}

// newKeyExchange returns the constructor the table stores for this group.
func (grp *modpGroup) newKeyExchange(name string) func(io.Reader) (KeyExchange, error) {
	return func(r io.Reader) (KeyExchange, error) {
		x, err := grp.privateExponent(r)
		if err != nil {
			return nil, fmt.Errorf("%s: generating the private value: %w", name, err)
		}
		return grp.withPrivate(name, x), nil
	}
}

// privateExponent draws x from r: uniform in [1, q-1] where the subgroup
// order is known, else uniform in [2, 2^exponentBits).
func (grp *modpGroup) privateExponent(r io.Reader) (*big.Int, error) {
	if grp.q != nil {
		x, err := rand.Int(r, new(big.Int).Sub(grp.q, bigOne))
		if err != nil {
			return nil, err
		}
		return x.Add(x, bigOne), nil
	}
	limit := new(big.Int).Lsh(bigOne, uint(grp.exponentBits))
	for {
		x, err := rand.Int(r, limit)
		if err != nil {
			return nil, err
		}
		if x.Cmp(bigOne) > 0 {
			return x, nil
		}
	}
}

// withPrivate builds the exchange for a given private exponent. Tests use it
// for fixed-key vectors.
func (grp *modpGroup) withPrivate(name string, x *big.Int) *modpKE {
	y := new(big.Int).Exp(grp.g, x, grp.p)
	return &modpKE{name: name, group: grp, x: x, public: y.FillBytes(make([]byte, grp.size))}
}

var bigOne = big.NewInt(1)

func (k *modpKE) PublicKey() []byte { return append([]byte(nil), k.public...) }

// SharedSecret checks the peer's value as RFC 6989 §2 asks (1 < y < p-1,
// and y^q = 1 in a group with a small subgroup order) and returns g^xy
// left-padded to the prime's length (RFC 7296 §2.14).
func (k *modpKE) SharedSecret(peerPublic []byte) ([]byte, error) {
	grp := k.group
	if len(peerPublic) != grp.size {
		return nil, fmt.Errorf("%s: peer public value is %d bytes, want %d (RFC 7296 §3.4): %w",
			k.name, len(peerPublic), grp.size, ErrInvalidPublicValue)
	}
	y := new(big.Int).SetBytes(peerPublic)
	pMinus1 := new(big.Int).Sub(grp.p, bigOne)
	if y.Cmp(bigOne) <= 0 || y.Cmp(pMinus1) >= 0 {
		return nil, fmt.Errorf("%s: peer public value outside 1 < y < p-1 (RFC 6989 §2.1): %w",
			k.name, ErrInvalidPublicValue)
	}
	if grp.q != nil && new(big.Int).Exp(y, grp.q, grp.p).Cmp(bigOne) != 0 {
		return nil, fmt.Errorf("%s: peer public value is not in the prime order subgroup (RFC 6989 §2.2): %w",
			k.name, ErrInvalidPublicValue)
	}
	z := new(big.Int).Exp(y, k.x, grp.p)
	secret := z.FillBytes(make([]byte, grp.size))
	clear(z.Bits())
	return secret, nil
}

// String names the group and never the private value.
func (k *modpKE) String() string { return k.name + " key exchange" }
