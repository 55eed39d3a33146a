package show

import (
	"encoding/xml"
	"fmt"
	"strconv"
)

// IPsecSecurityAssociationsInformation is the reply of `show security ipsec
// security-associations` (RPC get-security-associations-information).
// The totals are the daemon's, whatever the style and the index.
type IPsecSecurityAssociationsInformation struct {
	XMLName            xml.Name       `xml:"ipsec-security-associations-information"`
	Style              string         `xml:"style,attr"`
	TotalActiveTunnels int            `xml:"total-active-tunnels"`
	TotalIPsecSAs      int            `xml:"total-ipsec-sas"`
	Blocks             []IPsecSABlock `xml:"ipsec-security-associations-block"`
}

// IPsecSABlock is one tunnel. The brief style carries the state and the SAs
// only.
type IPsecSABlock struct {
	State          string                  `xml:"sa-block-state"` // up, down
	TunnelIndex    uint32                  `xml:"sa-tunnel-index,omitempty"`
	VirtualSystem  string                  `xml:"sa-virtual-system,omitempty"`
	VPNName        string                  `xml:"sa-vpn-name,omitempty"`
	LocalGateway   string                  `xml:"sa-local-gateway,omitempty"`
	RemoteGateway  string                  `xml:"sa-remote-gateway,omitempty"`
	LocalIdentity  string                  `xml:"sa-local-identity,omitempty"`
	RemoteIdentity string                  `xml:"sa-remote-identity,omitempty"`
	TSType         string                  `xml:"sa-ts-type,omitempty"`
	IKEVersion     string                  `xml:"sa-ike-version,omitempty"`
	QuantumSecured string                  `xml:"sa-is-quantum-secured,omitempty"`
	PFSGroup       string                  `xml:"sa-pfs-group,omitempty"`
	PassiveMode    string                  `xml:"sa-passive-mode-tunneling,omitempty"`
	DFBitPolicy    *IPsecDFBitPolicy       `xml:"sa-df-bit-policy-name"`
	DevInfo        *IPsecDevInfo           `xml:"sa-dev-info"`
	MultiSA        *IPsecMultiSA           `xml:"sa-multi-sa"` // name guessed
	Events         *IPsecTunnelEvents      `xml:"sa-ipsec-tunnel-events,interleave"`
	Location       *IPsecLocation          `xml:"sa-location"`            // name guessed
	Monitor        *IPsecMonitorStatistics `xml:"vpn-monitor-statistics"` // ipsecgw's
	SAs            []IPsecSAEntry          `xml:"ipsec-security-associations"`
}

// IPsecDFBitPolicy is the DF-bit line.
type IPsecDFBitPolicy struct {
	DFBit         string `xml:"sa-df-bit"`
	CopyOuterDSCP string `xml:"sa-copy-outer-dscp"`
	PolicyName    string `xml:"sa-policy-name"`
	BindInterface string `xml:"sa-bind-interface"`
}

// IPsecDevInfo is the "Port: ..., Nego#: ..." line.
type IPsecDevInfo struct {
	Port         uint16 `xml:"sa-port"`
	Negotiations int    `xml:"sa-nego-num"`
	Failures     int    `xml:"sa-nego-fail"`
	Deletions    int    `xml:"sa-del-num"`
	Flag         string `xml:"sa-flag"`
}

// IPsecMultiSA is the "Multi-sa" line. Names guessed.
type IPsecMultiSA struct {
	ConfiguredSAs int `xml:"sa-multi-sa-configured-sas"`
	NegotiatedSAs int `xml:"sa-multi-sa-negotiated-sas"`
}

// IPsecTunnelEvents is the event list; Junos interleaves the three
// elements of each event, and so does `| display xml` (the "interleave"
// flag). Entry i of each slice is one event.
type IPsecTunnelEvents struct {
	Times    []string `xml:"sa-tunnel-event-time"`
	Events   []string `xml:"sa-tunnel-event"`
	NumTimes []int    `xml:"sa-tunnel-event-num-times"`
}

// IPsecLocation is the Location, Anchorship and Distribution-Profile lines.
// Names guessed.
type IPsecLocation struct {
	FPC                 int    `xml:"sa-fpc"`
	PIC                 int    `xml:"sa-pic"`
	AnchorThread        int    `xml:"sa-anchor-thread"`
	DistributionProfile string `xml:"sa-distribution-profile"`
}

// IPsecSAEntry is one SA. Brief: direction "<" or ">", the hard lifetime in
// seconds, "unlim"; detail: "inbound"/"outbound", "Expires in N seconds",
// and the detail fields.
type IPsecSAEntry struct {
	Direction          string `xml:"sa-direction"`
	TunnelIndex        uint32 `xml:"sa-tunnel-index"`
	SPI                string `xml:"sa-spi"` // hex, no 0x
	AuxSPI             uint32 `xml:"sa-aux-spi"`
	RemoteGateway      string `xml:"sa-remote-gateway"`
	Port               uint16 `xml:"sa-port"`
	VPNMonitoringState string `xml:"sa-vpn-monitoring-state"`
	Protocol           string `xml:"sa-protocol"`
	ESPEncryption      string `xml:"sa-esp-encryption-algorithm"` // "aes-gcm-256"
	HMACAlgorithm      string `xml:"sa-hmac-algorithm"`
	HardLifetime       string `xml:"sa-hard-lifetime"`
	LifesizeRemaining  string `xml:"sa-lifesize-remaining"`
	SoftLifetime       string `xml:"sa-soft-lifetime,omitempty"`
	// ipsecgw's: what is left until the rekey starts, and until the
	// configured soft limit when the rate moved the rekey before it.
	SoftLifesize           string `xml:"sa-soft-lifesize-remaining,omitempty"`
	SoftLifesizeConfigured string `xml:"sa-configured-soft-lifesize-remaining,omitempty"`
	VirtualSystem          string `xml:"sa-virtual-system"`
	Mode                   string `xml:"sa-mode,omitempty"`
	Type                   string `xml:"sa-type,omitempty"`
	State                  string `xml:"sa-state,omitempty"`
	AuthAlgorithm          string `xml:"sa-authentication-algorithm,omitempty"`
	EncryptionAlgorithm    string `xml:"sa-encryption-algorithm,omitempty"` // "aes-gcm (256 bits)"
	AntiReplayService      string `xml:"sa-anti-replay-service,omitempty"`
	ReplayWindowSize       int    `xml:"sa-replay-window-size,omitempty"`
	ExtendedSequence       string `xml:"sa-extended-sequence-number,omitempty"` // name guessed
	TunnelEstablishment    string `xml:"sa-tunnel-establishment,omitempty"`     // name guessed
	IKESAIndex             uint32 `xml:"sa-ike-sa-index,omitempty"`             // name guessed
	// The key exchanges of the SA's keys (ipsecke.go): sa-pfs-group is
	// Junos's tag for the tunnel's group, sa-additional-key-exchange
	// ipsecgw's.
	PFSGroup     string   `xml:"sa-pfs-group,omitempty"`
	AdditionalKE []string `xml:"sa-additional-key-exchange,omitempty"`
}

func ipsecSAModel(tn *IPsecTunnel, sa *IPsecSA, detail bool) IPsecSAEntry {
	e := IPsecSAEntry{
		Direction: arrow(sa.Inbound), TunnelIndex: tn.ID, SPI: strconv.FormatUint(uint64(sa.SPI), 16),
		AuxSPI: sa.AuxSPI, RemoteGateway: tn.RemoteGateway.String(), Port: tn.Port,
		VPNMonitoringState: monitor(tn), Protocol: protocol(sa),
		ESPEncryption: briefEncryption(sa), HMACAlgorithm: orDefault(sa.Authentication, "None"),
		HardLifetime: lifetimeBrief(sa, sa.HardLifetime), LifesizeRemaining: lifesizeBrief(sa),
		VirtualSystem: vsys(tn),
	}
	if !detail {
		return e
	}
	e.Direction = direction(sa.Inbound)
	e.HardLifetime, e.LifesizeRemaining, e.SoftLifetime = lifetimeDetail(sa, sa.HardLifetime), lifesizeDetail(sa), lifetimeDetail(sa, sa.SoftLifetime)
	e.SoftLifesize, e.SoftLifesizeConfigured = softLifesize(sa), softConfigured(sa)
	e.Mode, e.Type, e.State = ikedMode(sa), saType(sa), ikedState(sa)
	e.AuthAlgorithm, e.EncryptionAlgorithm = orDefault(sa.Authentication, "None"), detailEncryption(sa)
	e.AntiReplayService, e.ReplayWindowSize = ikedAntiReplay(sa), sa.ReplayWindow
	e.ExtendedSequence, e.TunnelEstablishment, e.IKESAIndex = onOff(sa.ESN), sa.Establish, sa.IKESAIndex
	saKeyExchangesModel(&e, sa) // ipsecke.go
	return e
}

func ipsecDetailModel(tn *IPsecTunnel) IPsecSABlock {
	b := IPsecSABlock{
		State: blockState(tn), TunnelIndex: tn.ID, VirtualSystem: vsys(tn), VPNName: tn.VPNName,
		LocalGateway: tn.LocalGateway.String(), RemoteGateway: tn.RemoteGateway.String(),
		LocalIdentity: tn.LocalIdentity.Range(), RemoteIdentity: tn.RemoteIdentity.Range(),
		TSType: tn.TSType, IKEVersion: tn.Version, QuantumSecured: yesNo(tn.QuantumSecured),
		PFSGroup: pfsGroup(tn.PFSGroup), PassiveMode: onOff(tn.PassiveMode),
		DFBitPolicy: &IPsecDFBitPolicy{
			DFBit: tn.DFBit, CopyOuterDSCP: onOff(tn.CopyOuterDSCP),
			PolicyName: tn.PolicyName, BindInterface: tn.BindInterface,
		},
		DevInfo: &IPsecDevInfo{
			Port: tn.Port, Negotiations: tn.Negotiations, Failures: tn.Failures,
			Deletions: tn.Deletions, Flag: tunnelFlags(tn.Flags),
		},
		MultiSA:  &IPsecMultiSA{ConfiguredSAs: tn.ConfiguredSAs, NegotiatedSAs: tn.NegotiatedSAs},
		Location: &IPsecLocation{FPC: tn.FPC, PIC: tn.PIC, AnchorThread: tn.Thread, DistributionProfile: tn.DistributionProfile},
		Monitor:  monitorModel(tn),
	}
	if len(tn.Events) > 0 {
		b.Events = &IPsecTunnelEvents{}
		for _, e := range tn.Events {
			text := e.Text
			if e.Marker != "" {
				text += fmt.Sprintf(" <- [%s]", e.Marker)
			}
			b.Events.Times = append(b.Events.Times, eventTime(e.Time))
			b.Events.Events = append(b.Events.Events, text)
			b.Events.NumTimes = append(b.Events.NumTimes, e.Count)
		}
	}
	for i := range tn.SAs {
		b.SAs = append(b.SAs, ipsecSAModel(tn, &tn.SAs[i], true))
	}
	return b
}
