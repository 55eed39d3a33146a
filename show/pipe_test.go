package show

import (
	"strings"
	"testing"
	"time"
)

const ikeTable = `Index   State  Initiator cookie  Responder cookie  Mode           Remote Address
1       UP     422250f57a089b14  02ae4230bbf3c3fc  IKEv2          16.1.1.1
2       DOWN   e7753a11ff890094  0000000000000000  IKEv2          198.51.100.7
3       UP     422250f57a089b14  02ae4230bbf3c3fc  IKEv2          203.0.113.9
`

func TestPipes(t *testing.T) {
	must := func(p Pipe, err error) Pipe {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		pipe Pipe
		in   string
		want string
	}{
		{"match", must(Match("UP")), ikeTable,
			"1       UP     422250f57a089b14  02ae4230bbf3c3fc  IKEv2          16.1.1.1\n" +
				"3       UP     422250f57a089b14  02ae4230bbf3c3fc  IKEv2          203.0.113.9\n"},
		{"match is case-insensitive", must(Match("down")), ikeTable,
			"2       DOWN   e7753a11ff890094  0000000000000000  IKEv2          198.51.100.7\n"},
		{"match alternatives", must(Match("index|198.51")), ikeTable,
			"Index   State  Initiator cookie  Responder cookie  Mode           Remote Address\n" +
				"2       DOWN   e7753a11ff890094  0000000000000000  IKEv2          198.51.100.7\n"},
		{"match nothing", must(Match("Main")), ikeTable, ""},
		{"except", must(Except("up|index")), ikeTable,
			"2       DOWN   e7753a11ff890094  0000000000000000  IKEv2          198.51.100.7\n"},
		{"except a line without newline", must(Except("b")), "a\nb\nc", "a\nc\n"},
		{"count", Count(), ikeTable, "Count: 4 lines\n"},
		{"count last line without newline", Count(), "a\nb", "Count: 2 lines\n"},
		{"count nothing", Count(), "", "Count: 0 lines\n"},
		{"no-more", NoMore(), ikeTable, ikeTable},
		{"display is no text filter", DisplayAs(DisplayJSON), ikeTable, ikeTable},
	}
	for _, c := range cases {
		if got := c.pipe.Apply(c.in); got != c.want {
			t.Errorf("%s: | %s gave\n%q\nwant\n%q", c.name, c.pipe, got, c.want)
		}
	}
}

func TestPipeErrors(t *testing.T) {
	if _, err := Match("("); err == nil {
		t.Error("Match(\"(\"): no error for an invalid regular expression")
	}
	if _, err := Except(""); err == nil {
		t.Error("Except(\"\"): no error for an empty pattern")
	}
}

func TestParsePipeline(t *testing.T) {
	cases := []struct {
		line    string
		command string
		pipes   string // the pipeline as String prints it
		display Display
		noMore  bool
	}{
		{"show security ike security-associations", "show security ike security-associations", "", DisplayText, false},
		{`show security ike sa | match "UP|DOWN" | count`, "show security ike sa", ` | match "UP|DOWN" | count`, DisplayText, false},
		{"show security ipsec sa|except 16.1|no-more", "show security ipsec sa", " | except 16.1 | no-more", DisplayText, true},
		{"show security ike sa | display json", "show security ike sa", " | display json", DisplayJSON, false},
		{"show security ike sa | d x | m ike-sa", "show security ike sa", " | display xml | match ike-sa", DisplayXML, false},
		{`show x | match "two words"`, "show x", ` | match "two words"`, DisplayText, false},
		{"show x | n", "show x", " | no-more", DisplayText, true},
	}
	for _, c := range cases {
		cmd, pl, err := ParsePipeline(c.line)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if cmd != c.command || pl.String() != c.pipes || pl.Display() != c.display || pl.NoMore() != c.noMore {
			t.Errorf("%q: got command %q pipes %q display %v no-more %v, want %q %q %v %v",
				c.line, cmd, pl.String(), pl.Display(), pl.NoMore(), c.command, c.pipes, c.display, c.noMore)
		}
	}
	bad := map[string]string{
		`show x | match "UP`:         "unterminated quote",
		"show x | c":                 "ambiguous: compare, count",
		"show x | frobnicate":        "unknown keyword",
		"show x | match":             "missing argument",
		"show x |":                   "missing pipe command",
		"show x | count 3":           "takes no argument",
		"show x | display set":       "expected json or xml",
		"show x | display":           "missing argument",
		"show x | find UP":           "not supported",
		"show x | display xml | d j": "only one | display",
		"show x | match (":           "pattern",
	}
	for line, want := range bad {
		_, _, err := ParsePipeline(line)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", line, err, want)
		}
	}
}

// TestPipelineRun runs pipes over the structured forms too: a display pipe
// picks the form, text pipes filter its lines.
func TestPipelineRun(t *testing.T) {
	r := IKESecurityAssociations([]IKESA{seed004IKE()}, IKEQuery{})
	_, pl, err := ParsePipeline("show security ike sa | display xml | match remote-address")
	if err != nil {
		t.Fatal(err)
	}
	want := "            <ike-sa-remote-address>16.1.1.1</ike-sa-remote-address>\n"
	if got := pl.Run(r); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, pl, _ = ParsePipeline("show security ipsec sa | match <500001 | count")
	v := seed004IPsec(3414 * time.Second)
	if got := pl.Run(IPsecSecurityAssociations(v, IPsecQuery{})); got != "Count: 1 lines\n" {
		t.Errorf("got %q", got)
	}
}

// FuzzParsePipeline: any line parses or fails without panicking, and a
// parsed pipeline prints back to one that parses the same.
func FuzzParsePipeline(f *testing.F) {
	for _, s := range []string{
		"show security ike sa", `show x | match "UP|DOWN" | count`, "show x | except a|no-more",
		"show x | display json", `show x | m "`, "show x | d x | c", "|||", `"|"`, "show x | match (",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, pl, err := ParsePipeline(line)
		if err != nil {
			return
		}
		cmd2, pl2, err := ParsePipeline(cmd + pl.String())
		if err != nil {
			t.Fatalf("%q parsed, its print %q does not: %v", line, cmd+pl.String(), err)
		}
		if cmd2 != cmd || pl2.String() != pl.String() {
			t.Fatalf("%q: reparse gave %q%s, want %q%s", line, cmd2, pl2, cmd, pl)
		}
		_ = pl.Run(Reply{text: line, model: &IPsecTotalStatisticsInformation{}})
	})
}
