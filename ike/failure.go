package ike

import "fmt"

// Cause sorts why a negotiation failed or an SA ended. Metrics, the
// failover to a backup address and the inactive-tunnel reason read it;
// the Failure's message is for people.
type Cause uint8

const (
	CauseNone Cause = iota
	// CauseUnreachable: our requests went unanswered.
	CauseUnreachable
	// CausePeerDead: dead peer detection's probes went unanswered.
	CausePeerDead
	// CauseAuthentication: a wrong key or identity, either side's view.
	CauseAuthentication
	// CauseNoProposal: no proposal of one side is acceptable to the other.
	CauseNoProposal
	// CauseSelectors: the traffic selectors (IKEv1: Quick Mode identities)
	// share nothing, or the peer's are wider than ours.
	CauseSelectors
	// CausePeerDeleted: the peer deleted the SA, or refused it with a
	// notification no other cause names.
	CausePeerDeleted
	// CauseTimeout: an exchange the peer started did not finish in time.
	CauseTimeout
	// CauseLocal: ended here on purpose: configured away, cleared by the
	// operator, a duplicate SA, a lifetime without a rekey.
	CauseLocal
	// CauseOther: anything else (a malformed answer, a local error).
	CauseOther
)

// Label is the cause as the negotiation failure metric's reason label;
// "" for CauseNone. A dead peer counts as unreachable.
func (c Cause) Label() string {
	switch c {
	case CauseNone:
		return ""
	case CauseUnreachable, CausePeerDead:
		return LabelUnreachable
	case CauseAuthentication:
		return LabelAuthentication
	case CauseNoProposal:
		return LabelNoProposal
	case CauseSelectors:
		return LabelTSUnacceptable
	}
	return LabelOther
}

// The metric's label values (Cause.Label).
const (
	LabelNoProposal     = "no-proposal-chosen"
	LabelTSUnacceptable = "ts-unacceptable"
	LabelAuthentication = "authentication-failed"
	LabelUnreachable    = "peer-unreachable"
	LabelOther          = "other"
)

// Failure is why a negotiation failed or an SA ended: the cause, the
// notification sent to the peer or received from it (its number in the
// SA's IKE version; 0: none), and the message shown to the operator. The
// zero Failure is no failure.
type Failure struct {
	Cause Cause
	// Notify is the error notification that went with the failure;
	// NotifyReceived says the peer sent it (else we did).
	Notify         uint16
	NotifyReceived bool
	Message        string
	// Reason is the finer cause of an authentication failure, when the
	// peer's certificate or signature was refused ("certificate expired",
	// "unknown CA", ...; see AuthError); "" otherwise.
	Reason string `json:",omitempty"`
}

// Failed reports whether f is a failure.
func (f Failure) Failed() bool { return f.Cause != CauseNone }

// Error is the message.
func (f Failure) Error() string { return f.Message }

// String is the message.
func (f Failure) String() string { return f.Message }

// Sent is f with the notification we sent the peer with it.
func (f Failure) Sent(notify uint16) Failure {
	f.Notify, f.NotifyReceived = notify, false
	return f
}

// Received is f with the notification the peer sent.
func (f Failure) Received(notify uint16) Failure {
	f.Notify, f.NotifyReceived = notify, true
	return f
}

// Failf is a failure of cause c with a formatted message.
func Failf(c Cause, format string, args ...any) Failure {
	return Failure{Cause: c, Message: fmt.Sprintf(format, args...)}
}

// Silent reports whether the failure means the peer is not answering at
// its address (unreachable, or dead by dead peer detection): the next
// negotiation goes to the gateway's next address.
func (f Failure) Silent() bool { return f.Cause == CauseUnreachable || f.Cause == CausePeerDead }

// FailureLog keeps the last SAs that ended, with their failures, for show
// commands ("show security ike security-associations detail", "show
// security ipsec inactive-tunnels"). Its owner's lock guards it.
type FailureLog struct{ list []SAInfo }

// failureLogSize is how many ended SAs a FailureLog keeps.
const failureLogSize = 64

// Add records an SA that ended.
func (l *FailureLog) Add(i SAInfo) {
	l.list = append(l.list, i)
	if len(l.list) > failureLogSize {
		l.list = l.list[1:]
	}
}

// List returns a copy, oldest first.
func (l *FailureLog) List() []SAInfo { return append([]SAInfo(nil), l.list...) }
