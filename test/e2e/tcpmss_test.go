package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ipsecgw/test/netns"
)

// TestTCPMSSClamping: gw1 has "security flow tcp-mss ipsec-vpn mss 1379",
// gw2 has no clamping. TCP from h1 to h2 over IPv4 and IPv6, with tshark
// on both hosts' links: h1's SYN leaves h1 with its own MSS (1460, 1440;
// less once h1 knows the path MTU) and reaches h2 with at most 1379 (clamped by gw1 on the way into the tunnel);
// h2's SYN-ACK leaves h2 with its own MSS and reaches h1 with at most 1379
// (clamped by gw1 on the way out of the tunnel). tshark checks the TCP
// checksums of what arrives; the connections carry data, so the rewritten
// handshakes were accepted. gw1 counts each clamped packet, gw2 none.
func TestTCPMSSClamping(t *testing.T) {
	netns.RequireRoot(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatalf("tshark is needed to see the MSS on the wire: %v", err)
	}
	tp := newTopology(t)
	v := vpn{encryption: "aes-128-cbc", encKey: hexKey(16, 41), auth: "hmac-sha1-96", authKey: hexKey(20, 42)}
	tp.startConfigs([2]string{v.config(0) + "set security flow tcp-mss ipsec-vpn mss 1379\n", v.config(1)})

	dir := t.TempDir()
	pcaps := [2]string{filepath.Join(dir, "h1.pcap"), filepath.Join(dir, "h2.pcap")}
	caps := [2]*tsharkCapture{
		tp.startTsharkOn("h1", "h1-gw1", synFilter, "198.18.1.1", pcaps[0]),
		tp.startTsharkOn("h2", "h2-gw2", synFilter, "198.18.2.1", pcaps[1]),
	}
	tp.tcp("h1", "h2", "198.18.2.2")
	tp.tcp("h1", "h2", "2001:db8:2::2")
	for _, c := range caps {
		c.Stop()
	}

	// A host's own packets are captured before the NIC would fill in their
	// checksum (veth offload): only what arrived is checked.
	atH1, atH2 := synMSS(t, pcaps[0], "SYN-ACK"), synMSS(t, pcaps[1], "SYN")
	clamped := 0
	for _, kind := range []string{"SYN 4", "SYN 6", "SYN-ACK 4", "SYN-ACK 6"} {
		// SYNs go from h1 to h2, SYN-ACKs back; each arrives with the MSS
		// it left with, lowered to 1379 when larger. (After the first
		// connection h1 may know the path MTU and announce less.)
		sent, got := atH1[kind], atH2[kind]
		if strings.HasPrefix(kind, "SYN-ACK") {
			sent, got = got, sent
		}
		if len(sent) == 0 || len(sent) != len(got) {
			t.Errorf("%s: sent %v, arrived %v", kind, sent, got)
			continue
		}
		for i := range sent {
			want := min(atoi(t, sent[i]), 1379)
			if atoi(t, got[i]) != want {
				t.Errorf("%s #%d: left with MSS %s, arrived with %s, want %d", kind, i, sent[i], got[i], want)
			}
			if atoi(t, sent[i]) > 1379 {
				clamped++
			}
		}
		if atoi(t, sent[0]) <= 1379 {
			t.Errorf("%s: the first left with MSS %s: nothing to clamp, the test proves nothing", kind, sent[0])
		}
	}
	st := [2]uint64{tp.status(tp.gws[0]).Global.TCPMSSClamped, tp.status(tp.gws[1]).Global.TCPMSSClamped}
	if st[0] != uint64(clamped) || st[1] != 0 {
		t.Errorf("tcp-mss-clamped counters gw1 %d gw2 %d, want %d and 0", st[0], st[1], clamped)
	}
	t.Logf("gw1 clamped %d SYN and SYN-ACK packets", st[0])
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("MSS %q: %v", s, err)
	}
	return n
}

// synFilter captures the SYNs and SYN-ACKs of iperf3's connections (for
// IPv6, those without extension headers: the TCP flags at 40+13).
const synFilter = "(ip and tcp port 5201 and tcp[13] & 2 != 0) or (ip6 and tcp port 5201 and ip6[53] & 2 != 0)"

// synMSS reads a capture and returns the MSS values of the SYNs ("SYN 4",
// "SYN 6") and SYN-ACKs ("SYN-ACK 4", "SYN-ACK 6") in it, failing on
// anything tshark finds malformed and on a bad TCP checksum of the kind
// checked ("SYN" or "SYN-ACK").
func synMSS(t *testing.T, pcap, checked string) map[string][]string {
	t.Helper()
	out, err := netns.Command("tshark", "-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE",
		"-Y", "tcp.flags.syn == 1",
		"-T", "fields", "-E", "separator=/t",
		"-e", "ip.version", "-e", "ipv6.src", "-e", "tcp.flags.ack", "-e", "tcp.options.mss_val",
		"-e", "tcp.checksum.status", "-e", "_ws.malformed")
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", pcap, err, out)
	}
	seen := map[string][]string{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 {
			continue
		}
		family := "4"
		if f[1] != "" {
			family = "6"
		}
		kind := "SYN"
		if f[2] == "1" || f[2] == "True" {
			kind = "SYN-ACK"
		}
		// tcp.checksum.status: 1 is good, 0 bad, 2 unverified.
		if kind == checked && f[4] != "1" || f[5] != "" {
			t.Errorf("%s: %s %s with checksum status %q, malformed %q", pcap, kind, family, f[4], f[5])
		}
		seen[fmt.Sprintf("%s %s", kind, family)] = append(seen[fmt.Sprintf("%s %s", kind, family)], f[3])
	}
	return seen
}
