package mgmt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/show"
)

// TestInterfacesLinkState: show interfaces prints a unit's link as the
// daemon keeps it: down while the daemon holds it down (Status.TunnelsDown:
// its VPN has no Child SA, or vpn-monitor says down), up otherwise, with
// an SA or without (a manual or on-traffic VPN's unit stays up).
func TestInterfacesLinkState(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gw.conf")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(gatewayConfig, 2, 1, "responder-only")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := daemon.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := daemon.SAStatus{VPN: "ike", Direction: "outbound", Tunnel: "st0.1", Counters: dataplane.Stats{EncryptedPackets: 7}}
	for _, tc := range []struct {
		name     string
		st       daemon.Status
		up       map[string]bool
		terse    string // st0.1's row
		flagLine string // st0.1's Flags line
	}{
		{"held down", daemon.Status{TunnelsDown: []string{"st0.1"}}, map[string]bool{"st0.1": false, "st0.2": true},
			"st0.1                   up    down inet     198.51.100.2/32", "    Flags: Down Point-To-Point SNMP-Traps Encapsulation: Secure-Tunnel"},
		{"up with its SA", daemon.Status{SAs: []daemon.SAStatus{out}}, map[string]bool{"st0.1": true, "st0.2": true},
			"st0.1                   up    up   inet     198.51.100.2/32", "    Flags: Up Point-To-Point SNMP-Traps Encapsulation: Secure-Tunnel"},
		{"down by vpn-monitor, SA still in", daemon.Status{SAs: []daemon.SAStatus{out}, TunnelsDown: []string{"st0.1"}}, map[string]bool{"st0.1": false, "st0.2": true},
			"st0.1                   up    down inet     198.51.100.2/32", "    Flags: Down Point-To-Point SNMP-Traps Encapsulation: Secure-Tunnel"},
	} {
		ifs := interfaces(cfg, tc.st)
		if len(ifs) != 2 {
			t.Fatalf("%s: %d units, want 2: %+v", tc.name, len(ifs), ifs)
		}
		for _, i := range ifs {
			if i.Up != tc.up[i.Name] {
				t.Errorf("%s: %s up %v, want %v", tc.name, i.Name, i.Up, tc.up[i.Name])
			}
		}
		terse := show.Interfaces(ifs, show.InterfacesQuery{Name: "st0.1", Terse: true}).Text()
		if !strings.Contains(terse, tc.terse+"\n") {
			t.Errorf("%s: show interfaces st0.1 terse:\n%s\nwant the row %q", tc.name, terse, tc.terse)
		}
		detail := show.Interfaces(ifs, show.InterfacesQuery{Name: "st0.1"}).Text()
		if !strings.Contains(detail, tc.flagLine+"\n") {
			t.Errorf("%s: show interfaces st0.1:\n%s\nwant the line %q", tc.name, detail, tc.flagLine)
		}
	}
}
