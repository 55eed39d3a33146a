package show

import (
	"net/netip"
	"strings"
	"testing"
)

// TestQuantumLines: a gateway with a PPK profile or additional key
// exchanges shows whether the SA is quantum secured, and the exchanges; one
// without shows neither line (seed 004's layout).
func TestQuantumLines(t *testing.T) {
	base := IKESA{Index: 1, GatewayName: "gw", Up: true, ExchangeType: "IKEv2", AuthMethod: "Pre-shared-keys",
		Remote: netip.MustParseAddrPort("192.0.2.2:500"), Local: netip.MustParseAddrPort("192.0.2.1:500")}
	ppk := base
	ppk.PPKProfile, ppk.QuantumSecured = "km1", true
	addke := base
	addke.AdditionalKE = []string{"ke1 ML-KEM-768"}
	for _, tc := range []struct {
		name      string
		sa        IKESA
		want, not []string
	}{
		{"ppk", ppk, []string{"  PPK-profile: km1\n  Quantum Secured: Yes\n"}, []string{"Additional key exchange"}},
		{"ppk unused", func() IKESA { s := ppk; s.QuantumSecured = false; return s }(), []string{"  Quantum Secured: No\n"}, nil},
		{"addke", addke, []string{"  PPK-profile: None\n  Quantum Secured: No\n  Additional key exchange: ke1 ML-KEM-768\n"}, nil},
		{"neither", base, nil, []string{"Quantum Secured", "Additional key exchange"}},
	} {
		r := IKESecurityAssociations([]IKESA{tc.sa}, IKEQuery{Style: StyleDetail})
		for _, w := range tc.want {
			if !strings.Contains(r.Text(), w) {
				t.Errorf("%s: no %q in\n%s", tc.name, w, r.Text())
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r.Text(), n) {
				t.Errorf("%s: %q in\n%s", tc.name, n, r.Text())
			}
		}
	}
}
