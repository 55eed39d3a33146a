package daemon

import (
	"context"
	"errors"
	"time"

	"ipsecgw/cluster"
	"ipsecgw/ike/ikev2"
)

// A takeover reads its group's SA state in attempts within one bound
// (the takeover's 2 s): an etcd blip is often brief (a leader election,
// a connection re-dialled) and a resume is much better than a new
// negotiation with every peer of the group. etcd's client retries a read
// refused as Unavailable by itself within an attempt; the attempts add a
// read that hung (a request timed out, a connection that went silent).
// Only a record that does not open is final at once: reading it again
// opens it no better.
const (
	haLoadAttempt = 600 * time.Millisecond
	haLoadBackoff = 100 * time.Millisecond
)

// haLoadFault, when set, fails a takeover's read of the SA state before
// it reaches etcd. Only a binary built with -tags faultinject sets it
// (hafault_inject.go), for the root test that makes etcd unreachable at
// the moment of a takeover; the product's binary has no such hook.
var haLoadFault func(stateDir string, srg int) error

// haLoadFunc is one attempt at reading a group's SA state.
type haLoadFunc func(ctx context.Context) ([]ikev2.State, int, error)

// loadRetry reads a group's SA state, in attempts until ctx ends; it
// returns what the last attempt got and how many attempts there were.
func loadRetry(ctx context.Context, load haLoadFunc) (states []ikev2.State, unreadable, attempts int, err error) {
	for {
		attempts++
		actx, cancel := context.WithTimeout(ctx, haLoadAttempt)
		states, unreadable, err = load(actx)
		cancel()
		if err == nil || errors.Is(err, cluster.ErrUnreadable) {
			return states, unreadable, attempts, err
		}
		select {
		case <-ctx.Done():
			return nil, 0, attempts, err
		case <-time.After(haLoadBackoff):
		}
	}
}

// loadForTakeover is haBefore's read: the fault hook, then etcd.
func (s *haSync) loadForTakeover(ctx context.Context, srg int) ([]ikev2.State, int, error) {
	states, unreadable, attempts, err := loadRetry(ctx, func(ctx context.Context) ([]ikev2.State, int, error) {
		if haLoadFault != nil {
			if err := haLoadFault(s.d.opts.StateDir, srg); err != nil {
				return nil, 0, err
			}
		}
		return s.load(ctx, srg)
	})
	if attempts > 1 {
		s.d.log.Info("SA state of the group read in attempts", "srg", srg, "attempts", attempts, "ok", err == nil)
	}
	return states, unreadable, err
}
