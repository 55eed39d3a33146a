package ikev2

import (
	"errors"
	"fmt"
	"strings"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

var (
	// ErrNoProposalChosen: no proposal of the peer is acceptable, or the
	// responder's choice is not one the initiator could accept. The
	// answer is NO_PROPOSAL_CHOSEN (RFC 7296 §2.7); an initiator that
	// receives an unacceptable choice deletes the SA instead.
	ErrNoProposalChosen = errors.New("ikev2: no proposal chosen")
	// ErrTSUnacceptable: the traffic selectors the initiator proposed
	// share nothing with the local policy (§2.9), or the responder
	// answered with selectors wider than proposed. The answer is
	// TS_UNACCEPTABLE.
	ErrTSUnacceptable = errors.New("ikev2: traffic selectors unacceptable")
)

// NotifyFor returns the error notification that reports err to the peer:
// NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, the codec's INVALID_SYNTAX or
// INVALID_MAJOR_VERSION, or zero for an error no peer caused.
func NotifyFor(err error) wire.NotifyType {
	switch {
	case errors.Is(err, ErrNoProposalChosen):
		return wire.NO_PROPOSAL_CHOSEN
	case errors.Is(err, ErrTSUnacceptable):
		return wire.TS_UNACCEPTABLE
	}
	return wire.NotifyFor(err)
}

// ProposalError is a failed negotiation with both sides' proposals in the
// form operators read (Describe), so that "no proposal chosen" in a log
// or a show command says what each side wanted. It wraps
// ErrNoProposalChosen. Proposals carry no secrets; the SPIs they show are
// public.
type ProposalError struct {
	// Protocol is what was negotiated: IKE or ESP.
	Protocol wire.ProtocolID
	// Reason says what was wrong with the responder's choice (initiator
	// side); empty when no proposal matched (responder side).
	Reason string
	// Peer are the peer's proposals: its offer, or the responder's
	// choice. Local are this gateway's.
	Peer, Local []string
}

func (e *ProposalError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no proposal chosen for %v", e.Protocol)
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	fmt.Fprintf(&b, "; peer proposals: [%s]; local proposals: [%s]",
		strings.Join(e.Peer, "; "), strings.Join(e.Local, "; "))
	return b.String()
}

func (e *ProposalError) Unwrap() error { return ErrNoProposalChosen }

func newProposalError(protocol wire.ProtocolID, reason string, peer, local []wire.Proposal) *ProposalError {
	return &ProposalError{Protocol: protocol, Reason: reason, Peer: describeAll(peer), Local: describeAll(local)}
}

// causeOf sorts an error of the negotiation functions: no proposal chosen,
// traffic selectors unacceptable, or another.
func causeOf(err error) ike.Cause {
	switch {
	case errors.Is(err, ErrNoProposalChosen):
		return ike.CauseNoProposal
	case errors.Is(err, ErrTSUnacceptable):
		return ike.CauseSelectors
	}
	return ike.CauseOther
}

// failureOf is an error as a failure, its message the error's text.
func failureOf(err error) ike.Failure {
	return ike.Failure{Cause: causeOf(err), Message: err.Error()}
}

// notifyCause sorts an error notification the peer sent.
func notifyCause(t wire.NotifyType) ike.Cause {
	switch t {
	case wire.NO_PROPOSAL_CHOSEN:
		return ike.CauseNoProposal
	case wire.TS_UNACCEPTABLE:
		return ike.CauseSelectors
	case wire.AUTHENTICATION_FAILED:
		return ike.CauseAuthentication
	}
	return ike.CausePeerDeleted
}
