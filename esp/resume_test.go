package esp

import "testing"

func TestResumeAtAndSeed(t *testing.T) {
	sc := allSuites(t)[0]
	out, in := newPair(t, testConfig(sc, false))
	out.ResumeAt(5000)
	out.ResumeAt(10) // never backwards
	if got := out.Sequence(); got != 5000 {
		t.Fatalf("sequence %d after ResumeAt(5000), ResumeAt(10)", got)
	}
	in.SeedReplay(5000)
	pkt := sealCopy(t, out, innerPacket(64, NextHeaderIPv4), NextHeaderIPv4)
	if _, _, err := in.Open(pkt); err != nil {
		t.Fatalf("the first packet after resuming (sequence 5001): %v", err)
	}
	old, _ := newPair(t, testConfig(sc, false))
	old.ResumeAt(4999)
	replayed := sealCopy(t, old, innerPacket(64, NextHeaderIPv4), NextHeaderIPv4) // sequence 5000
	if _, _, err := in.Open(replayed); err != ErrReplay {
		t.Fatalf("a packet at the seeded edge: %v, want ErrReplay", err)
	}
}
