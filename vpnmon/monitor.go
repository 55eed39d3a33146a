// Package vpnmon is Junos VPN monitoring (security ipsec vpn V vpn-monitor,
// vpn-monitor-options): ICMP echoes sent through a tunnel decide whether
// the VPN works. It catches what dead peer detection cannot: a peer whose
// IKE SA still answers while its ESP SA is gone.
//
// Every interval the monitor looks at the VPN: the echo it sent last time
// was answered, or (with optimized) packets came in through the tunnel,
// and the VPN is up; otherwise it is one miss more. After threshold
// consecutive misses the VPN is down: the monitor tells its environment
// once (which clears the SAs, takes the tunnel unit down and negotiates
// again), and waits for SAs it has not seen before, then tells it the VPN
// is back. With optimized, no echo is sent while packets come in.
//
// The monitor reads the data plane's counters and drives no packet itself:
// its Env sends the echoes and does what a VPN going down or up means. Time
// comes from a clock.Clock, so tests move it by hand.
package vpnmon

import (
	"slices"
	"sync"
	"time"

	"ipsecgw/clock"
)

// Config is the monitoring of one VPN.
type Config struct {
	VPN       string
	Optimized bool
	Interval  time.Duration
	Threshold int
}

// SAs is what the data plane has for a VPN now: its inbound SAs' SPIs and
// how many packets they have decrypted (since they were installed).
type SAs struct {
	SPIs     []uint32
	Received uint64
}

// Env is the monitor's world. Its methods are called without the monitor's
// lock held, from the clock's goroutines; they may take time (Down clears
// SAs) but must not call Configure or Stop.
type Env interface {
	SAs(vpn string) SAs
	// Probe sends one ICMP echo request with sequence number seq through
	// the VPN's tunnel; the answer, if any, comes back through Reply.
	Probe(vpn string, seq uint16) error
	// Down is called once when the VPN is declared down, Up when a VPN
	// declared down has new SAs again.
	Down(vpn string)
	Up(vpn string)
}

// State is what "show security ipsec security-associations" prints in its
// Mon column.
const (
	StateUp   = "U"
	StateDown = "D"
)

// Status is one monitored VPN's state and counters.
type Status struct {
	State      string    `json:"state"` // StateUp or StateDown
	Misses     int       `json:"misses"`
	Sent       uint64    `json:"probes-sent"`
	Replies    uint64    `json:"replies"`
	Downs      uint64    `json:"downs"` // times declared down
	LastChange time.Time `json:"last-change"`
}

// Monitor watches the VPNs it is configured with.
type Monitor struct {
	clock clock.Clock
	env   Env

	mu   sync.Mutex
	vpns map[string]*vpn
}

type vpn struct {
	cfg      Config
	timer    clock.Timer
	status   Status
	seq      uint16
	awaiting bool // an echo went out at the last tick
	replied  bool // ... and its reply came
	lastRx   uint64
	downSPIs []uint32 // the SAs the VPN had when it went down
}

// New returns a monitor with no VPNs.
func New(c clock.Clock, env Env) *Monitor {
	return &Monitor{clock: c, env: env, vpns: map[string]*vpn{}}
}

// Configure sets the VPNs to monitor. A VPN that stays keeps its state;
// one no longer listed is forgotten.
func (m *Monitor) Configure(cfgs []Config) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := map[string]bool{}
	for _, c := range cfgs {
		keep[c.VPN] = true
		if c.Interval <= 0 || c.Threshold <= 0 {
			continue
		}
		v := m.vpns[c.VPN]
		if v == nil {
			v = &vpn{status: Status{State: StateUp, LastChange: m.clock.Now()}}
			m.vpns[c.VPN] = v
		} else if v.cfg == c {
			continue
		} else {
			v.timer.Stop()
		}
		v.cfg = c
		m.schedule(c.VPN, v)
	}
	for name, v := range m.vpns {
		if !keep[name] {
			v.timer.Stop()
			delete(m.vpns, name)
		}
	}
}

// Stop forgets every VPN; no Env method is called once it returns, except
// by a tick already under way.
func (m *Monitor) Stop() { m.Configure(nil) }

// Reply records an echo reply received for vpn.
func (m *Monitor) Reply(name string, seq uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v := m.vpns[name]; v != nil && v.awaiting && seq == v.seq && !v.replied {
		v.replied = true
		v.status.Replies++
	}
}

// Status returns the state of every monitored VPN, by name.
func (m *Monitor) Status() map[string]Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Status, len(m.vpns))
	for name, v := range m.vpns {
		out[name] = v.status
	}
	return out
}

func (m *Monitor) schedule(name string, v *vpn) {
	v.timer = m.clock.AfterFunc(v.cfg.Interval, func() { m.tick(name, v) })
}

// tick is one interval of one VPN.
func (m *Monitor) tick(name string, v *vpn) {
	sas := m.env.SAs(name)
	action := m.decide(name, v, sas)
	switch action.kind {
	case actDown:
		m.env.Down(name)
	case actUp:
		m.env.Up(name)
	case actProbe:
		m.env.Probe(name, action.seq) // a send error is a miss at the next tick
	}
}

type actionKind int

const (
	actNone actionKind = iota
	actProbe
	actDown
	actUp
)

type action struct {
	kind actionKind
	seq  uint16
}

// decide updates v for one tick and says what to do, under the lock; the
// caller does it without.
func (m *Monitor) decide(name string, v *vpn, sas SAs) action {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vpns[name] != v {
		return action{} // reconfigured or stopped meanwhile
	}
	m.schedule(name, v)
	now := m.clock.Now()
	if v.status.State == StateDown {
		for _, spi := range sas.SPIs {
			if !slices.Contains(v.downSPIs, spi) {
				v.status.State, v.status.LastChange, v.status.Misses = StateUp, now, 0
				v.awaiting, v.lastRx, v.downSPIs = false, sas.Received, nil
				return action{kind: actUp}
			}
		}
		return action{}
	}
	if len(sas.SPIs) == 0 {
		// Nothing negotiated yet (or being renegotiated): not the
		// tunnel's fault the echo has no way through.
		v.awaiting = false
		return action{}
	}
	traffic := sas.Received > v.lastRx
	v.lastRx = sas.Received
	switch {
	case v.awaiting && (v.replied || v.cfg.Optimized && traffic):
		v.status.Misses = 0
	case v.awaiting:
		v.status.Misses++
	case v.cfg.Optimized && traffic:
		v.status.Misses = 0
	}
	v.awaiting = false
	if v.status.Misses >= v.cfg.Threshold {
		v.status.State, v.status.LastChange = StateDown, now
		v.status.Downs++
		v.downSPIs = slices.Clone(sas.SPIs)
		return action{kind: actDown}
	}
	if v.cfg.Optimized && traffic {
		return action{}
	}
	v.seq++
	v.awaiting, v.replied = true, false
	v.status.Sent++
	return action{kind: actProbe, seq: v.seq}
}
