package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"ipsecgw/config/schema"
	"ipsecgw/netio"
)

// The outer side of raw ESP (security ipsec data-plane): raw sockets,
// AF_XDP rings (xdp) or AF_PACKET TPACKET_V2 or V3 rings (packet-ring), each
// with raw sockets behind it for what the rings do not carry; auto takes
// the first of xdp, packet-ring and socket that the host allows. It is
// chosen once, at start; the log says which and why, and the status
// shows it.

// DataPlaneStatus is the raw ESP path in use.
type DataPlaneStatus struct {
	// Mode is what runs: "xdp", "packet-ring" or "socket".
	Mode string `json:"mode"`
	// Configured is the data-plane statement read at start ("" for the
	// default); Committed, when different, is the one committed since,
	// which takes effect at the next start.
	Configured string `json:"configured,omitempty"`
	Committed  string `json:"committed,omitempty"`
	// Detail says where the XDP program or the rings run (interface,
	// native or generic mode, queues); Fallback why Wanted, a faster
	// mode asked for, is not running.
	Detail   string          `json:"detail,omitempty"`
	Fallback string          `json:"fallback,omitempty"`
	XDP      *netio.XDPStats `json:"xdp,omitempty"`
	// Wanted is the mode Fallback speaks of; PacketRing the counters of
	// packet-ring.
	Wanted     string                 `json:"wanted,omitempty"`
	PacketRing *netio.PacketRingStats `json:"packet-ring,omitempty"`
}

// xdpHost is a Host that can open the AF_XDP path: LinuxHost. The
// in-memory hosts of tests cannot, and run on sockets.
type xdpHost interface {
	OpenXDP() (*netio.XDP, error)
}

// OpenXDP attaches the XDP program and opens the AF_XDP sockets.
func (LinuxHost) OpenXDP() (*netio.XDP, error) { return netio.OpenXDP() }

// packetRingHost is a Host that can open the packet-ring path: LinuxHost.
type packetRingHost interface {
	OpenPacketRing() (*netio.PacketRing, error)
}

// OpenPacketRing checks for AF_PACKET rings and chooses their TPACKET
// version.
func (LinuxHost) OpenPacketRing() (*netio.PacketRing, error) { return netio.OpenPacketRing() }

// dataPlane chooses the raw ESP path for the configured mode and returns
// the senders to give the engine: the raw sockets, or the rings in front
// of them.
func (d *Daemon) dataPlane(asked string, send4, send6 netio.Sender) (netio.Sender, netio.Sender) {
	d.dataPlaneStatus = DataPlaneStatus{Mode: "socket", Configured: asked}
	st := &d.dataPlaneStatus
	wrap := func(s func(netio.Sender) netio.Sender) (netio.Sender, netio.Sender) {
		send4 = s(send4)
		if send6 != nil {
			send6 = s(send6)
		}
		return send4, send6
	}
	if asked != "xdp" && asked != "packet-ring" && asked != "auto" {
		// Rings are asked for, not the default: packet captures on the
		// outer interface (tcpdump, tshark) see no ESP that AF_XDP
		// carries, in either direction.
		d.log.Info("data plane: raw sockets for raw ESP (set security ipsec data-plane xdp, packet-ring or auto for rings)")
		return send4, send6
	}
	var why []string
	if asked != "packet-ring" {
		x, err := d.openXDP()
		if err == nil {
			d.xdp = x
			d.undo = append(d.undo, x.Close)
			st.Mode = "xdp"
			d.log.Info("data plane: AF_XDP for ESP; the program goes on the external interfaces of the VPNs", "configured", asked)
			return wrap(x.Sender)
		}
		why = append(why, fmt.Sprintf("AF_XDP unavailable: %v", err))
		st.Wanted = "xdp"
	}
	if asked != "xdp" {
		p, err := d.openPacketRing()
		if err == nil {
			d.packetRing = p
			d.undo = append(d.undo, p.Close)
			st.Mode = "packet-ring"
			st.Fallback = strings.Join(why, "; ")
			d.log.Info("data plane: AF_PACKET rings for raw ESP on the external interfaces of raw ESP VPNs", "configured", asked, "not-xdp", st.Fallback, "tpacket", p.Version())
			return wrap(p.Sender)
		}
		why = append(why, fmt.Sprintf("AF_PACKET rings unavailable: %v", err))
		if st.Wanted == "" {
			st.Wanted = "packet-ring"
		}
	}
	st.Fallback = strings.Join(why, "; ")
	d.log.Warn("data plane: rings unavailable; running raw ESP on raw sockets", "configured", asked, "reason", st.Fallback)
	return send4, send6
}

func (d *Daemon) openXDP() (*netio.XDP, error) {
	h, ok := d.host.(xdpHost)
	if !ok {
		return nil, errors.New("this host has no AF_XDP")
	}
	return h.OpenXDP()
}

func (d *Daemon) openPacketRing() (*netio.PacketRing, error) {
	h, ok := d.host.(packetRingHost)
	if !ok {
		return nil, errors.New("this host has no AF_PACKET rings")
	}
	return h.OpenPacketRing()
}

// listenESP opens a raw ESP socket: beside packet rings, one that leaves
// them what they take.
func (d *Daemon) listenESP(family int) (netio.Receiver, error) {
	if d.packetRing != nil {
		return d.packetRing.ListenESP(family)
	}
	return d.host.ListenESP(family)
}

// listenUDP opens a UDP socket for IKE and ESP in UDP: beside packet
// rings, one that leaves them the ESP they take.
func (d *Daemon) listenUDP(family int, port uint16) (netio.Receiver, error) {
	if d.packetRing != nil {
		return d.packetRing.ListenUDP(family, port)
	}
	return d.host.ListenUDP(family, port)
}

// attachXDP puts the XDP program (or the packet rings) on the external
// interfaces of the VPNs of cfg and reads the new AF_XDP sockets or
// rings as ESP receivers, raw and in UDP (the raw and UDP sockets stay,
// for the fragments the kernel reassembles and for IKE). An interface
// that refuses stays on the sockets, with a warning: a commit never
// fails for it.
func (d *Daemon) attachXDP(cfg *schema.Config) {
	if d.xdp == nil && d.packetRing == nil {
		return
	}
	var local []netip.Addr
	add := func(u *schema.Unit) {
		if u == nil {
			return
		}
		for _, a := range u.Addresses {
			if !slices.Contains(local, a.Addr()) {
				local = append(local, a.Addr())
			}
		}
	}
	// ESP in UDP arrives on 4500 (NAT traversal) and the udp-encapsulate
	// ports: the XDP program steers those too.
	ports := []uint16{4500}
	for _, v := range cfg.IPsec.VPNs {
		if v.UDPEncapsulate && !slices.Contains(ports, v.UDPDestPort) {
			ports = append(ports, v.UDPDestPort)
		}
	}
	setPorts := d.xdp.SetUDPPorts
	if d.packetRing != nil {
		setPorts = d.packetRing.SetUDPPorts
	}
	if err := setPorts(ports); err != nil {
		d.log.Warn("data plane: UDP encapsulation ports on the rings", "err", err)
	}
	for _, v := range cfg.IPsec.VPNs {
		switch {
		case v.Manual != nil:
			add(v.Manual.ExternalInterface)
		case v.IKE != nil && v.IKE.Gateway != nil:
			add(v.IKE.Gateway.ExternalInterface)
		}
	}
	if len(local) == 0 {
		return
	}
	attach, describe, what := d.xdp.Attach, d.xdp.Describe, "AF_XDP"
	if d.packetRing != nil {
		attach, describe, what = d.packetRing.Attach, d.packetRing.Describe, "AF_PACKET"
	}
	recv, err := attach(local)
	if err != nil {
		d.log.Warn("data plane: "+what+" rings not on every raw ESP interface; those stay on raw sockets", "err", err)
	}
	for _, r := range recv {
		// The family only matters for UDP receivers.
		if err := d.engine.AddReceiver(r, 4, 0); err != nil {
			d.log.Warn("data plane: "+what+" receiver", "err", err)
		}
	}
	if len(recv) > 0 {
		d.log.Info("data plane: "+what+" rings for raw ESP", "where", describe())
	}
}

// dataPlaneNow is the status of the raw ESP path, with the ring counters
// and the committed mode when it differs from the running one.
func (d *Daemon) dataPlaneNow() DataPlaneStatus {
	s := d.dataPlaneStatus
	if d.xdp != nil {
		st := d.xdp.Stats()
		s.XDP = &st
		s.Detail = d.xdp.Describe()
	}
	if d.packetRing != nil {
		st := d.packetRing.Stats()
		s.PacketRing = &st
		s.Detail = d.packetRing.Describe()
	}
	if cfg := d.cfg.Load(); cfg != nil && cfg.IPsec.DataPlane != s.Configured {
		s.Committed = cfg.IPsec.DataPlane
		if s.Committed == "" {
			s.Committed = "default"
		}
	}
	return s
}
