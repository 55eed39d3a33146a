package ike

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ipsecgw/bench/lab"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// benchPSK is the pre-shared key of every benchmark tunnel: a fixed
// string, never a real secret.
const benchPSK = "ipsecgw-bench-ike-not-a-secret"

// Responder names, as the report prints them.
const (
	responderIpsecgw    = "ipsecgw"
	responderStrongSwan = "strongSwan"
)

// startTimeout bounds a responder's start until it answers IKE.
const startTimeout = 15 * time.Second

// responder is one IKE responder under test, in its own namespace.
type responder interface {
	name() string
	// address is where the generator initiates to; local is the
	// generator's address on that link.
	address() netip.Addr
	local() netip.Addr
	up(ctx context.Context, t *topology, group string) (*lab.Process, error)
	// established counts the responder's own established IKE SAs and
	// Child SAs, as a check on the generator's count.
	established(ctx context.Context) (ike, child int, err error)
	down() error
	// certs are the certificates of an ECDSA row (certs.go).
	certs() *certHolder
}

// ipsecgwResponder is `ipsecgw daemon` with one responder-only VPN whose
// data plane installs every Child SA for real.
type ipsecgwResponder struct {
	binary string
	dir    string
	p      *lab.Process
	certHolder
}

func (r *ipsecgwResponder) name() string        { return responderIpsecgw }
func (r *ipsecgwResponder) address() netip.Addr { return igwAddr }
func (r *ipsecgwResponder) local() netip.Addr   { return genToIgw }

// vpnConfig is one side of the benchmark VPN in set format: the responder
// (responder-only, with its tunnel interface) or the generator's mirror
// image, from which the generator's Peer is built.
func vpnConfig(name, ifname string, me, peer netip.Addr, localNet, remoteNet, group string, responder bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set interfaces %s unit 0 family inet address %s/24", ifname, me)
	w("set interfaces st0 unit 1 family inet")
	b.WriteString(ProposalConfig(group))
	w("set security ike gateway %s external-interface %s", name, ifname)
	b.WriteString(GatewayConfig(name, me, peer, "st0.1", localNet, remoteNet, responder))
	return b.String()
}

// ProposalConfig is, in set format, the IKE policy IKEPolicy and the IPsec
// policy IPsecPolicy of every benchmark tunnel with key exchange group
// group: AES-256-GCM for IKE and ESP, the pre-shared key (or, with
// +ecdsa, certificates). A benchmark that lays out its own responders
// (bench/cluster) configures them with it, so that they match the
// generator's peers (GeneratorPeer).
func ProposalConfig(group string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	dh, ecdsa := splitGroup(group)
	if ecdsa {
		ecdsaConfig(w)
	} else {
		w("set security ike proposal bench-ike authentication-method pre-shared-keys")
		w("set security ike policy %s pre-shared-key ascii-text %q", IKEPolicy, benchPSK)
	}
	dh, addke, _ := strings.Cut(dh, "+") // "group31+mlkem768": ML-KEM after X25519 (RFC 9370)
	w("set security ike proposal bench-ike dh-group %s", dh)
	if addke != "" {
		w("set security ike proposal bench-ike additional-key-exchange ke1 %s", addke)
	}
	w("set security ike proposal bench-ike authentication-algorithm sha-256")
	w("set security ike proposal bench-ike encryption-algorithm aes-256-gcm")
	w("set security ike policy %s proposals bench-ike", IKEPolicy)
	w("set security ipsec proposal bench-esp protocol esp")
	w("set security ipsec proposal bench-esp encryption-algorithm aes-256-gcm")
	w("set security ipsec policy %s proposals bench-esp", IPsecPolicy)
	return b.String()
}

// The policies ProposalConfig defines.
const (
	IKEPolicy   = "bench-ike"
	IPsecPolicy = "bench-esp"
)

// GatewayConfig is, in set format, IKE gateway and VPN name from me to
// peer, bound to st (an st0 unit), protecting localNet to remoteNet with
// the policies of ProposalConfig; responder-only when responder is set.
func GatewayConfig(name string, me, peer netip.Addr, st, localNet, remoteNet string, responder bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set security ike gateway %s ike-policy %s", name, IKEPolicy)
	w("set security ike gateway %s address %s", name, peer)
	w("set security ike gateway %s local-address %s", name, me)
	w("set security ike gateway %s version v2-only", name)
	v := "set security ipsec vpn " + name + " "
	w(v+"bind-interface %s", st)
	w(v+"ike gateway %s", name)
	w(v+"ike ipsec-policy %s", IPsecPolicy)
	w(v+"traffic-selector ts local-ip %s", localNet)
	w(v+"traffic-selector ts remote-ip %s", remoteNet)
	if responder {
		w(v + "establish-tunnels responder-only")
	}
	return b.String()
}

func (r *ipsecgwResponder) up(ctx context.Context, t *topology, group string) (*lab.Process, error) {
	dir := filepath.Join(r.dir, "ipsecgw-"+group)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "ipsecgw.conf")
	text := "set system host-name igw\n" + vpnConfig("bench", "igw-gen", igwAddr, genToIgw, respNet, genNet, group, true)
	if _, ecdsa := splitGroup(group); ecdsa {
		// The daemon reads the store at start: its certificate and
		// the generator's are in place before.
		c, err := newCredentials(dir, "ipsecgw responder")
		if err != nil {
			return nil, err
		}
		if err := c.trust(r.genCert); err != nil {
			return nil, err
		}
		r.cert = c.certPEM
	}
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		return nil, err
	}
	p, err := lab.Start(t.Namespaces, "igw", "ipsecgw daemon", filepath.Join(dir, "daemon.log"), lab.Options{},
		r.binary, "daemon", "--config", cfg, "--state-dir", dir, "--socket", filepath.Join(dir, "api.sock"))
	if err != nil {
		return nil, err
	}
	r.p = p
	// The daemon logs this once its sockets and data plane are up.
	err = p.WaitFor(startTimeout, "ipsecgw running", func() bool {
		b, _ := os.ReadFile(p.LogPath())
		return strings.Contains(string(b), "ipsecgw running")
	})
	return p, err
}

// established asks the daemon for its status and counts the IKE SAs that
// are up and the inbound Child SAs installed.
func (r *ipsecgwResponder) established(ctx context.Context) (int, int, error) {
	s, err := r.p.Status(filepath.Dir(r.p.LogPath()), 30*time.Second)
	if err != nil {
		return 0, 0, err
	}
	ike, child := lab.Established(s)
	return ike, child, nil
}

func (r *ipsecgwResponder) down() error {
	if r.p == nil {
		return nil
	}
	err := r.p.Stop()
	r.p = nil
	return err
}

// generatorPeer builds the generator's Peer for a responder.
func generatorPeer(r responder, group string) (*ike.Peer, error) {
	return GeneratorPeer(r.local(), r.address(), genNet, respNet, group)
}

// GeneratorPeer builds the generator's Peer from local to remote, for
// tunnels protecting localNet to remoteNet, from the mirror image of the
// responder's configuration, through the same Junos model and resolver
// (daemon/resolve) the daemon uses. The generator never re-initiates and
// sends no DPD: every IKE SA is opened once.
func GeneratorPeer(local, remote netip.Addr, localNet, remoteNet, group string) (*ike.Peer, error) {
	text := vpnConfig("to-"+strings.NewReplacer(".", "-", ":", "-").Replace(remote.String()), "gen0", local, remote, localNet, remoteNet, group, false)
	tree, err := config.Parse("generator", []byte(text), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generator configuration: %w", err)
	}
	model, err := schema.Build(tree, schema.Options{})
	if err != nil {
		return nil, fmt.Errorf("generator configuration: %w\n%s", err, text)
	}
	var vpn *schema.VPN
	for _, v := range model.IPsec.VPNs {
		vpn = v
	}
	if vpn == nil {
		return nil, fmt.Errorf("generator configuration has no VPN")
	}
	p, err := resolve.Peer(vpn, local)
	if err != nil {
		return nil, err
	}
	p.Reinitiate, p.DPDInterval = false, 0
	return p, nil
}
