package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The /proc readers work on any process; this test's own is at hand.
func TestProcReadersOnSelf(t *testing.T) {
	p := &Process{Name: "self", PID: os.Getpid()}
	rss, err := p.RSS()
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Errorf("RSS = %d bytes, want at least 1 MiB for a running Go test", rss)
	}
	// Burn CPU until the tick counters move past zero: on a loaded
	// machine a fixed 50 ms of wall time may not earn one 10 ms tick.
	var cpu time.Duration
	deadline := time.Now().Add(10 * time.Second)
	for cpu == 0 && time.Now().Before(deadline) {
		for x := 0; x < 1e6; x++ {
			_ = x * x
		}
		if cpu, err = p.CPU(); err != nil {
			t.Fatal(err)
		}
	}
	if cpu <= 0 {
		t.Errorf("CPU = %v after 10 s of busy loops, want > 0", cpu)
	}
}

func TestProcReadersOnMissingProcess(t *testing.T) {
	p := &Process{Name: "gone", PID: 1 << 30} // above pid_max
	if _, err := p.RSS(); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("RSS of a missing process: err = %v, want one naming it", err)
	}
	if _, err := p.CPU(); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("CPU of a missing process: err = %v, want one naming it", err)
	}
}

func TestLogTailKeepsTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	text := strings.Repeat("x", 3000) + "the end\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Process{Name: "p", log: path}
	tail := p.LogTail()
	if len(tail) > 2000 || !strings.HasSuffix(tail, "the end") {
		t.Errorf("LogTail: %d bytes ending %q, want at most 2000 ending \"the end\"", len(tail), tail[max(0, len(tail)-10):])
	}
}
