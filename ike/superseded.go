package ike

// Superseded is the set of Child SAs a rekey replaced. A Child SA that
// goes away is reported ChildDown (alone, or with its IKE SA), except one
// a rekey replaced: the tunnel stays up and its successor was reported
// ChildRekeyed. Each engine marks the replaced one when it installs the
// successor and asks here when it removes a Child SA, under its lock.
type Superseded map[*ChildSA]struct{}

// Mark records that a rekey replaced c (nil: nothing).
func (s *Superseded) Mark(c *ChildSA) {
	if c == nil {
		return
	}
	if *s == nil {
		*s = Superseded{}
	}
	(*s)[c] = struct{}{}
}

// Forget reports whether a rekey replaced c, which is gone: it is
// forgotten.
func (s Superseded) Forget(c *ChildSA) bool {
	_, ok := s[c]
	delete(s, c)
	return ok
}
