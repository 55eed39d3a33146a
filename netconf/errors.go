package netconf

import (
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/access"
)

// rpcError is one <rpc-error> (RFC 6241 §4.3), with Junos's error-path
// for configuration errors (the statement's [edit ...] level).
type rpcError struct {
	Type     string // transport, rpc, protocol, application
	Tag      string // invalid-value, operation-failed, access-denied, ...
	Severity string // error (the default) or warning
	Path     string
	Message  string
	// BadElement names the element at fault (error-info).
	BadElement string
}

func (e rpcError) xml() string {
	sev := e.Severity
	if sev == "" {
		sev = "error"
	}
	var b strings.Builder
	b.WriteString("<rpc-error>\n")
	b.WriteString("<error-type>" + e.Type + "</error-type>\n")
	b.WriteString("<error-tag>" + e.Tag + "</error-tag>\n")
	b.WriteString("<error-severity>" + sev + "</error-severity>\n")
	if e.Path != "" {
		b.WriteString("<error-path>" + escape(e.Path) + "</error-path>\n")
	}
	b.WriteString("<error-message>" + escape(e.Message) + "</error-message>\n")
	if e.BadElement != "" {
		b.WriteString("<error-info>\n<bad-element>" + escape(e.BadElement) + "</bad-element>\n</error-info>\n")
	}
	b.WriteString("</rpc-error>\n")
	return b.String()
}

func replyError(attrs string, errs ...rpcError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.xml())
	}
	return reply(attrs, b.String())
}

// apiError turns a failed API call into rpc-errors: the message is the
// API's (the CLI's text), without its "error: " prefixes; a configuration
// error's statement path becomes error-path.
func apiError(err error) *rpcError {
	st := status.Convert(err)
	e := &rpcError{Type: "application", Tag: "operation-failed", Message: cleanMessage(st.Message())}
	switch st.Code() {
	case codes.PermissionDenied:
		e.Type, e.Tag, e.Message = "protocol", "access-denied", access.Message
	case codes.InvalidArgument:
		e.Tag = "invalid-value"
		e.Path = errorPath(st)
	case codes.FailedPrecondition:
		e.Path = errorPath(st)
	case codes.Unavailable:
		e.Message = "the ipsecgw daemon is not reachable"
	}
	return e
}

func cleanMessage(m string) string {
	lines := strings.Split(strings.TrimSpace(m), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "error: ")
	}
	return strings.Join(lines, "\n")
}

// errorPath is the [edit ...] level of the first configuration error the
// API reported, which it sends as a BadRequest field violation beside the
// text.
func errorPath(st *status.Status) string {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.FieldViolations) > 0 {
			return br.FieldViolations[0].Field
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
