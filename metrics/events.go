package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the event counters. Each counter takes its label from a
// fixed list, so a scrape's series stay few and known in advance: the
// values are exported at 0 from the start, and a value the list lacks is
// counted as "other".
var (
	// FailureReasons are the reasons of ipsecgw_ike_negotiation_failures_total,
	// after the IKEv2 notify (or its absence) that ended the negotiation.
	FailureReasons = []string{
		"no-proposal-chosen", "ts-unacceptable", "authentication-failed", "peer-unreachable", "other",
	}
	// RekeyKinds are the kinds of ipsecgw_rekeys_total: an IKE SA or a
	// Child SA rekeyed.
	RekeyKinds = []string{"ike", "child"}
	// DPDKinds are the kinds of ipsecgw_dpd_events_total: a liveness check
	// sent, a peer declared dead.
	DPDKinds = []string{"probe", "dead"}
	// CertificateCauses are the causes of
	// ipsecgw_ike_certificate_failures_total: why a peer's certificate or
	// signature was refused (package pki's causes, as labels).
	CertificateCauses = []string{"certificate-expired", "unknown-ca", "certificate-revoked", "crl-unavailable",
		"bad-signature", "identity-mismatch", "malformed-certificate", "key-usage", "other"}
)

// other is the label value of anything outside a counter's list.
const other = "other"

// Events counts what happens in the IKE daemon as it happens. Its methods
// are safe for concurrent use and lock nothing; on a nil *Events they do
// nothing, so a daemon without metrics passes nil.
type Events struct {
	negotiations prometheus.Counter
	failures     labelledCounter
	rekeys       labelledCounter
	dpd          labelledCounter
	certificates labelledCounter
}

func newEvents(reg prometheus.Registerer) *Events {
	e := &Events{
		negotiations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ipsecgw_ike_negotiations_total",
			Help: "IKE negotiations that succeeded: IKE SAs established, by IKE_AUTH or IKEv1 main/aggressive mode.",
		}),
		failures: newLabelledCounter(prometheus.CounterOpts{
			Name: "ipsecgw_ike_negotiation_failures_total",
			Help: "IKE negotiations that failed, by reason (the error notify received or sent, or peer-unreachable when the peer never answered).",
		}, "reason", FailureReasons),
		rekeys: newLabelledCounter(prometheus.CounterOpts{
			Name: "ipsecgw_rekeys_total",
			Help: "Rekeys completed, by kind: ike (an IKE SA replaced) or child (a Child/IPsec SA pair replaced).",
		}, "kind", RekeyKinds),
		dpd: newLabelledCounter(prometheus.CounterOpts{
			Name: "ipsecgw_dpd_events_total",
			Help: "Dead peer detection events, by kind: probe (a liveness check sent) or dead (a peer declared dead and its SAs cleared).",
		}, "kind", DPDKinds),
		certificates: newLabelledCounter(prometheus.CounterOpts{
			Name: "ipsecgw_ike_certificate_failures_total",
			Help: "IKE negotiations that failed because the peer's certificate or signature was refused, by cause (also counted in ipsecgw_ike_negotiation_failures_total).",
		}, "cause", CertificateCauses),
	}
	reg.MustRegister(e.negotiations, e.failures.vec, e.rekeys.vec, e.dpd.vec, e.certificates.vec)
	return e
}

// Negotiated counts one IKE SA established.
func (e *Events) Negotiated() {
	if e != nil {
		e.negotiations.Inc()
	}
}

// Failed counts one failed negotiation; reason is one of FailureReasons.
func (e *Events) Failed(reason string) {
	if e != nil {
		e.failures.inc(reason)
	}
}

// Rekeyed counts one rekey; kind is one of RekeyKinds.
func (e *Events) Rekeyed(kind string) {
	if e != nil {
		e.rekeys.inc(kind)
	}
}

// DPD counts one dead peer detection event; kind is one of DPDKinds.
func (e *Events) DPD(kind string) {
	if e != nil {
		e.dpd.inc(kind)
	}
}

// labelledCounter is a counter vector over a fixed list of label values,
// each child resolved once so that an increment is a map read and an
// atomic add.
type labelledCounter struct {
	vec      *prometheus.CounterVec
	children map[string]prometheus.Counter // read-only after newLabelledCounter
}

func newLabelledCounter(opts prometheus.CounterOpts, label string, values []string) labelledCounter {
	c := labelledCounter{
		vec:      prometheus.NewCounterVec(opts, []string{label}),
		children: make(map[string]prometheus.Counter, len(values)+1),
	}
	for _, v := range values {
		c.children[v] = c.vec.WithLabelValues(v)
	}
	return c
}

func (c labelledCounter) inc(value string) {
	child, ok := c.children[value]
	if !ok {
		child = c.vec.WithLabelValues(other)
	}
	child.Inc()
}

// CertificateFailed counts one negotiation failed on the peer's
// certificate; cause is one of CertificateCauses.
func (e *Events) CertificateFailed(cause string) {
	if e != nil {
		e.certificates.inc(cause)
	}
}

// certificateLabels are the labels of the reasons a refused certificate's
// IKE failure carries (package pki's causes, by their names).
var certificateLabels = map[string]string{
	"certificate expired": "certificate-expired", "unknown CA": "unknown-ca", "certificate revoked": "certificate-revoked",
	"CRL unavailable": "crl-unavailable", "bad signature": "bad-signature", "identity mismatch": "identity-mismatch",
	"malformed certificate": "malformed-certificate", "key usage does not allow signing": "key-usage",
}

// CertificateCause is the label of a refused certificate's reason as the
// IKE failure carries it ("certificate expired" → "certificate-expired");
// "other" for a reason that is no certificate cause.
func CertificateCause(reason string) string {
	if l, ok := certificateLabels[reason]; ok {
		return l
	}
	return other
}
