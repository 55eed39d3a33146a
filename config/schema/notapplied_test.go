package schema

import (
	"strings"
	"testing"
)

// TestStatementsWithoutEffectSaySo: statements ipsecgw accepts and has no
// use for are reported at commit as not applied, each at its own path,
// and only they: a static route's preference, a qualified next hop, a
// login's uid, a CA profile's ca-identity (which names the CA to enroll
// with).
func TestStatementsWithoutEffectSaySo(t *testing.T) {
	c, err := build(t, `set interfaces eth1 unit 0 family inet address 192.0.2.1/24
set routing-options static route 198.18.1.0/24 next-hop 192.0.2.2
set routing-options static route 198.18.1.0/24 preference 200
set routing-options static route 198.18.2.0/24 next-hop 192.0.2.2
set routing-options static route 198.18.2.0/24 qualified-next-hop 192.0.2.3 preference 7
set system login user alice class super-user
set system login user alice uid 2001
set system login user alice full-name "Alice Example"
set security pki ca-profile root ca-identity Root-CA
`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range c.Notices {
		got[n.Path] = n.Msg
	}
	for _, path := range []string{
		"routing-options static route 198.18.1.0/24 preference",
		"routing-options static route 198.18.2.0/24 qualified-next-hop 192.0.2.3",
		"system login user alice uid",
		"security pki ca-profile root ca-identity",
	} {
		if !strings.HasPrefix(got[path], "accepted, not applied: ") {
			t.Errorf("%s: notice %q, want accepted, not applied", path, got[path])
		}
		delete(got, path)
	}
	if len(got) != 0 {
		t.Errorf("other notices: %v", got)
	}
}
