package wire

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"errors"
	"testing"

	"ipsecgw/transform"
)

// The SK seam, exercised the way the IKE SA will use it, with ciphers from
// the transform table: the codec lays out and frames, the test does the
// crypto on the Regions it is given.

func row(t testing.TB, typ transform.Type, id transform.ID, bits int) *transform.Transform {
	t.Helper()
	r, ok := transform.Lookup(typ, id, bits)
	if !ok {
		t.Fatalf("no transform %v %d(%d)", typ, id, bits)
	}
	return r
}

func authInner() []Payload {
	return []Payload{
		&IDi{Type: ID_FQDN, Data: []byte("gw1.example.net")},
		&Auth{Method: AuthSharedKey, Data: pattern(0xa0, 32)},
		typicalSA(),
		&TSi{Selectors: []TrafficSelector{{EndPort: 65535, Start: mustAddr("198.51.100.0"), End: mustAddr("198.51.100.127")}}},
		&TSr{Selectors: []TrafficSelector{{EndPort: 65535, Start: mustAddr("198.51.100.128"), End: mustAddr("198.51.100.255")}}},
	}
}

func authHeader() Header {
	return Header{InitiatorSPI: 0x1111, ResponderSPI: 0x2222, Exchange: IKE_AUTH, Flags: FlagInitiator, MessageID: 1}
}

func TestSealOpenAEAD(t *testing.T) {
	for _, id := range []transform.ID{transform.ENCR_AES_GCM_16, transform.ENCR_CHACHA20_POLY1305} {
		bits := 256
		if id == transform.ENCR_CHACHA20_POLY1305 {
			bits = 0
		}
		enc := row(t, transform.TypeENCR, id, bits)
		t.Run(enc.String(), func(t *testing.T) {
			aead, err := enc.NewAEAD(pattern(1, enc.KeySize()))
			if err != nil {
				t.Fatal(err)
			}
			salt := pattern(9, enc.SaltSize)
			c := CipherSizes{IV: enc.IVSize, Block: enc.BlockSize, ICV: enc.ICVSize}
			m := &Message{Header: authHeader()}

			out, r, err := m.AppendEncrypted(nil, authInner(), c)
			if err != nil {
				t.Fatal(err)
			}
			copy(r.IV, pattern(0x77, c.IV))
			nonce := append(bytes.Clone(salt), r.IV...)
			sealed := aead.Seal(r.Ciphertext[:0], nonce, r.Ciphertext, r.AssociatedData)
			if &sealed[len(sealed)-1] != &out[len(out)-1] {
				t.Fatal("the tag was not sealed into the ICV")
			}

			// The receiver.
			got := mustParse(t, bytes.Clone(out))
			sk, ok := got.Payloads[0].(*Encrypted)
			if !ok || sk.First != PayloadIDi {
				t.Fatalf("payload %+v, want SK naming IDi first", got.Payloads[0])
			}
			rr, err := got.Regions(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(rr.AssociatedData) != HeaderLen+genericHeaderLen {
				t.Fatalf("associated data %d bytes, want header and SK header", len(rr.AssociatedData))
			}
			plain, err := aead.Open(rr.Ciphertext[:0], append(bytes.Clone(salt), rr.IV...), rr.Sealed(), rr.AssociatedData)
			if err != nil {
				t.Fatal(err)
			}
			inner, err := ParseInner(sk.First, plain)
			if err != nil {
				t.Fatal(err)
			}
			samePayloads(t, inner, authInner())
		})
	}
}

func TestSealOpenCBC(t *testing.T) {
	enc := row(t, transform.TypeENCR, transform.ENCR_AES_CBC, 128)
	integ := row(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA2_256_128, 0)
	block, err := enc.NewBlock(pattern(1, enc.KeySize()))
	if err != nil {
		t.Fatal(err)
	}
	macKey := pattern(2, integ.KeySize())
	c := CipherSizes{IV: enc.IVSize, Block: enc.BlockSize, ICV: integ.ICVSize}
	// A clear payload in front of SK, as §3.14 allows.
	m := &Message{Header: authHeader(), Payloads: []Payload{&VendorID{Data: []byte("in clear")}}}

	out, r, err := m.AppendEncrypted(nil, authInner(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ciphertext)%c.Block != 0 {
		t.Fatalf("plaintext with padding is %d bytes, not whole blocks", len(r.Ciphertext))
	}
	copy(r.IV, pattern(0x55, c.IV))
	cipher.NewCBCEncrypter(block, r.IV).CryptBlocks(r.Ciphertext, r.Ciphertext)
	mac, _ := integ.NewMAC(macKey)
	mac.Write(r.Integrity)
	copy(r.ICV, mac.Sum(nil))

	got := mustParse(t, out)
	rr, err := got.Regions(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Integrity)+len(rr.ICV) != len(out) {
		t.Fatal("Integrity and ICV do not cover the message")
	}
	mac.Reset()
	mac.Write(rr.Integrity)
	if !hmac.Equal(mac.Sum(nil)[:c.ICV], rr.ICV) {
		t.Fatal("ICV does not verify")
	}
	cipher.NewCBCDecrypter(block, rr.IV).CryptBlocks(rr.Ciphertext, rr.Ciphertext)
	sk := got.Payloads[1].(*Encrypted)
	inner, err := ParseInner(sk.First, rr.Ciphertext)
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, inner, authInner())

	// The same body framed by Marshal, as when the body was encrypted
	// elsewhere, gives the same bytes.
	sk2 := &Encrypted{First: sk.First, Body: bytes.Clone(sk.Body)}
	again, err := (&Message{Header: authHeader(), Payloads: []Payload{got.Payloads[0], sk2}}).Marshal()
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("Marshal of the encrypted body differs (%v)", err)
	}
	iv, ct, icv, ok := sk2.Split(c)
	if !ok || !bytes.Equal(iv, rr.IV) || !bytes.Equal(icv, rr.ICV) || len(ct) != len(rr.Ciphertext) {
		t.Fatal("Split disagrees with Regions")
	}
}

// Fragments (RFC 7383): the chain is split, each piece sealed in its own
// message; the receiver trims each piece's padding and joins them.
func TestFragments(t *testing.T) {
	enc := row(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, 128)
	aead, _ := enc.NewAEAD(pattern(3, enc.KeySize()))
	salt := pattern(4, enc.SaltSize)
	c := CipherSizes{IV: enc.IVSize, Block: 4, ICV: enc.ICVSize} // Block 4 to exercise padding
	first, chain, err := AppendPayloads(nil, authInner())
	if err != nil {
		t.Fatal(err)
	}
	const piece = 50
	total := uint16((len(chain) + piece - 1) / piece)
	var joined []byte
	for n := uint16(1); n <= total; n++ {
		content := chain[int(n-1)*piece : min(int(n)*piece, len(chain))]
		out, r, err := (&Message{Header: authHeader()}).AppendFragment(nil, first, n, total, content, c)
		if err != nil {
			t.Fatal(err)
		}
		copy(r.IV, []byte{byte(n)})
		aead.Seal(r.Ciphertext[:0], append(bytes.Clone(salt), r.IV...), r.Ciphertext, r.AssociatedData)

		m := mustParse(t, out)
		f := m.Payloads[0].(*EncryptedFragment)
		if f.Number != n || f.Total != total || (n == 1) != (f.First == first) {
			t.Fatalf("fragment %d parsed as %+v", n, f)
		}
		rr, err := m.Regions(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(rr.AssociatedData) != HeaderLen+genericHeaderLen+fragmentFieldsLen {
			t.Fatalf("associated data %d bytes, want header, SKF header and fragment fields", len(rr.AssociatedData))
		}
		plain, err := aead.Open(rr.Ciphertext[:0], append(bytes.Clone(salt), rr.IV...), rr.Sealed(), rr.AssociatedData)
		if err != nil {
			t.Fatalf("fragment %d: %v", n, err)
		}
		piece, err := TrimPadding(plain)
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, piece...)
	}
	inner, err := ParsePayloads(first, joined)
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, inner, authInner())
}

func TestRegionsRefuse(t *testing.T) {
	c := CipherSizes{IV: 16, Block: 16, ICV: 16}
	plain := mustParse(t, mustMarshal(t, typicalInit()))
	if _, err := plain.Regions(c); NotifyFor(err) != INVALID_SYNTAX {
		t.Fatalf("Regions of a clear message: %v", err)
	}
	short := mustParse(t, mustMarshal(t, &Message{Payloads: []Payload{&Encrypted{Body: pattern(0, 32)}}}))
	if _, err := short.Regions(c); NotifyFor(err) != INVALID_SYNTAX {
		t.Fatalf("Regions of a 32-byte body with IV 16 and ICV 16: %v", err)
	}
	ragged := mustParse(t, mustMarshal(t, &Message{Payloads: []Payload{&Encrypted{Body: pattern(0, 16+17+16)}}}))
	if _, err := ragged.Regions(c); NotifyFor(err) != INVALID_SYNTAX {
		t.Fatalf("Regions of 17 bytes of CBC ciphertext: %v", err)
	}
	if _, _, _, ok := (&Encrypted{Body: pattern(0, 32)}).Split(c); ok {
		t.Fatal("Split of a body too short")
	}
	if _, _, err := (&Message{}).AppendEncrypted(nil, nil, CipherSizes{Block: 257}); !errors.Is(err, ErrCannotEncode) {
		t.Fatalf("block of 257: %v", err)
	}
	if _, _, err := (&Message{}).AppendFragment(nil, PayloadIDi, 3, 2, nil, c); !errors.Is(err, ErrCannotEncode) {
		t.Fatalf("fragment 3 of 2: %v", err)
	}
	if _, _, err := (&Message{Payloads: []Payload{&Encrypted{}}}).AppendEncrypted(nil, nil, c); !errors.Is(err, ErrCannotEncode) {
		t.Fatalf("SK among the clear payloads: %v", err)
	}
}

// A later fragment naming a first payload is accepted, the name dropped.
func TestFragmentNextPayloadIgnored(t *testing.T) {
	b := mustMarshal(t, &Message{Payloads: []Payload{&EncryptedFragment{Number: 2, Total: 2, Body: pattern(0, 20)}}})
	b[HeaderLen] = byte(PayloadIDi)
	f := mustParse(t, b).Payloads[0].(*EncryptedFragment)
	if f.First != PayloadNone || f.Number != 2 {
		t.Fatalf("parsed %+v", f)
	}
}

func TestTrimPadding(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want []byte
		ok   bool
	}{
		{[]byte{1, 2, 0}, []byte{1, 2}, true},
		{[]byte{1, 9, 9, 2}, []byte{1}, true}, // any padding value
		{[]byte{0}, []byte{}, true},
		{[]byte{}, nil, false},
		{[]byte{1, 2}, nil, false},
	} {
		got, err := TrimPadding(c.in)
		if (err == nil) != c.ok || !bytes.Equal(got, c.want) {
			t.Fatalf("TrimPadding(%x) = %x, %v", c.in, got, err)
		}
	}
	// An empty SK (a liveness check) holds only a Pad Length.
	if ps, err := ParseInner(PayloadNone, []byte{0}); err != nil || len(ps) != 0 {
		t.Fatalf("empty SK: %v, %v", ps, err)
	}
	if _, err := ParseInner(PayloadNonce, []byte{0}); NotifyFor(err) != INVALID_SYNTAX {
		t.Fatalf("SK naming a payload it lacks: %v", err)
	}
	if _, err := ParsePayloads(PayloadSK, []byte{0, 0, 0, 4}); NotifyFor(err) != INVALID_SYNTAX {
		t.Fatalf("SK inside SK: %v", err)
	}
}
