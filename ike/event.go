package ike

import (
	"net/netip"
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

// Event is reported to an engine's Events handler as it happens, for the
// management API's event stream and the metrics. The handler runs under
// the engine's lock: it must not block or call back into the engine.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Gateway string
	VPN     string
	Remote  netip.Addr
	// SPI is the IKE SA's "initiator:responder" SPIs (IKEv1: cookies), or
	// a Child SA's inbound SPI.
	SPI string
	// Failure says why a negotiation failed or an SA went down (zero: it
	// did not fail).
	Failure Failure `json:",omitzero"`
}

// SAInfo is an IKE SA (IKEv1: ISAKMP SA) as show commands report it.
type SAInfo struct {
	Gateway        string
	Remote         netip.Addr
	State          string // "UP" once established
	Initiator      bool
	InitiatorSPI   uint64
	ResponderSPI   uint64
	Encryption     string
	PRF, Integrity string
	Group          string
	Established    time.Time
	Children       int
	// Failure is why it failed or ended, or, while it is up, why its last
	// Child SA negotiation failed (zero: nothing failed).
	Failure Failure `json:",omitzero"`
	// Ended is when the SA went down (failures only).
	Ended time.Time
	// PeerCertificate is the subject of the peer's verified certificate
	// ("" with a pre-shared key).
	PeerCertificate string `json:",omitempty"`
	// Fragmentation: IKEv2 fragmentation (RFC 7383) was negotiated, with
	// messages cut for FragmentSize-byte datagrams; InFragments and
	// OutFragments count the fragments received (that authenticated) and
	// sent, retransmissions included.
	Fragmentation             bool   `json:",omitempty"`
	FragmentSize              int    `json:",omitempty"`
	InFragments, OutFragments uint64 `json:",omitempty"`
}

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
