package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
)

// BenchmarkDPDWrites measures what keeping IKE SA state in etcd costs
// with dead peer detection on: 1,000 IKEv2 tunnels between a group owner
// (one engine on the virtual IP) and 1,000 peers (an engine each), DPD
// always-send every 2 s on both sides, every request of the owner recorded
// in the embedded etcd by the RequestLog before it goes out. It reports
// etcd records written and transactions per second per 1,000 tunnels, and
// the requests lost (must be 0). The peers' probes cost nothing: a
// survivor catches up on their IDs (doc.go). Run it with
//
//	go test -run '^$' -bench DPDWrites -benchtime 1x ./cluster/
//
// IPSECGW_BENCH_DPD=10 measures at the Junos default interval (slower:
// the window is five intervals).
func BenchmarkDPDWrites(b *testing.B) {
	const tunnels = 1000
	dpd := 2 * time.Second
	if s, err := strconv.Atoi(os.Getenv("IPSECGW_BENCH_DPD")); err == nil && s > 0 {
		dpd = time.Duration(s) * time.Second
	}
	window := 5 * dpd
	cli, err := Dial([]string{etcdURL})
	if err != nil {
		b.Fatal(err)
	}
	_, err = cli.Delete(context.Background(), prefix, clientv3.WithPrefix())
	cli.Close()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	node, err := Join(ctx, Options{Endpoints: []string{etcdURL}, NodeID: 1, LeaseTTL: 6 * time.Second, Logger: testLogger()})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	defer node.Close()
	node.SetGroups([]*schema.SRG{srg(1, false, map[int]int{1: 200})})
	for deadline := time.Now().Add(10 * time.Second); len(node.Owned()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the node does not own the group")
		}
	}
	store, err := NewSAStore(node.Client(), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		b.Fatal(err)
	}
	vip := netip.MustParseAddr("198.51.100.10")
	net := &benchNet{engines: map[netip.Addr]*ikev2.Engine{}}
	reqs := NewRequestLog(store, net, func(a netip.Addr) (int, int64, bool) {
		tok, ok := node.Owned()[1]
		return 1, tok, ok && a == vip
	}, testLogger())
	rctx, stop := context.WithCancel(context.Background())
	defer stop()
	go reqs.Run(rctx)

	tmpl := benchPeer(b, dpd)
	owner := ikev2.NewEngine(ike.Config{Transport: reqs, Installer: &benchInstaller{}})
	net.add(vip, owner)
	for i := range tunnels {
		remote := netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(1 + i%250)})
		p := *tmpl
		p.Local, p.Remote, p.Gateway = vip, remote, fmt.Sprintf("gw%d", i)
		owner.AddPeer(&p)
		q := *tmpl
		q.Local, q.Remote, q.Gateway = remote, vip, "owner"
		peer := ikev2.NewEngine(ike.Config{Transport: net, Installer: &benchInstaller{}})
		peer.AddPeer(&q)
		net.add(remote, peer)
		defer peer.Close()
	}
	defer owner.Close()
	for i := range tunnels {
		owner.Initiate(netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(1 + i%250)}))
	}
	up := func() int {
		n := 0
		for _, sa := range owner.SAs() {
			if sa.State == "UP" {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(60 * time.Second); up() < tunnels; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d tunnels up", up(), tunnels)
		}
	}
	b.ResetTimer()
	for range b.N {
		w0, t0 := reqs.Stats()
		time.Sleep(window)
		w1, t1 := reqs.Stats()
		per := float64(time.Second) / float64(window) * 1000 / tunnels
		b.ReportMetric(float64(w1-w0)*per, "etcd-writes/s/1000-tunnels")
		b.ReportMetric(float64(t1-t0)*per, "etcd-txns/s/1000-tunnels")
	}
	b.StopTimer()
	if n := up(); n != tunnels {
		b.Fatalf("%d of %d tunnels still up: DPD requests were lost", n, tunnels)
	}
}

// benchPeer is an IKEv2 peer with DPD always-send at interval every.
func benchPeer(b *testing.B, every time.Duration) *ike.Peer {
	src := fmt.Sprintf(`set interfaces st0 unit 1 family inet
set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group group19
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm aes-256-gcm
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "bench"
set security ike gateway gw ike-policy pol
set security ike gateway gw address 198.18.0.1
set security ike gateway gw version v2-only
set security ike gateway gw dead-peer-detection always-send
set security ike gateway gw dead-peer-detection interval %d
set security ipsec proposal ip1 protocol esp
set security ipsec proposal ip1 encryption-algorithm aes-256-gcm
set security ipsec policy ipol proposals ip1
set security ipsec vpn vpn1 bind-interface st0.1
set security ipsec vpn vpn1 ike gateway gw
set security ipsec vpn vpn1 ike ipsec-policy ipol
`, int(every/time.Second))
	tr, err := config.Parse("bench.conf", []byte(src), nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := resolve.Peer(cfg.IPsec.VPNs[0], netip.MustParseAddr("198.51.100.10"))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchNet hands each message to the engine of its destination, on a
// goroutine (an engine sending while it handles must not re-enter itself).
type benchNet struct {
	mu      sync.Mutex
	engines map[netip.Addr]*ikev2.Engine
}

func (n *benchNet) add(a netip.Addr, e *ikev2.Engine) {
	n.mu.Lock()
	n.engines[a] = e
	n.mu.Unlock()
}

func (n *benchNet) Send(msg []byte, from, to netip.AddrPort) error {
	n.mu.Lock()
	e := n.engines[to.Addr()]
	n.mu.Unlock()
	if e != nil {
		b := append([]byte(nil), msg...)
		go e.HandleMessage(b, from, to)
	}
	return nil
}

// benchInstaller installs nothing: the benchmark measures IKE's side.
type benchInstaller struct{ next atomic.Uint32 }

func (i *benchInstaller) AllocateSPI() (uint32, error)            { return 0x1000 + i.next.Add(1), nil }
func (i *benchInstaller) InstallChild(string, *ike.ChildSA) error { return nil }
func (i *benchInstaller) RemoveChild(string, *ike.ChildSA)        {}
