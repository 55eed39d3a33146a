package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ipsecgw/bench/lab"
	"ipsecgw/daemon"
)

// benchKey is the AES-256-GCM key and 4-octet salt of the manual SA: a
// fixed pattern, never a real secret.
const benchKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"

// ipsecgw is two ipsecgw daemons with one manual AES-256-GCM SA each way
// (the same SPI both ways, as Junos manual SAs have), raw ESP on the
// given data plane (xdp, packet-ring or socket) or, with udpPort set, ESP
// in UDP (on the UDP sockets, or with data plane xdp or packet-ring on the
// rings).
type ipsecgw struct {
	label     string
	binary    string
	dir       string
	udpPort   int
	dataPlane string

	t    *topology
	gws  [2]*lab.Process
	dirs [2]string // state directories, where status.json appears
}

func (g *ipsecgw) name() string { return g.label }

func (g *ipsecgw) processes() []*lab.Process {
	var ps []*lab.Process
	for _, p := range g.gws {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// config is gateway i's (0 or 1) configuration in set format. The
// interface addresses are those the topology already has, so the daemon
// finds them in place and leaves them there on exit.
func (g *ipsecgw) config(i int) string {
	me, peer := i+1, 2-i
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gw%d", me)
	w("set interfaces gw%d-h%d unit 0 family inet address 198.18.%d.1/24", me, me, me)
	outer := fmt.Sprintf("gw%d-gw%d", me, peer)
	w("set interfaces %s unit 0 family inet address 192.0.2.%d/24", outer, me)
	w("set interfaces st0 unit 1 family inet")
	w("set routing-options static route 198.18.%d.0/24 next-hop st0.1", peer)
	p := "set security ipsec vpn bench-vpn "
	w(p + "bind-interface st0.1")
	w(p+"manual gateway 192.0.2.%d", peer)
	w(p+"manual external-interface %s", outer)
	w(p + "manual protocol esp")
	w(p + "manual spi 4660")
	w(p + "manual encryption algorithm aes-256-gcm")
	w(p+"manual encryption key hexadecimal %s", benchKey)
	if g.udpPort != 0 {
		w(p+"udp-encapsulate dest-port %d", g.udpPort)
	}
	if g.dataPlane != "" {
		w("set security ipsec data-plane %s", g.dataPlane)
	}
	return b.String()
}

func (g *ipsecgw) up(ctx context.Context, t *topology) error {
	g.t = t
	for i := range g.gws {
		ns := fmt.Sprintf("gw%d", i+1)
		dir := filepath.Join(g.dir, g.label+"-"+ns)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		cfg := filepath.Join(dir, "ipsecgw.conf")
		if err := os.WriteFile(cfg, []byte(g.config(i)), 0o600); err != nil {
			return err
		}
		p, err := lab.Start(t.Namespaces, ns, "ipsecgw in "+ns, filepath.Join(dir, "daemon.log"), lab.Options{StopWithParent: true},
			g.binary, "daemon", "--config", cfg, "--state-dir", dir, "--socket", filepath.Join(dir, "api.sock"))
		if err != nil {
			return err
		}
		g.gws[i], g.dirs[i] = p, dir
	}
	for i, p := range g.gws {
		ns := fmt.Sprintf("gw%d", i+1)
		err := waitFor(ctx, 10*time.Second, p.Name+": st0.1 up with its route", func() bool {
			if p.Exited() {
				return true
			}
			out, err := t.Exec(ctx, ns, "ip", "route", "show", "dev", "st0.1")
			return err == nil && strings.Contains(out, "198.18.")
		})
		if p.Exited() {
			return fmt.Errorf("%s exited at start: %v\n%s", p.Name, p.Err(), p.LogTail())
		}
		if err != nil {
			return fmt.Errorf("%w\n%s", err, p.LogTail())
		}
		// A data plane that fell back would be measured under the wrong
		// name: refuse.
		if g.dataPlane != "" {
			st, err := g.status(ctx, i)
			if err != nil {
				return err
			}
			if st.DataPlane.Mode != g.dataPlane {
				return fmt.Errorf("%s: data-plane %s asked, %s running (%s)", p.Name, g.dataPlane, st.DataPlane.Mode, st.DataPlane.Fallback)
			}
		}
	}
	return nil
}

// down stops the daemons; their st0.1 and its routes go with them.
func (g *ipsecgw) down() error {
	var errs []error
	for i, p := range g.gws {
		if p != nil {
			errs = append(errs, p.Stop())
			g.gws[i] = nil
		}
	}
	return errors.Join(errs...)
}

// carried reads gw1's outbound SA (encrypted bytes) and gw2's inbound SA
// (decrypted bytes) from the daemons' status files.
func (g *ipsecgw) carried(ctx context.Context) (counts, error) {
	var c counts
	s1, err := g.status(ctx, 0)
	if err != nil {
		return c, err
	}
	s2, err := g.status(ctx, 1)
	if err != nil {
		return c, err
	}
	out, ok1 := findSA(s1, "outbound")
	in, ok2 := findSA(s2, "inbound")
	if !ok1 || !ok2 {
		return c, fmt.Errorf("%s: gw1 has an outbound SA: %v, gw2 an inbound SA: %v; want both", g.label, ok1, ok2)
	}
	return counts{sent: out.Counters.EncryptedBytes, received: in.Counters.DecryptedBytes}, nil
}

// status asks daemon i for its counters (SIGUSR1) and reads them.
func (g *ipsecgw) status(ctx context.Context, i int) (daemon.Status, error) {
	return g.gws[i].Status(g.dirs[i], 5*time.Second)
}

func findSA(s daemon.Status, direction string) (daemon.SAStatus, bool) {
	for _, sa := range s.SAs {
		if sa.Direction == direction {
			return sa, true
		}
	}
	return daemon.SAStatus{}, false
}
