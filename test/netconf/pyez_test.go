package netconf

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// pyezScript drives gw1 with PyEZ as an automation script would, and
// prints what it saw as one JSON object.
const pyezScript = `
import json, sys, warnings
from jnpr.junos import Device
from jnpr.junos.utils.config import Config
from jnpr.junos.exception import ConfigLoadError, ConnectAuthError, RpcError

host, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}

# A wrong password is refused.
try:
    Device(host=host, port=830, user=user, passwd=password + "-wrong", gather_facts=False).open()
    out["wrong_password"] = "accepted"
except ConnectAuthError as e:
    out["wrong_password"] = "refused"

dev = Device(host=host, port=830, user=user, passwd=password, gather_facts=False)
dev.open()
# Every fact PyEZ gathers, failing on the first that cannot be.
dev.facts_refresh(exception_on_failure=True)
out["hostname"] = dev.facts["hostname"]
out["version"] = dev.facts["version"]
out["model"] = dev.facts["model"]
out["re0_status"] = (dev.facts["RE0"] or {}).get("status")

cu = Config(dev)
cu.lock()
cu.load("set system host-name gw1-pyez", format="set")
cu.load("""security {
    ike {
        proposal pyez {
            authentication-method pre-shared-keys;
            dh-group group20;
        }
    }
}""", format="text")
out["diff"] = cu.diff()
out["commit_check"] = cu.commit_check()
out["commit_confirm"] = cu.commit(confirm=1, comment="from pyez")
out["committed_host"] = dev.rpc.get_config(filter_xml="system/host-name", options={"database": "committed"}).findtext("system/host-name")
# Confirm it, then roll it back.
out["commit"] = cu.commit()
# Rollback 1 is the commit that confirmed (the same configuration as the
# confirmed commit), 2 the one before, as on Junos.
cu.rollback(2)
out["rollback_diff"] = cu.diff()
cu.commit()
out["host_after_rollback"] = dev.rpc.get_config(filter_xml="system/host-name", options={"database": "committed"}).findtext("system/host-name")

# A load that cannot be applied: ConfigLoadError with ipsecgw's message,
# and the candidate unchanged.
try:
    cu.load("set security ike proposal bad dh-group group99", format="set")
    out["bad_load"] = "accepted"
except ConfigLoadError as e:
    out["bad_load"] = e.message
    out["bad_load_path"] = e.rpc_error.get("edit_path") or ""
out["diff_after_bad_load"] = cu.diff()
cu.unlock()

# The live IPsec SAs, read from the reply's XML.
sa = dev.rpc.get_security_associations_information()
out["sa_root"] = sa.tag
out["sa_tunnels"] = sa.findtext("total-active-tunnels")
out["sa_spis"] = [x.text for x in sa.findall("ipsec-security-associations-block/ipsec-security-associations/sa-spi")]
out["sa_gateway"] = sa.findtext("ipsec-security-associations-block/ipsec-security-associations/sa-remote-gateway")
ike = dev.rpc.get_ike_security_associations_information()
out["ike_state"] = ike.findtext("ike-security-associations/ike-sa-state")
# A show command as CLI text.
out["cli_text"] = dev.cli("show security ike security-associations", warning=False)
dev.close()

# A read-only user: reads, and is refused a change.
ro = Device(host=host, port=830, user="bob", passwd=sys.argv[4], gather_facts=False)
ro.open()
out["ro_read"] = ro.rpc.get_config(filter_xml="system/host-name").findtext("system/host-name")
try:
    Config(ro).load("set system host-name by-bob", format="set")
    out["ro_load"] = "accepted"
except RpcError as e:
    out["ro_load"] = type(e).__name__ + ": " + str(e.message)
ro.close()
print(json.dumps(out))
`

// TestPyEZ: PyEZ opens a NETCONF session with a password, gathers every
// fact, locks, loads a set-format and a text-format change, diffs,
// checks, commits confirmed, commits, rolls back; a refused load raises
// ConfigLoadError with ipsecgw's message and leaves the candidate as it
// was; get_security_associations_information returns the live SAs of the
// IKEv2 tunnel; a read-only user is refused; a wrong password is refused
// and counted.
func TestPyEZ(t *testing.T) {
	l := newLab(t)
	l.waitIKE()
	spis := l.cli("show security ipsec security-associations")
	raw := l.python(pyezScript, gw1Address, "alice", alicePassword, bobPassword)
	var got map[string]any
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	t.Logf("PyEZ saw: %s", raw)
	str := func(k string) string { s, _ := got[k].(string); return s }
	check := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf(format, args...)
		}
	}
	check(str("wrong_password") == "refused", "a wrong password was %s", str("wrong_password"))
	check(str("hostname") == "gw1", "facts hostname %q", str("hostname"))
	check(str("version") != "" && str("version") != "0.0", "facts version %q", str("version"))
	check(str("model") == "IPSECGW", "facts model %q", str("model"))
	check(str("re0_status") == "OK", "facts RE0 status %q", str("re0_status"))
	diff := str("diff")
	check(strings.Contains(diff, "+   host-name gw1-pyez;") && strings.Contains(diff, "+   proposal pyez {") && strings.Contains(diff, "-   host-name gw1;"),
		"diff:\n%s", diff)
	check(got["commit_check"] == true && got["commit_confirm"] == true && got["commit"] == true, "commits: %v %v %v", got["commit_check"], got["commit_confirm"], got["commit"])
	check(str("committed_host") == "gw1-pyez", "committed host-name after commit: %q", str("committed_host"))
	check(strings.Contains(str("rollback_diff"), "-   host-name gw1-pyez;"), "diff after rollback 2:\n%s", str("rollback_diff"))
	check(str("host_after_rollback") == "gw1", "host-name after rollback: %q", str("host_after_rollback"))
	check(strings.Contains(str("bad_load"), "dh-group") && strings.Contains(str("bad_load"), "group99"), "refused load: %q", str("bad_load"))
	check(str("bad_load_path") == "[edit security ike proposal bad]", "refused load's error-path %q", str("bad_load_path"))
	check(got["diff_after_bad_load"] == nil, "the candidate changed after a refused load: %v", got["diff_after_bad_load"])
	check(str("sa_root") == "ipsec-security-associations-information" && str("sa_tunnels") == "1", "SAs: %s %s", str("sa_root"), str("sa_tunnels"))
	gotSPIs, _ := got["sa_spis"].([]any)
	check(len(gotSPIs) == 2, "SPIs %v", gotSPIs)
	for _, s := range gotSPIs {
		// The XML has the SPI in hex without leading zeros, the text
		// layout with all eight digits.
		spi, _ := s.(string)
		n, err := strconv.ParseUint(spi, 16, 32)
		check(err == nil && strings.Contains(spis, fmt.Sprintf("0x%08x", n)), "SPI %s is not one the CLI shows:\n%s", spi, spis)
	}
	check(str("sa_gateway") == "192.0.2.2", "SA gateway %q", str("sa_gateway"))
	check(str("ike_state") == "UP", "IKE SA state %q", str("ike_state"))
	check(strings.Contains(str("cli_text"), "UP") && strings.Contains(str("cli_text"), "192.0.2.2"), "cli text:\n%s", str("cli_text"))
	check(str("ro_read") == "gw1", "read-only read %q", str("ro_read"))
	check(strings.Contains(str("ro_load"), "permission denied"), "read-only load: %q", str("ro_load"))
	if m := l.metric("ipsecgw_login_failures_total"); !strings.Contains(m, `ipsecgw_login_failures_total{method="password",service="netconf"} 1`) {
		t.Errorf("failed login not counted:\n%s", m)
	}
	if log := l.log(l.gw1); !strings.Contains(log, "login failed") || !strings.Contains(log, "from=198.51.100.2:") || strings.Contains(log, alicePassword) {
		t.Errorf("the failed login is not logged with its source (or the password is):\n%s", log)
	}
}
