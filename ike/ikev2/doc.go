// Package ikev2 is the IKEv2 daemon (RFC 7296).
//
// Its negotiation decisions need no I/O and no state: what to offer, what
// to choose from a peer's offer, whether the peer's choice is acceptable,
// which traffic a Child SA covers, and whether a NAT sits between the
// peers. The exchanges call them and send what they return; the codec is
// ike/wire, the algorithms are rows of package transform. The contract
// with the daemon and the data plane (the resolved ike.Peer, ike.Installer,
// ike.ChildSA, ike.Event, ike.Failure) is package ike's, shared with
// ikev1; the engine never reads the configuration.
//
//	proposal.go   resolved proposals → SA payload proposals    §3.3
//	              IKEOffer, ESPOffer, Describe
//	select.go     the responder's choice, the initiator's check §2.7, §3.3.6
//	              SelectIKE, SelectESP, CheckIKEChosen, CheckESPChosen
//	selectors.go  traffic selectors, narrowing                 §2.9, §3.13
//	              PrefixSelector, Narrow, CheckNarrowed
//	natd.go       NAT detection                                §2.23
//	              NATDetectionNotifies, CheckNATDetection
//	errors.go     failures and the Notify that reports each    §3.10.1
//	fragment.go   IKE fragmentation: negotiation, SKF sending, RFC 7383
//	              reassembly with limits; FragmentStats
//	certauth.go   certificate authentication: CERT, CERTREQ,   §2.15, RFC 7427
//	              signature AUTH through the peer's ike.Authenticator
//
// Every failure a peer can cause wraps ErrNoProposalChosen or
// ErrTSUnacceptable, or comes from the codec's ErrInvalidSyntax; NotifyFor
// names the Notify to answer with, so an exchange returns the error and
// the notification together.
package ikev2
