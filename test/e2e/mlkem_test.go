package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// ML-KEM as an additional key exchange after x25519 (RFC 9370 over
// IKE_INTERMEDIATE, RFC 9242) against strongSwan 6's ml plugin: both
// roles, ML-KEM-768 and ML-KEM-1024, strongSwan's userspace ESP as raw ESP
// and in UDP. strongSwan is configured with fragmentation = no: IKEv2
// fragmentation (RFC 7383) is not ipsecgw's yet, so the ML-KEM payloads
// travel in IP-fragmented UDP datagrams.

// mlkemKeyword is the ipsecgw keyword and strongSwan's name of each method.
var mlkemMethods = []struct{ keyword, swan, display string }{
	{"mlkem768", "mlkem768", "ML-KEM-768"},
	{"mlkem1024", "mlkem1024", "ML-KEM-1024"},
}

func TestMLKEMWithStrongSwan6(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require6(t)
	for _, m := range mlkemMethods {
		for _, rawESP := range []bool{true, false} {
			for _, ipsecgwInitiates := range []bool{true, false} {
				name := fmt.Sprintf("%s-raw-esp-%v-ipsecgw-initiates-%v", m.keyword, rawESP, ipsecgwInitiates)
				t.Run(name, func(t *testing.T) { mlkemWithStrongSwan6(t, m.keyword, m.swan, m.display, rawESP, ipsecgwInitiates) })
			}
		}
	}
}

func mlkemWithStrongSwan6(t *testing.T, keyword, swan, display string, rawESP, ipsecgwInitiates bool) {
	tp := newStrongSwanTopology(t)
	cfg := gw1Config("test123", ipsecgwInitiates)
	cfg = strings.Replace(cfg, "dh-group group19", "dh-group group31", 1) +
		"set security ike proposal ike_prop additional-key-exchange ke1 " + keyword + "\n"
	tp.startOne(0, cfg)
	gw1 := tp.gws[0]
	start := "none"
	if !ipsecgwInitiates {
		start = "start"
	}
	sc := strongswan.Config{Strongswan6: true, Connections: []strongswan.Connection{{
		Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "test123",
		Proposals: []string{"aes256gcm16-prfsha256-x25519-ke1_" + swan},
		Extra:     []string{"fragmentation = no"},
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
			ESPProposals: []string{"aes256gcm16"}, StartAction: start}},
	}}}
	if rawESP {
		sc.Charon = []string{"plugins {", "kernel-libipsec {", "raw_esp = yes", "}", "}"}
	}
	charon := strongswan.Start(t, tp.net, "gw2", sc)
	tp.waitTunnelWithin("h1", "198.18.2.2", 20*time.Second)
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	st := tp.status(gw1)
	want := []string{"ke1 " + display}
	if len(st.IKE) != 1 || !slices.Equal(st.IKE[0].AdditionalKE, want) {
		t.Fatalf("gw1's IKE SA: %+v, want additional key exchanges %v", st.IKE, want)
	}
	sas := mustListSAs(t, charon)
	if len(sas) != 1 || !strings.Contains(sas[0].DHGroup, "CURVE_25519") {
		t.Errorf("charon's IKE SA: %+v", sas)
	}
	if log := charon.Log(); !strings.Contains(log, "IKE_INTERMEDIATE") {
		t.Errorf("charon's log shows no IKE_INTERMEDIATE exchange")
	}
	_, child, ok := strongswan.FindChild(sas, "net")
	if !ok || child.Encap == rawESP {
		t.Errorf("charon's CHILD SA: %+v (raw ESP %v)", child, rawESP)
	}
	detail := tp.mustCLI(gw1, "show security ike security-associations detail")
	if !strings.Contains(detail, "Quantum Secured: Yes") || !strings.Contains(detail, "Additional key exchange: ke1 "+display) {
		t.Errorf("show security ike security-associations detail:\n%s", detail)
	}
}
