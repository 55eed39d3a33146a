package netconf

import (
	"strings"
	"testing"
)

// TestLoadFormatsAndGet: <load-configuration> in each format a client
// sends (XML, JSON, and text with action override) changes the candidate
// as asked; <get> answers the committed configuration through its subtree
// filter.
func TestLoadFormatsAndGet(t *testing.T) {
	srv, api := startServer(t)
	c := dial(t, srv, superUser, Base10, Base11)
	c.ok(`<load-configuration action="merge" format="xml"><configuration><system><host-name>gw-xml</host-name></system></configuration></load-configuration>`)
	c.ok(`<load-configuration action="merge" format="json"><configuration-json>{"configuration": {"security": {"ike": {"proposal": [{"name": "pj", "dh-group": "group20"}]}}}}</configuration-json></load-configuration>`)
	cand := candidateText(t, api)
	for _, want := range []string{"set system host-name gw-xml", "set security ike proposal pj dh-group group20", "set security ike proposal p dh-group group19"} {
		if !strings.Contains(cand, want) {
			t.Errorf("candidate lacks %q:\n%s", want, cand)
		}
	}
	c.ok(`<commit-configuration/>`)
	data := c.ok(`<get><filter type="subtree"><configuration><system><host-name/></system></configuration></filter></get>`).Child("data")
	if h := data.Child("configuration").Child("system").ChildText("host-name"); h != "gw-xml" || data.Child("configuration").Child("security") != nil {
		t.Errorf("<get> with a filter: host-name %q, security %v", h, data.Child("configuration").Child("security"))
	}
	// override replaces the whole candidate.
	c.ok(`<load-configuration action="override" format="text"><configuration-text>system { host-name gw-over; }
interfaces { eth1 { unit 0 { family inet { address 192.0.2.1/24; } } } }</configuration-text></load-configuration>`)
	if cand := candidateText(t, api); strings.Contains(cand, "proposal") || !strings.Contains(cand, "set system host-name gw-over") {
		t.Errorf("after override:\n%s", cand)
	}
	// The committed configuration stays until a commit.
	if h := c.ok(`<get/>`).Child("data").Child("configuration").Child("system").ChildText("host-name"); h != "gw-xml" {
		t.Errorf("<get> after an uncommitted override: host-name %q", h)
	}
}
