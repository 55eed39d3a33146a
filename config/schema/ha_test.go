package schema

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

const haConf = `groups {
    node1 { system { host-name gw1; } }
    node2 { system { host-name gw2; } }
}
apply-groups "${node}";
chassis {
    high-availability {
        node 1 { address 198.51.100.11; }
        node 2 { address 198.51.100.12; }
        services-redundancy-group 1 {
            virtual-ip 1 { ip 198.51.100.10/24; interface eth1; }
            virtual-ip 2 { ip 203.0.113.1/25; interface lan0; }
            managed-services ipsec;
            node 1 activeness-priority 200;
            node 2 activeness-priority 100;
            preemption;
        }
        services-redundancy-group 2 {
            virtual-ip 1 { ip 198.51.100.20/24; interface eth1; }
        }
    }
}
`

func TestHighAvailabilityModel(t *testing.T) {
	c, err := build(t, haConf, Options{NodeID: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.HostName != "gw2" {
		t.Errorf("${node} did not select group node2: host-name %q", c.HostName)
	}
	h := c.HA
	if h == nil || h.LeaseTTL != 2*time.Second || len(h.Nodes) != 2 || len(h.SRGs) != 2 {
		t.Fatalf("model: %+v", h)
	}
	g := h.SRGs[0]
	if g.ID != 1 || !g.Preemption || g.Priority[1] != 200 || g.Priority[2] != 100 || len(g.VirtualIPs) != 2 ||
		g.VirtualIPs[1].Prefix != netip.MustParsePrefix("203.0.113.1/25") || g.VirtualIPs[1].Interface != "lan0" ||
		len(g.Services) != 1 || g.Services[0] != "ipsec" {
		t.Fatalf("SRG 1: %+v", g)
	}
	if h.SRGOf(netip.MustParseAddr("198.51.100.20")) != h.SRGs[1] || h.SRGOf(netip.MustParseAddr("198.51.100.11")) != nil {
		t.Fatal("SRGOf")
	}
	for _, n := range c.Notices {
		if strings.HasPrefix(n.Path, "chassis high-availability") {
			t.Errorf("a clustered daemon says high-availability is not applied: %+v", n)
		}
	}
}

func TestHighAvailabilityWithoutCluster(t *testing.T) {
	c, err := build(t, haConf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var said bool
	for _, n := range c.Notices {
		said = said || n.Path == "chassis high-availability" && strings.Contains(n.Msg, "not applied")
	}
	if !said || c.HostName != "" {
		t.Fatalf("single gateway: notices %+v, host-name %q", c.Notices, c.HostName)
	}
}

func TestHighAvailabilityErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"unknown node in SRG", `chassis { high-availability { node 1; services-redundancy-group 1 { node 3 activeness-priority 1; } } }`,
			"t.conf:1:69: chassis high-availability services-redundancy-group 1 node 3: node 3 is not configured"},
		{"duplicate VIP", `chassis { high-availability {
services-redundancy-group 1 { virtual-ip 1 { ip 192.0.2.1/24; interface eth0; } }
services-redundancy-group 2 { virtual-ip 1 { ip 192.0.2.1/24; interface eth0; } } } }`,
			"t.conf:3:49: chassis high-availability services-redundancy-group 2 virtual-ip 1 ip: 192.0.2.1 is already a virtual IP"},
		{"VIP without interface", `chassis { high-availability { services-redundancy-group 1 { virtual-ip 1 { ip 192.0.2.1/24; } } } }`,
			"virtual-ip has no interface"},
		{"this node not configured", `chassis { high-availability { node 1; } }`, "this daemon is node 2, which is not configured"},
		// An error in an inherited statement points at the group's statement.
		{"error in a group", "groups {\n  node2 {\n    security { ike { gateway g { ike-policy nope; address 192.0.2.9; } } }\n  }\n}\napply-groups \"${node}\";\n",
			"t.conf:3:45: security ike gateway g ike-policy: IKE policy nope is not defined"},
	} {
		_, err := build(t, c.src, Options{NodeID: 2})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestGatewayOnVirtualIP: an IKE gateway may name an external-interface
// together with a local-address that is a services redundancy group's
// virtual IP on that interface (as MNHA configurations do); any other
// address foreign to the interface is still refused.
func TestGatewayOnVirtualIP(t *testing.T) {
	gw := func(local string) string {
		return haConf + `interfaces { eth1 { unit 0 { family inet { address 198.51.100.12/24; } } } }
security { ike {
    proposal p { authentication-method pre-shared-keys; dh-group group19; encryption-algorithm aes-256-gcm; }
    policy pol { proposals p; pre-shared-key ascii-text "not a secret, a test"; }
    gateway g { ike-policy pol; address 203.0.113.200; external-interface eth1; local-address ` + local + `; version v2-only; }
} }
`
	}
	if _, err := build(t, gw("198.51.100.10"), Options{NodeID: 2}); err != nil {
		t.Errorf("local-address a virtual IP on the external interface: %v", err)
	}
	_, err := build(t, gw("198.51.100.99"), Options{NodeID: 2})
	if err == nil || !strings.Contains(err.Error(), "local address 198.51.100.99 is not an address of eth1.0") {
		t.Errorf("a foreign local-address: got %v", err)
	}
}
