package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/ssh"

	"ipsecgw/config/schema"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/mgmt/mgmttest"
)

// The hash of "secret123" made by OpenSSL (openssl passwd -6 -salt
// saltsalt secret123): an implementation independent of the one used here.
const secret123 = "$6$saltsalt$4wxWeHqpAHNNJcQMSu6jvr3dQTQoGoqMQhPAP0o5Ygzna6vr4y0u6.EZzboAAqg6dXU4q/OfcYqdrvZixR76r0"

func TestCheckPassword(t *testing.T) {
	u := &schema.User{Name: "alice", PasswordHash: secret123}
	if !checkPassword(u, []byte("secret123")) {
		t.Error("OpenSSL's hash does not match its password")
	}
	for _, wrong := range []string{"", "secret12", "secret1234", "Secret123"} {
		if checkPassword(u, []byte(wrong)) {
			t.Errorf("%q matches", wrong)
		}
	}
	if checkPassword(&schema.User{Name: "keyonly"}, []byte("")) || checkPassword(nil, []byte("secret123")) {
		t.Error("a user without a password, or no user, logs in")
	}
}

func TestHostKeyPersists(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, HostKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v %v", fi.Mode(), err)
	}
	k2, err := LoadHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.PublicKey().Marshal(), k2.PublicKey().Marshal()) {
		t.Error("a second start made a new host key")
	}
}

// testServer runs a daemon in memory with users alice (super-user, the
// password secret123 and key) and bob (read-only, same password).
func testServer(t *testing.T) (*Server, ssh.Signer, *mgmttest.API) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	api := mgmttest.Start(t, `set system host-name gw1
set system login user alice class super-user
set system login user alice authentication encrypted-password "`+secret123+`"
set system login user alice authentication ssh-ed25519 "`+pub+`"
set system login user bob class read-only
set system login user bob authentication encrypted-password "`+secret123+`"
`)
	s, err := New(Options{StateDir: t.TempDir(), API: api.Conn, Log: slog.New(slog.DiscardHandler), FailDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, signer, api
}

// connect logs in to service over a unix socket pair (buffered, unlike
// net.Pipe: both ends of SSH write their version at once).
func connect(t *testing.T, s *Server, service, user string, auth ssh.AuthMethod) (*ssh.Client, error) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	go s.serveConn(service, &pipeAddr{b})
	c, chans, reqs, err := ssh.NewClientConn(a, "gw1", &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(s.hostKey.PublicKey())})
	if err != nil {
		a.Close()
		return nil, err
	}
	client := ssh.NewClient(c, chans, reqs)
	t.Cleanup(func() { client.Close() })
	return client, nil
}

// pipeAddr gives a socket pair a TCP-looking remote address, as the log expects.
type pipeAddr struct{ net.Conn }

func (pipeAddr) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(198, 51, 100, 2), Port: 40000}
}

func run(t *testing.T, c *ssh.Client, cmd string) (string, error) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	return string(out), err
}

func TestExecWithPasswordAndKey(t *testing.T) {
	s, key, api := testServer(t)
	c, err := connect(t, s, "ssh", "alice", ssh.Password("secret123"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, c, "show version"); err != nil || !strings.Contains(out, "Hostname: gw1") {
		t.Errorf("show version: %v %q", err, out)
	}
	c, err = connect(t, s, "ssh", "alice", ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, c, "configure; set system host-name gw9; commit"); err != nil || !strings.Contains(out, "commit complete") {
		t.Errorf("a change by alice: %v %q", err, out)
	}
	if out, _ := run(t, c, "show configuration system host-name"); !strings.Contains(out, "host-name gw9;") {
		t.Errorf("after alice's commit: %q", out)
	}
	r, err := mgmtpb.NewConfigClient(api.Conn).Rollbacks(context.Background(), &mgmtpb.RollbacksRequest{})
	if err != nil || len(r.Rollbacks) == 0 || r.Rollbacks[0].User != "alice" {
		t.Errorf("the commit is not recorded under alice's name: %v %v", r, err)
	}
}

func TestReadOnlyUser(t *testing.T) {
	s, _, _ := testServer(t)
	c, err := connect(t, s, "ssh", "bob", ssh.Password("secret123"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, c, "configure; set system host-name by-bob")
	var exit *ssh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(out, "error: permission denied") {
		t.Errorf("bob's set: %v %q", err, out)
	}
	if out, _ := run(t, c, "clear security ike security-associations"); !strings.Contains(out, "permission denied") {
		t.Errorf("bob's clear: %q", out)
	}
	if out, err := run(t, c, "show configuration system host-name"); err != nil || !strings.Contains(out, "host-name gw1;") {
		t.Errorf("bob's show: %v %q", err, out)
	}
}

// TestFailedLoginsCounted: each failed login is counted by service and
// method, logged with the source address (and never the password tried),
// and a wrong password costs the client the fail delay.
func TestFailedLoginsCounted(t *testing.T) {
	s, _, _ := testServer(t)
	var mu sync.Mutex
	var logged bytes.Buffer
	var delays []time.Duration
	s.log = slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, nil))
	s.sleep = func(d time.Duration) { mu.Lock(); delays = append(delays, d); mu.Unlock() }
	for _, user := range []string{"alice", "mallory"} {
		if _, err := connect(t, s, "netconf", user, ssh.Password("guess")); err == nil {
			t.Fatalf("%s logged in with a wrong password", user)
		}
	}
	if n := testutil.ToFloat64(s.failures.c.WithLabelValues("netconf", "password")); n != 2 {
		t.Errorf("failed passwords counted: %v, want 2", n)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(other)
	if _, err := connect(t, s, "ssh", "alice", ssh.PublicKeys(signer)); err == nil {
		t.Fatal("an unknown key logged in")
	}
	// serveConn counts a refused key after the client gave up.
	for deadline := time.Now().Add(10 * time.Second); testutil.ToFloat64(s.failures.c.WithLabelValues("ssh", "publickey")) != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("failed key logins counted: %v, want 1", testutil.ToFloat64(s.failures.c.WithLabelValues("ssh", "publickey")))
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(delays) != 2 || delays[0] != s.opts.FailDelay || delays[1] != s.opts.FailDelay {
		t.Errorf("wrong passwords were delayed %v, want twice %v", delays, s.opts.FailDelay)
	}
	log := logged.String()
	for _, want := range []string{"user=alice method=password from=198.51.100.2:40000 reason=\"wrong password\"",
		"user=mallory method=password from=198.51.100.2:40000 reason=\"no such user\""} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "guess") {
		t.Errorf("the password tried reached the log:\n%s", log)
	}
}

// lockedWriter serialises writes from the server's goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestShellInPty(t *testing.T) {
	s, key, _ := testServer(t)
	c, err := connect(t, s, "ssh", "alice", ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 40, 120, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	var out bytes.Buffer
	sess.Stdout = &out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := sess.WindowChange(50, 132); err != nil {
		t.Errorf("window-change: %v", err)
	}
	io.WriteString(in, "show version\r")
	io.WriteString(in, "\x1b[A\r") // the up arrow: the last line again, from the history
	io.WriteString(in, "exit\r")
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shell: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the shell did not end on exit")
	}
	if !strings.Contains(out.String(), "alice@gw1> ") || strings.Count(out.String(), "Hostname: gw1\r\n") != 2 {
		t.Errorf("shell output (show version, then again from the history): %q", out.String())
	}
}

func TestNETCONFPortOffersOnlyNETCONF(t *testing.T) {
	s, key, _ := testServer(t)
	c, err := connect(t, s, "netconf", "alice", ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := c.NewSession()
	if err := sess.Run("show version"); err == nil {
		t.Error("exec on the NETCONF port")
	}
	sess, _ = c.NewSession()
	if err := sess.RequestSubsystem("netconf"); err != nil {
		t.Fatalf("netconf subsystem: %v", err)
	}
}
