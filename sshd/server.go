// Package sshd is ipsecgw's SSH door: "ssh user@gateway" lands in the Junos
// CLI (the cli package over the SSH channel), "ssh user@gateway COMMAND"
// runs one command, and the "netconf" subsystem (on the NETCONF port,
// system services netconf ssh, and on the SSH port) speaks NETCONF.
//
// Like the CLI, it is only a client of the management API: the users, the
// ports and the host name come from the committed configuration read
// through the API (re-read at every commit), and every session's requests
// go through the API with the permissions of the user's login class
// (package access).
package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/netconf"
)

// Options configure a Server.
type Options struct {
	// StateDir holds the host key (generated there the first time).
	StateDir string
	// API is the connection to the daemon's management API.
	API grpc.ClientConnInterface
	// Address is the address the services listen on ("" for every
	// address of the host, as Junos does).
	Address string
	Log     *slog.Logger
	// FailDelay is how long a failed password waits before it is
	// answered (2 s when zero).
	FailDelay time.Duration
	// Version is what NETCONF's get-software-information reports.
	Version string
}

// Server runs the SSH and NETCONF services the configuration asks for.
type Server struct {
	opts     Options
	log      *slog.Logger
	hostKey  ssh.Signer
	cfg      mgmtpb.ConfigClient
	op       mgmtpb.OperationalClient
	netconf  *netconf.Server
	failures failures
	sleep    func(time.Duration)

	sys atomic.Pointer[systemState]
	// handshakes bounds the connections still logging in: a flood of
	// connections that never authenticate cannot take every goroutine
	// and file descriptor.
	handshakes chan struct{}

	mu        sync.Mutex
	listeners map[string]*listener // by service: "ssh", "netconf"
	conns     map[*ssh.ServerConn]struct{}
	wg        sync.WaitGroup
}

// systemState is the part of the committed configuration the doors use.
type systemState struct {
	hostName string
	sys      schema.System
}

type listener struct {
	port int
	ln   net.Listener
}

// New prepares a server: it loads (or creates) the host key.
func New(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.FailDelay == 0 {
		opts.FailDelay = 2 * time.Second
	}
	key, err := LoadHostKey(opts.StateDir)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Log, hostKey: key,
		cfg: mgmtpb.NewConfigClient(opts.API), op: mgmtpb.NewOperationalClient(opts.API),
		failures: newFailures(), sleep: time.Sleep, handshakes: make(chan struct{}, maxHandshakes),
		listeners: map[string]*listener{}, conns: map[*ssh.ServerConn]struct{}{}}
	s.netconf = netconf.NewServer(netconf.Options{API: opts.API, Log: opts.Log, HostName: s.hostName, Version: opts.Version})
	s.sys.Store(&systemState{})
	return s, nil
}

// Collector is the failed-login counter, for the metrics registry.
func (s *Server) Collector() prometheus.Collector { return s.failures.c }

func (s *Server) system() *schema.System { return &s.sys.Load().sys }

// hostName is the configured host name, else the machine's.
func (s *Server) hostName() string {
	if h := s.sys.Load().hostName; h != "" {
		return h
	}
	return "ipsecgw"
}

// Run follows the committed configuration (users, ports) until ctx is
// done, then closes the listeners and every session.
func (s *Server) Run(ctx context.Context) error {
	defer s.shutdown()
	for {
		err := s.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.log.Debug("ssh: waiting for the API", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// follow reads the configuration, then again at every commit, until the
// event stream ends.
func (s *Server) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := s.op.Events(ctx, &mgmtpb.EventsRequest{})
	if err != nil {
		return err
	}
	// The stream is open once its headers came: no commit after this
	// reload can be missed.
	if _, err := events.Header(); err != nil {
		return err
	}
	if err := s.reload(ctx); err != nil {
		return err
	}
	for {
		ev, err := events.Recv()
		if err != nil {
			return err
		}
		if ev.Type == mgmtpb.EventType_CONFIG_COMMITTED {
			if err := s.reload(ctx); err != nil {
				return err
			}
		}
	}
}

// reload reads "system" from the committed configuration and opens or
// closes the listeners to match.
func (s *Server) reload(ctx context.Context) error {
	st, err := readSystem(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.sys.Store(st)
	want := map[string]int{}
	if st.sys.SSH != nil {
		want["ssh"] = st.sys.SSH.Port
	}
	if st.sys.NETCONF != nil {
		want["netconf"] = st.sys.NETCONF.Port
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for svc, l := range s.listeners {
		if want[svc] != l.port {
			l.ln.Close()
			delete(s.listeners, svc)
			s.log.Info("service stopped", "service", svc, "port", l.port)
		}
	}
	for svc, port := range want {
		if _, ok := s.listeners[svc]; ok {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(s.opts.Address, strconv.Itoa(port)))
		if err != nil {
			s.log.Error("service cannot listen", "service", svc, "port", port, "err", err)
			continue
		}
		s.listeners[svc] = &listener{port: port, ln: ln}
		s.log.Info("service listening", "service", svc, "address", ln.Addr().String())
		s.wg.Add(1)
		go s.accept(svc, ln)
	}
	return nil
}

// readSystem builds the typed "system" of the committed configuration.
func readSystem(ctx context.Context, c mgmtpb.ConfigClient) (*systemState, error) {
	r, err := c.Show(ctx, &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_COMMITTED, Path: []string{"system"}, Format: mgmtpb.ConfigFormat_SET})
	if err != nil {
		return nil, err
	}
	t, err := config.ParseSet("committed", []byte(r.Text), nil)
	if err != nil {
		return nil, fmt.Errorf("committed system configuration: %w", err)
	}
	m, err := schema.Build(t, schema.Options{})
	if err != nil {
		return nil, fmt.Errorf("committed system configuration: %w", err)
	}
	return &systemState{hostName: m.HostName, sys: m.System}, nil
}

// Addr is the address service ("ssh" or "netconf") listens on, if it does.
func (s *Server) Addr(service string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.listeners[service]; ok {
		return l.ln.Addr()
	}
	return nil
}

// maxHandshake bounds how long a connection may take to log in, and
// maxHandshakes how many may be logging in at once.
const (
	maxHandshake  = 30 * time.Second
	maxHandshakes = 32
)

func (s *Server) accept(service string, ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept", "service", service, "err", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(service, c)
		}()
	}
}

func (s *Server) serveConn(service string, c net.Conn) {
	select {
	case s.handshakes <- struct{}{}:
	default:
		s.log.Warn("too many connections logging in; refused", "service", service, "from", c.RemoteAddr().String())
		c.Close()
		return
	}
	a := &attempt{}
	c.SetDeadline(time.Now().Add(maxHandshake))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.serverConfig(service, a))
	<-s.handshakes
	if err != nil {
		c.Close()
		var authErr *ssh.ServerAuthError
		if errors.As(err, &authErr) || a.user != "" {
			if a.passwords == 0 {
				// Only keys (or nothing) were tried: one failed login.
				s.failures.inc(service, "publickey")
			}
			s.log.Warn("login refused", "service", service, "user", a.user, "from", c.RemoteAddr().String(),
				"failed-passwords", a.passwords, "refused-keys", a.keys)
		}
		return
	}
	c.SetDeadline(time.Time{})
	s.mu.Lock()
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, sc)
		s.mu.Unlock()
		sc.Close()
	}()
	user := sc.Permissions.Extensions[userExtension]
	s.log.Info("login", "service", service, "user", user, "method", sc.Permissions.Extensions[methodExtension], "from", c.RemoteAddr().String())
	go ssh.DiscardRequests(reqs)
	s.serveChannels(service, sc, chans, user)
}

func (s *Server) shutdown() {
	s.mu.Lock()
	for _, l := range s.listeners {
		l.ln.Close()
	}
	s.listeners = map[string]*listener{}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
