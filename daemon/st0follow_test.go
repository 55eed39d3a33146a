package daemon

import (
	"reflect"
	"testing"

	"ipsecgw/config/schema"
)

func TestUnitsDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		vpns []unitVPN
		want map[string]bool
	}{
		{"no VPN", nil, map[string]bool{}},
		{"following VPN without SA", []unitVPN{{unit: "st0.1", follows: true}}, map[string]bool{"st0.1": true}},
		{"following VPN with SA", []unitVPN{{unit: "st0.1", follows: true, up: true}}, map[string]bool{}},
		{"on-traffic or manual VPN stays up", []unitVPN{{unit: "st0.1"}}, map[string]bool{}},
		{"shared unit, one up", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.1", follows: true, up: true}}, map[string]bool{}},
		{"shared unit, one up first", []unitVPN{{unit: "st0.1", follows: true, up: true}, {unit: "st0.1", follows: true}}, map[string]bool{}},
		{"shared unit, all down", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.1", follows: true}}, map[string]bool{"st0.1": true}},
		{"shared with a VPN kept up", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.1"}}, map[string]bool{}},
		{"two units", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.2", follows: true, up: true}}, map[string]bool{"st0.1": true}},
	} {
		if got := unitsDown(tc.vpns); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: unitsDown = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFollowsVPN(t *testing.T) {
	st0 := &schema.Unit{Interface: &schema.Interface{Kind: schema.Tunnel}}
	for _, tc := range []struct {
		name string
		v    schema.VPN
		want bool
	}{
		{"immediately", schema.VPN{BindInterface: st0, IKE: &schema.VPNIKE{}, EstablishTunnels: "immediately"}, true},
		{"responder-only", schema.VPN{BindInterface: st0, IKE: &schema.VPNIKE{}, EstablishTunnels: "responder-only"}, true},
		{"on-traffic", schema.VPN{BindInterface: st0, IKE: &schema.VPNIKE{}, EstablishTunnels: "on-traffic"}, false},
		{"manual", schema.VPN{BindInterface: st0, Manual: &schema.ManualSA{}, EstablishTunnels: "immediately"}, false},
		{"no bind-interface", schema.VPN{IKE: &schema.VPNIKE{}, EstablishTunnels: "immediately"}, false},
		{"service unit", schema.VPN{BindInterface: &schema.Unit{Interface: &schema.Interface{Kind: schema.Service}}, IKE: &schema.VPNIKE{}, EstablishTunnels: "immediately"}, false},
	} {
		if got := followsVPN(&tc.v); got != tc.want {
			t.Errorf("%s: followsVPN = %v, want %v", tc.name, got, tc.want)
		}
	}
}
