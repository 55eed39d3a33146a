package cluster

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// ikev1ResumeSeed is seed with an IKEv1 VPN (Main Mode, pre-shared key,
// DPD on) whose gateway's local-address is the group's virtual IP, and a
// LAN behind the nodes (eth2, 203.0.113.0/25) whose gateway is the group's
// second virtual IP.
const ikev1ResumeSeed = seed + `set groups node1 interfaces eth2 unit 0 family inet address 203.0.113.11/25
set groups node2 interfaces eth2 unit 0 family inet address 203.0.113.12/25
set chassis high-availability services-redundancy-group 1 virtual-ip 2 ip 203.0.113.1/25
set chassis high-availability services-redundancy-group 1 virtual-ip 2 interface eth2
set interfaces st0 unit 1 family inet
set routing-options static route 198.18.2.0/24 next-hop st0.1
set security ike proposal ike_prop authentication-method pre-shared-keys
set security ike proposal ike_prop dh-group group14
set security ike proposal ike_prop authentication-algorithm sha-256
set security ike proposal ike_prop encryption-algorithm aes-256-cbc
set security ike policy ike_policy mode main
set security ike policy ike_policy proposals ike_prop
set security ike policy ike_policy pre-shared-key ascii-text "cluster test key"
set security ike gateway ike_gw ike-policy ike_policy
set security ike gateway ike_gw address 198.51.100.100
set security ike gateway ike_gw local-address 198.51.100.10
set security ike gateway ike_gw version v1-only
set security ike gateway ike_gw dead-peer-detection always-send
set security ike gateway ike_gw dead-peer-detection interval 2
set security ike gateway ike_gw dead-peer-detection threshold 3
set security ipsec proposal ipsec_prop protocol esp
set security ipsec proposal ipsec_prop encryption-algorithm aes-256-cbc
set security ipsec proposal ipsec_prop authentication-algorithm hmac-sha-256-128
set security ipsec policy ipsec_policy proposals ipsec_prop
set security ipsec vpn ipsec_vpn bind-interface st0.1
set security ipsec vpn ipsec_vpn ike gateway ike_gw
set security ipsec vpn ipsec_vpn ike ipsec-policy ipsec_policy
set security ipsec vpn ipsec_vpn establish-tunnels immediately
`

// TestIKEv1SAsSurviveFailover: two ipsecgw nodes sharing a cluster key and
// one etcd; strongSwan 5.9.8 speaking IKEv1 (DPD on, userspace ESP in UDP
// 4500) to the group's virtual IP, node 1 having initiated. Under a
// continuous ping from strongSwan's side to a host on the LAN behind the
// nodes, a manual failover hands the group to node 2, which is then
// killed with SIGKILL: each time the new owner carries on the same ISAKMP
// SA (strongSwan's unique ID and cookies do not change, it sees one Main
// Mode in all) and rekeys the IPsec SA at once with a Quick Mode (its
// sequence numbers jumped); node 1, owner again, answers strongSwan's own
// Quick Mode rekey at its short rekey time, and the traffic continues.
// The longest gaps in replies are printed; after the kill the gap must
// stay below the lease TTL plus a second.
func TestIKEv1SAsSurviveFailover(t *testing.T) {
	strongswan.Require(t)
	n, dir, node, em := newClusterEtcd(t, ikev1ResumeSeed, 1)
	key := newClusterKey()
	for _, id := range []int{1, 2} {
		writeClusterKey(t, dir, id, key)
	}
	n.Exec("client", "ip", "addr", "add", "198.18.2.1/32", "dev", "lo")
	n.Exec("lan", "ip", "link", "add", "br1", "type", "bridge")
	n.Exec("lan", "ip", "link", "set", "br1", "up")
	for i, ns := range []string{"n1", "n2"} {
		n.Link(ns, "eth2", fmt.Sprintf("203.0.113.%d/25", 11+i), "lan", fmt.Sprintf("q%d", i+1), "")
		n.Exec("lan", "ip", "link", "set", fmt.Sprintf("q%d", i+1), "master", "br1")
		n.Exec(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	}
	n.Link("lanhost", "eth1", lanHost+"/25", "lan", "qh", "")
	n.Exec("lan", "ip", "link", "set", "qh", "master", "br1")
	n.Exec("lanhost", "ip", "route", "add", "default", "via", "203.0.113.1")
	const rekey = 25 * time.Second
	charon := strongswan.Start(t, n, "client", strongswan.Config{Connections: []strongswan.Connection{{
		Name: "vip", Version: 1, LocalAddrs: "198.51.100.100", RemoteAddrs: vip, PSK: "cluster test key",
		Proposals: []string{"aes256-sha256-modp2048"}, DPDDelay: 2 * time.Second,
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"203.0.113.0/25"},
			ESPProposals: []string{"aes256-sha256"}, StartAction: "none", RekeyTime: rekey}},
	}}})
	// Node 2 is a member before the tunnel comes up, so that the kill
	// falls well before strongSwan's rekey of node 1's IPsec SA.
	n1 := node(1, true)
	waitFor(t, 20*time.Second, "node 1 owns the group", func() bool { return hasVIP(n, "n1") }, n1)
	n2 := node(2, false)
	waitFor(t, 20*time.Second, "node 2 is a member", membersUp(dir, 2), n1, n2)
	tunnelUp := pingsThrough(n, "198.18.2.1", lanHost)
	waitFor(t, 30*time.Second, "the IKEv1 tunnel through the virtual IP carries traffic", tunnelUp, n1)
	first := establishedSA(t, charon, "vip")
	if first.Version != 1 {
		t.Fatalf("strongSwan's IKE SA is IKEv%d", first.Version)
	}
	// The ISAKMP SA's record is in etcd (sealed: only its key is read).
	waitFor(t, 10*time.Second, "node 1 wrote the ISAKMP SA's record", func() bool {
		return etcdCount(n, em.members[0].ClientURL(), "/ipsecgw/sa/1/v1/") == 1
	}, n1)

	// A graceful failover hands the group to node 2, under a continuous
	// ping: node 1 writes the record once more and forgets the SA without
	// a DELETE; node 2 resumes it and rekeys node 1's IPsec SA (strongSwan's
	// outbound SPI is the gateway's inbound one) at once.
	var handover []byte
	var handoverErr error
	handed := make(chan struct{})
	res := pingDuring(t, n, 10*time.Second, 2*time.Second, func() {
		handover, handoverErr = exec.Command(binary, "cli", "--socket", filepath.Join(dir, "n1.sock"), "-c",
			"request chassis high-availability failover services-redundancy-group 1").CombinedOutput()
		close(handed)
	})
	<-handed
	t.Logf("manual failover of the IKEv1 tunnel: longest gap in replies %v, %d of %d packets lost", res.gap, res.lost, res.sent)
	if handoverErr != nil || !strings.Contains(string(handover), "node 2 is active") {
		t.Fatalf("failover: %v\n%s", handoverErr, handover)
	}
	if c := strings.Count(n2.logText(), "IKEv1 SA resumed"); c != 1 {
		t.Fatalf("node 2 resumed %d IKEv1 SAs, want 1:\n%s", c, n2.logText())
	}
	sameSA(t, "after the manual failover", first, establishedSA(t, charon, "vip"), n1, n2)
	checkGap(t, res, n1, n2)
	if len(first.Children) != 1 {
		t.Fatalf("strongSwan had %d IPsec SAs before the failover", len(first.Children))
	}
	rekeyed := regexp.MustCompile(fmt.Sprintf(`IKEv1 IPsec SA rekeyed by us".* old-in=0x%08x `, first.Children[0].SPIOut))
	if !rekeyed.MatchString(n2.logText()) || !strings.Contains(n1.logText(), "IKEv1 SAs of the group left to its next owner") {
		t.Fatalf("node 2 did not rekey node 1's IPsec SA (in 0x%08x), or node 1 kept the SA:\n--- n1 ---\n%s\n--- n2 ---\n%s",
			first.Children[0].SPIOut, n1.logText(), n2.logText())
	}
	metrics := n.Exec("n2", "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
	if !strings.Contains(metrics, `ipsecgw_cluster_sa_resumes_total{result="resumed"} 1`) {
		t.Fatalf("node 2's metrics:\n%s", metrics)
	}

	// The new owner dies: node 1 takes the group back and resumes the SA
	// again, from node 2's record.
	// Node 2's own pair alone is left (node 1's was deleted a second after
	// the rekey); node 2 writes its record within haSyncEvery of each change.
	waitFor(t, 10*time.Second, "node 2's rekeyed pair alone", func() bool {
		sa := establishedSA(t, charon, "vip")
		return len(sa.Children) == 1 && sa.Children[0].SPIOut != first.Children[0].SPIOut
	}, n2)
	killed := make(chan struct{})
	res = pingDuring(t, n, 12*time.Second, 2*time.Second, func() { n2.stop(t, syscall.SIGKILL); close(killed) })
	<-killed // the kill's goroutine is done with n2 before the cleanup looks
	t.Logf("SIGKILL of the IKEv1 tunnel's owner: longest gap in replies %v, %d of %d packets lost (lease TTL %v)", res.gap, res.lost, res.sent, ttl)
	if c := strings.Count(n1.logText(), "IKEv1 SA resumed"); c != 1 {
		t.Fatalf("node 1 resumed %d IKEv1 SAs, want 1:\n%s", c, n1.logText())
	}
	sameSA(t, "after SIGKILL", first, establishedSA(t, charon, "vip"), n1)
	checkGap(t, res, n1)
	if !strings.Contains(n1.logText(), "IKEv1 IPsec SA rekeyed by us") {
		t.Fatalf("node 1 did not rekey the resumed IPsec SA:\n%s", n1.logText())
	}

	// strongSwan's own Quick Mode rekey, answered by node 1.
	waitFor(t, rekey+20*time.Second, "strongSwan rekeys the IPsec SA with node 1", func() bool {
		return strings.Contains(n1.logText(), "IKEv1 IPsec SA rekeyed by the peer")
	}, n1)
	p := netns.Ping{Count: 5, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.2.1"}}
	out, _ := n.Try("client", p.Args(lanHost)...)
	if err := p.Check(lanHost, out); err != nil {
		t.Fatalf("traffic after strongSwan's rekey: %v\n%s\n--- n1 ---\n%s", err, out, n1.logText())
	}
	last := establishedSA(t, charon, "vip")
	sameSA(t, "after the rekeys", first, last, n1)

	// One Main Mode in all (node 1's first), no DPD answer strongSwan
	// found wrong; node 1 counted its resume and negotiated nothing anew.
	log := charon.Log()
	mainModes, established := strings.Count(log, "parsed ID_PROT request 0 [ SA"), len(regexp.MustCompile(`IKE_SA vip\[\d+\] established`).FindAllString(log, -1))
	t.Logf("strongSwan: %d Main Mode(s) received, %d IKE SA(s) established, %d Quick Mode(s) received, %d IPsec SA(s) in the end",
		mainModes, established, strings.Count(log, "parsed QUICK_MODE request"), len(last.Children))
	if mainModes != 1 || established != 1 || strings.Contains(log, "invalid DPD sequence number") {
		t.Fatalf("strongSwan's log:\n%s\n--- n1 ---\n%s", log, n1.logText())
	}
	metrics = n.Exec("n1", "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
	for _, want := range []string{`ipsecgw_cluster_sa_resumes_total{result="resumed"} 1`, `ipsecgw_cluster_sa_resumes_total{result="failed"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("node 1's metrics lack %s:\n%s", want, metrics)
		}
	}
	if strings.Contains(metrics, `cause="ikev1"`) { // IKEv1 tunnels resume: no cause of their own
		t.Fatalf("node 1's metrics count IKEv1 reinitiations:\n%s", metrics)
	}
	for _, p := range []*proc{n1, n2} {
		if strings.Contains(p.logText(), "DATA RACE") { // the binary is built with -race
			t.Fatalf("%s:\n%s", p.name, p.logText())
		}
	}
}

// etcdCount is how many keys under prefix the etcd member at url holds
// (its gRPC gateway's range, count only).
func etcdCount(n *netns.Net, url, prefix string) int {
	end := []byte(prefix)
	end[len(end)-1]++
	req, _ := json.Marshal(map[string]any{"key": base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end), "count_only": true})
	out, err := n.Try("client", "curl", "-s", "-m", "2", "-X", "POST", url+"/v3/kv/range", "-d", string(req))
	if err != nil {
		return -1
	}
	var r struct {
		Count string `json:"count"`
	}
	if json.Unmarshal([]byte(out), &r) != nil {
		return -1
	}
	c, _ := strconv.Atoi(r.Count)
	return c
}
