package daemon

import "net/netip"

// Announce moves a virtual IP to this host on its in-memory network, as a
// gratuitous ARP moves it on a segment (onOwnership calls it for the
// virtual IPs of a group this node now owns). The interface does not
// matter: a MemHost has one network.
func (m *MemHost) Announce(_ string, a netip.Addr) error { return m.net.Announce(a) }
