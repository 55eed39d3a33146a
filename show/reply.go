package show

import "strings"

// Display is the form a reply is printed in: the text layout, or one of the
// structured forms the `| display` pipe selects.
type Display uint8

const (
	DisplayText Display = iota // the operator layout
	DisplayXML                 // | display xml
	DisplayJSON                // | display json
)

func (d Display) String() string {
	switch d {
	case DisplayXML:
		return "xml"
	case DisplayJSON:
		return "json"
	}
	return "text"
}

// Style is the brief/detail keyword of a command. StyleDefault is what the
// command prints without one; it differs by command (the IKE table is brief,
// `show security ipsec security-associations index N` is detail).
type Style uint8

const (
	StyleDefault Style = iota
	StyleBrief
	StyleDetail
)

func (s Style) String() string {
	switch s {
	case StyleBrief:
		return "brief"
	case StyleDetail:
		return "detail"
	}
	return "default"
}

// Reply is the output of one show command: its text layout and its model
// (a struct tagged with Junos element names), from which the XML and JSON
// forms are printed.
type Reply struct {
	text  string
	model any
}

// Text is the Junos text layout; every line ends in a newline.
func (r Reply) Text() string { return r.text }

// Model is the structured form: a pointer to the command's model struct
// (IKESecurityAssociationsInformation, IPsecSecurityAssociationsInformation,
// ...), for the API to return as it is.
func (r Reply) Model() any { return r.model }

// XML is `| display xml`: the model inside Junos's <rpc-reply>.
func (r Reply) XML() string {
	var b strings.Builder
	writeXMLReply(&b, encodeModel(r.model))
	return b.String()
}

// JSON is `| display json`: the model in Junos JSON.
func (r Reply) JSON() string {
	var b strings.Builder
	writeJSONReply(&b, encodeModel(r.model))
	return b.String()
}

// Render prints the reply in form d.
func (r Reply) Render(d Display) string {
	switch d {
	case DisplayXML:
		return r.XML()
	case DisplayJSON:
		return r.JSON()
	}
	return r.Text()
}
