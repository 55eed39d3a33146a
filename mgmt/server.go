// Package mgmt is the management API of a running daemon: the gRPC
// services of mgmtpb on a unix socket only the daemon's owner can open. It
// is the one door into the daemon: the CLI and any automation use it, and
// every change it makes goes through the configuration store's commit (the
// daemon applies it as a typed diff on its own goroutine) or the daemon's
// clear commands.
package mgmt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"ipsecgw/daemon"
	"ipsecgw/mgmt/mgmtpb"
)

// Server serves the API for one daemon.
type Server struct {
	d       *daemon.Daemon
	log     *slog.Logger
	version string
	now     func() time.Time
}

// NewServer returns the API of d. version is what "show version" reports.
func NewServer(d *daemon.Daemon, log *slog.Logger, version string) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{d: d, log: log, version: version, now: time.Now}
}

// Register adds both services to g.
func (s *Server) Register(g *grpc.Server) {
	mgmtpb.RegisterConfigServer(g, configService{Server: s})
	mgmtpb.RegisterOperationalServer(g, opService{Server: s})
}

// The two services share the server; each is its own type because both
// have a Show method.
type configService struct {
	mgmtpb.UnimplementedConfigServer
	*Server
}

type opService struct {
	mgmtpb.UnimplementedOperationalServer
	*Server
}

// Serve listens on the unix socket path (owner-only) and serves until ctx
// is done. A stale socket file from an earlier run is replaced; anything
// else at that path is an error.
func (s *Server) Serve(ctx context.Context, path string) error {
	l, err := Listen(path)
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, l, path)
}

// ServeListener serves on l (from Listen) until ctx is done, then removes
// the socket file path.
func (s *Server) ServeListener(ctx context.Context, l net.Listener, path string) error {
	g := grpc.NewServer()
	s.Register(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		// Event streams never end by themselves: stop, not drain.
		stopped := make(chan struct{})
		go func() { g.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(2 * time.Second):
			g.Stop()
		}
	}()
	err := g.Serve(l)
	<-done
	os.Remove(path)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Listen opens the API's unix socket with mode 0600 in a directory of mode
// 0700 at most (created if missing).
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("API socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("API socket: %s exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("API socket: %s is in use (another daemon?)", path)
		}
		os.Remove(path)
	}
	// The socket is created with the umask's mode; narrow it before
	// anyone can connect, then set it exactly.
	old := umask(0o177)
	l, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("API socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("API socket: %w", err)
	}
	return l, nil
}
