package wire

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"testing"

	"ipsecgw/transform"
)

// RFC 7383 §2.5.1's arithmetic for the usual suites, worked by hand.
func TestFragmentContentSize(t *testing.T) {
	cbc := CipherSizes{IV: 16, Block: 16, ICV: 16} // AES-CBC with HMAC-SHA2-256-128
	gcm := CipherSizes{IV: 8, Block: 1, ICV: 16}   // AES-GCM-16
	for _, c := range []struct {
		name string
		path FragmentPath
		c    CipherSizes
		want int
	}{
		// 576 - 20 IP - 8 UDP - 28 IKE - 8 SKF - 16 IV - 16 ICV = 480, a
		// whole number of blocks; less Pad Length.
		{"IPv4 CBC", FragmentPath{}, cbc, 479},
		// 576 - 20 - 8 - 28 - 8 - 8 - 16 = 488, less Pad Length.
		{"IPv4 GCM", FragmentPath{}, gcm, 487},
		// 1280 - 40 - 8 - 4 marker - 28 - 8 - 16 - 16 = 1160, down to 1152.
		{"IPv6 CBC NAT-T", FragmentPath{IPv6: true, NonESPMarker: true}, cbc, 1151},
		{"IPv6 GCM", FragmentPath{IPv6: true}, gcm, 1280 - 40 - 8 - 28 - 8 - 8 - 16 - 1},
		{"configured 1000", FragmentPath{Datagram: 1000}, gcm, 1000 - 20 - 8 - 28 - 8 - 8 - 16 - 1},
	} {
		got, err := FragmentContentSize(c.path, c.c)
		if err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	if _, err := FragmentContentSize(FragmentPath{Datagram: 100}, cbc); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("a datagram too small for one byte: %v", err)
	}
}

// bigInner is an IKE_AUTH plaintext of a few kilobytes: certificates.
func bigInner() []Payload {
	return append(authInner(), &Cert{Encoding: CertX509Signature, Data: pattern(7, 1800)},
		&Cert{Encoding: CertX509Signature, Data: pattern(8, 1500)})
}

// Fragments of the whole message: each sealed datagram fits the path, the
// pieces carry the chain in order, and Total Fragments is the count.
func TestAppendFragments(t *testing.T) {
	enc, _ := transform.Lookup(transform.TypeENCR, transform.ENCR_AES_CBC, 256)
	integ, _ := transform.Lookup(transform.TypeINTEG, transform.AUTH_HMAC_SHA2_256_128, 0)
	block, _ := enc.NewBlock(pattern(1, enc.KeySize()))
	c := CipherSizes{IV: enc.IVSize, Block: enc.BlockSize, ICV: integ.ICVSize}
	for _, path := range []FragmentPath{{}, {IPv6: true, NonESPMarker: true}, {Datagram: 600}} {
		size, err := FragmentContentSize(path, c)
		if err != nil {
			t.Fatal(err)
		}
		m := &Message{Header: authHeader()}
		frags, err := m.AppendFragments(bigInner(), size, c)
		if err != nil {
			t.Fatal(err)
		}
		first, chain, _ := AppendPayloads(nil, bigInner())
		if want := (len(chain) + size - 1) / size; len(frags) != want || want < 2 {
			t.Fatalf("%+v: %d fragments, want %d", path, len(frags), want)
		}
		var joined []byte
		for i, f := range frags {
			wire := len(f.Message) + udpHeaderLen + ipv4HeaderLen
			if path.IPv6 {
				wire += ipv6HeaderLen - ipv4HeaderLen
			}
			if path.NonESPMarker {
				wire += nonESPMarkerLen
			}
			if wire > path.datagram() {
				t.Fatalf("%+v: fragment %d is a %d-byte datagram", path, i+1, wire)
			}
			// Seal as the IKE SA does, then parse and open as a peer.
			copy(f.Regions.IV, pattern(byte(i), c.IV))
			cipher.NewCBCEncrypter(block, f.Regions.IV).CryptBlocks(f.Regions.Ciphertext, f.Regions.Ciphertext)
			got := mustParse(t, f.Message)
			skf := got.Payloads[0].(*EncryptedFragment)
			if int(skf.Number) != i+1 || int(skf.Total) != len(frags) || (i == 0) != (skf.First == first) {
				t.Fatalf("fragment %d: %+v", i+1, skf)
			}
			r, err := got.Regions(c)
			if err != nil {
				t.Fatal(err)
			}
			cipher.NewCBCDecrypter(block, r.IV).CryptBlocks(r.Ciphertext, r.Ciphertext)
			piece, err := TrimPadding(r.Ciphertext)
			if err != nil {
				t.Fatal(err)
			}
			if len(piece) > size {
				t.Fatalf("fragment %d carries %d bytes, more than %d", i+1, len(piece), size)
			}
			joined = append(joined, piece...)
		}
		if !bytes.Equal(joined, chain) {
			t.Fatal("fragments do not join to the chain")
		}
	}
}

func TestAppendFragmentsRefuses(t *testing.T) {
	c := CipherSizes{IV: 8, Block: 1, ICV: 16}
	withClear := &Message{Header: authHeader(), Payloads: []Payload{&VendorID{Data: []byte("v")}}}
	if _, err := withClear.AppendFragments(authInner(), 100, c); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("clear payloads: %v", err)
	}
	m := &Message{Header: authHeader()}
	if _, err := m.AppendFragments(authInner(), 0, c); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("size 0: %v", err)
	}
	big := []Payload{&VendorID{Data: make([]byte, 65000)}, &VendorID{Data: make([]byte, 65000)}}
	if _, err := m.AppendFragments(big, 1, c); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("more than 65535 fragments: %v", err)
	}
	frags, err := m.AppendFragments(nil, 100, c)
	if err != nil || len(frags) != 1 {
		t.Errorf("empty chain: %d fragments, %v", len(frags), err)
	}
}

// Fits: a message fits when it and the headers around it (IP, UDP, the
// non-ESP marker) make at most the datagram.
func TestFragmentPathFits(t *testing.T) {
	for _, c := range []struct {
		path FragmentPath
		fits int // the largest message that fits
	}{
		{FragmentPath{}, 576 - 20 - 8},
		{FragmentPath{NonESPMarker: true}, 576 - 20 - 8 - 4},
		{FragmentPath{IPv6: true}, 1280 - 40 - 8},
		{FragmentPath{IPv6: true, NonESPMarker: true, Datagram: 500}, 500 - 40 - 8 - 4},
	} {
		if !c.path.Fits(c.fits) || c.path.Fits(c.fits+1) {
			t.Errorf("%+v: %d bytes fit %v, %d fit %v", c.path, c.fits, c.path.Fits(c.fits), c.fits+1, c.path.Fits(c.fits+1))
		}
	}
}

// AppendChainFragments cuts an encoded chain as AppendFragments cuts the
// payloads it encodes: the same layouts.
func TestAppendChainFragments(t *testing.T) {
	c := CipherSizes{IV: 8, Block: 1, ICV: 16}
	first, chain, err := AppendPayloads(nil, bigInner())
	if err != nil {
		t.Fatal(err)
	}
	a, err := (&Message{Header: authHeader()}).AppendFragments(bigInner(), 300, c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&Message{Header: authHeader()}).AppendChainFragments(first, chain, 300, c)
	if err != nil || len(a) != len(b) || len(a) < 2 {
		t.Fatalf("%d and %d fragments, %v", len(a), len(b), err)
	}
	for i := range a {
		if !bytes.Equal(a[i].Message, b[i].Message) {
			t.Fatalf("fragment %d differs", i+1)
		}
	}
	if _, err := (&Message{Header: authHeader(), Payloads: []Payload{&Nonce{Data: []byte{1}}}}).AppendChainFragments(first, chain, 300, c); !errors.Is(err, ErrCannotEncode) {
		t.Fatalf("clear payloads beside fragments: %v", err)
	}
}
