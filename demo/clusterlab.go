package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"

	"ipsecgw/cluster"
	"ipsecgw/cluster/etcdtest"
	"ipsecgw/daemon"
)

// The cluster scenario's lab: Peer1 of seed 004 is three ipsecgw nodes
// sharing one configuration and the SA state through an etcd embedded in
// the process; services redundancy group 1 owns Peer1's address 16.1.1.2
// (the IKE gateway's local-address) and the LAN's gateway address 1.1.1.1
// as virtual IPs.
//
//	           ┌ node 1 16.1.1.11 ┐
//	Host1 ─LAN─┼ node 2 16.1.1.12 ┼─ VIP 16.1.1.2 ══ IKEv2 / ESP ══ Peer2 ── Host2
//	1.1.1.2    └ node 3 16.1.1.13 ┘                            16.1.1.1   2.2.2.2
//	(gateway 1.1.1.1, a VIP)   │
//	                      embedded etcd (127.0.0.1, a port the kernel picks)
//
// Each node is a whole daemon (daemon.Start with ClusterEtcd and NodeID)
// on a nodeHost: the same cluster code as on a real machine (membership
// and ownership by etcd lease, SA records, takeover), in memory. An
// address moves between nodes as on a segment: the owner's daemon
// announces it (on the outer network, netio.MemHost.Announce; on the LAN,
// the segment below sends Host1's packets to the last node that announced
// the gateway address).

const (
	clusterNodes = 3
	// lanIf is the nodes' LAN interface (et-0/1/8 under the demo's
	// interface map); the outer one is eth1 (et-0/2/10).
	lanIf = "eth0"
)

var (
	clusterVIP = peer1Outer // Peer1's address in the seed: the group's virtual IP
	lanVIP     = netip.MustParseAddr("1.1.1.1")
	lanNet     = netip.MustParsePrefix("1.1.1.0/24")
)

func nodeOuter(id int) netip.Addr { return netip.AddrFrom4([4]byte{16, 1, 1, byte(10 + id)}) }
func nodeLAN(id int) netip.Addr   { return netip.AddrFrom4([4]byte{1, 1, 1, byte(10 + id)}) }

// clusterNode is one node: its daemon, its machine, its link to etcd.
type clusterNode struct {
	id   int
	host *nodeHost
	link *etcdLink
	d    atomic.Pointer[daemon.Daemon]
}

func (n *clusterNode) daemon() *daemon.Daemon { return n.d.Load() }

// kill kills the node at once (nodeHost's comment says what that means).
func (n *clusterNode) kill() {
	n.host.kill()
	n.link.sever()
}

// announcements records which node last announced each address, as the
// neighbours on a segment know it; moved is told of every change.
type announcements struct {
	mu    sync.Mutex
	by    map[netip.Addr]*clusterNode
	moved func(n *clusterNode, ifname string, a netip.Addr)
}

func (s *announcements) set(n *clusterNode, ifname string, a netip.Addr) {
	s.mu.Lock()
	old, moved := s.by[a], s.moved
	s.by[a] = n
	s.mu.Unlock()
	if old != n && moved != nil {
		moved(n, ifname, a)
	}
}

func (s *announcements) node(a netip.Addr) *clusterNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.by[a]
}

type clusterLab struct {
	*lab  // the outer network, Peer2 with Host2, the directory
	etcd  *etcdtest.Server
	key   []byte // the cluster key every node has in its state directory
	nodes []*clusterNode
	seen  announcements

	host1Dev tun.Device
	host1    *netstack.Net
	lanDrops atomic.Uint64 // Host1 packets no live gateway took

	closing chan struct{}
	wg      sync.WaitGroup // the LAN's forwarders
}

// startClusterLab starts the embedded etcd, Host1 and the LAN; the nodes
// and Peer2 are started by the scenario, one at a time.
func startClusterLab(moved func(*clusterNode, string, netip.Addr)) (*clusterLab, error) {
	base, err := newLab()
	if err != nil {
		return nil, err
	}
	l := &clusterLab{lab: base, closing: make(chan struct{}),
		seen: announcements{by: map[netip.Addr]*clusterNode{}, moved: moved}}
	if l.etcd, err = etcdtest.Start(base.dir); err != nil {
		os.RemoveAll(base.dir)
		return nil, err
	}
	l.key = make([]byte, 32)
	rand.Read(l.key)
	if l.host1Dev, l.host1, err = hostStack(host1Addr); err != nil {
		l.close()
		return nil, fmt.Errorf("Host1: %w", err)
	}
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.host1ToGateway() }()
	return l, nil
}

// startNode starts node id: with config, it seeds the cluster's
// configuration; without, it takes the cluster's from etcd.
func (l *clusterLab) startNode(id int, config string, log *slog.Logger) (*clusterNode, error) {
	sub, file, err := l.stateDir(fmt.Sprintf("node%d", id), config)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(sub, cluster.ClusterKeyFile), []byte(hex.EncodeToString(l.key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	mem, err := l.memHost(nodeOuter(id))
	if err != nil {
		return nil, err
	}
	n := &clusterNode{id: id}
	n.host = &nodeHost{MemHost: mem, node: n, seen: &l.seen}
	if n.link, err = newEtcdLink(l.etcd.Endpoint); err != nil {
		return nil, err
	}
	l.nodes = append(l.nodes, n)
	d, err := daemon.Start(daemon.Options{ConfigFile: file, StateDir: sub, InterfaceMap: interfaceMap,
		Host: n.host, Logger: log.With("node", id), ClusterEtcd: []string{n.link.url()}, NodeID: id})
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", id, err)
	}
	n.d.Store(d)
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.tunnelToLAN(n) }()
	return n, nil
}

// host1ToGateway is the LAN as Host1 uses it: every packet to an address
// off the LAN goes to its gateway, the node that last announced 1.1.1.1,
// which routes it into its st0.1 when a static route says so (only the
// group's owner runs the tunnel). A dead gateway takes nothing.
func (l *clusterLab) host1ToGateway() {
	fromHost(l.host1Dev, func(pkt []byte) {
		if !l.forward(pkt) {
			l.lanDrops.Add(1)
		}
	})
}

func (l *clusterLab) forward(pkt []byte) bool {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return false
	}
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	gw := l.seen.node(lanVIP)
	if lanNet.Contains(dst) || gw == nil || gw.host.dead.Load() {
		return false
	}
	d := gw.daemon()
	if d == nil {
		return false
	}
	routed := false
	for _, p := range tunnelRoutes(d.Config(), "st0.1") {
		routed = routed || p.Contains(dst)
	}
	t := gw.host.TUN("st0.1")
	return routed && t != nil && t.Inject(pkt)
}

// tunnelToLAN hands Host1 what comes out of node n's st0.1 for it, while
// the node runs the tunnel and lives.
func (l *clusterLab) tunnelToLAN(n *clusterNode) {
	for {
		select {
		case <-l.closing:
			return
		default:
		}
		t := n.host.TUN("st0.1")
		if t == nil {
			select {
			case <-l.closing:
				return
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		pkt, err := t.Receive(200 * time.Millisecond)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				// The group left this node; wait for the next st0.1.
				time.Sleep(20 * time.Millisecond)
			}
			continue
		}
		if n.host.dead.Load() || len(pkt) < 20 || netip.AddrFrom4([4]byte(pkt[16:20])) != host1Addr {
			l.lanDrops.Add(1)
			continue
		}
		l.host1Dev.Write([][]byte{pkt}, 0)
	}
}

// owner asks a live node which node owns group srg (0: none).
func (l *clusterLab) owner(ctx context.Context, srg int) (owner, members int, err error) {
	for _, n := range l.nodes {
		d := n.daemon()
		if d == nil || n.host.dead.Load() {
			continue
		}
		info, err := d.ClusterInfo(ctx)
		if err != nil {
			return 0, 0, err
		}
		return info.Status.Owners[srg], len(info.Status.Members), nil
	}
	return 0, 0, errors.New("no live node")
}

// saRecords reads group srg's SA records as a new owner would (sealed
// with the cluster key): their names.
func (l *clusterLab) saRecords(ctx context.Context, srg int) (map[string][]byte, error) {
	cli, err := cluster.Dial([]string{l.etcd.Endpoint})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	store, err := cluster.NewSAStore(cli, l.key)
	if err != nil {
		return nil, err
	}
	return store.Load(ctx, srg)
}

// close stops the hosts, Peer2 (its DELETE goes to the group's owner),
// the live nodes, then what remains of a killed one (its etcd is gone: it
// cannot even leave), etcd; and removes the files.
func (l *clusterLab) close() error {
	close(l.closing)
	// The daemons' last announcements (they repeat for a few seconds)
	// are not news any more.
	l.seen.mu.Lock()
	l.seen.moved = nil
	l.seen.mu.Unlock()
	if l.host1Dev != nil {
		l.host1Dev.Close()
	}
	errs := l.stopGateways()
	for _, dead := range []bool{false, true} {
		for _, n := range l.nodes {
			if d := n.daemon(); d != nil && n.host.dead.Load() == dead {
				errs = append(errs, d.Stop())
			}
		}
	}
	for _, n := range l.nodes {
		n.link.close()
	}
	l.wg.Wait()
	if l.etcd != nil {
		l.etcd.Stop()
	}
	errs = append(errs, os.RemoveAll(l.dir))
	return errors.Join(errs...)
}
