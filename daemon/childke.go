package daemon

import (
	"slices"
	"strconv"
	"sync"

	"ipsecgw/clock"
	"ipsecgw/ike"
)

// childKEs records, for each SA an IKE engine installed, the key
// exchanges its keys came from: the PFS group and the additional key
// exchanges (RFC 9370). The data plane does not know them; the status
// (and from it the show commands) reports them per SA.
type childKEs struct {
	mu sync.Mutex
	by map[childKEKey]childKE
}

// childKEKey names one direction of an installed SA. The VPN and the
// direction keep an outbound SPI (the peer's choice) apart from any other.
type childKEKey struct {
	vpn     string
	inbound bool
	spi     uint32
}

type childKE struct {
	pfsGroup int
	addKE    []string
}

// installed records one direction of c as installed for vpn.
func (k *childKEs) installed(vpn string, c *ike.ChildSA, inbound bool) {
	if c.PFSGroup == 0 && len(c.AddKE) == 0 {
		k.removed(vpn, c, inbound) // an SPI reused after a removal
		return
	}
	key := childKEKey{vpn: vpn, inbound: inbound, spi: c.OutboundSPI}
	if inbound {
		key.spi = c.InboundSPI
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.by == nil {
		k.by = map[childKEKey]childKE{}
	}
	k.by[key] = childKE{pfsGroup: c.PFSGroup, addKE: slices.Clone(c.AddKE)}
}

// removed forgets one direction of c.
func (k *childKEs) removed(vpn string, c *ike.ChildSA, inbound bool) {
	key := childKEKey{vpn: vpn, inbound: inbound, spi: c.OutboundSPI}
	if inbound {
		key.spi = c.InboundSPI
	}
	k.mu.Lock()
	delete(k.by, key)
	k.mu.Unlock()
}

// removeChild forgets c's outbound SA now and its inbound one when the
// installer removes it, inboundGrace later.
func (k *childKEs) removeChild(clk clock.Clock, vpn string, c *ike.ChildSA) {
	k.removed(vpn, c, false)
	clk.AfterFunc(inboundGrace, func() { k.removed(vpn, c, true) })
}

// annotate fills the key exchanges of the SAs of a status.
func (k *childKEs) annotate(sas []SAStatus) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range sas {
		s := &sas[i]
		ke, ok := k.by[childKEKey{vpn: s.VPN, inbound: s.Direction == "inbound", spi: parseStatusSPI(s.SPI)}]
		if ok {
			s.PFSGroup, s.AdditionalKE = ke.pfsGroup, slices.Clone(ke.addKE)
		}
	}
}

// parseStatusSPI reads SAStatus.SPI back ("0x8d92e737"); 0 if it does not
// parse.
func parseStatusSPI(s string) uint32 {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}
