package clock

import (
	"testing"
	"time"
)

// TestGroup: a group fires what is due, drops what fired as it adds more,
// and Stop cancels the rest.
func TestGroup(t *testing.T) {
	c := NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var g Group
	fired := 0
	var rearm func()
	rearm = func() {
		fired++
		g.AfterFunc(c, time.Second, rearm)
	}
	g.AfterFunc(c, time.Second, rearm)
	late := false
	g.AfterFunc(c, time.Hour, func() { late = true })
	for range 1000 {
		c.Advance(time.Second)
	}
	if fired != 1000 {
		t.Fatalf("the re-armed timer fired %d times in 1000 s", fired)
	}
	if g.Len() > 3 {
		t.Fatalf("the group holds %d timers; want the 2 pending and at most one fired", g.Len())
	}
	g.Stop()
	c.Advance(2 * time.Hour)
	if late || fired != 1000 || g.Len() != 0 {
		t.Fatalf("after Stop: late timer ran %v, re-armed fired %d times, %d held", late, fired, g.Len())
	}
}
