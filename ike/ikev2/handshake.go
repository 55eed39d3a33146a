package ikev2

import (
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// handshake is what an IKE SA needs only until IKE_AUTH is done, kept
// apart from the SA's long-lived state as crypto/tls keeps its handshake
// state apart from Conn: the nonces and the key exchange of IKE_SA_INIT,
// the cookie a responder asked for (§2.6), the raw IKE_SA_INIT messages
// the AUTH payloads sign (§2.15), and the initiator's ESP offer with its
// inbound SPI. The SA drops it (doneHandshake) once IKE_AUTH completes:
// with 100,000 tunnels it is a good part of an SA's memory. An SA made by
// an IKE SA rekey never has one.
type handshake struct {
	ni, nr            []byte
	kex               transform.KeyExchange // the initiator's; a responder's is used at once
	cookie            []byte
	initReq, initResp []byte
	sentESP           []wire.Proposal // the initiator's ESP offer, with its SPI
	childInSPI        uint32
	// cert is signature authentication's state (certauth.go).
	cert certHandshake
	// ppk is the postquantum preshared key's state (ppk.go).
	ppk ppkHandshake
	// inter is IKE_INTERMEDIATE's state (intermediate.go).
	inter intermediate
	// vpn is the VPN whose Child SA the initiator's IKE_AUTH negotiates
	// (vpns.go).
	vpn *vpn
}

// doneHandshake drops the handshake's state and returns it, for what the
// end of IKE_AUTH still reads of it.
func (sa *ikeSA) doneHandshake() *handshake {
	hs := sa.hs
	sa.hs = nil
	return hs
}
