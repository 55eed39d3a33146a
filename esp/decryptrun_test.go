package esp

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestDecryptRunEqualsDecryptLeased decrypts runs of packets with
// DecryptRun and the same packets one by one with DecryptLeased or
// DecryptLeasedTo, every suite with and without ESN: inner packet, next
// header and error must agree, for good packets, forged ones (ICV or
// ciphertext changed), a dummy packet, a bad trailer and a Dst too short.
// The runs cross sealRunMax, so AES-GCM on ipsec-mb opens in several calls.
func TestDecryptRunEqualsDecryptLeased(t *testing.T) {
	for _, sc := range allSuites(t) {
		for _, esn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/esn=%v", sc.name, esn), func(t *testing.T) {
				out, in := newPair(t, testConfig(sc, esn))
				for _, count := range []int{1, 5, sealRunMax + 9} {
					testDecryptRun(t, out, in, count)
				}
			})
		}
	}
}

func testDecryptRun(t *testing.T, out *Outbound, in *Inbound, count int) {
	run := make([]Opening, count)
	type result struct {
		inner []byte
		nh    byte
		err   error
	}
	want := make([]result, count)
	l := in.Lease()
	defer l.Release()
	for i := range run {
		nh := []byte{NextHeaderIPv4, NextHeaderIPv6, NextHeaderNone}[i%3]
		inner := innerPacket((i*113)%1500, nh)
		pkt := sealCopy(t, out, inner, nh)
		seq, err := in.Check(pkt)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 5 {
		case 1:
			pkt[len(pkt)-1] ^= 1 // ICV
		case 3:
			pkt[in.headroom] ^= 0x40 // ciphertext
		}
		var dst []byte
		if i%2 == 1 {
			dst = make([]byte, len(pkt))
			if i%4 == 3 {
				dst = dst[:len(pkt)-in.headroom-in.icvLen-1] // too short
			}
		}
		var w result
		if dst == nil {
			w.inner, w.nh, w.err = in.DecryptLeased(&l, bytes.Clone(pkt), seq)
		} else {
			w.inner, w.nh, w.err = in.DecryptLeasedTo(&l, pkt, seq, make([]byte, len(dst)))
		}
		want[i] = w
		run[i] = Opening{Pkt: pkt, Seq: seq, Dst: dst}
	}
	rl := in.Lease()
	in.DecryptRun(&rl, run)
	rl.Release()
	failures := 0
	for i, p := range run {
		w := want[i]
		if !errors.Is(p.Err, w.err) || (p.Err == nil) != (w.err == nil) || p.NextHeader != w.nh || !bytes.Equal(p.Inner, w.inner) {
			t.Fatalf("run of %d, packet %d: (%d bytes, next header %d, %v), one by one (%d bytes, %d, %v)",
				count, i, len(p.Inner), p.NextHeader, p.Err, len(w.inner), w.nh, w.err)
		}
		if p.Err != nil && p.Err != ErrDummyPacket {
			failures++
		}
	}
	if count > 5 && failures == 0 {
		t.Fatal("no packet failed: the test lost its forgeries")
	}
}

func TestDecryptRunAllocatesNothing(t *testing.T) {
	for _, sc := range allSuites(t) {
		if !sc.enc.IsAEAD() {
			continue
		}
		out, in := newPair(t, testConfig(sc, true))
		pkt := sealCopy(t, out, innerPacket(1400, NextHeaderIPv4), NextHeaderIPv4)
		seq, _ := in.Check(pkt)
		run := make([]Opening, 40)
		for i := range run {
			run[i] = Opening{Pkt: pkt, Seq: seq, Dst: make([]byte, 1500)}
		}
		if a := testing.AllocsPerRun(20, func() {
			l := in.Lease()
			in.DecryptRun(&l, run)
			l.Release()
		}); a != 0 {
			t.Errorf("%s: DecryptRun of 40: %v allocations, want 0", sc.name, a)
		}
		if run[0].Err != nil {
			t.Fatalf("%s: %v", sc.name, run[0].Err)
		}
	}
}
