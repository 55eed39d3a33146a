package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ipsecgw/daemon"
)

// lswCertCase authenticates both sides of the IKE SA with certificates
// (issue 12: "libreswan 4.10 inside User-Mode Linux with certificates
// (IKEv2)"). A root CA, an intermediate and two ECDSA P-256 leaves are made
// by strongSwan's pki tool on the host. pluto's NSS database holds its key
// and certificate (a PKCS #12 made by openssl, imported with pk12util) and
// the root as its only trusted CA; ipsecgw loads its own through the CLI's
// request security pki commands once the daemon runs, with the
// intermediate, which it sends in a CERT payload after its leaf. pluto
// initiates, authby=ecdsa: RFC 7427 digital signatures (AUTH method 14,
// ecdsa-with-SHA256), which is what ipsecgw's authentication-method
// certificates sends and accepts. Identities are the certificates'
// subjects (ID_DER_ASN1_DN) on both sides.
var lswCertCase = lswCase{name: "libreswan-initiates-ecdsa-certificates", espEnc: "aes-256-gcm",
	lswESP: "aes_gcm256", kernelAlg: "rfc4106(gcm(aes))", cert: true}

// The leaves' subjects, as strongSwan's pki, libreswan and ipsecgw all
// write a distinguished name (RDNs in DER order).
const (
	lswCertGwa = "C=US, O=Example, OU=VPN, CN=gwa.example.net"
	lswCertGwl = "C=US, O=Example, OU=VPN, CN=gwl.example.net"
)

// ipsecgwAuth is the authentication part of gwa's configuration: a
// pre-shared key, or for a certificate case the certificate named
// gwa (loaded by daemon-setup.sh), the CA profile and both identities.
func (c lswCase) ipsecgwAuth() string {
	if !c.cert {
		return "set security ike proposal ike_prop authentication-method pre-shared-keys\n" +
			fmt.Sprintf("set security ike policy ike_policy pre-shared-key ascii-text %q\n", lswPSK)
	}
	return "set security pki ca-profile example ca-identity Example-Root\n" +
		"set security ike proposal ike_prop authentication-method certificates\n" +
		"set security ike policy ike_policy certificate local-certificate gwa\n" +
		"set security ike policy ike_policy certificate trusted-ca ca-profile example\n" +
		"set security ike gateway ike_gw local-identity distinguished-name\n" +
		fmt.Sprintf("set security ike gateway ike_gw remote-identity distinguished-name %q\n", lswCertGwl)
}

// plutoAuth is the authentication part of pluto's conn: authby=secret, or
// its certificate (NSS nickname gwl), its subject as its ID, and gwa's
// subject as the ID it requires.
func (c lswCase) plutoAuth() string {
	if !c.cert {
		return "\tauthby=secret\n"
	}
	return "\tauthby=ecdsa\n\tleftcert=gwl\n\tleftid=%fromcert\n\tleftsendcert=always\n" +
		fmt.Sprintf("\trightid=\"%s\"\n", lswCertGwa)
}

// lswCertScript makes the certificates with strongSwan's pki tool and
// pluto's PKCS #12 with openssl, in the current directory.
const lswCertScript = `set -eu
pki() { command pki "$@" 2>/dev/null; }
pki --gen --type rsa --size 2048 --outform pem > root.key
pki --self --in root.key --dn "C=US, O=Example, CN=Example Root CA" --ca --lifetime 30 --outform pem > root.crt
pki --gen --type ecdsa --size 256 --outform pem > inter.key
pki --pub --in inter.key --type ecdsa | pki --issue --cacert root.crt --cakey root.key \
	--dn "C=US, O=Example, CN=Example Intermediate CA" --ca --lifetime 30 --outform pem > inter.crt
for gw in gwa gwl; do
	pki --gen --type ecdsa --size 256 --outform pem > $gw.key
	pki --pub --in $gw.key --type ecdsa | pki --issue --cacert inter.crt --cakey inter.key \
		--dn "C=US, O=Example, OU=VPN, CN=$gw.example.net" --san $gw.example.net --lifetime 30 --outform pem > $gw.crt
done
pki --signcrl --cacert inter.crt --cakey inter.key --lifetime 30 --outform pem > inter.crl
pki --signcrl --cacert root.crt --cakey root.key --lifetime 30 --outform pem > root.crl
cat gwa.crt inter.crt > gwa-chain.crt
cat root.crt inter.crt > chain.crt
openssl pkcs12 -export -in gwl.crt -inkey gwl.key -certfile inter.crt -name gwl -passout pass:interop -out gwl.p12
`

// writeLswCerts makes a certificate case's credentials in dir/pki, loads
// pluto's into the NSS database dir/nss (made by makeNSSDB), and writes
// daemon-setup.sh, which the guest runs once ipsecgw is up to load gwa's
// certificate, the CA profile and its (empty) CRLs through the CLI.
func writeLswCerts(dir string) error {
	if _, err := exec.LookPath("pki"); err != nil {
		return fmt.Errorf("strongSwan's pki tool is not installed (strongswan-pki; scripts/install-test-deps.sh installs it)")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		return fmt.Errorf("openssl is not installed (scripts/install-test-deps.sh installs it)")
	}
	pkiDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", lswCertScript)
	cmd.Dir = pkiDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("making the certificates: %w\n%s", err, out)
	}
	nss := "sql:" + filepath.Join(dir, "nss")
	for _, args := range [][]string{
		{"pk12util", "-i", filepath.Join(pkiDir, "gwl.p12"), "-d", nss, "-W", "interop"},
		{"certutil", "-A", "-n", "Example Root CA", "-t", "CT,,", "-d", nss, "-i", filepath.Join(pkiDir, "root.crt")},
	} {
		cmd := exec.Command(libreswanTree+"/usr/bin/"+args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libreswanLibs)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	setup := fmt.Sprintf(`#!/bin/bash
# Loads gwa's certificate (with its intermediate), the CA profile and its
# CRLs (ipsecgw checks revocation unless told not to, as Junos does).
set -e
cli() { echo "> $1"; "$SHARE/ipsecgw" cli --socket "$dir/state/api.sock" -c "$1" | tee "$dir/cli.txt"; grep -q "$2" "$dir/cli.txt"; }
cli "request security pki local-certificate load certificate-id gwa filename %[1]s/gwa-chain.crt key %[1]s/gwa.key" "loaded successfully"
cli "request security pki ca-certificate load ca-profile example filename %[1]s/chain.crt" "(2 certificates)"
cli "request security pki crl load ca-profile example filename %[1]s/inter.crl" "(0 revoked certificates)"
cli "request security pki crl load ca-profile example filename %[1]s/root.crl" "(0 revoked certificates)"
cli "show security pki local-certificate certificate-id gwa" "Issued to: gwa.example.net"
`, pkiDir)
	return os.WriteFile(filepath.Join(dir, "daemon-setup.sh"), []byte(setup), 0o700)
}

// checkLswCert checks what only a certificate case shows: ipsecgw verified
// pluto's certificate (its subject is the IKE SA's peer certificate), and
// pluto authenticated gwa with ECDSA through the intermediate ipsecgw sent.
func checkLswCert(t *testing.T, g guestOutput, c lswCase) {
	t.Helper()
	var st daemon.Status
	if err := json.Unmarshal([]byte(g.sections[c.name+" status-after"]), &st); err != nil {
		t.Fatalf("status.json: %v", err)
	}
	var seen bool
	for _, ike := range st.IKE {
		if ike.State == "UP" {
			seen = true
			if ike.PeerCertificate != lswCertGwl {
				t.Errorf("ipsecgw's IKE SA has peer certificate %q, want %q", ike.PeerCertificate, lswCertGwl)
			}
		}
	}
	if !seen {
		t.Errorf("ipsecgw has no IKE SA up: %+v", st.IKE)
	}
	log := g.sections[c.name+" pluto-log"]
	var auth string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "established IKE SA") {
			auth = line
		}
	}
	t.Logf("pluto: %s", auth)
	for _, want := range []string{"ECDSA", lswCertGwa, "Example Intermediate CA"} {
		if !strings.Contains(auth, want) {
			t.Errorf("pluto's IKE SA line lacks %q: %q\npluto.log:\n%s", want, auth, log)
		}
	}
}
