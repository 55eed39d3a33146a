package lab

import (
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/ike"
)

func TestEstablished(t *testing.T) {
	s := daemon.Status{
		IKE: []ike.SAInfo{{State: "UP"}, {State: "UP"}, {State: "NEGOTIATING"}},
		SAs: []daemon.SAStatus{{Direction: "inbound"}, {Direction: "outbound"}, {Direction: "inbound"}, {Direction: "inbound"}},
	}
	if ike, child := Established(s); ike != 2 || child != 3 {
		t.Fatalf("Established: %d IKE SAs, %d Child SAs; want 2 and 3", ike, child)
	}
}
