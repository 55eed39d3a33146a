// Package cli is the Junos-style command line of ipsecgw: operational mode
// ("show", "clear"), configuration mode ("set", "commit"), help with "?"
// and completion with Tab. It is only a client of the management API
// (ipsecgw/mgmt/mgmtpb): every command becomes one typed request, and what
// the server answers is printed as it comes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/mgmt/mgmtpb"
)

// Session is one user's CLI session: the mode, the configuration level
// being edited, and the two API clients.
type Session struct {
	cfg  mgmtpb.ConfigClient
	op   mgmtpb.OperationalClient
	user string
	host string

	// Ask reads the answer to a yes/no question ("Exit with uncommitted
	// changes? [yes,no] (yes) "). Nil takes the default answer, which is
	// what a script piping commands in wants.
	Ask func(question string) (string, error)
	// Interactive says the user types at a prompt: syntax errors then put
	// their caret under the line already on the screen instead of
	// repeating it.
	Interactive bool

	// resized carries a remote terminal's new sizes (RunRemote).
	resized <-chan [2]int

	configMode bool
	edit       *cfgPath // the [edit ...] level; the root in operational mode
	done       bool     // exit or quit in operational mode
}

// NewSession starts a session in operational mode. user and host make the
// prompt (user@host> ).
func NewSession(cfg mgmtpb.ConfigClient, op mgmtpb.OperationalClient, user, host string) *Session {
	return &Session{cfg: cfg, op: op, user: user, host: host, edit: newCfgPath()}
}

// Prompt is "user@host> " in operational mode, "user@host# " in
// configuration mode.
func (s *Session) Prompt() string {
	if s.configMode {
		return s.user + "@" + s.host + "# "
	}
	return s.user + "@" + s.host + "> "
}

// Banner is what configuration mode prints before every prompt: an empty
// line, the pending commit confirmed warning if any, and the edit level.
// Empty in operational mode.
func (s *Session) Banner(ctx context.Context) string {
	if !s.configMode {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	if st, err := s.cfg.Status(ctx, &mgmtpb.StatusRequest{}); err == nil && st.ConfirmSecondsLeft > 0 {
		fmt.Fprintf(&b, "# commit confirmed will be rolled back in %d minutes\n", (st.ConfirmSecondsLeft+59)/60)
	}
	b.WriteString(s.Level() + "\n")
	return b.String()
}

// Level is the edit level as Junos shows it: "[edit]", "[edit security ike]".
func (s *Session) Level() string {
	if len(s.edit.sent) == 0 {
		return "[edit]"
	}
	return "[edit " + strings.Join(s.edit.sent, " ") + "]"
}

// ConfigMode reports whether the session is in configuration mode.
func (s *Session) ConfigMode() bool { return s.configMode }

// Done reports whether the user left the CLI (exit or quit in operational
// mode).
func (s *Session) Done() bool { return s.done }

// Execute runs one command line and writes its output to out. The error,
// if any, is the text to show the user: a syntax error with its caret, or
// the server's message.
func (s *Session) Execute(ctx context.Context, line string, out io.Writer) error {
	prompt := s.Prompt()
	err := s.execute(ctx, line, out)
	var se *syntaxError
	if errors.As(err, &se) {
		se.line = line
		if s.Interactive {
			se.indent, se.echoed = len(prompt), true
		}
	}
	return err
}

func (s *Session) execute(ctx context.Context, line string, out io.Writer) error {
	cmd, pl, serr := splitPipes(line, s.configMode)
	if serr != nil {
		return serr
	}
	ws, serr := splitWords(cmd)
	if serr != nil {
		return serr
	}
	if len(ws) == 0 {
		if len(pl.text) > 0 || pl.displaySet || pl.displayInheritance || pl.compare {
			return unknownCommand(word{start: len(cmd)})
		}
		return nil
	}
	if s.configMode {
		return s.runConfig(ctx, ws, pl, out)
	}
	return s.runOp(ctx, ws, pl, out)
}

// serverError is the message of a failed RPC, printed as the server wrote
// it (a commit failure is a whole Junos block).
func serverError(err error) error {
	st := status.Convert(err)
	if st.Code() == codes.Unavailable {
		return errors.New("error: the ipsecgw daemon is not reachable: " + st.Message())
	}
	return errors.New(st.Message())
}

// endOf is where the caret goes when a word is missing after ws.
func endOf(ws []word) int {
	if len(ws) == 0 {
		return 0
	}
	return ws[len(ws)-1].end + 1
}

// yes asks a yes/no question; an empty answer takes the default.
func (s *Session) yes(question string, def bool) (bool, error) {
	if s.Ask == nil {
		return def, nil
	}
	for {
		a, err := s.Ask(question)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(a)) {
		case "":
			return def, nil
		case "y", "ye", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
	}
}
