package ike

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"ipsecgw/bench/lab"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon"
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
	dh, ecdsa := splitGroup(group)
	w("set interfaces %s unit 0 family inet address %s/24", ifname, me)
	w("set interfaces st0 unit 1 family inet")
	if ecdsa {
		ecdsaConfig(w)
	} else {
		w("set security ike proposal bench-ike authentication-method pre-shared-keys")
		w("set security ike policy bench-ike pre-shared-key ascii-text %q", benchPSK)
	}
	w("set security ike proposal bench-ike dh-group %s", dh)
	w("set security ike proposal bench-ike authentication-algorithm sha-256")
	w("set security ike proposal bench-ike encryption-algorithm aes-256-gcm")
	w("set security ike policy bench-ike proposals bench-ike")
	w("set security ike gateway %s ike-policy bench-ike", name)
	w("set security ike gateway %s address %s", name, peer)
	w("set security ike gateway %s external-interface %s", name, ifname)
	w("set security ike gateway %s local-address %s", name, me)
	w("set security ike gateway %s version v2-only", name)
	w("set security ipsec proposal bench-esp protocol esp")
	w("set security ipsec proposal bench-esp encryption-algorithm aes-256-gcm")
	w("set security ipsec policy bench-esp proposals bench-esp")
	v := "set security ipsec vpn " + name + " "
	w(v + "bind-interface st0.1")
	w(v+"ike gateway %s", name)
	w(v + "ike ipsec-policy bench-esp")
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

// established asks the daemon for its status (SIGUSR1) and counts the IKE
// SAs that are up and the inbound Child SAs installed.
func (r *ipsecgwResponder) established(ctx context.Context) (int, int, error) {
	dir := filepath.Dir(r.p.LogPath())
	path := filepath.Join(dir, "status.json")
	os.Remove(path)
	if err := syscall.Kill(r.p.PID, syscall.SIGUSR1); err != nil {
		return 0, 0, err
	}
	var b []byte
	err := r.p.WaitFor(30*time.Second, "status.json after SIGUSR1", func() bool {
		var err error
		b, err = os.ReadFile(path) // written atomically: whole or absent
		return err == nil
	})
	if err != nil {
		return 0, 0, err
	}
	var s daemon.Status
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	ike, child := 0, 0
	for _, sa := range s.IKE {
		if sa.State == "UP" {
			ike++
		}
	}
	for _, sa := range s.SAs {
		if sa.Direction == "inbound" {
			child++
		}
	}
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

// generatorPeer builds the generator's Peer for a responder from the
// mirror image of the responder's configuration, through the same Junos
// model and resolver (daemon/resolve) the daemon uses. The generator never
// re-initiates and sends no DPD: every IKE SA is opened once.
func generatorPeer(r responder, group string) (*ike.Peer, error) {
	text := vpnConfig("to-"+r.name(), "gen0", r.local(), r.address(), genNet, respNet, group, false)
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
	p, err := resolve.Peer(vpn, r.local())
	if err != nil {
		return nil, err
	}
	p.Reinitiate, p.DPDInterval = false, 0
	return p, nil
}
