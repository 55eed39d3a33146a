package ikev2

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// Export and import of established IKE SAs, for a cluster (package
// cluster, daemon/hasync.go): the owner of a services redundancy group
// exports the state of its IKE SAs and Child SAs, sealed into etcd, and a
// node that takes the group over imports it and carries on with the same
// SPIs, keys and message IDs; the peer negotiates nothing.
//
// Message IDs are the part that moves all the time (every DPD probe, every
// rekey). The engine does not write them anywhere itself:
//   - the peer's requests: a resumed SA accepts the first authenticated
//     request at or above the exported ID and carries on from it
//     (resumeCatchUp), so the owner never has to write the peer's IDs;
//   - our requests: the daemon's transport records every request, as sent,
//     before it goes out (daemon/hasync.go). When that request is at or
//     above the exported ID, Import sends it again, byte for byte: if it
//     never reached the peer it is a new request; if it did, the peer takes
//     it as a retransmission and resends its cached answer (RFC 7296 §2.1;
//     strongSwan recognises a retransmission by a hash of the whole
//     message, so a new message with the same ID would be ignored). The
//     answer opens with the same keys, and either way the next ID is one
//     more. Without such a request Import sends an empty INFORMATIONAL
//     with the exported ID.

// stateVersion is the layout of State; a record of another layout is not
// resumed (the tunnel negotiates again).
const stateVersion = 1

// State is one established IKE SA and its Child SAs, all a node needs to
// continue them. It holds keys: it is sealed before it is stored and is
// never logged (String prints the SPIs only).
type State struct {
	Version   int
	Gateway   string
	VPN       string
	PeerAddr  netip.Addr // the gateway's configured address: the engine's peer
	Initiator bool       // we initiated the IKE SA
	SPIi      uint64
	SPIr      uint64
	Local     netip.AddrPort
	Remote    netip.AddrPort
	NATT      bool

	Encryption, PRF, Integrity, Group transform.Ref
	// The seven keys of §2.14.
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte

	// NextID is our next request's message ID, ExpectID the peer's.
	NextID, ExpectID uint32
	Established      time.Time

	Children []ChildState

	// InDoubt is our last request as it was sent, whole or as its
	// fragments (RFC 7383), when the one who stores the State recorded it
	// (its message ID is in its header): Import resends it when it is at
	// or above NextID.
	InDoubt [][]byte

	// Fragmentation: both sides negotiated IKE fragmentation.
	Fragmentation bool

	// How each side authenticated, and the certificates' subjects (for
	// show commands; certauth.go).
	AuthMethod, PeerAuthMethod wire.AuthMethod
	LocalCert, PeerCert        string

	// PPKUsed and AddKE: the keys mix in a PPK (RFC 8784) and came from
	// these additional key exchanges (RFC 9370), for show commands (the
	// keys themselves carry both: SK_d is SK_d').
	PPKUsed bool
	AddKE   []string
}

// ChildState is one Child SA of a State.
type ChildState struct {
	InSPI, OutSPI         uint32
	Encryption, Integrity transform.Ref
	InEncr, InInteg       []byte
	OutEncr, OutInteg     []byte
	ESN                   bool
	Local, Remote         netip.Addr
	UDP                   bool
	LocalPort, RemotePort uint16
	LocalTS, RemoteTS     []netip.Prefix
	SoftBytes, HardBytes  uint64
	Born                  time.Time
	// OutSeq and InTop are the data plane's: the sequence number the
	// outbound SA continues above and the edge the inbound window starts
	// at. Export leaves them zero; whoever stores the State fills them.
	OutSeq, InTop uint64
	// VPN is the Child SA's VPN when the gateway has several (vpns.go);
	// empty in records of earlier builds: the State's VPN.
	VPN string `json:",omitempty"`
	// AddKE: the additional key exchanges its keys came from (RFC 9370),
	// for show commands.
	AddKE []string `json:",omitempty"`
	// PFSGroup: the key exchange method of its PFS (0: none), for show
	// commands.
	PFSGroup int `json:",omitempty"`
}

// String names the SA without its keys.
func (s State) String() string { return fmt.Sprintf("IKE SA %016x:%016x", s.SPIi, s.SPIr) }

// GoString keeps %#v from printing the keys.
func (s State) GoString() string { return s.String() }

// Name is the SA's key in a store: its two SPIs.
func (s State) Name() string { return fmt.Sprintf("%016x-%016x", s.SPIi, s.SPIr) }

// Export returns the state of every established IKE SA whose local
// address match accepts.
func (e *Engine) Export(match func(local netip.Addr) bool) []State {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []State
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || sa.state != stateEstablished || sa.closing || sa.keys == nil || !match(sa.local.Addr()) {
			continue
		}
		out = append(out, sa.export())
	}
	return out
}

func (sa *ikeSA) export() State {
	k := sa.keys
	st := State{Version: stateVersion, Gateway: sa.peer.Gateway, VPN: sa.peer.VPN, PeerAddr: sa.peer.Remote,
		Initiator: sa.initiator, SPIi: sa.spiI, SPIr: sa.spiR, Local: sa.local, Remote: sa.remote, NATT: sa.natT,
		Encryption: transform.RefOf(sa.suite.Encryption), PRF: transform.RefOf(sa.suite.PRF), Integrity: transform.RefOf(sa.suite.Integrity), Group: transform.RefOf(sa.group),
		SKd: clone(k.D), SKai: clone(k.AI), SKar: clone(k.AR), SKei: clone(k.EI), SKer: clone(k.ER), SKpi: clone(k.PI), SKpr: clone(k.PR),
		NextID: sa.nextID, ExpectID: sa.expectID, Established: sa.established, Fragmentation: sa.frag.on,
		AuthMethod: sa.authMethod, PeerAuthMethod: sa.peerAuthMethod, LocalCert: sa.localCert, PeerCert: sa.peerCert}
	st.PPKUsed, st.AddKE = sa.ppkUsed, sa.addKE // ppk.go, intermediate.go
	if sa.pending != nil && sa.pendingID >= st.NextID {
		// Our request in flight: the survivor starts with its ID.
		st.NextID = sa.pendingID
	}
	for _, c := range sa.children {
		st.Children = append(st.Children, ChildState{InSPI: c.InboundSPI, OutSPI: c.OutboundSPI,
			Encryption: transform.RefOf(c.Encryption), Integrity: transform.RefOf(c.Integrity),
			InEncr: clone(c.Inbound.Encryption), InInteg: clone(c.Inbound.Integrity),
			OutEncr: clone(c.Outbound.Encryption), OutInteg: clone(c.Outbound.Integrity),
			ESN: c.ESN, Local: c.Local, Remote: c.Remote, UDP: c.UDPEncapsulation, LocalPort: c.LocalPort, RemotePort: c.RemotePort,
			LocalTS: c.LocalTS, RemoteTS: c.RemoteTS, SoftBytes: c.SoftBytes, HardBytes: c.HardBytes, Born: c.Born, VPN: c.VPN,
			AddKE: c.AddKE, PFSGroup: c.PFSGroup})
	}
	return st
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// ResumeInstaller is an Installer that can install a Child SA another
// node ran: its outbound SA continues above outSeq, its inbound replay
// window starts at inTop. Import needs one.
type ResumeInstaller interface {
	ResumeChild(vpn string, c *ike.ChildSA, outSeq, inTop uint64) error
}

// Import resumes an exported IKE SA and its Child SAs: they are installed,
// their timers (DPD, lifetimes) run from now on, and a liveness check with
// the next message ID settles the one request that may be in doubt (see
// above). Child SAs without extended sequence numbers are rekeyed at once:
// their sequence numbers jumped. The peer must be configured (AddPeer).
func (e *Engine) Import(st State) error {
	if st.Version != stateVersion {
		return fmt.Errorf("ikev2: SA state of layout %d, this build reads %d", st.Version, stateVersion)
	}
	ri, ok := e.installer.(ResumeInstaller)
	if !ok {
		return fmt.Errorf("ikev2: the installer cannot resume Child SAs")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("ikev2: engine closed")
	}
	p := e.peerOfGateway(st.PeerAddr, st.Gateway) // peers.go
	if p == nil {
		return fmt.Errorf("ikev2: %v: gateway %s at %s is not configured here", st, st.Gateway, st.PeerAddr)
	}
	sa := &ikeSA{e: e, peer: p, initiator: st.Initiator, spiI: st.SPIi, spiR: st.SPIr, state: stateEstablished,
		local: st.Local, remote: st.Remote, natT: st.NATT, nextID: st.NextID, expectID: st.ExpectID,
		established: st.Established, resumed: true}
	sa.frag.on = st.Fragmentation
	sa.ppkUsed, sa.addKE = st.PPKUsed, st.AddKE // ppk.go, intermediate.go
	sa.authMethod, sa.peerAuthMethod, sa.localCert, sa.peerCert = st.AuthMethod, st.PeerAuthMethod, st.LocalCert, st.PeerCert
	if e.sas[sa.localSPI()] != nil {
		return fmt.Errorf("ikev2: %v is already here", st)
	}
	var err error
	if sa.suite.Encryption, err = st.Encryption.Transform(); err == nil {
		if sa.suite.PRF, err = st.PRF.Transform(); err == nil {
			if sa.suite.Integrity, err = st.Integrity.Transform(); err == nil {
				sa.group, err = st.Group.Transform()
			}
		}
	}
	if err != nil {
		return err
	}
	if sa.suite.Encryption == nil || sa.suite.PRF == nil {
		return fmt.Errorf("ikev2: %v has no cipher or PRF", st)
	}
	sa.keys = &keymat.IKESAKeys{D: clone(st.SKd), AI: clone(st.SKai), AR: clone(st.SKar), EI: clone(st.SKei), ER: clone(st.SKer),
		PI: clone(st.SKpi), PR: clone(st.SKpr)}
	if err := sa.resumeCiphers(); err != nil {
		sa.keys.Zero()
		return err
	}
	e.sas[sa.localSPI()] = sa
	e.track(sa)
	sa.emit(ike.IKEUp, sa.ikeSPIs(), ike.Failure{})
	for _, cs := range st.Children {
		c, err := childOf(cs)
		if err == nil {
			c.VPN = cmp.Or(cs.VPN, st.VPN)
			err = ri.ResumeChild(c.VPN, c, cs.OutSeq, cs.InTop)
		}
		if err != nil {
			sa.failure = ike.Failf(ike.CauseLocal, "resuming Child SA %s: %v", spiHex(cs.InSPI), err)
			sa.closing = true // the caller negotiates again, now
			sa.close()
			return fmt.Errorf("ikev2: %v: Child SA %s: %w", st, spiHex(cs.InSPI), err)
		}
		sa.children = append(sa.children, c)
		sa.childTimers(c)
		sa.emitFor(c.VPN, ike.ChildUp, spiHex(c.InboundSPI), ike.Failure{})
	}
	sa.startKeepalive()
	sa.ikeTimers()
	sa.resumeProbe(st.InDoubt)
	for _, c := range sa.children {
		if v := p.vpnOf(c); v != nil && !c.ESN && !v.NoRekey {
			sa.startRekey(c) // waits for the probe's answer (one exchange at a time)
		}
	}
	e.log.Info("IKE SA resumed", "gateway", p.Gateway, "peer", sa.remote.Addr(), "ike-sa", sa.ikeSPIs(),
		"children", len(sa.children), "next-message-id", sa.nextID, "expected-message-id", sa.expectID)
	return nil
}

// resumeCiphers keys the message ciphers from the imported keys.
func (sa *ikeSA) resumeCiphers() error {
	k := sa.keys
	ei, er, ai, ar := k.EI, k.ER, k.AI, k.AR
	if !sa.initiator {
		ei, er, ai, ar = er, ei, ar, ai
	}
	var err error
	if sa.out, err = newMessageCipher(sa.suite.Encryption, sa.suite.Integrity, ei, ai, sa.e.rand); err != nil {
		return err
	}
	sa.in, err = newMessageCipher(sa.suite.Encryption, sa.suite.Integrity, er, ar, sa.e.rand)
	return err
}

func childOf(cs ChildState) (*ike.ChildSA, error) {
	enc, err := cs.Encryption.Transform()
	if err != nil {
		return nil, err
	}
	integ, err := cs.Integrity.Transform()
	if err != nil {
		return nil, err
	}
	if enc == nil {
		return nil, fmt.Errorf("no cipher")
	}
	return &ike.ChildSA{InboundSPI: cs.InSPI, OutboundSPI: cs.OutSPI, Encryption: enc, Integrity: integ,
		Inbound:  keymat.DirectionKeys{Encryption: clone(cs.InEncr), Integrity: clone(cs.InInteg)},
		Outbound: keymat.DirectionKeys{Encryption: clone(cs.OutEncr), Integrity: clone(cs.OutInteg)},
		ESN:      cs.ESN, Local: cs.Local, Remote: cs.Remote, UDPEncapsulation: cs.UDP, LocalPort: cs.LocalPort, RemotePort: cs.RemotePort,
		LocalTS: cs.LocalTS, RemoteTS: cs.RemoteTS, SoftBytes: cs.SoftBytes, HardBytes: cs.HardBytes, Born: cs.Born,
		AddKE: cs.AddKE, PFSGroup: cs.PFSGroup}, nil
}

// resumeProbe settles our message ID after an import: the request in
// doubt again, or an empty INFORMATIONAL. Its answer is taken whatever
// exchange it is; no answer ends the SA as a dead peer does (and a kept-up
// tunnel negotiates again).
func (sa *ikeSA) resumeProbe(inDoubt [][]byte) {
	sa.probing = true
	if ok, id := sa.ownRequest(inDoubt); ok && id >= sa.nextID {
		sa.nextID = id
		if len(inDoubt) == 1 {
			sa.request(append([]byte(nil), inDoubt[0]...), id)
			return
		}
		// Its fragments as they were: a peer recognises a retransmission
		// by its first fragment (RFC 7383 §2.6.1).
		sa.pending, sa.pendingID, sa.sends = inDoubt[0], id, 0
		sa.frag.request = inDoubt
		sa.every, sa.maxSends = 0, ike.MaxSends
		sa.resend()
		return
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, nil)
	if err != nil {
		return
	}
	sa.request(b, sa.nextID)
}

// ownRequest reports whether msgs are one request of ours on this IKE SA
// (all of one message ID), and that ID.
func (sa *ikeSA) ownRequest(msgs [][]byte) (bool, uint32) {
	if len(msgs) == 0 {
		return false, 0
	}
	var id uint32
	for i, m := range msgs {
		h, err := wire.ParseHeader(m)
		if err != nil || h.IsResponse() || h.InitiatorSPI != sa.spiI || h.ResponderSPI != sa.spiR || i > 0 && h.MessageID != id {
			return false, 0
		}
		id = h.MessageID
	}
	return true, id
}

// resumeCatchUp is handleRequest's hook: the first authenticated request
// of the peer on a resumed SA sets the ID expected, when it is at or above
// the exported one (the old owner answered the ones between). It checks
// a copy, as opening decrypts in place.
func (sa *ikeSA) resumeCatchUp(msg *wire.Message) {
	id := msg.Header.MessageID
	if !sa.resumed || sa.in == nil || id < sa.expectID {
		return
	}
	if id > sa.expectID {
		cp, err := wire.Parse(append([]byte(nil), msg.Raw...))
		if err != nil {
			return
		}
		if _, err := sa.in.open(cp); err != nil {
			return
		}
		sa.e.log.Info("resumed IKE SA: the peer's message IDs caught up", "ike-sa", sa.ikeSPIs(), "from", sa.expectID, "to", id)
		sa.expectID = id
	}
	sa.resumed = false
}

// Forget ends the IKE SAs whose local address match accepts without a
// word to their peers and without negotiating again: their services
// redundancy group moved to another node, which carries them on.
func (e *Engine) Forget(match func(local netip.Addr) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || sa.state == stateDead || !match(sa.local.Addr()) {
			continue
		}
		sa.failure = ike.Failf(ike.CauseLocal, "its services redundancy group moved to another node")
		sa.closing = true
		sa.close()
		n++
	}
	return n
}
