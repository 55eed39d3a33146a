package ike

import (
	"context"
	"net/netip"

	"ipsecgw/bench/lab"
)

// The topology, in test ranges only (RFC 5737, RFC 2544): the generator's
// namespace joined to one namespace per responder, so the two responders
// never share a socket, a route or a CPU-hungry neighbour during a run.
//
//	igw  192.0.2.2/24    ── 192.0.2.1/24    gen  198.51.100.1/24 ── 198.51.100.2/24 swan
//	(ipsecgw daemon)                      (this process's sockets)              (charon)
//
// The Child SAs protect 198.18.1.0/24 (behind the generator) and
// 198.18.2.0/24 (behind a responder); charon's userspace ESP needs an
// address of its own inside its local selector, so swan has 198.18.2.1 on lo.
var (
	genToIgw  = netip.MustParseAddr("192.0.2.1")
	igwAddr   = netip.MustParseAddr("192.0.2.2")
	genToSwan = netip.MustParseAddr("198.51.100.1")
	swanAddr  = netip.MustParseAddr("198.51.100.2")
)

const (
	genNet  = "198.18.1.0/24"
	respNet = "198.18.2.0/24"
)

// nsPrefix starts every namespace this command creates; the PID after it
// lets a later run remove what a killed run left.
const nsPrefix = "igwbike-"

// topology is the namespaces gen, igw and swan.
type topology struct {
	*lab.Namespaces
}

// newTopology builds the namespaces and links; on error it removes what it
// made.
func newTopology(ctx context.Context) (*topology, error) {
	n, err := lab.New(ctx, "bench ike", nsPrefix, "gen", "igw", "swan")
	if err != nil {
		return nil, err
	}
	t := &topology{n}
	if err := t.build(ctx); err != nil {
		t.Destroy()
		return nil, err
	}
	return t, nil
}

func (t *topology) build(ctx context.Context) error {
	if err := t.Link(ctx, "gen", "gen-igw", genToIgw.String()+"/24", "igw", "igw-gen", igwAddr.String()+"/24"); err != nil {
		return err
	}
	if err := t.Link(ctx, "gen", "gen-swan", genToSwan.String()+"/24", "swan", "swan-gen", swanAddr.String()+"/24"); err != nil {
		return err
	}
	return t.AddAddress(ctx, "swan", "lo", "198.18.2.1/24")
}
