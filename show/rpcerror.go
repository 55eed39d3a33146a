package show

import (
	"encoding/xml"
	"errors"
)

// RPCError is the reply of a command that failed, such as `show interfaces`
// of a device that does not exist: the text layout is "error: MESSAGE", the
// XML an <rpc-error> in place of the command's element.
type RPCError struct {
	XMLName  xml.Name `xml:"rpc-error"`
	Severity string   `xml:"error-severity"` // always "error"
	Message  string   `xml:"error-message"`
}

// errorReply is the reply of a command that failed with message.
func errorReply(message string) Reply {
	return Reply{"error: " + message + "\n", &RPCError{Severity: "error", Message: message}}
}

// Err is the failure a reply reports (its message without the "error: "
// of the text layout), or nil when the command succeeded.
func (r Reply) Err() error {
	if e, ok := r.model.(*RPCError); ok {
		return errors.New(e.Message)
	}
	return nil
}
