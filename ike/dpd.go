package ike

// DPDMode is the gateway's dead-peer-detection mode (Junos).
type DPDMode uint8

const (
	// DPDDefault: no mode configured. IKEv2 runs optimized, as Junos
	// does; IKEv1 probes any quiet peer (RFC 3706's rule, and what
	// IKEv1 peers such as strongSwan expect of a gateway that announced
	// DPD).
	DPDDefault DPDMode = iota
	// DPDOptimized: probe when ESP went out and nothing, IKE or ESP, came
	// back in the interval.
	DPDOptimized
	// DPDProbeIdle (probe-idle-tunnel): probe when nothing came back,
	// whether ESP went out or the tunnel was idle both ways.
	DPDProbeIdle
	// DPDAlwaysSend (always-send): probe every interval.
	DPDAlwaysSend
)

// DPDDue decides, once per DPD interval, whether to probe the peer: quiet
// is whether nothing authenticated came from the peer for the interval;
// counted whether the installer counts the Child SAs' packets, and sent
// and received whether ESP went out and came in since the last decision.
// Without counts every mode but always-send probes a quiet peer;
// DPDDefault is optimized.
func DPDDue(mode DPDMode, quiet, counted, sent, received bool) bool {
	switch {
	case mode == DPDAlwaysSend:
		return true
	case !counted:
		return quiet
	case mode == DPDProbeIdle:
		return quiet && !received
	}
	return quiet && sent && !received
}

// DPDTraffic is what dead peer detection remembers of an IKE SA's Child
// SAs between its decisions: their packet counts.
type DPDTraffic struct{ in, out uint64 }

// Due decides whether to probe (DPDDue): it reads the Child SAs' packet
// counts when inst is a TrafficCounter and the mode looks at traffic.
func (t *DPDTraffic) Due(mode DPDMode, quiet bool, inst Installer, children []*ChildSA) bool {
	tc, counted := inst.(TrafficCounter)
	var sent, received bool
	if counted && mode != DPDAlwaysSend {
		var in, out uint64
		for _, c := range children {
			i, o := tc.ChildTraffic(c)
			in, out = in+i, out+o
		}
		sent, received = out != t.out, in != t.in
		t.in, t.out = in, out
	}
	return DPDDue(mode, quiet, counted, sent, received)
}
