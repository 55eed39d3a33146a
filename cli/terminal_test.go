package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/syncbuf"
)

func TestTerminalHelpTabAndInterrupt(t *testing.T) {
	h := newHarness(t)
	in, keys := io.Pipe()
	var out syncbuf.Buffer // what the session writes to its terminal
	done := make(chan error, 1)
	go func() {
		done <- h.s.Run(context.Background(), struct {
			io.Reader
			io.Writer
		}{in, &out})
	}()
	// "?" shows help and keeps the line; Ctrl-U then drops it. Tab completes
	// "sh" and "ver"; Ctrl-C abandons "garbage".
	for _, k := range []string{"show ?", "\x15", "sh\tver\t\r", "garbage\x03", "sh ver\r", "configure\r", "edit security\r", "exit\r", "exit\r", "exit\r"} {
		if _, err := keys.Write([]byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("session did not end; screen:\n%s", out.String())
	}
	screen := strings.ReplaceAll(out.String(), "\r\n", "\n")
	for _, want := range []string{
		"root@gw1> show ?\nPossible completions:\n  bgp                  Show Border Gateway Protocol information\n  chassis              Show chassis information\n  configuration        Show current configuration\n",
		"Entering configuration mode\n\n[edit]\nroot@gw1# ",
		"\n[edit security]\nroot@gw1# ",
		"Exiting configuration mode\n",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if n := len(h.op.shows); n != 2 {
		t.Errorf("%d show requests, want 2 (show version twice)", n)
	}
	for _, r := range h.op.shows {
		if r.GetVersion() == nil {
			t.Errorf("unexpected request %v", r)
		}
	}
	if strings.Contains(screen, "unknown command") {
		t.Errorf("an abandoned line ran:\n%s", screen)
	}
}

func TestRunLinesPrintsNoPrompt(t *testing.T) {
	h := newHarness(t)
	var out bytes.Buffer
	failed, err := h.s.RunLines(context.Background(), strings.NewReader("sh ver\nfrob\nconfigure\nset system host-name gw2\ncommit\n"), &out)
	if err != nil || failed != 1 {
		t.Fatalf("failed %d err %v", failed, err)
	}
	want := "Index State\n3 UP\n4 DOWN\nfrob\n^\nunknown command.\nEntering configuration mode\ncommit complete\n"
	if out.String() != want {
		t.Fatalf("printed %q, want %q", out.String(), want)
	}
}
