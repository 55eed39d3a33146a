package pki_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestCertificateChainFragmentedWithStrongSwan: the certificates issue's
// proof of IKE fragmentation (RFC 7383). The outer link's MTU is 1280 and
// both gateways drop IP fragments on arrival (nftables, before
// reassembly), as many real paths do. ipsecgw and strongSwan 5.9
// authenticate with RSA-4096 certificates issued by an RSA-4096
// intermediate, sent with it: an IKE_AUTH of more than 3 kB, which only
// crosses as IKE fragments. With defaults on both sides (ipsecgw: on,
// 576-byte datagrams for IPv4; strongSwan: fragmentation = yes, 1280),
// tshark sees IKE_AUTH as Encrypted and Authenticated Fragment payloads
// both ways and the tunnel comes up, each role in turn. With strongSwan's
// fragmentation = no, ipsecgw's IKE_AUTH can only go whole, its IP
// fragments are dropped, and ipsecgw's reason for the failed tunnel says
// the peer did not negotiate IKE fragmentation.
func TestCertificateChainFragmentedWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatalf("tshark judges the fragments on the wire: %v", err)
	}
	ss := strongSwanCertificates(t)
	ssFile := func(name string) string { return filepath.Join(ss, name) }
	// An RSA-4096 intermediate under make.sh's root, and strongSwan's
	// RSA-4096 leaf under it.
	bigChain := exec.Command("sh", "-c", `set -e
pki --gen --type rsa --size 4096 --outform pem > big-inter.key
pki --pub --in big-inter.key | pki --issue --cacert root.crt --cakey root.key --dn "C=US, O=Example, CN=Example Big Intermediate CA" --ca --lifetime 3000 --outform pem > big-inter.crt
pki --gen --type rsa --size 4096 --outform pem > big.key
pki --pub --in big.key | pki --issue --cacert big-inter.crt --cakey big-inter.key --dn "C=US, O=Example, OU=VPN, CN=gw-big.example.net" --san gw-big.example.net --lifetime 1000 --outform pem > big.crt
cat root.crt big-inter.crt > big-chain.crt`)
	bigChain.Dir = ss
	if out, err := bigChain.CombinedOutput(); err != nil {
		t.Fatalf("making the RSA-4096 chain: %v\n%s", err, out)
	}

	n, d := twoGateways(t)
	dir := d.dir
	n.Exec("gw1", "ip", "link", "set", "gw1-gw2", "mtu", "1280")
	n.Exec("gw2", "ip", "link", "set", "gw2-gw1", "mtu", "1280")
	for _, gw := range []string{"gw1", "gw2"} {
		// Before the kernel's reassembly (priority -400): IP fragments
		// never reach IKE.
		n.Exec(gw, "nft", "add table ip nofrag")
		n.Exec(gw, "nft", "add chain ip nofrag pre { type filter hook prerouting priority -450 ; }")
		n.Exec(gw, "nft", "add rule ip nofrag pre ip frag-off & 0x3fff != 0 counter drop")
	}
	// ipsecgw's own RSA-4096 key pair, certified by the big intermediate.
	d.mustCLI("request security pki generate-key-pair certificate-id gw1-big type rsa size 4096", "Generated key pair gw1-big")
	csr, crt := filepath.Join(dir, "gw1-big.csr"), filepath.Join(dir, "gw1-big.crt")
	d.mustCLI(`request security pki generate-certificate-request certificate-id gw1-big subject "C=US, O=Example, OU=VPN, CN=gw1-big.example.net" domain-name gw1-big.example.net filename `+csr, "BEGIN CERTIFICATE REQUEST")
	issue := exec.Command("sh", "-c", "pki --issue --type pkcs10 --in "+csr+" --cacert "+ssFile("big-inter.crt")+" --cakey "+ssFile("big-inter.key")+
		" --san gw1-big.example.net --lifetime 100 --outform pem > "+crt+" && cat "+ssFile("big-inter.crt")+" >> "+crt)
	if out, err := issue.CombinedOutput(); err != nil {
		t.Fatalf("pki --issue: %v\n%s", err, out)
	}
	d.mustCLI("request security pki local-certificate load certificate-id gw1-big filename "+crt+" key "+filepath.Join(dir, "pki", "local", "gw1-big.key"), "loaded successfully")
	d.mustCLI("request security pki ca-certificate load ca-profile example filename "+ssFile("big-chain.crt"), "(2 certificates)")

	for _, tc := range []struct {
		name             string
		ipsecgwInitiates bool
		ssFragmentation  string
	}{
		{"ipsecgw-initiates", true, "yes"},
		{"strongswan-initiates", false, "yes"},
		{"strongswan-fragmentation-no", true, "no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			d.stop()
			d.conf = certConfig("rsa-signatures", "gw1-big", `distinguished-name wildcard "OU=VPN, O=Example"`, false, false) +
				"set security pki ca-profile example revocation-check disable\n"
			if tc.ipsecgwInitiates {
				// On traffic, so that the capture runs first.
				d.conf = strings.Replace(d.conf, "establish-tunnels responder-only", "establish-tunnels on-traffic", 1)
			}
			d.start()
			pcap := filepath.Join(t.TempDir(), "gw1-gw2.pcap")
			capture := n.StartCapture(t, "gw1", "gw1-gw2", "udp port 500 or udp port 4500 or (ip[6:2] & 0x3fff != 0)", "192.0.2.2", pcap)
			start := "start"
			if tc.ipsecgwInitiates {
				start = "none"
			}
			charon := strongswan.Start(t, n, "gw2", strongswan.Config{
				Charon: []string{"signature_authentication = no"},
				Connections: []strongswan.Connection{{
					Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
					Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
						ESPProposals: []string{"aes256gcm16"}, StartAction: start}},
					Extra: []string{"fragmentation = " + tc.ssFragmentation,
						"local {", "auth = pubkey", "certs = big.crt", "}", "remote {", "auth = pubkey", "}"},
				}}, Files: map[string][]byte{
					"x509/big.crt": readFile(t, ssFile("big.crt")), "private/big.key": readFile(t, ssFile("big.key")),
					"x509ca/root.crt": readFile(t, ssFile("root.crt")), "x509ca/big-inter.crt": readFile(t, ssFile("big-inter.crt")),
				}})
			defer charon.Stop()
			if tc.ipsecgwInitiates {
				n.Try("h1", "ping", "-c", "1", "-W", "1", "198.18.2.2")
			}
			if tc.ssFragmentation == "no" {
				// Five sends, 1+2+4+8+16 s apart, then the reason.
				want := "the peer did not negotiate IKE fragmentation"
				deadline := time.Now().Add(45 * time.Second)
				for {
					shown := d.mustCLI("show security ipsec inactive-tunnels") + d.mustCLI("show security ike security-associations detail")
					if strings.Contains(shown, want) {
						t.Logf("ipsecgw shows:\n%s", shown)
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("ipsecgw does not say %q within 45 s:\n%s\ndaemon:\n%s\ncharon:\n%s", want, shown, d.logText(), charon.Log())
					}
					time.Sleep(time.Second)
				}
				capture.Stop()
				if dropped := fragmentsDropped(t, n, "gw2"); dropped == 0 {
					t.Fatal("gw2 dropped no IP fragment: ipsecgw's IKE_AUTH fitted whole, the proof proves nothing")
				}
				if skf := countSKF(t, pcap); skf["192.0.2.1"]+skf["192.0.2.2"] != 0 {
					t.Fatalf("IKE fragments on the wire without fragmentation negotiated: %v", skf)
				}
				return
			}
			waitPing(t, n, d, charon)
			pingOK(t, n, "h1", "198.18.2.2", d, charon)
			pingOK(t, n, "h2", "198.18.1.2", d, charon)
			capture.Stop()
			skf := countSKF(t, pcap)
			if skf["192.0.2.1"] < 2 || skf["192.0.2.2"] < 2 {
				t.Fatalf("IKE fragments (SKF) by source: %v; want IKE_AUTH fragmented both ways", skf)
			}
			d.mustCLI("show security ike security-associations detail", "IKE Fragmentation: Enabled",
				"Peer ike-id: C=US, O=Example, OU=VPN, CN=gw-big.example.net")
			if !strings.Contains(charon.Log(), "authentication of 'C=US, O=Example, OU=VPN, CN=gw1-big.example.net' with RSA signature successful") {
				t.Fatalf("charon did not verify ipsecgw's RSA-4096 certificate:\n%s", charon.Log())
			}
			t.Logf("IKE fragments seen by tshark, by source: %v", skf)
		})
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// countSKF counts, by source address, the IKE messages of a capture that
// carry an Encrypted and Authenticated Fragment (payload 53, RFC 7383).
func countSKF(t *testing.T, pcap string) map[string]int {
	t.Helper()
	out, err := netns.Command("tshark", "-r", pcap, "-n", "-Y", "isakmp.frag.number",
		"-T", "fields", "-e", "ip.src", "-e", "isakmp.frag.number")
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, out)
	}
	got := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			got[f[0]]++
		}
	}
	return got
}

var nftPackets = regexp.MustCompile(`counter packets (\d+)`)

// fragmentsDropped is the nofrag rule's packet count in namespace ns.
func fragmentsDropped(t *testing.T, n *netns.Net, ns string) int {
	t.Helper()
	m := nftPackets.FindStringSubmatch(n.Exec(ns, "nft", "list chain ip nofrag pre"))
	if m == nil {
		t.Fatalf("no counter in the nofrag chain of %s", ns)
	}
	c, _ := strconv.Atoi(m[1])
	return c
}
