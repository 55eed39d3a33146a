package esp

import (
	"bytes"
	"errors"
	"testing"
)

// TestDecryptLeasedTo: for every suite, decrypting into another buffer
// gives the inner packet Decrypt gives, at dst[0] with dst's capacity,
// leaves the received packet as it was, refuses a forgery and a dst too
// small, and allocates nothing with a lease.
func TestDecryptLeasedTo(t *testing.T) {
	for _, sc := range allSuites(t) {
		for _, esn := range []bool{false, true} {
			out, in := newPair(t, testConfig(sc, esn))
			for _, n := range []int{0, 41, 1400} {
				want := innerPacket(n, NextHeaderIPv6)
				pkt := sealCopy(t, out, want, NextHeaderIPv6)
				kept := bytes.Clone(pkt)
				seq, err := in.Check(pkt)
				if err != nil {
					t.Fatal(err)
				}
				dst := make([]byte, 2048)
				inner, nh, err := in.DecryptLeasedTo(nil, pkt, seq, dst[16:])
				if err != nil || nh != NextHeaderIPv6 || !bytes.Equal(inner, want) {
					t.Fatalf("%s esn=%v n=%d: %v, next header %d, inner equal %v", sc.name, esn, n, err, nh, bytes.Equal(inner, want))
				}
				if &inner[:1][0] != &dst[16] || cap(inner) != len(dst)-16 {
					t.Fatalf("%s: inner not at dst[0] with dst's capacity", sc.name)
				}
				if !bytes.Equal(pkt, kept) {
					t.Fatalf("%s: the received packet was written to", sc.name)
				}
				bad := bytes.Clone(pkt)
				bad[len(bad)-1] ^= 1
				if _, _, err := in.DecryptLeasedTo(nil, bad, seq, dst); !errors.Is(err, ErrAuthentication) {
					t.Fatalf("%s: forged ICV: err = %v", sc.name, err)
				}
				if _, _, err := in.DecryptLeasedTo(nil, pkt, seq, dst[:len(pkt)-in.headroom-in.icvLen-1]); !errors.Is(err, ErrTruncated) {
					t.Fatalf("%s: short dst: err = %v", sc.name, err)
				}
				// The plain path agrees.
				inner2, _, err := in.Decrypt(bytes.Clone(pkt), seq)
				if err != nil || !bytes.Equal(inner2, want) {
					t.Fatalf("%s: Decrypt: %v", sc.name, err)
				}
			}
			pkt := sealCopy(t, out, innerPacket(1400, NextHeaderIPv4), NextHeaderIPv4)
			seq, _ := in.Check(pkt)
			dst := make([]byte, 2048)
			l := in.Lease()
			if a := testing.AllocsPerRun(50, func() { in.DecryptLeasedTo(&l, pkt, seq, dst) }); a != 0 {
				t.Fatalf("%s: %v allocations per DecryptLeasedTo", sc.name, a)
			}
			l.Release()
		}
	}
}

// FuzzDecryptLeasedTo: on arbitrary bytes that pass Check, decrypting
// into another buffer agrees with decrypting in place (same error, same
// inner packet and next header), never writes to the input and never
// panics, with dst of any size.
func FuzzDecryptLeasedTo(f *testing.F) {
	configs := fuzzSuites(f)
	for i, cfg := range configs {
		out, err := NewOutbound(cfg)
		if err != nil {
			f.Fatal(err)
		}
		pkt := sealCopy(f, out, innerPacket(20, NextHeaderIPv4), NextHeaderIPv4)
		f.Add(byte(i), uint16(2048), pkt)
		f.Add(byte(i), uint16(len(pkt)-20), pkt)
	}
	f.Fuzz(func(t *testing.T, which byte, dstLen uint16, pkt []byte) {
		in, err := NewInbound(configs[int(which)%len(configs)])
		if err != nil {
			t.Fatal(err)
		}
		seq, err := in.Check(pkt)
		if err != nil {
			return
		}
		orig := bytes.Clone(pkt)
		dst := make([]byte, dstLen)
		inner, nh, err := in.DecryptLeasedTo(nil, pkt, seq, dst)
		if !bytes.Equal(pkt, orig) {
			t.Fatal("the input was written to")
		}
		if err == ErrTruncated {
			if int(dstLen) >= len(pkt)-in.Headroom()-in.icvLen {
				t.Fatalf("ErrTruncated with a dst of %d for a %d-octet packet", dstLen, len(pkt))
			}
			return
		}
		inner2, nh2, err2 := in.Decrypt(bytes.Clone(pkt), seq)
		if err != err2 || nh != nh2 || !bytes.Equal(inner, inner2) {
			t.Fatalf("DecryptLeasedTo: %v %d %x; Decrypt: %v %d %x", err, nh, inner, err2, nh2, inner2)
		}
	})
}
