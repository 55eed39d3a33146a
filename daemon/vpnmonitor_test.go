package daemon

import (
	"net/netip"
	"testing"
)

func TestRouteThrough(t *testing.T) {
	onLink := []netip.Prefix{netip.MustParsePrefix("169.254.0.0/30")}
	for k, want := range map[string]bool{
		"198.18.2.0/24 dev st0.1 mtu=1400":   true,
		"198.18.2.0/24 dev st0.1 ":           true,
		"198.18.2.0/24 dev st0.10 ":          false,
		"198.18.3.0/24 via 169.254.0.2":      true,
		"198.18.3.0/24 via 192.0.2.2":        false,
		"2001:db8:2::/64 via 2001:db8:ff::2": false,
	} {
		if got := routeThrough(k, "st0.1", onLink); got != want {
			t.Errorf("%q: %v, want %v", k, got, want)
		}
	}
}
