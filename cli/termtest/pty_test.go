package termtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// screen is the CLI process on the far side of a pseudo-terminal: what it
// printed so far, and a read position for expect.
type screen struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File

	mu   sync.Mutex
	raw  []byte
	mark int // offset in plain(raw) up to which expect has consumed

	readDone chan struct{}
	exited   chan struct{}
	waitErr  error
}

// startCLI runs "ipsecgw cli --socket sock" on a new 50x200 terminal. The
// process is killed at cleanup if the test did not end it.
func startCLI(t *testing.T, bin, sock string) *screen {
	t.Helper()
	cmd := exec.Command(bin, "cli", "--socket", sock)
	cmd.Env = []string{"TERM=xterm", "USER=root", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("start %s in a pty: %v", bin, err)
	}
	s := &screen{t: t, cmd: cmd, ptmx: ptmx, readDone: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(s.readDone)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.raw = append(s.raw, buf[:n]...)
				s.mu.Unlock()
			}
			if err != nil {
				return // EIO once the process is gone and the slave closed
			}
		}
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				t.Errorf("cli process %d did not die", cmd.Process.Pid)
			}
		}
		ptmx.Close()
		<-s.readDone
	})
	return s
}

// plain is the terminal output without escape sequences and carriage
// returns. It stops before an escape sequence still incomplete at the end,
// so plain of a longer buffer always extends plain of a shorter one.
func plain(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == 0x1b:
			if i+1 == len(raw) {
				return b.String()
			}
			if raw[i+1] != '[' {
				i++ // a two-byte sequence (ESC 7, ESC =...)
				continue
			}
			j := i + 2
			for j < len(raw) && (raw[j] < 0x40 || raw[j] > 0x7e) {
				j++ // parameter and intermediate bytes of a CSI sequence
			}
			if j == len(raw) {
				return b.String()
			}
			i = j
		case c == '\n' || c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return plain(s.raw)
}

// transcript is everything printed so far, for failure messages.
func (s *screen) transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("screen (escape sequences and CRs removed; >>> marks where expect stood):\n%s>>>%s\n", plain(s.raw)[:s.mark], plain(s.raw)[s.mark:])
}

// send types keys (no Enter added).
func (s *screen) send(keys string) {
	s.t.Helper()
	if _, err := s.ptmx.Write([]byte(keys)); err != nil {
		s.t.Fatalf("typing %q: %v\n%s", keys, err, s.transcript())
	}
}

// expect waits for want in the output not yet consumed, and returns that
// output up to the end of want, which it consumes. It fails the test with
// the transcript when want does not show up within timeout.
func (s *screen) expect(want string, timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		all := plain(s.raw)
		if i := strings.Index(all[s.mark:], want); i >= 0 {
			got := all[s.mark : s.mark+i+len(want)]
			s.mark += i + len(want)
			s.mu.Unlock()
			return got
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q on the screen after %v\n%s", want, timeout, s.transcript())
		}
		select {
		case <-s.readDone:
			// Nothing more can come; one last look above, then fail.
			if time.Now().Before(deadline) {
				deadline = time.Now()
			}
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitExit waits for the process to end and returns its exit status.
func (s *screen) waitExit(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(timeout):
		s.t.Fatalf("the cli did not exit within %v\n%s", timeout, s.transcript())
	}
	var ee *exec.ExitError
	switch {
	case s.waitErr == nil:
		return 0
	case errors.As(s.waitErr, &ee):
		return ee.ExitCode()
	default:
		s.t.Fatalf("waiting for the cli: %v", s.waitErr)
		return -1
	}
}
