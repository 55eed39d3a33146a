package esp

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"ipsecgw/transform"
)

// TestTamper flips each byte of a sealed packet in turn: a flipped SPI is
// refused as another SA's, anything else as an authentication failure, and
// none of the failures moves the replay window.
func TestTamper(t *testing.T) {
	for _, sc := range allSuites(t) {
		for _, esn := range []bool{false, true} {
			out, in := newPair(t, testConfig(sc, esn))
			for _, n := range []int{0, 41, 200} {
				pkt := sealCopy(t, out, innerPacket(n, NextHeaderIPv4), NextHeaderIPv4)
				for i := range pkt {
					bad := bytes.Clone(pkt)
					bad[i] ^= 0x80
					_, _, err := in.Open(bad)
					want := ErrAuthentication
					if i < offSeq {
						want = ErrSPIMismatch
					}
					if !errors.Is(err, want) {
						t.Fatalf("%s esn=%v n=%d: flipped byte %d: err = %v, want %v", sc.name, esn, n, i, err, want)
					}
				}
				if _, _, err := in.Open(pkt); err != nil {
					t.Fatalf("%s: the untouched packet no longer opens after the forgeries: %v", sc.name, err)
				}
			}
		}
	}
}

// TestEveryPrefixFails cuts a valid packet at every length: none opens, and
// those too short for header, IV, smallest body and ICV say so.
func TestEveryPrefixFails(t *testing.T) {
	for _, sc := range allSuites(t) {
		out, in := newPair(t, testConfig(sc, false))
		pkt := sealCopy(t, out, innerPacket(100, NextHeaderIPv6), NextHeaderIPv6)
		min := in.headroom + in.minBody + in.icvLen
		for n := 0; n < len(pkt); n++ {
			_, _, err := in.Open(bytes.Clone(pkt[:n]))
			switch {
			case err == nil:
				t.Fatalf("%s: %d-byte prefix of a %d-byte packet opened", sc.name, n, len(pkt))
			case n < min && !errors.Is(err, ErrTruncated):
				t.Fatalf("%s: %d-byte prefix: err = %v, want ErrTruncated", sc.name, n, err)
			case n >= min && sc.integ != nil && (n-in.headroom-in.icvLen)%sc.enc.BlockSize != 0 &&
				!errors.Is(err, ErrDecryption):
				t.Fatalf("%s: %d-byte prefix with a partial block: err = %v, want ErrDecryption", sc.name, n, err)
			}
		}
	}
}

func TestReplayThroughOpen(t *testing.T) {
	sc := allSuites(t)[0]
	cfg := testConfig(sc, false)
	out, in := newPair(t, cfg)
	var pkts [][]byte
	for i := 0; i < 100; i++ {
		pkts = append(pkts, sealCopy(t, out, innerPacket(60, NextHeaderIPv4), NextHeaderIPv4))
	}
	open := func(i int) error {
		_, _, err := in.Open(bytes.Clone(pkts[i]))
		return err
	}
	for _, i := range []int{0, 1, 5, 3, 99} {
		if err := open(i); err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
	}
	if err := open(5); !errors.Is(err, ErrReplay) {
		t.Errorf("duplicate: err = %v, want ErrReplay", err)
	}
	if err := open(99 - 63); err != nil { // seq 37: left edge of a 64 window under top 100
		t.Errorf("late packet at the window's left edge: %v", err)
	}
	if err := open(99 - 64); !errors.Is(err, ErrReplay) {
		t.Errorf("packet one beyond the window: err = %v, want ErrReplay", err)
	}

	cfg.NoAntiReplay = true
	_, in = newPair(t, cfg)
	for range 3 {
		if _, _, err := in.Open(bytes.Clone(pkts[7])); err != nil {
			t.Errorf("no-anti-replay SA refused a duplicate: %v", err)
		}
	}
	if size, enabled := in.ReplayWindow(); size != 64 || enabled {
		t.Errorf("ReplayWindow() = %d, %v", size, enabled)
	}
}

// TestESNAcrossEpoch sends across the 2^32 boundary: the wire carries only
// the low half, and both ends must agree on the high half or the ICV fails.
func TestESNAcrossEpoch(t *testing.T) {
	for _, sc := range allSuites(t) {
		out, in := newPair(t, testConfig(sc, true))
		out.seq.Store(1<<32 - 3)
		in.window.Accept(1<<32 - 4)
		for i := 0; i < 6; i++ {
			roundTrip(t, out, in, innerPacket(80, NextHeaderIPv4), NextHeaderIPv4)
		}
		if in.Sequence() != 1<<32+3 {
			t.Fatalf("%s: inbound at %#x after the boundary", sc.name, in.Sequence())
		}
	}
}

func TestSequenceExhausted(t *testing.T) {
	sc := allSuites(t)[0]
	for _, esn := range []bool{false, true} {
		out, in := newPair(t, testConfig(sc, esn))
		last := uint64(1<<32 - 1)
		if esn {
			last = 1<<64 - 1
		}
		out.seq.Store(last - 1)
		in.window.Accept(last - 1)
		roundTrip(t, out, in, innerPacket(20, NextHeaderIPv4), NextHeaderIPv4)
		if out.Sequence() != last {
			t.Fatalf("esn=%v: last packet used %#x, want %#x", esn, out.Sequence(), last)
		}
		for range 3 {
			buf := make([]byte, 64+20, 200)
			if _, err := out.Seal(buf, 64, NextHeaderIPv4); !errors.Is(err, ErrSequenceExhausted) {
				t.Fatalf("esn=%v: Seal past the last sequence number: err = %v", esn, err)
			}
			if _, err := out.NextSequence(); !errors.Is(err, ErrSequenceExhausted) {
				t.Fatalf("esn=%v: NextSequence past the last: err = %v", esn, err)
			}
		}
		if out.Sequence() != last {
			t.Fatalf("esn=%v: counter moved past the last number to %#x", esn, out.Sequence())
		}
		buf := make([]byte, 64+20, 200)
		if _, err := out.SealWithSequence(0, buf, 64, 4); !errors.Is(err, ErrSequenceOutOfRange) {
			t.Errorf("SealWithSequence(0): err = %v", err)
		}
		if !esn {
			if _, err := out.SealWithSequence(1<<32, buf, 64, 4); !errors.Is(err, ErrSequenceOutOfRange) {
				t.Errorf("SealWithSequence(2^32) on a 32-bit SA: err = %v", err)
			}
		}
	}
}

// TestConcurrentSeal seals from several goroutines: every sequence number
// is used once and every packet opens, in whatever order.
func TestConcurrentSeal(t *testing.T) {
	sc := allSuites(t)[len(allSuites(t))-1] // a CBC+HMAC suite: shared MAC state
	cfg := testConfig(sc, true)
	cfg.ReplayWindow = 4096
	out, in := newPair(t, cfg)
	const workers, each = 4, 200
	pkts := make(chan []byte, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				pkts <- sealCopy(t, out, innerPacket(300, NextHeaderIPv4), NextHeaderIPv4)
			}
		}()
	}
	wg.Wait()
	close(pkts)
	var openers sync.WaitGroup
	errs := make(chan error, workers*each)
	for pkt := range pkts {
		openers.Add(1)
		go func() {
			defer openers.Done()
			if _, _, err := in.Open(pkt); err != nil {
				errs <- err
			}
		}()
	}
	openers.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent open: %v", err)
	}
	if out.Sequence() != workers*each || in.Sequence() != workers*each {
		t.Fatalf("sequence out %d in %d, want %d", out.Sequence(), in.Sequence(), workers*each)
	}
}

// TestTrailerErrors authenticates bodies with broken trailers: the errors
// must tell them apart.
func TestTrailerErrors(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want error
	}{
		{"pad length beyond body", []byte{0xaa, 0xbb, 9, NextHeaderIPv4}, ErrBadTrailer},
		{"padding not 1,2,3", []byte{0xaa, 1, 3, 2, NextHeaderIPv4}, ErrBadTrailer},
		{"next header UDP", []byte{0xaa, 0xbb, 0, 17}, ErrBadNextHeader},
		{"dummy packet", []byte{1, 2, 2, NextHeaderNone}, ErrDummyPacket},
	}
	for _, sc := range allSuites(t) {
		for _, c := range cases {
			out, in := newPair(t, testConfig(sc, false))
			bl := bodyLen(len(c.body)-2, out.align)
			pkt := make([]byte, out.headroom+bl+out.icvLen)
			body := pkt[out.headroom : out.headroom+bl]
			// Left-pad the case's bytes so that the trailer stays at the end.
			copy(body[bl-len(c.body):], c.body)
			for i := range body[:bl-len(c.body)] {
				body[i] = 0xee
			}
			out.encrypt(pkt, 1, nil)
			if _, _, err := in.Open(pkt); !errors.Is(err, c.want) {
				t.Errorf("%s: %s: err = %v, want %v", sc.name, c.name, err, c.want)
			}
		}
	}
}

func TestSplitTrailer(t *testing.T) {
	cases := []struct {
		body  []byte
		inner []byte
		nh    byte
		err   error
	}{
		{[]byte{0, 4}, []byte{}, 4, nil},
		{[]byte{9, 9, 1, 1, 41}, []byte{9, 9}, 41, nil},
		{[]byte{1, 2, 3, 3, 4}, []byte{}, 4, nil},
		{[]byte{4}, nil, 0, ErrBadTrailer},
		{[]byte{1, 2, 3, 4, 4}, nil, 0, ErrBadTrailer},
		{[]byte{2, 1, 2, 4}, nil, 0, ErrBadTrailer},
		{[]byte{0, 0}, nil, 0, ErrBadNextHeader},
	}
	for _, c := range cases {
		inner, nh, err := splitTrailer(c.body)
		if !errors.Is(err, c.err) || (err == nil && (!bytes.Equal(inner, c.inner) || nh != c.nh)) {
			t.Errorf("splitTrailer(%x) = %x, %d, %v; want %x, %d, %v", c.body, inner, nh, err, c.inner, c.nh, c.err)
		}
	}
}

func TestSealNeedsRoom(t *testing.T) {
	out, _ := newPair(t, testConfig(allSuites(t)[0], false))
	h, tail := out.Headroom(), out.Tailroom()
	cases := []struct {
		name          string
		off, len, cap int
	}{
		{"no headroom", h - 1, h - 1 + 100, h - 1 + 100 + tail},
		{"offset past the end", h + 1, h, h + 100 + tail},
		{"no tailroom", h, h + 102, h + 102 + 2}, // 102+2 is aligned: needs exactly the ICV more
	}
	for _, c := range cases {
		buf := make([]byte, c.len, c.cap)
		if _, err := out.Seal(buf, c.off, NextHeaderIPv4); !errors.Is(err, ErrNoRoom) {
			t.Errorf("%s: err = %v, want ErrNoRoom", c.name, err)
		}
	}
	if out.Sequence() != 0 {
		t.Errorf("refused Seal calls used sequence numbers")
	}
	// Exactly enough room works.
	buf := make([]byte, h+102, h+102+2+out.icvLen)
	if _, err := out.Seal(buf, h, NextHeaderIPv4); err != nil {
		t.Errorf("exact room: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	gcm := lookup(t, transform.TypeENCR, transform.ENCR_AES_GCM_16, 128)
	cbc := lookup(t, transform.TypeENCR, transform.ENCR_AES_CBC, 128)
	des := lookup(t, transform.TypeENCR, transform.InsecureENCR_DES, 0)
	sha := lookup(t, transform.TypeINTEG, transform.AUTH_HMAC_SHA2_256_128, 0)
	prf := lookup(t, transform.TypePRF, transform.PRF_HMAC_SHA2_256, 0)
	secret := []byte("0123456789abcdef0123") // 20 bytes: right for GCM-128, wrong elsewhere
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"SPI 0", Config{Encryption: gcm, EncryptionKey: secret}, "SPI 0 is reserved"},
		{"no cipher", Config{SPI: 1}, "must be an ENCR row"},
		{"integrity as cipher", Config{SPI: 1, Encryption: sha}, "must be an ENCR row"},
		{"DES", Config{SPI: 1, Encryption: des, EncryptionKey: secret[:8]}, "insecure"},
		{"short key", Config{SPI: 1, Encryption: gcm, EncryptionKey: secret[:16]}, "needs 20 bytes of key material, got 16"},
		{"AEAD with HMAC", Config{SPI: 1, Encryption: gcm, EncryptionKey: secret, Integrity: sha, IntegrityKey: make([]byte, 32)},
			"takes no integrity transform"},
		{"CBC alone", Config{SPI: 1, Encryption: cbc, EncryptionKey: secret[:16]}, "needs an INTEG transform"},
		{"CBC with PRF", Config{SPI: 1, Encryption: cbc, EncryptionKey: secret[:16], Integrity: prf, IntegrityKey: make([]byte, 32)},
			"needs an INTEG transform"},
		{"short MAC key", Config{SPI: 1, Encryption: cbc, EncryptionKey: secret[:16], Integrity: sha, IntegrityKey: secret},
			"needs a 32-byte key, got 20 bytes"},
	}
	for _, c := range cases {
		_, err := NewOutbound(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), string(secret[:8])) {
			t.Errorf("%s: error leaks key material: %v", c.name, err)
		}
	}
	cfg := Config{SPI: 1, Encryption: gcm, EncryptionKey: secret, ReplayWindow: 1 << 20}
	if _, err := NewInbound(cfg); err == nil || !strings.Contains(err.Error(), "window size") {
		t.Errorf("oversized replay window: err = %v", err)
	}
}

// TestOpenAllocatesNothing guards the zero-allocation promise, including
// for rejected packets (a flood of forgeries must not feed the GC).
func TestOpenAllocatesNothing(t *testing.T) {
	for _, sc := range allSuites(t) {
		out, in := newPair(t, testConfig(sc, true))
		inner := innerPacket(1400, NextHeaderIPv4)
		off := 32 + out.Headroom()
		buf := make([]byte, off+len(inner), off+len(inner)+out.Tailroom())
		pkt, _ := out.Seal(buf, off, NextHeaderIPv4)
		forged := bytes.Clone(pkt)
		forged[len(forged)-1] ^= 1
		allocs := testing.AllocsPerRun(100, func() {
			buf = buf[:off+len(inner)]
			out.Seal(buf, off, NextHeaderIPv4)
			in.Open(forged)
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per Seal+Open", sc.name, allocs)
		}
	}
}
