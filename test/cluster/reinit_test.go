package cluster

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/strongswan"
)

// reinitSeed is ikeSeed with a third node.
const reinitSeed = ikeSeed + `set groups node3 system host-name n3
set groups node3 interfaces eth1 unit 0 family inet address 198.51.100.13/24
set chassis high-availability node 3 address 198.51.100.13
set chassis high-availability services-redundancy-group 1 node 3 activeness-priority 50
`

// TestReinitiateWithoutState: where a survivor cannot resume a tunnel's
// SAs it negotiates at once, and says why. strongSwan runs no dead peer
// detection, so nothing but the survivor's own initiation can bring the
// tunnel back. Node 1 keeps no SA state (no cluster key): node 2 takes
// over, finds no record (as for an SA too new to have been written) and
// negotiates (cause no-state). Node 2 keeps state, sealed with a key node
// 3 does not have: node 3 takes over, cannot open the records and
// negotiates (cause state-unreadable).
func TestReinitiateWithoutState(t *testing.T) {
	strongswan.Require(t)
	n, dir, node := newCluster(t, reinitSeed)
	for _, id := range []int{2, 3} {
		key := make([]byte, 32)
		rand.Read(key)
		state := filepath.Join(dir, fmt.Sprintf("n%d-state", id))
		os.MkdirAll(state, 0o700)
		if err := os.WriteFile(filepath.Join(state, "cluster.key"), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n.Exec("client", "ip", "addr", "add", "198.18.2.1/32", "dev", "lo")
	charon := strongswan.Start(t, n, "client", strongswan.Config{Connections: []strongswan.Connection{{
		Name: "vip", LocalAddrs: "198.51.100.100", RemoteAddrs: vip, PSK: "cluster test key",
		Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
			ESPProposals: []string{"aes128gcm16"}, StartAction: "none"}},
	}}})
	n1 := node(1, true)
	tunnelUp := func() bool {
		_, err := n.Try("client", "ping", "-c", "1", "-W", "1", "-I", "198.18.2.1", "198.18.1.1")
		return err == nil
	}
	waitFor(t, 30*time.Second, "the tunnel through the virtual IP carries traffic", tunnelUp, n1)
	first := ikeSPI(t, charon)
	n2, n3 := node(2, false), node(3, false)
	waitFor(t, 20*time.Second, "nodes 2 and 3 are members", func() bool {
		out, err := exec.Command(binary, "cli", "--socket", filepath.Join(dir, "n1.sock"), "-c", "show chassis high-availability information").CombinedOutput()
		return err == nil && regexp.MustCompile(`(?s)Peer Id: 2 .* Conn State: UP.*Peer Id: 3 .* Conn State: UP`).Match(out)
	}, n1, n2, n3)

	// failover kills the owner and waits for a new IKE SA that carries
	// traffic (strongSwan may keep the old one until it expires: it hears
	// nothing more of it).
	seen := map[uint64]bool{}
	failover := func(owner, next *proc, old uint64, cause string) uint64 {
		t.Helper()
		sas, err := charon.ListSAs()
		if err != nil {
			t.Fatal(err)
		}
		for _, sa := range sas {
			seen[sa.InitiatorSPI] = true
		}
		owner.stop(t, syscall.SIGKILL)
		var spi uint64
		took := waitFor(t, 3*ttl+15*time.Second, next.name+" negotiates a new IKE SA", func() bool {
			sas, err := charon.ListSAs()
			if err != nil {
				return false
			}
			for _, sa := range sas {
				if strings.EqualFold(sa.State, "ESTABLISHED") && !seen[sa.InitiatorSPI] {
					spi = sa.InitiatorSPI
					return true
				}
			}
			return false
		}, next)
		waitFor(t, 10*time.Second, "the new IKE SA carries traffic", tunnelUp, next)
		t.Logf("%s: new IKE SA %x (was %x) %v after SIGKILL of %s (lease TTL %v)", cause, spi, old, took.Round(time.Millisecond), owner.name, ttl)
		metrics := n.Exec(next.name, "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
		if want := fmt.Sprintf(`ipsecgw_cluster_sa_reinitiations_total{cause=%q} 1`, cause); !strings.Contains(metrics, want) {
			t.Fatalf("%s's metrics lack %s:\n%s\n%s", next.name, want, metrics, next.logText())
		}
		if !strings.Contains(next.logText(), "cause="+cause) || strings.Contains(next.logText(), "IKE SA resumed") {
			t.Fatalf("%s's log does not say why it negotiated (%s):\n%s", next.name, cause, next.logText())
		}
		return spi
	}
	second := failover(n1, n2, first, "no-state")

	// Node 2 writes the new SA's record, sealed with its key.
	b64 := base64.StdEncoding.EncodeToString
	query := fmt.Sprintf(`{"key":%q,"range_end":%q,"count_only":true}`, b64([]byte("/ipsecgw/sa/1/ike/")), b64([]byte("/ipsecgw/sa/1/ike0")))
	waitFor(t, 10*time.Second, "node 2 keeps the SA's state in etcd", func() bool {
		out, _ := n.Try("client", "curl", "-s", "-m", "2", "-X", "POST", "-d", query, "http://198.51.100.2:2379/v3/kv/range")
		return strings.Contains(out, `"count":"1"`)
	}, n2)
	failover(n2, n3, second, "state-unreadable")
}
