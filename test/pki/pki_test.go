// Package pki_test runs the `request security pki` workflow against a real
// ipsecgw daemon in a network namespace, with certificates made by
// strongSwan's pki tool, and checks that everything survives a restart and
// verifies (or fails, with the right cause) through package pki.
package pki_test

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
	"ipsecgw/pki"
	"ipsecgw/test/netns"
)

var binary string

func TestMain(m *testing.M) { os.Exit(netns.MainWithBinary(m, "pki", &binary)) }

const config = `set system host-name gw1
set security pki ca-profile example ca-identity Example-Root
`

type daemon struct {
	conf string // the configuration; "" for config
	t    *testing.T
	net  *netns.Net
	dir  string
	cmd  *exec.Cmd
	log  *os.File
	sock string
}

func (d *daemon) start() {
	t := d.t
	t.Helper()
	cfg := filepath.Join(d.dir, "ipsecgw.conf")
	text := config
	if d.conf != "" {
		text = d.conf
	}
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(d.dir, "daemon.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	d.log = logf
	d.cmd = exec.Command("ip", "netns", "exec", d.net.Name("gw1"), binary, "daemon", "--config", cfg, "--state-dir", d.dir, "--socket", d.sock)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := d.cli("show version"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.stop()
			b, _ := os.ReadFile(filepath.Join(d.dir, "daemon.log"))
			t.Fatalf("the daemon did not answer within 15 s:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM to the daemon (by its PID) and waits for it.
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			d.t.Errorf("the daemon exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
		d.t.Errorf("the daemon did not stop within 10 s of SIGTERM")
	}
	d.log.Close()
}

func (d *daemon) cli(command string) (string, error) {
	out, err := exec.Command(binary, "cli", "--socket", d.sock, "-c", command).CombinedOutput()
	return string(out), err
}

func (d *daemon) mustCLI(command string, want ...string) string {
	d.t.Helper()
	out, err := d.cli(command)
	if err != nil {
		d.t.Fatalf("%s: %v\n%s", command, err, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			d.t.Fatalf("%s: no %q in\n%s", command, w, out)
		}
	}
	return out
}

// strongSwanCertificates runs pki/testdata/strongswan/make.sh (strongSwan's
// pki tool) in a fresh directory: a root, an intermediate, RSA and ECDSA
// leaves, an expired one, a revoked one with the CRLs, a leaf of another CA.
func strongSwanCertificates(t *testing.T) string {
	if _, err := exec.LookPath("pki"); err != nil {
		t.Fatal("strongSwan's pki tool is not installed (strongswan-pki; scripts/install-test-deps.sh installs it)")
	}
	dir := t.TempDir()
	script, err := filepath.Abs(filepath.Join("..", "..", "pki", "testdata", "strongswan", "make.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make.sh: %v\n%s", err, out)
	}
	return dir
}

func TestPKIWorkflow(t *testing.T) {
	netns.RequireRoot(t)
	ss := strongSwanCertificates(t)
	dir := t.TempDir()
	d := &daemon{t: t, net: netns.New(t, "gw1"), dir: dir, sock: filepath.Join(dir, "api.sock")}
	d.start()
	t.Cleanup(d.stop)

	d.mustCLI("request security pki generate-key-pair certificate-id gw1 type ecdsa size 256", "Generated key pair gw1, key algorithm ecPublicKey(256 bits)")
	d.mustCLI(`request security pki local-certificate generate-self-signed certificate-id gw1 subject "DC=example,DC=net,CN=gw1" domain-name gw1.example.net`,
		"Self-signed certificate generated and loaded successfully")
	d.mustCLI("request security pki generate-key-pair certificate-id gw-rsa type rsa size 3072", "rsaEncryption(3072 bits)")
	csr := filepath.Join(dir, "gw-rsa.csr")
	d.mustCLI(`request security pki generate-certificate-request certificate-id gw-rsa subject "CN=gw-rsa, O=Example" domain-name gw-rsa.example.net filename `+csr, "BEGIN CERTIFICATE REQUEST")
	// strongSwan's CA issues the request: the key stays in ipsecgw.
	issued := filepath.Join(dir, "gw-rsa.crt")
	issue := exec.Command("sh", "-c", "pki --issue --type pkcs10 --in "+csr+" --cacert "+filepath.Join(ss, "inter.crt")+" --cakey "+filepath.Join(ss, "inter.key")+
		" --san gw-rsa.example.net --lifetime 100 --outform pem > "+issued)
	if out, err := issue.CombinedOutput(); err != nil {
		t.Fatalf("pki --issue: %v\n%s", err, out)
	}
	d.mustCLI("request security pki ca-certificate load ca-profile example filename "+filepath.Join(ss, "chain.crt"), "(2 certificates)")
	d.mustCLI("request security pki crl load ca-profile example filename "+filepath.Join(ss, "inter.crl"), "(1 revoked certificates)")
	d.mustCLI("request security pki crl load ca-profile example filename "+filepath.Join(ss, "root.crl"), "(0 revoked certificates)")
	d.mustCLI("request security pki local-certificate load certificate-id peer-ecdsa filename "+filepath.Join(ss, "ecdsa.crt")+" key "+filepath.Join(ss, "ecdsa.key"),
		"Local certificate loaded successfully")
	if out, err := d.cli("request security pki local-certificate load certificate-id wrong filename " + filepath.Join(ss, "rsa.crt") + " key " + filepath.Join(ss, "ecdsa.key")); err == nil || !strings.Contains(out, "is not the key of the certificate") || strings.Contains(out, "PRIVATE") {
		t.Fatalf("mismatched key: %v\n%s", err, out)
	}

	shows := []string{
		"show security pki local-certificate",
		"show security pki local-certificate certificate-id gw1 detail",
		"show security pki ca-certificate ca-profile example",
		"show security pki crl detail",
	}
	before := map[string]string{}
	for _, s := range shows {
		before[s] = d.mustCLI(s)
	}
	for _, w := range []string{"Certificate identifier: gw1\n  Issued to: gw1, Issued by: gw1", "Certificate identifier: gw-rsa\n  Certificate: none (key pair only)",
		"Certificate identifier: peer-ecdsa\n  Issued to: gw-ecdsa.example.net, Issued by: Example Intermediate CA"} {
		if !strings.Contains(before[shows[0]], w) {
			t.Fatalf("no %q in\n%s", w, before[shows[0]])
		}
	}
	if !strings.Contains(before[shows[1]], "Subject string:\n    DC=example, DC=net, CN=gw1") || !strings.Contains(before[shows[2]], "Issued to: Example Intermediate CA") ||
		!strings.Contains(before[shows[3]], "CRL issuer: C=US, O=Example, CN=Example Intermediate CA") {
		t.Fatalf("show outputs:\n%s\n%s\n%s", before[shows[1]], before[shows[2]], before[shows[3]])
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(d.mustCLI("show security pki ca-certificate detail | display json")), &js); err != nil || js["pki-ca-certificate-information"] == nil {
		t.Fatalf("| display json: %v %v", err, js)
	}
	for _, s := range shows {
		if strings.Contains(before[s], "PRIVATE") {
			t.Fatalf("%s shows a private key", s)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "pki", "local", "gw1.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	// The issued certificate is loaded for the key ipsecgw generated.
	key := filepath.Join(dir, "pki", "local", "gw-rsa.key")
	d.mustCLI("request security pki local-certificate load certificate-id gw-rsa filename "+issued+" key "+key, "loaded successfully")

	// A restart keeps everything.
	d.stop()
	d.start()
	for _, s := range shows[1:] {
		if after := d.mustCLI(s); after != before[s] {
			t.Fatalf("%s differs after a restart:\nbefore\n%s\nafter\n%s", s, before[s], after)
		}
	}
	d.mustCLI("show security pki local-certificate certificate-id gw-rsa", "Issued to: gw-rsa, Issued by: Example Intermediate CA")
	d.mustCLI("clear security pki local-certificate certificate-id gw1")
	if out := d.mustCLI("show security pki local-certificate"); strings.Contains(out, "identifier: gw1\n") {
		t.Fatalf("gw1 after clear:\n%s", out)
	}
	d.stop()

	// What an IKE engine will do, on the store the daemon wrote.
	store, err := pki.Open(dir, pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	policy := pki.TrustPolicyFor(&schema.CAProfile{Name: "example", CheckCRL: true})
	der := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(ss, name))
		if err != nil {
			t.Fatal(err)
		}
		certs, err := pki.ParseCertificates(b)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0].Raw
	}
	now := time.Now()
	for _, c := range []struct {
		file string
		want pki.Cause
	}{
		{"rsa.crt", pki.CauseNone}, {"ecdsa.crt", pki.CauseNone}, {"expired.crt", pki.CauseExpired},
		{"revoked.crt", pki.CauseRevoked}, {"unknown.crt", pki.CauseUnknownCA},
	} {
		_, err := store.VerifyChain(policy, [][]byte{der(c.file)}, now)
		if got := pki.CauseOf(err); got != c.want {
			t.Errorf("%s: cause %v (%v), want %v", c.file, got, err, c.want)
		}
	}
	// The issued gw-rsa certificate signs AUTH as an engine would, and
	// the peer side verifies it with the chain and the identity.
	local, ok := store.Local("gw-rsa")
	if !ok || local.Cert == nil {
		t.Fatal("gw-rsa not in the store after the restart")
	}
	octets := []byte("IKE_SA_INIT | Nr | prf(SK_pi, IDi')")
	method, err := pki.AuthMethod("certificates", local.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	auth, err := pki.SignAuth(rand.Reader, local.Key, method, pki.SignatureHashes(), octets)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := store.VerifyChain(policy, [][]byte{local.Cert.Raw}, now)
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.LocalIdentity(local, schema.Identity{Type: "hostname", Value: "gw-rsa.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.MatchRemoteIdentity(schema.Identity{Type: "hostname", Value: "gw-rsa.example.net"}, chain[0], id); err != nil {
		t.Fatal(err)
	}
	if err := pki.MatchRemoteIdentity(schema.Identity{Type: "distinguished-name", Container: "O=Example"}, chain[0], wire.Identification{Type: wire.ID_DER_ASN1_DN, Data: chain[0].RawSubject}); err != nil {
		t.Fatal(err)
	}
	if err := pki.VerifyAuth(chain[0].PublicKey, auth, octets); err != nil {
		t.Fatal(err)
	}
}
