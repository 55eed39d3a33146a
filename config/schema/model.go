// Package schema is the typed model of a configuration: built from a
// config.Tree, with every default applied and every cross-reference
// resolved and checked. The daemon works from this model only; a commit
// whose tree does not build here is refused and changes nothing.
package schema

import (
	"net/netip"
	"time"

	"ipsecgw/config/secret"
)

// Config is a whole, valid configuration.
type Config struct {
	HostName   string
	System     System       // users and management services (system.go)
	Interfaces []*Interface // in configuration order
	RouterID   netip.Addr
	Routes     []*StaticRoute
	PKI        PKI
	IKE        IKE
	IPsec      IPsec
	Flow       Flow
	// ServiceSets and Services are the services form (seed 001's AS PIC
	// style, and the next-hop service set of seed 004).
	ServiceSets []*ServiceSet
	Services    ServicesIPsecVPN
	// HA is "chassis high-availability", nil when not configured.
	HA *HighAvailability
	// Notices are statements accepted but not applied, and names that need
	// attention (an unmapped Junos interface name), for the operator.
	Notices []Notice
	// Routing is the routing protocols and their policies (routing.go),
	// nil when none is configured.
	Routing *Routing
	// KeyProfiles are [security key-manager profiles] (quantum.go).
	KeyProfiles []*KeyProfile
}

// Notice is something the operator should know that is not an error.
type Notice struct {
	Path string
	Msg  string
}

// InterfaceKind says what a configured interface is on Linux.
type InterfaceKind int

const (
	// Physical interfaces exist on the host (possibly under another name).
	Physical InterfaceKind = iota
	// Tunnel interfaces (st0) are TUN devices ipsecgw creates, one per unit.
	Tunnel
	// Service interfaces (si-, sp-, ms-) steer traffic into IPsec; on Linux
	// they have no device: the inside unit acts as the tunnel interface.
	Service
	// Loopback is lo0, which is Linux "lo".
	Loopback
)

// Interface is one configured interface.
type Interface struct {
	Name        string // as configured (et-0/2/10, st0, eth1)
	HostName    string // the Linux interface; "" for st0 and service interfaces
	Kind        InterfaceKind
	Description string
	MTU         int
	Units       []*Unit
}

// Unit returns unit n, or nil.
func (i *Interface) Unit(n uint32) *Unit {
	for _, u := range i.Units {
		if u.Number == n {
			return u
		}
	}
	return nil
}

// Unit is a logical interface (name.unit).
type Unit struct {
	Interface     *Interface
	Number        uint32
	Description   string
	Inet, Inet6   bool
	Addresses     []netip.Prefix // interface addresses (host bits kept)
	ServiceDomain string         // "inside", "outside" or ""
}

// Name returns "ifd.unit".
func (u *Unit) Name() string { return u.Interface.Name + "." + itoa(uint64(u.Number)) }

// StaticRoute is routing-options static route.
type StaticRoute struct {
	Prefix     netip.Prefix
	Gateways   []netip.Addr // next-hop addresses
	Interfaces []*Unit      // next-hop interfaces (st0.1)
	Discard    bool
	Preference uint32
}

// IKE is [security ike].
type IKE struct {
	Proposals []*IKEProposal
	Policies  []*IKEPolicy
	Gateways  []*IKEGateway
	// PacketEncapsulationPort is the global UDP destination port for
	// encapsulated ESP (0 when not configured).
	PacketEncapsulationPort uint16
	RespondBadSPI           int
	Trace                   Trace
}

// IKEProposal is one IKE proposal with defaults filled in.
type IKEProposal struct {
	Name                    string
	Description             string
	AuthenticationMethod    string // pre-shared-keys, rsa-signatures, ...
	DHGroup                 string // group2, group14, ...
	AuthenticationAlgorithm string // sha1, sha-256, ...
	EncryptionAlgorithm     string // 3des-cbc, aes-256-gcm, ...
	Lifetime                time.Duration
	// Predefined marks proposals that come from a proposal-set.
	Predefined bool
	// AdditionalKE: additional-key-exchange ke1..ke7 (quantum.go).
	AdditionalKE AdditionalKE
}

// IKEPolicy is one IKE policy.
type IKEPolicy struct {
	Name            string
	Description     string
	Mode            string // main or aggressive (IKEv1)
	Version         int    // services form only: 1 or 2 (0 when unset)
	ReauthFrequency int
	Proposals       []*IKEProposal
	ProposalSet     string
	PreSharedKey    Key
	LocalID         Identity // services form only
	RemoteID        Identity // services form only
	// Certificate is "certificate { ... }"; nil when not configured.
	Certificate *PolicyCertificate
}

// Key is a configured key: its $9$ value and whether it was given in
// hexadecimal. Bytes decodes it; nothing else ever shows the plaintext.
type Key struct {
	Value secret.Value
	Hex   bool
}

// IsSet reports whether a key was configured.
func (k Key) IsSet() bool { return !k.Value.IsZero() }

// Identity is an IKE identity (local-identity, remote-identity).
type Identity struct {
	Type  string // inet, inet6, hostname, user-at-hostname, distinguished-name, key-id; "" = default
	Value string
	// Container and Wildcard are the Junos matching forms of a
	// distinguished-name remote identity (Value is then ""); a
	// distinguished-name with neither and no Value is the local
	// certificate's subject.
	Container string
	Wildcard  string
}

// DPD is dead-peer-detection.
type DPD struct {
	Mode      string // optimized, probe-idle-tunnel, always-send
	ModeSet   bool   // the mode was configured (else Mode is the default)
	Interval  time.Duration
	Threshold int
}

// IKEGateway is one IKE gateway (peer).
type IKEGateway struct {
	Name      string
	Policy    *IKEPolicy
	Addresses []string // first is primary; addresses or host names
	// Dynamic is the peer's identity when it has no fixed address.
	Dynamic           Identity
	DPD               *DPD // nil when dead-peer-detection is not configured
	NATTraversal      bool
	NATKeepalive      time.Duration
	LocalIdentity     Identity
	RemoteIdentity    Identity
	ExternalInterface *Unit
	LocalAddress      netip.Addr
	Version           int // 1 or 2
	Fragmentation     bool
	FragmentSize      int // 0: 576 for IPv4, 1280 for IPv6
	// PacketEncapsulation: ESP in UDP to a configured port (seed 004).
	PacketEncapsulation bool
	UseGlobalDestPort   bool
	// PPK is ppk-profile (quantum.go), nil when not configured.
	PPK *PPK
}

// IPsec is [security ipsec].
type IPsec struct {
	Proposals []*IPsecProposal
	Policies  []*IPsecPolicy
	VPNs      []*VPN
	Trace     Trace
	// DataPlane is the raw ESP path asked for (data-plane): "xdp",
	// "packet-ring", "auto",
	// "socket", or "" (raw sockets).
	DataPlane string
}

// IPsecProposal is one IPsec proposal with defaults filled in.
type IPsecProposal struct {
	Name                    string
	Description             string
	Protocol                string // esp or ah
	AuthenticationAlgorithm string // "" with AEAD ciphers
	EncryptionAlgorithm     string
	Lifetime                time.Duration
	LifetimeKilobytes       uint64 // 0 = unlimited
	ExtendedSequenceNumbers bool
	Predefined              bool
}

// IPsecPolicy is one IPsec policy.
type IPsecPolicy struct {
	Name        string
	Description string
	PFSGroup    string // "" = no PFS
	Proposals   []*IPsecProposal
	ProposalSet string
	// AdditionalKE: perfect-forward-secrecy additional-key-exchange
	// ke1..ke7 (quantum.go), for Child SA rekeys.
	AdditionalKE AdditionalKE
}

// VPN is one [security ipsec vpn].
type VPN struct {
	Name             string
	BindInterface    *Unit  // st0.N
	DFBit            string // clear, set, copy
	CopyOuterDSCP    bool
	Manual           *ManualSA
	IKE              *VPNIKE
	TrafficSelectors []TrafficSelector
	EstablishTunnels string
	PassiveMode      bool
	TunnelMTU        int // 0 = not set
	// TCPMSS clamps SYNs through this VPN's SAs: a service set's tcp-mss
	// (an st0 VPN uses security flow tcp-mss, engine-wide); 0 = not set.
	TCPMSS         int
	UDPEncapsulate bool
	UDPDestPort    uint16
	Monitor        *VPNMonitor // nil: not monitored
}

// ManualSA is a statically keyed SA (vpn NAME manual).
type ManualSA struct {
	Gateway                 netip.Addr
	ExternalInterface       *Unit
	Protocol                string
	SPI                     uint32
	ExtendedSequenceNumbers bool // an ipsecgw extension: Junos manual SAs have none
	AuthenticationAlgorithm string
	AuthenticationKey       Key
	EncryptionAlgorithm     string
	EncryptionKey           Key
}

// VPNIKE is the IKE part of a VPN.
type VPNIKE struct {
	Gateway         *IKEGateway
	Policy          *IPsecPolicy
	AntiReplay      bool
	ReplayWindow    int
	ProxyIdentity   TrafficSelector
	IdleTime        time.Duration
	InstallInterval time.Duration
}

// TrafficSelector is a local/remote prefix pair.
type TrafficSelector struct {
	Name    string
	Local   netip.Prefix
	Remote  netip.Prefix
	Service string // "any" when not configured
}

// Trace is traceoptions.
type Trace struct {
	File  string
	Level string
	Flags []string
}

// ServiceSet is services service-set.
type ServiceSet struct {
	Name          string
	Inside        *Unit // next-hop-service inside-service-interface
	Outside       *Unit
	VPN           *VPN // ipsec-vpn (seed 004 form)
	Rules         []*Rule
	LocalGateway  netip.Addr
	ClearDF       bool
	SetDF         bool
	TunnelMTU     int
	AntiReplay    bool
	ReplayWindow  int
	UDPEncap      bool
	UDPDestPort   uint16
	NATTraversal  bool
	NATKeepalive  time.Duration
	PassiveMode   bool
	TCPMSS        int
	InterfaceUnit *Unit // interface-service service-interface
}

// ServicesIPsecVPN is [services ipsec-vpn].
type ServicesIPsecVPN struct {
	Rules            []*Rule
	IKEProposals     []*IKEProposal
	IKEPolicies      []*IKEPolicy
	IPsecProposals   []*IPsecProposal
	IPsecPolicies    []*IPsecPolicy
	EstablishTunnels string
}

// Rule is services ipsec-vpn rule.
type Rule struct {
	Name           string
	Terms          []*Term
	MatchDirection string // input or output
}

// Term is one term of a rule.
type Term struct {
	Name                 string
	SourceAddresses      []netip.Prefix
	DestinationAddresses []netip.Prefix
	InsideInterface      *Unit
	RemoteGateway        netip.Addr
	BackupRemoteGateway  netip.Addr
	IKEPolicy            *IKEPolicy   // dynamic
	IPsecPolicy          *IPsecPolicy // dynamic
	Manual               []*ServicesManualSA
	DFBit                string // clear, copy, set
	InitiateDPD          bool
	DPD                  *DPD
	AntiReplay           bool
	ReplayWindow         int
	TunnelMTU            int
	Syslog               bool
}

// ServicesManualSA is one direction of a services-form manual SA.
type ServicesManualSA struct {
	Direction               string
	Protocol                string
	SPI                     uint32
	AuxiliarySPI            uint32
	AuthenticationAlgorithm string
	AuthenticationKey       Key
	EncryptionAlgorithm     string
	EncryptionKey           Key
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
