package netconf

import (
	"encoding/json"
	"strings"
	"testing"
)

// ncclientScript speaks standard NETCONF with ncclient (no Junos device
// handler): base:1.1 chunked framing, the standard operations on the
// candidate, and two sessions for lock and kill-session.
const ncclientScript = `
import json, sys
from ncclient import manager
from ncclient.operations import RPCError
from ncclient.transport.session import NetconfBase
from ncclient.xml_ import to_ele

host, password = sys.argv[1], sys.argv[2]
def connect():
    return manager.connect(host=host, port=830, username="alice", password=password, hostkey_verify=False,
                           allow_agent=False, look_for_keys=False, device_params={"name": "default"}, timeout=30)
out = {}
m = connect()
out["chunked"] = m._session._base == NetconfBase.BASE_11
out["session_id"] = m.session_id
out["caps"] = [c for c in m.server_capabilities]
out["running_host"] = m.get_config(source="running", filter=("subtree", "<configuration><system><host-name/></system></configuration>")).data_ele.findtext(".//{*}host-name")
m.lock(target="candidate")
# A second session is refused the lock while the first holds it.
m2 = connect()
try:
    m2.lock(target="candidate")
    out["second_lock"] = "granted"
except RPCError as e:
    out["second_lock"] = e.tag
m.edit_config(target="candidate", config="""<config><configuration>
  <system><host-name>gw1-nc</host-name></system>
  <security><ike><proposal><name>ncprop</name><authentication-method>pre-shared-keys</authentication-method><dh-group>group14</dh-group></proposal></ike></security>
</configuration></config>""")
out["candidate_host"] = m.get_config(source="candidate").data_ele.findtext(".//{*}system/{*}host-name")
out["proposal_before_delete"] = m.get_config(source="candidate").data_ele.findtext(".//{*}proposal[{*}name='ncprop']/{*}dh-group")
m.edit_config(target="candidate", config="""<config><configuration><security><ike><proposal operation="delete"><name>ncprop</name></proposal></ike></security></configuration></config>""")
out["proposal_after_delete"] = m.get_config(source="candidate").data_ele.findtext(".//{*}proposal[{*}name='ncprop']/{*}dh-group")
m.validate(source="candidate")
try:
    m.edit_config(target="candidate", config="<config><configuration><security><ike><nonsense/></ike></security></configuration></config>")
    out["bad_edit"] = "accepted"
except RPCError as e:
    out["bad_edit"] = [e.tag, e.path, e.message]
m.commit(confirmed=True, timeout="60")
m.commit()
out["running_after_commit"] = m.get_config(source="running").data_ele.findtext(".//{*}system/{*}host-name")
m.edit_config(target="candidate", config="<config><configuration><system><host-name>discarded</host-name></system></configuration></config>")
m.discard_changes()
out["candidate_after_discard"] = m.get_config(source="candidate").data_ele.findtext(".//{*}system/{*}host-name")
# The first session kills the second.
m.kill_session(session_id=m2.session_id)
try:
    m2.get_config(source="running")
    out["killed"] = False
except Exception:
    out["killed"] = True
m.unlock(target="candidate")
out["reply_message_id"] = to_ele(m.dispatch(to_ele("<get-software-information/>")).xml).get("message-id") is not None
m.close_session()
print(json.dumps(out))
`

// TestNcclient: standard NETCONF from ncclient, with chunked framing.
func TestNcclient(t *testing.T) {
	l := newLab(t)
	raw := l.python(ncclientScript, gw1Address, alicePassword)
	t.Logf("ncclient saw: %s", raw)
	var got map[string]any
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	str := func(k string) string { s, _ := got[k].(string); return s }
	if got["chunked"] != true {
		t.Error("the session did not switch to base:1.1 chunked framing")
	}
	caps, _ := got["caps"].([]any)
	want := map[string]bool{"urn:ietf:params:netconf:base:1.1": false, "urn:ietf:params:netconf:capability:candidate:1.0": false,
		"urn:ietf:params:netconf:capability:confirmed-commit:1.1": false, "urn:ietf:params:netconf:capability:validate:1.1": false,
		"http://xml.juniper.net/netconf/junos/1.0": false}
	for _, c := range caps {
		if s, _ := c.(string); s != "" {
			if _, ok := want[s]; ok {
				want[s] = true
			}
		}
	}
	for c, seen := range want {
		if !seen {
			t.Errorf("capability %s not offered: %v", c, caps)
		}
	}
	if str("running_host") != "gw1" || str("candidate_host") != "gw1-nc" || str("running_after_commit") != "gw1-nc" || str("candidate_after_discard") != "gw1-nc" {
		t.Errorf("host names: running %q, candidate %q, after commit %q, after discard %q",
			str("running_host"), str("candidate_host"), str("running_after_commit"), str("candidate_after_discard"))
	}
	if str("second_lock") != "lock-denied" {
		t.Errorf("a second session's lock: %q", str("second_lock"))
	}
	if got["killed"] != true {
		t.Error("the killed session still answers")
	}
	if str("proposal_before_delete") != "group14" || got["proposal_after_delete"] != nil {
		t.Errorf("the merged proposal's dh-group %q; after operation=delete: %v", str("proposal_before_delete"), got["proposal_after_delete"])
	}
	bad, _ := got["bad_edit"].([]any)
	if len(bad) != 3 || bad[0] != "unknown-element" || bad[1] != "[edit security ike]" || !strings.Contains(bad[2].(string), "nonsense") {
		t.Errorf("bad edit: %v", got["bad_edit"])
	}
	if got["reply_message_id"] != true {
		t.Error("reply without message-id")
	}
	if out := l.cli("show configuration system host-name"); !strings.Contains(out, "gw1-nc") {
		t.Errorf("the CLI does not see the committed change: %q", out)
	}
}
