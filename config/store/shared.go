package store

import (
	"bufio"
	"strings"
	"time"
)

// SharedConfirm is a Backend that keeps a pending "commit confirmed"
// itself, where every node sharing the backend sees it (package cluster):
// its deadline, its confirmation and its rollback live in the backend, so
// the rollback happens whichever node is alive when it is due, even if the
// node that made the commit is not. A Store on such a backend runs no
// timer of its own; it asks the backend.
type SharedConfirm interface {
	Backend
	// WriteConfirmed is Write for a commit confirmed: the commit stays
	// pending until Confirm, any later Write (Junos: a commit confirms),
	// or deadline, when the backend itself restores the configuration
	// before it. id names the pending commit (Pending, RollBack).
	WriteConfirmed(text string, base int64, deadline time.Time, user string) (version int64, id uint64, err error)
	// Confirm confirms the pending commit confirmed; an error wrapping
	// ErrNoConfirmPending when none is pending (or its deadline passed).
	Confirm() error
	// RollBack restores now the configuration before the pending commit
	// confirmed; id, when non-zero, must name it. An error wrapping
	// ErrNoConfirmPending when none (or not that one) is pending.
	RollBack(id uint64) error
	// Pending is the pending commit confirmed, if one is.
	Pending() (id uint64, deadline time.Time, ok bool)
}

// RollbackComment is the comment of the commit that restores the
// configuration when a commit confirmed is not confirmed in time.
const RollbackComment = "commit confirmed rollback"

// Restamp gives a stored configuration's text a new header (the "## Last
// commit" comments), as when it is committed again by a rollback.
func Restamp(text string, info Info) string {
	var body strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, len(text)+1)
	inHeader := true
	for sc.Scan() {
		line := sc.Text()
		if inHeader && strings.HasPrefix(line, "## ") {
			continue
		}
		inHeader = false
		body.WriteString(line)
		body.WriteByte('\n')
	}
	return header(info) + body.String()
}

// shared is the backend when it keeps commit confirmed itself.
func (s *Store) shared() SharedConfirm {
	sc, _ := s.opts.Backend.(SharedConfirm)
	return sc
}

// writeLocked stores the text of a commit: a commit confirmed on a shared
// backend is written pending there.
func (s *Store) writeLocked(text string, o CommitOptions) (int64, error) {
	if sc := s.shared(); sc != nil && o.Confirm > 0 {
		v, _, err := sc.WriteConfirmed(text, s.version, s.opts.Clock.Now().Add(o.Confirm), o.User)
		return v, err
	}
	return s.opts.Backend.Write(text, s.version)
}

// cancelSharedLocked rolls a shared backend's pending commit confirmed
// back and puts the result into effect here at once (the other nodes
// follow through their watch, as for any commit).
func (s *Store) cancelSharedLocked(sc SharedConfirm, id uint64) error {
	if err := sc.RollBack(id); err != nil {
		return err
	}
	_, err := s.refreshLocked()
	return err
}

// pendingShared is a shared backend's pending commit confirmed as
// ConfirmLeft and PendingConfirm report it.
func (s *Store) pendingShared(sc SharedConfirm) (time.Time, bool) {
	_, deadline, ok := sc.Pending()
	return deadline, ok
}
