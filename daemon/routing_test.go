package daemon

import (
	"testing"

	"ipsecgw/config/schema"
)

// LinuxName is what FRR is told: the interfaces as Linux has them.
func TestLinuxName(t *testing.T) {
	for _, c := range []struct {
		ifc  schema.Interface
		unit uint32
		want string
	}{
		{schema.Interface{Name: "st0", Kind: schema.Tunnel}, 1, "st0.1"},
		{schema.Interface{Name: "sp-1/2/0", Kind: schema.Service}, 1, "sp-1-2-0.1"},
		{schema.Interface{Name: "so-0/0/0", HostName: "r2-so0", Kind: schema.Physical}, 0, "r2-so0"},
		{schema.Interface{Name: "lo0", HostName: "lo", Kind: schema.Loopback}, 0, "lo"},
	} {
		ifc := c.ifc
		u := &schema.Unit{Interface: &ifc, Number: c.unit}
		if got := LinuxName(u); got != c.want {
			t.Errorf("LinuxName(%s) = %q, want %q", u.Name(), got, c.want)
		}
	}
}
