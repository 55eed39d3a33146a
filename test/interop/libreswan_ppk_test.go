package interop

import (
	"fmt"
	"testing"
)

// Postquantum preshared keys (RFC 8784) against libreswan 4.x: gwa's
// key manager profile and ppk-profile with ppk-mandatory, pluto's
// ppk=insist and a PPKS secret with the same PPK_ID and key. Both insist,
// so the tunnel comes up only if both mixed the same PPK into SK_d, SK_pi
// and SK_pr; ipsecgw's status says it did.

const (
	lswPPKID = "ppk-libreswan-1"
	lswPPK   = "postquantum preshared key shared with libreswan, 56 chars"
)

var lswPPKConfig = fmt.Sprintf(`set security key-manager profiles km1 static key-id ascii-text %s
set security key-manager profiles km1 static key ascii-text %q
set security ike gateway ike_gw ppk-profile km1
set security ike gateway ike_gw ppk-mandatory
`, lswPPKID, lswPPK)

// plutoPPK adds ppk=insist to pluto's connection of a PPK case.
func (c lswCase) plutoPPK(conf string) string {
	if !c.ppk {
		return conf
	}
	return conf + "\tppk=insist\n"
}

// plutoPPKSecret is the PPKS entry of a PPK case: the PPK_ID, then the key.
func (c lswCase) plutoPPKSecret() string {
	if !c.ppk {
		return ""
	}
	return fmt.Sprintf("%s %s : PPKS %q %q\n", gwkOuter4, gwaOuter4, lswPPKID, lswPPK)
}

// checkLswPPK: ipsecgw's IKE SA with libreswan mixes the PPK in.
func checkLswPPK(t *testing.T, g guestOutput, c lswCase) {
	t.Helper()
	after, err := collectLsw(g, c, "after")
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, ike := range after.status.IKE {
		if ike.State == "UP" && ike.PPKUsed && ike.PPKProfile == "km1" {
			used++
		}
	}
	if used != 1 {
		t.Errorf("ipsecgw's IKE SA with libreswan does not use the PPK: %+v", after.status.IKE)
	}
}
