package cli

import (
	"reflect"
	"strings"
	"testing"

	"ipsecgw/mgmt/mgmtpb"
)

func TestOperationalHelpGolden(t *testing.T) {
	cases := map[string]string{
		"": `Possible completions:
  clear                Clear information in the system
  configure            Manipulate software configuration information
  exit                 Exit the management session
  help                 Provide help information
  quit                 Exit the management session
  request              Make system-level requests
  show                 Show system information
`,
		"sh sec ike sa ": `Possible completions:
  <[Enter]>            Execute this command
  <peer-address>       IP address of the peer
  brief                Show brief output (default)
  detail               Show detailed output
  index                Index of the IKE security association
  |                    Pipe through a command
`,
		// brief and detail exclude each other; index was given.
		"sh sec ike sa detail index 4 ": `Possible completions:
  <[Enter]>            Execute this command
  <peer-address>       IP address of the peer
  |                    Pipe through a command
`,
		"show sec ipsec s": `Possible completions:
  security-associations Show IPsec security associations
  statistics           Show IPsec statistics
`,
		"show security ipsec sa family ": `Possible completions:
  inet                 IPv4 family
  inet6                IPv6 family
`,
		"show version | ": `Possible completions:
  count                Count occurrences
  display              Show additional kinds of information
  except               Show only text that does not match a pattern
  match                Show only text that matches a pattern
  no-more              Don't paginate output
`,
		"show frob ": `               ^
syntax error, expecting <command>.
`,
	}
	for line, want := range cases {
		h := newHarness(t)
		if got := h.s.Help(line); got != want {
			t.Errorf("%q ?\ngot\n%s\nwant\n%s", line, got, want)
		}
	}
}

func TestConfigurationHelpGolden(t *testing.T) {
	cases := map[string]string{
		"set ": `Possible completions:
+ apply-groups         Groups from which to inherit configuration data
+ apply-groups-except  Don't inherit configuration data from these groups
> chassis              Chassis
> groups               Configuration groups
> interfaces           Interfaces
> policy-options       Routing policy
> protocols            Routing protocols
> routing-options      Routing
> security             Security
> services             Services
> system               System
  version              Junos version the configuration was written for
`,
		"set security ike gateway g dead-peer-detection ": `Possible completions:
  <[Enter]>            Execute this command
  always-send          Probe every interval
+ apply-groups         Groups from which to inherit configuration data
+ apply-groups-except  Don't inherit configuration data from these groups
  interval             Seconds between probes
  optimized            Probe only when traffic was sent and nothing came back (default)
  probe-idle-tunnel    Also probe when the tunnel is idle
  threshold            Unanswered probes before the peer is dead
`,
		"set security ike proposal p lifetime-seconds ": `Possible completions:
  <number>             Lifetime in seconds (180..86400)
`,
		"set security ike gateway g version ": `Possible completions:
  v1-only
  v2-only
`,
		"set security ike proposal ": `Possible completions:
  <name>               IKE proposal
`,
		"commit ": `Possible completions:
  <[Enter]>            Execute this command
  and-quit             Quit configuration mode if commit succeeds
  check                Check correctness of syntax; do not apply changes
  comment              Message to write to commit log
  confirmed            Automatically rollback if not confirmed
`,
		"rollback ": `Possible completions:
  <[Enter]>            Execute this command
  0                    2026-01-01 00:00:00 UTC by root via cli
  1                    2025-12-31 23:00:00 UTC by ops via cli new peer
`,
		"show | c": `Possible completions:
  compare              Compare configuration changes with prior version
  count                Count occurrences
`,
	}
	for line, want := range cases {
		h := newHarness(t)
		h.mustRun(t, "configure")
		if got := h.s.Help(line); got != want {
			t.Errorf("%q ?\ngot\n%s\nwant\n%s", line, got, want)
		}
	}
}

func TestHelpAtEditLevelIsRelative(t *testing.T) {
	h := newHarness(t)
	h.mustRun(t, "configure")
	h.mustRun(t, "edit security ike gateway gw1 dead-peer-detection")
	want := "Possible completions:\n  interval             Seconds between probes\n"
	if got := h.s.Help("set in"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTabCompletion(t *testing.T) {
	cases := []struct {
		config  bool
		line    string
		want    string
		listing []string
	}{
		{false, "sh", "show ", nil},
		{false, "show sec", "show security ", nil},
		{false, "show security ike sa det", "show security ike sa detail ", nil},
		{false, "show s", "show se", nil}, // security, services: the common part
		{false, "show se", "show se", []string{"security", "services"}},
		{false, "show version | di", "show version | display ", nil},
		{false, "frob", "frob", nil},
		{true, "set sec", "set security ", nil},
		{true, "set security ike gateway g ver", "set security ike gateway g version ", nil},
		{true, "set security ike gateway g version v2", "set security ike gateway g version v2-only ", nil},
		{true, "set security ike gateway g version v", "set security ike gateway g version v", []string{"v1-only", "v2-only"}},
		{true, `set system host-name "a`, `set system host-name "a`, nil},
		{true, "com", "commit ", nil},
		{true, "run sh ver", "run sh version ", nil},
	}
	for _, c := range cases {
		h := newHarness(t)
		if c.config {
			h.mustRun(t, "configure")
		}
		got, cs := h.s.Complete(c.line)
		var listed []string
		for _, x := range cs {
			listed = append(listed, x.word)
		}
		if got != c.want || !reflect.DeepEqual(listed, c.listing) {
			t.Errorf("Tab on %q: %q listing %q, want %q listing %q", c.line, got, listed, c.want, c.listing)
		}
	}
}

func TestHelpOffersExistingEntries(t *testing.T) {
	h := newHarness(t)
	h.cfg.showText = "set security ike gateway gw1 version v2-only\nset security ike gateway \"gw 2\" address 192.0.2.1\n" +
		"set security ike gateway gw1 address 192.0.2.2\n"
	h.mustRun(t, "configure")
	h.mustRun(t, "edit security ike")
	want := "Possible completions:\n  <name>               IKE gateway (peer)\n  \"gw 2\"\n  gw1\n"
	if got := h.s.Help("set gateway "); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got, _ := h.s.Complete("set gateway g"); got != "set gateway gw1 " {
		t.Fatalf("Tab: %q", got)
	}
	if n := len(h.cfg.shows); n != 2 || h.cfg.shows[0].Format != mgmtpb.ConfigFormat_SET ||
		strings.Join(h.cfg.shows[0].Path, " ") != "security ike" {
		t.Fatalf("show requests %v", h.cfg.shows)
	}
}
