package dataplane

import (
	"net/netip"

	"ipsecgw/netio"
	"testing"
)

// namedSender is a netio.SegmentSender told apart by its name.
type namedSender struct{ name string }

func (*namedSender) SendSegments(netip.AddrPort, netip.Addr, uint8, []byte, int) error { return nil }

// TestSegCache: the cache answers what the engine's map holds for every
// key, a key the map lacks included, and follows the map when
// AddReceiver replaces it.
func TestSegCache(t *testing.T) {
	e := &Engine{}
	v4, v6 := &namedSender{"v4 4500"}, &namedSender{"v6 4500"}
	m := map[segKey]netio.SegmentSender{{port: 4500}: v4, {v6: true, port: 4500}: v6}
	e.segSenders.Store(&m)
	var c segCache
	for _, step := range []struct {
		key  segKey
		want netio.SegmentSender
	}{
		{segKey{port: 4500}, v4},
		{segKey{port: 4500}, v4},
		{segKey{v6: true, port: 4500}, v6},
		{segKey{port: 4501}, nil},
		{segKey{port: 4500}, v4},
	} {
		if got := c.sender(e, step.key); got != step.want {
			t.Fatalf("sender(%+v) = %v, want %v", step.key, got, step.want)
		}
	}
	// A replaced map: the cached answer for the same key must not stay.
	v4b := &namedSender{"v4 4500, second socket"}
	next := map[segKey]netio.SegmentSender{{port: 4500}: v4b, {port: 4501}: v4}
	e.segSenders.Store(&next)
	if got := c.sender(e, segKey{port: 4500}); got != v4b {
		t.Fatalf("after the map was replaced: %v, want %v", got, v4b)
	}
	if got := c.sender(e, segKey{port: 4501}); got != v4 {
		t.Fatalf("after the map was replaced, port 4501: %v, want %v", got, v4)
	}
}
