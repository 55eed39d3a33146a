package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"ipsecgw/bench/lab"
)

// nsPrefix starts every namespace this benchmark creates; the PID after
// it lets a later run remove what a killed run left.
const nsPrefix = "igwbcl-"

// topology is one step's namespaces, all on bridge br0 in lan, and the
// processes started in them, stopped (by PID, last first) before the
// namespaces go.
type topology struct {
	*lab.Namespaces
	l     layout
	dir   string
	procs []*lab.Process
	etcd  *lab.Process // among procs, stopped last
}

func nodeNS(i int) string { return fmt.Sprintf("n%d", i) }

// newTopology builds the namespaces e1, n1..nN, gen and peer, each with
// eth1 on the bridge; on error it removes what it made.
func newTopology(ctx context.Context, l layout, dir string) (*topology, error) {
	names := []string{"lan", "e1", "gen", "peer"}
	for i := 1; i <= l.nodes; i++ {
		names = append(names, nodeNS(i))
	}
	n, err := lab.New(ctx, "bench cluster", nsPrefix, names...)
	if err != nil {
		return nil, err
	}
	t := &topology{Namespaces: n, l: l, dir: dir}
	if err := t.build(ctx); err != nil {
		t.destroy()
		return nil, err
	}
	return t, nil
}

func (t *topology) build(ctx context.Context) error {
	if _, err := t.Exec(ctx, "lan", "ip", "link", "add", "br0", "type", "bridge"); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, "lan", "ip", "link", "set", "br0", "up"); err != nil {
		return err
	}
	ends := []struct{ ns, addr string }{{"e1", etcdAddr}, {"gen", genAddr(1).String()}, {"peer", peerAddr(1).String()}}
	for i := 1; i <= t.l.nodes; i++ {
		ends = append(ends, struct{ ns, addr string }{nodeNS(i), nodeAddr(i).String()})
	}
	for _, e := range ends {
		port := "p-" + e.ns
		if err := t.Link(ctx, e.ns, "eth1", e.addr+"/24", "lan", port, ""); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, "lan", "ip", "link", "set", port, "master", "br0"); err != nil {
			return err
		}
	}
	// One address per group for the generator and the peer (a responder
	// tells its peers apart by address).
	for k := 2; k <= t.l.srgs; k++ {
		if err := t.AddAddress(ctx, "gen", "eth1", genAddr(k).String()+"/24"); err != nil {
			return err
		}
		if err := t.AddAddress(ctx, "peer", "eth1", peerAddr(k).String()+"/24"); err != nil {
			return err
		}
	}
	return nil
}

// start starts a long-running program in ns, logging to dir/name.log; it
// is stopped when the step ends.
func (t *topology) start(ns, name string, args ...string) (*lab.Process, error) {
	p, err := lab.Start(t.Namespaces, ns, name, filepath.Join(t.dir, strings.ReplaceAll(name, " ", "-")+".log"), lab.Options{}, args...)
	if err != nil {
		return nil, err
	}
	t.procs = append(t.procs, p)
	return p, nil
}

// destroy stops every process, then removes the namespaces. The nodes,
// the peer and iperf3 get SIGTERM at once (one by one, each survivor would
// take over the groups of the node stopped before it, thousands of SAs at
// a time), and etcd goes last, so that the nodes can leave cleanly.
// Problems are warnings on stderr: the cleanup goes on.
func (t *topology) destroy() {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, p := range t.procs {
		if p == t.etcd {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := stop(p); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.etcd != nil {
		if err := stop(t.etcd); err != nil {
			errs = append(errs, err)
		}
	}
	t.procs, t.etcd = nil, nil
	t.Destroy()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "bench cluster: warning: cleanup: %v\n", err)
	}
}

// stop stops p; one that already ended cleanly (an iperf3 server run
// with -1) is not an error, nor is dying of the SIGTERM sent (etcd
// raises it again once it has shut down).
func stop(p *lab.Process) error {
	if p.Exited() && p.Err() == nil {
		return nil
	}
	err := p.Stop()
	var exit *exec.ExitError
	if err != nil && errors.As(p.Err(), &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return err
}
