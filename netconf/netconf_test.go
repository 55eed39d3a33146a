package netconf

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/mgmt/mgmttest"
)

const testConfig = `set system host-name gw1
set interfaces eth1 unit 0 family inet address 192.0.2.1/24
set security ike proposal p authentication-method pre-shared-keys
set security ike proposal p dh-group group19
set security ike policy pol proposals p
set security ike policy pol pre-shared-key ascii-text "secret123"
`

var (
	superUser = &schema.User{Name: "alice", Class: schema.ClassSuperUser}
	readOnly  = &schema.User{Name: "bob", Class: schema.ClassReadOnly}
)

// client is a NETCONF client on one end of a pipe whose other end a
// session of srv serves.
type client struct {
	t    *testing.T
	r    *Reader
	w    *Writer
	conn net.Conn
	id   string
	done chan error
	next int
}

func startServer(t *testing.T) (*Server, *mgmttest.API) {
	api := mgmttest.Start(t, testConfig)
	return NewServer(Options{API: api.Conn, HostName: func() string { return "gw1" }, Version: "1.2.3"}), api
}

// dial opens a session of user u, exchanging hellos with base (1.0, 1.1 or
// both).
func dial(t *testing.T, srv *Server, u *schema.User, bases ...string) *client {
	t.Helper()
	a, b := net.Pipe()
	c := &client{t: t, r: NewReader(a), w: NewWriter(a), conn: a, done: make(chan error, 1)}
	go func() { c.done <- srv.Serve(context.Background(), b, u, func() { b.Close() }) }()
	t.Cleanup(func() { a.Close() })
	msg, err := c.r.ReadMessage()
	if err != nil {
		t.Fatalf("server hello: %v", err)
	}
	h, err := ParseElement(msg)
	if err != nil || h.Name != "hello" || h.ChildText("session-id") == "" {
		t.Fatalf("server hello: %v\n%s", err, msg)
	}
	c.id = h.ChildText("session-id")
	var caps strings.Builder
	for _, b := range bases {
		caps.WriteString("<capability>" + b + "</capability>")
	}
	if err := c.w.WriteMessage([]byte(`<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>` + caps.String() + `</capabilities></hello>`)); err != nil {
		t.Fatal(err)
	}
	for _, b := range bases {
		if b == Base11 {
			c.r.SetChunked()
			c.w.SetChunked()
		}
	}
	return c
}

// rpc sends op and returns the parsed reply.
func (c *client) rpc(op string) *Element {
	c.t.Helper()
	c.next++
	msg := fmt.Sprintf(`<rpc message-id="%d" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</rpc>`, c.next, op)
	if err := c.w.WriteMessage([]byte(msg)); err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := c.r.ReadMessage()
	if err != nil {
		c.t.Fatalf("reply to %s: %v", op, err)
	}
	e, err := ParseElement(b)
	if err != nil || e.Name != "rpc-reply" {
		c.t.Fatalf("reply to %s: %v\n%s", op, err, b)
	}
	if e.Attr("message-id") != fmt.Sprint(c.next) {
		c.t.Errorf("message-id %q, want %d", e.Attr("message-id"), c.next)
	}
	return e
}

// ok sends op and fails unless the reply has no rpc-error.
func (c *client) ok(op string) *Element {
	c.t.Helper()
	e := c.rpc(op)
	if er := e.Child("rpc-error"); er != nil {
		c.t.Fatalf("%s: rpc-error %s: %s (path %s)", op, er.ChildText("error-tag"), er.ChildText("error-message"), er.ChildText("error-path"))
	}
	return e
}

// fail sends op and returns its rpc-error, failing if there is none.
func (c *client) fail(op string) *Element {
	c.t.Helper()
	e := c.rpc(op)
	er := e.Child("rpc-error")
	if er == nil {
		c.t.Fatalf("%s: no rpc-error", op)
	}
	return er
}

func candidateText(t *testing.T, api *mgmttest.API) string {
	r, err := mgmtpb.NewConfigClient(api.Conn).Show(context.Background(), &mgmtpb.ShowConfigRequest{Format: mgmtpb.ConfigFormat_SET})
	if err != nil {
		t.Fatal(err)
	}
	return r.Text
}

func TestSmoke(t *testing.T) {
	srv, _ := startServer(t)
	c := dial(t, srv, superUser, Base10, Base11)
	for _, op := range []string{
		"<get-software-information/>",
		"<get-route-engine-information/>",
		`<get-configuration format="text"/>`,
		`<get-configuration format="set"/>`,
		`<get-configuration/>`,
		`<get-configuration format="json"/>`,
		`<get-configuration><configuration><system><host-name/></system></configuration></get-configuration>`,
		`<get-security-associations-information/>`,
		`<command format="text">show version</command>`,
		`<command>show version invoke-on all-routing-engines</command>`,
	} {
		e := c.ok(op)
		var b strings.Builder
		for _, ch := range e.Children {
			fmt.Fprintf(&b, "<%s>%s ", ch.Name, ch.Text)
			for _, g := range ch.Children {
				fmt.Fprintf(&b, "<%s>%s ", g.Name, g.Text)
			}
		}
		t.Logf("%s → %s %s", op, b.String(), e.Text)
	}
}
