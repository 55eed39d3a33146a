package demo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"sync"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/netio"
	"ipsecgw/show"
	"ipsecgw/view"
)

// The cluster scenario (issue 13's demo): Peer1 is a cluster of three
// nodes (clusterlab.go); Peer2 negotiates with the group's virtual IP;
// Host1, on the LAN behind the cluster, sends Host2 a TCP stream, and a
// quarter of the way the node owning the group is killed. The demo
// passes only if a survivor takes the group over and the stream
// completes through it on the same IKE SA (Peer2's cookies unchanged: no
// new negotiation).
//
// The steps, in order (clusterRun is their table of contents):
//
//	etcd      the embedded etcd, the LAN and Host1
//	nodes     node 1 with Peer1's configuration made the cluster's, nodes
//	          2 and 3 without one (they take the cluster's from etcd);
//	          wait for three members and an owner of group 1
//	negotiate Peer2 and Host2; the IKE SA with the virtual IP, and its
//	          record in etcd
//	ping      Host2 → Host1
//	failover  TCP Host1 → Host2; the owner killed mid-transfer; a survivor
//	          owns the group; the transfer completes
//	verify    Peer2's IKE SA is the one before the kill; the survivor
//	          resumed it and carried the traffic
//	show      Peer2's and the survivor's IKE SAs

// clusterGroup is the services redundancy group of the scenario.
const clusterGroup = 1

// clusterTCPBytes is the scenario's transfer (watchedTransfer: the
// receiver confirms every block).
const clusterTCPBytes = 4 << 20

// clusterTimeout bounds each wait of the scenario (an ownership, a
// takeover, a negotiation); a loaded machine with the race detector is
// far slower than the lease TTL the takeover itself waits for.
const clusterTimeout = 30 * time.Second

// clusterEdits make Peer1's configuration the cluster's: each node's own
// addresses in a group selected by ${node}, and group 1 owning Peer1's
// outer address and the LAN's gateway address as virtual IPs (node 1
// preferred, then 2, then 3), on Junos MNHA's statements.
func clusterEdits() []edit {
	var b strings.Builder
	b.WriteString("groups {\n")
	for id := 1; id <= clusterNodes; id++ {
		fmt.Fprintf(&b, "    node%d {\n        interfaces {\n", id)
		for _, ifc := range []struct {
			name string
			addr netip.Addr
		}{{"et-0/1/8", nodeLAN(id)}, {"et-0/2/10", nodeOuter(id)}} {
			fmt.Fprintf(&b, "            %s {\n                unit 0 {\n                    family inet {\n"+
				"                        address %s/24;\n                    }\n                }\n            }\n", ifc.name, ifc.addr)
		}
		b.WriteString("        }\n    }\n")
	}
	b.WriteString("}\napply-groups \"${node}\";\nchassis {\n    high-availability {\n")
	for id := 1; id <= clusterNodes; id++ {
		fmt.Fprintf(&b, "        node %d {\n            address %s;\n        }\n", id, nodeOuter(id))
	}
	fmt.Fprintf(&b, "        services-redundancy-group %d {\n", clusterGroup)
	fmt.Fprintf(&b, "            virtual-ip 1 {\n                ip %s/24;\n                interface et-0/2/10;\n            }\n", clusterVIP)
	fmt.Fprintf(&b, "            virtual-ip 2 {\n                ip %s/24;\n                interface et-0/1/8;\n            }\n", lanVIP)
	b.WriteString("            managed-services ipsec;\n")
	for id := 1; id <= clusterNodes; id++ {
		fmt.Fprintf(&b, "            node %d activeness-priority %d;\n", id, 250-50*id)
	}
	b.WriteString("        }\n    }\n")
	return []edit{
		{"chassis {\n", b.String()},
		// The addresses the seed gives Peer1 are the group's now.
		{"                address 1.1.1.1/24;\n", ""},
		{"                address 16.1.1.2/24;\n", ""},
		// The schema checks local-address against the external
		// interface's configured addresses, which a virtual IP is not.
		{"            external-interface et-0/2/10;\n", ""},
	}
}

// clusterRun runs the scenario.
func (r *run) clusterRun(ctx context.Context, sc Scenario) error {
	if r.o.Duration > 0 {
		return errors.New("--duration: the cluster scenario runs one transfer through a failover; expected no --duration")
	}
	nodeConf, peer2Conf, err := sc.loadConfigs(r.o.ConfigDir)
	if err != nil {
		return err
	}
	r.step("starting etcd in this process (go.etcd.io/etcd/server/v3/embed)...")
	l, err := startClusterLab(r.announced)
	if err != nil {
		return err
	}
	r.lab = l.lab
	c := &clusterRun{run: r, l: l, nodeConfig: nodeConf, peer2Config: peer2Conf}
	defer func() {
		c.stopWatching()
		if err := l.close(); err != nil {
			r.step("shutdown: %v", err)
		}
	}()
	r.step("etcd ready at %s; Host1 %s on the LAN behind the cluster, its gateway %s", l.etcd.Endpoint, host1Addr, lanVIP)
	for _, f := range []func(context.Context) error{c.nodes, c.negotiate, c.ping, c.failover, c.verify} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	c.show()
	r.step("done in %v", time.Since(r.began).Round(time.Millisecond))
	return nil
}

// clusterRun is the state of one run of the scenario.
type clusterRun struct {
	*run
	l           *clusterLab
	nodeConfig  string // the cluster's configuration, node 1 seeds it
	peer2Config string
	owner       *clusterNode // the group's owner before the kill
	peer2       *gateway

	before [2]uint64 // Peer2's IKE SA cookies before the kill
	killed time.Time
	tookAt time.Duration // from the kill to a survivor owning the group
	newOwn *clusterNode
	atKill int64 // bytes received when the owner was killed

	resumed       map[int]int // node → IKE SAs it resumed
	resumedAtKill map[int]int // resumed at the kill

	mu      sync.Mutex
	unwatch []func()
	watches sync.WaitGroup
}

// announced prints an address moving to a node (the lab's announcements).
func (r *run) announced(n *clusterNode, ifname string, a netip.Addr) {
	r.step("node %d announces %s on %s: packets to it go to node %d now", n.id, a, ifname, n.id)
}

// watch prints a daemon's events as they happen, the ones that tell the
// story: ownership, resumed SAs, IKE and IPsec SAs coming and going. A
// node's (n, nil for Peer2) fall silent when it is killed: what remains
// of it in the process still reports, but a dead daemon would not.
func (c *clusterRun) watch(who string, d *daemon.Daemon, n *clusterNode) {
	ch, stop := d.Events().Subscribe()
	c.mu.Lock()
	c.unwatch = append(c.unwatch, stop)
	if c.resumed == nil {
		c.resumed = map[int]int{}
	}
	c.mu.Unlock()
	c.watches.Add(1)
	go func() {
		defer c.watches.Done()
		for ev := range ch {
			if n != nil && n.host.dead.Load() {
				continue
			}
			switch ev.Kind {
			case "srg-active", "srg-standby":
				c.step("%s: %s (%s)", who, ev.Kind, ev.Reason)
			case "sa-resumed", "sa-resume-failed":
				if ev.Kind == "sa-resumed" && n != nil {
					c.mu.Lock()
					c.resumed[n.id]++
					c.mu.Unlock()
				}
				c.step("%s: %s: IKE SA %s with %s: %s", who, ev.Kind, ev.SPI, ev.Remote, ev.Reason)
			case "ike-sa-up", "ike-sa-down", "ike-sa-rekeyed", "ipsec-sa-up", "ipsec-sa-down", "ipsec-sa-rekeyed", "peer-dead", "negotiation-failed":
				extra := ""
				if ev.Reason != "" {
					extra = ": " + ev.Reason
				}
				c.step("%s: %s %s %s%s", who, ev.Kind, ev.VPN, ev.SPI, extra)
			}
		}
	}()
}

func (c *clusterRun) stopWatching() {
	c.mu.Lock()
	stops := c.unwatch
	c.unwatch = nil
	c.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	c.watches.Wait()
}

// wait polls ok until it holds, for up to clusterTimeout.
func (c *clusterRun) wait(ctx context.Context, what string, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not after %v", what, clusterTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// nodes starts the three nodes and waits for the group to have an owner
// that announced both virtual IPs.
func (c *clusterRun) nodes(ctx context.Context) error {
	for id := 1; id <= clusterNodes; id++ {
		conf, how := "", "without a configuration: it takes the cluster's from etcd"
		if id == 1 {
			conf, how = c.nodeConfig, "with Peer1's configuration made a cluster's: it becomes the cluster's"
		}
		n, err := c.l.startNode(id, conf, c.o.Logger)
		if err != nil {
			return err
		}
		c.watch(fmt.Sprintf("node %d", id), n.daemon(), n)
		c.step("node %d (%s) started %s", id, nodeOuter(id), how)
	}
	var owner, members int
	err := c.wait(ctx, "three members and an owner of services-redundancy-group 1", func() bool {
		var err error
		owner, members, err = c.l.owner(ctx, clusterGroup)
		if err != nil || owner == 0 || members != clusterNodes {
			return false
		}
		n := c.l.nodes[owner-1]
		return c.l.seen.node(clusterVIP) == n && c.l.seen.node(lanVIP) == n
	})
	if err != nil {
		return err
	}
	c.owner = c.l.nodes[owner-1]
	c.step("cluster of %d nodes on etcd: services-redundancy-group %d is owned by node %d (it holds the etcd lease; %s and %s are its)",
		members, clusterGroup, owner, clusterVIP, lanVIP)
	return nil
}

// negotiate starts Peer2, which initiates to the virtual IP, and waits
// for the tunnel and for the owner's record of the IKE SA in etcd.
func (c *clusterRun) negotiate(ctx context.Context) error {
	c.step("starting Peer2 (%s), which negotiates IKEv2 with the group's virtual IP %s...", peer2Outer, clusterVIP)
	g, err := c.l.startGateway(gatewaySpec{name: "Peer2", hostName: "Host2", config: c.peer2Config, outer: peer2Outer, host: host2Addr}, c.o.Logger)
	if err != nil {
		return fmt.Errorf("Peer2: %w", err)
	}
	c.l.gateways = append(c.l.gateways, g)
	c.peer2 = g
	c.watch("Peer2", g.d, nil)
	start := time.Now()
	if err := c.wait(ctx, "the tunnel between Peer2 and the owner", func() bool {
		return daemonTunnelUp(g.d) && daemonTunnelUp(c.owner.daemon())
	}); err != nil {
		return fmt.Errorf("%w: %s", err, c.why())
	}
	sa := g.d.Status().IKE[0]
	c.before = [2]uint64{sa.InitiatorSPI, sa.ResponderSPI}
	c.step("IKE SA UP in %v: Peer2 ↔ %s (node %d), cookies %016x:%016x",
		time.Since(start).Round(time.Millisecond), clusterVIP, c.owner.id, sa.InitiatorSPI, sa.ResponderSPI)
	// The owner writes a new IKE SA's record within its sync interval;
	// a kill before that would leave the survivor nothing to resume.
	name := fmt.Sprintf("ike/%016x-%016x", sa.InitiatorSPI, sa.ResponderSPI)
	var records map[string][]byte
	if err := c.wait(ctx, "the owner's record of the IKE SA in etcd", func() bool {
		var err error
		records, err = c.l.saRecords(ctx, clusterGroup)
		return err == nil && records[name] != nil
	}); err != nil {
		return err
	}
	names := make([]string, 0, len(records))
	for k := range records {
		names = append(names, k)
	}
	c.step("node %d keeps the IKE SA's state in etcd, sealed with the cluster key: sa/%d/{%s}", c.owner.id, clusterGroup, strings.Join(names, ", "))
	return nil
}

func (c *clusterRun) ping(ctx context.Context) error {
	rtts, lost, err := ping(ctx, c.peer2.net, host2Addr, host1Addr, 3)
	if err != nil {
		return fmt.Errorf("Host2 → Host1: %w (%s; LAN drops %d)", err, c.paths(), c.l.lanDrops.Load())
	}
	var ms []string
	for _, d := range rtts {
		ms = append(ms, fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000))
	}
	c.step("Host2 %s → Host1 %s through node %d: 3 echo replies (%d lost), rtt %s", host2Addr, host1Addr, c.owner.id, lost, strings.Join(ms, ", "))
	return nil
}

// failover runs the transfer, kills the owner a quarter of the way and
// waits for a survivor to own the group and the transfer to complete.
func (c *clusterRun) failover(ctx context.Context) error {
	size := c.o.TCPBytes
	to := netip.AddrPortFrom(host2Addr, 5001)
	c.step("TCP Host1 → Host2: sending %.1f MB through the cluster, Host2 confirming every %d KB (and holding its confirmation at a quarter until the kill, which so falls mid-transfer however fast the path)...", float64(size)/1e6, transferBlock>>10)
	xctx, cancel := context.WithTimeout(ctx, 2*clusterTimeout)
	defer cancel()
	x, err := startTransfer(xctx, c.l.host1, c.peer2.net, to, size, size/4)
	if err != nil {
		return err
	}
	released := false
	defer func() {
		if !released {
			x.Release()
		}
	}()
	stopProgress := c.progress(x)
	defer stopProgress()
	if err := c.wait(ctx, "the first quarter of the transfer", func() bool {
		return x.Held() || x.finished()
	}); err != nil {
		return fmt.Errorf("%w (%s)", err, c.paths())
	}
	if x.finished() {
		return fmt.Errorf("the transfer ended before the kill: %v", x.wait())
	}
	// The owner now, as etcd says: a loaded machine may have moved the
	// group already (a lease renewal late by more than the TTL).
	owner, _, err := c.l.owner(ctx, clusterGroup)
	if err != nil || owner == 0 {
		return fmt.Errorf("no owner of the group to kill: %v", err)
	}
	if owner != c.owner.id {
		c.step("the group moved to node %d before the kill", owner)
		c.owner = c.l.nodes[owner-1]
	}
	c.mu.Lock()
	c.resumedAtKill = maps.Clone(c.resumed)
	c.mu.Unlock()
	if sas := c.peer2.d.Status().IKE; len(sas) > 0 {
		c.before = [2]uint64{sas[0].InitiatorSPI, sas[0].ResponderSPI}
	}
	c.atKill = x.received.Load()
	c.killed = time.Now()
	c.owner.kill()
	c.step("KILLED node %d, the owner, at %.1f MB received: from now on it sends nothing, reads nothing, and its etcd connections are closed (nothing released: its lease runs out in etcd)",
		c.owner.id, float64(c.atKill)/1e6)
	released = true
	x.Release()

	if err := c.wait(ctx, "a survivor owning the group", func() bool {
		var err error
		owner, _, err = c.l.owner(ctx, clusterGroup)
		return err == nil && owner != 0 && owner != c.owner.id
	}); err != nil {
		return err
	}
	c.tookAt = time.Since(c.killed)
	c.newOwn = c.l.nodes[owner-1]
	c.step("node %d owns services-redundancy-group %d, %v after the kill (lease TTL %v)",
		owner, clusterGroup, c.tookAt.Round(time.Millisecond), c.leaseTTL())
	if err := x.wait(); err != nil {
		return fmt.Errorf("TCP Host1 → Host2: %w (%s; LAN drops %d)", err, c.paths(), c.l.lanDrops.Load())
	}
	stopProgress()
	c.step("TCP Host1 → Host2 complete: %s; %.1f MB of it after the kill; longest gap in the received stream %v",
		x.transfer(), float64(size-c.atKill)/1e6, x.longestGap().Round(time.Millisecond))
	return nil
}

// leaseTTL is the lease TTL the cluster runs with.
func (c *clusterRun) leaseTTL() time.Duration {
	if d := c.newOwn.daemon(); d != nil && d.Config().HA != nil {
		return d.Config().HA.LeaseTTL
	}
	return 0
}

// progress prints the bytes received every second until stopped.
func (c *clusterRun) progress(x *watchedTransfer) func() {
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				c.step("TCP Host1 → Host2: %.1f MB received", float64(x.received.Load())/1e6)
			}
		}
	}()
	return func() { once.Do(func() { close(done) }); wg.Wait() }
}

// verify checks the facts the scenario is for.
func (c *clusterRun) verify(ctx context.Context) error {
	var sas []string
	same := 0
	for _, sa := range c.peer2.d.Status().IKE {
		sas = append(sas, fmt.Sprintf("%016x:%016x %s", sa.InitiatorSPI, sa.ResponderSPI, sa.State))
		if sa.State == "UP" && [2]uint64{sa.InitiatorSPI, sa.ResponderSPI} == c.before {
			same++
		}
	}
	c.step("Peer2's IKE SAs: before the kill %016x:%016x; now %s", c.before[0], c.before[1], strings.Join(sas, ", "))
	// The resume's event was published before the survivor announced the
	// virtual IPs; its watcher may be a moment behind.
	resumed := 0
	c.wait(ctx, "the survivor's sa-resumed event", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		resumed = c.resumed[c.newOwn.id] - c.resumedAtKill[c.newOwn.id] // since the kill
		return resumed > 0
	})
	st := c.newOwn.daemon().Status()
	c.step("node %d: %d IKE SA resumed since the kill; it has encrypted %d packets and decrypted %d",
		c.newOwn.id, resumed, st.Global.EncryptedPackets, st.Global.DecryptedPackets)
	p2 := c.peer2.d.Status().Global
	ns := c.l.network.Stats()
	var tunDrops uint64
	for _, t := range []*netio.MemTUN{c.peer2.st0, c.newOwn.host.TUN("st0.1")} {
		if t != nil {
			ts := t.Stats()
			tunDrops += ts.InjectDrops + ts.WriteDrops
		}
	}
	c.step("losses: outer network %d, st0.1 queues %d, LAN %d (most while the gateway was dead), Host2 %d; "+
		"Peer2 ESP errors: replay %d, auth %d, no SA %d; node %d: replay %d, auth %d, no SA %d",
		ns.QueueFull+ns.NoListener+ns.Undeliverable, tunDrops, c.l.lanDrops.Load(), c.peer2.dropped.Load()+c.peer2.unrouted.Load(),
		p2.ReplayErrors, p2.AuthFailures, p2.NoSA, c.newOwn.id, st.Global.ReplayErrors, st.Global.AuthFailures, st.Global.NoSA)
	switch {
	case same != 1 || len(sas) != 1:
		return errors.New("Peer2 does not have exactly the IKE SA it had before the kill: the tunnel was negotiated again")
	case resumed == 0:
		return fmt.Errorf("node %d did not resume the IKE SA", c.newOwn.id)
	case st.Global.EncryptedPackets == 0 || st.Global.DecryptedPackets == 0:
		return fmt.Errorf("node %d carried no traffic", c.newOwn.id)
	}
	c.step("the transfer completed on node %d on the same IKE SA: no new negotiation", c.newOwn.id)
	return nil
}

// show prints the IKE and IPsec SAs of Peer2 and of the new owner.
func (c *clusterRun) show() {
	now := time.Now()
	for _, g := range []struct {
		name string
		d    *daemon.Daemon
	}{{"Peer2", c.peer2.d}, {fmt.Sprintf("node%d", c.newOwn.id), c.newOwn.daemon()}} {
		v := view.Build(g.d.Status(), g.d.Config(), now)
		c.commandAs(g.name, "show security ike security-associations", show.IKESecurityAssociations(v.IKE, show.IKEQuery{}))
		c.commandAs(g.name, "show security ipsec security-associations", show.IPsecSecurityAssociations(v.IPsec, show.IPsecQuery{}))
	}
}
