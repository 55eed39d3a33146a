package netconf

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"ipsecgw/config"
	"ipsecgw/mgmt/mgmtpb"
)

// dispatch runs one operation and returns the reply's body, or the error.
func (ss *session) dispatch(ctx context.Context, op *Element) (string, *rpcError) {
	switch op.Name {
	case "close-session":
		return ok, nil
	case "kill-session":
		return ss.killSession(op)
	case "lock", "lock-configuration":
		return ss.lock(op)
	case "unlock", "unlock-configuration":
		return ss.unlock(op)
	case "get-config":
		return ss.getConfig(ctx, op)
	case "get":
		return ss.get(ctx, op)
	case "edit-config":
		return ss.editConfig(ctx, op)
	case "validate":
		return ss.commit(ctx, &mgmtpb.CommitRequest{Check: true})
	case "commit":
		return ss.standardCommit(ctx, op)
	case "cancel-commit":
		return ss.cancelCommit(ctx, op)
	case "discard-changes":
		if _, err := ss.cfg.Rollback(ctx, &mgmtpb.RollbackRequest{Number: 0}); err != nil {
			return "", apiError(err)
		}
		return ok, nil
	case "get-configuration":
		return ss.getConfiguration(ctx, op)
	case "load-configuration":
		return ss.loadConfiguration(ctx, op)
	case "commit-configuration":
		return ss.commitConfiguration(ctx, op)
	case "command":
		return ss.command(ctx, op)
	}
	if body, rerr, found := ss.operational(ctx, op); found {
		return body, rerr
	}
	return "", &rpcError{Type: "protocol", Tag: "operation-not-supported", BadElement: op.Name,
		Message: "syntax error, expecting <command>: " + op.Name + " is not an RPC ipsecgw knows"}
}

const ok = "<ok/>\n"

// Locks: one lock on the candidate (and "running", which only a commit
// changes), held by one NETCONF session. The CLI does not take it: the
// candidate is shared, as in Junos's "configure" (not "configure
// exclusive").

func (ss *session) lock(op *Element) (string, *rpcError) {
	if !ss.user.MayConfigure() {
		return "", deniedError()
	}
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lockedBy != 0 {
		return "", &rpcError{Type: "protocol", Tag: "lock-denied",
			Message: fmt.Sprintf("configuration database locked by session %d", s.lockedBy)}
	}
	s.lockedBy = ss.id
	return ok, nil
}

func (ss *session) unlock(op *Element) (string, *rpcError) {
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lockedBy != ss.id {
		return "", &rpcError{Type: "protocol", Tag: "operation-failed", Message: "configuration database is not locked by this session"}
	}
	s.lockedBy = 0
	return ok, nil
}

// lockedByOther is the error of a change while another session holds the
// lock, or nil.
func (ss *session) lockedByOther() *rpcError {
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lockedBy != 0 && s.lockedBy != ss.id {
		return &rpcError{Type: "protocol", Tag: "in-use", Message: fmt.Sprintf("configuration database locked by session %d", s.lockedBy)}
	}
	return nil
}

func (ss *session) killSession(op *Element) (string, *rpcError) {
	if !ss.user.MayConfigure() {
		return "", deniedError()
	}
	id, err := strconv.ParseUint(op.ChildText("session-id"), 10, 32)
	if err != nil || id == 0 {
		return "", &rpcError{Type: "protocol", Tag: "missing-element", BadElement: "session-id", Message: "kill-session needs a <session-id>"}
	}
	if uint32(id) == ss.id {
		return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "session-id", Message: "a session cannot kill itself (use close-session)"}
	}
	s := ss.srv
	s.mu.Lock()
	victim := s.sessions[uint32(id)]
	if victim != nil && s.lockedBy == victim.id {
		s.lockedBy = 0
	}
	s.mu.Unlock()
	if victim == nil {
		return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "session-id", Message: fmt.Sprintf("no session %d", id)}
	}
	s.log.Info("netconf kill-session", "session-id", id, "by", ss.id)
	victim.kill()
	return ok, nil
}

func deniedError() *rpcError {
	return &rpcError{Type: "protocol", Tag: "access-denied", Message: "permission denied"}
}

// database reads <source>/<target>: candidate or running.
func database(e *Element) (mgmtpb.ConfigDatabase, *rpcError) {
	switch {
	case e.Has("candidate"):
		return mgmtpb.ConfigDatabase_CANDIDATE, nil
	case e.Has("running"):
		return mgmtpb.ConfigDatabase_COMMITTED, nil
	}
	return 0, &rpcError{Type: "protocol", Tag: "invalid-value", Message: "the datastore is candidate or running"}
}

// configTree reads a database through the API as a tree.
func (ss *session) configTree(ctx context.Context, db mgmtpb.ConfigDatabase, rollback uint32) (*config.Tree, *rpcError) {
	r, err := ss.cfg.Show(ctx, &mgmtpb.ShowConfigRequest{Database: db, Rollback: rollback, Format: mgmtpb.ConfigFormat_SET})
	if err != nil {
		return nil, apiError(err)
	}
	t, err := config.ParseSet(db.String(), []byte(r.Text), nil)
	if err != nil {
		return nil, &rpcError{Type: "application", Tag: "operation-failed", Message: "configuration does not parse: " + err.Error()}
	}
	return t, nil
}

// subtreeFilter is the <configuration> of a <filter type="subtree">.
func subtreeFilter(f *Element) (*Element, *rpcError) {
	if f == nil {
		return nil, nil
	}
	if t := f.Attr("type"); t != "" && t != "subtree" {
		return nil, &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "filter", Message: "only subtree filters are supported"}
	}
	if c := f.Child("configuration"); c != nil {
		return c, nil
	}
	if len(f.Children) == 0 {
		return nil, nil
	}
	return &Element{Name: "configuration", Children: f.Children}, nil
}

func (ss *session) getConfig(ctx context.Context, op *Element) (string, *rpcError) {
	db, rerr := database(op.Child("source"))
	if rerr != nil {
		return "", rerr
	}
	return ss.data(ctx, db, op)
}

// get is get-config of the running configuration: ipsecgw's state is in
// the operational RPCs, as on Junos.
func (ss *session) get(ctx context.Context, op *Element) (string, *rpcError) {
	return ss.data(ctx, mgmtpb.ConfigDatabase_COMMITTED, op)
}

// data is the <data> reply of get-config and get: database db, filtered
// by op's <filter>.
func (ss *session) data(ctx context.Context, db mgmtpb.ConfigDatabase, op *Element) (string, *rpcError) {
	f, rerr := subtreeFilter(op.Child("filter"))
	if rerr != nil {
		return "", rerr
	}
	t, rerr := ss.configTree(ctx, db, 0)
	if rerr != nil {
		return "", rerr
	}
	var b strings.Builder
	b.WriteString("<data>\n")
	filtered(t, f).writeXML(&b, 1)
	b.WriteString("</data>\n")
	return b.String(), nil
}

// filtered is the <configuration> of t, filtered by f (nil: all of it).
func filtered(t *config.Tree, f *Element) *xnode {
	x := treeXML(t.Root)
	if f == nil {
		return x
	}
	if x = x.filter(f); x == nil {
		return &xnode{name: "configuration"}
	}
	return x
}

func (ss *session) editConfig(ctx context.Context, op *Element) (string, *rpcError) {
	if rerr := ss.lockedByOther(); rerr != nil {
		return "", rerr
	}
	if t := op.Child("target"); t == nil || !t.Has("candidate") {
		return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "target", Message: "edit-config changes the candidate only (commit makes it running)"}
	}
	if eo := op.ChildText("error-option"); eo != "" && eo != "rollback-on-error" {
		return "", &rpcError{Type: "protocol", Tag: "operation-not-supported", BadElement: "error-option", Message: "every edit is all or nothing (rollback-on-error)"}
	}
	if to := op.ChildText("test-option"); to == "test-only" {
		return "", &rpcError{Type: "protocol", Tag: "operation-not-supported", BadElement: "test-option", Message: "test-only is not supported: edit, then validate"}
	}
	defOp := op.ChildText("default-operation")
	if defOp == "" {
		defOp = "merge"
	}
	c := op.Child("config")
	if c == nil {
		// Junos: <config-text><configuration-text>.
		if t := op.Child("config-text"); t != nil {
			return ss.load(ctx, "merge", t.ChildText("configuration-text"), defOp == "replace")
		}
		return "", &rpcError{Type: "protocol", Tag: "missing-element", BadElement: "config", Message: "edit-config needs <config>"}
	}
	cfgEl := c.Child("configuration")
	if cfgEl == nil {
		return "", &rpcError{Type: "protocol", Tag: "unknown-element", BadElement: "config", Message: "<config> holds a Junos <configuration>"}
	}
	return ss.applyXML(ctx, cfgEl, defOp == "replace")
}

// applyXML applies an XML <configuration> to the candidate: merged (with
// its operation attributes), or replacing the whole candidate.
func (ss *session) applyXML(ctx context.Context, cfgEl *Element, replace bool) (string, *rpcError) {
	cmds, rerr := configCommands(cfgEl)
	if rerr != nil {
		return "", rerr
	}
	if replace {
		return ss.load(ctx, "override", strings.Join(cmds, "\n")+"\n", false)
	}
	if len(cmds) == 0 {
		return ok, nil
	}
	if _, err := ss.cfg.Edit(ctx, &mgmtpb.EditRequest{Commands: cmds}); err != nil {
		return "", apiError(err)
	}
	return ok, nil
}

// load loads text (brace or set form) into the candidate: merged, or
// replacing it (override).
func (ss *session) load(ctx context.Context, action, text string, override bool) (string, *rpcError) {
	if rerr := ss.lockedByOther(); rerr != nil {
		return "", rerr
	}
	if strings.TrimSpace(text) == "" {
		return "", &rpcError{Type: "protocol", Tag: "missing-element", Message: "no configuration to load"}
	}
	_, err := ss.cfg.Load(ctx, &mgmtpb.LoadRequest{Text: text, Name: "netconf", Override: override || action == "override"})
	if err != nil {
		return "", apiError(err)
	}
	return ok, nil
}

// standardCommit is RFC 6241's <commit>, with the confirmed-commit
// capability's <confirmed/>, <confirm-timeout>, <persist> and
// <persist-id> (confirm.go keeps who may confirm).
func (ss *session) standardCommit(ctx context.Context, op *Element) (string, *rpcError) {
	req := &mgmtpb.CommitRequest{}
	if op.Has("confirmed") {
		secs := uint64(600) // RFC 6241 §8.4.5.1
		if t := op.ChildText("confirm-timeout"); t != "" {
			n, err := strconv.ParseUint(t, 10, 32)
			if err != nil || n == 0 {
				return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "confirm-timeout", Message: "confirm-timeout is a number of seconds"}
			}
			secs = n
		}
		req.ConfirmSeconds = uint32(secs)
	}
	return ss.confirmedCommit(ctx, req, op)
}

func (ss *session) commit(ctx context.Context, req *mgmtpb.CommitRequest) (string, *rpcError) {
	if !req.Check {
		if rerr := ss.lockedByOther(); rerr != nil {
			return "", rerr
		}
	}
	if _, err := ss.cfg.Commit(ctx, req); err != nil {
		return "", apiError(err)
	}
	return ok, nil
}
