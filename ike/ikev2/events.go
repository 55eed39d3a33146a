package ikev2

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// EventKind is what happened to an IKE or Child SA.
type EventKind uint8

const (
	IKEUp EventKind = iota + 1
	IKEDown
	IKERekeyed
	ChildUp
	ChildDown
	ChildRekeyed
	NegotiationFailed
	PeerDead
)

func (k EventKind) String() string {
	return [...]string{"", "ike-sa-up", "ike-sa-down", "ike-sa-rekeyed", "ipsec-sa-up", "ipsec-sa-down",
		"ipsec-sa-rekeyed", "negotiation-failed", "peer-dead"}[k]
}

// Event is reported to Config.Events as it happens, for the management
// API's event stream and the metrics. The handler runs under the engine's
// lock: it must not block or call back into the engine.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Gateway string
	VPN     string
	Remote  netip.Addr
	// SPI is the IKE SA's "initiator:responder" SPIs, or a Child SA's
	// inbound SPI.
	SPI string
	// Reason says why a negotiation failed or an SA went down; Cause sorts
	// it for counting (FailureCause).
	Reason string
	Cause  string
}

// Failure causes, the label values of the negotiation failure metric.
const (
	CauseNoProposal     = "no-proposal-chosen"
	CauseTSUnacceptable = "ts-unacceptable"
	CauseAuthentication = "authentication-failed"
	CauseUnreachable    = "peer-unreachable"
	CauseOther          = "other"
)

// FailureCause sorts a failure reason into one of the Cause constants.
func FailureCause(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "no_proposal_chosen") || strings.Contains(r, "no proposal") || strings.Contains(r, "no common"):
		return CauseNoProposal
	case strings.Contains(r, "ts_unacceptable") || strings.Contains(r, "traffic selector"):
		return CauseTSUnacceptable
	case strings.Contains(r, "authentication") || strings.Contains(r, "identity"):
		return CauseAuthentication
	case strings.Contains(r, "unreachable") || strings.Contains(r, "dead") || strings.Contains(r, "no answer"):
		return CauseUnreachable
	}
	return CauseOther
}

// emit reports an event about sa, if anyone listens.
func (sa *ikeSA) emit(kind EventKind, spi, reason string) {
	if sa.e.events == nil {
		return
	}
	ev := Event{Kind: kind, Time: sa.e.clock.Now(), Gateway: sa.peer.Gateway, VPN: sa.peer.VPN,
		Remote: sa.remote.Addr(), SPI: spi, Reason: reason}
	if reason != "" {
		ev.Cause = FailureCause(reason)
	}
	sa.e.events(ev)
}

func (sa *ikeSA) ikeSPIs() string { return fmt.Sprintf("%016x:%016x", sa.spiI, sa.spiR) }

// Drops counts the IKE messages an engine dropped, by why: malformed (they
// do not parse), no-sa (they name no SA of ours), unauthenticated (they do
// not decrypt or their integrity check or HASH fails). Nothing dropped is
// answered; the counts are for the operator (metrics).
type Drops struct {
	Malformed, NoSA, Unauthenticated atomic.Uint64
}

// Snapshot reads the counts by their metric label.
func (d *Drops) Snapshot() map[string]uint64 {
	return map[string]uint64{"malformed": d.Malformed.Load(), "no-sa": d.NoSA.Load(), "unauthenticated": d.Unauthenticated.Load()}
}
