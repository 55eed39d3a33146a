package ike

import (
	"testing"
	"time"
)

// TestChildLifetimesSchedule: the first Schedule of a Child SA fixes its
// moments from its birth; a later one (a timer re-armed) keeps them; the
// delays to arm never go negative (a deadline passed while a cluster peer
// took over); Forget drops it.
func TestChildLifetimesSchedule(t *testing.T) {
	born := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var l ChildLifetimes
	c := &ChildSA{InboundSPI: 1}
	at := l.Schedule(c, born, 50*time.Minute, time.Hour)
	if at.RekeyAt != born.Add(50*time.Minute) || at.ExpireAt != born.Add(time.Hour) {
		t.Fatalf("scheduled %+v", at)
	}
	if again := l.Schedule(c, born.Add(time.Minute), 10*time.Minute, 2*time.Hour); again != at {
		t.Fatalf("re-armed: %+v, want the first %+v", again, at)
	}
	if soft, hard := at.Delays(born.Add(55 * time.Minute)); soft != 0 || hard != 5*time.Minute {
		t.Fatalf("delays at 55 minutes: %v, %v; want 0 and 5m", soft, hard)
	}
	l.Forget(c)
	if _, ok := l[c]; ok || len(l) != 0 {
		t.Fatalf("forgotten, still %+v", l)
	}
}
