package schema

import (
	"strings"
	"testing"

	"ipsecgw/config"
)

// security ipsec data-plane: the raw ESP path asked for, read at start.
func TestDataPlane(t *testing.T) {
	for src, want := range map[string]string{
		"security { ipsec { data-plane xdp; } }\n":         "xdp",
		"security { ipsec { data-plane socket; } }\n":      "socket",
		"security { ipsec { data-plane packet-ring; } }\n": "packet-ring",
		"security { ipsec { data-plane auto; } }\n":        "auto",
		"security { ipsec { } }\n":                         "",
	} {
		cfg, err := build(t, src, Options{})
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if cfg.IPsec.DataPlane != want {
			t.Errorf("%q: data plane %q, want %q", src, cfg.IPsec.DataPlane, want)
		}
	}
	_, err := config.Parse("t.conf", []byte("security { ipsec { data-plane dpdk; } }\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "t.conf:1:") || !strings.Contains(err.Error(), "data-plane") || !strings.Contains(err.Error(), "xdp, socket, packet-ring, auto") {
		t.Fatalf("an unknown data plane: %v; want an error naming the statement and the choices", err)
	}
}
