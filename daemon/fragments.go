package daemon

import "ipsecgw/ike/ikev2"

// fragmenter is an IKE engine that fragments its messages (IKEv2, RFC
// 7383); ikeCore does not ask it of every engine.
type fragmenter interface {
	FragmentStats() ikev2.FragmentStats
}

// ikeFragments is what the IKEv2 engine counted of fragmentation, nil
// when no engine fragments.
func (d *Daemon) ikeFragments() *ikev2.FragmentStats {
	for _, e := range d.ikeAll() {
		if f, ok := e.ikeCore.(fragmenter); ok {
			s := f.FragmentStats()
			return &s
		}
	}
	return nil
}
