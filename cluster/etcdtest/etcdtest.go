// Package etcdtest runs a one-member etcd inside the process, on 127.0.0.1
// ports the kernel picks and a temporary directory: for the tests of
// package cluster and for the cluster demo. Nothing here is a stand-in:
// it is etcd's own server (go.etcd.io/etcd/server/v3/embed).
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running embedded etcd.
type Server struct {
	etcd *embed.Etcd
	dir  string
	// Endpoint is the client URL, http://127.0.0.1:PORT.
	Endpoint string
}

// Start starts a member with its data in a new directory under dir ("":
// the system's temporary directory). Its ports are chosen by listening on
// port 0, so tests running at the same time do not collide.
func Start(dir string) (*Server, error) {
	data, err := os.MkdirTemp(dir, "etcd-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		os.RemoveAll(data)
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "ipsecgw-test"
	cfg.Dir = data
	// etcd's own log would drown the test output; its errors surface
	// through StartEtcd and the clients.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0])}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		os.RemoveAll(data)
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		os.RemoveAll(data)
		return nil, fmt.Errorf("embedded etcd: not ready after 30s")
	}
	return &Server{etcd: e, dir: data, Endpoint: client.String()}, nil
}

// Stop stops the member and removes its data.
func (s *Server) Stop() {
	s.etcd.Close()
	os.RemoveAll(s.dir)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
