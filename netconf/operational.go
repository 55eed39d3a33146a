package netconf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"ipsecgw/cli"
	"ipsecgw/mgmt/mgmtpb"
)

// The operational RPCs: every show command as the Junos RPC whose reply is
// what "| display xml" prints (rendered by the daemon, package show), the
// facts PyEZ gathers, and <command>.

// showRPC builds the API request of one show RPC from its arguments.
type showRPC struct {
	flags  []string // arguments without a value (<detail/>)
	values []string // arguments with one (<index>3</index>)
	build  func(args map[string]string) (*mgmtpb.ShowRequest, *rpcError)
}

func style(args map[string]string) mgmtpb.Style {
	switch {
	case has(args, "detail"):
		return mgmtpb.Style_DETAIL
	case has(args, "brief"):
		return mgmtpb.Style_BRIEF
	}
	return mgmtpb.Style_STYLE_DEFAULT
}

func has(args map[string]string, k string) bool { _, ok := args[k]; return ok }

func index(args map[string]string) (uint32, *rpcError) {
	v := args["index"]
	if v == "" {
		v = args["sa-index"]
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return 0, &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "index", Message: "index is a number from 1"}
	}
	return uint32(n), nil
}

var showRPCs = map[string]showRPC{
	"get-ike-security-associations-information": {flags: []string{"detail", "brief"}, values: []string{"index", "sa-index", "peer-address"},
		build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
			i, rerr := index(a)
			return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IkeSecurityAssociations{IkeSecurityAssociations: &mgmtpb.IKESecurityAssociations{
				Style: style(a), Index: i, Address: a["peer-address"]}}}, rerr
		}},
	"get-security-associations-information": {flags: []string{"detail", "brief"}, values: []string{"index", "sa-index", "family"},
		build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
			i, rerr := index(a)
			return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{
				Style: style(a), Index: i, Family: a["family"]}}}, rerr
		}},
	"get-ipsec-statistics-information": {values: []string{"index", "sa-index"},
		build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
			i, rerr := index(a)
			return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecStatistics{IpsecStatistics: &mgmtpb.IPsecStatistics{Index: i}}}, rerr
		}},
	// The services (AS/MS PIC) family: RPC names guessed from their reply
	// elements (Junos names an RPC get-REPLY-ELEMENT).
	"get-services-security-associations-information": {flags: []string{"detail", "brief"},
		build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
			return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{
				Style: style(a), Services: true}}}, nil
		}},
	"get-services-ipsec-statistics-information": {build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
		return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecStatistics{IpsecStatistics: &mgmtpb.IPsecStatistics{Services: true}}}, nil
	}},
	"get-inactive-tunnels": {build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
		return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_InactiveTunnels{InactiveTunnels: &mgmtpb.InactiveTunnels{}}}, nil
	}},
	"get-interface-information": {flags: []string{"terse"}, values: []string{"interface-name"},
		build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
			return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Interfaces{Interfaces: &mgmtpb.Interfaces{
				Name: a["interface-name"], Terse: has(a, "terse")}}}, nil
		}},
	"get-software-information": {build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
		return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Version{Version: &mgmtpb.Version{}}}, nil
	}},
}

// operational answers a show RPC or a fact; found is false for an RPC
// that is neither.
func (ss *session) operational(ctx context.Context, op *Element) (body string, rerr *rpcError, found bool) {
	switch op.Name {
	case "get-route-engine-information":
		return routeEngine(), nil, true
	case "get-chassis-inventory":
		return chassisInventory(), nil, true
	case "file-list":
		return ss.fileList(op), nil, true
	case "file-show":
		return fileShow(op)
	}
	rpc, ok := showRPCs[op.Name]
	if !ok {
		return "", nil, false
	}
	args := map[string]string{}
	for _, c := range op.Children {
		switch {
		case contains(rpc.flags, c.Name) && len(c.Children) == 0 && c.Text == "":
			args[c.Name] = ""
		case contains(rpc.values, c.Name) && len(c.Children) == 0:
			args[c.Name] = c.Text
		default:
			return "", &rpcError{Type: "protocol", Tag: "unknown-element", BadElement: c.Name,
				Message: fmt.Sprintf("syntax error: %s takes no argument %s", op.Name, c.Name)}, true
		}
	}
	req, rerr := rpc.build(args)
	if rerr != nil {
		return "", rerr, true
	}
	req.Display = mgmtpb.Display_XML
	if op.Attr("format") == "text" {
		req.Display = mgmtpb.Display_TEXT
	}
	r, err := ss.op.Show(ctx, req)
	if err != nil {
		return "", apiError(err), true
	}
	if req.Display == mgmtpb.Display_TEXT {
		return "<output>" + escape(r.Output) + "</output>\n", nil, true
	}
	inner, ok := replyBody(r.Output)
	if !ok {
		return "", &rpcError{Type: "application", Tag: "operation-failed", Message: "the daemon's reply is not XML"}, true
	}
	return inner, nil, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// replyBody is what "| display xml" printed inside its <rpc-reply>,
// without the CLI's <cli> banner: the RPC's own element.
func replyBody(out string) (string, bool) {
	start := strings.Index(out, ">\n")
	end := strings.LastIndex(out, "    <cli>")
	if !strings.HasPrefix(out, "<rpc-reply") || start < 0 || end < start {
		return "", false
	}
	body := out[start+2 : end]
	if _, err := ParseElement([]byte(`<x xmlns:junos="j">` + body + "</x>")); err != nil {
		return "", false
	}
	return body, true
}

// started is when this process started: the routing engine's up time.
var started = time.Now()

// routeEngine is get-route-engine-information: one routing engine, the
// process ipsecgw runs in.
func routeEngine() string {
	up := time.Since(started).Truncate(time.Second)
	return fmt.Sprintf(`<route-engine-information>
<route-engine>
<slot>0</slot>
<mastership-state>master</mastership-state>
<status>OK</status>
<model>ipsecgw (%s/%s)</model>
<start-time>%s</start-time>
<up-time seconds="%d">%s</up-time>
<last-reboot-reason>ipsecgw started</last-reboot-reason>
</route-engine>
</route-engine-information>
`, runtime.GOOS, runtime.GOARCH, started.UTC().Format("2006-01-02 15:04:05 MST"), int64(up.Seconds()), up)
}

// chassisInventory is get-chassis-inventory: the machine, its serial
// number the host's machine id.
func chassisInventory() string {
	serial := "unknown"
	if b, err := os.ReadFile("/etc/machine-id"); err == nil && len(bytes.TrimSpace(b)) >= 12 {
		serial = string(bytes.TrimSpace(b)[:12])
	}
	return `<chassis-inventory>
<chassis junos:style="inventory">
<name>Chassis</name>
<serial-number>` + escape(serial) + `</serial-number>
<description>ipsecgw</description>
</chassis>
</chassis-inventory>
`
}

// fileList answers the one listing PyEZ asks for, the user's home ("~"):
// ipsecgw users have no files, so it is empty.
func (ss *session) fileList(op *Element) string {
	home := "/var/home/" + ss.user.Name
	return `<directory-list root-path="` + escape(home) + `/">
<directory>
<directory-name>` + escape(home) + `/</directory-name>
</directory>
</directory-list>
`
}

// fileShow shows no file: ipsecgw has no file system for its users. The
// one file PyEZ's facts read, /etc/hosts.junos (the internal routing
// instances), is empty: ipsecgw has none.
func fileShow(op *Element) (string, *rpcError, bool) {
	name := op.ChildText("filename")
	if name == "/etc/hosts.junos" {
		return `<file-content filename="/etc/hosts.junos"></file-content>` + "\n", nil, true
	}
	return "", &rpcError{Type: "protocol", Tag: "operation-failed", Message: "could not resolve file: " + name}, true
}

// command runs a CLI line: <command format="text|xml|json">show ...
// </command>. Text comes back in <output>, XML as the command's RPC
// element, JSON as text.
func (ss *session) command(ctx context.Context, op *Element) (string, *rpcError) {
	line := strings.TrimSpace(op.Text)
	// One routing engine: "invoke-on all-routing-engines" (PyEZ's facts)
	// is that one.
	line = strings.TrimSuffix(line, " invoke-on all-routing-engines")
	if line == "" {
		return "", &rpcError{Type: "protocol", Tag: "missing-element", BadElement: "command", Message: "syntax error, expecting <command>"}
	}
	format := op.Attr("format")
	if format == "" {
		format = "xml"
	}
	switch format {
	case "xml":
		line += " | display xml"
	case "json":
		line += " | display json"
	case "text", "ascii":
	default:
		return "", badAttr("format", "text, xml or json")
	}
	sess := cli.NewSession(ss.cfg, ss.op, ss.user.Name, ss.srv.opts.HostName())
	var out bytes.Buffer
	if err := sess.Execute(ctx, line, &out); err != nil {
		return "", &rpcError{Type: "protocol", Tag: "operation-failed", Message: cleanMessage(err.Error())}
	}
	switch format {
	case "xml":
		if inner, ok := replyBody(out.String()); ok {
			return inner, nil
		}
		// A command with no XML form (show configuration): its text.
		return "<output>" + escape(out.String()) + "</output>\n", nil
	case "json":
		return escape(out.String()), nil
	}
	return "<output>" + escape(out.String()) + "</output>\n", nil
}
