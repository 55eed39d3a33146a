package daemon

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"ipsecgw/clock"
	"ipsecgw/config/schema"
	"ipsecgw/header"
	"ipsecgw/vpnmon"
)

// VPN monitoring (security ipsec vpn V vpn-monitor): package vpnmon decides,
// this file acts. Echoes go out of a raw ICMP socket bound to the VPN's
// tunnel interface, so the kernel routes them into the tunnel whatever its
// routes say; replies come back through the data plane and the same
// socket. A VPN declared down has its IPsec SAs cleared (through
// ClearIPsec, as "clear security ipsec security-associations vpn V"), its
// tunnel unit set down (the kernel withdraws its routes, routing daemons
// see the interface go) and is negotiated again; when new SAs come, the
// unit goes up and the configuration's routes are put back.

// vpnMonitor is the daemon's side of VPN monitoring.
type vpnMonitor struct {
	d   *Daemon
	mon *vpnmon.Monitor

	mu      sync.Mutex
	stopped bool
	calls   sync.WaitGroup // Env calls under way (they use d.do)
	targets map[string]monitorTarget
	sockets map[string]*echoSocket
	nextID  uint16
}

// monitorTarget is where one VPN's echoes go.
type monitorTarget struct {
	tunnel   string // Linux name of the bind-interface
	src, dst netip.Addr
}

func newVPNMonitor(d *Daemon, c clock.Clock) *vpnMonitor {
	if c == nil {
		c = clock.Real{}
	}
	m := &vpnMonitor{d: d, targets: map[string]monitorTarget{}, sockets: map[string]*echoSocket{}, nextID: uint16(os.Getpid())}
	m.mon = vpnmon.New(c, m)
	return m
}

// configure follows a new configuration (on the daemon's goroutine).
// Sockets are opened again at the next echo: the tunnel device may be new.
func (m *vpnMonitor) configure(cfg *schema.Config) {
	if m == nil {
		return
	}
	var cfgs []vpnmon.Config
	targets := map[string]monitorTarget{}
	for _, v := range cfg.IPsec.VPNs {
		mc := v.Monitor
		if mc == nil || v.BindInterface == nil {
			continue
		}
		dst := mc.DestinationIP
		if !dst.IsValid() {
			dst = peerAddress(v)
		}
		if !dst.IsValid() {
			m.d.log.Warn("vpn-monitor: no destination-ip and no peer address to probe", "vpn", v.Name)
			continue
		}
		t := monitorTarget{tunnel: TunnelName(v.BindInterface), dst: dst}
		if mc.Source != nil {
			for _, a := range mc.Source.Addresses {
				if a.Addr().Is4() == dst.Is4() {
					t.src = a.Addr()
					break
				}
			}
		}
		targets[v.Name] = t
		cfgs = append(cfgs, vpnmon.Config{VPN: v.Name, Optimized: mc.Optimized, Interval: mc.Interval, Threshold: mc.Threshold})
	}
	m.mu.Lock()
	m.targets = targets
	m.closeSockets()
	m.mu.Unlock()
	m.mon.Configure(cfgs)
}

// stop ends monitoring before the daemon stops taking operations.
func (m *vpnMonitor) stop() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	m.mon.Stop()
	m.calls.Wait()
	m.mu.Lock()
	m.closeSockets()
	m.mu.Unlock()
}

// status is the Mon column and counters of each monitored VPN.
func (m *vpnMonitor) status() map[string]vpnmon.Status {
	if m == nil {
		return nil
	}
	st := m.mon.Status()
	if len(st) == 0 {
		return nil
	}
	return st
}

func peerAddress(v *schema.VPN) netip.Addr {
	switch {
	case v.Manual != nil:
		return v.Manual.Gateway
	case v.IKE != nil && v.IKE.Gateway != nil && len(v.IKE.Gateway.Addresses) > 0:
		a, _ := netip.ParseAddr(v.IKE.Gateway.Addresses[0])
		return a
	}
	return netip.Addr{}
}

// begin registers an Env call; false once stopping.
func (m *vpnMonitor) begin() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return false
	}
	m.calls.Add(1)
	return true
}

// SAs reads the data plane: the VPN's inbound SAs and what they decrypted.
func (m *vpnMonitor) SAs(vpn string) vpnmon.SAs {
	var s vpnmon.SAs
	for _, sa := range m.d.engine.InboundSAs() {
		if sa.VPN == vpn {
			s.SPIs = append(s.SPIs, sa.SPI())
			s.Received += sa.Counters.DecryptedPackets.Load()
		}
	}
	return s
}

// Probe sends one echo request through the VPN's tunnel.
func (m *vpnMonitor) Probe(vpn string, seq uint16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return nil
	}
	t, ok := m.targets[vpn]
	if !ok {
		return nil
	}
	s := m.sockets[vpn]
	if s == nil {
		var err error
		m.nextID++
		if s, err = openEchoSocket(t, m.nextID, func(seq uint16) { m.mon.Reply(vpn, seq) }); err != nil {
			m.d.log.Debug("vpn-monitor: no echo socket", "vpn", vpn, "tunnel", t.tunnel, "err", err)
			return err
		}
		m.sockets[vpn] = s
	}
	return s.send(seq)
}

// Down: the VPN failed its echoes. Clear its SAs, take its unit down,
// negotiate again.
func (m *vpnMonitor) Down(vpn string) {
	if !m.begin() {
		return
	}
	defer m.calls.Done()
	m.d.log.Warn("vpn-monitor: VPN down, clearing its SAs", "vpn", vpn)
	m.d.events.publish(Event{Kind: "vpn-monitor-down", Time: time.Now(), VPN: vpn, Reason: "VPN monitoring detected the tunnel down"})
	m.d.ClearIPsec([]string{vpn})
	m.d.do(func() error {
		m.d.monitorUnitDown(vpn)
		return nil
	})
}

// Up: new SAs for a VPN that was down. Its unit goes up again.
func (m *vpnMonitor) Up(vpn string) {
	if !m.begin() {
		return
	}
	defer m.calls.Done()
	m.d.log.Info("vpn-monitor: VPN up again", "vpn", vpn)
	m.d.do(func() error {
		m.d.monitorUnitUp(vpn)
		return nil
	})
	m.d.events.publish(Event{Kind: "vpn-monitor-up", Time: time.Now(), VPN: vpn, Reason: "VPN monitoring: the tunnel is up"})
}

func (m *vpnMonitor) closeSockets() {
	for name, s := range m.sockets {
		s.close()
		delete(m.sockets, name)
	}
}

// linkDowner is a Host that can set an interface down (LinuxHost).
type linkDowner interface{ SetDown(ifname string) error }

func (LinuxHost) SetDown(ifname string) error {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return err
	}
	return netlink.LinkSetDown(link)
}

// monitorUnitDown sets the VPN's tunnel unit down and forgets the routes
// through it (the kernel removed them), then asks for a new negotiation
// (on the daemon's goroutine).
func (d *Daemon) monitorUnitDown(vpn string) {
	v := d.vpnByName(vpn)
	if v == nil || v.BindInterface == nil {
		return
	}
	d.unitDown(d.cfg.Load(), TunnelName(v.BindInterface)) // st0follow.go
	if rv, ok := d.run.vpns[vpn]; ok && rv.remote.IsValid() {
		if ike := d.ikeEngine(rv.version); ike != nil {
			d.logErr("vpn-monitor: negotiating "+vpn+" again", initiateIKE(ike, onTrafficPeer{version: rv.version, remote: rv.remote, local: rv.local, vpn: vpn}, true)) // vpnshare.go
		}
	}
}

// routeThrough reports whether the route of key k (see plan) leaves through
// tunnel: out of it, or via a next hop on one of its subnets.
func routeThrough(k, tunnel string, onLink []netip.Prefix) bool {
	if strings.Contains(k, " dev "+tunnel+" ") {
		return true
	}
	if _, gw, ok := strings.Cut(k, " via "); ok {
		if a, err := netip.ParseAddr(gw); err == nil {
			for _, p := range onLink {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	return false
}

// monitorUnitUp sets the VPN's tunnel unit up, puts back its addresses
// (IPv6 ones go with the link) and the configuration's routes.
func (d *Daemon) monitorUnitUp(vpn string) {
	v := d.vpnByName(vpn)
	cfg := d.cfg.Load()
	if v == nil || v.BindInterface == nil || cfg == nil {
		return
	}
	d.unitUp(cfg, TunnelName(v.BindInterface)) // st0follow.go
}

func (d *Daemon) vpnByName(name string) *schema.VPN {
	cfg := d.cfg.Load()
	if cfg == nil {
		return nil
	}
	for _, v := range cfg.IPsec.VPNs {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// echoSocket is a raw ICMP socket bound to a tunnel interface, sending
// echo requests with its own identifier and reading the replies.
type echoSocket struct {
	conn net.PacketConn
	dst  net.Addr
	v6   bool
	id   uint16
}

func openEchoSocket(t monitorTarget, id uint16, reply func(seq uint16)) (*echoSocket, error) {
	network, any := "ip4:icmp", "0.0.0.0"
	if t.dst.Is6() {
		network, any = "ip6:ipv6-icmp", "::"
	}
	local := any
	if t.src.IsValid() {
		local = t.src.String()
	}
	conn, err := net.ListenPacket(network, local)
	if err != nil {
		return nil, err
	}
	if err := bindToDevice(conn, t.tunnel); err != nil {
		conn.Close()
		return nil, err
	}
	s := &echoSocket{conn: conn, dst: &net.IPAddr{IP: t.dst.AsSlice()}, v6: t.dst.Is6(), id: id}
	go s.read(reply)
	return s, nil
}

func bindToDevice(conn net.PacketConn, dev string) error {
	rc, err := conn.(*net.IPConn).SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, dev)
	}); err != nil {
		return err
	}
	return serr
}

// echoPayload marks ipsecgw's echoes for whoever captures them.
const echoPayload = "ipsecgw vpn-monitor"

func (s *echoSocket) send(seq uint16) error {
	var b [header.ICMPHeaderSize + len(echoPayload)]byte
	m := header.ICMPv4(b[:])
	m.SetType(header.ICMPv4EchoRequest)
	if s.v6 {
		m.SetType(header.ICMPv6EchoRequest) // the kernel fills in the ICMPv6 checksum
	}
	m.SetRestOfHeader(uint32(s.id)<<16 | uint32(seq))
	copy(b[header.ICMPHeaderSize:], echoPayload)
	if !s.v6 {
		m.UpdateChecksum()
	}
	_, err := s.conn.WriteTo(b[:], s.dst)
	return err
}

// read hands the sequence numbers of this socket's echo replies to reply,
// until the socket is closed.
func (s *echoSocket) read(reply func(seq uint16)) {
	want := header.ICMPv4EchoReply
	if s.v6 {
		want = header.ICMPv6EchoReply
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		m, ok := header.ParseICMPv4(buf[:n]) // same layout for the ICMPv6 echo
		if !ok || m.Type() != want || m.Code() != 0 || uint16(m.RestOfHeader()>>16) != s.id {
			continue
		}
		reply(uint16(m.RestOfHeader()))
	}
}

func (s *echoSocket) close() { s.conn.Close() }
