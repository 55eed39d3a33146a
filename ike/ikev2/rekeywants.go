package ikev2

// The VPNs asked for across an IKE SA rekey. The Child SAs go to the new
// IKE SA (handOver, createchild.go), and so must what was asked for and
// not yet up: a want (vpnchild.go: traffic's, a duplicate's, a given-up
// initiation's) set while the rekey was in flight waits on the old IKE SA
// (startVPNChildren retries while sa.ikeRekey is out), and a kept-up VPN
// the peer refused waits there for createFailed's second try. Both waits
// end with the old IKE SA, so an on-traffic VPN stayed down until traffic
// asked again, a VPN carried from a duplicate until its traffic did, and
// a kept-up VPN without a Child SA at the rekey until the IKE SA was next
// negotiated anew.
//
// The new IKE SA takes the wants still to ask for (not tried) and those
// whose request is out on the old one (its answer makes the Child SA on
// an IKE SA about to go). A want the peer refused there stays behind, as
// it would have on the old IKE SA: traffic asks again for an on-traffic
// VPN (createFailed). tried does not move: the new IKE SA has asked for
// nothing, and what a kept-up VPN's tried guarded (asking once, then
// again after ike.ReinitiateDelay) was bound to the old IKE SA; the new
// one asks once for each kept-up VPN it lacks.
//
// It asks by role (startVPNChildrenAsRole), as after IKE_AUTH: both
// sides hand over, each as its rekey exchange ends, and both lack the
// same kept-up VPNs. The new IKE SA's initiator is the rekey's (§2.18),
// so the side whose request made it asks at once, having its answer in
// hand, and the side that answered waits responderVPNWait, by when that
// Child SA has come and vpnWithoutChild skips it. Asking at once on both
// would cross two CREATE_CHILD_SAs for one VPN, which childdup.go's
// tie-break would settle only after both Child SAs were made. The old IKE
// SA's DELETE may still be out as the initiator asks: it is an exchange of
// the old IKE SA, and the peer has the new one already (it answered the
// rekey), so the new request need not wait for it. In a simultaneous
// rekey (ikerekeycollide.go) the survivor takes the wants whoever made it,
// and its own initiator asks at once as well.

// takeWants has n, the IKE SA replacing sa, ask for the VPNs sa was
// asked for and did not get, and for the kept-up VPNs without a Child SA
// on n. The Child SAs are on n already.
func (n *ikeSA) takeWants(sa *ikeSA) {
	for _, v := range sa.peer.vpns {
		asked := sa.create != nil && sa.create.vpn.VPN == v.VPN
		if sa.wanted[v.VPN] && (!sa.tried[v.VPN] || asked) {
			n.want(v)
			delete(sa.wanted, v.VPN)
		}
	}
	n.startVPNChildrenAsRole() // vpnchild.go
}
