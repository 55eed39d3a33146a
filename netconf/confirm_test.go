package netconf

import (
	"context"
	"strings"
	"testing"
	"time"

	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/mgmt/mgmttest"
)

// committedHostName is system host-name in the committed configuration.
func committedHostName(t *testing.T, api *mgmttest.API) string {
	t.Helper()
	r, err := mgmtpb.NewConfigClient(api.Conn).Show(context.Background(), &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_COMMITTED, Format: mgmtpb.ConfigFormat_SET})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(r.Text, "\n") {
		if h, ok := strings.CutPrefix(l, "set system host-name "); ok {
			return h
		}
	}
	return ""
}

func setHostName(c *client, name string) {
	c.ok(`<load-configuration action="set"><configuration-set>set system host-name ` + name + `</configuration-set></load-configuration>`)
}

// TestConfirmedCommitBelongsToItsSession: RFC 6241 §8.4. Without persist,
// another session can neither confirm nor cancel a confirmed commit, its
// own session can, and its session ending unconfirmed rolls it back. With
// persist, any session with the right persist-id confirms or cancels it.
func TestConfirmedCommitBelongsToItsSession(t *testing.T) {
	srv, api := startServer(t)
	a := dial(t, srv, superUser, Base10, Base11)
	b := dial(t, srv, superUser, Base10, Base11)
	setHostName(a, "stable")
	a.ok(`<commit/>`)

	setHostName(a, "risky")
	a.ok(`<commit><confirmed/><confirm-timeout>120</confirm-timeout></commit>`)
	if h := committedHostName(t, api); h != "risky" {
		t.Fatalf("after commit confirmed: %q", h)
	}
	if er := b.fail(`<commit/>`); er.ChildText("error-tag") != "in-use" {
		t.Errorf("another session confirmed: %s %s", er.ChildText("error-tag"), er.ChildText("error-message"))
	}
	if er := b.fail(`<cancel-commit/>`); er.ChildText("error-tag") != "in-use" {
		t.Errorf("another session cancelled: %s", er.ChildText("error-tag"))
	}
	a.ok(`<cancel-commit/>`)
	if h := committedHostName(t, api); h != "stable" {
		t.Fatalf("after cancel-commit: %q, want stable", h)
	}
	if er := a.fail(`<cancel-commit/>`); er.ChildText("error-tag") != "operation-failed" {
		t.Errorf("cancel with nothing pending: %s", er.ChildText("error-tag"))
	}

	// Its own session confirms it.
	setHostName(a, "confirmed")
	a.ok(`<commit><confirmed/></commit>`)
	a.ok(`<commit/>`)
	a.ok(`<close-session/>`)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		t.Fatal("session a did not end")
	}
	if h := committedHostName(t, api); h != "confirmed" {
		t.Fatalf("a confirmed commit was rolled back when its session ended: %q", h)
	}

	// A session that ends unconfirmed takes its confirmed commit with it.
	c := dial(t, srv, superUser, Base10)
	setHostName(c, "abandoned")
	c.ok(`<commit><confirmed/></commit>`)
	c.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for committedHostName(t, api) != "confirmed" {
		if time.Now().After(deadline) {
			t.Fatalf("the ended session's confirmed commit stayed: %q", committedHostName(t, api))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// persist: outlives the session; the persist-id confirms from anywhere.
	d := dial(t, srv, superUser, Base10)
	setHostName(d, "persistent")
	d.ok(`<commit><confirmed/><persist>tok1</persist></commit>`)
	d.conn.Close()
	<-d.done
	time.Sleep(100 * time.Millisecond)
	if h := committedHostName(t, api); h != "persistent" {
		t.Fatalf("a persistent confirmed commit was rolled back with its session: %q", h)
	}
	if er := b.fail(`<commit/>`); er.ChildText("error-tag") != "invalid-value" {
		t.Errorf("confirm without persist-id: %s", er.ChildText("error-tag"))
	}
	if er := b.fail(`<commit><persist-id>wrong</persist-id></commit>`); er.ChildText("error-tag") != "invalid-value" {
		t.Errorf("confirm with a wrong persist-id: %s", er.ChildText("error-tag"))
	}
	b.ok(`<commit><persist-id>tok1</persist-id></commit>`)
	if st, err := mgmtpb.NewConfigClient(api.Conn).Status(context.Background(), &mgmtpb.StatusRequest{}); err != nil || st.ConfirmSecondsLeft != 0 {
		t.Fatalf("still pending after the confirming commit: %v %v", st, err)
	}
	if h := committedHostName(t, api); h != "persistent" {
		t.Fatalf("after the confirming commit: %q", h)
	}

	// persist-id also cancels.
	setHostName(b, "cancelled")
	b.ok(`<commit><confirmed/><persist>tok2</persist></commit>`)
	e := dial(t, srv, superUser, Base10)
	e.ok(`<cancel-commit><persist-id>tok2</persist-id></cancel-commit>`)
	if h := committedHostName(t, api); h != "persistent" {
		t.Fatalf("after cancel-commit with persist-id: %q", h)
	}
}
