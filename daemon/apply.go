package daemon

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/dataplane"
	"ipsecgw/esp"
	"ipsecgw/transform"
)

// defaultTunnelMTU is the MTU of an st0 interface whose configuration sets
// none: a 1500-byte outer path less the largest ESP overhead (outer IPv6
// 40, UDP 8, ESP header 8, IV 16, padding up to 17, ICV 16, rounded down).
const defaultTunnelMTU = 1400

// ikeOn4500 takes the IKE messages the data plane finds on UDP 4500.
func (d *Daemon) ikeOn4500(msg []byte, from netip.AddrPort, to netip.Addr) {
	d.ikeWorkers.Dispatch(append([]byte(nil), msg...), from, netip.AddrPortFrom(to, 4500))
}

// TunnelMTU is the MTU of a tunnel interface (an st0 unit, or a service
// set's inside interface): the interface's configured MTU (or the
// default), lowered to the smallest tunnel-mtu of the VPNs bound to it,
// but not below IPv6's minimum. The kernel then fragments DF-clear packets
// before they enter the tunnel and answers DF packets with ICMP, for
// forwarded and local traffic alike; a tunnel-mtu below that is applied by
// the data plane (pre-fragmentation, ICMP too-big). vpns is those that
// may bind to the interface: an st0 unit's are the configuration's
// [security ipsec vpn]s, a service interface's its ServiceTunnels' VPNs.
func TunnelMTU(ifc *schema.Interface, u *schema.Unit, vpns []*schema.VPN) int {
	mtu := ifc.MTU
	if mtu == 0 {
		mtu = defaultTunnelMTU
	}
	for _, v := range vpns {
		if v.BindInterface == u && v.TunnelMTU > 0 && v.TunnelMTU < mtu {
			mtu = v.TunnelMTU
		}
	}
	// Below 1280 the kernel turns IPv6 off on the interface (RFC 8200
	// §5); smaller IPv4 tunnel MTUs are enforced by the data plane.
	return max(mtu, minIPv6MTU)
}

const minIPv6MTU = 1280

type receiverKey struct {
	family int
	port   uint16 // 0: raw ESP
}

func (d *Daemon) listen(k receiverKey) error {
	if k.port == 0 {
		r, err := d.listenESP(k.family)
		if err != nil {
			return fmt.Errorf("raw ESP socket (IPv%d): %w", k.family, err)
		}
		return d.engine.AddReceiver(r, k.family, 0)
	}
	r, err := d.listenUDP(k.family, k.port)
	if err != nil {
		return fmt.Errorf("UDP port %d (IPv%d): %w", k.port, k.family, err)
	}
	if k.port == 4500 {
		d.ikeTransport.Add(k.family, 4500, r)
	}
	return d.engine.AddReceiver(r, k.family, k.port)
}

// manualVPN installs the two SAs of a manual VPN: Junos uses the one
// configured SPI and keys in both directions.
func (d *Daemon) manualVPN(v *schema.VPN, receivers map[receiverKey]bool) error {
	m := v.Manual
	if v.BindInterface == nil {
		return fmt.Errorf("no bind-interface: ipsecgw runs route-based VPNs (bind-interface st0.N)")
	}
	local, err := localAddress(m.ExternalInterface, m.Gateway)
	if err != nil {
		return err
	}
	cfg, err := espConfig(m)
	if err != nil {
		return err
	}
	return d.installManual(v, local, &cfg, &cfg, receivers)
}

// serviceManual installs the manual SAs of a services term: a
// bidirectional direction is one SPI and key set both ways, as for a
// [security] manual VPN; inbound and outbound are one SA each.
func (d *Daemon) serviceManual(st *ServiceTunnel, receivers map[receiverKey]bool) error {
	var in, out *esp.Config
	for _, m := range st.Term.Manual {
		cfg, err := espConfig(&schema.ManualSA{Protocol: m.Protocol, SPI: m.SPI,
			AuthenticationAlgorithm: m.AuthenticationAlgorithm, AuthenticationKey: m.AuthenticationKey,
			EncryptionAlgorithm: m.EncryptionAlgorithm, EncryptionKey: m.EncryptionKey})
		if err != nil {
			return fmt.Errorf("manual direction %s: %w", m.Direction, err)
		}
		window, on := st.AntiReplay()
		cfg.ReplayWindow, cfg.NoAntiReplay = window, !on
		switch m.Direction {
		case "inbound":
			in = &cfg
		case "outbound":
			out = &cfg
		default:
			in, out = &cfg, &cfg
		}
	}
	return d.installManual(st.VPN, st.Set.LocalGateway, in, out, receivers)
}

// installManual installs a manual VPN's SAs, either of which may be nil,
// between local and the VPN's manual gateway on its bind-interface.
func (d *Daemon) installManual(v *schema.VPN, local netip.Addr, in, out *esp.Config, receivers map[receiverKey]bool) error {
	m := v.Manual
	family := 4
	if m.Gateway.Is6() {
		family = 6
	}
	encap := dataplane.Encapsulation{}
	if v.UDPEncapsulate {
		encap = dataplane.Encapsulation{UDP: true, DstPort: v.UDPDestPort, SrcPort: v.UDPDestPort}
		if v.UDPDestPort != 4500 {
			// The seed's multipath encapsulation: a source port per flow.
			encap.PerFlowSource = true
		}
	}
	df := map[string]dataplane.DFBit{"clear": dataplane.DFClear, "set": dataplane.DFSet, "copy": dataplane.DFCopy}[v.DFBit]
	var sels []dataplane.Selector
	for _, ts := range v.TrafficSelectors {
		sels = append(sels, dataplane.Selector{Local: ts.Local, Remote: ts.Remote})
	}
	tunnel := TunnelName(v.BindInterface)
	if out != nil {
		if _, err := d.engine.InstallOutbound(tunnel, dataplane.OutboundParams{
			VPN: v.Name, ESP: *out, Local: local, Remote: m.Gateway, Encap: encap, DF: df,
			TunnelMTU: v.TunnelMTU, Selectors: sels, TCPMSS: v.TCPMSS,
		}); err != nil {
			return err
		}
	}
	if in != nil {
		if _, err := d.engine.InstallInbound(tunnel, dataplane.InboundParams{
			VPN: v.Name, ESP: *in, Local: local, Remote: m.Gateway, Encap: encap,
			CopyOuterDSCP: v.CopyOuterDSCP, Selectors: sels, TCPMSS: v.TCPMSS,
		}); err != nil {
			return err
		}
	}
	receivers[receiverKey{family: family, port: encap.DstPort}] = true
	d.log.Info("manual SA installed", "vpn", v.Name, "spi", fmt.Sprintf("%#x", m.SPI), "tunnel", tunnel,
		"local", local, "remote", m.Gateway, "encryption", m.EncryptionAlgorithm, "udp", encap.UDP)
	return nil
}

// localAddress picks the outer source address: the external interface's
// configured address of the peer's family.
func localAddress(u *schema.Unit, peer netip.Addr) (netip.Addr, error) {
	if u == nil {
		return netip.Addr{}, fmt.Errorf("no external-interface: ipsecgw needs it to know the local tunnel address")
	}
	for _, a := range u.Addresses {
		if a.Addr().Is4() == peer.Is4() {
			return a.Addr(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("external interface %s has no address of the gateway's family", u.Name())
}

// espConfig turns a manual SA's algorithms and keys into an ESP config.
func espConfig(m *schema.ManualSA) (esp.Config, error) {
	cfg := esp.Config{SPI: m.SPI, ESN: m.ExtendedSequenceNumbers}
	enc, ok := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, m.EncryptionAlgorithm)
	if !ok {
		return cfg, fmt.Errorf("encryption algorithm %s is not in the transform table", m.EncryptionAlgorithm)
	}
	key, err := m.EncryptionKey.Bytes()
	if err != nil {
		return cfg, fmt.Errorf("encryption key: %w", err)
	}
	cfg.Encryption, cfg.EncryptionKey = enc, key
	if m.AuthenticationAlgorithm != "" {
		integ, ok := transform.LookupKeyword(transform.IPsec, transform.TypeINTEG, m.AuthenticationAlgorithm)
		if !ok {
			return cfg, fmt.Errorf("authentication algorithm %s is not in the transform table", m.AuthenticationAlgorithm)
		}
		key, err := m.AuthenticationKey.Bytes()
		if err != nil {
			return cfg, fmt.Errorf("authentication key: %w", err)
		}
		cfg.Integrity, cfg.IntegrityKey = integ, key
	}
	return cfg, nil
}
