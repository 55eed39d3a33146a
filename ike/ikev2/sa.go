package ikev2

import (
	"net/netip"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

type saState int

const (
	stateInitSent    saState = iota // initiator: IKE_SA_INIT request out
	stateAuthSent                   // initiator: IKE_AUTH request out
	stateComputing                  // responder: IKE_SA_INIT accepted, its key exchange running
	stateInitReplied                // responder: IKE_SA_INIT answered, waiting for IKE_AUTH
	stateEstablished
	stateDead
	stateIntermediateSent // initiator: IKE_INTERMEDIATE request out (intermediate.go)
)

func (s saState) String() string {
	switch s {
	case stateEstablished:
		return "UP"
	case stateDead:
		return "DOWN"
	}
	return "NEGOTIATING"
}

// ikeSA is one IKE SA. The Engine's mutex guards every field.
type ikeSA struct {
	e         *Engine
	peer      *peer
	initiator bool
	spiI      uint64
	spiR      uint64
	state     saState
	local     netip.AddrPort
	remote    netip.AddrPort

	// hs is the handshake's state, dropped once IKE_AUTH is done.
	hs      *handshake
	group   *transform.Transform
	suite   keymat.IKESuite
	keys    *keymat.IKESAKeys
	out, in *messageCipher

	// Our outstanding request (window size 1).
	nextID    uint32
	pending   []byte
	pendingID uint32
	sends     int
	maxSends  int
	every     time.Duration // fixed retransmission spacing; 0: backoff
	timer     clock.Timer
	probing   bool // the outstanding request is a DPD probe

	// lastHeard is when the peer last sent anything that authenticated:
	// dead peer detection probes only a quiet peer.
	lastHeard time.Time
	dpd       ike.DPDTraffic // the Child SAs' packet counts at the last DPD tick
	timers    clock.Group    // DPD, lifetimes, retries (after); stopped on close
	rekey     *childRekey    // our CREATE_CHILD_SA in flight
	ikeRekey  *ikeRekey      // our IKE SA rekey in flight
	deleting  *ike.ChildSA   // the Child SA our DELETE in flight removes
	// refusedSince and refusedLast bound the streak of TEMPORARY_FAILUREs
	// the peer answers our rekeys with (rekeyretry.go: outOfSync).
	refusedSince, refusedLast time.Time

	// The peer's requests: the next expected ID and the cached answer to
	// the last one, resent when the request comes again (§2.2).
	expectID  uint32
	lastResp  []byte
	lastRespI uint32
	haveResp  bool

	// natT: a NAT was detected (or the peer claims one, as strongSwan's
	// userspace ESP always does), so IKE moved to port 4500 and ESP is
	// UDP-encapsulated (§2.23).
	natT bool

	closing     bool           // a DELETE of this IKE SA is out
	tracked     bool           // counted in Engine.roles
	byInitKey   initKey        // responder: its entry in Engine.byInit
	children    []*ike.ChildSA // more than one while a rekey overlaps
	established time.Time
	failure     ike.Failure // why it failed or ended; while up, why its last Child SA was refused

	// resumed: imported from another cluster node (export.go); the peer's
	// first request may be above expectID.
	resumed bool

	// Signature authentication (certauth.go): the AUTH methods each side
	// used and the certificates' subjects; zero with a pre-shared key.
	authMethod, peerAuthMethod wire.AuthMethod
	localCert, peerCert        string
	// frag is RFC 7383 fragmentation: negotiated or not, the fragments
	// of what we send, the reassembly of what we receive (fragment.go).
	frag fragState
	// ppkUsed: the keys mix in the gateway's PPK (RFC 8784, ppk.go); an SA
	// rekeyed from this one inherits it through SK_d.
	ppkUsed bool
	// addKE names the additional key exchanges the keys came from (RFC
	// 9370, intermediate.go), "ke1 ML-KEM-768" and so on.
	addKE []string
	// followup is a CREATE_CHILD_SA waiting for its IKE_FOLLOWUP_KE
	// exchanges (followup.go): ours.
	followup *followup
	// peerFollowup is the peer's CREATE_CHILD_SA waiting for its
	// IKE_FOLLOWUP_KE exchanges, which we answer (followup.go).
	peerFollowup *followup
	// staged are the Child SAs we made answering a rekey whose outbound
	// SA waits for the initiator's DELETE of the old one (staged.go).
	staged []*stagedOut
	// create is our CREATE_CHILD_SA for a VPN's new Child SA in flight;
	// tried names the VPNs this IKE SA asked one for (vpnchild.go).
	create *childCreate
	tried  map[string]bool
	// wanted names the VPNs traffic asked a Child SA for (on-traffic).
	wanted map[string]bool
	// fresh are the Child SAs created here, not rekeyed, by the exchange
	// that made each, until a duplicate is settled (childdup.go).
	fresh map[*ike.ChildSA]freshOrigin
	// replacedBy is the IKE SA a rekey handed this one's Child SAs to
	// (handOver); this one stays up until its DELETE (rekeywindow.go).
	replacedBy *ikeSA
	// held: the peer's IKE SA rekey made this one while ours was out, and
	// it carries nothing until the collision is settled: it may be the
	// redundant one (ikerekeycollide.go). handOver clears it.
	held bool
}

func (sa *ikeSA) localSPI() uint64 {
	if sa.initiator {
		return sa.spiI
	}
	return sa.spiR
}

func (sa *ikeSA) info() ike.SAInfo {
	i := ike.SAInfo{Gateway: sa.peer.Gateway, Remote: sa.remote.Addr(), State: sa.state.String(), Initiator: sa.initiator,
		InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Established: sa.established, Failure: sa.failure}
	if sa.suite.Encryption != nil {
		i.Encryption, i.PRF = sa.suite.Encryption.Display, sa.suite.PRF.Display
		if sa.suite.Integrity != nil {
			i.Integrity = sa.suite.Integrity.Display
		}
	}
	if sa.group != nil {
		i.Group = sa.group.Display
	}
	i.Children = len(sa.children)
	i.PeerCertificate = sa.peerCert // certauth.go
	i.Fragmentation, i.InFragments, i.OutFragments = sa.frag.on, sa.frag.in, sa.frag.out
	if sa.frag.on {
		i.FragmentSize = sa.fragmentSize()
	}
	i.PPKProfile, i.PPKUsed = sa.ppkProfile(), sa.ppkUsed // ppk.go
	i.AdditionalKE = sa.addKE                             // intermediate.go
	return i
}

func (sa *ikeSA) flags() wire.Flags {
	if sa.initiator {
		return wire.FlagInitiator
	}
	return 0
}

// request sends a new request and arms its retransmission with the
// standard backoff.
func (sa *ikeSA) request(b []byte, id uint32) {
	sa.requestEvery(b, id, 0, ike.MaxSends)
}

// requestEvery sends a request retransmitted every `every` (0: the doubling
// backoff) up to max sends; a DPD probe uses the configured interval and
// threshold.
func (sa *ikeSA) requestEvery(b []byte, id uint32, every time.Duration, max int) {
	sa.pending, sa.pendingID, sa.sends = b, id, 0
	sa.frag.request = sa.fragmentsOf(b)
	sa.every, sa.maxSends = every, max
	sa.resend()
}

func (sa *ikeSA) resend() {
	if sa.sends >= sa.maxSends {
		if sa.probing {
			sa.emit(ike.PeerDead, sa.ikeSPIs(), ike.Failf(ike.CausePeerDead, "no answer to dead peer detection"))
			sa.fail(ike.Failf(ike.CausePeerDead, "peer dead: no answer to %d dead peer detection probes", sa.sends))
		} else {
			sa.fail(ike.Failf(ike.CauseUnreachable, "peer unreachable: no answer to %d transmissions%s", sa.sends, sa.unansweredHint()))
		}
		return
	}
	sa.sends++
	sa.transmit(sa.pending, sa.frag.request)
	wait := sa.every
	if wait == 0 {
		wait = ike.Backoff(sa.sends)
	}
	id := sa.pendingID
	sa.timer = sa.e.clock.AfterFunc(wait, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state != stateDead && sa.pending != nil && sa.pendingID == id {
			sa.resend()
		}
	})
}

// answered stops the retransmission of the request a response matched.
func (sa *ikeSA) answered() {
	if sa.timer != nil {
		sa.timer.Stop()
	}
	sa.pending, sa.frag.request = nil, nil
	sa.nextID = sa.pendingID + 1
}

// respond sends (and caches) the answer to request id.
func (sa *ikeSA) respond(b []byte, id uint32) {
	sa.lastResp, sa.lastRespI, sa.haveResp = b, id, true
	sa.frag.response = sa.fragmentsOf(b)
	sa.expectID = id + 1
	sa.transmit(b, sa.frag.response)
}

// fail ends the SA, recording why (for show commands).
func (sa *ikeSA) fail(f ike.Failure) {
	sa.failure = f
	sa.e.log.Warn("IKE SA failed", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr(), "reason", f.Message)
	// A peer gone silent: the next negotiation tries its next address.
	if sa.peer.FailoverAfter(f, sa.initiator) {
		sa.e.log.Warn("peer unreachable: trying the gateway's next address", "gateway", sa.peer.Gateway,
			"from", sa.remote.Addr(), "to", sa.peer.Current())
	}
	sa.close()
}

// after runs f once d has passed, unless the IKE SA closes first. The
// caller holds e.mu, as f must take it.
func (sa *ikeSA) after(d time.Duration, f func()) { sa.timers.AfterFunc(sa.e.clock, d, f) }

func (sa *ikeSA) close() {
	if sa.state == stateDead {
		return
	}
	if sa.timer != nil {
		sa.timer.Stop()
	}
	sa.timers.Stop()
	sa.dropFragments()
	sa.e.reinitiateLater(sa)
	for _, c := range sa.children {
		sa.e.installer.RemoveChild(c.VPN, c)
		sa.e.lifetimes.Forget(c)
		sa.childDown(c, sa.failure) // childdown.go
	}
	switch {
	case sa.state == stateEstablished:
		sa.emit(ike.IKEDown, sa.ikeSPIs(), sa.failure)
	case sa.failure.Failed():
		sa.emit(ike.NegotiationFailed, sa.ikeSPIs(), sa.failure)
	}
	sa.children = nil
	if sa.keys != nil {
		sa.keys.Zero()
	}
	if sa.awaitingAuth() {
		sa.e.halfOpen--
	}
	if sa.e.byInit[sa.byInitKey] == sa {
		delete(sa.e.byInit, sa.byInitKey)
	}
	sa.state = stateDead
	sa.e.untrack(sa)
	delete(sa.e.sas, sa.localSPI())
	if sa.ikeRekey != nil {
		delete(sa.e.sas, sa.ikeRekey.spi)
	}
	ended := sa.info()
	ended.Ended = sa.e.clock.Now()
	sa.e.failures.Add(ended)
}

// deriveKeys computes SKEYSEED and the seven IKE SA keys from the shared
// secret and the nonces, and keys the two message ciphers.
func (sa *ikeSA) deriveKeys(shared, ni, nr []byte) error {
	skeyseed, err := keymat.SKEYSEED(sa.suite.PRF, ni, nr, shared)
	if err != nil {
		return err
	}
	return sa.keysFromSKEYSEED(skeyseed, ni, nr)
}

// keysFromSKEYSEED derives the seven keys and keys the message ciphers.
func (sa *ikeSA) keysFromSKEYSEED(skeyseed keymat.Key, ni, nr []byte) error {
	defer skeyseed.Zero()
	keys, err := keymat.NewIKESAKeys(sa.suite, skeyseed, ni, nr, sa.spiI, sa.spiR)
	if err != nil {
		return err
	}
	sa.keys = keys
	ei, er, ai, ar := keys.EI, keys.ER, keys.AI, keys.AR
	if !sa.initiator {
		ei, er, ai, ar = er, ei, ar, ai
	}
	if sa.out, err = newMessageCipher(sa.suite.Encryption, sa.suite.Integrity, ei, ai, sa.e.rand); err != nil {
		return err
	}
	sa.in, err = newMessageCipher(sa.suite.Encryption, sa.suite.Integrity, er, ar, sa.e.rand)
	return err
}

// localID is the identity we send: configured, or our address.
func (sa *ikeSA) localID() wire.Identification {
	if sa.peer.localID.Type != 0 {
		return sa.peer.localID
	}
	return wire.IDFromAddr(sa.peer.Local)
}

// checkRemoteID applies remote-identity when configured.
func (sa *ikeSA) checkRemoteID(id wire.Identification) bool {
	if sa.peer.Auth != nil {
		return true // verifyCertAuth matched it against the certificate and remote-identity
	}
	want := sa.peer.remoteID
	if want.Type == wire.ID_DER_ASN1_DN && id.Type == wire.ID_DER_ASN1_DN {
		return wire.SameDN(want.Data, id.Data)
	}
	return want.Type == 0 || want.Type == id.Type && string(want.Data) == string(id.Data)
}

// authData is our AUTH payload data over the message we sent first
// (§2.15): prf(prf(PSK, "Key Pad for IKEv2"), msg | peer nonce | prf(SK_p, ID')).
func (sa *ikeSA) authData(id wire.Identification) ([]byte, error) {
	msg, nonce, skp := sa.hs.initReq, sa.hs.nr, sa.keys.PI
	if !sa.initiator {
		msg, nonce, skp = sa.hs.initResp, sa.hs.ni, sa.keys.PR
	}
	octets, err := keymat.SignedOctets(sa.suite.PRF, msg, nonce, skp, id.AppendBody(nil))
	if err != nil {
		return nil, err
	}
	octets = sa.intAuthOctets(octets) // intermediate.go
	return keymat.PSKAuth(sa.suite.PRF, sa.peer.PSK, octets)
}

// verifyAuth checks the peer's AUTH payload over the message it sent first.
func (sa *ikeSA) verifyAuth(id wire.Identification, auth *wire.Auth) bool {
	if sa.peer.Auth != nil {
		return sa.verifyCertAuth(id, auth)
	}
	if auth == nil || auth.Method != wire.AuthSharedKey {
		return false
	}
	msg, nonce, skp := sa.hs.initResp, sa.hs.ni, sa.keys.PR
	if !sa.initiator {
		msg, nonce, skp = sa.hs.initReq, sa.hs.nr, sa.keys.PI
	}
	octets, err := keymat.SignedOctets(sa.suite.PRF, msg, nonce, skp, id.AppendBody(nil))
	if err != nil {
		return false
	}
	octets = sa.intAuthOctets(octets) // intermediate.go
	ok, err := keymat.VerifyPSKAuth(sa.suite.PRF, sa.peer.PSK, octets, auth.Data)
	return err == nil && ok
}
