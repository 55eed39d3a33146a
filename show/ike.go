package show

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// IKESA is one IKE security association as the IKE daemon reports it: what
// `show security ike security-associations` (and the services ipsec-vpn
// form) prints about it.
type IKESA struct {
	Index       uint32 // the SA's index, unique while it lives; `index N` selects it
	GatewayName string // the [security ike gateway NAME] it was negotiated for

	Initiator    bool   // our role: true when we sent the first message
	Up           bool   // established (UP, Matured); false while negotiating or failed (DOWN)
	InitiatorSPI uint64 // the initiator's IKE SPI (IKEv1 cookie)
	ResponderSPI uint64 // the responder's; zero until it answered
	ExchangeType string // "IKEv2", or for IKEv1 "Main" or "Aggressive"
	AuthMethod   string // "Pre-shared-keys", "RSA-signatures", "ECDSA-signatures-256", ...

	LocalInterface  string         // interface the local address is on ("Local gateway interface")
	RoutingInstance string         // routing instance of the IKE traffic ("default")
	Local, Remote   netip.AddrPort // the IKE endpoints (port 500 or 4500)

	Lifetime       time.Duration // time left until the SA expires (and is rekeyed)
	ReauthLifetime time.Duration // time left until reauthentication; 0 prints Disabled

	Fragmentation bool // IKE fragmentation (RFC 7383) negotiated
	FragmentSize  int  // fragment size in bytes when Fragmentation is on

	RemoteAccessClient string     // remote-access client info; "" prints "Unknown Client"
	PeerIKEID          string     // the peer's IKE identity, as a string ("16.1.1.1", "gw.example")
	AAAAssignedIP      netip.Addr // address handed to a remote-access peer; unset prints 0.0.0.0
	PPKProfile         string     // post-quantum preshared key profile (RFC 8784); "" prints None

	Integrity  string // integrity algorithm, Junos keyword ("hmac-sha256-128"); AEAD: ""
	Encryption string // encryption algorithm, Junos keyword ("aes256-gcm", "3des-cbc")
	PRF        string // pseudo-random function ("hmac-sha256")
	DHGroup    int    // Diffie-Hellman group number (IANA transform id)

	InBytes, OutBytes         uint64              // IKE bytes received and sent on this SA
	InPackets, OutPackets     uint64              // IKE messages received and sent
	InFragments, OutFragments uint64              // IKE fragments received and sent
	ChildSAsCreated           uint64              // IPsec SAs negotiated under this SA so far
	ChildSAsDeleted           uint64              // and deleted (rekeyed away, expired, cleared)
	NegotiationsInProgress    int                 // child-SA exchanges not yet finished ("Phase 2 negotiations in progress")
	TunnelIDs                 []uint32            // IPsec tunnels (IPsecTunnel.ID) keyed by this SA
	Negotiations              []Negotiation       // the exchanges to print under the SA, oldest first
	Rekey                     *RekeyStatistics    // CREATE_CHILD_SA counters (IKEv2); nil omits the block
	LastFailure               *NegotiationFailure // the last failed negotiation; nil when none

	// QuantumSecured: the keys mix in a PPK (RFC 8784); AdditionalKE are the
	// additional key exchanges run (RFC 9370), "ke1 ML-KEM-768" and so on
	// (quantum.go).
	QuantumSecured bool
	AdditionalKE   []string
}

// Negotiation is one exchange run under an IKE SA (the "Negotiation type"
// block of the detail view).
type Negotiation struct {
	Type           string         // "Quick mode" (IKEv1), "CREATE_CHILD_SA", "IKE_AUTH", ...
	Initiator      bool           // our role in this exchange
	MessageID      uint32         // the exchange's message ID
	Local, Remote  netip.AddrPort // the endpoints it ran between
	LocalIdentity  string         // identities used ("16.1.1.2", a FQDN, a DN)
	RemoteIdentity string
	Flags          string // what became of it, Junos wording: "IKE SA is created"
}

// RekeyStatistics counts CREATE_CHILD_SA exchanges of one IKE SA, from each
// side (the "IPsec SA Rekey CREATE_CHILD_SA exchange stats" block).
type RekeyStatistics struct {
	// As initiator.
	RequestOut, ResponseIn          uint64
	NoProposalChosenIn, InvalidKEIn uint64 // error notifications received
	TSUnacceptableIn                uint64
	InitiatorDHComputeKeyFail       uint64 // our DH computation failed on the response
	VerifySAFail, VerifyDHGroupFail uint64 // the response chose a proposal or group we did not offer
	VerifyTSFail                    uint64 // the response narrowed to selectors we did not offer
	// As responder.
	RequestIn, ResponseOut            uint64
	NoProposalChosenOut, InvalidKEOut uint64 // error notifications sent
	TSUnacceptableOut                 uint64
	ResponderDHComputeKeyFail         uint64
}

// NegotiationFailure is why the last negotiation on an SA failed. Junos has
// no such section; ipsecgw prints it under the SA so that the operator sees
// the reason where the DOWN state is.
type NegotiationFailure struct {
	Time     time.Time // when it failed
	Exchange string    // the exchange that failed: "IKE_SA_INIT", "IKE_AUTH", "Main mode", ...
	Reason   string    // what went wrong, and what was expected
}

// IKEQuery is the arguments of `show security ike security-associations`.
type IKEQuery struct {
	Style Style      // brief (the default) or detail
	Index uint32     // `index N`: only that SA; 0 selects all
	Peer  netip.Addr // `<peer-address>`: only SAs with that remote address
}

// selects reports whether sa passes the query's index and peer filters.
func (q IKEQuery) selects(sa *IKESA) bool {
	if q.Index != 0 && sa.Index != q.Index {
		return false
	}
	return !q.Peer.IsValid() || sa.Remote.Addr() == q.Peer
}

// IKESecurityAssociations is `show security ike security-associations
// [brief | detail] [index N] [peer]`.
func IKESecurityAssociations(sas []IKESA, q IKEQuery) Reply {
	var selected []*IKESA
	for i := range sas {
		if q.selects(&sas[i]) {
			selected = append(selected, &sas[i])
		}
	}
	if q.Style == StyleDetail {
		return ikeDetailReply(selected, writeIKEDetail, false)
	}
	var t text
	m := &IKESecurityAssociationsInformation{Style: "brief"}
	if len(selected) > 0 {
		t.line("Index   State  Initiator cookie  Responder cookie  Mode           Remote Address")
	}
	for _, sa := range selected {
		t.line("%-7d %-6s %-16s  %-16s  %-14s %s", sa.Index, upDown(sa.Up),
			cookie(sa.InitiatorSPI), cookie(sa.ResponderSPI), sa.ExchangeType, sa.Remote.Addr())
		m.SAs = append(m.SAs, IKESABrief{
			RemoteAddress: sa.Remote.Addr().String(), Index: sa.Index, State: upDown(sa.Up),
			InitiatorCookie: cookie(sa.InitiatorSPI), ResponderCookie: cookie(sa.ResponderSPI),
			ExchangeType: sa.ExchangeType,
		})
	}
	return Reply{t.String(), m}
}

func upDown(up bool) string {
	if up {
		return "UP"
	}
	return "DOWN"
}

func role(initiator bool) string {
	if initiator {
		return "Initiator"
	}
	return "Responder"
}

// writeIKEDetail prints the detail block of seed 004.
func writeIKEDetail(t *text, sa *IKESA) {
	t.line("IKE peer %s, Index %d, Gateway Name: %s", sa.Remote.Addr(), sa.Index, sa.GatewayName)
	t.line("  Role: %s, State: %s", role(sa.Initiator), upDown(sa.Up))
	t.line("  Initiator cookie: %s, Responder cookie: %s", cookie(sa.InitiatorSPI), cookie(sa.ResponderSPI))
	t.line("  Exchange type: %s, Authentication method: %s", sa.ExchangeType, sa.AuthMethod)
	t.line("  Local gateway interface: %s", sa.LocalInterface)
	t.line("  Routing instance: %s", sa.RoutingInstance)
	t.line("  Local: %s, Remote: %s", sa.Local, sa.Remote)
	t.line("  Lifetime: %s", expires(sa.Lifetime))
	t.line("  Reauth Lifetime: %s", reauth(sa.ReauthLifetime))
	t.line("  IKE Fragmentation: %s, Size: %d", onOff(sa.Fragmentation), sa.FragmentSize)
	t.line("  Remote Access Client Info: %s", orDefault(sa.RemoteAccessClient, "Unknown Client"))
	t.line("  Peer ike-id: %s", sa.PeerIKEID)
	t.line("  AAA assigned IP: %s", addrOrZero(sa.AAAAssignedIP))
	t.line("  PPK-profile: %s", orDefault(sa.PPKProfile, "None"))
	writeQuantum(t, sa) // quantum.go
	writeIKEAlgorithms(t, sa)
	writeIKETraffic(t, sa, true)
	t.line("  IPSec security associations: %d created, %d deleted", sa.ChildSAsCreated, sa.ChildSAsDeleted)
	t.line("  Phase 2 negotiations in progress: %d", sa.NegotiationsInProgress)
	if len(sa.TunnelIDs) > 0 {
		t.line("  IPSec Tunnel IDs: %s", joinIDs(sa.TunnelIDs))
	}
	writeNegotiations(t, sa)
	if r := sa.Rekey; r != nil {
		t.line("")
		t.line("  IPsec SA Rekey CREATE_CHILD_SA exchange stats:")
		t.line("   Initiator stats:                                  Responder stats:")
		rekeyRow(t, "Request Out", r.RequestOut, "Request In", r.RequestIn)
		rekeyRow(t, "Response In", r.ResponseIn, "Response Out", r.ResponseOut)
		rekeyRow(t, "No Proposal Chosen In", r.NoProposalChosenIn, "No Proposal Chosen Out", r.NoProposalChosenOut)
		rekeyRow(t, "Invalid KE In", r.InvalidKEIn, "Invalid KE Out", r.InvalidKEOut)
		rekeyRow(t, "TS Unacceptable In", r.TSUnacceptableIn, "TS Unacceptable Out", r.TSUnacceptableOut)
		rekeyRow(t, "Res DH Compute Key Fail", r.InitiatorDHComputeKeyFail, "Res DH Compute Key Fail", r.ResponderDHComputeKeyFail)
		rekeyRow(t, "Res Verify SA Fail", r.VerifySAFail, "", 0)
		rekeyRow(t, "Res Verify DH Group Fail", r.VerifyDHGroupFail, "", 0)
		rekeyRow(t, "Res Verify TS Fail", r.VerifyTSFail, "", 0)
	}
	writeFailure(t, sa.LastFailure)
}

// rekeyRow prints one line of the two-column CREATE_CHILD_SA block: label
// fields of 24 and 23 characters, values left-aligned in 20.
func rekeyRow(t *text, left string, lv uint64, right string, rv uint64) {
	row := "    " + padRight(left, 24) + ": " + padRight(strconv.FormatUint(lv, 10), 20)
	if right != "" {
		row += "    " + padRight(right, 23) + ": " + padRight(strconv.FormatUint(rv, 10), 20)
	}
	t.line("%s", row)
}

func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(n-len(s), 0))
}

func reauth(d time.Duration) string {
	if d <= 0 {
		return "Disabled"
	}
	return expires(d)
}

func joinIDs(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ", ")
}

func writeIKEAlgorithms(t *text, sa *IKESA) {
	t.line("  Algorithms:")
	t.line("   Authentication        : %s", orDefault(sa.Integrity, "None"))
	t.line("   Encryption            : %s", sa.Encryption)
	t.line("   Pseudo random function: %s", sa.PRF)
	t.line("   Diffie-Hellman group  : %s", dhGroup(sa.DHGroup))
}

// writeIKETraffic prints the traffic statistics: byte and packet counts end
// at column 39; the fragment counts (iked only) follow their label after a
// fixed run of spaces, as seed 004 prints them.
func writeIKETraffic(t *text, sa *IKESA, fragments bool) {
	t.line("  Traffic statistics:")
	t.counter("   ", "Input  bytes  :", sa.InBytes, 39)
	t.counter("   ", "Output bytes  :", sa.OutBytes, 39)
	t.counter("   ", "Input  packets:", sa.InPackets, 39)
	t.counter("   ", "Output packets:", sa.OutPackets, 39)
	if fragments {
		t.line("   Input  fragmented packets: %7d", sa.InFragments)
		t.line("   Output fragmented packets: %7d", sa.OutFragments)
	}
}

func writeNegotiations(t *text, sa *IKESA) {
	for _, n := range sa.Negotiations {
		t.line("")
		t.line("    Negotiation type: %s, Role: %s, Message ID: %d", n.Type, role(n.Initiator), n.MessageID)
		t.line("    Local: %s, Remote: %s", n.Local, n.Remote)
		t.line("    Local identity: %s", n.LocalIdentity)
		t.line("    Remote identity: %s", n.RemoteIdentity)
		t.line("    Flags: %s", n.Flags)
	}
}

// writeFailure prints ipsecgw's "Last failure" section.
func writeFailure(t *text, f *NegotiationFailure) {
	if f == nil {
		return
	}
	t.line("")
	t.line("  Last failure:")
	t.line("    Time: %s", eventTime(f.Time))
	t.line("    Exchange: %s", f.Exchange)
	t.line("    Reason: %s", f.Reason)
}

// ikeDetailReply is the detail style of both IKE SA listings (security and
// services): one block per SA, a blank line between blocks.
func ikeDetailReply(selected []*IKESA, write func(*text, *IKESA), services bool) Reply {
	var t text
	m := &IKESecurityAssociationsInformation{Style: "detail"}
	for i, sa := range selected {
		if i > 0 {
			t.line("")
		}
		write(&t, sa)
		m.Blocks = append(m.Blocks, ikeDetailModel(sa, services))
	}
	return Reply{t.String(), m}
}
