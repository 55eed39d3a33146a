package ike

import "time"

// ChildLifetime is when an engine starts a Child SA's rekey (its soft
// lifetime, at a jittered moment) and when it removes it (its hard
// lifetime): the moments its timers are armed for.
type ChildLifetime struct {
	RekeyAt, ExpireAt time.Time
}

// ChildLifetimes is what each engine scheduled for its Child SAs, kept
// under the engine's lock. The engine arms its timers from Schedule's
// answer, so what it reports (Engine.ChildLifetimes) is what will happen,
// not a guess from the configuration.
type ChildLifetimes map[*ChildSA]ChildLifetime

// Schedule records that c is to be rekeyed soft and removed hard after
// from (its birth), and returns the moments. A Child SA already scheduled
// keeps its moments (an IKE SA rekey that takes it over re-arms its
// timers): the jittered rekey is not drawn again.
func (l *ChildLifetimes) Schedule(c *ChildSA, from time.Time, soft, hard time.Duration) ChildLifetime {
	if *l == nil {
		*l = ChildLifetimes{}
	}
	t, ok := (*l)[c]
	if !ok {
		t = ChildLifetime{RekeyAt: from.Add(soft), ExpireAt: from.Add(hard)}
		(*l)[c] = t
	}
	return t
}

// Delays are the timers to arm at now for the moments (none negative).
func (t ChildLifetime) Delays(now time.Time) (soft, hard time.Duration) {
	return max(t.RekeyAt.Sub(now), 0), max(t.ExpireAt.Sub(now), 0)
}

// Forget drops c, which is gone.
func (l ChildLifetimes) Forget(c *ChildSA) { delete(l, c) }

// ScheduledChild is one installed Child SA's lifetime as an engine
// reports it, named as the data plane names its two SAs.
type ScheduledChild struct {
	VPN                     string
	InboundSPI, OutboundSPI uint32
	ChildLifetime
}
