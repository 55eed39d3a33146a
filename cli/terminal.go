package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// RunTerminal runs an interactive session on a terminal: it puts it into
// raw mode for line editing, and restores it on return.
func (s *Session) RunTerminal(ctx context.Context, in, out *os.File) error {
	old, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return fmt.Errorf("cli: terminal raw mode: %w", err)
	}
	defer term.Restore(int(in.Fd()), old)
	// x/term assumes 80x24 until told otherwise, and breaks the line being
	// edited at its idea of the width: tell it the real size.
	width, height, _ := term.GetSize(int(in.Fd()))
	return s.run(ctx, struct {
		io.Reader
		io.Writer
	}{in, out}, width, height)
}

// Run runs an interactive session on rw, a terminal already in raw mode
// (or anything that speaks like one): the line editor of x/term with its
// history, "?" for help and Tab for completion. It returns when the user
// leaves the CLI or the input ends.
func (s *Session) Run(ctx context.Context, rw io.ReadWriter) error {
	return s.run(ctx, rw, 0, 0)
}

// run is Run on a terminal of width x height characters (0: unknown).
func (s *Session) run(ctx context.Context, rw io.ReadWriter, width, height int) error {
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{interruptClearsLine{rw}, rw}, s.Prompt())
	if width > 0 && height > 0 {
		t.SetSize(width, height)
	}
	if s.resized != nil {
		go followSize(t, s.resized) // remote.go
	}
	s.Interactive = true
	t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		return s.editorKey(t, line, pos, key)
	}
	s.Ask = func(question string) (string, error) {
		t.SetPrompt(question)
		a, err := t.ReadLine()
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		return a, err
	}
	for !s.done {
		if b := s.Banner(ctx); b != "" {
			io.WriteString(t, b)
		}
		t.SetPrompt(s.Prompt())
		line, err := t.ReadLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Execute(ctx, line, t); err != nil {
			fmt.Fprintln(t, err.Error())
		}
	}
	return nil
}

// editorKey answers "?" and Tab while a line is edited. The help goes out
// through the terminal's Write, which then redraws the prompt and the line
// as typed, which is what Junos does.
func (s *Session) editorKey(t *term.Terminal, line string, pos int, key rune) (string, int, bool) {
	before := line[:pos]
	switch key {
	case '?':
		if openQuote(before) {
			return "", 0, false // a literal question mark inside a string
		}
		writeHelp(t, s.Prompt(), line, s.Help(before))
		return line, pos, true
	case '\t':
		completed, cs := s.Complete(before)
		if cs != nil {
			fmt.Fprintf(t, "%s%s\n%s", s.Prompt(), line, formatChoices(cs))
		}
		return completed + line[pos:], len(completed), true
	}
	return "", 0, false
}

// interruptClearsLine turns Ctrl-C into "delete the whole line" (Ctrl-E
// then Ctrl-U): x/term would end the session on Ctrl-C, Junos only
// abandons the line being typed.
type interruptClearsLine struct{ r io.Reader }

func (i interruptClearsLine) Read(p []byte) (int, error) {
	// Each ^C becomes two bytes, so read at most half the buffer.
	n, err := i.r.Read(p[:max(1, len(p)/2)])
	if n == 0 || bytes.IndexByte(p[:n], 3) < 0 {
		return n, err
	}
	out := bytes.ReplaceAll(p[:n], []byte{3}, []byte{5, 21})
	return copy(p, out), err
}

// RunLines runs the commands read from r, one a line, without a line
// editor: for scripts that pipe commands in. No prompt or banner is
// printed, and errors go to out after the line they belong to. It returns
// the number of commands that failed.
func (s *Session) RunLines(ctx context.Context, r io.Reader, out io.Writer) (failed int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for !s.done && sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if err := s.Execute(ctx, line, out); err != nil {
			fmt.Fprintln(out, err.Error())
			failed++
		}
	}
	return failed, sc.Err()
}

// RunCommands runs commands separated by ";" (outside quotes), as given to
// "ipsecgw cli -c": "configure; set system host-name gw1; commit". It
// stops at the first error and returns it.
func (s *Session) RunCommands(ctx context.Context, commands string, out io.Writer) error {
	for _, c := range splitCommands(commands) {
		if strings.TrimSpace(c) == "" {
			continue
		}
		if err := s.Execute(ctx, strings.TrimSpace(c), out); err != nil {
			return err
		}
		if s.done {
			break
		}
	}
	return nil
}

// splitCommands splits at the semicolons outside double quotes.
func splitCommands(line string) []string {
	var out []string
	start := 0
	at, _ := unquoted(line, ';')
	for _, i := range at {
		out = append(out, line[start:i])
		start = i + 1
	}
	return append(out, line[start:])
}
