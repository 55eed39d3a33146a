package demo

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the whole demo in-process, unprivileged, and checks what
// it printed: an IKE SA UP with the same non-zero cookies on both
// gateways, an AES-GCM-256 SA pair whose SPIs cross (Peer1's inbound is
// Peer2's outbound), and counters where each gateway decrypted what the
// other encrypted.
func TestDemo(t *testing.T) {
	before := runtime.NumGoroutine()
	var out bytes.Buffer
	start := time.Now()
	err := Run(context.Background(), Options{ConfigDir: "../examples/seed004", TCPBytes: 1 << 20, Out: &out})
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	t.Logf("demo took %v", time.Since(start))
	o := out.String()
	for _, want := range []string{"negotiating IKEv2 (Peer2 initiates)...", "Host1 1.1.1.2 → Host2 2.2.2.2: 3 echo replies (",
		"Host2 2.2.2.2 → Host1 1.1.1.2: 3 echo replies (", "TCP Host1 → Host2: 1.0 MB in", "Mbit/s", "0 ESP errors"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}

	// show security ike security-associations: one SA, UP, same cookies.
	row := regexp.MustCompile(`(?m)^1\s+UP\s+([0-9a-f]{16})\s+([0-9a-f]{16})\s+IKEv2\s+(\S+)$`)
	var cookies [2]string
	for i, peer := range []string{"Peer1", "Peer2"} {
		m := row.FindStringSubmatch(section(t, o, peer, "show security ike security-associations"))
		if m == nil {
			t.Fatalf("%s: no IKE SA UP in:\n%s", peer, o)
		}
		if m[1] == strings.Repeat("0", 16) || m[2] == strings.Repeat("0", 16) {
			t.Errorf("%s: zero cookie %s %s", peer, m[1], m[2])
		}
		cookies[i] = m[1] + m[2]
		detail := section(t, o, peer, "show security ike security-associations index 1 detail")
		role := map[string]string{"Peer1": "Role: Responder, State: UP", "Peer2": "Role: Initiator, State: UP"}[peer]
		for _, want := range []string{role, "Encryption            : 3des-cbc", "Diffie-Hellman group  : DH-group-2",
			"Lifetime: Expires in 2879", "IPSec Tunnel IDs: 500001"} {
			if !strings.Contains(detail, want) {
				t.Errorf("%s: IKE detail lacks %q:\n%s", peer, want, detail)
			}
		}
	}
	if cookies[0] != cookies[1] {
		t.Errorf("the gateways disagree on the IKE SA's cookies: %s, %s", cookies[0], cookies[1])
	}

	// show security ipsec security-associations: an AES-GCM-256 pair whose
	// SPIs cross.
	sa := regexp.MustCompile(`(?m)^  ([<>])500001 ESP:aes-gcm-256/aes256-gcm 0x([0-9a-f]{8}) 359\d/ unlim - root 500 (\S+)`)
	spis := map[string]string{} // "Peer1<" → SPI
	for _, peer := range []string{"Peer1", "Peer2"} {
		for _, m := range sa.FindAllStringSubmatch(section(t, o, peer, "show security ipsec security-associations"), -1) {
			spis[peer+m[1]] = m[2]
		}
		detail := section(t, o, peer, "show security ipsec security-associations index 500001 detail")
		for _, want := range []string{"VPN Name: ipsec_vpn", "Encryption: aes-gcm (256 bits)", "Bind-interface: st0.1", "IKE SA Index: 1"} {
			if !strings.Contains(detail, want) {
				t.Errorf("%s: IPsec detail lacks %q:\n%s", peer, want, detail)
			}
		}
	}
	if len(spis) != 4 || spis["Peer1<"] != spis["Peer2>"] || spis["Peer2<"] != spis["Peer1>"] {
		t.Errorf("IPsec SA pairs do not match up: %v\n%s", spis, o)
	}

	// show security ipsec statistics: what one encrypted the other
	// decrypted, packets and bytes.
	p1 := statistics(t, section(t, o, "Peer1", "show security ipsec statistics"))
	p2 := statistics(t, section(t, o, "Peer2", "show security ipsec statistics"))
	if p1["Encrypted packets"] < 700 || p2["Encrypted packets"] == 0 {
		t.Errorf("too little traffic for 1 MB of TCP: Peer1 %v, Peer2 %v", p1, p2)
	}
	for _, c := range [][2]string{{"Encrypted packets", "Decrypted packets"}, {"Encrypted bytes", "Decrypted bytes"}} {
		if p1[c[0]] != p2[c[1]] || p2[c[0]] != p1[c[1]] {
			t.Errorf("counters disagree: Peer1 %v, Peer2 %v", p1, p2)
		}
	}

	// Nothing left running.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the demo, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestDemoChaCha20 runs the second scenario with --duration and --json.
func TestDemoChaCha20(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), Options{Scenario: "chacha20", ConfigDir: "../examples/seed004",
		TCPBytes: 256 << 10, Duration: 300 * time.Millisecond, JSON: true, Out: &out})
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	o := out.String()
	for _, want := range []string{
		"traffic for 300ms: TCP Host1 → Host2 and Host2 → Host1...",
		"user@Peer1> show security ipsec security-associations | display json",
		`"ipsec-security-associations-information"`,
		`"data" : "chacha20-poly1305"`,
		`"usp-ipsec-total-statistics-information"`,
		`"ike-sa-state" : [`,
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The statistics are printed after the soak and again at the end.
	if n := strings.Count(o, "user@Peer2> show security ipsec statistics | display json"); n != 2 {
		t.Errorf("Peer2's statistics printed %d times, want 2", n)
	}
}

// TestDemoCertificates runs the gateways with the certificates they make
// at start: the tunnel comes up authenticated by signatures.
func TestDemoCertificates(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), Options{Scenario: "certificates", ConfigDir: "../examples/seed004",
		TCPBytes: 256 << 10, Duration: 300 * time.Millisecond, Out: &out})
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	o := out.String()
	for _, want := range []string{"scenario certificates:", "IKE SA UP in", "Authentication method: certificates",
		"Peer ike-id: O=ipsecgw demo, CN=Peer"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
}

func TestDemoFailures(t *testing.T) {
	err := Run(context.Background(), Options{Scenario: "des", ConfigDir: "../examples/seed004"})
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "des"; expected one of certificates, chacha20, cluster, seed004`) {
		t.Errorf("unknown scenario: %v", err)
	}
	err = Run(context.Background(), Options{Scenario: "cluster", Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "expected no --duration") {
		t.Errorf("cluster with --duration: %v", err)
	}
	err = Run(context.Background(), Options{ConfigDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "peer1.conf: no such file") {
		t.Errorf("no configuration: %v", err)
	}
}

// section is the output of the last `user@peer> cmd` in out, up to the
// next prompt or progress line.
func section(t *testing.T, out, peer, cmd string) string {
	t.Helper()
	prompt := "\nuser@" + peer + "> " + cmd + "\n"
	i := strings.LastIndex(out, prompt)
	if i < 0 {
		t.Fatalf("no %q in the output:\n%s", strings.TrimSpace(prompt), out)
	}
	body := out[i+len(prompt):]
	if end := regexp.MustCompile(`(?m)^(user@|\[)`).FindStringIndex(body); end != nil {
		body = body[:end[0]]
	}
	return body
}

// statistics reads the ESP counters of `show security ipsec statistics`.
func statistics(t *testing.T, s string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, f := range regexp.MustCompile(`(?m)^  ((?:En|De)crypted (?:bytes|packets)):\s+(\d+)$`).FindAllStringSubmatch(s, -1) {
		n, _ := strconv.ParseUint(f[2], 10, 64)
		m[f[1]] = n
	}
	if len(m) != 4 {
		t.Fatalf("no ESP counters in:\n%s", s)
	}
	return m
}
