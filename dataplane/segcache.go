package dataplane

import "ipsecgw/netio"

// segCache remembers, for one reader's batch, the UDP socket that sends
// runs (UDP GSO) for the last family and source port asked: a batch is
// mostly one SA's, and looking the socket up in the engine's map for
// every packet (hashing the key) was 4 % of the gateway's own code in
// bench/throughput's ESP in UDP profile. The answer is the map's as long
// as the map is the same one (AddReceiver replaces it, never changes it).
type segCache struct {
	senders *map[segKey]netio.SegmentSender
	key     segKey
	ss      netio.SegmentSender
}

func (c *segCache) sender(e *Engine, k segKey) netio.SegmentSender {
	senders := e.segSenders.Load()
	if senders == c.senders && k == c.key {
		return c.ss
	}
	ss := (*senders)[k]
	c.senders, c.key, c.ss = senders, k, ss
	return ss
}
