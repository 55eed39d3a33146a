package daemon

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ipsecgw/cluster/etcdtest"
	"ipsecgw/config"
	"ipsecgw/config/store"
	"ipsecgw/netio"
)

const clusterConfig = `set groups node1 system host-name gw1
set groups node1 interfaces eth1 unit 0 family inet address 192.0.2.1/24
set groups node2 system host-name gw2
set groups node2 interfaces eth1 unit 0 family inet address 192.0.2.2/24
set apply-groups "${node}"
set chassis high-availability lease-ttl 6
set chassis high-availability node 1 address 192.0.2.1
set chassis high-availability node 2 address 192.0.2.2
set chassis high-availability services-redundancy-group 1 virtual-ip 1 ip 192.0.2.10/24
set chassis high-availability services-redundancy-group 1 virtual-ip 1 interface eth1
set chassis high-availability services-redundancy-group 1 node 1 activeness-priority 200
set chassis high-availability services-redundancy-group 1 node 2 activeness-priority 100
set chassis high-availability services-redundancy-group 1 preemption
set interfaces st0 unit 1 family inet
set routing-options static route 198.18.9.0/24 next-hop st0.1
set security ike policy p proposal-set standard
set security ike policy p pre-shared-key ascii-text "secret-for-test"
set security ike gateway g ike-policy p
set security ike gateway g address 192.0.2.9
set security ike gateway g local-address 192.0.2.10
set security ipsec policy ip proposal-set standard
set security ipsec vpn v bind-interface st0.1
set security ipsec vpn v ike gateway g
set security ipsec vpn v ike ipsec-policy ip
set security ipsec vpn v establish-tunnels responder-only
`

// runsGroup reports whether d runs SRG 1: the virtual IP among its
// addresses, the VPN on it, its st0 unit and route.
func runsGroup(d *Daemon) bool {
	cfg := d.Config()
	vip, vpn, route := false, false, false
	for _, ifc := range cfg.Interfaces {
		for _, u := range ifc.Units {
			for _, a := range u.Addresses {
				vip = vip || ifc.HostName == "eth1" && a == netip.MustParsePrefix("192.0.2.10/24")
			}
		}
	}
	for _, v := range cfg.IPsec.VPNs {
		vpn = vpn || v.Name == "v"
	}
	for _, r := range cfg.Routes {
		route = route || r.Prefix == netip.MustParsePrefix("198.18.9.0/24")
	}
	if vip != vpn || vpn != route {
		panic(fmt.Sprintf("half a group: vip %v vpn %v route %v", vip, vpn, route))
	}
	return vip
}

// Two daemons on one etcd: node 1 seeds the cluster's configuration, node
// 2 starts without one and takes it; the preferred node 1 owns the group
// and runs its VPN, node 2 does not; a commit on node 2 reaches node 1;
// node 1 leaves and node 2 runs the group.
func TestClusterOfTwoDaemons(t *testing.T) {
	srv, err := etcdtest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	network := netio.NewMemNetwork()
	start := func(id int, file string) *Daemon {
		dir := t.TempDir()
		if file != "" {
			os.WriteFile(filepath.Join(dir, "gw.conf"), []byte(file), 0o600)
			file = filepath.Join(dir, "gw.conf")
		}
		h, err := NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", id)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Start(Options{ConfigFile: file, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler),
			ClusterEtcd: []string{srv.Endpoint}, NodeID: id})
		if err != nil {
			t.Fatalf("node %d: %v", id, err)
		}
		return d
	}
	d1 := start(1, clusterConfig)
	stopped1 := false
	defer func() {
		if !stopped1 {
			d1.Stop()
		}
	}()
	d2 := start(2, "")
	defer d2.Stop()
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: node 1 %+v, node 2 %+v", what, d1.Config().HA, d2.Config().HA)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if d2.Config().HostName != "gw2" || d1.Config().HostName != "gw1" {
		t.Fatalf("${node}: %q %q", d1.Config().HostName, d2.Config().HostName)
	}
	wait("node 1 runs the group", func() bool { return runsGroup(d1) && !runsGroup(d2) })

	// A commit on node 2 is in effect on node 1.
	err = d2.Store().Edit(func(e *config.Editor) error {
		return e.LoadSet(e.Tree.Root, "cli", []byte("set groups node1 system host-name gw1-renamed\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Store().Commit(store.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("node 1 runs the commit made on node 2", func() bool { return d1.Config().HostName == "gw1-renamed" })

	info, err := d2.ClusterInfo(t.Context())
	if err != nil || len(info.Status.Members) != 2 || info.Status.Owners[1] != 1 {
		t.Fatalf("cluster info: %+v %v", info, err)
	}

	d1.Stop()
	stopped1 = true
	wait("node 2 runs the group after node 1 left", func() bool { return runsGroup(d2) })
	if to, err := d2.Failover(t.Context(), 1); err == nil {
		t.Fatalf("failover with no other node went to %d", to)
	}
}
