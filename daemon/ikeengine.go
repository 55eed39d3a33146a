package daemon

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/ike/ikev2"
)

// ikeEngine is what the daemon asks of the IKE engine of one version, and
// all of it. Today *ikev2.Engine is the only one (through ikev2Engine);
// IKEv1 (package ike/ikev1) plugs in by implementing this and adding its
// constructor to ikeVersions under 1. Messages reach an engine by the
// version in their header, peers by the version of their IKE policy or
// gateway.
//
// An engine reports its SAs as ikev2.SAInfo and installs its Child SAs
// through the ikev2.Installer it is given (ikev2.Config.Installer), whose
// ChildSA carries nothing version-specific: SPIs, transforms, keys,
// addresses and selectors.
type ikeEngine interface {
	// AddVPN configures the peer of an IKE VPN, whose outer source
	// address is local, and returns the remote address the engine keys it
	// by. It fails when the VPN asks for what the engine cannot do.
	AddVPN(v *schema.VPN, local netip.Addr) (remote netip.Addr, err error)
	// RemovePeer deletes the peer's SAs (telling the peer) and forgets it.
	RemovePeer(remote netip.Addr)
	// Initiate negotiates an IKE SA and its first Child SA with the peer;
	// InitiateIfIdle does unless one is up or under way.
	Initiate(remote netip.Addr) error
	InitiateIfIdle(remote netip.Addr) error
	// HandleMessage takes one received IKE message (without the non-ESP
	// marker of port 4500).
	HandleMessage(msg []byte, from, to netip.AddrPort)
	SAs() []ikev2.SAInfo
	Failures() []ikev2.SAInfo
	// Clear deletes the matching IKE SAs and their Child SAs; kept-up
	// tunnels negotiate again.
	Clear(match func(ikev2.SAInfo) bool) int
	// ChildBytesReached is the data plane's report that a Child SA carried
	// its soft or hard lifetime in bytes.
	ChildBytesReached(c *ikev2.ChildSA, hard bool)
	// Close deletes every SA (telling the peers) and stops the timers.
	Close()
	// Drops counts the messages the engine dropped, by reason.
	Drops() map[string]uint64
}

// ikeVersions makes the engine of each IKE version the daemon can run.
var ikeVersions = map[int]func(ikev2.Config) ikeEngine{
	2: func(c ikev2.Config) ikeEngine { return ikev2Engine{ikev2.NewEngine(c)} },
}

// ikev2Engine is *ikev2.Engine with the peer built from the Junos model.
type ikev2Engine struct{ *ikev2.Engine }

func (e ikev2Engine) AddVPN(v *schema.VPN, local netip.Addr) (netip.Addr, error) {
	p, err := ikev2.PeerFromConfig(v, local)
	if err != nil {
		return netip.Addr{}, err
	}
	e.AddPeer(p)
	return p.Remote, nil
}

// ikeEngines is the engines running, by version; copied on write by the
// daemon's goroutine, read by anyone.
type ikeEngines map[int]ikeEngine

// errNoIKEVersion is a VPN whose IKE version has no engine here: its
// tunnel stays down, and the rest of the commit goes ahead.
type errNoIKEVersion struct{ version int }

func (e errNoIKEVersion) Error() string {
	if e.version == 1 {
		return "IKEv1 is not implemented yet; the tunnel stays down"
	}
	return fmt.Sprintf("IKE version %d is not implemented; the tunnel stays down", e.version)
}

// ikeVersionOf is the major version in an IKE header (RFC 7296 §3.1,
// RFC 2408 §3.1: octet 17, high nibble); 0 when msg is too short for one.
func ikeVersionOf(msg []byte) int {
	const headerLen, versionOffset = 28, 17
	if len(msg) < headerLen {
		return 0
	}
	return int(msg[versionOffset] >> 4)
}

// ikeEngine returns the running engine of an IKE version, or nil.
func (d *Daemon) ikeEngine(version int) ikeEngine {
	if m := d.ike.Load(); m != nil {
		return (*m)[version]
	}
	return nil
}

// ikeAll returns the running engines, IKEv1's first.
func (d *Daemon) ikeAll() []ikeEngine {
	m := d.ike.Load()
	if m == nil {
		return nil
	}
	var out []ikeEngine
	for v := 1; v <= 2; v++ {
		if e := (*m)[v]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// startIKE returns the engine of a version, made on first use; only the
// daemon's goroutine calls it.
func (d *Daemon) startIKE(version int) (ikeEngine, error) {
	if e := d.ikeEngine(version); e != nil {
		return e, nil
	}
	mk := ikeVersions[version]
	if mk == nil {
		return nil, errNoIKEVersion{version}
	}
	e := mk(ikev2.Config{Logger: d.log.With("subsystem", "ike", "ike-version", version), Transport: d.ikeTransport,
		Installer: newInstaller(d, version), Events: d.ikeEvent})
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
	if e := d.ikeEngine(ikeVersionOf(msg)); e != nil {
		e.HandleMessage(msg, from, to)
		return
	}
	d.log.Debug("IKE message of a version no engine runs", "from", from, "version", ikeVersionOf(msg))
}
