package dataplane

import "net/netip"

// pickCache remembers, for one reader's batch, the outbound SA the last
// packet's addresses chose: a batch from a TUN read is mostly one flow,
// and matching every packet against every SA's selectors was 3 % of the
// outbound CPU in BenchmarkPipelineSeal1400. The answer is Tunnel.pick's
// as long as the tunnel's SA list is the same one (install and remove
// replace it) and the SA is not removed.
type pickCache struct {
	sas      *[]*OutboundSA
	src, dst netip.Addr
	sa       *OutboundSA
}

func (c *pickCache) pick(t *Tunnel, src, dst netip.Addr) *OutboundSA {
	sas := t.outbound.Load()
	if c.sa != nil && sas == c.sas && src == c.src && dst == c.dst && !c.sa.removed.Load() {
		return c.sa
	}
	sa := t.pick(src, dst)
	c.sas, c.src, c.dst, c.sa = sas, src, dst, sa
	return sa
}
