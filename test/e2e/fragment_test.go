package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// IKEv2 fragmentation (RFC 7383) against strongSwan 5.9.8, judged on the
// wire by tshark.

// fragSize is the datagram size both sides cut IKE messages for: ipsecgw's
// smallest (Junos allows 500 to 1300), strongSwan's charon.fragment_size,
// so that a PSK IKE_AUTH no longer fits in either direction.
const (
	fragSizeIpsecgw    = 500
	fragSizeStrongSwan = 300
)

// fragConfig is gw1's configuration: the IKEv2 VPN with fragmentation
// size 500, a long host name as its identity and four IPsec proposals, so
// that its IKE_AUTH messages are larger than that. ipsecgw initiates on
// traffic (so that the capture is running first) or only responds.
func fragConfig(initiates bool) string {
	cfg := ikeConfig(0, "aes-256-gcm", "group19", "aes-256-gcm", "test123")
	establish := "establish-tunnels on-traffic"
	if !initiates {
		establish = "establish-tunnels responder-only"
	}
	cfg = strings.Replace(cfg, "establish-tunnels immediately", establish, 1)
	var b strings.Builder
	b.WriteString(cfg)
	fmt.Fprintf(&b, "set security ike gateway ike_gw fragmentation size %d\n", fragSizeIpsecgw)
	fmt.Fprintf(&b, "set security ike gateway ike_gw local-identity hostname %s\n", fragID("gw1"))
	fmt.Fprintf(&b, "set security ike gateway ike_gw remote-identity hostname %s\n", fragID("gw2"))
	for i, enc := range []string{"aes-128-gcm", "aes-256-cbc", "3des-cbc"} {
		fmt.Fprintf(&b, "set security ipsec proposal extra%d protocol esp\n", i)
		fmt.Fprintf(&b, "set security ipsec proposal extra%d encryption-algorithm %s\n", i, enc)
		if strings.HasSuffix(enc, "-cbc") {
			fmt.Fprintf(&b, "set security ipsec proposal extra%d authentication-algorithm hmac-sha-256-128\n", i)
		}
		fmt.Fprintf(&b, "set security ipsec policy ipsec_policy proposals extra%d\n", i)
	}
	return b.String()
}

// fragID is a host name of 238 characters (of at most 253) to make IKE_AUTH
// messages large.
func fragID(host string) string {
	return host + "." + strings.Repeat("fragmented.", 20) + "example.net"
}

// ikeFrame is one IKE message as tshark decoded it.
type ikeFrame struct {
	src       string
	ipLen     int
	exchange  int   // 34 IKE_SA_INIT, 35 IKE_AUTH, ...
	next      []int // the payload types in the message, in order
	number    int   // SKF Fragment Number, 0 when none
	total     int
	typesText string
}

func (f ikeFrame) skf() bool { return f.number > 0 }

// readIKE decodes the IKE messages of a capture with tshark's isakmp
// dissector.
func readIKE(t *testing.T, pcap string) []ikeFrame {
	t.Helper()
	out, err := netns.Command("tshark", "-r", pcap, "-n", "-Y", "isakmp",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=/t",
		"-e", "ip.src", "-e", "ip.len", "-e", "isakmp.exchangetype", "-e", "isakmp.typepayload",
		"-e", "isakmp.frag.number", "-e", "isakmp.frag.total")
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, out)
	}
	var frames []ikeFrame
	for _, line := range strings.Split(out, "\n") {
		col := strings.Split(line, "\t")
		if len(col) != 6 {
			continue
		}
		f := ikeFrame{src: col[0], typesText: col[3]}
		f.ipLen, _ = strconv.Atoi(col[1])
		f.exchange, _ = strconv.Atoi(col[2])
		for _, p := range strings.Split(col[3], "|") {
			if n, err := strconv.Atoi(p); err == nil {
				f.next = append(f.next, n)
			}
		}
		f.number, _ = strconv.Atoi(col[4])
		f.total, _ = strconv.Atoi(col[5])
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		t.Fatalf("tshark found no IKE message in the capture:\n%s", out)
	}
	return frames
}

// TestIKEFragmentationWithStrongSwan: ipsecgw (fragmentation size 500) and
// strongSwan (charon.fragment_size 300), each role in turn, both with long
// host names as identities and both address families in the traffic
// selectors, so that every IKE_AUTH message is too large. With
// fragmentation = yes, tshark on the outer link sees IKE_AUTH go as
// Encrypted and Authenticated Fragment payloads (53) both ways, ipsecgw's
// datagrams within 500 bytes, the tunnel comes up, fragmentation shows as
// negotiated, and pings pass. With fragmentation = no on strongSwan's side
// nobody fragments: ipsecgw sends its too-large IKE_AUTH whole (the IP
// layer fragments it), says so in its log, and the tunnel still comes up.
// With the first fragment each way lost (nftables drops it on arrival),
// ipsecgw resends every fragment of its request, strongSwan its response,
// ipsecgw keeps the fragments it had and the tunnel comes up.
func TestIKEFragmentationWithStrongSwan(t *testing.T) {
	strongswan.Require(t)
	netns.RequireRoot(t)
	for _, tc := range []struct {
		name      string
		initiator string // "ipsecgw" or "strongswan"
		ssFrag    string // strongSwan's fragmentation setting
		lose      bool   // drop the first IKE_AUTH fragment each way
	}{
		{"ipsecgw-initiates", "ipsecgw", "yes", false},
		{"strongswan-initiates", "strongswan", "yes", false},
		{"strongswan-fragmentation-no", "ipsecgw", "no", false},
		{"fragments-lost-and-resent", "ipsecgw", "yes", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopology(t)
			tp.negotiated = true
			tp.net.Exec("gw2", "ip", "addr", "add", "192.0.2.2/24", "dev", "gw2-gw1")
			tp.net.Exec("gw2", "ip", "addr", "add", "198.18.2.1/24", "dev", "gw2-h2")
			tp.net.Exec("gw2", "ip", "-6", "addr", "add", "2001:db8:2::1/64", "dev", "gw2-h2", "nodad")
			tp.startOne(0, fragConfig(tc.initiator == "ipsecgw"))
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{
				Charon: []string{fmt.Sprintf("fragment_size = %d", fragSizeStrongSwan)},
				Connections: []strongswan.Connection{{
					Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "test123",
					LocalID: fragID("gw2"), RemoteID: fragID("gw1"),
					Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
					Extra:     []string{"fragmentation = " + tc.ssFrag},
					Children: []strongswan.Child{{Name: "net",
						LocalTS: []string{"198.18.2.0/24", "2001:db8:2::/64"}, RemoteTS: []string{"198.18.1.0/24", "2001:db8:1::/64"},
						ESPProposals: []string{"aes256gcm16", "aes128gcm16", "aes256-sha256", "aes128-sha256", "aes256-sha1", "3des-sha1"},
						StartAction:  "none"}},
				}}})
			if tc.lose {
				// On arrival, after the capture has seen it: the first
				// large IKE datagram on port 4500 each way (the quota
				// covers one fragment, not two).
				for _, r := range []struct{ ns, from string }{{"gw2", "192.0.2.1"}, {"gw1", "192.0.2.2"}} {
					tp.net.Exec(r.ns, "nft", "add table inet fraglose")
					tp.net.Exec(r.ns, "nft", "add chain inet fraglose in { type filter hook input priority 0 ; }")
					tp.net.Exec(r.ns, "nft", "add rule inet fraglose in ip saddr "+r.from+" udp dport 4500 udp length > 250 quota until 550 bytes drop")
				}
			}
			pcap := filepath.Join(t.TempDir(), "gw1-gw2.pcap")
			c := tp.startTsharkOn("gw1", "gw1-gw2", "udp port 500 or udp port 4500", "192.0.2.2", pcap)
			if tc.initiator == "strongswan" {
				if err := charon.Initiate("net"); err != nil {
					t.Fatalf("strongSwan initiate: %v\n%s\ngw1:\n%s", err, charon.Log(), tp.logOf(tp.gws[0]))
				}
			}
			// Lost fragments cost a retransmission or two (1 s, 2 s) on
			// top of a loaded machine's delays.
			tp.waitTunnelWithin("h1", "198.18.2.2", 20*time.Second)
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			c.Stop()

			frames := readIKE(t, pcap)
			var table strings.Builder
			skf := map[string]int{}
			for _, f := range frames {
				fmt.Fprintf(&table, "%s len %d exchange %d payloads %s fragment %d/%d\n", f.src, f.ipLen, f.exchange, f.typesText, f.number, f.total)
				if f.skf() {
					if f.exchange != 35 || len(f.next) != 1 || f.next[0] != 53 {
						t.Errorf("fragment outside IKE_AUTH or beside other payloads: %+v", f)
					}
					skf[f.src]++
				}
				if f.src == "192.0.2.1" && f.skf() && f.ipLen > fragSizeIpsecgw {
					t.Errorf("ipsecgw sent a %d-byte fragment, over its size %d", f.ipLen, fragSizeIpsecgw)
				}
			}
			t.Logf("IKE on the outer link (tshark):\n%s", table.String())
			st := tp.status(tp.gws[0])
			if len(st.IKE) != 1 {
				t.Fatalf("gw1 IKE SAs: %+v", st.IKE)
			}
			sa := st.IKE[0]
			log := tp.logOf(tp.gws[0])
			detail := tp.mustCLI(tp.gws[0], "show security ike security-associations detail")
			if tc.lose {
				sends := map[string]map[int]int{"192.0.2.1": {}, "192.0.2.2": {}}
				for _, f := range frames {
					if f.skf() {
						sends[f.src][f.number]++
					}
				}
				for src, byNumber := range sends {
					for n, count := range byNumber {
						if count != byNumber[1] || count < 2 {
							t.Errorf("%s sent fragment %d %d times and fragment 1 %d times: want every fragment resent", src, n, count, byNumber[1])
						}
					}
				}
				// ipsecgw kept the fragments of the response it had: the
				// resent fragment 1 made it whole, and the copies after it
				// came for a message already answered (not opened). So it
				// took exactly one of each fragment.
				if m := len(sends["192.0.2.2"]); sa.InFragments != uint64(m) {
					t.Errorf("ipsecgw took %d response fragments of %d: %+v", sa.InFragments, m, sa)
				}
			}
			if tc.ssFrag == "yes" {
				if skf["192.0.2.1"] < 2 || skf["192.0.2.2"] < 2 {
					t.Fatalf("SKF fragments by source %v: want IKE_AUTH fragmented both ways\n%s", skf, table.String())
				}
				if !sa.Fragmentation || sa.FragmentSize != fragSizeIpsecgw || sa.InFragments < 2 || sa.OutFragments < 2 {
					t.Fatalf("gw1 IKE SA: %+v", sa)
				}
				// The engine's count of what it sent is what tshark saw.
				if fs := st.IKEFragments; fs == nil || fs.FragmentsSent != uint64(skf["192.0.2.1"]) || fs.MessagesSent != 1 || fs.Reassembled != 1 {
					t.Fatalf("gw1 fragment counters %+v, tshark saw %d fragments from it", fs, skf["192.0.2.1"])
				}
				if want := fmt.Sprintf("IKE Fragmentation: Enabled, Size: %d", fragSizeIpsecgw); !strings.Contains(detail, want) {
					t.Fatalf("show security ike security-associations detail lacks %q:\n%s", want, detail)
				}
				return
			}
			if len(skf) != 0 || sa.Fragmentation || !strings.Contains(detail, "IKE Fragmentation: Disabled") {
				t.Fatalf("fragments without fragmentation negotiated: %v, SA %+v\n%s\n%s", skf, sa, table.String(), detail)
			}
			big := 0
			for _, f := range frames {
				if f.src == "192.0.2.1" && f.exchange == 35 && f.ipLen > fragSizeIpsecgw {
					big++
				}
			}
			if fs := st.IKEFragments; fs == nil || fs.WholeTooBig != 1 || fs.FragmentsSent != 0 {
				t.Fatalf("gw1 fragment counters %+v", fs)
			}
			if big == 0 || !strings.Contains(log, "sent whole: the peer did not negotiate IKE fragmentation") {
				t.Fatalf("ipsecgw's IKE_AUTH over %d bytes: %d; log:\n%s\n%s", fragSizeIpsecgw, big, log, table.String())
			}
		})
	}
}
