package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ipsecgw/cluster/etcdtest"
	"ipsecgw/config/schema"
)

// One embedded etcd serves every test of the package; each test starts
// from an empty /ipsecgw/ and the tests run one at a time.
var etcdURL string

func TestMain(m *testing.M) {
	srv, err := etcdtest.Start("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	etcdURL = srv.Endpoint
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

func client(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// fresh empties the cluster's keys.
func fresh(t *testing.T) {
	t.Helper()
	if _, err := client(t, etcdURL).Delete(context.Background(), prefix, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
}

// event is one ownership change seen by a test node, with when it was
// reported (the callback runs while the node acts on it).
type event struct {
	node int
	Change
	at time.Time
}

type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) add(node int, c Change) {
	r.mu.Lock()
	r.events = append(r.events, event{node, c, time.Now()})
	r.mu.Unlock()
}

// owner returns the node whose last event for srg is a start, or 0.
func (r *recorder) owner(srg int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	owners := map[int]bool{}
	for _, e := range r.events {
		if e.SRG == srg {
			owners[e.node] = e.Owned
		}
	}
	who := 0
	for n, own := range owners {
		if own {
			if who != 0 {
				return -1 // two owners at once
			}
			who = n
		}
	}
	return who
}

func (r *recorder) find(node, srg int, owned bool) (event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		e := r.events[i]
		if e.node == node && e.SRG == srg && e.Owned == owned {
			return e, true
		}
	}
	return event{}, false
}

func join(t *testing.T, id int, endpoint string, rec *recorder, groups []*schema.SRG) *Node {
	t.Helper()
	return joinTTL(t, id, endpoint, rec, groups, 2*time.Second)
}

// joinTTL is join with a lease TTL: tests that do not measure failover
// times use a longer one, so that a loaded machine delaying keepalives
// past 2 s does not move groups under them.
func joinTTL(t *testing.T, id int, endpoint string, rec *recorder, groups []*schema.SRG, ttl time.Duration) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := Join(ctx, Options{
		Endpoints: []string{endpoint}, NodeID: id, LeaseTTL: ttl,
		Logger:   testLogger(),
		OnChange: func(c Change) { rec.add(id, c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	n.SetGroups(groups)
	t.Cleanup(n.Close)
	return n
}

// crash stops n as SIGKILL would: no release, no revoke; its lease runs
// out on the server. A killed node acts for nothing from then on, which
// the recorder is told.
func crash(n *Node, rec *recorder) {
	n.mu.Lock()
	n.closed = true
	for id, tok := range n.owned {
		rec.add(n.opts.NodeID, Change{SRG: id, Token: tok, Reason: "killed"})
	}
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
	n.cli.Close()
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proxy forwards TCP to etcd until cut: a node behind it loses etcd while
// the others keep it.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(func() { l.Close(); p.sever() })
	return p
}

func (p *proxy) url() string { return "http://" + p.l.Addr().String() }

func (p *proxy) sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func testLogger() *slog.Logger {
	if os.Getenv("CLUSTER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
