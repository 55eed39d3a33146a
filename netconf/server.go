// Package netconf is NETCONF (RFC 6241) over SSH (RFC 6242) the way Junos
// speaks it: the standard operations on the candidate, the Junos RPCs that
// PyEZ, Ansible and ncclient scripts call (get-configuration,
// load-configuration, commit-configuration, the show commands as their
// RPCs, <command>), and errors as <rpc-error>.
//
// Like the CLI, it is only a client of the management API: every request
// becomes API calls made with the permissions of the user's login class
// (package access), so NETCONF, the CLI and any other client share one
// candidate and one commit.
package netconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"google.golang.org/grpc"

	"ipsecgw/access"
	"ipsecgw/config/schema"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/show"
)

// Capability URIs.
const (
	Base10 = "urn:ietf:params:netconf:base:1.0"
	Base11 = "urn:ietf:params:netconf:base:1.1"
)

// BaseNamespace is NETCONF's XML namespace.
const BaseNamespace = "urn:ietf:params:xml:ns:netconf:base:1.0"

// capabilities are what the hello offers: the base protocols, the
// standard capabilities ipsecgw implements, and the Junos ones that tell
// Junos clients they may send Junos RPCs.
var capabilities = []string{
	Base10,
	Base11,
	"urn:ietf:params:netconf:capability:candidate:1.0",
	"urn:ietf:params:netconf:capability:confirmed-commit:1.0",
	"urn:ietf:params:netconf:capability:confirmed-commit:1.1",
	"urn:ietf:params:netconf:capability:validate:1.0",
	"urn:ietf:params:netconf:capability:validate:1.1",
	"urn:ietf:params:xml:ns:netconf:base:1.0",
	"urn:ietf:params:xml:ns:netconf:capability:candidate:1.0",
	"urn:ietf:params:xml:ns:netconf:capability:confirmed-commit:1.0",
	"urn:ietf:params:xml:ns:netconf:capability:validate:1.0",
	"http://xml.juniper.net/netconf/junos/1.0",
	"http://xml.juniper.net/dmi/system/1.0",
}

// Options configure a Server.
type Options struct {
	API      grpc.ClientConnInterface
	Log      *slog.Logger
	HostName func() string // the configured host name
	Version  string        // ipsecgw's release, for get-software-information
}

// Server holds what NETCONF sessions share: their ids (for kill-session)
// and the candidate's lock.
type Server struct {
	opts Options
	cfg  mgmtpb.ConfigClient
	op   mgmtpb.OperationalClient
	log  *slog.Logger

	mu       sync.Mutex
	nextID   uint32
	sessions map[uint32]*session
	lockedBy uint32 // session holding the candidate's lock; 0 none
	// confirmed is the pending confirmed commit made with <commit>
	// (confirm.go); nil when none is.
	confirmed *pendingConfirm
}

// NewServer returns a server whose sessions use the API on opts.API.
func NewServer(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.HostName == nil {
		opts.HostName = func() string { return "ipsecgw" }
	}
	return &Server{opts: opts, log: opts.Log, cfg: mgmtpb.NewConfigClient(opts.API), op: mgmtpb.NewOperationalClient(opts.API),
		sessions: map[uint32]*session{}}
}

// session is one NETCONF session.
type session struct {
	srv  *Server
	id   uint32
	user *schema.User
	cfg  mgmtpb.ConfigClient
	op   mgmtpb.OperationalClient
	r    *Reader
	w    *Writer
	kill func() // ends the transport (kill-session by another session)
}

// errClosed ends a session after close-session.
var errClosed = errors.New("netconf: session closed")

// Serve runs one session of user u on rw (the SSH channel of the netconf
// subsystem) until the client closes it, the transport ends, or a framing
// or XML error makes it unreadable. kill ends the transport; another
// session's kill-session calls it.
func (s *Server) Serve(ctx context.Context, rw io.ReadWriter, u *schema.User, kill func()) error {
	ss := &session{srv: s, user: u, cfg: access.Config(s.cfg, u), op: access.Operational(s.op, u),
		r: NewReader(rw), w: NewWriter(rw), kill: kill}
	s.mu.Lock()
	s.nextID++
	ss.id = s.nextID
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	defer s.end(ss)
	defer ss.endConfirm()
	s.log.Info("netconf session", "session-id", ss.id, "user", u.Name)
	if err := ss.hello(); err != nil {
		return err
	}
	for {
		msg, err := ss.r.ReadMessage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// The stream is out of step: say why (best effort) and close.
			ss.write(replyError("", rpcError{Type: "rpc", Tag: "malformed-message", Message: err.Error()}))
			return err
		}
		if err := ss.handle(ctx, msg); err != nil {
			if errors.Is(err, errClosed) {
				return nil
			}
			return err
		}
	}
}

// end forgets a session and releases its lock (RFC 6241 §7.5: a lock
// ends with its session).
func (s *Server) end(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss.id)
	if s.lockedBy == ss.id {
		s.lockedBy = 0
	}
}

// hello sends ours and reads the client's; chunked framing follows when
// both offer base:1.1.
func (ss *session) hello() error {
	var b strings.Builder
	b.WriteString(`<hello xmlns="` + BaseNamespace + `">` + "\n  <capabilities>\n")
	for _, c := range capabilities {
		b.WriteString("    <capability>" + c + "</capability>\n")
	}
	fmt.Fprintf(&b, "  </capabilities>\n  <session-id>%d</session-id>\n</hello>\n", ss.id)
	if err := ss.w.WriteMessage([]byte(b.String())); err != nil {
		return err
	}
	msg, err := ss.r.ReadMessage()
	if err != nil {
		return fmt.Errorf("netconf: reading the client's hello: %w", err)
	}
	h, err := ParseElement(msg)
	if err != nil {
		return err
	}
	if h.Name != "hello" {
		return fmt.Errorf("netconf: expected <hello>, got <%s>", h.Name)
	}
	if h.Has("session-id") {
		return errors.New("netconf: a client's hello has no session-id")
	}
	base10, base11 := false, false
	for _, c := range h.Child("capabilities").Children {
		switch c.Text {
		case Base10:
			base10 = true
		case Base11:
			base11 = true
		}
	}
	if !base10 && !base11 {
		return errors.New("netconf: the client offers no base protocol we speak")
	}
	if base11 {
		ss.r.SetChunked()
		ss.w.SetChunked()
	}
	return nil
}

func (ss *session) write(msg string) error { return ss.w.WriteMessage([]byte(msg)) }

// handle answers one <rpc>.
func (ss *session) handle(ctx context.Context, msg []byte) error {
	rpc, err := ParseElement(msg)
	if err != nil {
		ss.write(replyError("", rpcError{Type: "rpc", Tag: "malformed-message", Message: err.Error()}))
		return err
	}
	attrs := echoAttrs(rpc)
	if rpc.Name != "rpc" {
		return ss.write(replyError(attrs, rpcError{Type: "rpc", Tag: "operation-not-supported", Message: "expected <rpc>, got <" + rpc.Name + ">"}))
	}
	if len(rpc.Children) != 1 {
		return ss.write(replyError(attrs, rpcError{Type: "rpc", Tag: "missing-element", Message: "an <rpc> holds one operation"}))
	}
	op := rpc.Children[0]
	body, rerr := ss.dispatch(ctx, op)
	if rerr != nil {
		if err := ss.write(replyError(attrs, *rerr)); err != nil {
			return err
		}
	} else if err := ss.write(reply(attrs, body)); err != nil {
		return err
	}
	if op.Name == "close-session" && rerr == nil {
		return errClosed
	}
	return nil
}

// echoAttrs is the attributes of <rpc> as the reply repeats them (RFC
// 6241 §4.2: message-id and any other).
func echoAttrs(rpc *Element) string {
	var b strings.Builder
	// message-id first, the rest in a stable order.
	if v, ok := rpc.Attrs["message-id"]; ok {
		b.WriteString(` message-id="` + escape(v) + `"`)
	}
	for _, k := range sortedKeys(rpc.Attrs) {
		if k != "message-id" {
			b.WriteString(" " + k + `="` + escape(rpc.Attrs[k]) + `"`)
		}
	}
	return b.String()
}

// reply wraps body in <rpc-reply>.
func reply(attrs, body string) string {
	return `<rpc-reply xmlns="` + BaseNamespace + `" xmlns:junos="` + show.JunosNamespace + `"` + attrs + ">\n" + body + "</rpc-reply>\n"
}
