package dataplane

import "sync/atomic"

// saTable maps inbound SPIs to SAs. The packet path reads it without a
// lock: one atomic load and one map lookup. Writers (under Engine.mu)
// replace one shard of 256 with a modified copy, so installing an SA costs
// a copy of 1/256 of the table, not all of it: with 100,000 tunnels a new
// SA copies a few hundred entries.
type saTable struct {
	shards [256]atomic.Pointer[map[uint32]*InboundSA]
}

func newSATable() *saTable {
	t := &saTable{}
	for i := range t.shards {
		empty := map[uint32]*InboundSA{}
		t.shards[i].Store(&empty)
	}
	return t
}

// SPIs are random, so their low byte spreads them evenly.
func (t *saTable) shard(spi uint32) *atomic.Pointer[map[uint32]*InboundSA] {
	return &t.shards[spi&0xff]
}

func (t *saTable) get(spi uint32) *InboundSA { return (*t.shard(spi).Load())[spi] }

// put adds sa unless its SPI is taken; the caller holds Engine.mu.
func (t *saTable) put(spi uint32, sa *InboundSA) bool {
	s := t.shard(spi)
	old := *s.Load()
	if _, dup := old[spi]; dup {
		return false
	}
	next := make(map[uint32]*InboundSA, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[spi] = sa
	s.Store(&next)
	return true
}

// remove deletes the SAs for which drop is true, in the shards given (all
// when spi is nil); the caller holds Engine.mu. It reports how many went.
func (t *saTable) remove(drop func(uint32, *InboundSA) bool, spi *uint32) int {
	n := 0
	for i := range t.shards {
		if spi != nil && uint32(i) != *spi&0xff {
			continue
		}
		old := *t.shards[i].Load()
		next := make(map[uint32]*InboundSA, len(old))
		for k, v := range old {
			if drop(k, v) {
				n++
				continue
			}
			next[k] = v
		}
		if len(next) != len(old) {
			t.shards[i].Store(&next)
		}
	}
	return n
}

func (t *saTable) all() []*InboundSA {
	var out []*InboundSA
	for i := range t.shards {
		for _, sa := range *t.shards[i].Load() {
			out = append(out, sa)
		}
	}
	return out
}
