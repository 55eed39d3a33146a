package cli

import (
	"context"
	"fmt"
	"io"

	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/show"
)

// runOp runs an operational-mode command.
func (s *Session) runOp(ctx context.Context, ws []word, pl pipeline, out io.Writer) error {
	cmd, serr := parseOp(ws, endOf(ws))
	if serr != nil {
		return serr
	}
	switch cmd.local {
	case "configure":
		return s.enterConfig(ctx, out)
	case "exit", "quit":
		s.done = true
		return nil
	case "help":
		_, err := io.WriteString(out, formatChoices(opRoot.rootChoices()))
		return err
	}
	if cmd.request != nil {
		return s.request(ctx, cmd.request, pl, out)
	}
	if cmd.clear != nil {
		if _, err := s.op.Clear(ctx, cmd.clear); err != nil {
			return serverError(err)
		}
		return nil
	}
	return s.show(ctx, cmd.show, pl, out)
}

// show makes a show request in the form the pipeline asks for and passes
// the text through the text pipes.
func (s *Session) show(ctx context.Context, req *mgmtpb.ShowRequest, pl pipeline, out io.Writer) error {
	if pl.displaySet {
		c := req.GetConfiguration()
		if c == nil {
			return fmt.Errorf("error: | display set applies to show configuration only")
		}
		c.Format = mgmtpb.ConfigFormat_SET
	}
	if pl.displayInheritance {
		c := req.GetConfiguration()
		if c == nil {
			return fmt.Errorf("error: | display inheritance applies to show configuration only")
		}
		c.Format = mgmtpb.ConfigFormat_INHERITANCE
	}
	switch pl.text.Display() {
	case show.DisplayXML:
		req.Display = mgmtpb.Display_XML
	case show.DisplayJSON:
		req.Display = mgmtpb.Display_JSON
	}
	reply, err := s.op.Show(ctx, req)
	if err != nil {
		return serverError(err)
	}
	_, err = io.WriteString(out, applyPipes(reply.Output, pl))
	return err
}

// applyPipes runs match, except and count on output; display and no-more
// leave it alone (the server already chose the form; there is no pager).
func applyPipes(output string, pl pipeline) string {
	for _, p := range pl.text {
		output = p.Apply(output)
	}
	return output
}

// rootChoices is the answer to "help" and to "?" on an empty line.
func (n *opNode) rootChoices() []choice {
	cs := make([]choice, 0, len(n.sub))
	for _, c := range n.sub {
		cs = append(cs, choice{word: c.name, help: c.help})
	}
	return cs
}
