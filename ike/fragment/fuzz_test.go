package fragment

import (
	"bytes"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

// piece is what fuzzed fragment n carries: a function of its number only,
// so a reassembled chain can be checked without a model of what was kept.
func piece(n uint16) []byte { return bytes.Repeat([]byte{byte(n)}, int(n*5)%13) }

// FuzzReassembler plays a sequence of fragments, four bytes each (message,
// number, total, seconds to wait first), into a Reassembler with small
// limits. It must never panic, never hold more than its limits allow, and
// every message it completes must be its pieces in order.
func FuzzReassembler(f *testing.F) {
	f.Add([]byte{0, 1, 3, 0, 0, 3, 3, 0, 0, 2, 3, 0})             // in reverse order
	f.Add([]byte{0, 1, 2, 0, 0, 1, 2, 0, 0, 2, 4, 0, 0, 1, 4, 0}) // duplicate, then cut again
	f.Add([]byte{1, 1, 2, 0, 2, 1, 2, 1, 3, 1, 2, 5, 1, 2, 2, 9}) // eviction and expiry
	f.Add([]byte{0x80, 1, 1, 0, 0, 0, 1, 0, 0, 2, 1, 0, 0, 9, 9, 0})
	limits := Limits{MaxFragments: 8, MaxBytes: 40, MaxMessages: 2, Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, ops []byte) {
		clk := clock.NewFake(time.Unix(0, 0))
		r := New(clk, limits)
		adds := uint64(0)
		for len(ops) >= 4 {
			op := ops[:4]
			ops = ops[4:]
			clk.Advance(time.Duration(op[3]%8) * time.Second)
			fr := Fragment{MessageID: uint32(op[0] & 0x7f), Response: op[0]&0x80 != 0,
				Number: uint16(op[1]), Total: uint16(op[2]), Piece: piece(uint16(op[1]))}
			if fr.Number == 1 {
				fr.First = wire.PayloadSA
			}
			m, err := r.Add(fr)
			adds++
			if m != nil {
				if err != nil {
					t.Fatal("a message and an error")
				}
				var want []byte
				for n := uint16(1); n <= fr.Total; n++ {
					want = append(want, piece(n)...)
				}
				if !bytes.Equal(m.Chain, want) || m.First != wire.PayloadSA || m.MessageID != fr.MessageID || m.Response != fr.Response {
					t.Fatalf("completed %+v, want chain %x", m, want)
				}
			}
			if r.Pending() > limits.MaxMessages || r.Held() > limits.MaxMessages*limits.MaxBytes {
				t.Fatalf("holds %d messages, %d bytes", r.Pending(), r.Held())
			}
		}
		if r.Stats().Fragments != adds {
			t.Fatalf("counted %d fragments of %d", r.Stats().Fragments, adds)
		}
		clk.Advance(limits.Timeout)
		r.Expire()
		if r.Pending() != 0 || r.Held() != 0 {
			t.Fatal("messages outlive the timeout")
		}
	})
}
