// Package resolve is where the daemon translates the configuration into what
// it runs. Today that is the IKE peer of a VPN: Peer resolves a VPN of
// the Junos model (its gateway, policies, proposals, identities and
// traffic selectors) into an ike.Peer, with the algorithms looked up in
// the transform table and checked against what the gateway's IKE version
// can negotiate, so that a bad proposal fails at commit rather than in
// the middle of an exchange. The IKE engines never read the
// configuration: they take the resolved peer.
package resolve
