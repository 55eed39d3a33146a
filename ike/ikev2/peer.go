package ikev2

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
)

// PeerFromConfig builds the Peer of a route-based VPN from the Junos model:
// its gateway's policy, proposals, key and identities, the VPN's IPsec
// policy and traffic selectors. local is the outer source address.
func PeerFromConfig(v *schema.VPN, local netip.Addr) (*Peer, error) {
	if v.IKE == nil || v.IKE.Gateway == nil || v.IKE.Policy == nil {
		return nil, fmt.Errorf("ikev2: VPN %s has no ike gateway and ipsec-policy", v.Name)
	}
	g := v.IKE.Gateway
	if g.Version != 2 {
		return nil, fmt.Errorf("ikev2: gateway %s is IKEv1 (set version v2-only for IKEv2)", g.Name)
	}
	if len(g.Addresses) == 0 {
		return nil, fmt.Errorf("ikev2: gateway %s has no address (dynamic peers are not supported yet)", g.Name)
	}
	remote, err := netip.ParseAddr(g.Addresses[0])
	if err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s: address %s is not an IP address (host names are not resolved yet)", g.Name, g.Addresses[0])
	}
	var backups []netip.Addr
	for _, a := range g.Addresses[1:] {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("ikev2: gateway %s: address %s is not an IP address", g.Name, a)
		}
		backups = append(backups, ip)
	}
	psk, err := g.Policy.PreSharedKey.Bytes()
	if err != nil || len(psk) == 0 {
		return nil, fmt.Errorf("ikev2: gateway %s: policy %s has no usable pre-shared key", g.Name, g.Policy.Name)
	}
	ikeOffer, err := IKEOffer(g.Policy.Proposals)
	if err != nil {
		return nil, err
	}
	// Checked here, with a stand-in SPI, so a bad proposal fails at
	// configuration time rather than in the middle of an exchange.
	if _, err := ESPOffer(v.IKE.Policy.Proposals, "", 1); err != nil {
		return nil, err
	}
	policy, err := VPNSelectors(v)
	if err != nil {
		return nil, err
	}
	p := &Peer{Gateway: g.Name, VPN: v.Name, Local: local, Remote: remote, Backups: backups, PSK: psk,
		IKEOffer: ikeOffer, ESPProposals: v.IKE.Policy.Proposals, PFSGroup: v.IKE.Policy.PFSGroup, Policy: policy,
		NATTraversal: g.NATTraversal, ForceNAT: g.PacketEncapsulation}
	if g.DPD != nil {
		p.DPDInterval, p.DPDThreshold, p.DPDMode = g.DPD.Interval, g.DPD.Threshold, g.DPD.Mode
	}
	// establish-tunnels immediately keeps the tunnel up; on-traffic waits
	// for the data plane to ask (InitiateIfIdle).
	p.Reinitiate = v.EstablishTunnels == "immediately"
	p.NoRekey = v.EstablishTunnels == "responder-only-no-rekey"
	if len(g.Policy.Proposals) > 0 {
		p.IKELifetime = g.Policy.Proposals[0].Lifetime
	}
	if len(v.IKE.Policy.Proposals) > 0 {
		p.ChildLifetime = v.IKE.Policy.Proposals[0].Lifetime
		p.ChildLifeBytes = v.IKE.Policy.Proposals[0].LifetimeKilobytes * 1024
	}
	if p.LocalID, err = identity(g.LocalIdentity); err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s local-identity: %w", g.Name, err)
	}
	if p.RemoteID, err = identity(g.RemoteIdentity); err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s remote-identity: %w", g.Name, err)
	}
	return p, nil
}

// identity turns a Junos identity into an ID payload body (zero: default).
func identity(id schema.Identity) (wire.Identification, error) {
	switch id.Type {
	case "":
		return wire.Identification{}, nil
	case "inet", "inet6":
		a, err := netip.ParseAddr(id.Value)
		if err != nil {
			return wire.Identification{}, err
		}
		return wire.IDFromAddr(a), nil
	case "hostname":
		return wire.Identification{Type: wire.ID_FQDN, Data: []byte(id.Value)}, nil
	case "user-at-hostname":
		return wire.Identification{Type: wire.ID_RFC822_ADDR, Data: []byte(id.Value)}, nil
	case "key-id":
		return wire.Identification{Type: wire.ID_KEY_ID, Data: []byte(id.Value)}, nil
	case "distinguished-name":
		der, err := encodeDN(id.Value)
		if err != nil {
			return wire.Identification{}, err
		}
		return wire.Identification{Type: wire.ID_DER_ASN1_DN, Data: der}, nil
	}
	return wire.Identification{}, fmt.Errorf("identity type %s is not supported yet", id.Type)
}
