package ikev2

import (
	"math/rand/v2"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// A Child SA rekey of ours that the peer answers TEMPORARY_FAILURE is tried
// again a moment later (RFC 7296 §2.25: the responder was busy with the
// IKE SA or this Child SA, and the initiator retries after a delay).
// strongSwan answers so while its own IKE SA rekey runs; with additional
// key exchanges (IKE_FOLLOWUP_KE) that rekey spans several round trips, so
// a Child SA rekey started at a soft lifetime often falls inside it.
// Without the retry the old Child SA stayed until its hard lifetime and
// went without a successor: the tunnel was down (a lifetime-kilobytes
// rekey has a few hundred milliseconds of traffic left). An IKE SA rekey
// of ours refused so is tried again the same way (retryIKERekeyLater).

// rekeyRetryDelay is the least wait before the retry; it is drawn from
// one to two times it, so the two sides do not retry in step.
const rekeyRetryDelay = time.Second

// A peer that goes on answering TEMPORARY_FAILURE for minutes is out of
// sync with us (§2.25: it SHOULD then be taken so and the IKE SA
// closed): its busy state never ends, and the retries every second or two
// would go on for the IKE SA's life while its Child SAs reach their hard
// lifetimes unrekeyed. refusedFor is how long a streak of refusals may
// last; refusals more than refusedGap apart are not one streak (the
// retries come every one to two seconds).
const (
	refusedFor = 5 * time.Minute
	refusedGap = 30 * time.Second
)

// outOfSync records one more TEMPORARY_FAILURE to a rekey of ours on sa
// and, once the streak has lasted refusedFor, closes sa, reporting true:
// a DELETE, and a kept-up tunnel negotiated anew (close's
// reinitiateLater).
func (sa *ikeSA) outOfSync() bool {
	now := sa.e.clock.Now()
	if sa.refusedSince.IsZero() || now.Sub(sa.refusedLast) > refusedGap {
		sa.refusedSince = now
	}
	sa.refusedLast = now
	if now.Sub(sa.refusedSince) < refusedFor {
		return false
	}
	sa.e.log.Warn("peer refuses our rekeys (TEMPORARY_FAILURE) for minutes; taken as out of sync, IKE SA deleted",
		"gateway", sa.peer.Gateway, "since", sa.refusedSince.Format(time.RFC3339))
	sa.failure = ike.Failf(ike.CauseLocal, "the peer answered TEMPORARY_FAILURE for %v", refusedFor)
	sa.sendDelete()
	return true
}

// retryRekeyLater schedules the retry of rekey r refused with t, and
// reports whether it did (only TEMPORARY_FAILURE is worth a retry). The
// retry goes on whichever IKE SA holds the Child SA then (the peer's IKE
// SA rekey moves it to the new one) and is dropped if none does (it was
// rekeyed by the peer, deleted, or reached its hard lifetime).
func (sa *ikeSA) retryRekeyLater(r *childRekey, t wire.NotifyType) bool {
	if r == nil || r.old == nil || t != wire.TEMPORARY_FAILURE {
		return false
	}
	if sa.outOfSync() {
		return true
	}
	e, c := sa.e, r.old
	delay := rekeyRetryDelay + rand.N(rekeyRetryDelay)
	e.log.Info("Child SA rekey refused for now (TEMPORARY_FAILURE); trying again", "vpn", r.vpn.VPN, "in", spiHex(c.InboundSPI), "after", delay.Round(time.Millisecond))
	e.clock.AfterFunc(delay, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return
		}
		for spi, x := range e.sas {
			if spi != x.localSPI() || x.state != stateEstablished || !x.hasChild(c) {
				continue
			}
			if x.rekey == nil {
				x.startRekey(c)
			}
			return
		}
	})
	return true
}

// retryIKERekeyLater schedules the retry of our IKE SA rekey refused with
// t, and reports whether it did: TEMPORARY_FAILURE, which the peer sends
// while its CREATE_CHILD_SA is out on the IKE SA (refuseRekeyWhileCreating;
// strongSwan and Junos too) or while it deletes the IKE SA. Without it the
// IKE SA went unrekeyed until the next lifetime. Dropped if sa has stopped
// carrying by then (deleted, or a simultaneous rekey's survivor took over:
// afterIKERekeyAnswer runs before the retry can).
func (sa *ikeSA) retryIKERekeyLater(t wire.NotifyType) bool {
	if t != wire.TEMPORARY_FAILURE {
		return false
	}
	if sa.outOfSync() {
		return true
	}
	delay := rekeyRetryDelay + rand.N(rekeyRetryDelay)
	sa.e.log.Info("IKE SA rekey refused for now (TEMPORARY_FAILURE); trying again", "gateway", sa.peer.Gateway, "after", delay.Round(time.Millisecond))
	sa.after(delay, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.carries() && sa.ikeRekey == nil {
			sa.startIKERekey()
		}
	})
	return true
}
