package ikev1

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	v1 "ipsecgw/ike/wire/v1"
	"ipsecgw/transform"
)

type saState int

const (
	stateMMSentSA    saState = iota // initiator: message 1 out
	stateMMSentKE                   // initiator: message 3 out
	stateMMSentID                   // initiator: message 5 out
	stateMMRepliedSA                // responder: message 2 out
	stateMMRepliedKE                // responder: message 4 out
	stateAMSent                     // Aggressive Mode initiator: message 1 out
	stateAMReplied                  // Aggressive Mode responder: message 2 out
	stateEstablished
	stateDead
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

// isakmpSA is one phase 1 SA and the Quick Modes run under it. The
// Engine's mutex guards every field.
type isakmpSA struct {
	e          *Engine
	peer       *peer
	initiator  bool
	ckyI, ckyR uint64
	local      netip.AddrPort
	remote     netip.AddrPort
	state      saState

	// Main Mode: what the hashes and keys are made of.
	saiB           []byte // the initiator's SA payload body (SAi_b)
	idiB           []byte // Aggressive Mode: the initiator's ID payload body (IDii_b)
	aggressive     bool
	chosen         Phase1Proposal
	kex            transform.KeyExchange
	gxi, gxr       []byte
	ni, nr         []byte
	keys           *keymat.Phase1Keys
	cipher         *cbc
	iv             []byte    // the phase 1 CBC chain; after message 6, the last phase 1 IV
	natT           bool      // a NAT is between us: UDP 4500, UDP-encapsulated ESP
	peerNATT       bool      // the peer sent the RFC 3947 vendor ID
	peerDPD        bool      // the peer sent the DPD vendor ID
	started        time.Time // when its negotiation began
	established    time.Time
	failure        ike.Failure // why it failed or ended
	closing        bool        // deleted on purpose: do not negotiate again
	children       []*ike.ChildSA
	qms            map[uint32]*quickMode // Quick Modes in progress, by Message ID
	infoIVs        map[uint32][]byte     // Informational exchanges' IV chains
	timers         clock.Group
	lastHeard      time.Time
	dpdSeq         uint32
	dpdUnanswered  int
	dpd            ike.DPDTraffic
	lifetimeExpiry time.Time

	// Retransmission of our last phase 1 message, and the peer's last
	// message with our answer, for its retransmissions.
	lastSent  []byte
	sends     int
	timer     clock.Timer
	lastRecv  []byte
	lastReply []byte

	// cred is our certificate and key when phase 1 authenticates with
	// RSA signatures (sigauth.go), credErr why it could not be read.
	cred    *ike.Credential
	credErr error
	// peerCert is the subject of the peer's verified certificate.
	peerCert string

	// rekeyAt and expireAt are phase 1's rekey and end (phase1Timers),
	// exported so that another node keeps them (export.go).
	rekeyAt, expireAt time.Time

	// wanted are the VPNs not kept up whose Quick Mode was asked for
	// (vpns.go: InitiateVPNFrom).
	wanted map[string]bool
}

func (sa *isakmpSA) key() saKey { return saKey{sa.ckyI, sa.remote.Addr()} }

func (sa *isakmpSA) info() ike.SAInfo {
	i := ike.SAInfo{Gateway: sa.peer.Gateway, Remote: sa.remote.Addr(), State: sa.state.String(), Initiator: sa.initiator,
		InitiatorSPI: sa.ckyI, ResponderSPI: sa.ckyR, Established: sa.established, Failure: sa.failure,
		Children: len(sa.children)}
	if sa.chosen.Encryption != nil {
		i.Encryption, i.PRF, i.Integrity = sa.chosen.Encryption.Display, sa.chosen.Hash.Display, sa.chosen.Hash.Display
		i.Group = sa.chosen.Group.Display
	}
	i.PeerCertificate = sa.peerCert // sigauth.go
	return i
}

// send sends a phase 1 message and arms its retransmission (the initiator
// of each step), or just sends (retransmit false: an answer).
func (sa *isakmpSA) send(b []byte, retransmit bool) {
	if retransmit {
		sa.lastSent, sa.sends = b, 0
		sa.resend()
		return
	}
	sa.transmit(b)
}

func (sa *isakmpSA) transmit(b []byte) {
	if err := sa.e.transport.Send(b, sa.local, sa.remote); err != nil {
		sa.e.log.Warn("IKEv1 send failed", "local", sa.local, "peer", sa.remote, "err", err)
	}
}

func (sa *isakmpSA) resend() {
	if sa.sends >= ike.MaxSends {
		sa.fail(ike.Failf(ike.CauseUnreachable, "peer unreachable: no answer to %d transmissions", sa.sends))
		return
	}
	sa.sends++
	sa.transmit(sa.lastSent)
	msg := sa.lastSent
	sa.timer = sa.e.clock.AfterFunc(ike.Backoff(sa.sends), func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state != stateDead && bytes.Equal(sa.lastSent, msg) {
			sa.resend()
		}
	})
}

// answered stops the retransmission of our last phase 1 message.
func (sa *isakmpSA) answered() {
	if sa.timer != nil {
		sa.timer.Stop()
	}
	sa.lastSent = nil
}

// duplicate answers a retransmitted message with the answer it had; it
// reports whether b was one.
func (sa *isakmpSA) duplicate(b []byte) bool {
	if sa.lastRecv == nil || !bytes.Equal(b, sa.lastRecv) {
		return false
	}
	if sa.lastReply != nil {
		sa.transmit(sa.lastReply)
	}
	return true
}

// remember keeps a received message and our answer to it.
func (sa *isakmpSA) remember(received, reply []byte) {
	sa.lastRecv, sa.lastReply = append([]byte(nil), received...), reply
}

// fail ends the SA with a reason.
func (sa *isakmpSA) fail(f ike.Failure) {
	sa.failure = f
	sa.e.log.Warn("IKEv1 SA failed", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr(), "reason", f.Message)
	// A peer gone silent: the next negotiation tries its backup address.
	if sa.peer.FailoverAfter(f, sa.initiator) {
		sa.e.log.Warn("IKEv1 peer unreachable: trying the gateway's next address", "gateway", sa.peer.Gateway,
			"from", sa.remote.Addr(), "to", sa.peer.Current())
	}
	sa.close()
}

// after runs f once d has passed, unless the SA closes first. The caller
// holds e.mu, as f must take it.
func (sa *isakmpSA) after(d time.Duration, f func()) { sa.timers.AfterFunc(sa.e.clock, d, f) }

// close ends the SA: timers stopped, IPsec SAs removed, keys wiped.
func (sa *isakmpSA) close() {
	if sa.state == stateDead {
		return
	}
	if sa.timer != nil {
		sa.timer.Stop()
	}
	sa.timers.Stop()
	for _, qm := range sa.qms {
		qm.stop()
		clear(qm.gqm)
		sa.unstage(qm)
	}
	sa.qms = nil
	for _, c := range sa.children {
		sa.e.installer.RemoveChild(sa.peer.vpnOf(c).VPN, c)
		sa.e.lifetimes.Forget(c) // quickmode.go
		sa.childDown(c, sa.failure)
	}
	sa.children = nil
	switch {
	case sa.state == stateEstablished:
		sa.e.emit(ike.IKEDown, sa.peer, sa.remote.Addr(), sa.spis(), sa.failure)
	case sa.failure.Failed():
		sa.e.emit(ike.NegotiationFailed, sa.peer, sa.remote.Addr(), sa.spis(), sa.failure)
	}
	if sa.keys != nil {
		sa.keys.Zero()
	}
	sa.state = stateDead
	if sa.e.sas[sa.key()] == sa {
		delete(sa.e.sas, sa.key())
	}
	ended := sa.info()
	ended.Ended = sa.e.clock.Now()
	sa.e.failures.Add(ended)
	sa.e.reinitiateLater(sa)
}

// deleteAndClose tells the peer (DELETE of the IPsec SAs and of the
// ISAKMP SA, when established) and closes.
func (sa *isakmpSA) deleteAndClose() {
	if sa.state == stateEstablished {
		if len(sa.children) > 0 {
			var spis []uint32
			for _, c := range sa.children {
				spis = append(spis, c.InboundSPI)
			}
			sa.sendInformational(v1.DeleteIPsec(v1.ProtocolESP, spis...))
		}
		sa.sendInformational(v1.DeleteISAKMP(sa.ckyI, sa.ckyR))
	}
	sa.close()
}

// reinitiateLater negotiates a kept-up tunnel again after its SA ended,
// unless another SA to the peer is up or the engine is stopping.
func (e *Engine) reinitiateLater(sa *isakmpSA) {
	if e.closed || !sa.peer.keepUp() || sa.closing { // vpns.go
		return
	}
	p := sa.peer
	e.clock.AfterFunc(ike.ReinitiateDelay, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed || e.peers[p.Remote] != p || len(e.sasOf(p)) > 0 {
			return
		}
		e.log.Info("negotiating the IKEv1 tunnel again", "gateway", p.Gateway)
		if err := e.initiate(p); err != nil {
			e.log.Warn("IKEv1 re-initiation", "gateway", p.Gateway, "err", err)
		}
	})
}

func (sa *isakmpSA) spis() string { return fmt.Sprintf("%016x:%016x", sa.ckyI, sa.ckyR) }

func (sa *isakmpSA) hasChild(c *ike.ChildSA) bool {
	for _, x := range sa.children {
		if x == c {
			return true
		}
	}
	return false
}

// removeChild uninstalls c; tell sends the peer a DELETE for it.
func (sa *isakmpSA) removeChild(c *ike.ChildSA, tell bool) {
	for i, x := range sa.children {
		if x != c {
			continue
		}
		sa.children = append(sa.children[:i], sa.children[i+1:]...)
		sa.e.installer.RemoveChild(sa.peer.vpnOf(c).VPN, c)
		sa.e.lifetimes.Forget(c) // quickmode.go
		sa.childDown(c, ike.Failure{})
		if tell && sa.state == stateEstablished {
			sa.sendInformational(v1.DeleteIPsec(v1.ProtocolESP, c.InboundSPI))
		}
		return
	}
}

// header is a message header of this SA.
func (sa *isakmpSA) header(x v1.ExchangeType, msgID uint32, encrypted bool) v1.Header {
	h := v1.Header{InitiatorCookie: sa.ckyI, ResponderCookie: sa.ckyR, Exchange: x, MessageID: msgID}
	if encrypted {
		h.Flags = v1.FlagEncryption
	}
	return h
}

// plain marshals an unencrypted message.
func (sa *isakmpSA) plain(h v1.Header, ps []v1.Payload) ([]byte, *v1.Chain, error) {
	c, err := v1.BuildChain(ps)
	if err != nil {
		return nil, nil, err
	}
	m := &v1.Message{Header: h, Chain: *c}
	m.Header.NextPayload = ps[0].PayloadType()
	b, err := m.Marshal()
	return b, c, err
}

// sealChain encrypts a built chain under iv and returns the message and
// the next IV.
func (sa *isakmpSA) sealChain(h v1.Header, c *v1.Chain, iv []byte) ([]byte, []byte, error) {
	ct, next := sa.cipher.seal(c.Bytes(), iv)
	b, err := v1.MarshalEncrypted(h, c.Payloads[0].PayloadType(), ct)
	return b, next, err
}

// openMessage decrypts msg under iv; it returns the payload chain and the
// next IV.
func (sa *isakmpSA) openMessage(msg *v1.Message, iv []byte) (*v1.Chain, []byte, error) {
	if !msg.Header.Encrypted() {
		return nil, nil, fmt.Errorf("message is not encrypted")
	}
	plain, next, err := sa.cipher.open(msg.Encrypted, iv)
	if err != nil {
		return nil, nil, err
	}
	c, err := v1.ParseDecrypted(msg.Header.NextPayload, plain)
	if err != nil {
		return nil, nil, fmt.Errorf("does not decrypt to payloads (wrong key?): %w", err)
	}
	return c, next, nil
}

// prf is prf(key, parts…) with the negotiated hash.
func (sa *isakmpSA) prf(key []byte, parts ...[]byte) []byte {
	out, err := keymat.PRF(sa.chosen.Hash, key, parts...)
	if err != nil {
		return nil
	}
	return out
}

func spiHex(spi uint32) string { return fmt.Sprintf("0x%08x", spi) }

func msgIDBytes(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }
