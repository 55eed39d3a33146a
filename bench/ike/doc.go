// Package ike is the IKEv2 tunnel-setup benchmark, `ipsecgw bench ike`: a
// load generator that opens N IKE SAs, each with one Child SA (PSK, or
// ECDSA P-256 certificates in the +ecdsa rows; ECP-256 or Curve25519,
// AES-256-GCM), against a responder as fast as it
// can with a bounded number in flight, and reports the setup rate, latency
// percentiles, failures and the responder's memory per tunnel.
//
// The responders are separate processes in network namespaces of their
// own: `ipsecgw daemon` with a responder-only VPN (its data plane installs
// every Child SA for real) and strongSwan's charon, one after the other, so
// that the figures of one run compare on the same machine. The generator
// is ipsecgw's own IKEv2 engine (several, one per core, behind the same
// sockets) in this process, with sockets created inside the generator's
// namespace and an Installer that installs nothing.
//
// Latency is from a tunnel's first IKE_SA_INIT request to the IKE_AUTH
// answer that brings its Child SA; the rate is tunnels up divided by the
// time from the first request to the last tunnel decided. Memory is the
// growth of the responder's resident set (VmRSS) over the run divided by
// the tunnels up, read while every SA is still established; each
// responder's own count of SAs is read afterwards as a check.
//
// Needs root; without it the command says so and exits 0.
package ike
