package secret

import (
	"bytes"
	"testing"
)

// vectors are the public encodings of reference/junos-ipsec.md §8.5.
var vectors = []struct {
	encoded, plain string
}{
	{"$9$LbHX-wg4Z", "lc"},
	{"$9$1HFIyKXxdsgJ-VH.Pfn6lKMXdsZUi5Qnikfz", "testPassWord"},
	{"$9$2GgZjHkPQ39.PhrvLVb.P5Tz6", "password"},
	{"$9$dZV2aZGi.fzDiORSeXxDikqmT", "password"},
	{"$9$6cgx/pBIRSeMXhS4ZjqQzhSrlK8", "password"},
	{"$9$ewkMLNs2aikPdbkP5Q9CKM8", "juniper"},
	{"$9$H.fz9A0hSe36SevW-dk.P", "juniper"},
	{"$9$.fQ3ApBSrv69rvWLVb.P5Ft0SyeKWXVw", "Juniper_HPE"},
	{"$9$OY8RBcl8LNbYo7-", "test"},
}

func TestDecodeVectors(t *testing.T) {
	for _, v := range vectors {
		got, err := Decode(v.encoded)
		if err != nil {
			t.Errorf("Decode(%q): %v", v.encoded, err)
			continue
		}
		if string(got) != v.plain {
			t.Errorf("Decode(%q) = %q, want %q", v.encoded, got, v.plain)
		}
		if !IsEncoded(v.encoded) {
			t.Errorf("IsEncoded(%q) = false", v.encoded)
		}
	}
}

// TestReencodeVectors rebuilds each vector from its plaintext with the
// vector's own salt and filler: the encoder must reproduce it exactly.
func TestReencodeVectors(t *testing.T) {
	for _, v := range vectors {
		salt := v.encoded[len(prefix)]
		start := len(prefix) + 1
		filler := v.encoded[start : start+fillerCount(salt)]
		if got := encodeWith([]byte(v.plain), salt, filler); got != v.encoded {
			t.Errorf("encodeWith(%q, %q, %q) = %q, want %q", v.plain, salt, filler, got, v.encoded)
		}
	}
}

// TestWorkedExample follows §8.4 step by step: 'L' is in F1, so two filler
// characters follow it, and the gaps 0,3,3 and 3,0,3 give "lc".
func TestWorkedExample(t *testing.T) {
	if got := position['L']; got != 32 {
		t.Errorf("position('L') = %d, want 32", got)
	}
	if got := fillerCount('L'); got != 2 {
		t.Errorf("fillerCount('L') = %d, want 2", got)
	}
	for c, want := range map[byte]int{'Q': 3, 'O': 3, 'B': 2, 'x': 2, '7': 1, 'j': 1, 'i': 0, 'T': 0} {
		if got := fillerCount(c); got != want {
			t.Errorf("fillerCount(%q) = %d, want %d", c, got, want)
		}
	}
	got, err := Decode("$9$LbHX-wg4Z")
	if err != nil || !bytes.Equal(got, []byte("lc")) {
		t.Fatalf(`Decode("$9$LbHX-wg4Z") = %q, %v; want "lc"`, got, err)
	}
}
