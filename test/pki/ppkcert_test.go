package pki_test

import (
	"path/filepath"
	"strings"
	"testing"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestPPKWithCertificatesAndStrongSwan: a postquantum preshared key (RFC
// 8784) on top of certificate authentication against strongSwan 5.9.8,
// both roles. With the same PPK both use it. With an optional PPK whose
// PPK_ID the peer does not know, the peer checks NO_PPK_AUTH (a second
// signature, by AUTH's method, over the octets with the plain SK_pi) in
// place of AUTH and the SA comes up without the PPK: strongSwan checks
// ipsecgw's when ipsecgw initiates, ipsecgw strongSwan's when it does.
// Pings cross each tunnel.
func TestPPKWithCertificatesAndStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	ss := strongSwanCertificates(t)
	ssFile := func(name string) string { return filepath.Join(ss, name) }
	n, d := twoGateways(t)
	// make.sh's RSA leaf for ipsecgw, its ECDSA leaf for strongSwan.
	d.mustCLI("request security pki local-certificate load certificate-id gw1-rsa filename "+ssFile("rsa.crt")+" key "+ssFile("rsa.key"), "loaded successfully")
	d.mustCLI("request security pki ca-certificate load ca-profile example filename "+ssFile("chain.crt"), "(2 certificates)")
	d.mustCLI("request security pki crl load ca-profile example filename "+ssFile("inter.crl"), "(1 revoked certificates)")
	d.mustCLI("request security pki crl load ca-profile example filename "+ssFile("root.crl"), "(0 revoked certificates)")
	const key = "a postquantum preshared key of 48 characters!!!!"
	for _, tc := range []struct {
		name             string
		ipsecgwInitiates bool
		gw1ID, ssID      string // the PPK_IDs
		ssNoSecret       bool   // strongSwan names ssID (ppk_id) but has no PPK for it
		used             bool
		// checked is charon's log line when it checked ipsecgw's
		// NO_PPK_AUTH ("" when it did not).
		checked string
	}{
		{"same-ppk-ipsecgw-initiates", true, "ppk-1", "ppk-1", false, true, ""},
		{"same-ppk-strongswan-initiates", false, "ppk-1", "ppk-1", false, true, ""},
		// strongSwan 5.9.8 refuses a PPK_ID other than its connection's
		// ppk_id before it looks at NO_PPK_AUTH: this connection has no
		// PPK, another one has.
		{"strongswan-checks-no-ppk-auth", true, "ppk-2", "ppk-1", true, false, "using NO_PPK_AUTH"},
		{"ipsecgw-checks-no-ppk-auth", false, "ppk-2", "ppk-1", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			d.stop()
			d.conf = certConfig("certificates", "gw1-rsa", "", tc.ipsecgwInitiates, false) +
				"set security key-manager profiles km1 static key-id ascii-text " + tc.gw1ID + "\n" +
				"set security key-manager profiles km1 static key ascii-text \"" + key + "\"\n" +
				"set security ike gateway g ppk-profile km1\n"
			d.start()
			start := "start"
			if tc.ipsecgwInitiates {
				start = "none"
			}
			cfg := strongswan.Config{Connections: []strongswan.Connection{{
				Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
				Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
					ESPProposals: []string{"aes256gcm16"}, StartAction: start}},
				Extra: []string{"local {", "auth = pubkey", "certs = ecdsa.crt", "}", "remote {", "auth = pubkey", "}"},
				PPKID: tc.ssID, PPK: key,
			}}, Files: map[string][]byte{
				"x509/ecdsa.crt": readFile(t, ssFile("ecdsa.crt")), "private/ecdsa.key": readFile(t, ssFile("ecdsa.key")),
				"x509ca/root.crt": readFile(t, ssFile("root.crt")), "x509ca/inter.crt": readFile(t, ssFile("inter.crt")),
			}}
			if tc.ssNoSecret {
				// strongSwan's PPK belongs to another connection: this one
				// has none, yet USE_PPK says it can use PPKs.
				other := cfg.Connections[0]
				other.Name, other.RemoteAddrs, other.Children = "other", "203.0.113.9", nil
				cfg.Connections[0].PPKID = ""
				cfg.Connections = append(cfg.Connections, other)
			}
			charon := strongswan.Start(t, n, "gw2", cfg)
			defer charon.Stop()
			waitPing(t, n, d, charon)
			pingOK(t, n, "h1", "198.18.2.2", d, charon)
			pingOK(t, n, "h2", "198.18.1.2", d, charon)
			want := "Quantum Secured: No"
			if tc.used {
				want = "Quantum Secured: Yes"
			}
			detail := d.mustCLI("show security ike security-associations detail", "PPK-profile: km1", want,
				"Peer ike-id: C=US, O=Example, OU=VPN, CN=gw-ecdsa.example.net")
			if got := strings.Contains(charon.Log(), "using PPK for PPK_ID"); got != tc.used {
				t.Errorf("charon's log says PPK used: %v, want %v", got, tc.used)
			}
			if tc.checked != "" && !strings.Contains(charon.Log(), tc.checked) {
				t.Errorf("charon did not log %q:\n%s", tc.checked, charon.Log())
			}
			if strings.Contains(d.logText(), key) || strings.Contains(detail, key) {
				t.Error("gw1 shows the PPK")
			}
		})
	}
}
