package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/config"
	"ipsecgw/config/store"
	"ipsecgw/config/syntax"
	"ipsecgw/mgmt/mgmtpb"
)

// The Config service: the shared candidate, commit and rollback, over the
// daemon's configuration store. Error messages are the text the CLI
// prints, in Junos wording where Junos has one.

func (s configService) Edit(ctx context.Context, req *mgmtpb.EditRequest) (*mgmtpb.EditReply, error) {
	src := strings.Join(req.Commands, "\n") + "\n"
	err := s.d.Store().Edit(func(e *config.Editor) error {
		return e.LoadSet(e.Tree.Root, "edit", []byte(src))
	})
	if err != nil {
		return nil, configStatus(codes.InvalidArgument, editError(err), err, false)
	}
	return &mgmtpb.EditReply{}, nil
}

// editError drops the "edit:1:5: " positions of a command typed at the
// CLI: the operator sees the statement path and what was expected.
func editError(err error) string {
	var list config.ErrorList
	if !errors.As(err, &list) {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, e := range list {
		c := *e
		c.Pos = syntax.Pos{}
		fmt.Fprintf(&b, "error: %s\n", c.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (s configService) Load(ctx context.Context, req *mgmtpb.LoadRequest) (*mgmtpb.EditReply, error) {
	name := req.Name
	if name == "" {
		name = "terminal"
	}
	if req.Override {
		t, err := config.Parse(name, []byte(req.Text), nil)
		if err != nil {
			return nil, configStatus(codes.InvalidArgument, err.Error(), err, false)
		}
		s.d.Store().Replace(t)
		return &mgmtpb.EditReply{Messages: []string{"load complete"}}, nil
	}
	err := s.d.Store().Edit(func(e *config.Editor) error {
		if strings.HasPrefix(strings.TrimSpace(req.Text), "set ") || strings.HasPrefix(strings.TrimSpace(req.Text), "delete ") {
			return e.LoadSet(e.Tree.Root, name, []byte(req.Text))
		}
		return e.LoadBrace(e.Tree.Root, name, []byte(req.Text))
	})
	if err != nil {
		return nil, configStatus(codes.InvalidArgument, err.Error(), err, false)
	}
	return &mgmtpb.EditReply{Messages: []string{"load complete"}}, nil
}

func (s configService) Show(ctx context.Context, req *mgmtpb.ShowConfigRequest) (*mgmtpb.TextReply, error) {
	var t *config.Tree
	var err error
	switch req.Database {
	case mgmtpb.ConfigDatabase_CANDIDATE:
		t = s.d.Store().Candidate()
	case mgmtpb.ConfigDatabase_COMMITTED:
		t = s.d.Store().Committed()
	default:
		t, err = s.d.Store().Stored(int(req.Rollback))
	}
	if err != nil {
		return nil, status.Error(codes.NotFound, "error: "+err.Error())
	}
	if t, err = withInheritance(s.d, t, req.Format); err != nil {
		return nil, err
	}
	text, err := formatAt(t, req.Path, req.Format)
	if err != nil {
		return nil, err
	}
	return &mgmtpb.TextReply{Text: text}, nil
}

// formatAt prints the statements at path in either form: the brace form
// relative to that level (as "show" at an [edit ...] level), the set form
// with full paths.
func formatAt(t *config.Tree, path []string, format mgmtpb.ConfigFormat) (string, error) {
	at := t.Root
	if len(path) > 0 {
		e := &config.Editor{Tree: t}
		s, _, err := e.Resolve(t.Root, words(path))
		if err != nil {
			// Junos prints nothing for a level that is not configured.
			return "", nil
		}
		at = s
	}
	if format == mgmtpb.ConfigFormat_SET {
		if !at.Node.HasBody() {
			return config.FormatSet(at.Parent()), nil
		}
		return config.FormatSet(at), nil
	}
	if !at.Node.HasBody() {
		return config.FormatStmt(at, 0), nil
	}
	return config.FormatBrace(at), nil
}

func words(ws []string) []syntax.Word {
	out := make([]syntax.Word, len(ws))
	for i, w := range ws {
		out[i] = syntax.Word{Text: w}
	}
	return out
}

func (s configService) Compare(ctx context.Context, req *mgmtpb.CompareRequest) (*mgmtpb.TextReply, error) {
	text, err := s.d.Store().Compare(int(req.Rollback))
	if err != nil {
		return nil, status.Error(codes.NotFound, "error: "+err.Error())
	}
	if len(req.Path) > 0 {
		text = compareBelow(text, req.Path)
	}
	return &mgmtpb.TextReply{Text: text}, nil
}

// compareBelow keeps the "show | compare" sections at or below path.
func compareBelow(text string, path []string) string {
	prefix := "[edit " + strings.Join(path, " ")
	var b strings.Builder
	keep := false
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "[edit") {
			rest := strings.TrimPrefix(line, prefix)
			keep = strings.HasPrefix(line, prefix) && (strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, " "))
		}
		if keep {
			b.WriteString(line)
		}
	}
	return b.String()
}

func (s configService) Commit(ctx context.Context, req *mgmtpb.CommitRequest) (*mgmtpb.CommitReply, error) {
	st := s.d.Store()
	if req.Check {
		if _, err := st.Check(); err != nil {
			return nil, configStatus(codes.FailedPrecondition, commitError(err), err, true)
		}
		// Junos: a commit check also confirms a pending commit confirmed.
		_ = st.Confirm()
		return &mgmtpb.CommitReply{Messages: []string{"configuration check succeeds"}}, nil
	}
	if req.CancelConfirmed {
		if err := st.CancelConfirm(req.ConfirmId); err != nil {
			if errors.Is(err, store.ErrNoConfirmPending) {
				return nil, status.Error(codes.FailedPrecondition, err.Error())
			}
			return nil, configStatus(codes.FailedPrecondition, commitError(err), err, true)
		}
		s.log.Info("commit confirmed cancelled: rollback 1 restored")
		return &mgmtpb.CommitReply{Messages: []string{"commit confirmed rolled back"}}, nil
	}
	confirm := time.Duration(req.ConfirmMinutes) * time.Minute
	if req.ConfirmSeconds > 0 {
		confirm = time.Duration(req.ConfirmSeconds) * time.Second
	}
	o := store.CommitOptions{User: requestUser(ctx), Comment: req.Comment, Confirm: confirm}
	if _, err := st.Commit(o); err != nil {
		return nil, configStatus(codes.FailedPrecondition, commitError(err), err, true)
	}
	var msgs []string
	reply := &mgmtpb.CommitReply{}
	switch {
	case req.ConfirmSeconds > 0:
		msgs = append(msgs, fmt.Sprintf("commit confirmed will be automatically rolled back in %d seconds unless confirmed", req.ConfirmSeconds))
	case req.ConfirmMinutes > 0:
		msgs = append(msgs, fmt.Sprintf("commit confirmed will be automatically rolled back in %d minutes unless confirmed", req.ConfirmMinutes))
	}
	if confirm > 0 {
		reply.ConfirmId, _ = st.ConfirmID()
	}
	s.log.Info("commit", "comment", req.Comment, "confirm", confirm)
	reply.Messages = append(msgs, "commit complete")
	return reply, nil
}

// commitError prints a failed commit the way Junos does: per error the
// banner of the offending level, the statement quoted, the explanation,
// then "error: configuration check-out failed".
func commitError(err error) string {
	list := configErrors(err)
	if list == nil {
		return "error: commit failed: (" + err.Error() + ")"
	}
	var b strings.Builder
	for _, e := range list {
		b.WriteString(editLevel(e.Path, true) + "\n")
		if ws := strings.Fields(e.Path); len(ws) > 0 {
			fmt.Fprintf(&b, "  '%s'\n", ws[len(ws)-1])
		}
		msg := e.Msg
		if e.Expected != "" {
			msg += "; expected " + e.Expected
		}
		fmt.Fprintf(&b, "    %s\n", msg)
	}
	b.WriteString("error: configuration check-out failed")
	return b.String()
}

func (s configService) Rollback(ctx context.Context, req *mgmtpb.RollbackRequest) (*mgmtpb.EditReply, error) {
	if err := s.d.Store().Rollback(int(req.Number)); err != nil {
		return nil, status.Error(codes.NotFound, "error: "+err.Error())
	}
	return &mgmtpb.EditReply{Messages: []string{"load complete"}}, nil
}

func (s configService) Rollbacks(ctx context.Context, req *mgmtpb.RollbacksRequest) (*mgmtpb.RollbacksReply, error) {
	var out mgmtpb.RollbacksReply
	for _, i := range s.d.Store().Rollbacks() {
		out.Rollbacks = append(out.Rollbacks, &mgmtpb.Rollback{Number: uint32(i.N), TimeUnix: i.Time.Unix(), User: i.User, Comment: i.Comment})
	}
	return &out, nil
}

func (s configService) Status(ctx context.Context, req *mgmtpb.StatusRequest) (*mgmtpb.StatusReply, error) {
	st := s.d.Store()
	out := &mgmtpb.StatusReply{CandidateChanged: !st.Candidate().Equal(st.Committed())}
	if left, ok := st.ConfirmLeft(); ok {
		out.ConfirmSecondsLeft = max(int64(left.Seconds()), 1)
		out.ConfirmId, _ = st.ConfirmID()
	}
	return out, nil
}
