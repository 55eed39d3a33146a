package cli

import (
	"context"
	"strconv"
	"strings"
	"time"

	"ipsecgw/mgmt/mgmtpb"
)

// Help and completion for the arguments of configuration-mode commands.

type choicesFunc = func(s *Session, args []word) ([]choice, *syntaxError)

// pathChoices offers the statements below the edit level plus args, and
// "<[Enter]>" once the command could run.
func pathChoices(verb string) choicesFunc {
	return func(s *Session, args []word) ([]choice, *syntaxError) {
		p, err := s.walk(args)
		if err != nil {
			return nil, err
		}
		cs := append(p.choices(), s.entryNames(p)...)
		var runnable bool
		switch verb {
		case "show":
			runnable = true
			cs = append(cs, pipeChoice)
		case "set":
			runnable = len(args) > 0 && p.complete()
		case "edit":
			runnable = len(args) > 0 && p.expect == expectStatement
		case "delete":
			runnable = p.expect != expectInList
		default:
			runnable = len(args) > 0 && p.expect != expectInList
		}
		if runnable {
			cs = append(cs, enterChoice)
		}
		sortChoices(cs)
		return cs, nil
	}
}

func noArgs(_ *Session, args []word) ([]choice, *syntaxError) {
	if len(args) > 0 {
		return nil, expecting(args[0].start, "<command>")
	}
	return []choice{enterChoice}, nil
}

func exitChoices(_ *Session, args []word) ([]choice, *syntaxError) {
	if len(args) > 0 {
		return []choice{enterChoice}, nil
	}
	return []choice{enterChoice, {word: "configuration-mode", help: "Exit from configuration mode"}}, nil
}

func numberArg(help string) choicesFunc {
	return func(_ *Session, args []word) ([]choice, *syntaxError) {
		if len(args) > 0 {
			return []choice{enterChoice}, nil
		}
		return []choice{enterChoice, {word: "<number>", help: help}}, nil
	}
}

// runChoices completes the operational command after "run".
func runChoices(_ *Session, args []word) ([]choice, *syntaxError) {
	return opChoices(args)
}

func commitChoices(_ *Session, args []word) ([]choice, *syntaxError) {
	_, _, pending, err := parseCommit(args)
	switch {
	case err != nil && pending == "comment":
		return []choice{{word: "<comment>", help: "Message to write to commit log"}}, nil
	case err != nil:
		return nil, err
	}
	cs := []choice{enterChoice}
	if pending == "confirmed" {
		cs = append(cs, choice{word: "<minutes>", help: "Number of minutes until automatic rollback (1..65535)"})
	}
	cs = append(cs, commitOptions...)
	return cs, nil
}

// entryNames offers the names of the entries the candidate already has
// where a list key is expected ("set security ike gateway ?" lists gw1).
// It reads the level in set form, one short RPC; on any error it offers
// nothing rather than delay the prompt.
func (s *Session) entryNames(p *cfgPath) []choice {
	var parent []string
	switch {
	case p.expect == expectKey:
		parent = p.words[:len(p.words)-1]
	case p.expect == expectStatement && p.body.KeyedList() != nil:
		parent = p.words
	default:
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	reply, err := s.cfg.Show(ctx, &mgmtpb.ShowConfigRequest{Path: parent, Format: mgmtpb.ConfigFormat_SET})
	if err != nil {
		return nil
	}
	prefix := "set " + strings.Join(p.sent, " ") + " "
	seen := map[string]bool{}
	var out []choice
	for _, line := range strings.Split(reply.Text, "\n") {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		ws, serr := splitWords(rest)
		if serr != nil || len(ws) == 0 {
			continue
		}
		name := ws[0].valueText()
		if seen[name] || p.expect == expectStatement && p.body.Child(ws[0].text) != nil {
			continue
		}
		seen[name] = true
		out = append(out, choice{word: name})
	}
	return out
}

// rollbackChoices lists the stored configurations as Junos does: number,
// then when and by whom it was committed.
func rollbackChoices(s *Session, args []word) ([]choice, *syntaxError) {
	if len(args) > 0 {
		return []choice{enterChoice}, nil
	}
	cs := []choice{enterChoice}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	reply, err := s.cfg.Rollbacks(ctx, &mgmtpb.RollbacksRequest{})
	if err != nil || len(reply.Rollbacks) == 0 {
		return append(cs, choice{word: "<number>", help: "Rollback number (0..49)"}), nil
	}
	for _, r := range reply.Rollbacks {
		help := time.Unix(r.TimeUnix, 0).UTC().Format("2006-01-02 15:04:05 MST") + " by " + r.User + " via cli"
		if r.Comment != "" {
			help += " " + r.Comment
		}
		cs = append(cs, choice{word: strconv.FormatUint(uint64(r.Number), 10), help: help})
	}
	return cs, nil
}
