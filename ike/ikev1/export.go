package ikev1

import (
	"fmt"
	"net/netip"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/transform"
)

// Export and import of established ISAKMP SAs and their IPsec SAs, for a
// cluster (package cluster, daemon/hasyncv1.go): the owner of a services
// redundancy group exports them, sealed into etcd, and the node taking
// the group over imports them and carries on with the same cookies, keys
// and SPIs; the peer negotiates nothing. The scheme is in cluster/doc.go.
//
// What a survivor needs, and why this is less than IKEv2's:
//   - To answer the peer's R-U-THERE, DELETE or Quick Mode, and to send
//     its own: the cookies, SKEYID_a (the HASH payloads), SKEYID_e's cipher
//     and the last phase 1 IV. Every Informational exchange and every new
//     Quick Mode starts from hash(last phase 1 IV | Message ID) (RFC 2409
//     App. B), so no per-exchange IV is kept; SKEYID_d derives the new
//     IPsec SAs' keys.
//   - Message IDs are random, one per exchange, and nothing in IKEv1
//     orders them: there is no ID to carry over and no request to resend.
//     A Quick Mode under way at the export (ours or the peer's) is not
//     exported: ours is started again (the SA it was to replace is past its
//     rekey deadline, or is rekeyed at once: see Import), the peer's
//     times out there and the peer negotiates again (cluster/doc.go).
//   - DPD: the peer's sequence numbers are answered whatever they are; ours
//     continue above DPDSeq, which whoever stores the State sets ahead of
//     the counter (as the ESP high-water marks), so no probe costs a write.
//   - The deadlines of phase 1 (rekey, end) and of each IPsec SA (rekey,
//     hard lifetime): Import arms its timers for the time left.

// stateVersion is the layout of State; a record of another layout is not
// resumed (the tunnel negotiates again).
const stateVersion = 1

// State is one established ISAKMP SA and its IPsec SAs, all a node needs to
// continue them. It holds keys: it is sealed before it is stored and is
// never logged (String prints the cookies only).
type State struct {
	Version    int
	Gateway    string
	VPN        string
	PeerAddr   netip.Addr // the gateway's configured address: the engine's peer
	Initiator  bool       // we began phase 1
	CkyI, CkyR uint64
	Local      netip.AddrPort
	Remote     netip.AddrPort
	Aggressive bool
	// NATT: a NAT is between us (UDP 4500, UDP-encapsulated ESP); PeerNATT
	// and PeerDPD: the peer sent those vendor IDs.
	NATT, PeerNATT, PeerDPD bool

	// The phase 1 proposal chosen.
	Encryption, Hash, Group transform.Ref
	Lifetime                time.Duration
	Auth                    uint16

	// SKEYID_d, SKEYID_a, SKEYID_e, and the last phase 1 IV.
	SKEYIDd, SKEYIDa, SKEYIDe []byte
	IV                        []byte

	// DPDSeq is the sequence number of our last R-U-THERE; Import
	// continues above it. Export sets the engine's; a store sets it ahead.
	DPDSeq uint32

	Established       time.Time
	RekeyAt, ExpireAt time.Time // phase 1's deadlines (zero: none)
	PeerCert          string    // the peer's certificate's subject, if any

	Children []ChildState
}

// ChildState is one IPsec SA pair of a State.
type ChildState struct {
	InSPI, OutSPI         uint32
	Encryption, Integrity transform.Ref
	InEncr, InInteg       []byte
	OutEncr, OutInteg     []byte
	Local, Remote         netip.Addr
	UDP                   bool
	LocalPort, RemotePort uint16
	LocalTS, RemoteTS     []netip.Prefix
	SoftBytes, HardBytes  uint64
	RekeyAt, ExpireAt     time.Time // zero: no lifetime in seconds
	// OutSeq and InTop are the data plane's: the sequence number the
	// outbound SA continues above and the edge the inbound window starts
	// at. Export leaves them zero; whoever stores the State fills them.
	OutSeq, InTop uint64
	// VPN is the pair's VPN on a gateway of several (vpns.go); empty in
	// records of earlier builds: the State's VPN.
	VPN string `json:",omitempty"`
	// PFSGroup is the pair's ike.ChildSA.PFSGroup (0: no PFS).
	PFSGroup int `json:",omitempty"`
}

// String names the SA without its keys.
func (s State) String() string { return fmt.Sprintf("IKEv1 SA %016x:%016x", s.CkyI, s.CkyR) }

// GoString keeps %#v from printing the keys.
func (s State) GoString() string { return s.String() }

// Name is the SA's key in a store: its two cookies.
func (s State) Name() string { return fmt.Sprintf("%016x-%016x", s.CkyI, s.CkyR) }

// Export returns the state of every established ISAKMP SA whose local
// address match accepts.
func (e *Engine) Export(match func(local netip.Addr) bool) []State {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []State
	for _, sa := range e.sas {
		if sa.state != stateEstablished || sa.closing || sa.keys == nil || sa.cipher == nil || !match(sa.local.Addr()) {
			continue
		}
		out = append(out, sa.export())
	}
	return out
}

func (sa *isakmpSA) export() State {
	k := sa.keys
	st := State{Version: stateVersion, Gateway: sa.peer.Gateway, VPN: sa.peer.VPN, PeerAddr: sa.peer.Remote,
		Initiator: sa.initiator, CkyI: sa.ckyI, CkyR: sa.ckyR, Local: sa.local, Remote: sa.remote, Aggressive: sa.aggressive,
		NATT: sa.natT, PeerNATT: sa.peerNATT, PeerDPD: sa.peerDPD,
		Encryption: transform.RefOf(sa.chosen.Encryption), Hash: transform.RefOf(sa.chosen.Hash), Group: transform.RefOf(sa.chosen.Group),
		Lifetime: sa.chosen.Lifetime, Auth: sa.chosen.Auth,
		SKEYIDd: clone(k.D), SKEYIDa: clone(k.A), SKEYIDe: clone(k.E), IV: clone(sa.iv), DPDSeq: sa.dpdSeq,
		Established: sa.established, RekeyAt: sa.rekeyAt, ExpireAt: sa.expireAt, PeerCert: sa.peerCert}
	for _, c := range sa.children {
		d := sa.e.lifetimes[c]
		st.Children = append(st.Children, ChildState{InSPI: c.InboundSPI, OutSPI: c.OutboundSPI,
			Encryption: transform.RefOf(c.Encryption), Integrity: transform.RefOf(c.Integrity),
			InEncr: clone(c.Inbound.Encryption), InInteg: clone(c.Inbound.Integrity),
			OutEncr: clone(c.Outbound.Encryption), OutInteg: clone(c.Outbound.Integrity),
			Local: c.Local, Remote: c.Remote, UDP: c.UDPEncapsulation, LocalPort: c.LocalPort, RemotePort: c.RemotePort,
			LocalTS: c.LocalTS, RemoteTS: c.RemoteTS, SoftBytes: c.SoftBytes, HardBytes: c.HardBytes,
			RekeyAt: d.RekeyAt, ExpireAt: d.ExpireAt, VPN: sa.peer.vpnOf(c).VPN, PFSGroup: c.PFSGroup})
	}
	return st
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// ResumeInstaller is an Installer that can install an IPsec SA pair
// another node ran: its outbound SA continues above outSeq, its inbound
// replay window starts at inTop. Import needs one.
type ResumeInstaller interface {
	ResumeChild(vpn string, c *ike.ChildSA, outSeq, inTop uint64) error
}

// Import resumes an exported ISAKMP SA and its IPsec SAs: they are
// installed and their timers (DPD, rekeys, lifetimes) run for the time
// their deadlines leave. IKEv1 IPsec SAs have no extended sequence
// numbers, so each is rekeyed at once (its outbound sequence numbers
// jumped), unless the peer is left to rekey (responder-only-no-rekey).
// The peer must be configured (AddPeer).
func (e *Engine) Import(st State) error {
	if st.Version != stateVersion {
		return fmt.Errorf("ikev1: SA state of layout %d, this build reads %d", st.Version, stateVersion)
	}
	ri, ok := e.installer.(ResumeInstaller)
	if !ok {
		return fmt.Errorf("ikev1: the installer cannot resume IPsec SAs")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("ikev1: engine closed")
	}
	p := e.peers[st.PeerAddr]
	if p == nil || p.Gateway != st.Gateway {
		return fmt.Errorf("ikev1: %v: gateway %s at %s is not configured here", st, st.Gateway, st.PeerAddr)
	}
	if st.CkyI == 0 || st.CkyR == 0 || !st.Local.IsValid() || !st.Remote.IsValid() {
		return fmt.Errorf("ikev1: %v: cookies or addresses missing", st)
	}
	sa := &isakmpSA{e: e, peer: p, initiator: st.Initiator, ckyI: st.CkyI, ckyR: st.CkyR, local: st.Local, remote: st.Remote,
		state: stateEstablished, aggressive: st.Aggressive, natT: st.NATT, peerNATT: st.PeerNATT, peerDPD: st.PeerDPD,
		started: st.Established, established: st.Established, lastHeard: e.clock.Now(), dpdSeq: st.DPDSeq, peerCert: st.PeerCert,
		qms: map[uint32]*quickMode{}, infoIVs: map[uint32][]byte{}}
	if e.sas[sa.key()] != nil {
		return fmt.Errorf("ikev1: %v is already here", st)
	}
	if err := sa.resumeKeys(st); err != nil {
		return fmt.Errorf("ikev1: %v: %w", st, err)
	}
	e.sas[sa.key()] = sa
	e.emit(ike.IKEUp, p, sa.remote.Addr(), sa.spis(), ike.Failure{})
	now := e.clock.Now()
	for _, cs := range st.Children {
		c, err := childOf(cs)
		if err == nil {
			c.VPN = p.vpnOf(&ike.ChildSA{VPN: cs.VPN}).VPN // vpns.go
			err = ri.ResumeChild(c.VPN, c, cs.OutSeq, cs.InTop)
		}
		if err != nil {
			sa.failure = ike.Failf(ike.CauseLocal, "resuming IPsec SA %s: %v", spiHex(cs.InSPI), err)
			sa.closing = true // the caller negotiates again, now
			sa.close()
			return fmt.Errorf("ikev1: %v: IPsec SA %s: %w", st, spiHex(cs.InSPI), err)
		}
		sa.children = append(sa.children, c)
		e.emit(ike.ChildUp, p.vpnOf(c), sa.remote.Addr(), spiHex(c.InboundSPI), ike.Failure{})
		if !cs.ExpireAt.IsZero() {
			sa.armChildTimers(c, e.lifetimes.Schedule(c, now, cs.RekeyAt.Sub(now), cs.ExpireAt.Sub(now)))
		}
	}
	sa.armDPD()
	if !st.ExpireAt.IsZero() {
		sa.armPhase1Timers(st.RekeyAt.Sub(now), st.ExpireAt.Sub(now))
	}
	if !p.NoRekey {
		for _, c := range append([]*ike.ChildSA(nil), sa.children...) {
			sa.startQuickMode(c)
		}
	}
	e.log.Info("IKEv1 SA resumed", "gateway", p.Gateway, "peer", sa.remote.Addr(), "ike-sa", sa.spis(),
		"ipsec-sas", len(sa.children), "dpd-sequence", sa.dpdSeq)
	return nil
}

// resumeKeys rebuilds the phase 1 proposal, keys and cipher from a State,
// and checks the IV against the cipher's block.
func (sa *isakmpSA) resumeKeys(st State) error {
	var err error
	ch := &sa.chosen
	if ch.Encryption, err = st.Encryption.Transform(); err == nil {
		if ch.Hash, err = st.Hash.Transform(); err == nil {
			ch.Group, err = st.Group.Transform()
		}
	}
	if err != nil {
		return err
	}
	if ch.Encryption == nil || ch.Hash == nil || ch.Group == nil || ch.Group.Type != transform.TypeKE {
		return fmt.Errorf("no cipher, hash or group")
	}
	ch.Lifetime, ch.Auth = st.Lifetime, st.Auth
	if sa.keys, err = keymat.ResumePhase1Keys(ch.Hash, st.SKEYIDd, st.SKEYIDa, st.SKEYIDe); err != nil {
		return err
	}
	key, err := sa.keys.EncryptionKey(ch.Encryption)
	if err == nil {
		sa.cipher, err = newCBC(ch.Encryption, key, ch.Hash)
		key.Zero()
	}
	if err == nil && len(st.IV) != sa.cipher.block.BlockSize() {
		err = fmt.Errorf("phase 1 IV of %d bytes for a %d-byte block", len(st.IV), sa.cipher.block.BlockSize())
	}
	if err != nil {
		sa.keys.Zero()
		sa.keys, sa.cipher = nil, nil
		return err
	}
	sa.iv = clone(st.IV)
	return nil
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
	if enc == nil || enc.Type != transform.TypeENCR || integ != nil && integ.Type != transform.TypeINTEG || cs.InSPI == 0 || cs.OutSPI == 0 {
		return nil, fmt.Errorf("no cipher or SPI")
	}
	return &ike.ChildSA{InboundSPI: cs.InSPI, OutboundSPI: cs.OutSPI, Encryption: enc, Integrity: integ,
		Inbound:  keymat.DirectionKeys{Encryption: clone(cs.InEncr), Integrity: clone(cs.InInteg)},
		Outbound: keymat.DirectionKeys{Encryption: clone(cs.OutEncr), Integrity: clone(cs.OutInteg)},
		Local:    cs.Local, Remote: cs.Remote, UDPEncapsulation: cs.UDP, LocalPort: cs.LocalPort, RemotePort: cs.RemotePort,
		LocalTS: cs.LocalTS, RemoteTS: cs.RemoteTS, SoftBytes: cs.SoftBytes, HardBytes: cs.HardBytes, PFSGroup: cs.PFSGroup}, nil
}

// Forget ends the ISAKMP SAs whose local address match accepts without a
// word to their peers and without negotiating again: their services
// redundancy group moved to another node, which carries them on.
func (e *Engine) Forget(match func(local netip.Addr) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, sa := range e.sas {
		if sa.state == stateDead || !match(sa.local.Addr()) {
			continue
		}
		sa.failure = ike.Failf(ike.CauseLocal, "its services redundancy group moved to another node")
		sa.closing = true
		sa.close()
		n++
	}
	return n
}
