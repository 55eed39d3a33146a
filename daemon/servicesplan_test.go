package daemon

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/netio"
)

// buildServices is servicesConfig between 192.0.2.1 and 192.0.2.2 with
// extra set lines after it.
func buildServices(t *testing.T, extra string) *schema.Config {
	t.Helper()
	tr, err := config.Parse("t.conf", []byte(fmt.Sprintf(servicesConfig, 1, 2)+extra), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestServicesTunnelMTU: the inside interface's MTU is the smallest
// tunnel-mtu of its tunnels (a term's, else its service set's), not
// below IPv6's minimum, as the plan computes it from the commit's one
// list of services tunnels.
func TestServicesTunnelMTU(t *testing.T) {
	for _, tc := range []struct {
		extra string
		want  int
	}{
		{"", defaultTunnelMTU},
		{"set services service-set ss ipsec-vpn-options tunnel-mtu 1350\n", 1350},
		{"set services service-set ss ipsec-vpn-options tunnel-mtu 1350\nset services ipsec-vpn rule r term ike then tunnel-mtu 1300\n", 1300},
		{"set services ipsec-vpn rule r term man then tunnel-mtu 1000\n", minIPv6MTU},
	} {
		cfg := buildServices(t, tc.extra)
		w, err := newPlan(cfg, ServiceTunnels(cfg))
		if err != nil {
			t.Fatalf("%q: %v", tc.extra, err)
		}
		tn, ok := w.tunnels["sp-0-0-0.1"]
		if !ok {
			t.Fatalf("%q: no tunnel sp-0-0-0.1 planned: %v", tc.extra, w.tunnels)
		}
		if tn.mtu != tc.want {
			t.Errorf("%q: MTU %d, want %d", tc.extra, tn.mtu, tc.want)
		}
	}
}

// TestPreflightServices: what the services model accepts and this gateway
// cannot run fails the commit's preflight with the term it is about.
func TestPreflightServices(t *testing.T) {
	h, err := NewMemHost(netio.NewMemNetwork(), []string{"eth1"}, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{host: h}
	cfg := buildServices(t, "")
	if err := d.preflight(cfg, ServiceTunnels(cfg)); err != nil {
		t.Fatalf("servicesConfig: %v", err)
	}
	for _, tc := range []struct {
		extra, want string
	}{
		{"set interfaces sp-0/0/0 host-interface sp-a-long-name\n",
			`service set ss rule r term man: interface sp-0/0/0.1: its Linux name sp-a-long-name.1 is longer than 15 characters: name it with "set interfaces sp-0/0/0 host-interface NAME"`},
		{"set services ipsec-vpn rule r term man then remote-gateway 2001:db8::2\n",
			"service set ss rule r term man: remote gateway 2001:db8::2 and local gateway 192.0.2.1 are not of one family"},
	} {
		cfg := buildServices(t, tc.extra)
		err := d.preflight(cfg, ServiceTunnels(cfg))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", strings.TrimSpace(tc.extra), err, tc.want)
		}
	}
}
