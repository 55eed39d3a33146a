package daemon

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config/schema"
	"ipsecgw/dataplane"
	"ipsecgw/esp"
	"ipsecgw/ike"
)

// The IKE side of the daemon: the IKE engines (ikeengine.go), their UDP
// sockets on ports 500 and 4500 (package ikesock; 4500 is shared with the
// data plane, which hands over the messages behind the non-ESP marker),
// and the installer that turns negotiated Child SAs into data plane SAs.

// installer installs the Child SAs one IKE engine negotiates on their
// VPN's tunnel interface, with the data-plane parameters resolved when the
// VPN's peer was added (childTunnel): it never reads the configuration.
type installer struct {
	d       *Daemon
	version int // of the engine it serves
	clock   clock.Clock

	mu       sync.Mutex // guards outbound and tunnels
	outbound map[uint32]*dataplane.OutboundSA
	tunnels  map[string]childTunnel // by VPN name
}

func newInstaller(d *Daemon, version int) *installer {
	clk := d.opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	return &installer{d: d, version: version, clock: clk, outbound: map[uint32]*dataplane.OutboundSA{},
		tunnels: map[string]childTunnel{}}
}

// childTunnel is what the data plane needs of a VPN to install its Child
// SAs: the tunnel interface and the VPN's ESP and tunnel settings.
type childTunnel struct {
	tunnel        string
	replayWindow  int
	noAntiReplay  bool
	copyOuterDSCP bool
	df            dataplane.DFBit
	tunnelMTU     int
	tcpMSS        int
}

// resolveTunnel is a VPN's childTunnel; a VPN without a bind-interface
// has none (its Child SAs fail to install, saying so).
func resolveTunnel(v *schema.VPN) (childTunnel, bool) {
	if v.BindInterface == nil {
		return childTunnel{}, false
	}
	t := childTunnel{tunnel: TunnelName(v.BindInterface), copyOuterDSCP: v.CopyOuterDSCP, tunnelMTU: v.TunnelMTU, tcpMSS: v.TCPMSS,
		df: map[string]dataplane.DFBit{"clear": dataplane.DFClear, "set": dataplane.DFSet, "copy": dataplane.DFCopy}[v.DFBit]}
	if v.IKE != nil {
		t.replayWindow, t.noAntiReplay = v.IKE.ReplayWindow, !v.IKE.AntiReplay
	}
	return t, true
}

// setTunnel records the data-plane parameters of a VPN whose peer is
// being added.
func (i *installer) setTunnel(vpn string, t childTunnel) {
	i.mu.Lock()
	i.tunnels[vpn] = t
	i.mu.Unlock()
}

func (i *installer) AllocateSPI() (uint32, error) {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		// SPIs 1-255 are reserved (RFC 4303 §2.1). A random SPI collides
		// with an installed one about once in 4 billion: one lookup.
		if spi := binary.BigEndian.Uint32(b[:]); spi > 255 && i.d.engine.InboundSA(spi) == nil {
			return spi, nil
		}
	}
}

func (i *installer) InstallChild(vpn string, c *ike.ChildSA) error {
	// Inbound first: the peer may send as soon as it has its answer.
	if err := i.InstallInbound(vpn, c); err != nil {
		return err
	}
	if err := i.InstallOutbound(vpn, c); err != nil {
		i.d.engine.RemoveInbound(c.InboundSPI)
		i.d.childKE.removed(vpn, c, true) // childke.go
		return err
	}
	return nil
}

// childParams is what both directions of a Child SA share: the VPN's
// tunnel, encapsulation, selectors, byte lifetime.
type childParams struct {
	childTunnel
	encap dataplane.Encapsulation
	sels  []dataplane.Selector
	limit dataplane.ByteLimit
}

func (i *installer) childParams(vpn string, c *ike.ChildSA) (childParams, error) {
	i.mu.Lock()
	t, ok := i.tunnels[vpn]
	i.mu.Unlock()
	if !ok {
		return childParams{}, fmt.Errorf("VPN %s has no bind-interface", vpn)
	}
	p := childParams{childTunnel: t, limit: i.byteLimit(c)}
	if c.UDPEncapsulation {
		p.encap = dataplane.Encapsulation{UDP: true, SrcPort: c.LocalPort, DstPort: c.RemotePort}
	}
	for _, l := range c.LocalTS {
		for _, r := range c.RemoteTS {
			if l.Addr().Is4() == r.Addr().Is4() {
				p.sels = append(p.sels, dataplane.Selector{Local: l, Remote: r})
			}
		}
	}
	return p, nil
}

// InstallInbound installs a Child SA's inbound SA alone: IKEv1's Quick
// Mode responder does with message 2, so ESP the initiator sends before
// message 3 arrives is not lost.
func (i *installer) InstallInbound(vpn string, c *ike.ChildSA) error {
	p, err := i.childParams(vpn, c)
	if err != nil {
		return err
	}
	i.d.st0.inboundComing(vpn) // its unit up before it decrypts (st0follow.go)
	in := esp.Config{SPI: c.InboundSPI, Encryption: c.Encryption, EncryptionKey: c.Inbound.Encryption,
		Integrity: c.Integrity, IntegrityKey: c.Inbound.Integrity, ESN: c.ESN,
		ReplayWindow: p.replayWindow, NoAntiReplay: p.noAntiReplay}
	_, err = i.d.engine.InstallInbound(p.tunnel, dataplane.InboundParams{VPN: vpn, ESP: in, Local: c.Local, Remote: c.Remote,
		Encap: p.encap, CopyOuterDSCP: p.copyOuterDSCP, Selectors: p.sels, Limit: p.limit, TCPMSS: p.tcpMSS})
	if err == nil {
		i.d.childKE.installed(vpn, c, true) // childke.go
	}
	return err
}

// InstallOutbound installs a Child SA's outbound SA, its inbound one in.
func (i *installer) InstallOutbound(vpn string, c *ike.ChildSA) error {
	p, err := i.childParams(vpn, c)
	if err != nil {
		return err
	}
	out := esp.Config{SPI: c.OutboundSPI, Encryption: c.Encryption, EncryptionKey: c.Outbound.Encryption,
		Integrity: c.Integrity, IntegrityKey: c.Outbound.Integrity, ESN: c.ESN}
	o, err := i.d.engine.InstallOutbound(p.tunnel, dataplane.OutboundParams{VPN: vpn, ESP: out, Local: c.Local, Remote: c.Remote,
		Encap: p.encap, DF: p.df, TunnelMTU: p.tunnelMTU, Selectors: p.sels, Limit: p.limit, TCPMSS: p.tcpMSS})
	if err != nil {
		return err
	}
	i.d.childKE.installed(vpn, c, false) // childke.go
	i.mu.Lock()
	i.outbound[c.OutboundSPI] = o
	i.mu.Unlock()
	i.d.st0.changed() // the unit may come up (st0follow.go)
	return nil
}

// byteLimit reports a Child SA's lifetime in bytes (lifetime-kilobytes)
// back to the IKE engine, from whichever direction reaches it first.
func (i *installer) byteLimit(c *ike.ChildSA) dataplane.ByteLimit {
	if c.SoftBytes == 0 && c.HardBytes == 0 {
		return dataplane.ByteLimit{}
	}
	report := func(hard bool) func() {
		return func() {
			if ike := i.d.ikeEngine(i.version); ike != nil {
				ike.ChildBytesReached(c, hard)
			}
		}
	}
	return dataplane.ByteLimit{Soft: c.SoftBytes, Hard: c.HardBytes, OnSoft: report(false), OnHard: report(true)}
}

// ChildTraffic counts the ESP packets a Child SA received and sent, for
// dead peer detection's modes.
func (i *installer) ChildTraffic(c *ike.ChildSA) (in, out uint64) {
	if sa := i.d.engine.InboundSA(c.InboundSPI); sa != nil {
		in = sa.Counters.DecryptedPackets.Load()
	}
	i.mu.Lock()
	o := i.outbound[c.OutboundSPI]
	i.mu.Unlock()
	if o != nil {
		out = o.Counters.EncryptedPackets.Load()
	}
	return in, out
}

// RemoveChild takes the outbound SA out at once and the inbound one a
// moment later: after a rekey the peer may still be sending on the old SA
// until it has handled the DELETE, and those packets are not lost.
func (i *installer) RemoveChild(vpn string, c *ike.ChildSA) {
	i.mu.Lock()
	o := i.outbound[c.OutboundSPI]
	delete(i.outbound, c.OutboundSPI)
	i.mu.Unlock()
	if o != nil {
		i.d.engine.RemoveOutbound(o)
		i.d.st0.changed() // the unit may go down (st0follow.go)
	}
	i.d.childKE.removeChild(i.clock, vpn, c) // childke.go
	engine, spi := i.d.engine, c.InboundSPI
	i.clock.AfterFunc(inboundGrace, func() { engine.RemoveInbound(spi) })
}

// inboundGrace is how long an inbound SA outlives its removal (strongSwan
// keeps rekeyed inbound SAs for the same reason, delete_rekeyed_delay).
const inboundGrace = 200 * time.Millisecond

// addPeer gives the IKE engine of the VPN's version (made on first use)
// the VPN's resolved peer and tunnel, and marks the sockets it needs: ESP
// arrives raw, or in UDP 4500 after NAT traversal, and the 4500 socket
// also carries IKE.
func (d *Daemon) addPeer(vp *vpnPlan) error {
	ike, err := d.startIKE(vp.version)
	if err != nil {
		return err
	}
	if vp.peer.Auth, err = d.authenticatorFor(vp.vpn, d.cfg.Load()); err != nil { // certauth.go
		return err
	}
	if err := ike.addVPN(vp.peer, vp.tunnel, vp.hasTunnel); err != nil {
		return err
	}
	fam := 4
	if vp.peer.Local.Is6() {
		fam = 6
	}
	d.run.receivers[receiverKey{family: fam}] = true
	d.run.receivers[receiverKey{family: fam, port: 4500}] = true
	d.ikeFamilies[fam] = true
	return nil
}

// setOnTraffic records, per tunnel interface, the peers of its
// establish-tunnels on-traffic VPNs, for the data plane's no-SA hook.
func (d *Daemon) setOnTraffic(want *plan) {
	m := map[string][]onTrafficPeer{}
	for _, name := range sortedKeys(want.vpns) {
		v := want.vpns[name].vpn
		if v.IKE == nil || v.EstablishTunnels != "on-traffic" || v.BindInterface == nil {
			continue
		}
		if st, ok := d.run.vpns[v.Name]; ok && st.remote.IsValid() {
			tunnel := TunnelName(v.BindInterface)
			m[tunnel] = append(m[tunnel], onTrafficPeer{version: st.version, remote: st.remote, local: st.local, vpn: v.Name})
		}
	}
	d.onTraffic.Store(&m)
}

// onTrafficPeer is a peer negotiated when its tunnel has traffic.
type onTrafficPeer struct {
	version int
	remote  netip.Addr
	local   netip.Addr // the gateway's (gateways may share a remote address)
	// vpn is the VPN to bring up on the gateway (vpnshare.go); empty:
	// the gateway's first.
	vpn string
}

// gatewayLocal is the address IKE uses: local-address, or the external
// interface's address of the peer's family.
func gatewayLocal(g *schema.IKEGateway) (netip.Addr, error) {
	if g.LocalAddress.IsValid() {
		return g.LocalAddress, nil
	}
	if len(g.Addresses) == 0 {
		return netip.Addr{}, fmt.Errorf("gateway %s has no address", g.Name)
	}
	peer, err := netip.ParseAddr(g.Addresses[0])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("gateway %s: %s is not an IP address", g.Name, g.Addresses[0])
	}
	return localAddress(g.ExternalInterface, peer)
}

// listenIKE opens UDP 500 for each family IKE uses, once, and serves it.
func (d *Daemon) listenIKE() error {
	for fam := range d.ikeFamilies {
		k := receiverKey{family: fam, port: 500}
		if d.listening[k] {
			continue
		}
		r, err := d.host.ListenUDP(fam, 500)
		if err != nil {
			return fmt.Errorf("IKE port 500 (IPv%d): %w", fam, err)
		}
		d.listening[k] = true
		d.undo = append(d.undo, r.Close)
		d.ikeTransport.Add(fam, 500, r)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.ikeWorkers.Serve(r)
		}()
	}
	return nil
}

// trafficWithoutSA is the data plane's hook: a tunnel had a packet and no
// SA, so the on-traffic VPNs bound to it negotiate. It must not block the
// packet path, hence the goroutine.
func (d *Daemon) trafficWithoutSA(tunnel string) {
	peers := (*d.onTraffic.Load())[tunnel]
	if len(peers) == 0 {
		return
	}
	go func() {
		for _, p := range peers {
			ike := d.ikeEngine(p.version)
			if ike == nil {
				continue
			}
			if err := initiateIKE(ike, p, true); err != nil { // vpnshare.go
				d.log.Debug("on-traffic initiation", "tunnel", tunnel, "err", err)
			}
		}
	}()
}
