package cluster

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// The client's side of the tests' tunnels to the cluster: strongSwan in
// namespace "client", its IKEv2 connection "vip" to the group's virtual
// IP, a ping through a tunnel, and the members node 1 sees.

// node3Seed is what a seed adds for a third node.
const node3Seed = `set groups node3 system host-name n3
set groups node3 interfaces eth1 unit 0 family inet address 198.51.100.13/24
set chassis high-availability node 3 address 198.51.100.13
`

// vipConnection is the client's connection "vip" from 198.51.100.100 to
// the virtual IP: AES-GCM, child "net" for 198.18.2.0/24 to remoteTS
// (198.18.1.0/24, the nodes' st0.1, when none is given), started by the
// test.
func vipConnection(remoteTS ...string) strongswan.Connection {
	if len(remoteTS) == 0 {
		remoteTS = []string{"198.18.1.0/24"}
	}
	return strongswan.Connection{Name: "vip", LocalAddrs: "198.51.100.100", RemoteAddrs: vip, PSK: "cluster test key",
		Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: remoteTS,
			ESPProposals: []string{"aes128gcm16"}, StartAction: "none"}},
	}
}

// vip2Connection is the client's second connection, "vip2", from
// 198.51.100.101 (which the test puts on the client's eth1) to remote:
// child "net2" for 198.18.3.0/24 to 198.18.4.0/24, started by the test.
func vip2Connection(remote string) strongswan.Connection {
	c := vipConnection("198.18.4.0/24")
	c.Name, c.LocalAddrs, c.RemoteAddrs = "vip2", "198.51.100.101", remote
	c.Children[0].Name, c.Children[0].LocalTS = "net2", []string{"198.18.3.0/24"}
	return c
}

// startClient puts the client's tunnel address 198.18.2.1 on its
// loopback and starts strongSwan there with conns.
func startClient(t *testing.T, n *netns.Net, conns ...strongswan.Connection) *strongswan.Charon {
	t.Helper()
	n.Exec("client", "ip", "addr", "add", "198.18.2.1/32", "dev", "lo")
	return strongswan.Start(t, n, "client", strongswan.Config{Connections: conns})
}

// pingsThrough is a condition for waitFor: a ping from the client's
// address src to dst is answered within a second.
func pingsThrough(n *netns.Net, src, dst string) func() bool {
	return func() bool {
		_, err := n.Try("client", "ping", "-c", "1", "-W", "1", "-I", src, dst)
		return err == nil
	}
}

// membersUp is a condition for waitFor: node 1 (its CLI in dir) shows
// each of the peers ids with its connection up.
func membersUp(dir string, ids ...int) func() bool {
	var res []*regexp.Regexp
	for _, id := range ids {
		res = append(res, regexp.MustCompile(fmt.Sprintf(`Peer Id: %d .* Conn State: UP`, id)))
	}
	return func() bool {
		out, err := exec.Command(binary, "cli", "--socket", filepath.Join(dir, "n1.sock"), "-c", "show chassis high-availability information").CombinedOutput()
		if err != nil {
			return false
		}
		for _, re := range res {
			if !re.Match(out) {
				return false
			}
		}
		return true
	}
}
