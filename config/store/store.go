// Package store keeps the configuration the way Junos does: a candidate
// being edited, the committed (active) configuration, and rollbacks 1..49,
// all on disk in a state directory. A commit validates the whole candidate
// through the typed model and applies it all-or-nothing: a commit that fails
// changes nothing, on disk or in the running state.
package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
)

// MaxRollback is the oldest rollback kept, as in Junos.
const MaxRollback = 49

// ApplyFunc puts a validated configuration into effect (the daemon's door).
// If it fails the commit fails and the committed configuration stays.
type ApplyFunc func(*schema.Config) error

// Options configure a Store.
type Options struct {
	Schema schema.Options
	Apply  ApplyFunc
	Clock  clock.Clock // clock.Real{} when nil
	Rand   io.Reader   // $9$ salts; crypto/rand when nil
	// Backend keeps the committed configuration and rollbacks; files in
	// the store's directory when nil.
	Backend Backend
}

// Store is the configuration database of one gateway. Safe for concurrent use.
type Store struct {
	opts Options

	mu        sync.Mutex // guards the fields below
	candidate *config.Tree
	committed *config.Tree
	version   int64       // the backend's version of committed
	confirm   clock.Timer // pending "commit confirmed" rollback, or nil
	deadline  time.Time
	confirmID uint64 // names the latest commit confirmed (ConfirmID)
}

// Info describes one stored configuration.
type Info struct {
	N       int
	Time    time.Time
	User    string
	Comment string
	version int64 // of rollback 0 when this was read
}

// Open opens (creating if needed) the store in dir. The committed
// configuration is rollback 0; the candidate starts as a copy of it.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Backend == nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("config store: %w", err)
		}
		opts.Backend = dirBackend{dir}
	}
	s := &Store{opts: opts, committed: config.New()}
	if t, info, err := s.read(0); err == nil {
		s.committed, s.version = t, info.version
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s.candidate = s.committed.Clone()
	return s, nil
}

// read loads rollback n and its header.
func (s *Store) read(n int) (*config.Tree, Info, error) {
	src, version, err := s.opts.Backend.Read(n)
	if err != nil {
		return nil, Info{}, err
	}
	info := parseHeader(src)
	info.N, info.version = n, version
	t, err := config.Parse(fmt.Sprintf("rollback.%d", n), []byte(src), s.opts.Rand)
	if err != nil {
		return nil, info, fmt.Errorf("config store: rollback %d is damaged: %w", n, err)
	}
	return t, info, nil
}

// Junos heads a stored configuration with "## Last commit: ..." comments;
// they are comments, so the file still parses as a configuration.
func header(info Info) string {
	h := fmt.Sprintf("## Last commit: %s by %s\n", info.Time.UTC().Format("2006-01-02 15:04:05 UTC"), info.User)
	if info.Comment != "" {
		h += "## Comment: " + strings.ReplaceAll(info.Comment, "\n", " ") + "\n"
	}
	return h
}

func parseHeader(src string) Info {
	var info Info
	sc := bufio.NewScanner(strings.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "## ") {
			break
		}
		if rest, ok := strings.CutPrefix(line, "## Last commit: "); ok {
			when, user, _ := strings.Cut(rest, " UTC by ")
			info.Time, _ = time.Parse("2006-01-02 15:04:05", when)
			info.User = user
		}
		if rest, ok := strings.CutPrefix(line, "## Comment: "); ok {
			info.Comment = rest
		}
	}
	return info
}

// SetApply sets the hook every later commit applies through (a daemon
// opens its store before it can apply anything).
func (s *Store) SetApply(fn ApplyFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Apply = fn
}

// Close stops a pending commit confirmed timer: a daemon shutting down
// must not roll back under itself.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopConfirmLocked()
}

// Candidate returns a copy of the candidate configuration.
func (s *Store) Candidate() *config.Tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.candidate.Clone()
}

// Committed returns a copy of the committed configuration.
func (s *Store) Committed() *config.Tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed.Clone()
}

// Edit changes the candidate. fn works on a copy; the candidate is replaced
// only if fn succeeds, so a failed edit leaves it as it was.
func (s *Store) Edit(fn func(e *config.Editor) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	work := s.candidate.Clone()
	if err := fn(&config.Editor{Tree: work, Rand: s.opts.Rand}); err != nil {
		return err
	}
	s.candidate = work
	return nil
}

// Replace sets the whole candidate (a "load override").
func (s *Store) Replace(t *config.Tree) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.candidate = t.Clone()
}

// Check validates the candidate without committing it ("commit check").
func (s *Store) Check() (*schema.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return schema.Build(s.candidate, s.opts.Schema)
}

// Compare shows the candidate against rollback n (0: the committed
// configuration), as "show | compare [rollback n]".
func (s *Store) Compare(n int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := s.committed
	if n != 0 {
		t, _, err := s.read(n)
		if err != nil {
			return "", fmt.Errorf("rollback %d: %w", n, err)
		}
		base = t
	}
	return config.Compare(base, s.candidate), nil
}

// CommitOptions qualify a commit.
type CommitOptions struct {
	User    string
	Comment string
	// Confirm, when non-zero, makes this a "commit confirmed": unless
	// Confirm() (or another commit) follows within it, the previous
	// configuration is restored by itself.
	Confirm time.Duration
}

// Commit validates the candidate, applies it and makes it the committed
// configuration (rollback 0), shifting the older ones. On any error nothing
// changes.
func (s *Store) Commit(o CommitOptions) (*schema.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg, err := s.commitLocked(s.candidate, o)
	if err != nil {
		return nil, err
	}
	s.stopConfirmLocked()
	if o.Confirm > 0 && s.shared() == nil {
		s.confirmID++
		s.deadline = s.opts.Clock.Now().Add(o.Confirm)
		s.confirm = s.opts.Clock.AfterFunc(o.Confirm, s.expire)
	}
	return cfg, nil
}

// ConfirmID names the pending "commit confirmed", if one is: a client that
// made it (a NETCONF session) can later cancel that one and not another
// commit confirmed made since.
func (s *Store) ConfirmID() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.shared(); sc != nil {
		id, _, ok := sc.Pending()
		return id, ok
	}
	return s.confirmID, s.confirm != nil
}

// ErrNoConfirmPending is CancelConfirm's and Confirm's error when no
// commit confirmed is pending (or not the one named).
var ErrNoConfirmPending = errors.New("no commit confirmed is pending")

// CancelConfirm rolls back a pending "commit confirmed" now instead of at
// its deadline (NETCONF's cancel-commit, and a confirmed commit's session
// ending unconfirmed). id, when non-zero, must name the pending one.
func (s *Store) CancelConfirm(id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.shared(); sc != nil {
		return s.cancelSharedLocked(sc, id)
	}
	if s.confirm == nil || (id != 0 && id != s.confirmID) {
		return ErrNoConfirmPending
	}
	return s.rollbackConfirmedLocked()
}

func (s *Store) commitLocked(t *config.Tree, o CommitOptions) (*schema.Config, error) {
	cfg, err := schema.Build(t, s.opts.Schema)
	if err != nil {
		return nil, err
	}
	if s.opts.Apply != nil {
		if err := s.opts.Apply(cfg); err != nil {
			return nil, fmt.Errorf("commit failed: %w", err)
		}
	}
	if o.User == "" {
		o.User = "root"
	}
	text := header(Info{Time: s.opts.Clock.Now(), User: o.User, Comment: o.Comment}) + config.FormatBrace(t.Root)
	version, err := s.writeLocked(text, o) // shared.go
	if err != nil {
		s.reapplyCommittedLocked()
		return nil, err
	}
	s.committed, s.version = t.Clone(), version
	return cfg, nil
}

// reapplyCommittedLocked puts the committed configuration back into effect
// after a commit was applied and then could not be stored (a shared
// backend refused it): a commit that fails changes nothing.
func (s *Store) reapplyCommittedLocked() {
	if s.opts.Apply == nil {
		return
	}
	if cfg, err := schema.Build(s.committed, s.opts.Schema); err == nil {
		_ = s.opts.Apply(cfg)
	}
}

// Confirm confirms a pending "commit confirmed" (Junos: a plain commit).
func (s *Store) Confirm() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.shared(); sc != nil {
		return sc.Confirm()
	}
	if s.confirm == nil {
		return ErrNoConfirmPending
	}
	s.stopConfirmLocked()
	return nil
}

// PendingConfirm reports when a pending "commit confirmed" rolls back.
func (s *Store) PendingConfirm() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.shared(); sc != nil {
		return s.pendingShared(sc)
	}
	return s.deadline, s.confirm != nil
}

// ConfirmLeft reports how long until a pending "commit confirmed" rolls
// back, by the store's clock.
func (s *Store) ConfirmLeft() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.shared(); sc != nil {
		deadline, ok := s.pendingShared(sc)
		return deadline.Sub(s.opts.Clock.Now()), ok
	}
	if s.confirm == nil {
		return 0, false
	}
	return s.deadline.Sub(s.opts.Clock.Now()), true
}

func (s *Store) stopConfirmLocked() {
	if s.confirm != nil {
		s.confirm.Stop()
		s.confirm = nil
		s.deadline = time.Time{}
	}
}

// expire restores rollback 1 when a commit confirmed was not confirmed.
func (s *Store) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.confirm == nil {
		return
	}
	_ = s.rollbackConfirmedLocked()
}

// rollbackConfirmedLocked ends the pending commit confirmed by committing
// rollback 1 again.
func (s *Store) rollbackConfirmedLocked() error {
	s.stopConfirmLocked()
	prev, _, err := s.read(1)
	if err != nil {
		prev = config.New()
	}
	if _, err := s.commitLocked(prev, CommitOptions{User: "root", Comment: "commit confirmed rollback"}); err != nil {
		return err
	}
	s.candidate = prev.Clone()
	return nil
}

// Rollback loads rollback n into the candidate ("rollback n"); it still
// needs a commit.
func (s *Store) Rollback(n int) error {
	if n < 0 || n > MaxRollback {
		return fmt.Errorf("rollback %d: expected a number 0..%d", n, MaxRollback)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, err := s.read(n)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rollback %d: no such configuration", n)
	}
	if err != nil {
		return err
	}
	s.candidate = t
	return nil
}

// Stored returns rollback n (0: the committed configuration).
func (s *Store) Stored(n int) (*config.Tree, error) {
	if n == 0 {
		return s.Committed(), nil
	}
	if n < 0 || n > MaxRollback {
		return nil, fmt.Errorf("rollback %d: expected a number 0..%d", n, MaxRollback)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, err := s.read(n)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("rollback %d: no such configuration", n)
	}
	return t, err
}

// Rollbacks lists the stored configurations, newest first.
func (s *Store) Rollbacks() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Info
	for n := 0; n <= MaxRollback; n++ {
		src, _, err := s.opts.Backend.Read(n)
		if err != nil {
			break
		}
		info := parseHeader(src)
		info.N = n
		out = append(out, info)
	}
	return out
}
