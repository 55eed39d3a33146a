package esp

import (
	"bytes"
	"testing"

	"ipsecgw/transform"
)

// fuzzSuites are the SAs the fuzz targets open packets with: every cipher
// family, with and without ESN. Keys are fixed, so the seeds are valid
// packets the fuzzer can mutate.
func fuzzSuites(t testing.TB) []Config {
	gcm := lookup(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, 128)
	chacha := lookup(t, transform.TypeENCR, transform.ENCR_CHACHA20_POLY1305, 0)
	aes := lookup(t, transform.TypeENCR, transform.ENCR_AES_CBC, 256)
	tdes := lookup(t, transform.TypeENCR, transform.ENCR_3DES, 0)
	sha1 := lookup(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA1_96, 0)
	sha512 := lookup(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA2_512_256, 0)
	return []Config{
		testConfig(suiteCase{enc: gcm}, false),
		testConfig(suiteCase{enc: chacha}, true),
		testConfig(suiteCase{enc: aes, integ: sha1}, false),
		testConfig(suiteCase{enc: tdes, integ: sha512}, true),
	}
}

var openErrors = []error{ErrTruncated, ErrSPIMismatch, ErrReplay, ErrAuthentication,
	ErrDecryption, ErrBadTrailer, ErrBadNextHeader, ErrDummyPacket}

// FuzzOpen feeds arbitrary bytes to Open: it must never panic, must fail
// with one of its own error values, and on success return an inner packet
// inside the input with a tunnel-mode next header.
func FuzzOpen(f *testing.F) {
	configs := fuzzSuites(f)
	for i, cfg := range configs {
		out, err := NewOutbound(cfg)
		if err != nil {
			f.Fatal(err)
		}
		pkt := sealCopy(f, out, innerPacket(20, NextHeaderIPv4), NextHeaderIPv4)
		f.Add(byte(i), pkt)
		f.Add(byte(i), pkt[:len(pkt)-1])
	}
	f.Add(byte(0), []byte{})
	f.Fuzz(func(t *testing.T, which byte, pkt []byte) {
		in, err := NewInbound(configs[int(which)%len(configs)])
		if err != nil {
			t.Fatal(err)
		}
		orig := bytes.Clone(pkt)
		inner, nh, err := in.Open(pkt)
		if err != nil {
			for _, known := range openErrors {
				if err == known {
					return
				}
			}
			t.Fatalf("Open returned an error outside its list: %v", err)
		}
		if nh != NextHeaderIPv4 && nh != NextHeaderIPv6 {
			t.Fatalf("Open accepted next header %d", nh)
		}
		if len(inner) > 0 && (&inner[0] != &pkt[in.Headroom()] || len(inner) > len(pkt)-in.Headroom()) {
			t.Fatalf("inner packet is not inside the input")
		}
		// Whatever authenticated must have come from our Outbound: opening
		// the same bytes again is a replay.
		if _, _, err := in.Open(orig); err != ErrReplay {
			t.Fatalf("second Open of an accepted packet: err = %v, want ErrReplay", err)
		}
	})
}

// FuzzRoundTrip seals arbitrary inner packets and opens them again.
func FuzzRoundTrip(f *testing.F) {
	configs := fuzzSuites(f)
	f.Add(byte(0), []byte{}, false)
	f.Add(byte(3), []byte{0x60, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, which byte, inner []byte, v6 bool) {
		cfg := configs[int(which)%len(configs)]
		out, in := newPair(t, cfg)
		nh := NextHeaderIPv4
		if v6 {
			nh = NextHeaderIPv6
		}
		pkt := sealCopy(t, out, inner, nh)
		got, gotNH, err := in.Open(pkt)
		if err != nil || gotNH != nh || !bytes.Equal(got, inner) {
			t.Fatalf("round trip of %d bytes: %x, %d, %v", len(inner), got, gotNH, err)
		}
	})
}
