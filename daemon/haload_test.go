package daemon

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"ipsecgw/cluster"
	"ipsecgw/ike/ikev2"
)

// A takeover's read of the SA state is tried again within its bound: a
// brief failure costs an attempt, not the resume; a lasting one gives up
// at the bound; a record that does not open is final at once.
func TestLoadRetry(t *testing.T) {
	down := errors.New("etcdserver: request timed out")
	failing := func(fails int) (haLoadFunc, *int) {
		calls := 0
		return func(ctx context.Context) ([]ikev2.State, int, error) {
			calls++
			if _, ok := ctx.Deadline(); !ok {
				t.Error("an attempt without a deadline")
			}
			if calls <= fails {
				return nil, 0, down
			}
			return []ikev2.State{{Gateway: "gw"}}, 1, nil
		}, &calls
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	load, calls := failing(2)
	states, unreadable, attempts, err := loadRetry(ctx, load)
	if err != nil || len(states) != 1 || unreadable != 1 || attempts != 3 || *calls != 3 {
		t.Fatalf("brief failure: %v states %d unreadable %d attempts %d calls %d", err, len(states), unreadable, attempts, *calls)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	load, _ = failing(1 << 30)
	begin := time.Now()
	_, _, attempts, err = loadRetry(ctx2, load)
	if !errors.Is(err, down) || attempts < 2 || time.Since(begin) > 5*time.Second {
		t.Fatalf("lasting failure: %v after %d attempts in %v", err, attempts, time.Since(begin))
	}

	unopened := fmt.Errorf("cluster: %w: sa/1/ike/x", cluster.ErrUnreadable)
	_, _, attempts, err = loadRetry(context.Background(), func(context.Context) ([]ikev2.State, int, error) { return nil, 0, unopened })
	if !errors.Is(err, cluster.ErrUnreadable) || attempts != 1 {
		t.Fatalf("unreadable: %v after %d attempts", err, attempts)
	}
}
