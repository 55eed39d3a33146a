package show

import (
	"encoding/xml"
	"net/netip"
	"strings"
)

// The `show services ipsec-vpn ...` family: the AS/MS PIC (kmd) layouts of
// seed 001. The IKE view is the same IKESA; the IPsec view names the service
// set, rule and term instead of a VPN.

// ServicesIKEQuery is the arguments of `show services ipsec-vpn ike
// security-associations`.
type ServicesIKEQuery struct {
	Style Style      // brief (the default) or detail
	Peer  netip.Addr // `<peer-address>`: only SAs with that remote address
}

func matured(up bool) string {
	if up {
		return "Matured"
	}
	return "Not matured"
}

// ServicesIKESecurityAssociations is `show services ipsec-vpn ike
// security-associations [detail] [peer]`.
func ServicesIKESecurityAssociations(sas []IKESA, q ServicesIKEQuery) Reply {
	var selected []*IKESA
	for i := range sas {
		if !q.Peer.IsValid() || sas[i].Remote.Addr() == q.Peer {
			selected = append(selected, &sas[i])
		}
	}
	if q.Style == StyleDetail {
		return ikeDetailReply(selected, writeServicesIKEDetail, true)
	}
	var t text
	m := &IKESecurityAssociationsInformation{Style: "brief"}
	if len(selected) > 0 {
		t.line("Remote Address  State      Initiator cookie  Responder cookie  Exchange type")
	}
	for _, sa := range selected {
		t.line("%-15s %-10s %-16s  %-16s  %s", sa.Remote.Addr(), matured(sa.Up),
			cookie(sa.InitiatorSPI), cookie(sa.ResponderSPI), sa.ExchangeType)
		m.SAs = append(m.SAs, IKESABrief{
			RemoteAddress: sa.Remote.Addr().String(), State: strings.ToLower(matured(sa.Up)),
			InitiatorCookie: cookie(sa.InitiatorSPI), ResponderCookie: cookie(sa.ResponderSPI),
			ExchangeType: sa.ExchangeType,
		})
	}
	return Reply{t.String(), m}
}

// writeServicesIKEDetail prints the kmd detail block. Seed 001 does not
// show it; this is the iked block without the lines kmd lacks (interface,
// routing instance, reauthentication, fragmentation, remote access, PPK,
// tunnel IDs, the CREATE_CHILD_SA counters).
func writeServicesIKEDetail(t *text, sa *IKESA) {
	t.line("IKE peer %s", sa.Remote.Addr())
	t.line("  Role: %s, State: %s", role(sa.Initiator), matured(sa.Up))
	t.line("  Initiator cookie: %s, Responder cookie: %s", cookie(sa.InitiatorSPI), cookie(sa.ResponderSPI))
	t.line("  Exchange type: %s, Authentication method: %s", sa.ExchangeType, sa.AuthMethod)
	t.line("  Local: %s, Remote: %s", sa.Local, sa.Remote)
	t.line("  Lifetime: %s", expires(sa.Lifetime))
	writeIKEAlgorithms(t, sa)
	writeIKETraffic(t, sa, false)
	t.line("  IPSec security associations: %d created, %d deleted", sa.ChildSAsCreated, sa.ChildSAsDeleted)
	t.line("  Phase 2 negotiations in progress: %d", sa.NegotiationsInProgress)
	writeNegotiations(t, sa)
	writeFailure(t, sa.LastFailure)
}

// ServiceTunnel is one tunnel of a service set: a term of an ipsec-vpn rule
// with its SAs.
type ServiceTunnel struct {
	ServiceSet                    string // [services service-set NAME]
	Rule, Term                    string // [services ipsec-vpn rule NAME term NAME]
	Index                         uint32 // tunnel index within the service set
	LocalGateway, RemoteGateway   netip.Addr
	LocalIdentity, RemoteIdentity Selector  // the negotiated proxy IDs
	SAs                           []IPsecSA // inbound first, then outbound
}

// ServicesIPsecSecurityAssociations is `show services ipsec-vpn ipsec
// security-associations detail`. Consecutive tunnels of one service set
// share its "Service set:" line.
func ServicesIPsecSecurityAssociations(tunnels []ServiceTunnel) Reply {
	var t text
	m := &ServicesSecurityAssociationsInformation{Style: "detail"}
	for i := range tunnels {
		tn := &tunnels[i]
		if i > 0 {
			t.line("")
		}
		if i == 0 || tunnels[i-1].ServiceSet != tn.ServiceSet {
			t.line("Service set: %s", tn.ServiceSet)
		}
		t.line("  Rule: %s, Term: %s, Tunnel index: %d", tn.Rule, tn.Term, tn.Index)
		t.line("  Local gateway: %s, Remote gateway: %s", tn.LocalGateway, tn.RemoteGateway)
		t.line("  Local identity: %s", tn.LocalIdentity.Identity())
		t.line("  Remote identity: %s", tn.RemoteIdentity.Identity())
		b := ServicesSABlock{
			ServiceSet: tn.ServiceSet,
			Tunnel: ServicesTunnelInformation{
				Rule: tn.Rule, Term: tn.Term, TunnelIndex: tn.Index,
				LocalGateway: tn.LocalGateway.String(), RemoteGateway: tn.RemoteGateway.String(),
				LocalIdentity: tn.LocalIdentity.Identity(), RemoteIdentity: tn.RemoteIdentity.Identity(),
			},
		}
		for j := range tn.SAs {
			sa := &tn.SAs[j]
			t.line("")
			t.line("    Direction: %s, SPI: %d, AUX-SPI: %d", direction(sa.Inbound), sa.SPI, sa.AuxSPI)
			t.line("    Mode: %s, Type: %s, State: %s", kmdMode(sa), saType(sa), kmdState(sa))
			t.line("    Protocol: %s, Authentication: %s, Encryption: %s",
				protocol(sa), orDefault(sa.Authentication, "None"), sa.Encryption)
			t.line("    Soft lifetime: %s", lifetimeDetail(sa, sa.SoftLifetime))
			t.line("    Hard lifetime: %s", lifetimeDetail(sa, sa.HardLifetime))
			if sa.ReplayWindow == 0 {
				t.line("    Anti-replay service: Disabled")
			} else {
				t.line("    Anti-replay service: Enabled, Replay window size: %d", sa.ReplayWindow)
			}
			b.SAs = append(b.SAs, ServicesSAEntry{
				Direction: direction(sa.Inbound), SPI: sa.SPI, AuxSPI: sa.AuxSPI,
				Mode: kmdMode(sa), Type: saType(sa), State: strings.ToLower(kmdState(sa)),
				Protocol: protocol(sa), AuthAlgorithm: orDefault(sa.Authentication, "None"),
				EncryptionAlgorithm: sa.Encryption,
				SoftLifetime:        lifetimeDetail(sa, sa.SoftLifetime), HardLifetime: lifetimeDetail(sa, sa.HardLifetime),
				AntiReplayService: strings.ToLower(onOff(sa.ReplayWindow != 0)), ReplayWindowSize: sa.ReplayWindow,
			})
		}
		m.Blocks = append(m.Blocks, b)
	}
	return Reply{t.String(), m}
}

func kmdMode(sa *IPsecSA) string {
	if sa.Transport {
		return "transport"
	}
	return "tunnel"
}

func kmdState(sa *IPsecSA) string {
	if sa.Installed {
		return "Installed"
	}
	return "Not installed"
}

// ServiceSetStatistics is the counters of one service set on one PIC.
type ServiceSetStatistics struct {
	PIC        string // the services interface, "sp-1/2/0"
	ServiceSet string
	Statistics
}

// ServicesIPsecStatistics is `show services ipsec-vpn ipsec statistics`:
// per service set, a "PIC: ..., Service set: ..." line and the counter
// block of `show security ipsec statistics`.
func ServicesIPsecStatistics(sets []ServiceSetStatistics) Reply {
	var t text
	m := &ServicesIPsecStatisticsInformation{}
	for i := range sets {
		s := &sets[i]
		if i > 0 {
			t.line("")
		}
		t.line("PIC: %s, Service set: %s", s.PIC, s.ServiceSet)
		writeStatistics(&t, &s.Statistics)
		m.Blocks = append(m.Blocks, ServicesIPsecStatisticsBlock{
			PIC: s.PIC, ServiceSet: s.ServiceSet, IPsecStatisticsBody: statisticsModel(&s.Statistics),
		})
	}
	return Reply{t.String(), m}
}

// ServicesSecurityAssociationsInformation is the reply of `show services
// ipsec-vpn ipsec security-associations` (root name guessed; the blocks
// are Junos's).
type ServicesSecurityAssociationsInformation struct {
	XMLName xml.Name          `xml:"services-security-associations-information"`
	Style   string            `xml:"style,attr"`
	Blocks  []ServicesSABlock `xml:"services-security-associations-block"`
}

// ServicesSABlock is one tunnel of a service set.
type ServicesSABlock struct {
	ServiceSet string                    `xml:"svc-set-name"`
	Tunnel     ServicesTunnelInformation `xml:"sa-tunnel-information"`
	SAs        []ServicesSAEntry         `xml:"security-associations"`
}

// ServicesTunnelInformation is the rule/term/gateway/identity lines.
type ServicesTunnelInformation struct {
	Rule           string `xml:"sa-rule-name"`
	Term           string `xml:"sa-term-name"`
	TunnelIndex    uint32 `xml:"sa-tunnel-index"`
	LocalGateway   string `xml:"sa-local-gateway"`
	RemoteGateway  string `xml:"sa-remote-gateway"`
	LocalIdentity  string `xml:"sa-local-identity"`
	RemoteIdentity string `xml:"sa-remote-identity"`
}

// ServicesSAEntry is one SA; the SPI is decimal, as the text prints it.
type ServicesSAEntry struct {
	Direction           string `xml:"sa-direction"`
	SPI                 uint32 `xml:"sa-spi"`
	AuxSPI              uint32 `xml:"sa-aux-spi"`
	Mode                string `xml:"sa-mode"`
	Type                string `xml:"sa-type"`
	State               string `xml:"sa-state"`
	Protocol            string `xml:"sa-protocol"`
	AuthAlgorithm       string `xml:"sa-authentication-algorithm"`
	EncryptionAlgorithm string `xml:"sa-encryption-algorithm"`
	SoftLifetime        string `xml:"sa-soft-lifetime"`
	HardLifetime        string `xml:"sa-hard-lifetime"`
	AntiReplayService   string `xml:"sa-anti-replay-service"`
	ReplayWindowSize    int    `xml:"sa-replay-window-size,omitempty"`
}

// ServicesIPsecStatisticsInformation is the reply of `show services
// ipsec-vpn ipsec statistics`. Root, block, pic-name and svc-set-name
// placement guessed; the counter groups are those of the security form.
type ServicesIPsecStatisticsInformation struct {
	XMLName xml.Name                       `xml:"services-ipsec-statistics-information"`
	Blocks  []ServicesIPsecStatisticsBlock `xml:"services-ipsec-statistics-block"`
}

// ServicesIPsecStatisticsBlock is one service set's counters.
type ServicesIPsecStatisticsBlock struct {
	PIC        string `xml:"pic-name"`
	ServiceSet string `xml:"svc-set-name"`
	IPsecStatisticsBody
}
