package ikev1

import (
	"fmt"
	"net/netip"
	"time"

	"ipsecgw/config/schema"
	v1 "ipsecgw/ike/wire/v1"
	"ipsecgw/transform"
)

// Peer is one configured IKEv1 peer and the tunnel it carries, in the form
// the exchanges need (the daemon builds it from the Junos model).
type Peer struct {
	Gateway, VPN  string
	Local, Remote netip.Addr
	// Backups are the gateway's other addresses (services
	// backup-remote-gateway, or the addresses after the first): when the
	// peer at the current one is unreachable or dead, the next negotiation
	// goes to the next address, round the list.
	Backups []netip.Addr
	target  int // index into Remote + Backups of where we initiate
	PSK     []byte
	// LocalID and RemoteID: the zero value means "the address" for the
	// local identity and "any" for the remote one.
	LocalID, RemoteID v1.Identification
	// Aggressive is the IKE policy's mode aggressive (else Main Mode).
	Aggressive bool
	// Phase1 is the IKE policy's proposals in preference order.
	Phase1 []Phase1Proposal
	// ESPProposals and PFSGroup are the IPsec policy's; PFSGroup is "" for
	// no PFS.
	ESPProposals []*schema.IPsecProposal
	PFSGroup     string
	// LocalTS and RemoteTS are Quick Mode's identities (IDci, IDcr as the
	// initiator sends them): the traffic behind each side.
	LocalTS, RemoteTS netip.Prefix
	// NATTraversal sends and checks NAT-D (Junos: on unless
	// no-nat-traversal); ForceNAT claims a NAT so ESP goes in UDP anyway.
	NATTraversal, ForceNAT bool
	// DPDInterval, when set, probes a quiet peer with R-U-THERE;
	// DPDThreshold unanswered probes declare it dead.
	DPDInterval  time.Duration
	DPDThreshold int
	// Reinitiate keeps the tunnel up (establish-tunnels immediately).
	Reinitiate bool
	// Phase2Lifetime and Phase2LifeKilobytes are the IPsec proposal's
	// lifetime-seconds and lifetime-kilobytes (0: none).
	Phase2Lifetime      time.Duration
	Phase2LifeKilobytes uint64
}

// Phase1Proposal is one phase 1 transform: cipher, hash, group, lifetime,
// authentication by pre-shared key.
type Phase1Proposal struct {
	Encryption *transform.Transform // ENCR row with an IKEv1 value
	Hash       *transform.Transform // PRF row: the Hash Algorithm and the HMAC prf
	Group      *transform.Transform // KE row with an IKEv1 group number
	Lifetime   time.Duration
}

// PeerFromConfig builds the Peer of a route-based VPN whose gateway says
// version v1-only. local is the outer source address.
func PeerFromConfig(v *schema.VPN, local netip.Addr) (*Peer, error) {
	if v.IKE == nil || v.IKE.Gateway == nil || v.IKE.Policy == nil {
		return nil, fmt.Errorf("ikev1: VPN %s has no ike gateway and ipsec-policy", v.Name)
	}
	g := v.IKE.Gateway
	if g.Version == 2 {
		return nil, fmt.Errorf("ikev1: gateway %s is IKEv2", g.Name)
	}
	if len(g.Addresses) == 0 {
		return nil, fmt.Errorf("ikev1: gateway %s has no address", g.Name)
	}
	remote, err := netip.ParseAddr(g.Addresses[0])
	if err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s: address %s is not an IP address", g.Name, g.Addresses[0])
	}
	backups, err := backupAddresses(g.Addresses[1:])
	if err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s: %w", g.Name, err)
	}
	p := &Peer{Gateway: g.Name, VPN: v.Name, Local: local, Remote: remote, Backups: backups,
		NATTraversal: g.NATTraversal, ForceNAT: g.PacketEncapsulation,
		Reinitiate: v.EstablishTunnels == "immediately"}
	if err := p.setPolicies(g.Policy, v.IKE.Policy); err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s: %w", g.Name, err)
	}
	if g.DPD != nil {
		p.DPDInterval, p.DPDThreshold = g.DPD.Interval, g.DPD.Threshold
	}
	if p.LocalID, err = identity(g.LocalIdentity); err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s local-identity: %w", g.Name, err)
	}
	if p.RemoteID, err = identity(g.RemoteIdentity); err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s remote-identity: %w", g.Name, err)
	}
	p.LocalTS, p.RemoteTS = anyOf(remote), anyOf(remote)
	if len(v.TrafficSelectors) > 0 {
		p.LocalTS, p.RemoteTS = v.TrafficSelectors[0].Local, v.TrafficSelectors[0].Remote
	} else if pid := v.IKE.ProxyIdentity; pid.Local.IsValid() && pid.Remote.IsValid() {
		p.LocalTS, p.RemoteTS = pid.Local, pid.Remote
	}
	return p, nil
}

// setPolicies takes the phase 1 proposals and key of an IKE policy and the
// phase 2 proposals of an IPsec policy; the daemon's services form (seed
// 001) uses it too, through NewPeer.
func (p *Peer) setPolicies(ike *schema.IKEPolicy, ipsec *schema.IPsecPolicy) error {
	psk, err := ike.PreSharedKey.Bytes()
	if err != nil || len(psk) == 0 {
		return fmt.Errorf("policy %s has no usable pre-shared key", ike.Name)
	}
	p.PSK = psk
	p.Aggressive = ike.Mode == "aggressive"
	for _, prop := range ike.Proposals {
		pp, err := phase1Proposal(prop)
		if err != nil {
			return err
		}
		p.Phase1 = append(p.Phase1, pp)
	}
	if len(p.Phase1) == 0 {
		return fmt.Errorf("policy %s has no proposals", ike.Name)
	}
	if ipsec == nil || len(ipsec.Proposals) == 0 {
		return fmt.Errorf("no IPsec proposals")
	}
	p.ESPProposals, p.PFSGroup = ipsec.Proposals, ipsec.PFSGroup
	p.Phase2Lifetime, p.Phase2LifeKilobytes = ipsec.Proposals[0].Lifetime, ipsec.Proposals[0].LifetimeKilobytes
	// Checked now, with a stand-in SPI, so a bad proposal fails at
	// configuration time rather than in an exchange.
	if _, err := espOffer(p.ESPProposals, p.PFSGroup, 1, false, p.Phase2Lifetime, p.Phase2LifeKilobytes); err != nil {
		return err
	}
	return nil
}

// NewPeer builds a Peer from the parts of the model the services form
// (services ipsec-vpn rule term) names: the IKE and IPsec policies and the
// gateways.
func NewPeer(gateway, vpn string, local, remote netip.Addr, ike *schema.IKEPolicy, ipsec *schema.IPsecPolicy) (*Peer, error) {
	p := &Peer{Gateway: gateway, VPN: vpn, Local: local, Remote: remote, NATTraversal: true,
		LocalTS: anyOf(remote), RemoteTS: anyOf(remote)}
	if err := p.setPolicies(ike, ipsec); err != nil {
		return nil, fmt.Errorf("ikev1: %s: %w", gateway, err)
	}
	var err error
	if p.LocalID, err = identity(ike.LocalID); err != nil {
		return nil, err
	}
	if p.RemoteID, err = identity(ike.RemoteID); err != nil {
		return nil, err
	}
	return p, nil
}

func anyOf(a netip.Addr) netip.Prefix {
	if a.Is6() {
		return netip.MustParsePrefix("::/0")
	}
	return netip.MustParsePrefix("0.0.0.0/0")
}

// phase1Proposal looks up a Junos IKE proposal's algorithms.
func phase1Proposal(prop *schema.IKEProposal) (Phase1Proposal, error) {
	if m := prop.AuthenticationMethod; m != "" && m != "pre-shared-keys" {
		return Phase1Proposal{}, fmt.Errorf("proposal %s: authentication-method %s is not supported (pre-shared-keys is)", prop.Name, m)
	}
	enc, ok := transform.LookupKeyword(transform.IKE, transform.TypeENCR, prop.EncryptionAlgorithm)
	if !ok || enc.IKEv1 == 0 || !enc.IsCBC() {
		return Phase1Proposal{}, fmt.Errorf("proposal %s: encryption-algorithm %s has no IKEv1 phase 1 cipher", prop.Name, prop.EncryptionAlgorithm)
	}
	hash, ok := transform.LookupKeyword(transform.IKE, transform.TypePRF, prop.AuthenticationAlgorithm)
	if !ok || hash.IKEv1 == 0 {
		return Phase1Proposal{}, fmt.Errorf("proposal %s: authentication-algorithm %s has no IKEv1 hash", prop.Name, prop.AuthenticationAlgorithm)
	}
	group, ok := transform.LookupKeyword(transform.IKE, transform.TypeKE, prop.DHGroup)
	if !ok || group.IKEv1 == 0 {
		return Phase1Proposal{}, fmt.Errorf("proposal %s: dh-group %s has no IKEv1 group number", prop.Name, prop.DHGroup)
	}
	return Phase1Proposal{Encryption: enc, Hash: hash, Group: group, Lifetime: prop.Lifetime}, nil
}

// identity turns a Junos identity into an ID payload (zero: default).
func identity(id schema.Identity) (v1.Identification, error) {
	switch id.Type {
	case "":
		return v1.Identification{}, nil
	case "inet", "inet6":
		a, err := netip.ParseAddr(id.Value)
		if err != nil {
			return v1.Identification{}, err
		}
		return v1.IDFromAddr(a), nil
	case "hostname":
		return v1.Identification{Type: v1.ID_FQDN, Data: []byte(id.Value)}, nil
	case "user-at-hostname":
		return v1.Identification{Type: v1.ID_USER_FQDN, Data: []byte(id.Value)}, nil
	case "key-id":
		return v1.Identification{Type: v1.ID_KEY_ID, Data: []byte(id.Value)}, nil
	}
	return v1.Identification{}, fmt.Errorf("identity type %s is not supported for IKEv1", id.Type)
}

// backupAddresses parses a gateway's addresses after the first.
func backupAddresses(addrs []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("address %s is not an IP address", a)
		}
		out = append(out, ip)
	}
	return out, nil
}

// addresses are the peer's primary address and its backups.
func (p *Peer) addresses() []netip.Addr { return append([]netip.Addr{p.Remote}, p.Backups...) }

// current is the address we initiate to.
func (p *Peer) current() netip.Addr { return p.addresses()[p.target%(1+len(p.Backups))] }

// failover moves the next initiation to the next address; it reports
// whether there is another one.
func (p *Peer) failover() bool {
	if len(p.Backups) == 0 {
		return false
	}
	p.target = (p.target + 1) % (1 + len(p.Backups))
	return true
}
