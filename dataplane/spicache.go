package dataplane

// spiCache remembers, for one inbound reader, the SA its last packet's
// SPI found: a batch from a socket is mostly one SA's packets, and the
// map lookup was 1-2 % of BenchmarkPipelineOpen1400's CPU on a busy
// machine (its buckets fall out of the cache between batches). The
// answer is saTable.get's as long as the SPI's shard is the same map:
// put and remove replace a shard's map, never change one, and the
// cached pointer keeps the old map alive, so an equal pointer is the
// same contents.
type spiCache struct {
	shard *map[uint32]*InboundSA
	spi   uint32
	sa    *InboundSA
}

// lookup is t.get(spi), through c when c is not nil.
func (t *saTable) lookup(spi uint32, c *spiCache) *InboundSA {
	m := t.shard(spi).Load()
	if c == nil {
		return (*m)[spi]
	}
	if m == c.shard && spi == c.spi {
		return c.sa
	}
	sa := (*m)[spi]
	c.shard, c.spi, c.sa = m, spi, sa
	return sa
}
