// Package ike is what both IKE versions share, and what the daemon sees of
// either: the contract between the engines (ike/ikev1, ike/ikev2), the data
// plane and the daemon. Neither engine imports the other, and neither
// imports the configuration: the daemon resolves a configured VPN into a
// Peer (algorithms as rows of package transform, identities, selectors,
// lifetimes, the tunnel's data-plane parameters) and hands it to the engine
// of the gateway's version.
//
//	contract.go  Installer, StagedInstaller, TrafficCounter, ChildSA,
//	             Transport: what an engine needs of the data plane and
//	             the network, and what it hands them
//	peer.go      Peer: a resolved peer, its addresses and failover to a
//	             backup address; the retransmission and re-initiation
//	             policy both versions follow
//	event.go     Event, SAInfo, Drops: what an engine reports
//	failure.go   Failure and Cause: why a negotiation failed or an SA
//	             ended, typed, so that metrics, failover and the
//	             inactive-tunnel reason read the cause, never the text;
//	             FailureLog, the last SAs that ended
//	dpd.go       dead peer detection's modes, decided the same way by both
//
// An engine owns its SAs' state under one mutex; it calls the Installer
// and the Events handler under that lock, so neither may call back into it.
package ike
