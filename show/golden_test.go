package show

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ (never the seed texts)")

// goldenCase is one command with one set of arguments; its text, XML and
// JSON are kept in testdata/<name>.{txt,xml,json}.
type goldenCase struct {
	name  string
	reply Reply
}

func goldenCases() []goldenCase {
	seed004 := []IKESA{seed004IKE()}
	return append(pkiGoldenCases(), []goldenCase{
		// The seed outputs (their text is also checked against the seed in
		// seed_test.go).
		{"004-ike-sa", IKESecurityAssociations(seed004, IKEQuery{})},
		{"004-ike-sa-index-1", IKESecurityAssociations(seed004, IKEQuery{Index: 1})},
		{"004-ike-sa-index-1-detail", IKESecurityAssociations(seed004, IKEQuery{Index: 1, Style: StyleDetail})},
		{"004-ipsec-sa", IPsecSecurityAssociations(seed004IPsec(3414*time.Second), IPsecQuery{})},
		{"004-ipsec-sa-index-500001", IPsecSecurityAssociations(seed004IPsec(3405*time.Second), IPsecQuery{Index: 500001})},
		{"004-ipsec-statistics", IPsecStatistics(seed004Statistics)},
		{"001-r2-services-ike-sa", ServicesIKESecurityAssociations([]IKESA{seed001IKE(false)}, ServicesIKEQuery{})},
		{"001-r3-services-ike-sa", ServicesIKESecurityAssociations([]IKESA{seed001IKE(true)}, ServicesIKEQuery{})},
		{"001-r2-services-ipsec-sa-detail", ServicesIPsecSecurityAssociations([]ServiceTunnel{seed001Tunnel(false)})},
		{"001-r3-services-ipsec-sa-detail", ServicesIPsecSecurityAssociations([]ServiceTunnel{seed001Tunnel(true)})},
		{"001-r2-services-ipsec-statistics", ServicesIPsecStatistics([]ServiceSetStatistics{seed001Statistics(false)})},
		{"001-r3-services-ipsec-statistics", ServicesIPsecStatistics([]ServiceSetStatistics{seed001Statistics(true)})},

		// Every command and style on the lab views.
		{"ike-sa-brief", IKESecurityAssociations(labIKE(), IKEQuery{Style: StyleBrief})},
		{"ike-sa-detail", IKESecurityAssociations(labIKE(), IKEQuery{Style: StyleDetail})},
		{"ike-sa-peer", IKESecurityAssociations(labIKE(), IKEQuery{Peer: addr("198.51.100.7")})},
		{"ike-sa-peer-detail", IKESecurityAssociations(labIKE(), IKEQuery{Peer: addr("198.51.100.7"), Style: StyleDetail})},
		{"ike-sa-none", IKESecurityAssociations(nil, IKEQuery{})},
		{"ipsec-sa-brief", IPsecSecurityAssociations(labIPsec(), IPsecQuery{Style: StyleBrief})},
		{"ipsec-sa-detail", IPsecSecurityAssociations(labIPsec(), IPsecQuery{Style: StyleDetail})},
		{"ipsec-sa-index-500002-brief", IPsecSecurityAssociations(labIPsec(), IPsecQuery{Index: 500002, Style: StyleBrief})},
		{"ipsec-sa-none", IPsecSecurityAssociations(IPsecView{}, IPsecQuery{})},
		{"ipsec-statistics-errors", IPsecStatistics(Statistics{
			ESPEncryptedBytes: 12345678901, ESPDecryptedBytes: 987, ESPEncryptedPackets: 10, ESPDecryptedPackets: 9,
			ReplayErrors: 3, ESPAuthFailures: 2, BadHeaders: 1, BadTrailers: 4,
		})},
		{"ipsec-statistics-detail-xdp", IPsecStatisticsDetail(Statistics{ESPEncryptedPackets: 10, ESPDecryptedPackets: 9},
			DataPlane{Mode: "xdp", Detail: "ge-0-0-0 native 1 queue(s)", RingsReceived: 9, RingsSent: 8, SentByKernel: 2,
				Transmit: XDPTransmit{Kicks: 7, SendtoCalls: 80, Waits: 2, WaitNs: 1234567, Pauses: 5, GaveUp: 1, LeftInRing: 3},
				Drops:    []Drop{{"no-sa", 1}, {"no-outbound-sa", 0}, {"selector-mismatch", 3}}})},
		{"ipsec-statistics-detail-socket", IPsecStatisticsDetail(Statistics{}, DataPlane{Mode: "socket",
			Fallback: "AF_XDP unavailable: operation not permitted", Committed: "socket", Drops: []Drop{{"no-sa", 0}}})},
		{"ipsec-statistics-detail-packet-ring", IPsecStatisticsDetail(Statistics{ESPEncryptedPackets: 10, ESPDecryptedPackets: 9},
			DataPlane{Mode: "packet-ring", Detail: "TPACKET_V3 rx/tx on ge-0-0-0", RingsReceived: 9, RingsSent: 8, SentByKernel: 2,
				RingsMalformed: 1, Wanted: "xdp", Fallback: "AF_XDP unavailable: operation not permitted", Drops: []Drop{{"no-sa", 1}}})},
		{"ipsec-inactive-tunnels", IPsecInactiveTunnels(labInactive())},
		{"ipsec-inactive-tunnels-none", IPsecInactiveTunnels(nil)},
		{"services-ike-sa-detail", ServicesIKESecurityAssociations([]IKESA{seed001IKE(false), labDownSA()}, ServicesIKEQuery{Style: StyleDetail})},
		{"services-ike-sa-peer", ServicesIKESecurityAssociations([]IKESA{seed001IKE(false), labDownSA()}, ServicesIKEQuery{Peer: addr("198.51.100.7")})},
		{"services-ipsec-sa-detail", ServicesIPsecSecurityAssociations([]ServiceTunnel{seed001Tunnel(false), labSecondTerm(), labServiceTunnel()})},
		{"services-ipsec-statistics", ServicesIPsecStatistics([]ServiceSetStatistics{seed001Statistics(false), {PIC: "ms-0/1/0", ServiceSet: "ss-branches"}})},
		{"interfaces-st0.1", Interfaces(labInterfaces(), InterfacesQuery{Name: "st0.1"})},
		{"interfaces-st0.2", Interfaces(labInterfaces(), InterfacesQuery{Name: "st0.2"})},
		{"interfaces-st0", Interfaces(labInterfaces(), InterfacesQuery{Name: "st0"})},
		{"interfaces-st0-terse", Interfaces(labInterfaces(), InterfacesQuery{Name: "st0", Terse: true})},
		{"interfaces-terse", Interfaces(labInterfaces()[:1], InterfacesQuery{Terse: true})},
		{"interfaces-not-found", Interfaces(labInterfaces(), InterfacesQuery{Name: "st0.9"})},
		{"version", Version(labSoftware)},
	}...)
}

// labSecondTerm is a second tunnel in seed 001's service set.
func labSecondTerm() ServiceTunnel {
	tn := seed001Tunnel(false)
	tn.Term, tn.Index = "term-ike-2", 2
	tn.RemoteIdentity = SelectorFromPrefix(pfx("10.1.57.0/24"))
	tn.SAs[0].SPI, tn.SAs[1].SPI = 3000000001, 3000000002
	return tn
}

// labServiceTunnel is a second service set: one host, a port-narrowed range.
func labServiceTunnel() ServiceTunnel {
	tn := seed001Tunnel(false)
	tn.ServiceSet, tn.Rule, tn.Term, tn.Index = "ss-branches", "rule-branches", "term-7", 2
	tn.LocalGateway, tn.RemoteGateway = addr("192.0.2.1"), addr("198.51.100.7")
	tn.LocalIdentity = Selector{First: addr("192.0.2.10"), Last: addr("192.0.2.10"), Protocol: 6, Port: 443}
	tn.RemoteIdentity = Selector{First: addr("198.51.100.16"), Last: addr("198.51.100.40")}
	tn.SAs = tn.SAs[:1]
	tn.SAs[0].ReplayWindow = 0
	return tn
}

func TestGolden(t *testing.T) { runGolden(t, goldenCases()) }

// runGolden compares each case's text, XML and JSON with its golden files
// (or rewrites them with -update) and checks the XML and JSON parse.
func runGolden(t *testing.T, cases []goldenCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range []struct {
				ext string
				d   Display
			}{{"txt", DisplayText}, {"xml", DisplayXML}, {"json", DisplayJSON}} {
				got := c.reply.Render(f.d)
				path := filepath.Join("testdata", c.name+"."+f.ext)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./show -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden file:\n%s", path, lineDiff(string(want), got))
				}
			}
			checkXML(t, c.reply)
			checkJSON(t, c.reply)
		})
	}
}

// checkXML parses `| display xml` with encoding/xml: the rpc-reply wrapper
// with the junos namespace, the model decoding back to itself, and the
// cli banner after it.
func checkXML(t *testing.T, r Reply) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(r.XML()))
	var starts []xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("XML does not parse: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			starts = append(starts, se)
			if len(starts) == 2 {
				break
			}
		}
	}
	reply, root := starts[0], starts[1]
	if reply.Name.Local != "rpc-reply" || len(reply.Attr) != 1 ||
		reply.Attr[0].Name.Local != "junos" || reply.Attr[0].Value != JunosNamespace {
		t.Errorf("XML wrapper is %v, want <rpc-reply xmlns:junos=%q>", reply, JunosNamespace)
	}
	model := reflect.ValueOf(r.Model())
	decoded := reflect.New(model.Elem().Type())
	if err := dec.DecodeElement(decoded.Interface(), &root); err != nil {
		t.Fatalf("XML does not decode into %s: %v", model.Type(), err)
	}
	decoded.Elem().FieldByName("XMLName").Set(model.Elem().FieldByName("XMLName"))
	if !reflect.DeepEqual(decoded.Interface(), r.Model()) {
		t.Errorf("XML decodes to\n%#v\nwant\n%#v", decoded.Interface(), r.Model())
	}
	var rest struct {
		XMLName xml.Name `xml:"cli"`
		Banner  *string  `xml:"banner"`
	}
	if err := dec.Decode(&rest); err != nil || rest.Banner == nil {
		t.Errorf("no <cli><banner> after the reply: %v", err)
	}
}

// checkJSON parses `| display json` with encoding/json, checks the Junos
// shape (every element an array of objects, text in "data", attributes in
// "attributes") and that it carries the same values, element for element,
// as the XML.
func checkJSON(t *testing.T, r Reply) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.JSON()), &doc); err != nil {
		t.Fatalf("JSON does not parse: %v", err)
	}
	if len(doc) != 1 {
		t.Fatalf("JSON has %d top-level members, want the root element only", len(doc))
	}
	fromJSON := map[string][]string{}
	for name, v := range doc {
		walkJSON(t, name, v, fromJSON)
	}
	fromXML := map[string][]string{}
	walkElement(encodeModel(r.Model()), "", fromXML)
	if !reflect.DeepEqual(fromJSON, fromXML) {
		t.Errorf("JSON values\n%v\ndiffer from XML values\n%v", fromJSON, fromXML)
	}
}

func walkJSON(t *testing.T, path string, v any, out map[string][]string) {
	t.Helper()
	items, ok := v.([]any)
	if !ok || len(items) == 0 {
		t.Fatalf("%s: %T, want a non-empty array", path, v)
	}
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			t.Fatalf("%s: item %T, want an object", path, it)
		}
		for k, mv := range obj {
			switch k {
			case "data":
				if isJSONNull(mv) {
					out[path+"!empty"] = append(out[path+"!empty"], "")
					continue
				}
				s, ok := mv.(string)
				if !ok {
					t.Fatalf("%s: data is %T, want a string or [null]", path, mv)
				}
				out[path] = append(out[path], s)
			case "attributes":
				attrs, ok := mv.(map[string]any)
				if !ok {
					t.Fatalf("%s: attributes is %T, want an object", path, mv)
				}
				for an, av := range attrs {
					s, ok := av.(string)
					if !ok {
						t.Fatalf("%s: attribute %s is %T", path, an, av)
					}
					out[path+"@"+an] = append(out[path+"@"+an], s)
				}
			default:
				walkJSON(t, path+"/"+k, mv, out)
			}
		}
	}
}

// isJSONNull reports whether v is Junos's value of an empty element, [null].
func isJSONNull(v any) bool {
	a, ok := v.([]any)
	return ok && len(a) == 1 && a[0] == nil
}

func walkElement(e *element, parent string, out map[string][]string) {
	path := e.name
	if parent != "" {
		path = parent + "/" + e.name
	}
	for _, a := range e.attrs {
		out[path+"@"+a.name] = append(out[path+"@"+a.name], a.value)
	}
	if e.leaf {
		out[path] = append(out[path], e.text)
	} else if len(e.children) == 0 && len(e.attrs) == 0 {
		out[path+"!empty"] = append(out[path+"!empty"], "")
	}
	for _, c := range e.children {
		walkElement(c, path, out)
	}
}

// lineDiff shows the first differing line of two texts, with blanks made
// visible.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want " + visible(wl) + "\n got  " + visible(gl)
		}
	}
	return "(no line differs)"
}

func visible(s string) string { return "|" + strings.ReplaceAll(s, " ", "·") + "|" }
