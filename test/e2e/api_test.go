package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// manualVPN adds to gateway i's configuration a second VPN, with manual
// SAs on st0.2, for 198.19.N.0/24 (no host behind it: it only has to
// exist, and to change in a commit).
func manualVPN(i int, spi int) string {
	me, peer := i+1, 2-i
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set interfaces st0 unit 2 family inet")
	w("set routing-options static route 198.19.%d.0/24 next-hop st0.2", peer)
	p := "set security ipsec vpn manual-vpn "
	w(p + "bind-interface st0.2")
	w(p+"manual gateway 192.0.2.%d", peer)
	w(p+"manual external-interface gw%d-gw%d", me, peer)
	w(p + "manual protocol esp")
	w(p+"manual spi %d", spi)
	w(p + "manual encryption algorithm aes-128-gcm")
	w(p + "manual encryption key ascii-text \"0123456789abcdefghij\"")
	return b.String()
}

// cli runs "ipsecgw cli -c COMMAND" against gateway g's API.
func (tp *topology) cli(g *gateway, command string) (string, error) {
	out, err := exec.Command(binary, "cli", "--socket", filepath.Join(g.stateDir, "api.sock"), "-c", command).CombinedOutput()
	return string(out), err
}

func (tp *topology) mustCLI(g *gateway, command string) string {
	tp.t.Helper()
	out, err := tp.cli(g, command)
	if err != nil {
		tp.t.Fatalf("%s: ipsecgw cli -c %q: %v\n%s", g.name, command, err, out)
	}
	return out
}

// TestAPIWithLiveTunnels: two daemons in namespaces with an IKEv2 VPN and
// a manual one. Through the API (the real CLI): the show commands print
// the live state in the Junos layouts (cookies are the IKE SPIs, counters
// the data plane's), "| display json" parses with jq, the metrics endpoint
// serves the same counters, a commit that changes the manual VPN leaves the
// IKE VPN's SAs alone and a continuous ping through it loses nothing, and a
// commit that fails validation changes nothing.
func TestAPIWithLiveTunnels(t *testing.T) {
	netns.RequireRoot(t)
	tp := newTopology(t)
	tp.negotiated = true
	for _, gw := range []string{"gw1", "gw2"} {
		tp.net.Exec(gw, "ip", "link", "set", "lo", "up")
	}
	tp.daemonArgs = []string{"--metrics-listen", "127.0.0.1:9478"}
	var cfgs [2]string
	for i := range cfgs {
		cfgs[i] = ikeConfig(i, "aes-256-gcm", "group19", "aes-256-gcm", "test123") + manualVPN(i, 400)
	}
	tp.startConfigs(cfgs)
	tp.waitTunnel("h1", "198.18.2.2")
	tp.ping("h1", "198.18.2.2", 0)
	gw1, gw2 := tp.gws[0], tp.gws[1]

	// The IKE SA as both the status file and the CLI see it.
	st := tp.status(gw1)
	if len(st.IKE) != 1 || st.IKE[0].State != "UP" {
		t.Fatalf("gw1 IKE SAs: %+v", st.IKE)
	}
	spiI, spiR := st.IKE[0].InitiatorSPI, st.IKE[0].ResponderSPI
	out := tp.mustCLI(gw1, "show security ike security-associations")
	row := fmt.Sprintf("UP     %016x  %016x  IKEv2          192.0.2.2", spiI, spiR)
	if !strings.Contains(out, "Index   State  Initiator cookie  Responder cookie  Mode           Remote Address\n") || !strings.Contains(out, row) {
		t.Fatalf("show security ike security-associations:\n%s\nwant a row with %q", out, row)
	}
	js := tp.mustCLI(gw2, "sh sec ike sa detail | display json")
	jq := exec.Command("jq", "-r", `."ike-security-associations-information"[0]."ike-security-associations-block"[0]."ike-sa-remote-address"[0].data`)
	jq.Stdin = strings.NewReader(js)
	if addr, err := jq.Output(); err != nil || strings.TrimSpace(string(addr)) != "192.0.2.1" {
		t.Fatalf("jq on | display json: %q %v\n%s", addr, err, js)
	}
	out = tp.mustCLI(gw1, "show security ipsec security-associations")
	if !strings.Contains(out, "Total active tunnels: 2") || !strings.Contains(out, "0x000001") {
		t.Fatalf("show security ipsec security-associations:\n%s", out)
	}
	xml := tp.mustCLI(gw1, "show security ipsec security-associations | display xml")
	if !strings.Contains(xml, "<ipsec-security-associations-information") {
		t.Fatalf("| display xml:\n%s", xml)
	}
	out = tp.mustCLI(gw1, "show security ipsec statistics")
	st = tp.status(gw1)
	if want := fmt.Sprintf(`Encrypted bytes:\s+%d\n`, st.Global.EncryptedBytes); st.Global.EncryptedPackets == 0 || !regexp.MustCompile(want).MatchString(out) {
		t.Fatalf("statistics:\n%s\nwant %q (status %+v)", out, want, st.Global)
	}
	if out := tp.mustCLI(gw1, "show interfaces st0 terse"); !strings.Contains(out, "st0.1") || !strings.Contains(out, "st0.2") {
		t.Fatalf("show interfaces st0 terse:\n%s", out)
	}
	if out := tp.mustCLI(gw1, "show security ipsec inactive-tunnels"); !strings.Contains(out, "Total inactive tunnels: 0") {
		t.Fatalf("inactive tunnels:\n%s", out)
	}
	if out := tp.mustCLI(gw1, "show security ike security-associations | count"); !strings.Contains(out, "Count: 2 lines") {
		t.Fatalf("| count:\n%s", out)
	}
	metrics, err := tp.net.Try("gw1", "curl", "-s", "http://127.0.0.1:9478/metrics")
	if err != nil || !strings.Contains(metrics, `ipsecgw_ike_sas{state="up"} 1`) || !strings.Contains(metrics, `ipsecgw_esp_packets_total{direction="outbound"}`) {
		t.Fatalf("metrics: %v\n%s", err, metrics)
	}

	// A commit that changes only the manual VPN, on both sides, while a
	// ping runs through the IKE VPN.
	pingRun := netns.Ping{Count: 150, Interval: 20 * time.Millisecond}
	ping := exec.Command("ip", append([]string{"netns", "exec", tp.net.Name("h1")}, pingRun.Args("198.18.2.2")...)...)
	pingOut := &strings.Builder{}
	ping.Stdout, ping.Stderr = pingOut, pingOut
	if err := ping.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	for _, g := range tp.gws {
		out := tp.mustCLI(g, "configure; set security ipsec vpn manual-vpn manual spi 401; commit; exit")
		if !strings.Contains(out, "commit complete") {
			t.Fatalf("%s commit:\n%s", g.name, out)
		}
	}
	ping.Wait()
	if err := pingRun.Check("198.18.2.2", pingOut.String()); err != nil {
		t.Fatalf("through the IKE VPN during the commit: %v", err)
	}
	st = tp.status(gw1)
	if len(st.IKE) != 1 || st.IKE[0].InitiatorSPI != spiI {
		t.Fatalf("the IKE SA changed in a commit to another VPN: %+v", st.IKE)
	}
	found := false
	for _, sa := range st.SAs {
		found = found || sa.VPN == "manual-vpn" && sa.SPI == "0x00000191"
	}
	if !found {
		t.Fatalf("the manual VPN's SPI did not change: %+v", st.SAs)
	}

	// A commit the model refuses: the error, and nothing changed.
	out, err = tp.cli(gw1, "configure; set security ipsec vpn manual-vpn bind-interface st0.9; commit")
	if err == nil || !strings.Contains(out, "error: configuration check-out failed") {
		t.Fatalf("invalid commit: %v\n%s", err, out)
	}
	tp.ping("h1", "198.18.2.2", 0)
	if st := tp.status(gw1); st.IKE[0].InitiatorSPI != spiI {
		t.Fatal("a failed commit disturbed the IKE SA")
	}
	if out := tp.mustCLI(gw1, "show configuration security ipsec vpn manual-vpn | display set"); strings.Contains(out, "st0.9") {
		t.Fatalf("the failed commit is in the committed configuration:\n%s", out)
	}
}
