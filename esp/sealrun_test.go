package esp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestSealRunEqualsSealLeased seals runs of packets with SealRun and the
// same packets one by one with SealLeased, on two SAs with one key and
// one IV mask, every suite with and without ESN: the packets must be
// equal byte for byte, and the packets SealLeased refuses (sequence 0 or
// out of range, no room) refused with the same error. The runs cross
// sealRunMax. AES-GCM takes ipsec-mb's run path where it is built in.
func TestSealRunEqualsSealLeased(t *testing.T) {
	for _, sc := range allSuites(t) {
		for _, esn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/esn=%v", sc.name, esn), func(t *testing.T) {
				cfg := testConfig(sc, esn)
				cfg.Rand = bytes.NewReader(keyBytes(64, 9))
				one, err := NewOutbound(cfg)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Rand = bytes.NewReader(keyBytes(64, 9))
				runs, err := NewOutbound(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if gcmViaIPsecMB := strings.Contains(fmt.Sprintf("%T", runs.aead), "ipsecmb"); runs.sealRuns != gcmViaIPsecMB {
					t.Fatalf("sealRuns %v with AEAD %T", runs.sealRuns, runs.aead)
				}
				for _, count := range []int{1, 3, sealRunMax, sealRunMax + 6} {
					testSealRun(t, one, runs, count)
				}
			})
		}
	}
}

func testSealRun(t *testing.T, one, runs *Outbound, count int) {
	const off = 64
	run := make([]Sealing, count)
	want := make([][]byte, count)
	wantErr := make([]error, count)
	l := one.Lease()
	defer l.Release()
	for i := range run {
		nh := []byte{NextHeaderIPv4, NextHeaderIPv6}[i%2]
		inner := innerPacket((i*131)%1500, nh)
		room := one.Tailroom()
		seq := uint64(1000 + i)
		switch i % 11 {
		case 5:
			seq = 0
		case 7:
			seq = one.lastSeq + 1
			if one.esn {
				seq = 0 // nothing lies beyond 2^64-1
			}
		case 9:
			room = 0
		}
		mk := func() []byte {
			b := make([]byte, off+len(inner), off+len(inner)+room)
			copy(b[off:], inner)
			return b
		}
		want[i], wantErr[i] = one.SealLeased(&l, seq, mk(), off, nh)
		run[i] = Sealing{Seq: seq, Buf: mk(), Off: off, NextHeader: nh}
	}
	rl := runs.Lease()
	runs.SealRun(&rl, run)
	rl.Release()
	for i, p := range run {
		if !errors.Is(p.Err, wantErr[i]) || (p.Err == nil) != (wantErr[i] == nil) {
			t.Fatalf("run of %d, packet %d: err %v, SealLeased's %v", count, i, p.Err, wantErr[i])
		}
		if !bytes.Equal(p.Pkt, want[i]) {
			t.Fatalf("run of %d, packet %d (seq %d): sealed differently from SealLeased", count, i, p.Seq)
		}
		if p.Pkt != nil && &p.Pkt[0] != &p.Buf[off-runs.Headroom()] {
			t.Fatalf("run of %d, packet %d: not sealed in place", count, i)
		}
	}
}

func TestSealRunAllocatesNothing(t *testing.T) {
	for _, sc := range allSuites(t) {
		if !sc.enc.IsAEAD() {
			continue
		}
		out, _ := newPair(t, testConfig(sc, true))
		run := make([]Sealing, 40)
		for i := range run {
			run[i] = Sealing{Buf: make([]byte, 128+1400, 128+1400+out.Tailroom()), Off: 128, NextHeader: NextHeaderIPv4}
		}
		seq := uint64(0)
		if a := testing.AllocsPerRun(20, func() {
			for i := range run {
				seq++
				run[i].Seq, run[i].Buf = seq, run[i].Buf[:128+1400]
			}
			l := out.Lease()
			out.SealRun(&l, run)
			l.Release()
		}); a != 0 {
			t.Errorf("%s: SealRun of 40: %v allocations, want 0", sc.name, a)
		}
	}
}
