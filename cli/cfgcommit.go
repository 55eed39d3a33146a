package cli

import (
	"context"
	"io"
	"strconv"

	"ipsecgw/mgmt/mgmtpb"
)

// runShow is configuration-mode "show [PATH]": the candidate at the edit
// level plus PATH, "| display set" in set form, "| compare [rollback N]"
// as the difference against the committed configuration or a rollback.
func runShow(s *Session, ctx context.Context, _ word, args []word, pl pipeline, out io.Writer) error {
	p, serr := s.walk(args)
	if serr != nil {
		return serr
	}
	var text string
	if pl.compare {
		reply, err := s.cfg.Compare(ctx, &mgmtpb.CompareRequest{Rollback: pl.rollback, Path: p.words})
		if err != nil {
			return serverError(err)
		}
		text = reply.Text
	} else {
		req := &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_CANDIDATE, Path: p.words}
		if pl.displaySet {
			req.Format = mgmtpb.ConfigFormat_SET
		}
		if pl.displayInheritance {
			req.Format = mgmtpb.ConfigFormat_INHERITANCE
		}
		reply, err := s.cfg.Show(ctx, req)
		if err != nil {
			return serverError(err)
		}
		text = reply.Text
	}
	_, err := io.WriteString(out, applyPipes(text, pl))
	return err
}

// commitOptions are the words "commit" takes, in any order.
var commitOptions = []choice{
	{word: "and-quit", help: "Quit configuration mode if commit succeeds"},
	{word: "check", help: "Check correctness of syntax; do not apply changes"},
	{word: "comment", help: "Message to write to commit log"},
	{word: "confirmed", help: "Automatically rollback if not confirmed"},
}

// parseCommit reads the commit options: check, and-quit, comment TEXT,
// confirmed [MINUTES] (10 by default).
func parseCommit(args []word) (req *mgmtpb.CommitRequest, andQuit bool, pending string, err *syntaxError) {
	req = &mgmtpb.CommitRequest{}
	names := make([]string, len(commitOptions))
	for i, c := range commitOptions {
		names[i] = c.word
	}
	for i := 0; i < len(args); i++ {
		w := args[i]
		k, amb := resolve(w.text, names, nil)
		if k == "" {
			if len(amb) > 1 {
				return nil, false, "", ambiguous(w, filterChoices(commitOptions, w.text))
			}
			return nil, false, "", expecting(w.start, "<command>")
		}
		pending = ""
		switch k {
		case "and-quit":
			andQuit = true
		case "check":
			req.Check = true
		case "comment":
			if i+1 == len(args) {
				return nil, false, "comment", missingArgument(w.end + 1)
			}
			i++
			req.Comment = args[i].text
		case "confirmed":
			req.ConfirmMinutes = 10
			pending = "confirmed"
			if i+1 < len(args) {
				if n, perr := strconv.ParseUint(args[i+1].text, 10, 16); perr == nil {
					if n == 0 {
						return nil, false, "", expecting(args[i+1].start, "<minutes> (1..65535)")
					}
					req.ConfirmMinutes = uint32(n)
					pending = ""
					i++
				}
			}
		}
	}
	return req, andQuit, pending, nil
}

func runCommit(s *Session, ctx context.Context, _ word, args []word, _ pipeline, out io.Writer) error {
	req, andQuit, _, serr := parseCommit(args)
	if serr != nil {
		return serr
	}
	reply, err := s.cfg.Commit(ctx, req)
	if err != nil {
		return serverError(err)
	}
	if err := printMessages(out, reply.Messages); err != nil {
		return err
	}
	if andQuit && !req.Check {
		return s.leaveConfig(ctx, out, false)
	}
	return nil
}

// optionalNumber reads "[N]" for up and rollback.
func optionalNumber(args []word, def, lo, hi uint32) (uint32, *syntaxError) {
	if len(args) == 0 {
		return def, nil
	}
	if len(args) > 1 {
		return 0, expecting(args[1].start, "<command>")
	}
	n, err := strconv.ParseUint(args[0].text, 10, 32)
	if err != nil || uint32(n) < lo || uint32(n) > hi {
		return 0, expecting(args[0].start, "<number>")
	}
	return uint32(n), nil
}
