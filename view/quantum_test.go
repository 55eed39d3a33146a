package view

import (
	"testing"

	"ipsecgw/ike"
)

func TestQuantumSecured(t *testing.T) {
	for _, tc := range []struct {
		info ike.SAInfo
		want bool
	}{
		{ike.SAInfo{}, false},
		{ike.SAInfo{PPKProfile: "km1"}, false},
		{ike.SAInfo{PPKProfile: "km1", PPKUsed: true}, true},
		{ike.SAInfo{AdditionalKE: []string{"ke1 DH-group-19"}}, false},
		{ike.SAInfo{AdditionalKE: []string{"ke1 DH-group-19", "ke2 ML-KEM-768"}}, true},
	} {
		if got := quantumSecured(tc.info); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.info, got, tc.want)
		}
	}
}
