package netconf

import (
	"context"
	"fmt"
	"log/slog"
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
	return NewServer(Options{API: api.Conn, Log: slog.New(slog.DiscardHandler), HostName: func() string { return "gw1" }, Version: "1.2.3"}), api
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

func TestSession(t *testing.T) {
	srv, api := startServer(t)
	c := dial(t, srv, superUser, Base10, Base11)
	if v := c.ok("<get-software-information/>").Child("software-information"); v.ChildText("host-name") != "gw1" || v.ChildText("junos-version") != "1.2.3" {
		t.Errorf("software-information: %+v", v)
	}
	if re := c.ok("<get-route-engine-information/>").Child("route-engine-information").Child("route-engine"); re.ChildText("status") != "OK" || re.ChildText("slot") != "0" {
		t.Errorf("route-engine: %+v", re)
	}
	if text := c.ok(`<get-configuration format="text"/>`).ChildText("configuration-text"); !strings.Contains(text, "host-name gw1;") || !strings.Contains(text, "## SECRET-DATA") {
		t.Errorf("text configuration:\n%s", text)
	}
	if text := c.ok(`<get-configuration format="set"><configuration><system/></configuration></get-configuration>`).ChildText("configuration-set"); text != "set system host-name gw1" {
		t.Errorf("set configuration of system: %q", text)
	}
	if x := c.ok(`<get-configuration><configuration><security><ike><proposal><name>p</name></proposal></ike></security></configuration></get-configuration>`).Child("configuration"); x.Child("system") != nil ||
		x.Child("security").Child("ike").Child("proposal").ChildText("dh-group") != "group19" || x.Child("security").Child("ike").Child("policy") != nil {
		t.Errorf("filtered XML configuration: %+v", x)
	}
	if j := c.ok(`<get-configuration format="json"/>`).Text; !strings.Contains(j, `"host-name": "gw1"`) {
		t.Errorf("JSON configuration: %s", j)
	}
	if sa := c.ok(`<get-security-associations-information/>`).Child("ipsec-security-associations-information"); sa == nil || sa.ChildText("total-active-tunnels") != "0" {
		t.Errorf("ipsec SAs: %+v", sa)
	}
	if r := c.ok(`<get-services-security-associations-information/>`); r.Child("services-security-associations-information") == nil {
		t.Errorf("services SAs: %+v", r.Children)
	}
	if r := c.ok(`<get-ike-security-associations-information><detail/></get-ike-security-associations-information>`); r.Child("ike-security-associations-information") == nil {
		t.Errorf("IKE SAs: %+v", r.Children)
	}
	if er := c.fail(`<get-ike-security-associations-information><extensive/></get-ike-security-associations-information>`); er.Child("error-info").ChildText("bad-element") != "extensive" {
		t.Errorf("an unknown argument: %+v", er)
	}
	if out := c.ok(`<command format="text">show version</command>`).ChildText("output"); !strings.Contains(out, "Hostname: gw1") {
		t.Errorf("command text: %q", out)
	}
	if v := c.ok(`<command>show version invoke-on all-routing-engines</command>`).Child("software-information"); v == nil {
		t.Error("command XML: no software-information")
	}
	if er := c.fail(`<get-frobnication-information/>`); er.ChildText("error-tag") != "operation-not-supported" || er.Child("error-info").ChildText("bad-element") != "get-frobnication-information" {
		t.Errorf("an unknown RPC: %+v", er)
	}

	// A change: load, compare, check, commit.
	before := candidateText(t, api)
	er := c.fail(`<load-configuration action="set" format="text"><configuration-set>set system host-name gw2
set security ike proposal p dh-group group99</configuration-set></load-configuration>`)
	if er.ChildText("error-path") != "[edit security ike proposal p]" || !strings.Contains(er.ChildText("error-message"), "group99") || er.ChildText("error-severity") != "error" {
		t.Errorf("a bad load: path %q message %q", er.ChildText("error-path"), er.ChildText("error-message"))
	}
	if after := candidateText(t, api); after != before {
		t.Errorf("a refused load changed the candidate:\n%s", after)
	}
	if er := c.fail(`<load-configuration action="replace" format="text"><configuration-text>security { replace: ike { proposal x; } }</configuration-text></load-configuration>`); er.ChildText("error-tag") != "operation-not-supported" {
		t.Errorf("replace: tags: %+v", er)
	}
	c.ok(`<load-configuration action="merge" format="text"><configuration-text>system { host-name gw2; }</configuration-text></load-configuration>`)
	if d := c.ok(`<get-configuration compare="rollback" rollback="0" format="text"/>`).Child("configuration-information").ChildText("configuration-output"); !strings.Contains(d, "+   host-name gw2;") {
		t.Errorf("compare: %q", d)
	}
	if r := c.ok(`<commit-configuration><check/></commit-configuration>`).Child("commit-results"); r.Child("routing-engine").Child("commit-check-success") == nil {
		t.Errorf("commit check: %+v", r)
	}
	c.ok(`<commit-configuration><log>netconf test</log></commit-configuration>`)
	if text := c.ok(`<get-configuration database="committed" format="set"><configuration><system><host-name/></system></configuration></get-configuration>`).ChildText("configuration-set"); text != "set system host-name gw2" {
		t.Errorf("committed: %q", text)
	}
	// A commit that fails validation names the statement.
	c.ok(`<edit-config><target><candidate/></target><config><configuration><security><ike><gateway><name>g</name><ike-policy>nosuch</ike-policy></gateway></ike></security></configuration></config></edit-config>`)
	er = c.fail(`<commit/>`)
	if !strings.HasPrefix(er.ChildText("error-path"), "[edit security ike gateway") || !strings.Contains(er.ChildText("error-message"), "nosuch") {
		t.Errorf("a failing commit: path %q message %q", er.ChildText("error-path"), er.ChildText("error-message"))
	}
	c.ok(`<discard-changes/>`)
	if after := candidateText(t, api); strings.Contains(after, "nosuch") {
		t.Errorf("discard-changes left:\n%s", after)
	}
	c.ok(`<close-session/>`)
	if err := <-c.done; err != nil {
		t.Errorf("close-session: the session ended with %v", err)
	}
}

func TestReadOnlyRefused(t *testing.T) {
	srv, api := startServer(t)
	c := dial(t, srv, readOnly, Base10)
	before := candidateText(t, api)
	c.ok(`<get-configuration/>`)
	for _, op := range []string{
		`<load-configuration action="set" format="text"><configuration-set>set system host-name x</configuration-set></load-configuration>`,
		`<edit-config><target><candidate/></target><config><configuration><system><host-name>x</host-name></system></configuration></config></edit-config>`,
		`<commit-configuration/>`,
		`<lock><target><candidate/></target></lock>`,
		`<command>clear security ike security-associations</command>`,
	} {
		er := c.fail(op)
		if er.ChildText("error-message") != "permission denied" {
			t.Errorf("%s: %s %s", op, er.ChildText("error-tag"), er.ChildText("error-message"))
		}
	}
	if after := candidateText(t, api); after != before {
		t.Errorf("a read-only user changed the candidate:\n%s", after)
	}
}

func TestLocksAndKill(t *testing.T) {
	srv, _ := startServer(t)
	a := dial(t, srv, superUser, Base10, Base11)
	b := dial(t, srv, superUser, Base10)
	a.ok(`<lock><target><candidate/></target></lock>`)
	if er := b.fail(`<lock-configuration/>`); er.ChildText("error-tag") != "lock-denied" {
		t.Errorf("second lock: %s", er.ChildText("error-tag"))
	}
	if er := b.fail(`<load-configuration action="set"><configuration-set>set system host-name b</configuration-set></load-configuration>`); er.ChildText("error-tag") != "in-use" {
		t.Errorf("a load while another session holds the lock: %s", er.ChildText("error-tag"))
	}
	if er := a.fail(`<kill-session><session-id>` + a.id + `</session-id></kill-session>`); er.ChildText("error-tag") != "invalid-value" {
		t.Errorf("killing oneself: %s", er.ChildText("error-tag"))
	}
	// b kills a: a's transport ends and its lock goes with it.
	b.ok(`<kill-session><session-id>` + a.id + `</session-id></kill-session>`)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the killed session is still running")
	}
	b.ok(`<lock-configuration/>`)
	b.ok(`<unlock-configuration/>`)
}

func TestMalformedClosesSession(t *testing.T) {
	srv, _ := startServer(t)
	for _, bad := range []string{"<rpc><unclosed></rpc>", "not xml at all"} {
		c := dial(t, srv, superUser, Base10)
		c.w.WriteMessage([]byte(bad))
		b, err := c.r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "malformed-message") {
			t.Errorf("%q: reply %s", bad, b)
		}
		select {
		case err := <-c.done:
			if err == nil {
				t.Errorf("%q: the session ended without an error", bad)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: the session is still open", bad)
		}
	}
	// A hello without base:1.0 or 1.1 ends the session.
	a, b := net.Pipe()
	defer a.Close()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), b, superUser, func() { b.Close() }) }()
	r, w := NewReader(a), NewWriter(a)
	r.ReadMessage()
	w.WriteMessage([]byte(`<hello><capabilities><capability>urn:example</capability></capabilities></hello>`))
	if err := <-done; err == nil {
		t.Error("a hello with no base protocol was accepted")
	}
}
