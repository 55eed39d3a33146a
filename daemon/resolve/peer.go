package resolve

import (
	"fmt"
	"net/netip"
	"strings"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
	"ipsecgw/pki"
	"ipsecgw/transform"
)

// Peer resolves the IKE peer of a route-based VPN (or a services term run
// as one) for its gateway's IKE version. local is the outer source
// address.
func Peer(v *schema.VPN, local netip.Addr) (*ike.Peer, error) {
	if v.IKE != nil && v.IKE.Gateway != nil && v.IKE.Gateway.Version == 1 {
		return ikev1Peer(v, local)
	}
	return ikev2Peer(v, local)
}

// ikev2Peer is an IKEv2 gateway's peer.
func ikev2Peer(v *schema.VPN, local netip.Addr) (*ike.Peer, error) {
	if v.IKE == nil || v.IKE.Gateway == nil || v.IKE.Policy == nil {
		return nil, fmt.Errorf("ikev2: VPN %s has no ike gateway and ipsec-policy", v.Name)
	}
	g := v.IKE.Gateway
	if len(g.Addresses) == 0 {
		return nil, fmt.Errorf("ikev2: gateway %s has no address (dynamic peers are not supported yet)", g.Name)
	}
	remote, err := netip.ParseAddr(g.Addresses[0])
	if err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s: address %s is not an IP address (host names are not resolved yet)", g.Name, g.Addresses[0])
	}
	backups, err := backupAddresses(g.Addresses[1:])
	if err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s: %w", g.Name, err)
	}
	psk, err := g.Policy.PreSharedKey.Bytes()
	if (err != nil || len(psk) == 0) && !SignatureAuth(g.Policy) {
		return nil, fmt.Errorf("ikev2: gateway %s: policy %s has no usable pre-shared key", g.Name, g.Policy.Name)
	}
	ikeProps, err := IKEv2Proposals(g.Policy.Proposals)
	if err != nil {
		return nil, err
	}
	espProps, err := IKEv2ESPProposals(v.IKE.Policy.Proposals)
	if err != nil {
		return nil, err
	}
	pfs, err := PFSGroup(v.IKE.Policy.PFSGroup)
	if err != nil {
		return nil, err
	}
	sels, err := Selectors(v)
	if err != nil {
		return nil, err
	}
	p := &ike.Peer{Gateway: g.Name, VPN: v.Name, Local: local, Remote: remote, Backups: backups, PSK: psk,
		IKEProposals: ikeProps, ESPProposals: espProps, PFSGroup: pfs, Selectors: sels,
		NATTraversal: g.NATTraversal, ForceNAT: g.PacketEncapsulation,
		NoFragmentation: !g.Fragmentation, FragmentSize: g.FragmentSize}
	establish(p, v)
	if p.LocalID, err = identity(g.LocalIdentity, 2); err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s local-identity: %w", g.Name, err)
	}
	if p.RemoteID, err = identity(g.RemoteIdentity, 2); err != nil {
		return nil, fmt.Errorf("ikev2: gateway %s remote-identity: %w", g.Name, err)
	}
	if p.PPK, err = ppk(g); err != nil { // quantum.go
		return nil, err
	}
	p.PFSAddKE = v.IKE.Policy.AdditionalKE // quantum.go
	return p, nil
}

// ikev1Peer is an IKEv1 (version v1-only) gateway's peer.
func ikev1Peer(v *schema.VPN, local netip.Addr) (*ike.Peer, error) {
	g := v.IKE.Gateway
	if v.IKE.Policy == nil {
		return nil, fmt.Errorf("ikev1: VPN %s has no ike gateway and ipsec-policy", v.Name)
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
	p := &ike.Peer{Gateway: g.Name, VPN: v.Name, Local: local, Remote: remote, Backups: backups,
		NATTraversal: g.NATTraversal, ForceNAT: g.PacketEncapsulation}
	if err := ikev1Policies(p, g.Policy, v.IKE.Policy); err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s: %w", g.Name, err)
	}
	establish(p, v)
	if p.LocalID, err = identity(g.LocalIdentity, 1); err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s local-identity: %w", g.Name, err)
	}
	if p.RemoteID, err = identity(g.RemoteIdentity, 1); err != nil {
		return nil, fmt.Errorf("ikev1: gateway %s remote-identity: %w", g.Name, err)
	}
	// Quick Mode's identities: the first traffic selector, else the
	// proxy-identity, else (nil) the whole space of the peer's family.
	if len(v.TrafficSelectors) > 0 {
		ts := v.TrafficSelectors[0]
		p.Selectors = []ike.Selectors{{Local: []netip.Prefix{ts.Local}, Remote: []netip.Prefix{ts.Remote}}}
	} else if pid := v.IKE.ProxyIdentity; pid.Local.IsValid() && pid.Remote.IsValid() {
		p.Selectors = []ike.Selectors{{Local: []netip.Prefix{pid.Local}, Remote: []netip.Prefix{pid.Remote}}}
	}
	return p, nil
}

// establish takes what both versions read of dead-peer-detection,
// establish-tunnels and the lifetimes.
func establish(p *ike.Peer, v *schema.VPN) {
	g := v.IKE.Gateway
	if g.DPD != nil {
		p.DPDInterval, p.DPDThreshold = g.DPD.Interval, g.DPD.Threshold
		if g.DPD.ModeSet {
			p.DPDMode = dpdModes[g.DPD.Mode]
		}
	}
	// establish-tunnels immediately keeps the tunnel up; on-traffic waits
	// for the data plane to ask (InitiateIfIdle).
	p.Reinitiate = v.EstablishTunnels == "immediately"
	p.NoRekey = v.EstablishTunnels == "responder-only-no-rekey"
	p.ResponderOnly = p.NoRekey || v.EstablishTunnels == "responder-only"
	if len(g.Policy.Proposals) > 0 {
		p.IKELifetime = g.Policy.Proposals[0].Lifetime
	}
	if props := v.IKE.Policy.Proposals; len(props) > 0 {
		p.ChildLifetime = props[0].Lifetime
		p.ChildLifeKilobytes = props[0].LifetimeKilobytes
	}
}

// dpdModes are the dead-peer-detection modes by keyword (not configured:
// ike.DPDDefault).
var dpdModes = map[string]ike.DPDMode{"optimized": ike.DPDOptimized,
	"probe-idle-tunnel": ike.DPDProbeIdle, "always-send": ike.DPDAlwaysSend}

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

// identity turns a Junos identity into an ID payload body (zero: default).
func identity(id schema.Identity, version int) (ike.Identity, error) {
	switch id.Type {
	case "":
		return ike.Identity{}, nil
	case "inet", "inet6":
		a, err := netip.ParseAddr(id.Value)
		if err != nil {
			return ike.Identity{}, err
		}
		a = a.Unmap()
		if a.Is4() {
			return ike.Identity{Type: ike.IDIPv4, Data: a.AsSlice()}, nil
		}
		return ike.Identity{Type: ike.IDIPv6, Data: a.AsSlice()}, nil
	case "hostname":
		return ike.Identity{Type: ike.IDFQDN, Data: []byte(id.Value)}, nil
	case "user-at-hostname":
		return ike.Identity{Type: ike.IDEmail, Data: []byte(id.Value)}, nil
	case "key-id":
		return ike.Identity{Type: ike.IDKeyID, Data: []byte(id.Value)}, nil
	case "distinguished-name":
		if id.Value == "" {
			// The local certificate's subject, or a container or
			// wildcard match: the peer's Authenticator has them
			// (the configuration refuses them without a certificate).
			return ike.Identity{}, nil
		}
		if version == 1 {
			break
		}
		der, err := pki.SubjectDER(id.Value)
		if err != nil {
			return ike.Identity{}, err
		}
		return ike.Identity{Type: ike.IDDN, Data: der}, nil
	}
	if version == 1 {
		return ike.Identity{}, fmt.Errorf("identity type %s is not supported for IKEv1", id.Type)
	}
	return ike.Identity{}, fmt.Errorf("identity type %s is not supported yet", id.Type)
}

// PFSGroup is the IPsec policy's perfect-forward-secrecy group (nil for
// none).
func PFSGroup(keyword string) (*transform.Transform, error) {
	if keyword == "" {
		return nil, nil
	}
	g, ok := transform.LookupKeyword(transform.IPsec, transform.TypeKE, keyword)
	if !ok {
		return nil, fmt.Errorf("ikev2: perfect-forward-secrecy keys %q is not one ipsecgw knows, want one of %s",
			keyword, strings.Join(transform.Keywords(transform.IPsec, transform.TypeKE), ", "))
	}
	return g, nil
}

// SignatureAuth reports whether an IKE policy authenticates with
// certificates: its first proposal's authentication-method signs (IKEv2
// does not negotiate the method; IKEv1 proposals of one policy share it).
func SignatureAuth(p *schema.IKEPolicy) bool {
	return p != nil && len(p.Proposals) > 0 && p.Proposals[0].AuthenticationMethod != "" &&
		p.Proposals[0].AuthenticationMethod != "pre-shared-keys"
}
