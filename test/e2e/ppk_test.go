package e2e

import (
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// Postquantum preshared keys (RFC 8784) against strongSwan 5.9.8's
// implementation (ppk_id, ppk_required and a ppk secret): both roles,
// mandatory and optional, a peer without the PPK or with another PPK_ID,
// and a wrong PPK failing with the reason on ipsecgw's side. An IKE SA
// rekeyed by strongSwan keeps the PPK (its SKEYSEED comes from SK_d') and
// the Child SA rekeyed under it carries pings.

const (
	ppkID    = "ppk-1"
	ppkKey   = "a postquantum preshared key of 48 characters!!!!"
	ppkWrong = "another postquantum preshared key, 48 characters"
)

// gw1PPK is the key manager profile and the gateway's ppk-profile.
func gw1PPK(id, key string, mandatory bool) string {
	s := "set security key-manager profiles km1 static key-id ascii-text " + id + "\n" +
		"set security key-manager profiles km1 static key ascii-text \"" + key + "\"\n" +
		"set security ike gateway ike_gw ppk-profile km1\n"
	if mandatory {
		s += "set security ike gateway ike_gw ppk-mandatory\n"
	}
	return s
}

func TestPPKWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	for _, tc := range []struct {
		name             string
		ipsecgwInitiates bool
		gw1              string // gw1's PPK configuration
		ssID, ssKey      string // strongSwan's PPK ("": none)
		ssRequired       bool
		used             bool     // the SA mixes the PPK in
		rekeyIKE         bool     // strongSwan rekeys the IKE SA, ipsecgw keeps the PPK
		reasons          []string // set: the negotiation fails with these on gw1
	}{
		{"mandatory-ipsecgw-initiates", true, gw1PPK(ppkID, ppkKey, true), ppkID, ppkKey, true, true, true, nil},
		{"mandatory-strongswan-initiates", false, gw1PPK(ppkID, ppkKey, true), ppkID, ppkKey, true, true, true, nil},
		{"optional-ipsecgw-initiates", true, gw1PPK(ppkID, ppkKey, false), ppkID, ppkKey, false, true, false, nil},
		{"optional-strongswan-initiates", false, gw1PPK(ppkID, ppkKey, false), ppkID, ppkKey, false, true, false, nil},
		{"optional-ipsecgw-initiates-peer-without-ppk", true, gw1PPK(ppkID, ppkKey, false), "", "", false, false, false, nil},
		// ipsecgw knows another PPK_ID: it checks strongSwan's NO_PPK_AUTH.
		{"optional-strongswan-initiates-unknown-ppk-id", false, gw1PPK("ppk-2", ppkKey, false), ppkID, ppkKey, false, false, false, nil},
		{"wrong-ppk-ipsecgw-initiates", true, gw1PPK(ppkID, ppkWrong, false), ppkID, ppkKey, false, false, false,
			[]string{"peer refused our authentication (AUTHENTICATION_FAILED) with PPK km1"}},
		{"wrong-ppk-strongswan-initiates", false, gw1PPK(ppkID, ppkWrong, false), ppkID, ppkKey, false, false, false,
			[]string{"authentication with PPK km1 (PPK_ID \"ppk-1\") failed: the peer's PPK differs from ours (its pre-shared key is right)"}},
		{"mandatory-ipsecgw-responds-peer-without-ppk", false, gw1PPK(ppkID, ppkKey, true), "", "", false, false, false,
			[]string{"PPK km1 is mandatory but the peer does not support PPKs (no USE_PPK in IKE_SA_INIT)"}},
		{"mandatory-ipsecgw-initiates-peer-without-ppk", true, gw1PPK(ppkID, ppkKey, true), "", "", false, false, false,
			[]string{"PPK km1 is mandatory but the peer does not support PPKs (no USE_PPK in IKE_SA_INIT)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newStrongSwanTopology(t)
			tp.startOne(0, gw1Config("test123", tc.ipsecgwInitiates)+tc.gw1)
			gw1 := tp.gws[0]
			peer := goodPeer
			if tc.rekeyIKE {
				peer.rekeyIKE = 8 * time.Second
			}
			cfg := peer.config()
			cfg.Connections[0].PPKID, cfg.Connections[0].PPK, cfg.Connections[0].PPKRequired = tc.ssID, tc.ssKey, tc.ssRequired
			charon := strongswan.Start(t, tp.net, "gw2", cfg)
			if !tc.ipsecgwInitiates {
				err := charon.Initiate("net")
				if tc.reasons == nil && err != nil {
					t.Fatalf("strongSwan's initiation: %v\ngw1:\n%s\ncharon:\n%s", err, tp.logOf(gw1), charon.Log())
				}
				if tc.reasons != nil && err == nil {
					t.Fatalf("strongSwan's initiation succeeded\ngw1:\n%s", tp.logOf(gw1))
				}
			}
			if tc.reasons != nil {
				ppkFailure(t, tp, gw1, tc.reasons)
				tp.checkAlive(charon)
				return
			}
			tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			st := tp.status(gw1)
			if len(st.IKE) != 1 || st.IKE[0].PPKUsed != tc.used || st.IKE[0].PPKProfile != "km1" {
				t.Fatalf("gw1's IKE SA: %+v, want PPK used %v", st.IKE, tc.used)
			}
			if got := strings.Contains(charon.Log(), "using PPK for PPK_ID"); got != tc.used {
				t.Errorf("charon's log says PPK used: %v, want %v", got, tc.used)
			}
			detail := tp.mustCLI(gw1, "show security ike security-associations detail")
			want := "Quantum Secured: No"
			if tc.used {
				want = "Quantum Secured: Yes"
			}
			if !strings.Contains(detail, "PPK-profile: km1") || !strings.Contains(detail, want) {
				t.Errorf("show security ike security-associations detail lacks the PPK profile or %q:\n%s", want, detail)
			}
			if strings.Contains(tp.logOf(gw1), ppkKey) || strings.Contains(detail, ppkKey) {
				t.Error("gw1 shows the PPK")
			}
			if tc.rekeyIKE {
				ppkRekey(t, tp, gw1, charon, st.IKE[0].InitiatorSPI)
			}
		})
	}
}

// ppkFailure waits for the reason in gw1's status and checks that no SA
// was installed.
func ppkFailure(t *testing.T, tp *topology, gw1 *gateway, reasons []string) {
	t.Helper()
	var st daemon.Status
	deadline := time.Now().Add(10 * time.Second)
	for {
		st = tp.status(gw1)
		if r := statusReason(st, false); allIn(r, reasons) {
			t.Logf("gw1's reason: %s", r)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gw1's status has no reason with %q after 10 s: failures %+v, IKE SAs %+v\n%s", reasons, st.Failures, st.IKE, tp.logOf(gw1))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(st.SAs) != 0 {
		t.Errorf("gw1 installed SAs: %+v", st.SAs)
	}
	if _, err := tp.net.Try("h1", "ping", "-c", "1", "-W", "1", "198.18.2.2"); err == nil {
		t.Error("traffic crossed a tunnel that failed to negotiate")
	}
	if log := tp.logOf(gw1); strings.Contains(log, ppkKey) || strings.Contains(log, ppkWrong) {
		t.Error("gw1's log shows a PPK")
	}
}

// ppkRekey waits for strongSwan's IKE SA rekey (the IKE SPIs change) under
// pings, then checks the new IKE SA still counts as PPK-secured and a
// Child SA rekeyed under it (SK_d' of the rekeyed SA) carries traffic.
func ppkRekey(t *testing.T, tp *topology, gw1 *gateway, charon *strongswan.Charon, oldSPI uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Traffic while the IKE SA rekeys (a lost echo here is not the
		// PPK's doing; the pings after the rekeys must all come back).
		tp.net.Try("h1", "ping", "-c", "1", "-W", "1", "198.18.2.2")
		st := tp.status(gw1)
		if len(st.IKE) == 1 && st.IKE[0].State == "UP" && st.IKE[0].InitiatorSPI != oldSPI {
			if !st.IKE[0].PPKUsed {
				t.Fatalf("the rekeyed IKE SA does not count as PPK-secured: %+v", st.IKE[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no IKE SA rekey in 30 s: %+v\n%s", st.IKE, tp.logOf(gw1))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// A Child SA rekey under the rekeyed IKE SA, started by strongSwan.
	if out, err := charon.Swanctl("--rekey", "--child", "net"); err != nil {
		t.Fatalf("swanctl --rekey: %v\n%s", err, out)
	}
	time.Sleep(time.Second)
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	// The rekeyed CHILD SA is installed and carried the pings (the old one
	// may still be listed, deleted).
	sas := mustListSAs(t, charon)
	for _, ike := range sas {
		for _, c := range ike.Children {
			if c.Name == "net" && c.State == "INSTALLED" && c.UniqueID > 1 && c.PacketsIn > 0 && c.PacketsOut > 0 {
				return
			}
		}
	}
	t.Errorf("charon has no rekeyed CHILD SA that carried traffic: %+v", sas)
}
