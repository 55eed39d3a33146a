package ikev2

import (
	"net/netip"
	"time"

	"ipsecgw/ike/keymat"
	"ipsecgw/transform"
)

// Installer is what the IKE daemon needs of the data plane, and all of it:
// the control plane never touches a packet, and ike/... never imports
// dataplane/... (the daemon adapts one to the other).
type Installer interface {
	// AllocateSPI returns an inbound SPI no installed or pending SA uses.
	AllocateSPI() (uint32, error)
	// InstallChild installs both directions of a negotiated Child SA for
	// the VPN; the inbound SA is in place before the outbound one is used.
	InstallChild(vpn string, c *ChildSA) error
	// RemoveChild uninstalls both directions.
	RemoveChild(vpn string, c *ChildSA)
}

// ChildSA is a negotiated pair of ESP SAs.
type ChildSA struct {
	InboundSPI, OutboundSPI uint32
	Encryption, Integrity   *transform.Transform
	Inbound, Outbound       keymat.DirectionKeys
	ESN                     bool
	Local, Remote           netip.Addr // outer addresses
	// UDPEncapsulation: ESP in UDP between these ports (NAT traversal).
	UDPEncapsulation      bool
	LocalPort, RemotePort uint16
	LocalTS, RemoteTS     []netip.Prefix
	// SoftBytes and HardBytes are the lifetime in bytes (lifetime-kilobytes)
	// of each direction: the installer tells the engine when one is reached
	// (Engine.ChildBytesReached). Zero: no limit.
	SoftBytes, HardBytes uint64

	born time.Time // when installed: lifetimes count from here
}

// TrafficCounter is implemented by an Installer that can tell how many
// ESP packets a Child SA received and sent: dead peer detection's
// optimized and probe-idle-tunnel modes look at them. Without it every mode
// probes a peer that has been quiet for the interval.
type TrafficCounter interface {
	ChildTraffic(c *ChildSA) (in, out uint64)
}
