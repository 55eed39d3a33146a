package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrderAndStops(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFake(start)
	var got []int
	c.AfterFunc(3*time.Second, func() { got = append(got, 3) })
	c.AfterFunc(1*time.Second, func() { got = append(got, 1) })
	stopped := c.AfterFunc(2*time.Second, func() { got = append(got, 2) })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop must report pending once")
	}
	c.Advance(2 * time.Second)
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("after 2s fired %v, want [1]", got)
	}
	c.Advance(5 * time.Second)
	if len(got) != 2 || got[1] != 3 {
		t.Fatalf("fired %v, want [1 3]", got)
	}
	if !c.Now().Equal(start.Add(7 * time.Second)) {
		t.Fatalf("now = %v", c.Now())
	}
}
