package replay

import "testing"

func TestSeed(t *testing.T) {
	w := mustNew(t, Config{Size: 64})
	w.Seed(1000)
	if w.Top() != 1000 {
		t.Fatalf("top %d after Seed(1000)", w.Top())
	}
	for _, s := range []uint32{1, 937, 999, 1000} {
		if _, ok := w.Check(s); ok {
			t.Errorf("sequence %d at or below the seeded edge passes the check", s)
		}
	}
	if _, ok := receive(w, 1001); !ok {
		t.Errorf("sequence 1001 above the seeded edge is refused")
	}
	w.Seed(10) // behind: nothing moves
	if w.Top() != 1001 {
		t.Fatalf("a lower seed moved the window to %d", w.Top())
	}
}
