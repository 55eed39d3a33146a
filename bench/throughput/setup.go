package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"ipsecgw/bench/lab"
)

// setup is one way for gw1 and gw2 to carry h1's traffic to h2.
type setup interface {
	name() string
	// up starts the gateways and installs the routes between the host
	// networks; down undoes all of it, even after a failed up.
	up(ctx context.Context, t *topology) error
	down() error
	// carried is what the path itself counted: bytes gw1 sent toward gw2
	// and bytes gw2 received from gw1 (inner or outer, always at least the
	// TCP payload that crossed).
	carried(ctx context.Context) (counts, error)
	// processes are the gateway processes whose CPU time the setup costs;
	// none for kernel forwarding.
	processes() []*lab.Process
}

type counts struct {
	sent, received uint64
}

// setupNames in the order they are measured and printed.
var setupNames = []string{"plain", "ipsecgw-xdp", "ipsecgw-packet-ring", "ipsecgw-socket", "ipsecgw-udp", "ipsecgw-udp-xdp", "ipsecgw-udp-packet-ring", "wireguard-go", "strongswan"}

func knownSetup(name string) bool {
	for _, n := range setupNames {
		if n == name {
			return true
		}
	}
	return false
}

// newSetup returns the named setup, keeping its files under dir.
func newSetup(name, dir string, b binaries) setup {
	if base, ok := strings.CutSuffix(name, bSuffix); ok {
		g := newSetup(base, dir, binaries{ipsecgw: b.ipsecgwB}).(*ipsecgw)
		g.label = name
		return g
	}
	switch name {
	case "plain":
		return &plain{}
	case "ipsecgw-xdp":
		return &ipsecgw{label: name, binary: b.ipsecgw, dir: dir, dataPlane: "xdp"}
	case "ipsecgw-packet-ring":
		return &ipsecgw{label: name, binary: b.ipsecgw, dir: dir, dataPlane: "packet-ring"}
	case "ipsecgw-udp-xdp":
		return &ipsecgw{label: name, binary: b.ipsecgw, dir: dir, udpPort: 4500, dataPlane: "xdp"}
	case "ipsecgw-udp-packet-ring":
		return &ipsecgw{label: name, binary: b.ipsecgw, dir: dir, udpPort: 4500, dataPlane: "packet-ring"}
	case "ipsecgw-socket":
		return &ipsecgw{label: name, binary: b.ipsecgw, dir: dir, dataPlane: "socket"}
	case "ipsecgw-udp":
		return &ipsecgw{label: name, binary: b.ipsecgw, dir: dir, udpPort: 4500}
	case "wireguard-go":
		return &wireguard{binary: b.wireguard, dir: dir}
	case "strongswan":
		return &strongswan{dir: dir}
	}
	panic("unknown setup " + name) // parseFlags accepts only knownSetup names
}

// plain is kernel routing over the outer veth: the ceiling any tunnel is
// measured against.
type plain struct {
	t      *topology
	routes [][]string // namespace and route, for down
}

func (p *plain) name() string              { return "plain" }
func (p *plain) processes() []*lab.Process { return nil }

func (p *plain) up(ctx context.Context, t *topology) error {
	p.t = t
	for _, r := range [][]string{
		{"gw1", "198.18.2.0/24", "via", "192.0.2.2"},
		{"gw2", "198.18.1.0/24", "via", "192.0.2.1"},
	} {
		if _, err := t.Exec(ctx, r[0], append([]string{"ip", "route", "add"}, r[1:]...)...); err != nil {
			return err
		}
		p.routes = append(p.routes, r)
	}
	return nil
}

func (p *plain) down() error {
	var errs []error
	for _, r := range p.routes {
		if _, err := p.t.Exec(context.Background(), r[0], append([]string{"ip", "route", "del"}, r[1:]...)...); err != nil {
			errs = append(errs, err)
		}
	}
	p.routes = nil
	return errors.Join(errs...)
}

// carried reads the outer veth's own byte counters.
func (p *plain) carried(ctx context.Context) (counts, error) {
	var c counts
	var err error
	if c.sent, err = p.counter(ctx, "gw1", "gw1-gw2", "tx_bytes"); err != nil {
		return c, err
	}
	c.received, err = p.counter(ctx, "gw2", "gw2-gw1", "rx_bytes")
	return c, err
}

func (p *plain) counter(ctx context.Context, ns, ifname, stat string) (uint64, error) {
	// `ip netns exec` mounts the namespace's own /sys.
	out, err := p.t.Exec(ctx, ns, "cat", "/sys/class/net/"+ifname+"/statistics/"+stat)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %s %s: %w", ns, ifname, stat, err)
	}
	return v, nil
}
