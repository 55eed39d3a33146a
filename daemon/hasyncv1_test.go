package daemon

import (
	"testing"

	"ipsecgw/ike/ikev1"
)

// The DPD mark stays ahead of every probe sent and moves (a write) only
// once every dpdStep/2 probes.
func TestDPDMark(t *testing.T) {
	mark, had, moves := uint32(0), false, 0
	for seq := uint32(0); seq < 10*dpdStep; seq++ {
		m := dpdMark(seq, mark, had)
		if m <= seq {
			t.Fatalf("probe %d: mark %d not ahead", seq, m)
		}
		if had && m != mark {
			moves++
		}
		mark, had = m, true
	}
	if moves != 19 {
		t.Fatalf("the mark moved %d times in %d probes, want 19", moves, 10*dpdStep)
	}
}

// A record's signature ignores the inbound edges (refreshed at most every
// haRefresh) and nothing else: a new DPD mark, high-water mark or key is
// written at once.
func TestSignatureV1(t *testing.T) {
	st := ikev1.State{CkyI: 1, CkyR: 2, DPDSeq: 512, SKEYIDa: []byte{1}, Children: []ikev1.ChildState{{InSPI: 1, OutSPI: 2, OutSeq: 1 << 20, InTop: 5}}}
	base := signatureV1(st)
	edge := st
	edge.Children = []ikev1.ChildState{st.Children[0]}
	edge.Children[0].InTop = 900
	if signatureV1(edge) != base {
		t.Fatal("an inbound edge changed the signature")
	}
	if st.Children[0].InTop != 5 {
		t.Fatal("signatureV1 changed its argument")
	}
	for name, change := range map[string]func(*ikev1.State){
		"dpd":  func(s *ikev1.State) { s.DPDSeq = 1024 },
		"hw":   func(s *ikev1.State) { s.Children[0].OutSeq = 2 << 20 },
		"key":  func(s *ikev1.State) { s.SKEYIDa = []byte{2} },
		"pair": func(s *ikev1.State) { s.Children = append(s.Children, ikev1.ChildState{InSPI: 3}) },
	} {
		x := st
		x.Children = []ikev1.ChildState{st.Children[0]}
		change(&x)
		if signatureV1(x) == base {
			t.Errorf("%s: the signature did not change", name)
		}
	}
}
