package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"ipsecgw/mgmt/mgmtpb"
)

// cfgCommand is one configuration-mode command. args are the words after
// the command word, with their columns in the whole line.
type cfgCommand struct {
	name    string
	help    string
	run     func(s *Session, ctx context.Context, cmd word, args []word, pl pipeline, out io.Writer) error
	choices func(s *Session, args []word) ([]choice, *syntaxError)
}

var cfgCommands []*cfgCommand

// The table is filled in init because its entries refer to functions that
// themselves look commands up (help).
func init() {
	cfgCommands = []*cfgCommand{
		{"activate", "Remove the inactive tag from a statement", editVerb("activate"), pathChoices("activate")},
		{"commit", "Commit current set of changes", runCommit, commitChoices},
		{"deactivate", "Add the inactive tag to a statement", editVerb("deactivate"), pathChoices("deactivate")},
		{"delete", "Delete a data element", editVerb("delete"), pathChoices("delete")},
		{"edit", "Edit a sub-element", runEdit, pathChoices("edit")},
		{"exit", "Exit from this level", runExit, exitChoices},
		{"help", "Provide help information", runCfgHelp, noArgs},
		{"quit", "Quit from this level", runExit, exitChoices},
		{"rollback", "Roll back to previous committed configuration", runRollback, rollbackChoices},
		{"run", "Run an operational-mode command", runRun, runChoices},
		{"set", "Set a parameter", editVerb("set"), pathChoices("set")},
		{"show", "Show a parameter", runShow, pathChoices("show")},
		{"status", "Show users currently editing configuration", runStatus, noArgs},
		{"top", "Exit to top level of configuration", runTop, noArgs},
		{"up", "Exit one level of configuration", runUp, numberArg("Number of levels to move up")},
	}
}

func cfgCommandNames() []string {
	names := make([]string, len(cfgCommands))
	for i, c := range cfgCommands {
		names[i] = c.name
	}
	return names
}

// lookupCfg resolves the command word.
func lookupCfg(w word) (*cfgCommand, *syntaxError) {
	k, amb := resolve(w.text, cfgCommandNames(), nil)
	if k == "" {
		if len(amb) > 1 {
			return nil, ambiguous(w, filterChoices(cfgRootChoices(), w.text))
		}
		return nil, unknownCommand(w)
	}
	for _, c := range cfgCommands {
		if c.name == k {
			return c, nil
		}
	}
	return nil, unknownCommand(w)
}

func cfgRootChoices() []choice {
	cs := make([]choice, len(cfgCommands))
	for i, c := range cfgCommands {
		cs[i] = choice{word: c.name, help: c.help}
	}
	return cs
}

func (s *Session) runConfig(ctx context.Context, ws []word, pl pipeline, out io.Writer) error {
	c, err := lookupCfg(ws[0])
	if err != nil {
		return err
	}
	if (pl.compare || pl.displaySet || pl.displayInheritance) && c.name != "show" {
		return &syntaxError{col: ws[0].start, msg: "syntax error, | compare and | display set apply to show only."}
	}
	return c.run(s, ctx, ws[0], ws[1:], pl, out)
}

// cfgChoices is what may follow the words of a configuration-mode line.
func (s *Session) cfgChoices(ws []word) ([]choice, *syntaxError) {
	if len(ws) == 0 {
		return cfgRootChoices(), nil
	}
	c, err := lookupCfg(ws[0])
	if err != nil {
		return nil, err
	}
	return c.choices(s, ws[1:])
}

// enterConfig is "configure".
func (s *Session) enterConfig(ctx context.Context, out io.Writer) error {
	s.configMode, s.edit = true, newCfgPath()
	_, err := io.WriteString(out, "Entering configuration mode\n")
	return err
}

// leaveConfig leaves configuration mode, first asking, when the candidate
// holds uncommitted changes, whether to leave anyway.
func (s *Session) leaveConfig(ctx context.Context, out io.Writer, ask bool) error {
	if ask {
		st, err := s.cfg.Status(ctx, &mgmtpb.StatusRequest{})
		if err != nil {
			return serverError(err)
		}
		if st.CandidateChanged {
			fmt.Fprintln(out, "The configuration has been changed but not committed")
			ok, err := s.yes("Exit with uncommitted changes? [yes,no] (yes) ", true)
			if err != nil || !ok {
				return err
			}
		}
	}
	s.configMode, s.edit = false, newCfgPath()
	_, err := io.WriteString(out, "Exiting configuration mode\n")
	return err
}

// walk feeds args to a copy of the edit level.
func (s *Session) walk(args []word) (*cfgPath, *syntaxError) {
	p := s.edit.clone()
	for _, w := range args {
		if err := p.feed(w); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// editVerb makes set, delete, activate and deactivate: the path relative to
// the edit level becomes one absolute command for Config.Edit.
func editVerb(verb string) func(*Session, context.Context, word, []word, pipeline, io.Writer) error {
	return func(s *Session, ctx context.Context, cmd word, args []word, _ pipeline, out io.Writer) error {
		p, serr := s.walk(args)
		if serr != nil {
			return serr
		}
		switch {
		case len(args) == 0 && verb == "delete":
			ok, err := s.yes("Delete everything under this level? [yes,no] (no) ", false)
			if err != nil || !ok {
				return err
			}
		case len(args) == 0 || verb == "set" && !p.complete() || p.expect == expectInList:
			return missingArgument(endOf(append([]word{cmd}, args...)))
		}
		line := strings.Join(append([]string{verb}, p.sent...), " ")
		reply, err := s.cfg.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{line}})
		if err != nil {
			return serverError(err)
		}
		return printMessages(out, reply.Messages)
	}
}

func printMessages(out io.Writer, msgs []string) error {
	for _, m := range msgs {
		if _, err := fmt.Fprintln(out, m); err != nil {
			return err
		}
	}
	return nil
}

func runEdit(s *Session, _ context.Context, cmd word, args []word, _ pipeline, _ io.Writer) error {
	p, serr := s.walk(args)
	if serr != nil {
		return serr
	}
	if len(args) == 0 || p.expect != expectStatement {
		return missingArgument(endOf(append([]word{cmd}, args...)))
	}
	s.edit = p
	return nil
}

func runTop(s *Session, _ context.Context, _ word, args []word, _ pipeline, _ io.Writer) error {
	if len(args) > 0 {
		return expecting(args[0].start, "<command>")
	}
	s.edit = newCfgPath()
	return nil
}

func runUp(s *Session, _ context.Context, _ word, args []word, _ pipeline, _ io.Writer) error {
	n, serr := optionalNumber(args, 1, 1, 64)
	if serr != nil {
		return serr
	}
	s.edit = s.edit.upTo(max(0, len(s.edit.levels)-int(n)))
	return nil
}

// runExit is exit and quit: up one level, or out of configuration mode at
// the top (or with "exit configuration-mode").
func runExit(s *Session, ctx context.Context, _ word, args []word, _ pipeline, out io.Writer) error {
	all := false
	if len(args) > 0 {
		if k, _ := resolve(args[0].text, []string{"configuration-mode"}, nil); k == "" || len(args) > 1 {
			return expecting(args[len(args)-1].start, "<command>")
		}
		all = true
	}
	if !all && len(s.edit.levels) > 0 {
		s.edit = s.edit.upTo(len(s.edit.levels) - 1)
		return nil
	}
	return s.leaveConfig(ctx, out, true)
}

func runRollback(s *Session, ctx context.Context, _ word, args []word, _ pipeline, out io.Writer) error {
	n, serr := optionalNumber(args, 0, 0, 49)
	if serr != nil {
		return serr
	}
	reply, err := s.cfg.Rollback(ctx, &mgmtpb.RollbackRequest{Number: n})
	if err != nil {
		return serverError(err)
	}
	return printMessages(out, reply.Messages)
}

// runRun is "run OPCOMMAND": the rest of the line (and its pipes) is an
// operational command.
func runRun(s *Session, ctx context.Context, cmd word, args []word, pl pipeline, out io.Writer) error {
	if len(args) == 0 {
		return missingArgument(cmd.end + 1)
	}
	c, serr := parseOp(args, endOf(args))
	if serr != nil {
		return serr
	}
	if c.local != "" {
		return &syntaxError{col: args[0].start, msg: "syntax error, '" + c.local + "' cannot be run from configuration mode."}
	}
	if c.request != nil {
		return s.request(ctx, c.request, pl, out)
	}
	if c.clear != nil {
		if _, err := s.op.Clear(ctx, c.clear); err != nil {
			return serverError(err)
		}
		return nil
	}
	return s.show(ctx, c.show, pl, out)
}

func runStatus(s *Session, ctx context.Context, _ word, args []word, _ pipeline, out io.Writer) error {
	if len(args) > 0 {
		return expecting(args[0].start, "<command>")
	}
	st, err := s.cfg.Status(ctx, &mgmtpb.StatusRequest{})
	if err != nil {
		return serverError(err)
	}
	if st.CandidateChanged {
		fmt.Fprintln(out, "The candidate configuration has uncommitted changes")
	} else {
		fmt.Fprintln(out, "The candidate configuration is the committed configuration")
	}
	if st.ConfirmSecondsLeft > 0 {
		fmt.Fprintf(out, "commit confirmed will be rolled back in %d minutes unless confirmed\n", (st.ConfirmSecondsLeft+59)/60)
	}
	return nil
}

func runCfgHelp(s *Session, _ context.Context, _ word, args []word, _ pipeline, out io.Writer) error {
	_, err := io.WriteString(out, formatChoices(cfgRootChoices()))
	return err
}
