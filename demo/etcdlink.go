package demo

import (
	"io"
	"net"
	"net/url"
	"sync"
)

// etcdLink is one cluster node's connection to the embedded etcd: a TCP
// forwarder on a 127.0.0.1 port the kernel picks, so that killing the
// node can cut it at once, as the death of its process would close its
// connections. Each node has its own.
type etcdLink struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

// newEtcdLink forwards to the etcd client URL target (http://host:port).
func newEtcdLink(target string) (*etcdLink, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	target = u.Host
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &etcdLink{l: l, target: target}
	e.wg.Add(1)
	go e.accept()
	return e, nil
}

// url is the endpoint the node dials.
func (e *etcdLink) url() string { return "http://" + e.l.Addr().String() }

func (e *etcdLink) accept() {
	defer e.wg.Done()
	for {
		c, err := e.l.Accept()
		if err != nil {
			return
		}
		e.mu.Lock()
		if e.cut {
			e.mu.Unlock()
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", e.target)
		if err != nil {
			e.mu.Unlock()
			c.Close()
			continue
		}
		e.conns = append(e.conns, c, u)
		e.wg.Add(2)
		e.mu.Unlock()
		go func() { defer e.wg.Done(); io.Copy(u, c); u.Close() }()
		go func() { defer e.wg.Done(); io.Copy(c, u); c.Close() }()
	}
}

// sever closes every connection and refuses new ones from now on.
func (e *etcdLink) sever() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cut = true
	for _, c := range e.conns {
		c.Close()
	}
	e.conns = nil
}

// close severs the link and waits for its goroutines.
func (e *etcdLink) close() {
	e.sever()
	e.l.Close()
	e.wg.Wait()
}
