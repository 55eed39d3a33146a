package pki_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gw "ipsecgw/daemon"
	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestCertificatesWithStrongSwan: ipsecgw (gw1) and strongSwan 5.9's
// charon (gw2, userspace ESP through kernel-libipsec, which always claims
// a NAT: IKE on 4500 and ESP in UDP) authenticate each other with
// certificates, both roles: RSA (AUTH method 1 both ways, strongSwan's
// RFC 7427 off), ECDSA P-256 (method 9 from ipsecgw), RFC 7427
// (certificates, method 14), with distinguished-name wildcard and
// container remote identities. ipsecgw's certificates are its own key
// pairs (request security pki generate-key-pair), issued by strongSwan's
// pki tool from ipsecgw's PKCS #10 requests and sent with their
// intermediate; strongSwan's were made by its pki tool (make.sh). Ping and
// TCP cross each tunnel. An expired, a revoked and an unknown CA's
// certificate are refused by ipsecgw with that reason shown, and strongSwan
// hears AUTHENTICATION_FAILED; ipsecgw's expired certificate is refused by
// strongSwan, and ipsecgw reports the refusal.
func TestCertificatesWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	ss := strongSwanCertificates(t)
	n, d := twoGateways(t)
	dir := d.dir

	// ipsecgw's certificates: its own key pairs, issued by strongSwan's
	// intermediate CA, loaded with the intermediate (sent in CERT).
	ssFile := func(name string) string { return filepath.Join(ss, name) }
	for _, c := range []struct{ id, keyType, size string }{{"gw1-rsa", "rsa", "2048"}, {"gw1-ecdsa", "ecdsa", "256"}} {
		d.mustCLI("request security pki generate-key-pair certificate-id "+c.id+" type "+c.keyType+" size "+c.size, "Generated key pair "+c.id)
		csr := filepath.Join(dir, c.id+".csr")
		d.mustCLI(`request security pki generate-certificate-request certificate-id `+c.id+` subject "C=US, O=Example, OU=VPN, CN=`+c.id+`.example.net" domain-name `+c.id+`.example.net filename `+csr, "BEGIN CERTIFICATE REQUEST")
		crt := filepath.Join(dir, c.id+".crt")
		issue := exec.Command("sh", "-c", "pki --issue --type pkcs10 --in "+csr+" --cacert "+ssFile("inter.crt")+" --cakey "+ssFile("inter.key")+
			" --san "+c.id+".example.net --lifetime 100 --outform pem > "+crt+" && cat "+ssFile("inter.crt")+" >> "+crt)
		if out, err := issue.CombinedOutput(); err != nil {
			t.Fatalf("pki --issue: %v\n%s", err, out)
		}
		d.mustCLI("request security pki local-certificate load certificate-id "+c.id+" filename "+crt+" key "+filepath.Join(dir, "pki", "local", c.id+".key"), "loaded successfully")
	}
	d.mustCLI("request security pki local-certificate load certificate-id gw1-expired filename "+ssFile("expired.crt")+" key "+ssFile("expired.key"), "loaded successfully")
	d.mustCLI("request security pki ca-certificate load ca-profile example filename "+ssFile("chain.crt"), "(2 certificates)")
	d.mustCLI("request security pki crl load ca-profile example filename "+ssFile("inter.crl"), "(1 revoked certificates)")
	d.mustCLI("request security pki crl load ca-profile example filename "+ssFile("root.crl"), "(0 revoked certificates)")
	read := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	for _, tc := range []struct {
		name             string
		method, localID  string // ipsecgw's authentication-method and certificate-id
		remoteIdentity   string // ipsecgw's remote-identity
		ssCert           string // strongSwan's certificate (make.sh's name)
		ipsecgwInitiates bool
		ssClassic        bool   // strongSwan without RFC 7427 (signature_authentication = no)
		reason           string // ipsecgw refuses strongSwan's certificate with this reason
		refusedByPeer    bool   // strongSwan refuses ipsecgw's certificate
		ikev1            bool   // IKEv1 Main Mode instead of IKEv2
		// ssSees is how strongSwan names the signature of ipsecgw it
		// verified (the AUTH method ipsecgw used).
		ssSees string
	}{
		{name: "rsa-ipsecgw-initiates", ssSees: "RSA signature", method: "rsa-signatures", localID: "gw1-rsa", remoteIdentity: `distinguished-name wildcard "OU=VPN, O=Example"`,
			ssCert: "rsa", ipsecgwInitiates: true, ssClassic: true},
		{name: "rsa-strongswan-initiates", ssSees: "RSA signature", method: "rsa-signatures", localID: "gw1-rsa", remoteIdentity: `distinguished-name "C=US, O=Example, OU=VPN, CN=gw-rsa.example.net"`,
			ssCert: "rsa", ssClassic: true},
		{name: "ecdsa256-ipsecgw-initiates", ssSees: "ECDSA-256 signature", method: "ecdsa-signatures-256", localID: "gw1-ecdsa", remoteIdentity: `distinguished-name container "O=Example, OU=VPN"`,
			ssCert: "ecdsa", ipsecgwInitiates: true},
		{name: "ecdsa256-strongswan-initiates", ssSees: "ECDSA-256 signature", method: "ecdsa-signatures-256", localID: "gw1-ecdsa", remoteIdentity: `distinguished-name wildcard "O=Example, OU=VPN"`,
			ssCert: "ecdsa"},
		{name: "rfc7427-ipsecgw-initiates", ssSees: "RSA_EMSA_PKCS1_SHA2_256", method: "certificates", localID: "gw1-rsa", remoteIdentity: `distinguished-name container "O=Example, OU=VPN"`,
			ssCert: "ecdsa", ipsecgwInitiates: true},
		{name: "rfc7427-strongswan-initiates", ssSees: "ECDSA_WITH_SHA256_DER", method: "certificates", localID: "gw1-ecdsa", ssCert: "rsa"},
		{name: "expired-refused-by-ipsecgw", method: "certificates", localID: "gw1-ecdsa", ssCert: "expired", reason: "certificate expired"},
		{name: "revoked-refused-by-ipsecgw", method: "certificates", localID: "gw1-ecdsa", ssCert: "revoked", reason: "certificate revoked"},
		{name: "unknown-ca-refused-by-ipsecgw", method: "certificates", localID: "gw1-ecdsa", ssCert: "unknown", reason: "unknown CA", ipsecgwInitiates: true},
		{name: "ikev1-rsa-ipsecgw-initiates", ssSees: "RSA_EMSA_PKCS1_NULL", method: "rsa-signatures", localID: "gw1-rsa", remoteIdentity: `distinguished-name wildcard "OU=VPN, O=Example"`,
			ssCert: "rsa", ipsecgwInitiates: true, ikev1: true},
		{name: "ikev1-rsa-strongswan-initiates", ssSees: "RSA_EMSA_PKCS1_NULL", method: "rsa-signatures", localID: "gw1-rsa", remoteIdentity: `distinguished-name container "O=Example, OU=VPN"`,
			ssCert: "rsa", ikev1: true},
		{name: "expired-refused-by-strongswan", method: "certificates", localID: "gw1-expired", ssCert: "ecdsa", ipsecgwInitiates: true, refusedByPeer: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			d.stop()
			d.conf = certConfig(tc.method, tc.localID, tc.remoteIdentity, tc.ipsecgwInitiates, tc.ikev1)
			d.start()
			start := "start"
			if tc.ipsecgwInitiates {
				start = "none"
			}
			cfg := strongswan.Config{Connections: []strongswan.Connection{{
				Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
				Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
					ESPProposals: []string{"aes256gcm16"}, StartAction: start}},
				Extra: []string{"local {", "auth = pubkey", "certs = " + tc.ssCert + ".crt", "}", "remote {", "auth = pubkey", "}"},
			}}, Files: map[string][]byte{
				"x509/" + tc.ssCert + ".crt": read(ssFile(tc.ssCert + ".crt")), "private/" + tc.ssCert + ".key": read(ssFile(tc.ssCert + ".key")),
				"x509ca/root.crt": read(ssFile("root.crt")), "x509ca/inter.crt": read(ssFile("inter.crt")),
				"x509crl/inter.crl": read(ssFile("inter.crl")),
			}}
			if tc.ikev1 {
				c := &cfg.Connections[0]
				c.Version, c.Proposals, c.Children[0].ESPProposals = 1, []string{"aes128-sha256-modp2048"}, []string{"aes128-sha256"}
			}
			if tc.ssClassic {
				cfg.Charon = []string{"signature_authentication = no"}
			}
			charon := strongswan.Start(t, n, "gw2", cfg)
			defer charon.Stop()
			if tc.reason == "" && !tc.refusedByPeer {
				waitPing(t, n, d, charon)
				pingOK(t, n, "h1", "198.18.2.2", d, charon)
				pingOK(t, n, "h2", "198.18.1.2", d, charon)
				tcpThrough(t, n)
				quietCounters(t, n, d, charon)
				// ipsecgw shows the certificate's subject as the peer's
				// identity and the policy's method.
				detail := d.mustCLI("show security ike security-associations detail",
					"Peer ike-id: C=US, O=Example, OU=VPN, CN=gw-"+tc.ssCert+".example.net")
				if strings.Contains(detail, "Pre-shared-keys") {
					t.Fatalf("shown as a pre-shared key SA:\n%s", detail)
				}
				// strongSwan verified ipsecgw's certificate and signature.
				peerAuth := "authentication of 'C=US, O=Example, OU=VPN, CN=" + tc.localID + ".example.net' with " + tc.ssSees + " successful"
				if !strings.Contains(charon.Log(), peerAuth) {
					t.Fatalf("charon did not log %q:\n%s", peerAuth, charon.Log())
				}
				return
			}
			// A refusal: ipsecgw's shown reason names the cause, strongSwan's
			// log the other side of it.
			want, ssWant := tc.reason, "N(AUTH_FAILED)" // in the IKE_AUTH response, or our INFORMATIONAL
			if tc.refusedByPeer {
				want, ssWant = "peer refused our authentication (AUTHENTICATION_FAILED): check our local certificate", "certificate invalid (valid from"
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				shown := d.mustCLI("show security ike security-associations detail") + d.mustCLI("show security ipsec inactive-tunnels")
				if strings.Contains(shown, want) && strings.Contains(charon.Log(), ssWant) {
					t.Logf("ipsecgw shows:\n%s", shown)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ipsecgw does not show %q or charon did not log %q:\n%s\ndaemon:\n%s\ncharon:\n%s", want, ssWant, shown, d.logText(), charon.Log())
				}
				time.Sleep(200 * time.Millisecond)
			}
			if _, err := n.Try("h1", "ping", "-c", "1", "-W", "1", "198.18.2.2"); err == nil {
				t.Fatal("traffic crosses a tunnel whose authentication failed")
			}
		})
	}
}

// certConfig is gw1's configuration: one route-based VPN to gw2 that
// authenticates with a certificate.
func certConfig(method, certID, remoteIdentity string, initiate, ikev1 bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gw1")
	w("set interfaces gw1-h1 unit 0 family inet address 198.18.1.1/24")
	w("set interfaces gw1-gw2 unit 0 family inet address 192.0.2.1/24")
	w("set interfaces st0 unit 1 family inet")
	w("set routing-options static route 198.18.2.0/24 next-hop st0.1")
	w("set security pki ca-profile example ca-identity Example-Root")
	w("set security ike proposal sig authentication-method %s", method)
	w("set security ike proposal sig authentication-algorithm sha-256")
	if ikev1 {
		w("set security ike proposal sig dh-group group14")
		w("set security ike proposal sig encryption-algorithm aes-128-cbc")
		w("set security ike policy pol mode main")
	} else {
		w("set security ike proposal sig dh-group group19")
		w("set security ike proposal sig encryption-algorithm aes-256-gcm")
	}
	w("set security ike policy pol proposals sig")
	w("set security ike policy pol certificate local-certificate %s", certID)
	w("set security ike policy pol certificate trusted-ca ca-profile example")
	w("set security ike gateway g ike-policy pol")
	w("set security ike gateway g address 192.0.2.2")
	w("set security ike gateway g external-interface gw1-gw2")
	if ikev1 {
		w("set security ike gateway g version v1-only")
	} else {
		w("set security ike gateway g version v2-only")
	}
	w("set security ike gateway g local-identity distinguished-name")
	if remoteIdentity != "" {
		w("set security ike gateway g remote-identity %s", remoteIdentity)
	}
	w("set security ipsec proposal esp protocol esp")
	if ikev1 {
		w("set security ipsec proposal esp encryption-algorithm aes-128-cbc")
		w("set security ipsec proposal esp authentication-algorithm hmac-sha-256-128")
	} else {
		w("set security ipsec proposal esp encryption-algorithm aes-256-gcm")
	}
	w("set security ipsec policy ipol proposals esp")
	w("set security ipsec vpn v bind-interface st0.1")
	w("set security ipsec vpn v ike gateway g")
	w("set security ipsec vpn v ike ipsec-policy ipol")
	if initiate {
		w("set security ipsec vpn v establish-tunnels immediately")
	} else {
		w("set security ipsec vpn v establish-tunnels responder-only")
	}
	return b.String()
}

func (d *daemon) logText() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "daemon.log"))
	return string(b)
}

// waitPing pings h2 from h1 until the tunnel carries traffic (10 s).
func waitPing(t *testing.T, n *netns.Net, d *daemon, charon *strongswan.Charon) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := n.Try("h1", "ping", "-c", "1", "-W", "1", "198.18.2.2"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no traffic through the tunnel after 10 s\ndaemon:\n%s\ncharon:\n%s", d.logText(), charon.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pingOK(t *testing.T, n *netns.Net, from, to string, d *daemon, charon *strongswan.Charon) {
	t.Helper()
	p := netns.Ping{Count: 3, Interval: 200 * time.Millisecond}
	out, _ := n.Try(from, p.Args(to)...)
	if err := p.Check(to, out); err != nil {
		t.Fatalf("from %s: %v\ndaemon:\n%s\ncharon:\n%s", from, err, d.logText(), charon.Log())
	}
}

// tcpThrough sends a TCP stream from h1 to h2 through the tunnel (iperf3,
// one second) and checks it arrived.
func tcpThrough(t *testing.T, n *netns.Net) {
	t.Helper()
	srv := exec.Command("ip", "netns", "exec", n.Name("h2"), "iperf3", "-s", "-1", "-p", "5201")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	var out string
	var err error
	for range 20 { // the server may still be starting
		out, err = n.Try("h1", "iperf3", "-c", "198.18.2.2", "-p", "5201", "-t", "1", "--connect-timeout", "2000")
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out, "receiver") {
		t.Fatalf("TCP through the tunnel: %v\n%s", err, out)
	}
}

// status asks the daemon for its counters (SIGUSR1) and reads them.
func (d *daemon) status() gw.Status {
	d.t.Helper()
	path := filepath.Join(d.dir, "status.json")
	os.Remove(path)
	d.cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			var s gw.Status
			if err := json.Unmarshal(b, &s); err != nil {
				d.t.Fatalf("status.json: %v", err)
			}
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the daemon wrote no status:\n%s", d.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quietCounters checks, over a phase of nothing but pings both ways, that
// every ESP packet one side sealed the other opened.
func quietCounters(t *testing.T, n *netns.Net, d *daemon, charon *strongswan.Charon) {
	t.Helper()
	child := func() strongswan.ChildSA {
		sas, err := charon.ListSAs()
		if err != nil {
			t.Fatal(err)
		}
		_, c, ok := strongswan.FindChild(sas, "net")
		if !ok {
			t.Fatalf("strongSwan has no CHILD SA: %+v", sas)
		}
		return c
	}
	sa := func(s gw.Status, dir string) gw.SAStatus {
		for _, x := range s.SAs {
			if x.Direction == dir {
				return x
			}
		}
		t.Fatalf("ipsecgw has no %s SA: %+v", dir, s.SAs)
		return gw.SAStatus{}
	}
	time.Sleep(500 * time.Millisecond)
	ss0, st0 := child(), d.status()
	pingOK(t, n, "h1", "198.18.2.2", d, charon)
	pingOK(t, n, "h2", "198.18.1.2", d, charon)
	time.Sleep(300 * time.Millisecond)
	ss1, st1 := child(), d.status()
	sent := sa(st1, "outbound").Counters.EncryptedPackets - sa(st0, "outbound").Counters.EncryptedPackets
	back := ss1.PacketsOut - ss0.PacketsOut
	got, recv := ss1.PacketsIn-ss0.PacketsIn, sa(st1, "inbound").Counters.DecryptedPackets-sa(st0, "inbound").Counters.DecryptedPackets
	t.Logf("quiet phase: ipsecgw sent %d, strongSwan got %d; strongSwan sent %d, ipsecgw got %d", sent, got, back, recv)
	if sent < 6 || sent != got || back < 6 || back != recv {
		t.Fatalf("counters disagree in the quiet phase: ipsecgw sent %d, strongSwan got %d; strongSwan sent %d, ipsecgw got %d", sent, got, back, recv)
	}
}

// twoGateways is the namespaces of the certificate tests, h1 ── gw1 ══
// gw2 ── h2: gw1 runs ipsecgw (started here, stopped at the end; its state
// directory is d.dir), gw2 is strongSwan's; both forward.
func twoGateways(t *testing.T) (*netns.Net, *daemon) {
	t.Helper()
	dir := t.TempDir()
	n := netns.New(t, "h1", "gw1", "gw2", "h2")
	n.Link("h1", "h1-gw1", "198.18.1.2/24", "gw1", "gw1-h1", "")
	n.Link("gw1", "gw1-gw2", "", "gw2", "gw2-gw1", "192.0.2.2/24")
	n.Link("gw2", "gw2-h2", "198.18.2.1/24", "h2", "h2-gw2", "198.18.2.2/24")
	n.Exec("h1", "ip", "route", "add", "default", "via", "198.18.1.1")
	n.Exec("h2", "ip", "route", "add", "default", "via", "198.18.2.1")
	for _, gw := range []string{"gw1", "gw2"} {
		n.Exec(gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	}
	d := &daemon{t: t, net: n, dir: dir, sock: filepath.Join(dir, "api.sock")}
	d.start()
	t.Cleanup(d.stop)
	return n, d
}
