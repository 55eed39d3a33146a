package syntax

import (
	"strings"
	"testing"
)

func TestParseBraceShapes(t *testing.T) {
	src := `/* top note */
inactive: system {
    host-name "gw \"one\" \\ two"; # a comment
}
security { ike { policy p { proposals [ a
   b c ]; pre-shared-key ascii-text "$9$x"; ## SECRET-DATA
} } }
protect: replace: version 1;
`
	stmts, err := ParseBrace("f", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("got %d top statements, want 3", len(stmts))
	}
	sys := stmts[0]
	if !sys.Inactive || sys.Annotation != "top note" || !sys.HasBody || sys.Pos != (Pos{"f", 2, 11}) {
		t.Fatalf("system statement = %+v", sys)
	}
	hn := sys.Body[0]
	if got := hn.Words[1]; got.Text != `gw "one" \ two` || !got.Quoted {
		t.Fatalf("quoted word = %+v", got)
	}
	pol := stmts[1].Body[0].Body[0].Body
	if l := pol[0].Words[1]; !l.IsList || len(l.List) != 3 || l.List[2].Text != "c" || l.List[2].Pos.Line != 6 {
		t.Fatalf("list word = %+v", l)
	}
	if pol[1].Words[2].Text != "$9$x" {
		t.Fatalf("secret word = %+v", pol[1].Words[2])
	}
	if v := stmts[2]; v.Inactive || len(v.Words) != 2 || v.Words[0].Text != "version" {
		t.Fatalf("prefixed statement = %+v", v)
	}
}

func TestParseBraceErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"a {\n  b;\n", "f:1:3: missing '}': this '{' is never closed"},
		{"a;\n}\n", "f:2:1: unexpected '}': no block is open"},
		{"a b\n", "f:1:3: missing ';' or '{' after \"b\""},
		{"a \"open\n;", "f:1:3: unterminated quoted string: missing closing '\"' before end of line"},
		{"a [ b c;\n", "f:1:3: missing ']': this '[' is never closed"},
		{"a [ ];\n", "f:1:5: empty list: expected at least one value between '[' and ']'"},
		{";\n", "f:1:1: unexpected ';': expected a statement"},
		{"{ }\n", "f:1:1: unexpected '{': expected a statement name before it"},
		{"/* never closed\na;", "f:1:1: unterminated annotation: '/*' without '*/'"},
		{"/* note */\n", "f:2:1: annotation must be followed by the statement it describes"},
		{"a\x01;", "f:1:2: unexpected control character 0x01"},
		{strings.Repeat("a {", 70), "f:1:195: nesting deeper than 64 levels"},
	} {
		_, err := ParseBrace("f", tc.src)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseBrace(%q) error = %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func TestParseSet(t *testing.T) {
	src := "# comment\nset a b \"c d\"\n\ndelete a b\nset x [ 1 2 ]\ndeactivate a\nactivate a\n"
	cmds, err := ParseSet("f", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 5 || cmds[0].Verb != "set" || cmds[0].Words[2].Text != "c d" || cmds[0].Pos != (Pos{"f", 2, 1}) {
		t.Fatalf("commands = %+v", cmds)
	}
	if w := cmds[2].Words[1]; !w.IsList || len(w.List) != 2 {
		t.Fatalf("list = %+v", w)
	}
}

func TestParseSetReportsEveryBadLine(t *testing.T) {
	src := "set a b\nshow a\nset a {\nset \"x\nset [ a\nset ok\n"
	cmds, err := ParseSet("f", src)
	want := []string{
		"f:2:1: unknown command: expected set, delete, deactivate or activate",
		"f:3:7: unexpected '{' in a set command",
		"f:4:5: unterminated quoted string: missing closing '\"' before end of line",
		"f:5:5: missing ']': this '[' is never closed on its line",
	}
	list, ok := err.(ErrorList)
	if !ok || len(list) != len(want) {
		t.Fatalf("errors = %v", err)
	}
	for i, w := range want {
		if list[i].Error() != w {
			t.Errorf("error %d = %s, want %s", i, list[i], w)
		}
	}
	if len(cmds) != 2 || cmds[1].Words[0].Text != "ok" {
		t.Fatalf("good lines = %+v", cmds)
	}
}

func TestDetectFormat(t *testing.T) {
	for src, want := range map[string]Format{
		"set a b\n": FormatSet, "# c\n/* x */ delete a\n": FormatSet,
		"system { }": FormatBrace, "": FormatBrace, "\"set\" a;": FormatBrace,
	} {
		if got := DetectFormat(src); got != want {
			t.Errorf("DetectFormat(%q) = %v, want %v", src, got, want)
		}
	}
}

func FuzzParseBrace(f *testing.F) {
	f.Add("a { b c; d [ e f ]; /* n */ inactive: g \"h\\\"i\"; } # x\n")
	f.Add("a {")
	f.Add("\"")
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := ParseBrace("f", src)
		if err == nil {
			for _, s := range stmts {
				if len(s.Words) == 0 {
					t.Fatalf("statement without words from %q", src)
				}
			}
		}
	})
}

func FuzzParseSet(f *testing.F) {
	f.Add("set a b \"c\"\ndelete a [ x y ]\n")
	f.Add("set [")
	f.Fuzz(func(t *testing.T, src string) {
		cmds, _ := ParseSet("f", src)
		for _, c := range cmds {
			if !isVerb(c.Verb) {
				t.Fatalf("command with verb %q", c.Verb)
			}
		}
	})
}
