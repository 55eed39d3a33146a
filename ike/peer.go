package ike

import (
	"net/netip"
	"time"

	"ipsecgw/transform"
)

// Peer is one configured IKE peer and the VPN it carries, resolved by the
// daemon from the configuration: algorithms are rows of the transform
// table, identities are ID payload bodies, selectors are prefixes. An
// engine makes its wire forms (offers, ID payloads) once, when it is given
// the peer. The engine that holds a peer guards its failover state.
type Peer struct {
	Gateway, VPN  string
	Local, Remote netip.Addr
	// Backups are the gateway's addresses after the first (services
	// backup-remote-gateway): when the peer at the current one is
	// unreachable or dead, the next negotiation goes to the next address,
	// round the list.
	Backups []netip.Addr
	target  int // index into Remote + Backups of where we initiate
	PSK     []byte
	// LocalID and RemoteID: the zero value means "the address" for the
	// local identity and "any" for the remote one.
	LocalID, RemoteID Identity
	// Aggressive is the IKE policy's mode aggressive (IKEv1; else Main
	// Mode).
	Aggressive bool
	// IKEProposals are the IKE policy's proposals in preference order.
	IKEProposals []IKEProposal
	// ESPProposals are the IPsec policy's; PFSGroup its
	// perfect-forward-secrecy group (nil: none), used when Child SAs are
	// created or rekeyed.
	ESPProposals []ESPProposal
	PFSGroup     *transform.Transform
	// Selectors are the Child SAs the VPN asks for (traffic-selector
	// entries or the proxy-identity), each with its traffic; nil is the
	// route-based default, the whole address space (IKEv2 proposes both
	// families, IKEv1 the family of the peer's address).
	Selectors []Selectors
	// NATTraversal sends and checks NAT detection (Junos: on unless
	// no-nat-traversal); ForceNAT claims a NAT so ESP goes in UDP anyway.
	NATTraversal, ForceNAT bool
	// DPDInterval, when set, probes a quiet peer; DPDThreshold unanswered
	// probes declare it dead; DPDMode says when a peer is quiet enough.
	DPDInterval  time.Duration
	DPDThreshold int
	DPDMode      DPDMode
	// Reinitiate: keep the tunnel up (establish-tunnels immediately): after
	// a failure the SA is negotiated again.
	Reinitiate bool
	// ResponderOnly: the VPN's Child SAs are never asked for from here,
	// only answered (establish-tunnels responder-only and
	// responder-only-no-rekey), also when a duplicate IKE SA that carried
	// one goes (ikev2's dupvpns.go): the peer, which initiates the VPN,
	// asks for it again.
	ResponderOnly bool
	// NoRekey leaves every rekey to the peer (establish-tunnels
	// responder-only-no-rekey): our soft lifetimes start nothing, the hard
	// ones still remove.
	NoRekey bool
	// IKELifetime and ChildLifetime are the first proposals'
	// lifetime-seconds, ChildLifeKilobytes the IPsec proposal's
	// lifetime-kilobytes (0: none).
	IKELifetime, ChildLifetime time.Duration
	ChildLifeKilobytes         uint64
	// Auth, when set, authenticates with certificates and signatures (the
	// IKE policy's certificate statement); nil: the pre-shared key. With
	// it, LocalID and RemoteID are zero unless configured exactly: the
	// credential gives ours, and Auth checks the peer's against its
	// certificate and remote-identity.
	Auth Authenticator
	// IKEv2 fragmentation (RFC 7383), the gateway's fragmentation
	// statement: NoFragmentation is its disable (fragmentation is on by
	// default, as on Junos); FragmentSize its size, the largest IP
	// datagram a message or fragment fills (0: 576 bytes over IPv4, 1280
	// over IPv6).
	NoFragmentation bool
	FragmentSize    int
	// PPK is the gateway's postquantum preshared key (ppk-profile, RFC
	// 8784; IKEv2 only), nil without one.
	PPK *PPK
	// PFSAddKE are the IPsec policy's additional key exchanges after
	// PFSGroup (RFC 9370), for CREATE_CHILD_SA; nil where none.
	PFSAddKE [7]*transform.Transform
}

// PPK is a postquantum preshared key: the profile it comes from, the
// PPK_ID both peers know it by, the key, and whether a peer without it is
// refused (ppk-mandatory) or let in without it (NO_PPK_AUTH).
type PPK struct {
	Profile   string
	ID        []byte
	Key       []byte
	Mandatory bool
}

// IKEProposal is one IKE (IKEv1: phase 1) proposal: one algorithm of each
// kind and its lifetime. Integrity is nil with an AEAD cipher.
type IKEProposal struct {
	Name                              string
	Encryption, PRF, Integrity, Group *transform.Transform
	Lifetime                          time.Duration
	// AddKE are the additional key exchanges after Group (RFC 9370,
	// ADDKE1..ADDKE7; IKEv2 only), nil where none.
	AddKE [7]*transform.Transform
}

// ESPProposal is one IPsec proposal. Integrity is nil with an AEAD
// cipher; zero lifetimes are the policy's (the first proposal's).
type ESPProposal struct {
	Name                  string
	Encryption, Integrity *transform.Transform
	ESN                   bool
	Lifetime              time.Duration
	LifeKilobytes         uint64
}

// Selectors are the traffic of one Child SA from this gateway's point of
// view: Local behind this gateway, Remote behind the peer.
type Selectors struct {
	Local, Remote []netip.Prefix
}

// IDType is an identity's type. Both versions number them alike (RFC
// 7296 §3.5 kept RFC 2407 §4.6.2.1's numbers).
type IDType uint8

const (
	IDIPv4  IDType = 1
	IDFQDN  IDType = 2
	IDEmail IDType = 3 // IKEv1 ID_USER_FQDN, IKEv2 ID_RFC822_ADDR
	IDIPv6  IDType = 5
	IDDN    IDType = 9 // ID_DER_ASN1_DN
	IDKeyID IDType = 11
)

// Identity is an ID payload's type and body (zero: the default).
type Identity struct {
	Type IDType
	Data []byte
}

// Addresses are the peer's primary address and its backups.
func (p *Peer) Addresses() []netip.Addr { return append([]netip.Addr{p.Remote}, p.Backups...) }

// Current is the address we initiate to.
func (p *Peer) Current() netip.Addr { return p.Addresses()[p.target%(1+len(p.Backups))] }

// Failover moves the next initiation to the next address; it reports
// whether there is another one.
func (p *Peer) Failover() bool {
	if len(p.Backups) == 0 {
		return false
	}
	p.target = (p.target + 1) % (1 + len(p.Backups))
	return true
}

// FailoverAfter moves the next initiation to the next address when f says
// the peer went silent and we are the side that negotiates again (we
// initiated, or the tunnel is kept up); it reports whether it moved.
func (p *Peer) FailoverAfter(f Failure, initiator bool) bool {
	return (initiator || p.Reinitiate) && f.Silent() && p.Failover()
}

// Retransmission and re-initiation, the same in both versions (RFC 7296
// §2.1; RFC 2408 leaves it to the implementation): a request unanswered
// after 1, 2, 4, 8 and 16 s is given up; a kept-up tunnel whose SA failed
// is tried again 5 s later (each attempt with its own retransmissions).
const (
	FirstRetransmit = time.Second
	MaxSends        = 5
	ReinitiateDelay = 5 * time.Second
)

// Backoff is how long to wait after the n-th send (from 1) of a request.
func Backoff(n int) time.Duration { return FirstRetransmit << (n - 1) }
