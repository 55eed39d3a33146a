package netconf

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"ipsecgw/config"
	"ipsecgw/mgmt/mgmtpb"
)

// The Junos configuration RPCs, as PyEZ's Config and Ansible's junos
// modules send them.

// getConfiguration: <get-configuration database="candidate|committed"
// format="xml|text|set|json" [compare="rollback" rollback="N"]
// [rollback="N"]> with an optional <configuration> subtree filter.
func (ss *session) getConfiguration(ctx context.Context, op *Element) (string, *rpcError) {
	db := mgmtpb.ConfigDatabase_CANDIDATE
	switch op.Attr("database") {
	case "", "candidate":
	case "committed":
		db = mgmtpb.ConfigDatabase_COMMITTED
	default:
		return "", badAttr("database", "candidate or committed")
	}
	var rollback uint32
	if r := op.Attr("rollback"); r != "" {
		n, err := strconv.ParseUint(r, 10, 32)
		if err != nil || n > 49 {
			return "", badAttr("rollback", "a rollback number 0..49")
		}
		rollback = uint32(n)
		if op.Attr("compare") != "rollback" {
			db = mgmtpb.ConfigDatabase_ROLLBACK
		}
	}
	filter := op.Child("configuration")
	if filter != nil && len(filter.Children) == 0 {
		filter = nil
	}
	path := filterPath(filter)
	if op.Attr("compare") != "" {
		if op.Attr("compare") != "rollback" {
			return "", badAttr("compare", "rollback")
		}
		r, err := ss.cfg.Compare(ctx, &mgmtpb.CompareRequest{Rollback: rollback, Path: path})
		if err != nil {
			return "", apiError(err)
		}
		text := r.Text
		if text == "" {
			text = "\n" // what Junos (and PyEZ's diff) takes for "no difference"
		}
		return "<configuration-information>\n<configuration-output>" + escape(text) + "</configuration-output>\n</configuration-information>\n", nil
	}
	switch format := op.Attr("format"); format {
	case "", "xml", "json":
		t, rerr := ss.configTree(ctx, db, rollback)
		if rerr != nil {
			return "", rerr
		}
		x := filtered(t, filter)
		if format == "json" {
			return escape(x.JSON()), nil
		}
		var b strings.Builder
		x.writeXML(&b, 0)
		return b.String(), nil
	case "text", "set":
		f := mgmtpb.ConfigFormat_BRACE
		elem := "configuration-text"
		if format == "set" {
			f, elem = mgmtpb.ConfigFormat_SET, "configuration-set"
		}
		r, err := ss.cfg.Show(ctx, &mgmtpb.ShowConfigRequest{Database: db, Rollback: rollback, Path: path, Format: f})
		if err != nil {
			return "", apiError(err)
		}
		return "<" + elem + ">" + escape(r.Text) + "</" + elem + ">\n", nil
	default:
		return "", badAttr("format", "xml, text, set or json")
	}
}

// filterPath is the hierarchy level a filter selects, as words, for the
// text forms: it descends while the filter names one statement (and a
// list entry's <name>).
func filterPath(f *Element) []string {
	var path []string
	n := config.Root
	for f != nil && len(f.Children) == 1 {
		c := f.Children[0]
		cn := n.Child(c.Name)
		if cn == nil && n.KeyedList() != nil && c.Name == listElement(n.KeyedList()) {
			cn = n.KeyedList()
		}
		if cn == nil {
			break
		}
		if cn.Kind == config.KindList {
			key := c.ChildText("name")
			if key == "" {
				if cn.Name != "" {
					path = append(path, cn.Name)
				}
				break
			}
			if cn.Name != "" {
				path = append(path, cn.Name)
			}
			path = append(path, key)
			rest := &Element{Name: c.Name}
			for _, x := range c.Children {
				if x.Name != "name" {
					rest.Children = append(rest.Children, x)
				}
			}
			f, n = rest, cn
			continue
		}
		path = append(path, cn.Name)
		if !cn.HasBody() {
			break
		}
		f, n = c, cn
	}
	return path
}

// replaceTag is a "replace:" tag at the start of a statement.
var replaceTag = regexp.MustCompile(`(?m)(^|[{;}])\s*replace:`)

func badAttr(name, expected string) *rpcError {
	return &rpcError{Type: "protocol", Tag: "bad-attribute", BadElement: name, Message: "bad value for " + name + "; expected " + expected}
}

// loadConfiguration: <load-configuration action="merge|replace|override|
// set" format="xml|text|json" [rollback="N"]> with <configuration>,
// <configuration-text>, <configuration-set> or <configuration-json>.
func (ss *session) loadConfiguration(ctx context.Context, op *Element) (string, *rpcError) {
	body, rerr := ss.loadConfigurationBody(ctx, op)
	if rerr != nil {
		return "", rerr
	}
	return "<load-configuration-results>\n" + body + "</load-configuration-results>\n", nil
}

func (ss *session) loadConfigurationBody(ctx context.Context, op *Element) (string, *rpcError) {
	if rerr := ss.lockedByOther(); rerr != nil {
		return "", rerr
	}
	if r := op.Attr("rollback"); r != "" {
		n, err := strconv.ParseUint(r, 10, 32)
		if err != nil || n > 49 {
			return "", badAttr("rollback", "a rollback number 0..49")
		}
		if _, err := ss.cfg.Rollback(ctx, &mgmtpb.RollbackRequest{Number: uint32(n)}); err != nil {
			return "", apiError(err)
		}
		return ok, nil
	}
	action := op.Attr("action")
	switch action {
	case "", "merge", "replace", "override", "set", "update":
	default:
		return "", badAttr("action", "merge, replace, override, set or update")
	}
	switch {
	case op.Has("configuration-set"):
		return ss.load(ctx, action, op.ChildText("configuration-set"), false)
	case op.Has("configuration-text"):
		text := op.ChildText("configuration-text")
		if action == "replace" && replaceTag.MatchString(text) {
			// The text parser drops replace: tags (a merge would
			// silently keep what the tag meant to remove).
			return "", &rpcError{Type: "protocol", Tag: "operation-not-supported", BadElement: "replace:",
				Message: "replace: tags in text are not supported; load the XML form with replace=\"replace\", or use action override"}
		}
		return ss.load(ctx, action, text, false)
	case op.Has("configuration-json"):
		c, err := jsonConfig(op.ChildText("configuration-json"))
		if err != nil {
			return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "configuration-json", Message: err.Error()}
		}
		return ss.applyXML(ctx, c, action == "override")
	case op.Has("configuration"):
		return ss.applyXML(ctx, op.Child("configuration"), action == "override")
	}
	return "", &rpcError{Type: "protocol", Tag: "missing-element", BadElement: "load-configuration",
		Message: "load-configuration needs configuration, configuration-text, configuration-set or configuration-json"}
}

// commitConfiguration: <commit-configuration> with <check/>,
// <confirmed/>, <confirm-timeout> (minutes), <log>; <synchronize/> and
// <full/> are accepted (one routing engine; every commit is full).
func (ss *session) commitConfiguration(ctx context.Context, op *Element) (string, *rpcError) {
	req := &mgmtpb.CommitRequest{Check: op.Has("check"), Comment: op.ChildText("log")}
	for _, c := range op.Children {
		switch c.Name {
		case "check", "confirmed", "confirm-timeout", "log", "synchronize", "force-synchronize", "full":
		default:
			return "", &rpcError{Type: "protocol", Tag: "unknown-element", BadElement: c.Name, Message: "commit-configuration has no option " + c.Name}
		}
	}
	if op.Has("confirmed") {
		req.ConfirmMinutes = 10 // Junos's default
		if t := op.ChildText("confirm-timeout"); t != "" {
			n, err := strconv.ParseUint(t, 10, 32)
			if err != nil || n < 1 || n > 65535 {
				return "", &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: "confirm-timeout", Message: "confirm-timeout is 1..65535 minutes"}
			}
			req.ConfirmMinutes = uint32(n)
		}
	}
	if _, rerr := ss.commit(ctx, req); rerr != nil {
		return "", rerr
	}
	result := "<commit-success/>"
	if req.Check {
		result = "<commit-check-success/>"
	}
	return "<commit-results>\n<routing-engine junos:style=\"normal\">\n<name>re0</name>\n" + result + "\n</routing-engine>\n</commit-results>\n", nil
}
