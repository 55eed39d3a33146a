package netio

import (
	"fmt"
	"net/netip"
)

// Announce moves address a to this host: from now on the network delivers
// packets to a here, whichever host had it before. It is what a gratuitous
// ARP or an unsolicited neighbour advertisement does on a real segment,
// where every neighbour then sends to the announcer's MAC: a cluster node
// that takes over a virtual IP announces it (daemon.MemHost.Announce).
// Addrs does not change on either host, as announcing changes no host's
// configured addresses: only where the network sends.
func (h *MemHost) Announce(a netip.Addr) error {
	if !a.IsValid() || a.IsUnspecified() || a.Zone() != "" {
		return fmt.Errorf("netio: announce %q; expected a unicast address without zone", a)
	}
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	h.net.hosts[a] = h
	return nil
}
