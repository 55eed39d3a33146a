package ikev2

import (
	"net/netip"
	"testing"

	"ipsecgw/ike/fragment"
	"ipsecgw/ike/wire"
)

// FuzzFragmentReassembly drives a responder waiting for a fragmented
// IKE_AUTH request through its receive path (HandleMessage) with
// fragments sealed with the initiator's keys, so that they authenticate
// and reach the reassembly: any numbering, sizes, first payloads and
// contents, mixed with the real fragments, some corrupted. Each operation
// is five bytes:
//
//	flags      bit 0 corrupt the last byte (ICV), bit 1 another Message ID,
//	           bit 2 send real fragment (number % count) instead
//	number     Fragment Number - 1, modulo Total Fragments
//	total      Total Fragments - 1
//	length     piece length × 4
//	first      first payload type (fragment 1)
//
// The engine must never panic and never hold more than the reassembly
// limits allow; whatever completes is parsed and handled as any IKE_AUTH.
func FuzzFragmentReassembly(f *testing.F) {
	f.Add([]byte{4, 0, 0, 0, 0, 4, 1, 0, 0, 0})                             // the real fragments
	f.Add([]byte{4, 1, 0, 0, 0, 4, 0, 0, 0, 0, 4, 1, 0, 0, 0})              // reversed, a duplicate
	f.Add([]byte{0, 0, 1, 10, 35, 0, 1, 1, 10, 0})                          // a forged two-fragment IDi
	f.Add([]byte{0, 0, 200, 255, 35, 1, 0, 2, 1, 35, 0, 5, 5, 255, 0})      // too many, other ID, too long
	f.Add([]byte{0, 0, 2, 1, 35, 0, 1, 3, 1, 0, 4, 0, 0, 0, 0, 4, 1, 0, 0}) // restarted, then the real ones
	f.Add([]byte{1, 0, 0, 4, 35, 4, 0, 0, 0, 0, 5, 1, 0, 0, 0, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		a, b, w, p := fragPair(t, "aes-256-gcm", 200, nil, false)
		w.hold = func(h wire.Header, f *wire.EncryptedFragment) bool { return f != nil && !h.IsResponse() }
		if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
			t.Fatal(err)
		}
		real := waitHeld(t, w)
		keys := initiatorKeys(t, a)
		from, to := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
		limit := fragment.DefaultLimits.MaxMessages * fragment.DefaultLimits.MaxBytes
		for len(ops) >= 5 {
			op := ops[:5]
			ops = ops[5:]
			var m []byte
			if op[0]&4 != 0 {
				m = append([]byte(nil), real[int(op[1])%len(real)]...)
			} else {
				total := uint16(op[2]) + 1
				id := uint32(1)
				if op[0]&2 != 0 {
					id = 2
				}
				m = keys.fragment(t, wire.IKE_AUTH, id, uint16(op[1])%total+1, total, wire.PayloadType(op[4]), make([]byte, int(op[3])*4))
			}
			if op[0]&1 != 0 {
				m[len(m)-1] ^= 0x80
			}
			b.HandleMessage(m, from, to)
			if _, held := responderHeld(b); held > limit {
				t.Fatalf("holds %d bytes of fragments, limit %d", held, limit)
			}
		}
		p.wg.Wait()
	})
}
