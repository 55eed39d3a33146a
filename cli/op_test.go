package cli

import (
	"testing"

	"ipsecgw/mgmt/mgmtpb"
)

func ikeSA(style mgmtpb.Style, index uint32, addr string, services bool) *mgmtpb.ShowRequest {
	return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IkeSecurityAssociations{
		IkeSecurityAssociations: &mgmtpb.IKESecurityAssociations{Style: style, Index: index, Address: addr, Services: services}}}
}

func ipsecSA(style mgmtpb.Style, index uint32, family string, services bool) *mgmtpb.ShowRequest {
	return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{
		IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{Style: style, Index: index, Family: family, Services: services}}}
}

func TestShowRequestsFromAbbreviations(t *testing.T) {
	cases := []struct {
		line string
		want *mgmtpb.ShowRequest
	}{
		{"sh sec ike sa det index 3", ikeSA(mgmtpb.Style_DETAIL, 3, "", false)},
		{"sh sec ike sec", ikeSA(mgmtpb.Style_STYLE_DEFAULT, 0, "", false)},
		{"show security ike security-associations brief 198.51.100.2", ikeSA(mgmtpb.Style_BRIEF, 0, "198.51.100.2", false)},
		{"sh sec ipsec sa", ipsecSA(mgmtpb.Style_STYLE_DEFAULT, 0, "", false)},
		{"sh sec ipsec sa fam inet6 ind 7 b", ipsecSA(mgmtpb.Style_BRIEF, 7, "inet6", false)},
		{"show services ipsec-vpn ike sa detail 2001:db8::1", ikeSA(mgmtpb.Style_DETAIL, 0, "2001:db8::1", true)},
		{"sh ser ipsec-vpn ipsec sa", ipsecSA(mgmtpb.Style_STYLE_DEFAULT, 0, "", true)},
		{"show security ipsec statistics index 2", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecStatistics{
			IpsecStatistics: &mgmtpb.IPsecStatistics{Index: 2}}}},
		{"sh ser ipsec-vpn ipsec stat", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecStatistics{
			IpsecStatistics: &mgmtpb.IPsecStatistics{Services: true}}}},
		{"sh sec ipsec ina", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_InactiveTunnels{InactiveTunnels: &mgmtpb.InactiveTunnels{}}}},
		{"sh int st0.1", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Interfaces{Interfaces: &mgmtpb.Interfaces{Name: "st0.1"}}}},
		{"sh int st0 ter", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Interfaces{Interfaces: &mgmtpb.Interfaces{Name: "st0", Terse: true}}}},
		{"sh ver", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Version{Version: &mgmtpb.Version{}}}},
		{"sh conf sec ike gate gw1", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Configuration{
			Configuration: &mgmtpb.ShowConfiguration{Path: []string{"security", "ike", "gateway", "gw1"}}}}},
		{"sh sec ike sa | display json", &mgmtpb.ShowRequest{Display: mgmtpb.Display_JSON, Command: ikeSA(0, 0, "", false).Command}},
		{"sh sec ike sa | di x", &mgmtpb.ShowRequest{Display: mgmtpb.Display_XML, Command: ikeSA(0, 0, "", false).Command}},
		{"show configuration security | display set", &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Configuration{
			Configuration: &mgmtpb.ShowConfiguration{Path: []string{"security"}, Format: mgmtpb.ConfigFormat_SET}}}},
	}
	for _, c := range cases {
		h := newHarness(t)
		h.mustRun(t, c.line)
		if len(h.op.shows) != 1 {
			t.Errorf("%q: %d show requests", c.line, len(h.op.shows))
			continue
		}
		assertProto(t, c.line, h.op.shows[0], c.want)
	}
}

func TestClearRequests(t *testing.T) {
	cases := []struct {
		line string
		want *mgmtpb.ClearRequest
	}{
		{"clear sec ike sa 198.51.100.2", &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IkeSecurityAssociations{
			IkeSecurityAssociations: &mgmtpb.ClearIKE{Address: "198.51.100.2"}}}},
		{"clear security ike security-associations index 5", &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IkeSecurityAssociations{
			IkeSecurityAssociations: &mgmtpb.ClearIKE{Index: 5}}}},
		{"cl sec ipsec sa ind 2", &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IpsecSecurityAssociations{
			IpsecSecurityAssociations: &mgmtpb.ClearIPsec{Index: 2}}}},
		{"clear security ipsec statistics", &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IpsecStatistics{
			IpsecStatistics: &mgmtpb.ClearStatistics{}}}},
		{"clear services ipsec-vpn ike sa", &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IkeSecurityAssociations{
			IkeSecurityAssociations: &mgmtpb.ClearIKE{}}}},
		{"clear services ipsec-vpn ipsec statistics", &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IpsecStatistics{
			IpsecStatistics: &mgmtpb.ClearStatistics{}}}},
	}
	for _, c := range cases {
		h := newHarness(t)
		if out := h.mustRun(t, c.line); out != "" {
			t.Errorf("%q printed %q", c.line, out)
		}
		if len(h.op.clears) != 1 {
			t.Errorf("%q: %d clear requests", c.line, len(h.op.clears))
			continue
		}
		assertProto(t, c.line, h.op.clears[0], c.want)
	}
}

func TestServerErrorIsPrintedAsSent(t *testing.T) {
	h := newHarness(t)
	_, errText := h.run(t, "clear security ike sa 203.0.113.99")
	if want := "error: no IKE security association with peer 203.0.113.99"; errText != want {
		t.Fatalf("error %q, want %q", errText, want)
	}
}

func TestTextPipesApplyToTheReply(t *testing.T) {
	cases := map[string]string{
		"sh sec ike sa":                             "Index State\n3 UP\n4 DOWN\n",
		"sh sec ike sa | match up":                  "3 UP\n",
		"sh sec ike sa | except UP":                 "Index State\n4 DOWN\n",
		"sh sec ike sa | match \"UP|DOWN\" | count": "Count: 2 lines\n",
		"sh sec ike sa | no-more":                   "Index State\n3 UP\n4 DOWN\n",
	}
	for line, want := range cases {
		h := newHarness(t)
		if got := h.mustRun(t, line); got != want {
			t.Errorf("%q printed %q, want %q", line, got, want)
		}
		if d := h.op.shows[0].Display; d != mgmtpb.Display_TEXT {
			t.Errorf("%q asked for display %v", line, d)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"foo", "foo\n^\nunknown command."},
		{"show foo", "show foo\n     ^\nsyntax error, expecting <command>."},
		{"show security ike sa index", "show security ike sa index\n                           ^\nmissing argument."},
		{"show security ike sa index x", "show security ike sa index x\n                           ^\nsyntax error, expecting <index>."},
		{"show security", "show security\n              ^\nsyntax error, expecting <command>."},
		{"sh sec ike sa brief detail", "sh sec ike sa brief detail\n                    ^\nsyntax error, expecting <peer-address>."},
		{"show version | frob", "show version | frob\n               ^\nsyntax error, expecting <command>."},
		{"sh s", "sh s\n   ^\n's' is ambiguous.\nPossible completions:\n  security             Show security information\n  services             Show services information"},
		{"sh sec ipsec s", "sh sec ipsec s\n             ^\n's' is ambiguous.\nPossible completions:\n  security-associations Show IPsec security associations\n  statistics           Show IPsec statistics"},
	}
	for _, c := range cases {
		h := newHarness(t)
		_, errText := h.run(t, c.line)
		if errText != c.want {
			t.Errorf("%q:\ngot\n%s\nwant\n%s", c.line, errText, c.want)
		}
		if len(h.op.shows)+len(h.op.clears) != 0 {
			t.Errorf("%q reached the server", c.line)
		}
	}
}

func TestInteractiveCaretIsUnderTheTypedLine(t *testing.T) {
	h := newHarness(t)
	h.s.Interactive = true
	_, errText := h.run(t, "show foo")
	if want := "               ^\nsyntax error, expecting <command>."; errText != want {
		t.Fatalf("got\n%s\nwant\n%s", errText, want)
	}
}

func TestExitLeavesTheSession(t *testing.T) {
	h := newHarness(t)
	h.mustRun(t, "qu")
	if !h.s.Done() {
		t.Fatal("quit did not end the session")
	}
}
