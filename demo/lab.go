package demo

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/netio"
)

// The lab is seed 004's topology in one process:
//
//	Host1 ── Peer1 ══ IKEv2 / ESP ══ Peer2 ── Host2
//	1.1.1.2   16.1.1.2          16.1.1.1   2.2.2.2
//
// Each gateway is a whole daemon on a daemon.MemHost: its outer interface
// (et-0/2/10, mapped to eth1) is an address on one netio.MemNetwork, its
// st0.1 a netio.MemTUN. Each host is a gVisor network stack (wireguard-go's
// tun/netstack) whose one interface is bridged to its gateway: the bridge
// plays the gateway's forwarding, sending into st0.1 what the static
// routes send there and handing the host what st0.1 gives out for it.

// Interface names: the seed's Junos names, mapped to Linux-style names on
// the in-memory hosts (as --interface-map would).
var interfaceMap = map[string]string{"et-0/1/8": "eth0", "et-0/2/10": "eth1"}

// hostMTU is the hosts' interface MTU: the daemon's st0 default, so that
// nothing needs fragmenting at the tunnel.
const hostMTU = 1400

// gatewaySpec is one side of the lab.
type gatewaySpec struct {
	name     string     // Peer1
	hostName string     // Host1
	config   string     // the configuration text to run
	outer    netip.Addr // its address on the outer network
	host     netip.Addr // the host behind it
}

// gateway is a running side: the daemon, its host, the bridge.
type gateway struct {
	gatewaySpec
	d      *daemon.Daemon
	mem    *daemon.MemHost
	st0    *netio.MemTUN
	dev    tun.Device     // the host's interface
	net    *netstack.Net  // the host's stack
	routes []netip.Prefix // prefixes the gateway routes into st0.1

	unrouted atomic.Uint64 // host packets no route sent into the tunnel
	dropped  atomic.Uint64 // packets a full queue refused
}

type lab struct {
	network  *netio.MemNetwork
	gateways []*gateway
	dir      string
	wg       sync.WaitGroup // bridges
}

// startLab starts the gateways in order (the responder first, so the
// initiator's first IKE_SA_INIT finds it listening) and their hosts.
func startLab(specs []gatewaySpec, log *slog.Logger, prepare func(string, []gatewaySpec) error) (*lab, error) {
	l, err := newLab()
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		if err := prepare(l.dir, specs); err != nil {
			l.close()
			return nil, err
		}
	}
	for _, s := range specs {
		g, err := l.startGateway(s, log)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		l.gateways = append(l.gateways, g)
	}
	return l, nil
}

// newLab makes the outer network and the directory every machine's state
// directory goes in.
func newLab() (*lab, error) {
	dir, err := os.MkdirTemp("", "ipsecgw-demo-")
	if err != nil {
		return nil, err
	}
	return &lab{network: netio.NewMemNetwork(), dir: dir}, nil
}

// stateDir makes the state directory of the machine named name, with its
// configuration file in it (file: "" when config is "").
func (l *lab) stateDir(name, config string) (dir, file string, err error) {
	dir = filepath.Join(l.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	if config == "" {
		return dir, "", nil
	}
	file = filepath.Join(dir, "juniper.conf")
	return dir, file, os.WriteFile(file, []byte(config), 0o600)
}

// memHost is a gateway's machine: the Linux names of interfaceMap, its
// address outer on the outer network.
func (l *lab) memHost(outer netip.Addr) (*daemon.MemHost, error) {
	links := make([]string, 0, len(interfaceMap))
	for _, linux := range interfaceMap {
		links = append(links, linux)
	}
	return daemon.NewMemHost(l.network, links, outer)
}

// hostStack is a host's network stack with its one address.
func hostStack(addr netip.Addr) (tun.Device, *netstack.Net, error) {
	return netstack.CreateNetTUN([]netip.Addr{addr}, nil, hostMTU)
}

func (l *lab) startGateway(s gatewaySpec, log *slog.Logger) (*gateway, error) {
	g := &gateway{gatewaySpec: s}
	sub, file, err := l.stateDir(s.name, s.config)
	if err != nil {
		return nil, err
	}
	if g.mem, err = l.memHost(s.outer); err != nil {
		return nil, err
	}
	g.d, err = daemon.Start(daemon.Options{ConfigFile: file, StateDir: sub, InterfaceMap: interfaceMap,
		Host: g.mem, Logger: log.With("gateway", s.name)})
	if err != nil {
		return nil, err
	}
	g.routes = tunnelRoutes(g.d.Config(), "st0.1")
	if g.st0 = g.mem.TUN("st0.1"); g.st0 == nil {
		g.d.Stop()
		return nil, errors.New("the configuration has no st0.1 for the host's traffic")
	}
	if g.dev, g.net, err = hostStack(s.host); err != nil {
		g.d.Stop()
		return nil, fmt.Errorf("%s: %w", s.hostName, err)
	}
	l.wg.Add(2)
	go func() { defer l.wg.Done(); g.hostToTunnel() }()
	go func() { defer l.wg.Done(); g.tunnelToHost() }()
	return g, nil
}

// tunnelRoutes lists the static routes whose next hop is the tunnel unit.
func tunnelRoutes(cfg *schema.Config, unit string) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range cfg.Routes {
		for _, u := range r.Interfaces {
			if u.Name() == unit {
				out = append(out, r.Prefix)
			}
		}
	}
	return out
}

// hostToTunnel forwards what the host sends: into st0.1 when a static
// route sends its destination there, otherwise nowhere (counted).
func (g *gateway) hostToTunnel() {
	fromHost(g.dev, func(pkt []byte) {
		if !g.routed(pkt) {
			g.unrouted.Add(1)
		} else if !g.st0.Inject(pkt) {
			g.dropped.Add(1)
		}
	})
}

// fromHost hands each packet a host's stack sends to forward, until the
// stack closes.
func fromHost(dev tun.Device, forward func(pkt []byte)) {
	bufs := [][]byte{make([]byte, 65536)}
	sizes := []int{0}
	for {
		n, err := dev.Read(bufs, sizes, 0)
		if err != nil {
			return // the host's stack closed
		}
		for i := range n {
			forward(bufs[i][:sizes[i]])
		}
	}
}

// routed reports whether an IPv4 packet's destination is in a prefix the
// gateway routes into the tunnel.
func (g *gateway) routed(pkt []byte) bool {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return false
	}
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	for _, p := range g.routes {
		if p.Contains(dst) {
			return true
		}
	}
	return false
}

// tunnelToHost hands the host what comes out of st0.1 for it.
func (g *gateway) tunnelToHost() {
	for {
		pkt, err := g.st0.Receive(0)
		if err != nil {
			return // the daemon closed st0.1
		}
		if len(pkt) < 20 || netip.AddrFrom4([4]byte(pkt[16:20])) != g.host {
			g.unrouted.Add(1)
			continue
		}
		if _, err := g.dev.Write([][]byte{pkt}, 0); err != nil && !errors.Is(err, net.ErrClosed) {
			g.dropped.Add(1)
		}
	}
}

// close stops the gateways and removes the files.
func (l *lab) close() error {
	errs := l.stopGateways()
	return errors.Join(append(errs, os.RemoveAll(l.dir))...)
}

// stopGateways stops the hosts, then the gateways (the initiator's DELETE
// goes out while the responder still listens), and waits for their
// bridges.
func (l *lab) stopGateways() []error {
	var errs []error
	for _, g := range l.gateways {
		g.dev.Close()
	}
	for i := len(l.gateways) - 1; i >= 0; i-- {
		errs = append(errs, l.gateways[i].d.Stop())
	}
	l.wg.Wait()
	return errs
}
