package ike

import (
	"io"
	"log/slog"
	"net/netip"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/keymat"
	"ipsecgw/transform"
)

// Installer is what an IKE engine needs of the data plane, and all of it:
// the control plane never touches a packet, and ike/... never imports
// dataplane/... (the daemon adapts one to the other). The vpn an engine
// names is its Peer's VPN.
type Installer interface {
	// AllocateSPI returns an inbound SPI no installed or pending SA uses.
	AllocateSPI() (uint32, error)
	// InstallChild installs both directions of a negotiated Child SA for
	// the VPN; the inbound SA is in place before the outbound one is used.
	InstallChild(vpn string, c *ChildSA) error
	// RemoveChild uninstalls both directions.
	RemoveChild(vpn string, c *ChildSA)
}

// StagedInstaller is an Installer that can install the directions of a
// pair separately (IKEv1's Quick Mode uses it so that neither side sends
// on a pair the other cannot receive on yet). RemoveChild removes whatever
// of the pair is in.
type StagedInstaller interface {
	Installer
	// InstallInbound installs only c's inbound SA.
	InstallInbound(vpn string, c *ChildSA) error
	// InstallOutbound installs c's outbound SA; c's inbound SA is in.
	InstallOutbound(vpn string, c *ChildSA) error
}

// TrafficCounter is implemented by an Installer that can tell how many
// ESP packets a Child SA received and sent: dead peer detection's
// optimized and probe-idle-tunnel modes look at them. Without it every mode
// probes a peer that has been quiet for the interval.
type TrafficCounter interface {
	ChildTraffic(c *ChildSA) (in, out uint64)
}

// ChildSA is a negotiated pair of ESP SAs (an IKEv2 Child SA, an IKEv1
// IPsec SA pair). It carries nothing version-specific.
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
	// (the engine's ChildBytesReached). Zero: no limit.
	SoftBytes, HardBytes uint64

	// Born is when the engine installed it: lifetimes count from here,
	// also when a rekeyed IKE SA takes it over.
	Born time.Time

	// VPN is the VPN the Child SA belongs to: one IKE SA may carry the
	// Child SAs of several VPNs on its gateway (IKEv2, ike/ikev2/vpns.go).
	// Empty: the engine's peer's only VPN.
	VPN string

	// AddKE names the additional key exchanges (RFC 9370) whose shared
	// secrets its keys came from, after the PFS group's, "ke1 ML-KEM-768";
	// empty: none (IKEv2, ike/ikev2/followup.go).
	AddKE []string

	// PFSGroup is the IANA number of the key exchange method (Diffie-Hellman
	// group, 14, 20, ...) whose shared secret its keys came from (perfect
	// forward secrecy); 0: none, as for IKEv2's first Child SA.
	PFSGroup int
}

// Transport sends an IKE message. The daemon's is UDP port 500 (4500 after
// NAT traversal); tests join two engines directly.
type Transport interface {
	Send(msg []byte, from, to netip.AddrPort) error
}

// Config is what an engine of either version is made with.
type Config struct {
	Logger    *slog.Logger
	Transport Transport
	Installer Installer
	Clock     clock.Clock // clock.Real{} when nil
	Rand      io.Reader   // crypto/rand when nil
	// Events, when set, hears of every SA coming up, going down, being
	// rekeyed, and of failed negotiations (see Event).
	Events func(Event)
}
