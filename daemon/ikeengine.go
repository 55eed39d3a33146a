package daemon

import (
	"fmt"
	"net/netip"

	"ipsecgw/daemon/ikesock"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
)

// ikeCore is what the daemon asks of the IKE engine of one version, and
// all of it: *ikev1.Engine and *ikev2.Engine implement it alike. Messages
// reach an engine by the version in their header, peers by the version of
// their gateway (or services IKE policy). An engine takes the peer the
// daemon resolved from the configuration (daemon/plan), reports its SAs
// as ike.SAInfo and installs its Child SAs through the ike.Installer it
// is given.
type ikeCore interface {
	// AddPeer configures a peer; it fails when the peer asks for what the
	// engine cannot do.
	AddPeer(p *ike.Peer) error
	// A peer is named by the local address its gateway runs from and its
	// remote address: several gateways may share a remote address.
	// RemovePeerFrom deletes the peer's SAs (telling the peer) and
	// forgets it.
	RemovePeerFrom(local, remote netip.Addr)
	// InitiateFrom negotiates an IKE SA and its first Child SA with the
	// peer; InitiateFromIfIdle does unless one is up or under way.
	InitiateFrom(local, remote netip.Addr) error
	InitiateFromIfIdle(local, remote netip.Addr) error
	// HandleMessage takes one received IKE message (without the non-ESP
	// marker of port 4500).
	HandleMessage(msg []byte, from, to netip.AddrPort)
	SAs() []ike.SAInfo
	Failures() []ike.SAInfo
	// Clear deletes the matching IKE SAs and their Child SAs; kept-up
	// tunnels negotiate again.
	Clear(match func(ike.SAInfo) bool) int
	// ChildBytesReached is the data plane's report that a Child SA carried
	// its soft or hard lifetime in bytes.
	ChildBytesReached(c *ike.ChildSA, hard bool)
	// ChildLifetimes is when each installed Child SA is to be rekeyed and
	// removed, as the engine armed its timers.
	ChildLifetimes() []ike.ScheduledChild
	// Close deletes every SA (telling the peers) and stops the timers.
	Close()
	// Drops counts the messages the engine dropped, by reason.
	Drops() map[string]uint64
}

// ikeEngine is a running engine and the installer it was made with.
type ikeEngine struct {
	ikeCore
	installer *installer
}

// addVPN gives the engine a VPN's resolved peer and, when it has a tunnel
// interface, its data-plane parameters.
func (e *ikeEngine) addVPN(p *ike.Peer, t childTunnel, hasTunnel bool) error {
	if hasTunnel {
		e.installer.setTunnel(p.VPN, t)
	}
	return e.AddPeer(p)
}

// ikeVersions makes the engine of each IKE version the daemon can run.
var ikeVersions = map[int]func(ike.Config) ikeCore{
	2: func(c ike.Config) ikeCore { return ikev2.NewEngine(c) },
}

// ikeEngines is the engines running, by version; copied on write by the
// daemon's goroutine, read by anyone.
type ikeEngines map[int]*ikeEngine

// errNoIKEVersion is a VPN whose IKE version has no engine here: its
// tunnel stays down, and the rest of the commit goes ahead.
type errNoIKEVersion struct{ version int }

func (e errNoIKEVersion) Error() string {
	return fmt.Sprintf("IKE version %d is not implemented; the tunnel stays down", e.version)
}

// ikeEngine returns the running engine of an IKE version, or nil.
func (d *Daemon) ikeEngine(version int) *ikeEngine {
	if m := d.ike.Load(); m != nil {
		return (*m)[version]
	}
	return nil
}

// ikeAll returns the running engines, IKEv1's first.
func (d *Daemon) ikeAll() []*ikeEngine {
	m := d.ike.Load()
	if m == nil {
		return nil
	}
	var out []*ikeEngine
	for v := 1; v <= 2; v++ {
		if e := (*m)[v]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// startIKE returns the engine of a version, made on first use; only the
// daemon's goroutine calls it.
func (d *Daemon) startIKE(version int) (*ikeEngine, error) {
	if e := d.ikeEngine(version); e != nil {
		return e, nil
	}
	mk := ikeVersions[version]
	if mk == nil {
		return nil, errNoIKEVersion{version}
	}
	inst := newInstaller(d, version)
	e := &ikeEngine{installer: inst, ikeCore: mk(ike.Config{Logger: d.log.With("subsystem", "ike", "ike-version", version),
		Transport: d.haTransport(), Installer: inst, Events: d.ikeEvent})}
	next := ikeEngines{}
	if m := d.ike.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	next[version] = e
	d.ike.Store(&next)
	return e, nil
}

// handleIKE hands a received message to the engine of its version.
func (d *Daemon) handleIKE(msg []byte, from, to netip.AddrPort) {
	if e := d.ikeEngine(ikesock.VersionOf(msg)); e != nil {
		e.HandleMessage(msg, from, to)
		return
	}
	d.log.Debug("IKE message of a version no engine runs", "from", from, "version", ikesock.VersionOf(msg))
}
