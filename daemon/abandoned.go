package daemon

// abandoner is an IKE engine that gives up an initiation of ours no
// IKE_SA_INIT response answered when the peer's IKE SA comes up first
// (IKEv2, ike/ikev2/abandoninit.go); ikeCore does not ask it of every
// engine.
type abandoner interface {
	AbandonedInitiations() uint64
}

// ikeAbandoned is how many initiations the engines gave up for the peer's
// IKE SA since they started. A count that climbs says both gateways keep
// the tunnel up and one side's first IKE_SA_INIT keeps being lost; each
// one is a second IKE SA that dedupe did not have to delete.
func (d *Daemon) ikeAbandoned() uint64 {
	var n uint64
	for _, e := range d.ikeAll() {
		if a, ok := e.ikeCore.(abandoner); ok {
			n += a.AbandonedInitiations()
		}
	}
	return n
}
