package daemon

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/dataplane"
	"ipsecgw/esp"
	"ipsecgw/ike/transform"
)

// defaultTunnelMTU is the MTU of an st0 interface whose configuration sets
// none: a 1500-byte outer path less the largest ESP overhead (outer IPv6
// 40, UDP 8, ESP header 8, IV 16, padding up to 17, ICV 16, rounded down).
const defaultTunnelMTU = 1400

// apply puts the whole configuration into effect, recording how to undo
// each step.
func (d *Daemon) apply() error {
	c := d.cfg
	if err := d.physicalInterfaces(); err != nil {
		return err
	}
	send4, err := d.host.NewRawSender(4)
	if err != nil {
		return fmt.Errorf("outer IPv4 socket: %w", err)
	}
	d.undo = append(d.undo, send4.Close)
	send6, err := d.host.NewRawSender(6)
	if err != nil {
		d.log.Warn("no outer IPv6 socket; IPv6 tunnels are unavailable", "err", err)
		send6 = nil
	} else {
		d.undo = append(d.undo, send6.Close)
	}
	d.engine = dataplane.New(dataplane.Config{Logger: d.log, Send4: send4, Send6: send6, IKE: d.ikeOn4500, NoSA: d.trafficWithoutSA})
	// The IKE side is set up before any packet path starts, which read it
	// (the on-traffic trigger, IKE on port 4500).
	receivers := map[receiverKey]bool{}
	if err := d.ikeVPNs(receivers); err != nil {
		return err
	}
	// Tunnel interfaces come up only once their SAs are installed, so
	// nothing the kernel sends at link-up (MLD reports, router
	// solicitations) meets a tunnel without an SA; routes need the link up.
	if err := d.tunnelInterfaces(); err != nil {
		return err
	}
	for _, v := range c.IPsec.VPNs {
		if v.Manual != nil {
			if err := d.manualVPN(v, receivers); err != nil {
				return fmt.Errorf("vpn %s: %w", v.Name, err)
			}
		}
	}
	for k := range receivers {
		if err := d.listen(k); err != nil {
			return err
		}
	}
	if d.ike != nil {
		if err := d.listenIKE(); err != nil {
			return err
		}
	}
	for _, u := range d.tunnelUnits() {
		if err := d.host.SetUp(u.Name()); err != nil {
			return fmt.Errorf("%s: %w", u.Name(), err)
		}
	}
	if err := d.routes(); err != nil {
		return err
	}
	for _, p := range d.ikeInitiate {
		if err := d.ike.Initiate(p.Remote); err != nil {
			d.log.Warn("IKE initiation", "gateway", p.Gateway, "err", err)
		}
	}
	return nil
}

// ikeOn4500 takes the IKE messages the data plane finds on UDP 4500.
func (d *Daemon) ikeOn4500(msg []byte, from netip.AddrPort, to netip.Addr) {
	if d.ike != nil {
		d.ike.HandleMessage(append([]byte(nil), msg...), from, netip.AddrPortFrom(to, 4500))
	}
}

// tunnelUnits lists the configured st0 units.
func (d *Daemon) tunnelUnits() []*schema.Unit {
	var out []*schema.Unit
	for _, ifc := range d.cfg.Interfaces {
		if ifc.Kind == schema.Tunnel {
			out = append(out, ifc.Units...)
		}
	}
	return out
}

// physicalInterfaces checks every host interface exists and gives it the
// configured addresses.
func (d *Daemon) physicalInterfaces() error {
	for _, ifc := range d.cfg.Interfaces {
		if ifc.Kind != schema.Physical {
			continue
		}
		if ifc.HostName == "" {
			return fmt.Errorf("interface %s has a Junos name and no Linux interface: map it with \"set interfaces %s host-interface NAME\" or --interface-map %s=NAME", ifc.Name, ifc.Name, ifc.Name)
		}
		if !d.host.LinkExists(ifc.HostName) {
			return fmt.Errorf("interface %s: no interface %s on this host", ifc.Name, ifc.HostName)
		}
		for _, u := range ifc.Units {
			for _, a := range u.Addresses {
				undo, err := d.host.AddAddress(ifc.HostName, a)
				if err != nil {
					return err
				}
				d.undo = append(d.undo, undo)
			}
		}
		if err := d.host.SetUp(ifc.HostName); err != nil {
			return fmt.Errorf("interface %s: %w", ifc.Name, err)
		}
	}
	return nil
}

// tunnelInterfaces creates a TUN device per configured st0 unit.
func (d *Daemon) tunnelInterfaces() error {
	for _, ifc := range d.cfg.Interfaces {
		if ifc.Kind != schema.Tunnel {
			continue
		}
		for _, u := range ifc.Units {
			mtu := d.tunnelMTU(ifc, u)
			dev, err := d.host.CreateTUN(u.Name(), mtu)
			if err != nil {
				return fmt.Errorf("create %s: %w", u.Name(), err)
			}
			// The engine owns and closes the device from here on; closing a
			// TUN removes the interface and its routes.
			var own []netip.Addr
			for _, a := range u.Addresses {
				if _, err := d.host.AddAddress(u.Name(), a); err != nil {
					dev.Close()
					return err
				}
				own = append(own, a.Addr())
			}
			// The data plane answers packets over the tunnel MTU with ICMP
			// from this gateway's own address; the kernel takes a packet
			// with a local source address in from st0 only with
			// accept_local.
			if err := d.host.AcceptLocal(u.Name()); err != nil {
				dev.Close()
				return fmt.Errorf("%s: %w", u.Name(), err)
			}
			if !u.Inet6 {
				if err := d.host.DisableIPv6(u.Name()); err != nil {
					dev.Close()
					return fmt.Errorf("%s: %w", u.Name(), err)
				}
			}
			if _, err := d.engine.AddTunnel(dev, own); err != nil {
				dev.Close()
				return err
			}
			d.log.Info("tunnel interface created", "interface", u.Name(), "mtu", mtu)
		}
	}
	return nil
}

// tunnelMTU is the MTU of an st0 unit: the interface's configured MTU (or
// the default), lowered to the smallest tunnel-mtu of the VPNs bound to it,
// but not below IPv6's minimum. The kernel then fragments DF-clear packets
// before they enter the tunnel and answers DF packets with ICMP, for
// forwarded and local traffic alike; a tunnel-mtu below that is applied by
// the data plane (pre-fragmentation, ICMP too-big).
func (d *Daemon) tunnelMTU(ifc *schema.Interface, u *schema.Unit) int {
	mtu := ifc.MTU
	if mtu == 0 {
		mtu = defaultTunnelMTU
	}
	for _, v := range d.cfg.IPsec.VPNs {
		if v.BindInterface == u && v.TunnelMTU > 0 && v.TunnelMTU < mtu {
			mtu = v.TunnelMTU
		}
	}
	// Below 1280 the kernel turns IPv6 off on the interface (RFC 8200
	// §5); smaller IPv4 tunnel MTUs are enforced by the data plane.
	return max(mtu, minIPv6MTU)
}

const minIPv6MTU = 1280

func (d *Daemon) routes() error {
	for _, r := range d.cfg.Routes {
		for _, u := range r.Interfaces {
			dev := u.Name()
			if u.Interface.Kind == schema.Physical {
				dev = u.Interface.HostName
			}
			undo, err := d.host.AddRoute(r.Prefix, netip.Addr{}, dev)
			if err != nil {
				return err
			}
			d.undo = append(d.undo, undo)
		}
		for _, gw := range r.Gateways {
			undo, err := d.host.AddRoute(r.Prefix, gw, "")
			if err != nil {
				return err
			}
			d.undo = append(d.undo, undo)
		}
	}
	return nil
}

type receiverKey struct {
	family int
	port   uint16 // 0: raw ESP
}

func (d *Daemon) listen(k receiverKey) error {
	if k.port == 0 {
		r, err := d.host.ListenESP(k.family)
		if err != nil {
			return fmt.Errorf("raw ESP socket (IPv%d): %w", k.family, err)
		}
		return d.engine.AddReceiver(r, k.family, 0)
	}
	r, err := d.host.ListenUDP(k.family, k.port)
	if err != nil {
		return fmt.Errorf("UDP port %d (IPv%d): %w", k.port, k.family, err)
	}
	if d.ikeTransport != nil && k.port == 4500 {
		d.ikeTransport.add(k.family, 4500, r)
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
	tunnel := v.BindInterface.Name()
	if _, err := d.engine.InstallOutbound(tunnel, dataplane.OutboundParams{
		VPN: v.Name, ESP: cfg, Local: local, Remote: m.Gateway, Encap: encap, DF: df,
		TunnelMTU: v.TunnelMTU, Selectors: sels,
	}); err != nil {
		return err
	}
	if _, err := d.engine.InstallInbound(tunnel, dataplane.InboundParams{
		VPN: v.Name, ESP: cfg, Local: local, Remote: m.Gateway, Encap: encap,
		CopyOuterDSCP: v.CopyOuterDSCP, Selectors: sels,
	}); err != nil {
		return err
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
