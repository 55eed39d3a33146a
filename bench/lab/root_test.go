package lab

import (
	"os"
	"strings"
	"testing"
)

func TestNotRoot(t *testing.T) {
	var b strings.Builder
	got := NotRoot(&b, "the thing", "`make thing`")
	if want := os.Geteuid() != 0; got != want {
		t.Fatalf("NotRoot = %v as uid %d", got, os.Geteuid())
	}
	if got && !strings.Contains(b.String(), "SKIPPED: the thing needs root") {
		t.Fatalf("banner:\n%s", b.String())
	}
	if !got && b.Len() != 0 {
		t.Fatalf("root, yet it printed:\n%s", b.String())
	}
}
