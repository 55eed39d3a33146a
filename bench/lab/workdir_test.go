package lab

import (
	"os"
	"testing"
)

// TestWork: a -dir given is used and kept; without one a temporary
// directory is made, kept after a failed run and removed after one that
// succeeded; the binary defaults to this program.
func TestWork(t *testing.T) {
	given, binary := t.TempDir(), "/usr/bin/true"
	done, err := Work("x", &given, &binary)
	if err != nil || binary != "/usr/bin/true" {
		t.Fatalf("Work: %v, binary %q", err, binary)
	}
	done(true)
	if _, err := os.Stat(given); err != nil {
		t.Fatalf("a -dir given was removed: %v", err)
	}

	dir, binary := "", ""
	if done, err = Work("x", &dir, &binary); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if exe, _ := os.Executable(); binary != exe {
		t.Errorf("binary %q, want this program %q", binary, exe)
	}
	done(false)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a failed run's directory was removed: %v", err)
	}
	done(true)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a run that succeeded left %s: %v", dir, err)
	}
}
