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
