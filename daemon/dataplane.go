package daemon

import (
	"fmt"
	"net/netip"
	"slices"

	"ipsecgw/config/schema"
	"ipsecgw/netio"
)

// The outer side of raw ESP (security ipsec data-plane): raw sockets, or
// with data-plane xdp AF_XDP rings where the host allows them (raw
// sockets otherwise). It is chosen once, at start; the log says which and
// why, and the status shows it.

// DataPlaneStatus is the raw ESP path in use.
type DataPlaneStatus struct {
	// Mode is what runs: "xdp" or "socket".
	Mode string `json:"mode"`
	// Configured is the data-plane statement read at start ("" for the
	// default); Committed, when different, is the one committed since,
	// which takes effect at the next start.
	Configured string `json:"configured,omitempty"`
	Committed  string `json:"committed,omitempty"`
	// Detail says where the XDP program runs (interface, native or
	// generic mode, queues); Fallback why a faster mode is not running.
	Detail   string          `json:"detail,omitempty"`
	Fallback string          `json:"fallback,omitempty"`
	XDP      *netio.XDPStats `json:"xdp,omitempty"`
}

// xdpHost is a Host that can open the AF_XDP path: LinuxHost. The
// in-memory hosts of tests cannot, and run on sockets.
type xdpHost interface {
	OpenXDP() (*netio.XDP, error)
}

// OpenXDP attaches the XDP program and opens the AF_XDP sockets.
func (LinuxHost) OpenXDP() (*netio.XDP, error) { return netio.OpenXDP() }

// dataPlane chooses the raw ESP path for the configured mode and returns
// the senders to give the engine: the raw sockets, or the rings in front
// of them.
func (d *Daemon) dataPlane(asked string, send4, send6 netio.Sender) (netio.Sender, netio.Sender) {
	d.dataPlaneStatus = DataPlaneStatus{Mode: "socket", Configured: asked}
	st := &d.dataPlaneStatus
	if asked != "xdp" {
		// AF_XDP is asked for, not the default: packet captures on the
		// outer interface (tcpdump, tshark) see no ESP that the rings
		// carry, in either direction.
		d.log.Info("data plane: raw sockets for raw ESP (set security ipsec data-plane xdp for AF_XDP rings)")
		return send4, send6
	}
	h, ok := d.host.(xdpHost)
	if !ok {
		st.Fallback = "this host has no AF_XDP"
		d.log.Warn("data plane: data-plane xdp is configured; running on raw sockets", "reason", st.Fallback)
		return send4, send6
	}
	x, err := h.OpenXDP()
	if err != nil {
		st.Fallback = fmt.Sprintf("AF_XDP unavailable: %v", err)
		d.log.Warn("data plane: data-plane xdp is configured but AF_XDP is unavailable; running on raw sockets", "err", err)
		return send4, send6
	}
	d.xdp = x
	d.undo = append(d.undo, x.Close)
	st.Mode = "xdp"
	d.log.Info("data plane: AF_XDP for raw ESP; the program goes on the external interfaces of raw ESP VPNs")
	send4 = x.Sender(send4)
	if send6 != nil {
		send6 = x.Sender(send6)
	}
	return send4, send6
}

// attachXDP puts the XDP program on the interfaces of the raw ESP VPNs of
// cfg (their external-interface addresses) and reads the new AF_XDP
// sockets as raw ESP receivers (the raw sockets stay, for the fragments
// the kernel reassembles). VPNs with udp-encapsulate are left out: on a
// veth the program would turn off the segmentation offloads their UDP
// runs ride on. An interface that refuses stays on the raw sockets,
// with a warning: a commit never fails for it.
func (d *Daemon) attachXDP(cfg *schema.Config) {
	if d.xdp == nil {
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
	for _, v := range cfg.IPsec.VPNs {
		switch {
		case v.UDPEncapsulate:
		case v.Manual != nil:
			add(v.Manual.ExternalInterface)
		case v.IKE != nil && v.IKE.Gateway != nil:
			add(v.IKE.Gateway.ExternalInterface)
		}
	}
	if len(local) == 0 {
		return
	}
	recv, err := d.xdp.Attach(local)
	if err != nil {
		d.log.Warn("data plane: XDP not on every raw ESP interface; those stay on raw sockets", "err", err)
	}
	for _, r := range recv {
		// The family only matters for UDP receivers.
		if err := d.engine.AddReceiver(r, 4, 0); err != nil {
			d.log.Warn("data plane: AF_XDP receiver", "err", err)
		}
	}
	if len(recv) > 0 {
		d.log.Info("data plane: AF_XDP rings for raw ESP", "where", d.xdp.Describe())
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
	if cfg := d.cfg.Load(); cfg != nil && cfg.IPsec.DataPlane != s.Configured {
		s.Committed = cfg.IPsec.DataPlane
		if s.Committed == "" {
			s.Committed = "default"
		}
	}
	return s
}
