package show

import (
	"net/netip"
	"time"
)

// Views filled with the values of the seeds' verification outputs (seed 004:
// MX inline IPsec, peer1 as responder; seed 001: AS PIC, routers R2 and
// R3), and a lab view that adds what the seeds do not show (a DOWN SA with
// its failure, NAT-T, an inactive tunnel) on documentation addresses.

var (
	ap   = netip.MustParseAddrPort
	addr = netip.MustParseAddr
	pfx  = netip.MustParsePrefix
)

func at(month time.Month, day, h, m, s int) time.Time {
	return time.Date(2024, month, day, h, m, s, 0, time.UTC)
}

// seed004IKE is `show security ike security-associations index 1 detail`.
func seed004IKE() IKESA {
	return IKESA{
		Index: 1, GatewayName: "ike_gw",
		Initiator: false, Up: true,
		InitiatorSPI: 0x422250f57a089b14, ResponderSPI: 0x02ae4230bbf3c3fc,
		ExchangeType: "IKEv2", AuthMethod: "Pre-shared-keys",
		LocalInterface: "et-0/2/10.0", RoutingInstance: "default",
		Local: ap("16.1.1.2:500"), Remote: ap("16.1.1.1:500"),
		Lifetime:      14789 * time.Second,
		Fragmentation: true, FragmentSize: 576,
		PeerIKEID: "16.1.1.1",
		Integrity: "hmac-sha1-96", Encryption: "3des-cbc", PRF: "hmac-sha1", DHGroup: 2,
		InBytes: 1778, OutBytes: 1706, InPackets: 10, OutPackets: 10,
		ChildSAsCreated: 10, ChildSAsDeleted: 4,
		NegotiationsInProgress: 1,
		TunnelIDs:              []uint32{500001},
		Negotiations: []Negotiation{{
			Type: "Quick mode", Initiator: false, MessageID: 0,
			Local: ap("16.1.1.2:500"), Remote: ap("16.1.1.1:500"),
			LocalIdentity: "16.1.1.2", RemoteIdentity: "16.1.1.1",
			Flags: "IKE SA is created",
		}},
		Rekey: &RekeyStatistics{RequestIn: 4, ResponseOut: 4},
	}
}

// seed004Tunnel is tunnel 500001 with its SA pair, hardLife seconds left.
func seed004Tunnel(hardLife time.Duration) IPsecTunnel {
	any4 := SelectorFromPrefix(pfx("0.0.0.0/0"))
	sa := IPsecSA{
		Inbound: true, SPI: 0x8d92e737,
		Encryption: "aes-gcm", KeyBits: 256, Authentication: "aes256-gcm",
		HardLifetime: hardLife, SoftLifetime: 2798 * time.Second,
		Installed: true, ReplayWindow: 64,
		Establish:  "establish-tunnels-responder-only-no-rekey",
		IKESAIndex: 1,
	}
	out := sa
	out.Inbound, out.SPI = false, 0x78634c46
	return IPsecTunnel{
		ID: 500001, VirtualSystem: "root", VPNName: "ipsec_vpn",
		LocalGateway: addr("16.1.1.2"), RemoteGateway: addr("16.1.1.1"),
		LocalIdentity: any4, RemoteIdentity: any4,
		TSType: "proxy-id", Version: "IKEv2",
		DFBit: "clear", CopyOuterDSCP: true, BindInterface: "st0.1", PolicyName: "ipsec_policy",
		Port: 500,
		Events: []TunnelEvent{
			{Time: at(time.October, 13, 11, 33, 44), Text: "IPSec SA is deleted because received DEL notification from peer", Count: 5, Marker: "repeated sequence END"},
			{Time: at(time.October, 13, 11, 33, 43), Text: "IPsec SA rekey succeeds", Count: 5, Marker: "repeated sequence START"},
			{Time: at(time.October, 13, 7, 27, 27), Text: "IPsec SA negotiation succeeds", Count: 1},
		},
		DistributionProfile: "si-0/0/0",
		Monitor:             "-",
		SAs:                 []IPsecSA{sa, out},
	}
}

// seed004IPsec is the view of seed 004's `show security ipsec
// security-associations` (its totals included, as the seed prints them).
func seed004IPsec(hardLife time.Duration) IPsecView {
	return IPsecView{ActiveTunnels: 2, IPsecSAs: 2, Tunnels: []IPsecTunnel{seed004Tunnel(hardLife)}}
}

var seed004Statistics = Statistics{
	ESPEncryptedBytes: 875126, ESPDecryptedBytes: 1073684,
	ESPEncryptedPackets: 3677, ESPDecryptedPackets: 3677,
}

// seed001IKE is router R2's (r3 false) or R3's (r3 true) IKE SA of seed
// 001. The seed shows only the brief table (address, state, cookies,
// exchange type); the rest, for the detail golden, is made up to match.
func seed001IKE(r3 bool) IKESA {
	sa := IKESA{
		Up: true, Initiator: !r3,
		InitiatorSPI: 0x03075bd3a0000003, ResponderSPI: 0x4bff26a5c7000003,
		ExchangeType: "Main", AuthMethod: "Pre-shared-keys",
		Local: ap("10.1.15.1:500"), Remote: ap("10.1.15.2:500"),
		Lifetime:  28431 * time.Second,
		Integrity: "hmac-sha1-96", Encryption: "3des-cbc", PRF: "hmac-sha1", DHGroup: 2,
		InBytes: 1272, OutBytes: 1316, InPackets: 6, OutPackets: 6,
		ChildSAsCreated: 2,
	}
	if r3 {
		sa.Local, sa.Remote = sa.Remote, sa.Local
		sa.InBytes, sa.OutBytes = sa.OutBytes, sa.InBytes
	}
	return sa
}

func seed001Tunnel(r3 bool) ServiceTunnel {
	sa := IPsecSA{
		Inbound: true, SPI: 2666326758, Authentication: "hmac-sha1-96", Encryption: "3des-cbc",
		SoftLifetime: 26863 * time.Second, HardLifetime: 26998 * time.Second,
		Installed: true, ReplayWindow: 64,
	}
	out := sa
	out.Inbound, out.SPI = false, 684772754
	tn := ServiceTunnel{
		ServiceSet: "service-set-dynamic-BiEspsha3des", Rule: "rule-ike", Term: "term-ike", Index: 1,
		LocalGateway: addr("10.1.15.1"), RemoteGateway: addr("10.1.15.2"),
		LocalIdentity:  SelectorFromPrefix(pfx("10.1.12.0/24")),
		RemoteIdentity: SelectorFromPrefix(pfx("10.1.56.0/24")),
	}
	if r3 {
		tn.LocalGateway, tn.RemoteGateway = tn.RemoteGateway, tn.LocalGateway
		tn.LocalIdentity, tn.RemoteIdentity = tn.RemoteIdentity, tn.LocalIdentity
		sa.SPI, out.SPI = out.SPI, sa.SPI
		for _, s := range []*IPsecSA{&sa, &out} {
			s.SoftLifetime, s.HardLifetime = 26598*time.Second, 26688*time.Second
		}
	}
	tn.SAs = []IPsecSA{sa, out}
	return tn
}

func seed001Statistics(r3 bool) ServiceSetStatistics {
	s := ServiceSetStatistics{
		PIC: "sp-1/2/0", ServiceSet: "service-set-dynamic-BiEspsha3des",
		Statistics: Statistics{ESPEncryptedBytes: 2248, ESPDecryptedBytes: 2120, ESPEncryptedPackets: 27, ESPDecryptedPackets: 25},
	}
	if r3 {
		st := &s.Statistics
		st.ESPEncryptedBytes, st.ESPDecryptedBytes = st.ESPDecryptedBytes, st.ESPEncryptedBytes
		st.ESPEncryptedPackets, st.ESPDecryptedPackets = st.ESPDecryptedPackets, st.ESPEncryptedPackets
	}
	return s
}

// labDownSA is an IKEv2 SA that failed to authenticate: DOWN, no responder
// SPI yet, with the reason.
func labDownSA() IKESA {
	return IKESA{
		Index: 2, GatewayName: "gw-branch7",
		Initiator: true, Up: false,
		InitiatorSPI: 0xe7753a11ff890094,
		ExchangeType: "IKEv2", AuthMethod: "Pre-shared-keys",
		LocalInterface: "eth1", RoutingInstance: "default",
		Local: ap("192.0.2.1:4500"), Remote: ap("198.51.100.7:4500"),
		Lifetime:  0,
		PeerIKEID: "branch7.example.net",
		Integrity: "", Encryption: "aes256-gcm", PRF: "hmac-sha384", DHGroup: 20,
		InBytes: 1210, OutBytes: 1368, InPackets: 2, OutPackets: 3,
		LastFailure: &NegotiationFailure{
			Time:     at(time.November, 2, 9, 15, 0),
			Exchange: "IKE_AUTH",
			Reason:   "AUTHENTICATION_FAILED received: the peer rejected our AUTH payload (pre-shared keys differ?)",
		},
	}
}

// labTunnel is a NAT-T tunnel with monitoring and lifesize, IPv6 inside.
func labTunnel() IPsecTunnel {
	sa := IPsecSA{
		Inbound: true, SPI: 0x0000c0de,
		Encryption: "aes-cbc", KeyBits: 128, Authentication: "hmac-sha256-128",
		HardLifetime: 1800 * time.Second, SoftLifetime: 1410 * time.Second, ByteLifetime: true, LifesizeKB: 102400, SoftLifesizeKB: 61440, SoftConfiguredKB: 87040,
		Installed: true, ReplayWindow: 1024, ESN: true,
		Establish: "establish-tunnels-immediately", IKESAIndex: 3,
	}
	out := sa
	out.Inbound, out.SPI = false, 0xf00dcafe
	return IPsecTunnel{
		ID: 500002, VPNName: "vpn-branch9",
		LocalGateway: addr("192.0.2.1"), RemoteGateway: addr("203.0.113.9"),
		LocalIdentity:  SelectorFromPrefix(pfx("2001:db8:1::/48")),
		RemoteIdentity: SelectorFromPrefix(pfx("2001:db8:9::/48")),
		TSType:         "traffic-selectors", Version: "IKEv2", PFSGroup: 19,
		DFBit: "copy", BindInterface: "st0.2", Port: 4500,
		Negotiations: 3, Failures: 1, Flags: 0x600829,
		ConfiguredSAs: 1, NegotiatedSAs: 1,
		Events: []TunnelEvent{
			{Time: at(time.November, 2, 9, 20, 5), Text: "IPsec SA negotiation succeeds", Count: 1},
			{Time: at(time.November, 2, 9, 19, 40), Text: "No response from peer. Negotiation failed", Count: 1},
		},
		Thread: 1, DistributionProfile: "default",
		Monitor: "U",
		SAs:     []IPsecSA{sa, out},
	}
}

func labIKE() []IKESA {
	sa := seed004IKE()
	sa3 := seed004IKE()
	sa3.Index, sa3.GatewayName = 3, "gw-branch9"
	sa3.InitiatorSPI, sa3.ResponderSPI = 0x9328a36431323306, 0xf6087cb15c3199fd
	sa3.Initiator = true
	sa3.Local, sa3.Remote = ap("192.0.2.1:4500"), ap("203.0.113.9:4500")
	sa3.PeerIKEID = "203.0.113.9"
	sa3.Integrity, sa3.Encryption, sa3.PRF, sa3.DHGroup = "hmac-sha256-128", "aes256-cbc", "hmac-sha256", 19
	sa3.ReauthLifetime = 80000 * time.Second
	sa3.TunnelIDs = []uint32{500002}
	sa3.Negotiations = nil
	sa3.Rekey = &RekeyStatistics{RequestOut: 2, ResponseIn: 2}
	return []IKESA{sa, labDownSA(), sa3}
}

func labIPsec() IPsecView {
	return IPsecView{ActiveTunnels: 2, IPsecSAs: 4, Tunnels: []IPsecTunnel{seed004Tunnel(3414 * time.Second), labTunnel()}}
}

func labInactive() []InactiveTunnel {
	return []InactiveTunnel{
		{
			ID: 131073, Port: 500, Gateway: addr("198.51.100.7"), PendingSAs: 1, EstablishImmediately: true,
			Reason: "No response from peer. Negotiation failed", ReasonCount: 130,
			ReasonTime: at(time.November, 2, 9, 15, 0),
		},
		{ID: 131074, Port: 4500, Gateway: addr("203.0.113.200"), PendingSAs: 2},
	}
}

// labInterfaces are four st0 units: the reference's st0.1 (§4.6, AWS
// addressing), a dual-stack unit with a host address, an unnumbered unit
// whose tunnel is down and a disabled unit without families.
func labInterfaces() []Interface {
	return []Interface{
		{
			Name: "st0.1", Index: 70, Up: true, InputPackets: 8719, OutputPackets: 41841,
			Families: []Family{{Name: "inet", MTU: 9192, Addresses: []netip.Prefix{pfx("169.254.255.2/30")}}},
		},
		{
			Name: "st0.2", Index: 71, Up: true, InputPackets: 12, OutputPackets: 3,
			Families: []Family{
				{Name: "inet", MTU: 1400, Addresses: []netip.Prefix{pfx("10.255.0.1/32")}},
				{Name: "inet6", MTU: 1380, Addresses: []netip.Prefix{pfx("2001:db8:ff::1/64"), pfx("2001:db8:ff::2/128")}},
			},
		},
		{Name: "st0.3", Index: 72, Families: []Family{{Name: "inet", MTU: 9192}}},
		{Name: "st0.4", Index: 73, Disabled: true},
	}
}

// labSoftware is the build `show version` reports in the goldens.
var labSoftware = Software{Hostname: "vpn-gw1", Version: "1.4.0", Go: "go1.26.8"}
