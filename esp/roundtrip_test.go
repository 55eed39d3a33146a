package esp

import (
	"encoding/binary"
	"sync"
	"testing"
)

// TestRoundTrip seals and opens every suite × inner family × ESN on/off ×
// every inner size from 0 to 1500 bytes and a 8900-byte jumbo packet.
func TestRoundTrip(t *testing.T) {
	sizes := make([]int, 0, 1502)
	step := 1
	if raceEnabled {
		step = 7
	}
	if testing.Short() {
		step = 37
	}
	for n := 0; n <= 1500; n += step {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 8900)
	for _, sc := range allSuites(t) {
		for _, esn := range []bool{false, true} {
			name := sc.name
			if esn {
				name += "/esn"
			}
			t.Run(name, func(t *testing.T) {
				out, in := newPair(t, testConfig(sc, esn))
				for _, nh := range []byte{NextHeaderIPv4, NextHeaderIPv6} {
					for _, n := range sizes {
						roundTrip(t, out, in, innerPacket(n, nh), nh)
					}
				}
			})
		}
	}
}

// ivMasks remembers each outbound SA's IV mask across roundTrip calls.
var ivMasks sync.Map

// TestAEADIVsDifferAcrossSAsWithOneKey: a manual SA drives two SAs (one per
// direction, and a new one after each restart) with one key, all starting
// at sequence 1; their nonces must still differ.
func TestAEADIVsDifferAcrossSAsWithOneKey(t *testing.T) {
	for _, sc := range allSuites(t) {
		cfg := testConfig(sc, false)
		cfg.Rand = nil // the real random source, as in production
		if cfg.Integrity != nil {
			continue
		}
		seen := map[uint64]bool{}
		for i := 0; i < 8; i++ {
			out, err := NewOutbound(cfg)
			if err != nil {
				t.Fatal(err)
			}
			pkt := sealCopy(t, out, innerPacket(40, NextHeaderIPv4), NextHeaderIPv4)
			iv := binary.BigEndian.Uint64(pkt[headerLen:])
			if seen[iv] {
				t.Fatalf("%s: two SAs under one key sent sequence 1 with the same IV", sc.name)
			}
			seen[iv] = true
		}
	}
}

func roundTrip(t *testing.T, out *Outbound, in *Inbound, inner []byte, nh byte) {
	t.Helper()
	pkt := sealCopy(t, out, inner, nh)
	seq := out.Sequence()
	if got := binary.BigEndian.Uint32(pkt[offSeq:]); got != uint32(seq) {
		t.Fatalf("header carries sequence %d, SA used %d", got, seq)
	}
	if body := len(pkt) - out.Headroom() - out.icvLen; body%out.align != 0 || body%minAlign != 0 {
		t.Fatalf("body of %d bytes is not aligned to %d", body, out.align)
	}
	if out.aead != nil {
		// The explicit IV is the 64-bit sequence number under the SA's
		// constant mask, so it never repeats within the SA.
		mask := binary.BigEndian.Uint64(pkt[headerLen:]) ^ seq
		if prev, ok := ivMasks.LoadOrStore(out, mask); ok && prev.(uint64) != mask {
			t.Fatalf("AEAD IV of sequence %d is not the sequence number under the SA's mask", seq)
		}
	}
	got, gotNH, err := in.Open(pkt)
	if err != nil {
		t.Fatalf("Open of %d-byte inner packet: %v", len(inner), err)
	}
	if gotNH != nh {
		t.Fatalf("next header %d, want %d", gotNH, nh)
	}
	mustEqual(t, "inner packet", got, inner)
	if in.Sequence() != seq {
		t.Fatalf("inbound top %d, want %d", in.Sequence(), seq)
	}
}

// TestCBCIVsUnpredictable checks the CBC IV generator: distinct IVs per
// packet, unrelated to the sequence number, different between two SAs with
// the same keys.
func TestCBCIVsUnpredictable(t *testing.T) {
	for _, sc := range allSuites(t) {
		if sc.integ == nil {
			continue
		}
		a, _ := newPair(t, testConfig(sc, false))
		b, _ := newPair(t, testConfig(sc, false))
		seen := map[string]bool{}
		for i := 0; i < 200; i++ {
			pa := sealCopy(t, a, innerPacket(40, NextHeaderIPv4), NextHeaderIPv4)
			pb := sealCopy(t, b, innerPacket(40, NextHeaderIPv4), NextHeaderIPv4)
			ivA, ivB := string(pa[headerLen:a.headroom]), string(pb[headerLen:b.headroom])
			if seen[ivA] || ivA == ivB {
				t.Fatalf("%s: IV repeated at packet %d", sc.name, i+1)
			}
			seen[ivA] = true
			if binary.BigEndian.Uint64(pa[a.headroom-8:a.headroom]) == uint64(i+1) {
				t.Fatalf("%s: IV is the bare sequence number", sc.name)
			}
		}
	}
}

func TestSizes(t *testing.T) {
	for _, sc := range allSuites(t) {
		out, _ := newPair(t, testConfig(sc, false))
		iv, icv, align := sc.enc.IVSize, sc.enc.ICVSize, max(sc.enc.BlockSize, 4)
		if sc.integ != nil {
			icv = sc.integ.ICVSize
		}
		if out.Headroom() != 8+iv {
			t.Errorf("%s: Headroom %d, want %d", sc.name, out.Headroom(), 8+iv)
		}
		if out.Tailroom() != align+1+icv {
			t.Errorf("%s: Tailroom %d, want %d", sc.name, out.Tailroom(), align+1+icv)
		}
		for n := 0; n < 300; n++ {
			over := out.Overhead(n)
			if over > out.Headroom()+out.Tailroom() || over < out.Headroom()+2+icv {
				t.Fatalf("%s: Overhead(%d) = %d outside its bounds", sc.name, n, over)
			}
			space := n + over
			if m := out.MaxInner(space); m < n || out.Overhead(m)+m > space {
				t.Fatalf("%s: MaxInner(%d) = %d, but %d fits", sc.name, space, m, n)
			}
		}
	}
	out, _ := newPair(t, testConfig(allSuites(t)[0], false))
	if out.MaxInner(10) != 0 {
		t.Errorf("MaxInner of a space smaller than the overhead = %d, want 0", out.MaxInner(10))
	}
}
