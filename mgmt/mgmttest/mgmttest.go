// Package mgmttest runs a daemon in memory with its management API on a
// unix socket, for the tests of the API's clients (the SSH and NETCONF
// doors).
package mgmttest

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"ipsecgw/daemon"
	"ipsecgw/mgmt"
	"ipsecgw/netio"
)

// API is a running daemon's API.
type API struct {
	Conn     *grpc.ClientConn
	Socket   string
	StateDir string
	Daemon   *daemon.Daemon
}

// Start runs a daemon with configuration conf (set or brace form) on an
// in-memory host with interface eth1 at 192.0.2.1, serves its API, and
// stops it all when the test ends.
func Start(t testing.TB, conf string) *API {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "gw.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := daemon.NewMemHost(netio.NewMemNetwork(), []string{"eth1"}, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.Start(daemon.Options{ConfigFile: file, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sock := filepath.Join(dir, "run", "api.sock")
	l, err := mgmt.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- mgmt.NewServer(d, nil, "1.2.3").ServeListener(ctx, l, sock) }()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		<-served
		d.Stop()
	})
	return &API{Conn: conn, Socket: sock, StateDir: dir, Daemon: d}
}
