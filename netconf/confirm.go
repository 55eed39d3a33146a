package netconf

import (
	"context"
	"time"

	"ipsecgw/mgmt/mgmtpb"
)

// A confirmed commit made with RFC 6241's <commit> belongs to its session
// (§8.4.1): without <persist>, only that session may confirm or cancel it,
// and it is rolled back when the session ends unconfirmed. With <persist>
// it outlives the session, and whoever confirms or cancels it must give
// the same token as <persist-id>. Junos's <commit-configuration> and the
// CLI keep Junos's rule instead: any commit confirms.
//
// The rollback itself is the configuration store's (its timer, and
// CancelConfirm); this only remembers who made the pending one, by the
// store's confirm id, so a record left behind by a commit confirmed that
// was since confirmed elsewhere, expired or replaced is recognised and
// dropped.
type pendingConfirm struct {
	id      uint64 // the store's ConfirmID
	session uint32 // the session it belongs to; 0 with persist
	persist string // the persist token, or ""
}

// pending is the standard confirmed commit still pending in the store, or
// nil.
func (ss *session) pending(ctx context.Context) *pendingConfirm {
	s := ss.srv
	s.mu.Lock()
	pc := s.confirmed
	s.mu.Unlock()
	if pc == nil {
		return nil
	}
	st, err := ss.cfg.Status(ctx, &mgmtpb.StatusRequest{})
	if err == nil && st.ConfirmSecondsLeft > 0 && st.ConfirmId == pc.id {
		return pc
	}
	if err != nil {
		// The API is away: keep the record, and refuse nothing on it.
		return nil
	}
	s.mu.Lock()
	if s.confirmed == pc {
		s.confirmed = nil
	}
	s.mu.Unlock()
	return nil
}

// authorize says whether this session, giving persistID, may confirm or
// cancel pc.
func (pc *pendingConfirm) authorize(ss *session, persistID string) *rpcError {
	if pc.persist != "" {
		if persistID != pc.persist {
			return &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "persist-id",
				Message: "a persistent confirmed commit is pending: give its persist-id"}
		}
		return nil
	}
	if pc.session != ss.id {
		return &rpcError{Type: "protocol", Tag: "in-use",
			Message: "a confirmed commit of another session is pending; only that session can confirm or cancel it"}
	}
	return nil
}

// confirmedCommit commits (or confirms) under the rules above.
func (ss *session) confirmedCommit(ctx context.Context, req *mgmtpb.CommitRequest, op *Element) (string, *rpcError) {
	persist, persistID := op.ChildText("persist"), op.ChildText("persist-id")
	if op.Has("persist") && persist == "" {
		return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "persist", Message: "persist needs a token"}
	}
	if persist != "" && req.ConfirmSeconds == 0 {
		return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "persist", Message: "persist goes with confirmed"}
	}
	pc := ss.pending(ctx)
	if pc != nil {
		if rerr := pc.authorize(ss, persistID); rerr != nil {
			return "", rerr
		}
	} else if persistID != "" {
		return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "persist-id",
			Message: "no persistent confirmed commit with this persist-id is pending"}
	}
	if rerr := ss.lockedByOther(); rerr != nil {
		return "", rerr
	}
	reply, err := ss.cfg.Commit(ctx, req)
	if err != nil {
		return "", apiError(err)
	}
	s := ss.srv
	s.mu.Lock()
	s.confirmed = nil
	if req.ConfirmSeconds > 0 {
		s.confirmed = &pendingConfirm{id: reply.ConfirmId, persist: persist}
		if persist == "" {
			s.confirmed.session = ss.id
		}
	}
	s.mu.Unlock()
	return ok, nil
}

// cancelCommit is <cancel-commit> (RFC 6241 §8.4.5.2): the pending
// confirmed commit is rolled back now.
func (ss *session) cancelCommit(ctx context.Context, op *Element) (string, *rpcError) {
	pc := ss.pending(ctx)
	if pc == nil {
		return "", &rpcError{Type: "application", Tag: "operation-failed", Message: "no confirmed commit made with <commit> is pending"}
	}
	if rerr := pc.authorize(ss, op.ChildText("persist-id")); rerr != nil {
		return "", rerr
	}
	if rerr := ss.lockedByOther(); rerr != nil {
		return "", rerr
	}
	if _, err := ss.cfg.Commit(ctx, &mgmtpb.CommitRequest{CancelConfirmed: true, ConfirmId: pc.id}); err != nil {
		return "", apiError(err)
	}
	ss.srv.forget(pc)
	return ok, nil
}

// endConfirm rolls back the confirmed commit a session made without
// persist when the session ends before confirming it.
func (ss *session) endConfirm() {
	s := ss.srv
	s.mu.Lock()
	pc := s.confirmed
	s.mu.Unlock()
	if pc == nil || pc.persist != "" || pc.session != ss.id {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ss.cfg.Commit(ctx, &mgmtpb.CommitRequest{CancelConfirmed: true, ConfirmId: pc.id})
	s.forget(pc)
	if err == nil {
		s.log.Info("netconf session ended with its confirmed commit unconfirmed: rolled back", "session-id", ss.id)
	}
}

func (s *Server) forget(pc *pendingConfirm) {
	s.mu.Lock()
	if s.confirmed == pc {
		s.confirmed = nil
	}
	s.mu.Unlock()
}
