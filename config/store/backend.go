package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"ipsecgw/config/schema"
)

// Backend keeps the committed configuration and its rollbacks as text
// (rollback 0 is the committed configuration). A Store uses a directory on
// disk unless given another Backend; package cluster gives one on etcd, so
// that every node of a cluster shares one committed configuration.
type Backend interface {
	// Read returns the text of rollback n and the version of rollback 0
	// it was read against; an error wrapping os.ErrNotExist when there is
	// none.
	Read(n int) (text string, version int64, err error)
	// Write makes text rollback 0 and shifts the older ones by one,
	// dropping the one past MaxRollback, and returns the new version. A
	// shared backend writes only if rollback 0 is still at version base
	// (the committed configuration this node runs), and otherwise returns
	// an error wrapping ErrModified and writes nothing.
	Write(text string, base int64) (version int64, err error)
}

// ErrModified is the answer to a commit when another commit (on another
// node of a cluster) changed the committed configuration since this node
// last read it. Junos says "configuration database modified".
var ErrModified = errors.New("configuration database modified: another node committed first; review the change and commit again")

// dirBackend keeps rollbacks as files rollback.0 .. rollback.49.
type dirBackend struct{ dir string }

func (b dirBackend) path(n int) string { return filepath.Join(b.dir, fmt.Sprintf("rollback.%d", n)) }

// Read: a directory has one writer, so versions do not matter.
func (b dirBackend) Read(n int) (string, int64, error) {
	src, err := os.ReadFile(b.path(n))
	return string(src), 0, err
}

// Write puts the new rollback 0 in a temporary file first, so a failure
// leaves the old files intact, then shifts 0..48 to 1..49.
func (b dirBackend) Write(text string, _ int64) (int64, error) {
	tmp := filepath.Join(b.dir, ".rollback.new")
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return 0, fmt.Errorf("config store: %w", err)
	}
	_ = os.Remove(b.path(MaxRollback))
	for n := MaxRollback - 1; n >= 0; n-- {
		if err := os.Rename(b.path(n), b.path(n+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("config store: %w", err)
		}
	}
	if err := os.Rename(tmp, b.path(0)); err != nil {
		return 0, fmt.Errorf("config store: %w", err)
	}
	return 0, nil
}

// Refresh takes into effect a commit made elsewhere, that a shared backend
// now holds as rollback 0 (a commit on another node of a cluster, or made
// while this node was down): it is validated and applied through the same
// door as a local commit. The candidate follows when it held no change of
// its own; a pending commit confirmed is settled, as any later commit
// settles it. A configuration this node cannot build or apply leaves the
// running one in effect and is returned as the error.
func (s *Store) Refresh() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshLocked()
}

func (s *Store) refreshLocked() (changed bool, err error) {
	t, info, err := s.read(0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if info.version == s.version {
		return false, nil
	}
	cfg, err := schema.Build(t, s.opts.Schema)
	if err != nil {
		return false, fmt.Errorf("the cluster's committed configuration does not build here: %w", err)
	}
	if s.opts.Apply != nil {
		if err := s.opts.Apply(cfg); err != nil {
			return false, fmt.Errorf("the cluster's committed configuration does not apply here: %w", err)
		}
	}
	if s.candidate.Equal(s.committed) {
		s.candidate = t.Clone()
	}
	s.committed, s.version = t, info.version
	s.stopConfirmLocked()
	return true, nil
}
