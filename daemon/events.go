package daemon

import (
	"log/slog"
	"sync"
	"time"

	"ipsecgw/ike"
)

// Event is one thing that happened in the daemon, for the management API's
// event stream and the metrics: an SA up, down or rekeyed, a failed
// negotiation with its reason, a commit.
type Event struct {
	Kind    string // ike-sa-up, ike-sa-down, ..., negotiation-failed, peer-dead, config-committed
	Time    time.Time
	Gateway string
	VPN     string
	Remote  string
	SPI     string
	Reason  string
	Cause   string // for failures: the metric's reason label
	SRG     int    // srg-active, srg-standby: the services redundancy group
	// CertCause is, for a failure, why the peer's certificate or
	// signature was refused ("certificate expired", "unknown CA", ...).
	CertCause string `json:",omitempty"`
	// Interface is, for tunnel-interface-down/up, the tunnel unit
	// (st0follow.go).
	Interface string `json:",omitempty"`
}

// Events fans the daemon's events out to subscribers. A subscriber that
// does not keep up loses events (counted), never stalls the daemon: the IKE
// engine reports under its lock.
type Events struct {
	log *slog.Logger

	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped uint64
	hooks   []func(Event)
	closed  bool
}

func newEvents(log *slog.Logger) *Events {
	return &Events{log: log, subs: map[chan Event]struct{}{}}
}

// Subscribe returns a channel of events from now on, and the function that
// ends the subscription (it closes the channel).
func (e *Events) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		close(ch)
		return ch, func() {}
	}
	e.subs[ch] = struct{}{}
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.subs[ch]; ok {
			delete(e.subs, ch)
			close(ch)
		}
	}
}

// OnEvent adds a function called synchronously with every event (metrics
// counters); it must be quick and must not block.
func (e *Events) OnEvent(fn func(Event)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hooks = append(e.hooks, fn)
}

func (e *Events) publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, h := range e.hooks {
		h(ev)
	}
	for ch := range e.subs {
		select {
		case ch <- ev:
		default:
			e.dropped++
		}
	}
}

func (e *Events) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for ch := range e.subs {
		close(ch)
	}
	e.subs = map[chan Event]struct{}{}
}

// ikeEvent turns an IKE engine event into a daemon event.
// Its Cause is the failure's cause as the metric's label, never read
// from the text.
func (d *Daemon) ikeEvent(ev ike.Event) {
	out := Event{Kind: ev.Kind.String(), Time: ev.Time, Gateway: ev.Gateway, VPN: ev.VPN, SPI: ev.SPI,
		Reason: ev.Failure.Message, Cause: ev.Failure.Cause.Label(), CertCause: ev.Failure.Reason}
	if ev.Remote.IsValid() {
		out.Remote = ev.Remote.String()
	}
	d.events.publish(out)
}
