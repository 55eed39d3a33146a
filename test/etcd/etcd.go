// Package etcd is how the root-only cluster tests (test/cluster) and the
// cluster benchmark (bench/cluster) run Debian's etcd-server: the command
// line of one member of a static cluster on test addresses, and its health
// check. The caller starts the command inside a network namespace of its
// own and stops it by its PID.
package etcd

import (
	"fmt"
	"os/exec"
	"strings"
)

// Member is one etcd member: its name and the address it serves clients
// (port 2379) and peers (port 2380) on.
type Member struct {
	Name string
	Addr string // an IPv4 address in a test range, e.g. 198.51.100.2
}

// ClientURL is where ipsecgw (--cluster-etcd) reaches m.
func (m Member) ClientURL() string { return "http://" + m.Addr + ":2379" }

func (m Member) peerURL() string { return "http://" + m.Addr + ":2380" }

// HealthURL answers {"health":"true"} once m serves (Healthy).
func (m Member) HealthURL() string { return m.ClientURL() + "/health" }

// Binary is Debian's etcd, or an error that says which package is missing.
func Binary() (string, error) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("etcd is missing: install Debian's etcd-server (scripts/install-test-deps.sh)")
	}
	return bin, nil
}

// Args is the command line of member m of a new cluster of members, with
// its data in dataDir.
func Args(bin string, m Member, members []Member, dataDir string) []string {
	var initial []string
	for _, o := range members {
		initial = append(initial, o.Name+"="+o.peerURL())
	}
	return []string{bin, "--name", m.Name, "--data-dir", dataDir,
		"--listen-client-urls", m.ClientURL(), "--advertise-client-urls", m.ClientURL(),
		"--listen-peer-urls", m.peerURL(), "--initial-advertise-peer-urls", m.peerURL(),
		"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new", "--log-level", "warn"}
}

// Endpoints is the --cluster-etcd value for members.
func Endpoints(members []Member) string {
	var urls []string
	for _, m := range members {
		urls = append(urls, m.ClientURL())
	}
	return strings.Join(urls, ",")
}

// Healthy reports whether body, fetched from HealthURL, says the member
// is healthy.
func Healthy(body string) bool { return strings.Contains(body, `"health":"true"`) }
