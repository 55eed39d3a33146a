package daemon

import "net/netip"

// haPeer is a tunnel's peer as a takeover's resume knows it: the address
// the gateway runs from (a group's virtual IP) and the peer's, as the IKE
// engines key their peers. Gateways of two groups may share a peer
// address: the resume of one must not hold back or count the other's.
type haPeer struct{ local, remote netip.Addr }

func haPeerOf(local, remote netip.Addr) haPeer { return haPeer{local.Unmap(), remote.Unmap()} }

func (p haPeer) String() string { return p.local.String() + "→" + p.remote.String() }
