package show

import (
	"encoding/json"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"
)

// A model using every mapping rule once.
type testModel struct {
	XMLName  xml.Name    `xml:"test-information"`
	Style    string      `xml:"style,attr"`
	Format   string      `xml:"format,attr"` // empty: left out
	Name     string      `xml:"name"`
	Empty    string      `xml:"empty"`
	Skipped  string      `xml:"skipped,omitempty"`
	Zero     int         `xml:"zero"`
	Count    uint64      `xml:"count,omitempty"`
	Entries  []testEntry `xml:"entry"`
	Missing  *testEntry  `xml:"missing"`
	Present  *testEntry  `xml:"present"`
	Events   *testEvents `xml:"events,interleave"`
	testBody             // embedded: its elements belong to test-information
}

type testEntry struct {
	Key string `xml:"key"`
}

type testEvents struct {
	When []string `xml:"when"`
	What []string `xml:"what"`
}

type testBody struct {
	Tail string `xml:"tail"`
}

func newTestModel() *testModel {
	return &testModel{
		Style: "brief", Name: `<a & "b">`, Count: 7,
		Entries:  []testEntry{{"x"}, {"y"}},
		Present:  &testEntry{"p"},
		Events:   &testEvents{When: []string{"t1", "t2"}, What: []string{"e1", "e2"}},
		testBody: testBody{Tail: "end"},
	}
}

func TestXMLMapping(t *testing.T) {
	var b strings.Builder
	writeXMLReply(&b, encodeModel(newTestModel()))
	want := `<rpc-reply xmlns:junos="` + JunosNamespace + `">
    <test-information junos:style="brief">
        <name>&lt;a &amp; &quot;b&quot;&gt;</name>
        <empty></empty>
        <zero>0</zero>
        <count>7</count>
        <entry>
            <key>x</key>
        </entry>
        <entry>
            <key>y</key>
        </entry>
        <present>
            <key>p</key>
        </present>
        <events>
            <when>t1</when>
            <what>e1</what>
            <when>t2</when>
            <what>e2</what>
        </events>
        <tail>end</tail>
    </test-information>
    <cli>
        <banner></banner>
    </cli>
</rpc-reply>
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	// encoding/xml reads it back into the same model, interleaved list and
	// junos:style included.
	var reply struct {
		Model testModel `xml:"test-information"`
	}
	if err := xml.Unmarshal([]byte(b.String()), &reply); err != nil {
		t.Fatal(err)
	}
	got := &reply.Model
	got.XMLName = xml.Name{}
	if !reflect.DeepEqual(got, newTestModel()) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, newTestModel())
	}
}

func TestJSONMapping(t *testing.T) {
	var b strings.Builder
	writeJSONReply(&b, encodeModel(newTestModel()))
	want := `{
    "test-information" : [
    {
        "attributes" : {"junos:style" : "brief"},
        "name" : [
        {
            "data" : "<a & \"b\">"
        }
        ],
        "empty" : [
        {
            "data" : ""
        }
        ],
        "zero" : [
        {
            "data" : "0"
        }
        ],
        "count" : [
        {
            "data" : "7"
        }
        ],
        "entry" : [
        {
            "key" : [
            {
                "data" : "x"
            }
            ]
        },
        {
            "key" : [
            {
                "data" : "y"
            }
            ]
        }
        ],
        "present" : [
        {
            "key" : [
            {
                "data" : "p"
            }
            ]
        }
        ],
        "events" : [
        {
            "when" : [
            {
                "data" : "t1"
            },
            {
                "data" : "t2"
            }
            ],
            "what" : [
            {
                "data" : "e1"
            },
            {
                "data" : "e2"
            }
            ]
        }
        ],
        "tail" : [
        {
            "data" : "end"
        }
        ]
    }
    ]
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if !json.Valid([]byte(b.String())) {
		t.Error("not valid JSON")
	}
}

func TestEncodeModelRefusesUnknownKinds(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a float field did not panic")
		}
	}()
	encodeModel(&struct {
		XMLName xml.Name `xml:"x"`
		F       float64  `xml:"f"`
	}{})
}

func TestSelector(t *testing.T) {
	cases := []struct {
		s              Selector
		rangeForm, kmd string
	}{
		{SelectorFromPrefix(pfx("0.0.0.0/0")), "ipv4(0.0.0.0-255.255.255.255)", "ipv4_subnet(any:0,[0..7]=0.0.0.0/0)"},
		{SelectorFromPrefix(pfx("10.1.12.7/24")), "ipv4(10.1.12.0-10.1.12.255)", "ipv4_subnet(any:0,[0..7]=10.1.12.0/24)"},
		{SelectorFromPrefix(pfx("192.0.2.1/32")), "ipv4(192.0.2.1-192.0.2.1)", "ipv4(any:0,[0..3]=192.0.2.1)"},
		{Selector{First: addr("192.0.2.1"), Last: addr("192.0.2.9"), Protocol: 17, Port: 53},
			"ipv4(192.0.2.1-192.0.2.9)", "ipv4_range(udp:53,[0..7]=192.0.2.1-192.0.2.9)"},
		{SelectorFromPrefix(pfx("2001:db8::/32")), "ipv6(2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff)", "ipv6_subnet(any:0,[0..31]=2001:db8::/32)"},
		{Selector{First: addr("2001:db8::1"), Last: addr("2001:db8::1"), Protocol: 50}, "ipv6(2001:db8::1-2001:db8::1)", "ipv6(50:0,[0..15]=2001:db8::1)"},
	}
	for _, c := range cases {
		if got := c.s.Range(); got != c.rangeForm {
			t.Errorf("%v: Range() = %s, want %s", c.s, got, c.rangeForm)
		}
		if got := c.s.Identity(); got != c.kmd {
			t.Errorf("%v: Identity() = %s, want %s", c.s, got, c.kmd)
		}
	}
}
