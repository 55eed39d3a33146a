package demo

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ipsecgw/examples"
)

// Scenario is a variant of the seed 004 example: which edits the demo
// makes to the shipped configurations before it runs them.
type Scenario struct {
	Name        string
	Description string
	// edits are applied to both peers' configurations; each old text must
	// occur exactly once, so a change to the shipped files is noticed.
	edits []edit
	// prepare, when set, runs in the lab's directory before the gateways
	// start (the certificates scenario makes their certificates).
	prepare func(dir string, specs []gatewaySpec) error
	// peer1Edits are applied to Peer1's configuration only.
	peer1Edits []edit
	// tcpBytes, when set, is the scenario's TCP transfer unless
	// Options.TCPBytes says otherwise.
	tcpBytes int64
	// run, when set, runs the scenario instead of the seed's steps (the
	// cluster scenario has a lab of its own).
	run func(r *run, ctx context.Context, sc Scenario) error
}

type edit struct{ old, new string }

// Scenarios are the demo's variants, by name.
var Scenarios = map[string]Scenario{
	"seed004": {
		Name:        "seed004",
		Description: "the seed 004 configurations as shipped: IKEv2 with the IKE defaults, ESP aes-256-gcm",
	},
	"chacha20": {
		Name:        "chacha20",
		Description: "seed 004 with ESP chacha20-poly1305 (RFC 7634) instead of aes-256-gcm",
		edits:       []edit{{"encryption-algorithm aes-256-gcm;", "encryption-algorithm chacha20-poly1305;"}},
	},
	"certificates": {
		Name: "certificates",
		Description: "seed 004 authenticated with certificates (RFC 7427, ECDSA P-256) the gateways generate at start, " +
			"each trusting the other's self-signed certificate",
		edits:   certificateEdits,
		prepare: makeCertificates,
	},
	"cluster": {
		Name: "cluster",
		Description: "Peer1 is a cluster of three nodes on an etcd embedded in the process (services-redundancy-group 1 owns " +
			"its address as a virtual IP); the owner is killed in the middle of a TCP transfer, which completes through a " +
			"survivor on the same IKE SA",
		peer1Edits: clusterEdits(),
		tcpBytes:   clusterTCPBytes,
		run:        (*run).clusterRun,
	},
}

// ScenarioNames lists the scenarios, sorted.
func ScenarioNames() []string {
	var names []string
	for n := range Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// responderOnly is the one edit every scenario makes to Peer1: both shipped
// VPNs say establish-tunnels immediately, and two gateways starting
// together would then both initiate and make two IKE SAs. Peer1 answers
// only, as it does in the seed's outputs (Role: Responder).
var responderOnly = edit{"establish-tunnels immediately;", "establish-tunnels responder-only;"}

// loadConfigs reads peer1.conf and peer2.conf from dir and applies the
// scenario's edits (and the responder-only edit to Peer1).
func (s Scenario) loadConfigs(dir string) (peer1, peer2 string, err error) {
	// Without a directory, the configurations built into the binary.
	fsys, err := fs.Sub(examples.FS, "seed004")
	if err != nil {
		return "", "", err
	}
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	var out [2]string
	for i, name := range []string{"peer1.conf", "peer2.conf"} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", "", fmt.Errorf("seed 004 configuration: %w", err)
		}
		text := string(b)
		edits := s.edits
		if i == 0 {
			edits = append(append([]edit{responderOnly}, edits...), s.peer1Edits...)
		}
		for _, e := range edits {
			if n := strings.Count(text, e.old); n != 1 {
				return "", "", fmt.Errorf("%s: scenario %s expected %q once, found it %d times", filepath.Join(dir, name), s.Name, e.old, n)
			}
			text = strings.Replace(text, e.old, e.new, 1)
		}
		out[i] = text
	}
	return out[0], out[1], nil
}
