package secret

// prefix starts every encoded secret.
const prefix = "$9$"

// alphabet is the four character families F0..F3 concatenated in order; a
// character's value is its position. The family boundaries matter: the
// salt's family decides how many filler characters follow it. (A known
// port moves '-' to the end; that order does not decode real Junos strings.)
const alphabet = "QzF3n6/9CAtpu0O" + // F0, 15 characters
	"B1IREhcSyrleKvMW8LXx" + // F1, 20
	"7N-dVbwsY2g4oaJZGUDj" + // F2, 20
	"iHkq.mPf5T" // F3, 10

// radix is the alphabet size; every gap is taken modulo it.
const radix = len(alphabet)

// familyEnd holds the first position past each of F0, F1, F2 and F3.
var familyEnd = [4]int{15, 35, 55, 65}

// weights are the digit weights of one plaintext byte, chosen by the byte's
// position modulo 7. Encoding peels digits from the largest weight down;
// every digit fits in 0..63, so gap+1 never wraps past a full turn of the
// alphabet.
var weights = [7][]int{
	{1, 4, 32},
	{1, 16, 32},
	{1, 8, 32},
	{1, 64},
	{1, 32},
	{1, 4, 16, 128},
	{1, 32, 64},
}

// position maps a byte to its alphabet position, or -1 for bytes outside
// the alphabet.
var position = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// inAlphabet reports whether c is one of the 65 alphabet characters.
func inAlphabet(c byte) bool { return position[c] >= 0 }

// fillerCount is EXTRA(c) = 3 - family(c): how many filler characters
// follow the salt c. c must be in the alphabet.
func fillerCount(c byte) int {
	p := int(position[c])
	for family, end := range familyEnd {
		if p < end {
			return 3 - family
		}
	}
	return 0 // unreachable for alphabet characters
}
