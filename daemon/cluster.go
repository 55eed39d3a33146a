package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sys/unix"

	"ipsecgw/cluster"
	"ipsecgw/cluster/announce"
	"ipsecgw/config/schema"
	"ipsecgw/config/store"
)

// A daemon started with --cluster-etcd is one node of a cluster (package
// cluster): its configuration store is etcd's, shared by every node, and
// what it runs of that configuration depends on which services redundancy
// groups it owns. An owner adds the group's virtual IPs, announces them and
// runs the IKE gateways whose local-address is one of them, with their
// VPNs, st0 units and routes; a node that does not own the group runs none
// of it. Everything else in the configuration runs on every node.
//
// The daemon applies "its view" of the committed configuration: the same
// diff door (reconcile) runs it after a commit and after every ownership
// change.

// clusterState is a cluster node's side of the daemon; nil on a single
// gateway.
type clusterState struct {
	cli    *clientv3.Client
	node   *cluster.Node
	cancel context.CancelFunc // the configuration watch
	done   chan struct{}

	mu    sync.Mutex    // guards owned
	owned map[int]int64 // SRG → fencing token

	full *schema.Config // the committed configuration; the daemon goroutine's

	sync atomic.Pointer[haSync] // SA state in etcd (hasync.go); nil without a cluster key

	confirmDone chan struct{} // closes when runClusterConfirm (haconfirm.go) ended
}

// dialCluster connects to etcd when the daemon runs as a cluster node.
func (d *Daemon) dialCluster() error {
	if len(d.opts.ClusterEtcd) == 0 {
		return nil
	}
	if d.opts.NodeID < 1 || d.opts.NodeID > 255 {
		return fmt.Errorf("--node-id %d: expected 1..255 with --cluster-etcd", d.opts.NodeID)
	}
	cli, err := cluster.Dial(d.opts.ClusterEtcd)
	if err != nil {
		return err
	}
	d.cluster = &clusterState{cli: cli, owned: map[int]int64{}}
	return nil
}

// clusterNodeID is the node ID the schema resolves ${node} with: 0 on a
// single gateway, where "chassis high-availability" is not applied.
func (d *Daemon) clusterNodeID() int {
	if d.cluster == nil {
		return 0
	}
	return d.opts.NodeID
}

// clusterBackend is where committed configurations live: etcd in a
// cluster, the state directory (nil) otherwise.
func (d *Daemon) clusterBackend() store.Backend {
	if d.cluster == nil {
		return nil
	}
	return cluster.NewConfigBackend(d.cluster.cli, 10*time.Second)
}

// clusterBootstrap keeps a restarted node from overwriting the cluster's
// configuration with an old --config file: the file seeds a cluster that
// has none, and is ignored otherwise.
func (d *Daemon) clusterBootstrap(st *store.Store) {
	if d.cluster == nil || d.opts.ConfigFile == "" || len(st.Rollbacks()) == 0 {
		return
	}
	d.log.Warn("the cluster has a committed configuration; --config is ignored", "file", d.opts.ConfigFile)
	d.opts.ConfigFile = ""
}

// joinCluster makes this daemon a member with the configuration it
// started with, and follows commits made on other nodes.
func (d *Daemon) joinCluster(cfg *schema.Config) error {
	c := d.cluster
	if c == nil {
		return nil
	}
	ttl := cluster.DefaultLeaseTTL
	if cfg.HA != nil {
		ttl = cfg.HA.LeaseTTL
	}
	addr := ""
	if cfg.HA != nil {
		for _, n := range cfg.HA.Nodes {
			if n.ID == d.opts.NodeID && n.Address.IsValid() {
				addr = n.Address.String()
			}
		}
	}
	d.removeStaleVIPs(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*ttl+10*time.Second)
	defer cancel()
	node, err := cluster.Join(ctx, cluster.Options{
		Client: c.cli, NodeID: d.opts.NodeID, Address: addr, LeaseTTL: ttl,
		Logger: d.log, OnChange: d.onOwnership,
		OnFence: d.onFence, // hafence.go
	})
	if err != nil {
		return err
	}
	c.node = node
	if err := d.do(func() error { c.full = cfg; return nil }); err != nil {
		return err
	}
	d.startHASync(cfg)
	node.SetGroups(haGroups(cfg))
	wctx, wcancel := context.WithCancel(context.Background())
	c.cancel, c.done = wcancel, make(chan struct{})
	go func() {
		defer close(c.done)
		cluster.WatchConfig(wctx, c.cli, func() {
			if changed, err := d.store.Refresh(); err != nil {
				d.log.Error("a commit on the cluster is not in effect on this node", "err", err)
			} else if changed {
				d.log.Info("configuration committed on the cluster is in effect")
			}
		})
	}()
	c.confirmDone = d.runClusterConfirm(wctx)
	return nil
}

func haGroups(cfg *schema.Config) []*schema.SRG {
	if cfg == nil || cfg.HA == nil {
		return nil
	}
	return cfg.HA.SRGs
}

// clusterCommitted records the committed configuration after it is in
// effect (on the daemon goroutine) and gives the node its groups.
func (d *Daemon) clusterCommitted(cfg *schema.Config) {
	if d.cluster == nil {
		return
	}
	d.cluster.full = cfg
	if s := d.cluster.sync.Load(); s != nil {
		s.setConfig(cfg)
	}
	if d.cluster.node != nil {
		d.cluster.node.SetGroups(haGroups(cfg))
		if cfg.HA != nil && cfg.HA.LeaseTTL != d.cluster.node.LeaseTTL() {
			d.log.Warn("chassis high-availability lease-ttl takes effect when the daemon next starts",
				"configured", cfg.HA.LeaseTTL, "running", d.cluster.node.LeaseTTL())
		}
	}
}

// leaveCluster stops the groups this node owns (their addresses go first)
// and leaves, so the others take them at once; then stops following
// commits.
func (d *Daemon) leaveCluster() {
	c := d.cluster
	if c == nil {
		return
	}
	if c.node != nil {
		c.node.Close()
	}
	c.stopHASync()
	if c.cancel != nil {
		c.cancel()
		<-c.done
		<-c.confirmDone
	}
	c.cli.Close()
	d.cluster = nil
}

// onOwnership is the cluster's OnChange: it runs the group, or stops
// running it, before it returns (a stop must be complete before another
// node can start).
func (d *Daemon) onOwnership(ch cluster.Change) {
	c := d.cluster
	c.haBefore(ch) // haresume.go
	c.mu.Lock()
	if ch.Owned {
		c.owned[ch.SRG] = ch.Token
	} else {
		delete(c.owned, ch.SRG)
	}
	c.mu.Unlock()
	var vips []schema.VirtualIP
	err := d.do(func() error {
		if c.full == nil {
			return nil
		}
		if g := c.full.HA.SRG(ch.SRG); g != nil {
			vips = g.VirtualIPs
		}
		c.haForget(ch)
		if err := d.reconcile(d.clusterView(c.full)); err != nil {
			return err
		}
		c.haResume(d, ch)
		return nil
	})
	kind := "srg-standby"
	if ch.Owned {
		kind = "srg-active"
	}
	d.events.publish(Event{Kind: kind, Time: time.Now(), SRG: ch.SRG, Reason: fmt.Sprintf("services-redundancy-group %d: %s", ch.SRG, ch.Reason)})
	if err != nil {
		d.log.Error("services-redundancy-group change not applied", "srg", ch.SRG, "owned", ch.Owned, "err", err)
		if ch.Owned {
			// A group this node cannot run goes to another node; the
			// request waits for this callback to return.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, err := c.node.Failover(ctx, ch.SRG); err != nil {
					d.log.Warn("services-redundancy-group not handed over", "srg", ch.SRG, "err", err)
				}
			}()
		}
		return
	}
	a, ok := d.host.(announcer)
	if !ch.Owned || !ok {
		return
	}
	announceAll := func() {
		for _, v := range vips {
			if err := a.Announce(v.Interface, v.Prefix.Addr()); err != nil {
				d.log.Warn("virtual IP not announced", "srg", ch.SRG, "address", v.Prefix.Addr(), "err", err)
			}
		}
	}
	announceAll()
	// Again a few times, as long as this ownership lasts: one frame can
	// be lost, and the host of an owner killed with SIGKILL still holds
	// the address and answers ARP for it until its daemon starts again.
	go func() {
		for range announceRepeats {
			time.Sleep(time.Second)
			c.mu.Lock()
			still := c.owned[ch.SRG] == ch.Token
			c.mu.Unlock()
			if !still {
				return
			}
			announceAll()
		}
	}()
}

// announceRepeats is how many more announcements follow the first, a
// second apart.
const announceRepeats = 4

// announcer is a Host that can tell its link an address moved to it
// (LinuxHost; MemHost tells its in-memory network).
type announcer interface {
	Announce(ifname string, a netip.Addr) error
}

// Announce sends a gratuitous ARP or unsolicited neighbour advertisement.
func (LinuxHost) Announce(ifname string, a netip.Addr) error { return announce.Address(ifname, a) }

// clusterView is the part of cfg this node runs: the virtual IPs of the
// groups it owns are added as addresses of their interfaces; the VPNs of
// gateways on a virtual IP of a group it does not own are left out, with
// their st0 units and the routes through them.
func (d *Daemon) clusterView(cfg *schema.Config) *schema.Config {
	c := d.cluster
	if c == nil || cfg == nil || cfg.HA == nil {
		return cfg
	}
	c.mu.Lock()
	owned := make(map[int]bool, len(c.owned))
	for id := range c.owned {
		owned[id] = true
	}
	c.mu.Unlock()
	v := *cfg
	v.Interfaces = append([]*schema.Interface(nil), cfg.Interfaces...)
	for _, g := range cfg.HA.SRGs {
		if !owned[g.ID] {
			continue
		}
		for _, vip := range g.VirtualIPs {
			ifc := &schema.Interface{Name: vip.Interface, HostName: vip.Interface, Kind: schema.Physical}
			ifc.Units = []*schema.Unit{{Interface: ifc, Inet: vip.Prefix.Addr().Is4(), Inet6: vip.Prefix.Addr().Is6(),
				Addresses: []netip.Prefix{vip.Prefix}}}
			v.Interfaces = append(v.Interfaces, ifc)
		}
	}
	dropUnits := map[*schema.Unit]bool{}
	var vpns []*schema.VPN
	for _, vpn := range cfg.IPsec.VPNs {
		if vpn.IKE != nil && vpn.IKE.Gateway != nil {
			if g := cfg.HA.SRGOf(vpn.IKE.Gateway.LocalAddress); g != nil && !owned[g.ID] {
				if vpn.BindInterface != nil {
					dropUnits[vpn.BindInterface] = true
				}
				continue
			}
		}
		vpns = append(vpns, vpn)
	}
	for _, vpn := range vpns {
		delete(dropUnits, vpn.BindInterface)
	}
	v.IPsec.VPNs = vpns
	if len(dropUnits) == 0 {
		return &v
	}
	for i, ifc := range v.Interfaces {
		var units []*schema.Unit
		for _, u := range ifc.Units {
			if !dropUnits[u] {
				units = append(units, u)
			}
		}
		if len(units) != len(ifc.Units) {
			cp := *ifc
			cp.Units = units
			v.Interfaces[i] = &cp
		}
	}
	v.Routes = nil
	for _, r := range cfg.Routes {
		var via []*schema.Unit
		for _, u := range r.Interfaces {
			if !dropUnits[u] {
				via = append(via, u)
			}
		}
		if len(via) == len(r.Interfaces) {
			v.Routes = append(v.Routes, r)
			continue
		}
		if len(via) == 0 && len(r.Gateways) == 0 {
			continue
		}
		cp := *r
		cp.Interfaces = via
		v.Routes = append(v.Routes, &cp)
	}
	return &v
}

// ErrNotClustered answers cluster commands on a single gateway.
var ErrNotClustered = errors.New("this gateway is not part of a cluster (start the daemon with --cluster-etcd and --node-id)")

// ClusterInfo is what `show chassis high-availability information` shows.
type ClusterInfo struct {
	NodeID int
	HA     *schema.HighAvailability // the committed configuration's; nil when none
	Status cluster.Status
}

// ClusterInfo reads the cluster's members and owners from etcd.
func (d *Daemon) ClusterInfo(ctx context.Context) (*ClusterInfo, error) {
	c := d.cluster
	if c == nil || c.node == nil {
		return nil, ErrNotClustered
	}
	st, err := c.node.Status(ctx)
	if err != nil {
		return nil, err
	}
	var ha *schema.HighAvailability
	if cfg := d.Config(); cfg != nil {
		ha = cfg.HA
	}
	return &ClusterInfo{NodeID: d.opts.NodeID, HA: ha, Status: st}, nil
}

// Failover moves services redundancy group srg to another node and
// returns that node.
func (d *Daemon) Failover(ctx context.Context, srg int) (int, error) {
	c := d.cluster
	if c == nil || c.node == nil {
		return 0, ErrNotClustered
	}
	return c.node.Failover(ctx, srg)
}

// NodeID is this daemon's node in its cluster, 0 on a single gateway.
func (d *Daemon) NodeID() int { return d.clusterNodeID() }

// removeStaleVIPs takes off the virtual IPs a previous run of this node
// left on its interfaces (a daemon killed with SIGKILL removes nothing): a
// node that has just started owns no group, and an address it does not own
// would answer ARP against the owner's.
func (d *Daemon) removeStaleVIPs(cfg *schema.Config) {
	r, ok := d.host.(addressRemover)
	if !ok || cfg.HA == nil {
		return
	}
	for _, g := range cfg.HA.SRGs {
		for _, v := range g.VirtualIPs {
			removed, err := r.RemoveAddress(v.Interface, v.Prefix)
			if err != nil {
				d.log.Warn("could not remove a virtual IP left by a previous run", "srg", g.ID, "address", v.Prefix, "err", err)
			} else if removed {
				d.log.Info("removed a virtual IP left by a previous run", "srg", g.ID, "address", v.Prefix, "interface", v.Interface)
			}
		}
	}
}

// addressRemover is a Host that can remove an address it did not add.
type addressRemover interface {
	RemoveAddress(ifname string, p netip.Prefix) (removed bool, err error)
}

// RemoveAddress removes p from ifname if it is there.
func (LinuxHost) RemoveAddress(ifname string, p netip.Prefix) (bool, error) {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return false, nil // no interface, no address
	}
	err = netlink.AddrDel(link, &netlink.Addr{IPNet: ipNet(p)})
	if errors.Is(err, unix.EADDRNOTAVAIL) {
		return false, nil
	}
	return err == nil, err
}
