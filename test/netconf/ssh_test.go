package netconf

import (
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sshArgs is the OpenSSH client's command line, in the client namespace,
// logging in as user with the lab's key.
func (l *lab) sshArgs(user string, extra ...string) []string {
	args := []string{"netns", "exec", l.net.Name("client"), "ssh", "-i", l.key, "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + filepath.Join(l.dir, "known_hosts"),
		"-o", "ConnectTimeout=10"}
	args = append(args, extra...)
	return append(args, user+"@"+gw1Address)
}

// expect is an interactive session's output, read as it comes.
type expect struct {
	t   *testing.T
	mu  sync.Mutex
	buf strings.Builder
	pos int // what waitFor already matched
}

func (e *expect) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.buf.Write(p)
}

// waitFor waits (bounded) until s appears after the previous match.
func (e *expect) waitFor(s string) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		e.mu.Lock()
		all := e.buf.String()
		e.mu.Unlock()
		if i := strings.Index(all[e.pos:], s); i >= 0 {
			e.pos += i + len(s)
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("waiting for %q; the session printed:\n%s", s, all)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOpenSSH: the OpenSSH client logs in with a key and lands in the CLI
// in a pty (Tab completes, ? helps, configure, show | compare, commit);
// with a command it runs that one command; a read-only user is refused a
// change.
func TestOpenSSH(t *testing.T) {
	l := newLab(t)

	// One command, as "ssh user@gw COMMAND".
	out, err := exec.Command("ip", append(l.sshArgs("alice"), "show version")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Hostname: gw1") {
		t.Fatalf("ssh alice@gw1 show version: %v\n%s\n%s", err, out, l.log(l.gw1))
	}
	// A read-only user may look, not change.
	out, err = exec.Command("ip", append(l.sshArgs("bob"), "show configuration system host-name")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "host-name gw1;") {
		t.Errorf("bob's show configuration: %v\n%s", err, out)
	}
	out, err = exec.Command("ip", append(l.sshArgs("bob"), "configure; set system host-name by-bob; commit")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "error: permission denied") {
		t.Errorf("bob's change: %v\n%s", err, out)
	}
	if got := l.cli("show configuration system host-name"); !strings.Contains(got, "host-name gw1;") {
		t.Errorf("bob changed the configuration: %s", got)
	}

	// The CLI in a pty.
	cmd := exec.Command("ip", l.sshArgs("alice", "-tt")...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	e := &expect{t: t}
	cmd.Stdout, cmd.Stderr = e, e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// done is closed once ssh has exited.
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("ssh (pid %d) did not end when killed", cmd.Process.Pid)
			}
		}
	}()
	send := func(s string) {
		if _, err := io.WriteString(stdin, s); err != nil {
			t.Fatalf("writing %q: %v", s, err)
		}
	}
	e.waitFor("alice@gw1> ")
	send("show secu\t")
	e.waitFor("show security ")
	send("?")
	e.waitFor("ike")
	send("\x15") // Ctrl-U: the line is abandoned
	send("show version\r")
	e.waitFor("Hostname: gw1")
	e.waitFor("alice@gw1> ")
	send("configure\r")
	e.waitFor("[edit]")
	e.waitFor("alice@gw1# ")
	send("set system host-name gw1-ssh\r")
	e.waitFor("alice@gw1# ")
	send("show | compare\r")
	e.waitFor("+   host-name gw1-ssh;")
	send("commit\r")
	e.waitFor("commit complete")
	send("exit\r")
	e.waitFor("Exiting configuration mode")
	e.waitFor("> ")
	send("exit\r")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the session did not end after exit:\n%s", e.buf.String())
	}
	if got := l.cli("show configuration system host-name"); !strings.Contains(got, "host-name gw1-ssh;") {
		t.Errorf("the commit over SSH did not reach the configuration: %s", got)
	}
	if log := l.log(l.gw1); !strings.Contains(log, "method=publickey") {
		t.Errorf("the key login is not logged:\n%s", log)
	}
}
