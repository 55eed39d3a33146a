package esp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"testing"

	"ipsecgw/transform"
)

// Published ESP packets, reproduced byte for byte by Seal (with the
// published IV injected) and taken apart by Open.

// sealVector seals inner with a fixed IV and sequence number.
func sealVector(t *testing.T, sa *Outbound, iv []byte, seq uint64, inner []byte, nextHeader byte) []byte {
	t.Helper()
	sa.makeIV = func(dst []byte, _ uint64) { copy(dst, iv) }
	off := sa.Headroom()
	buf := make([]byte, off+len(inner), off+len(inner)+sa.Tailroom())
	copy(buf[off:], inner)
	pkt, err := sa.SealWithSequence(seq, buf, off, nextHeader)
	if err != nil {
		t.Fatalf("SealWithSequence: %v", err)
	}
	return pkt
}

// openVector opens pkt with the window placed just below seq (an ESN
// vector's high half cannot be inferred from an empty window). A vector
// whose next header is not tunnel mode's authenticates and decrypts, then
// fails with ErrBadNextHeader; plain is then checked where Open left it.
func openVector(t *testing.T, in *Inbound, seq uint64, pkt, plain []byte) {
	t.Helper()
	if seq > 1 {
		in.window.Accept(seq - 1)
	}
	pkt = append([]byte(nil), pkt...)
	inner, nh, err := in.Open(pkt)
	wantNH := plain[len(plain)-1]
	switch wantNH {
	case NextHeaderIPv4, NextHeaderIPv6:
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		padLen := int(plain[len(plain)-2])
		mustEqual(t, "inner packet", inner, plain[:len(plain)-2-padLen])
		if nh != wantNH {
			t.Fatalf("next header %d, want %d", nh, wantNH)
		}
	default:
		if !errors.Is(err, ErrBadNextHeader) {
			t.Fatalf("Open of next header %d: err = %v, want ErrBadNextHeader", wantNH, err)
		}
		mustEqual(t, "decrypted body", pkt[in.Headroom():in.Headroom()+len(plain)], plain)
	}
}

// RFC 3602 §4 cases 5-8: AES-CBC ESP packets without integrity. We refuse
// ESP without integrity, so the SA adds HMAC-SHA1-96 under a fixed key: the
// bytes up to the ICV must equal the RFC's, and the ICV must be the HMAC of
// exactly those bytes, computed here independently.
func TestRFC3602(t *testing.T) {
	cases := []struct {
		name    string
		key     string
		spi     uint32
		seq     uint64
		iv      string
		payload string
		nh      byte
		packet  string
	}{
		{"case5", "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 1, "e96e8c08ab465763fd098d45dd3ff893",
			"08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
				"202122232425262728292a2b2c2d2e2f3031323334353637", 1,
			"0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849" +
				"a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c" +
				"538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"},
		{"case6", "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 8, "69d08df7d203329db093fc4924e5bd80",
			"0800b5e8a80a0500a69c083d0b660e00777777777777777777777777", 1,
			"000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109" +
				"689bb379d2d750c0d915dca346a89f75"},
		{"case7", "0123456789abcdef0123456789abcdef", 0x8765, 2, "f4e765244f6407adf13dc1380f673f37",
			"45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b" +
				"0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233" +
				"34353637", 4,
			"0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c" +
				"237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b" +
				"8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"},
		{"case8", "0123456789abcdef0123456789abcdef", 0x8765, 5, "85d47224b5f3dd5d2101d4ea8dffab22",
			"45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff" +
				"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 4,
			"000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048f" +
				"e45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de" +
				"435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"},
	}
	sha1row := lookup(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA1_96, 0)
	macKey := keyBytes(20, 9)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{
				SPI:           c.spi,
				Encryption:    lookup(t, transform.TypeENCR, transform.ENCR_AES_CBC, 128),
				EncryptionKey: unhex(t, c.key),
				Integrity:     sha1row,
				IntegrityKey:  macKey,
			}
			out, in := newPair(t, cfg)
			want := unhex(t, c.packet)
			pkt := sealVector(t, out, unhex(t, c.iv), c.seq, unhex(t, c.payload), c.nh)
			mustEqual(t, "ESP packet before the ICV", pkt[:len(pkt)-12], want)
			mac := hmac.New(sha1.New, macKey)
			mac.Write(want)
			wantICV := mac.Sum(nil)[:12]
			mustEqual(t, "ICV", pkt[len(pkt)-12:], wantICV)

			// Decrypt the RFC's own bytes (with our ICV appended).
			plainLen := len(want) - in.Headroom()
			payload := unhex(t, c.payload)
			pad := plainLen - len(payload) - 2
			plain := append(append([]byte(nil), payload...), make([]byte, pad+2)...)
			writeTrailer(plain, len(payload), c.nh)
			openVector(t, in, c.seq, append(want, wantICV...), plain)
		})
	}
}

// RFC 7634 Appendix A: ChaCha20-Poly1305 ESP packet.
func TestRFC7634(t *testing.T) {
	cfg := Config{
		SPI:        0x01020304,
		Encryption: lookup(t, transform.TypeENCR, transform.ENCR_CHACHA20_POLY1305, 0),
		EncryptionKey: unhex(t, `808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f
			a0a1a2a3`),
	}
	plain := unhex(t, `45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10
		000736270809 0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627
		28292a2b2c2d2e2f303132333435363701020204`)
	want := unhex(t, `0102030400000005 1011121314151617
		24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6
		14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3
		cbec163fac469b502773f6fb94e664da9165b82829f641e0
		76aaa8266b7fb0f7b11b369907e1ad43`)
	out, in := newPair(t, cfg)
	pkt := sealVector(t, out, unhex(t, "1011121314151617"), 5, plain[:84], NextHeaderIPv4)
	mustEqual(t, "ESP packet", pkt, want)
	openVector(t, in, 5, want, plain)
}

// AES-GCM ESP packets from draft-mcgrew-gcm-test-01 (the RFC 4106 test
// cases). The draft's nonce is salt || IV; an 8-byte sequence number means
// ESN. Its packets carry next header 1, which tunnel mode refuses after
// decrypting. The draft's case with SPI 0 is left out: SPI 0 is never sent.
func TestGCMDraftVectors(t *testing.T) {
	cases := []struct{ key, spi, seq, nonce, plain, packet string }{
		{"4c80cdefbb5d10da906ac73c3613a634", "00004321", "8765432100000000", "2e443b684956ed7e3b244cfe",
			`45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000
			00000000045f736970045f756470037369700963796265726369747902646b00 0021000101020201`,
			`00004321000000004956ed7e3b244cfe fecf537e729d5b07dc30df528dd22b76
			8d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d
			15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732459018148f6cbe72 2fd04796562dfdb4`},
		{"feffe9928665731c6d6a8f9467308308", "0000a5f8", "0000000a", "cafebabefacedbaddecaf888",
			`4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100
			0001000000000000037369700963796265726369747902646b00000100010001`,
			`0000a5f80000000afacedbaddecaf888 deb22cd9b07c72c16e3a65beeb8df304
			a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642
			cfbb85a5b47e48a4ec3b9ba95d918bd183b70d3aa8bc6ee4c309e9d85a41ad4a`},
		{"abbccddef00112233445566778899aababbccddef00112233445566778899aab", "4a2cbfe3", "00000002",
			"112233440102030405060708",
			`4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000
			7002400020bf0000020405b40101040201020201`,
			`4a2cbfe3000000020102030405060708 ff425c9b724599df7a3bcd510194e00d
			6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99d
			ef842d8eb335f4eecfdbf831824b4c4915956c96`},
		{"3de09874b388e6491988d0c3607eae1f", "42f67e3f", "1010101010101010", "57690e434e280000a2fca1a3",
			`4500003c99c300008001cb7c40679318010101010800085c0200430061626364
			65666768696a6b6c6d6e6f707172737475767761626364656667686901020201`,
			`42f67e3f101010104e280000a2fca1a3 fba2caa4853cf9f0f22cb10d86dd83b0
			fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc9
			1755e6662b4c8d0d1f5e22739530320ae0d731cc978ecafaeae88f00e80d6e48`},
		{"3de09874b388e6491988d0c3607eae1f", "42f67e3f", "1010101010101010", "57690e434e280000a2fca1a3",
			`4500001c42a200008001441f406793b6e00000020a00f5ff01020201`,
			`42f67e3f101010104e280000a2fca1a3 fba2ca845e5df9f0f22c3e6e86dd831e
			1fc65792cd1af9130e1379ed369f071f35e034be95f112e4e7d05d35`},
		{"feffe9928665731c6d6a8f9467308308feffe9928665731c", "0000a5f8", "0000000a", "cafebabefacedbaddecaf888",
			`45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e 501016d075680001`,
			`0000a5f80000000afacedbaddecaf888 a5b1f8066029aea40e598b8122de0242
			0938b3ab33f828e687b8858b5bfbdbd0315b27452144cc7795457b9652037f53 18027b5b4cd7a636`},
		{"abbccddef00112233445566778899aab", "00000100", "0000000000000001", "decaf888cafedebaceface74",
			`4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5
			00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95 9b6266c04722b14923010101`,
			`0000010000000001cafedebaceface74 18a6fd42f72cbf4ab2a2ea901f73d814
			e3e7f243d95412e1c349c1d2fbec168f9190feebaf2cb01984e65863965d7472
			b79da345e0e780191f0d2f0e0f496c226f2127b27db35724e7845d68651f57e6 5f354f75ff17015769623436`},
		{"abbccddef00112233445566778899aababbccddef00112233445566778899aab", "17405e67", "156f3126dd0db99b",
			"73616c74616e640169766563",
			`45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602 50101f646d540001`,
			`17405e67dd0db99b616e640169766563 f2d69ecdbd5a0d5b8d5ef38bad4da58d
			1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e451626c2415771e3 b7eebca614c89b35`},
		{"3de09874b388e6491988d0c3607eae1f", "42f67e3f", "1010101010101010", "57690e434e280000a2fca1a3",
			`45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b
			000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32 5ae270c03899493915010101`,
			`42f67e3f101010104e280000a2fca1a3 fba2cad12fc1f9f00d3cebf305410db8
			3d7784b607323d220f24b0a97d54182800cadb0f68d99ef0e0c0c89ae9bea888
			4e52d65bc1afd0740f742444747b5b39ab533163aad4550ee5160975cdb608c5 769189609763b8e18caa81e2`},
		{"abbccddef00112233445566778899aababbccddef00112233445566778899aab", "17405e67", "156f3126dd0db99b",
			"73616c74616e640169766563",
			`636973636f0172756c65730174686501 6e6574776501646566696e6501746865
			746563686e6f6c6f6769657301746861 7477696c6c01646566696e65746f6d6f 72726f7701020201`,
			`17405e67dd0db99b616e640169766563 d4b7ed86a1777f2ea13d6973d324c69e
			7b43f826fb56831226508bebd2dceb18d0a6df10e5487df074113e14c641024e
			3e6773d91a62ee429b043a10e3efe6b012a49363412364f8c0cac587f249e56b 11e24f30e44ccc76`},
		{"7d773d00c144c525ac619d18c84a3f47", "335467ae", "ffffffff", "d966426743457e9182443bc6",
			`01020201`,
			`335467aeffffffff43457e9182443bc6 437f866bcb3f699fe9b0822bac961c45 04bef270`},
		{"abbccddef00112233445566778899aab", "00000100", "0000000000000001", "decaf888cafedebaceface74",
			`746f016265016f72016e6f7401746f01 62650001`,
			`0000010000000001cafedebaceface74 29c9fc69a197d038ccdd14e2ddfcaa05
			43332164412503524303ed3c6c5f283843af8c3e`},
		{"6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961", "796b6963", "ffffffffffffffff",
			"7475726e333021696765746d",
			`45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364
			65666768696a6b6c6d6e6f707172737401020201`,
			`796b6963ffffffff333021696765746d f97ab2aa356d8edce17644ac8c78e25d
			d24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe82
			1dcc63b9d0937ba2945f669368661a329fb4c053`},
	}
	for _, c := range cases {
		key, nonce, seqBytes := unhex(t, c.key), unhex(t, c.nonce), unhex(t, c.seq)
		var seq uint64
		for _, b := range seqBytes {
			seq = seq<<8 | uint64(b)
		}
		cfg := Config{
			SPI:           binary.BigEndian.Uint32(unhex(t, c.spi)),
			Encryption:    lookup(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, len(key)*8),
			EncryptionKey: append(key, nonce[:4]...),
			ESN:           len(seqBytes) == 8,
		}
		plain, want := unhex(t, c.plain), unhex(t, c.packet)
		padLen := int(plain[len(plain)-2])
		inner := plain[:len(plain)-2-padLen]
		t.Run(c.spi+"/"+c.seq, func(t *testing.T) {
			out, in := newPair(t, cfg)
			pkt := sealVector(t, out, nonce[4:], seq, inner, plain[len(plain)-1])
			mustEqual(t, "ESP packet", pkt, want)
			openVector(t, in, seq, want, plain)
		})
	}
}
