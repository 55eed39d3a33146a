package show

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Pipe is one operational-mode pipe (`| match RE`, `| except RE`,
// `| count`, `| no-more`, `| display xml|json`). The text pipes are pure
// functions on the printed output; the display pipe chooses which form is
// printed in the first place.
type Pipe struct {
	kind    pipeKind
	pattern string         // match, except: the pattern as typed
	re      *regexp.Regexp // match, except: compiled, case-insensitive
	display Display        // display: the form chosen
}

type pipeKind uint8

const (
	pipeMatch pipeKind = iota + 1
	pipeExcept
	pipeCount
	pipeNoMore
	pipeDisplay
)

// Match is `| match PATTERN`: keep the lines PATTERN matches. PATTERN is a
// regular expression matched case-insensitively anywhere in the line, so
// "up|down" keeps the lines with either word.
func Match(pattern string) (Pipe, error) { return filter(pipeMatch, pattern) }

// Except is `| except PATTERN`: drop the lines PATTERN matches.
func Except(pattern string) (Pipe, error) { return filter(pipeExcept, pattern) }

func filter(kind pipeKind, pattern string) (Pipe, error) {
	if pattern == "" {
		return Pipe{}, errors.New("missing argument: a pattern")
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return Pipe{}, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return Pipe{kind: kind, pattern: pattern, re: re}, nil
}

// Count is `| count`: the output becomes "Count: N lines".
func Count() Pipe { return Pipe{kind: pipeCount} }

// NoMore is `| no-more`: paging off. The output is unchanged; the CLI,
// which pages, looks for it with Pipeline.NoMore.
func NoMore() Pipe { return Pipe{kind: pipeNoMore} }

// DisplayAs is `| display xml` or `| display json`.
func DisplayAs(d Display) Pipe { return Pipe{kind: pipeDisplay, display: d} }

// Apply runs the pipe on printed output.
func (p Pipe) Apply(out string) string {
	switch p.kind {
	case pipeMatch, pipeExcept:
		var b strings.Builder
		for _, l := range lines(out) {
			if p.re.MatchString(l) == (p.kind == pipeMatch) {
				b.WriteString(l + "\n")
			}
		}
		return b.String()
	case pipeCount:
		return fmt.Sprintf("Count: %d lines\n", len(lines(out)))
	}
	return out
}

// String is the pipe as the CLI echoes it, without the bar.
func (p Pipe) String() string {
	switch p.kind {
	case pipeMatch:
		return "match " + quotePattern(p.pattern)
	case pipeExcept:
		return "except " + quotePattern(p.pattern)
	case pipeCount:
		return "count"
	case pipeNoMore:
		return "no-more"
	case pipeDisplay:
		return "display " + p.display.String()
	}
	return ""
}

func quotePattern(p string) string {
	if strings.ContainsRune(p, '|') || strings.IndexFunc(p, unicode.IsSpace) >= 0 {
		return `"` + p + `"`
	}
	return p
}

// lines splits output into lines without their newlines; a last line
// without a newline counts, an empty output has none.
func lines(out string) []string {
	if out == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// pipeKeywords is every pipe command Junos knows, so that an abbreviation
// resolves (or is ambiguous) as on Junos: "m" is match, "c" is ambiguous
// (compare, count).
var pipeKeywords = []string{
	"append", "compare", "count", "display", "except", "find", "hold", "last",
	"match", "no-more", "refresh", "request", "resolve", "save", "tee", "trim",
}

// ParsePipe parses one pipe as typed after a bar: "match \"a|b\"", "count",
// "display json", "no-more"; keywords may be abbreviated to a unique prefix.
func ParsePipe(spec string) (Pipe, error) {
	spec = strings.TrimSpace(spec)
	word, arg, _ := strings.Cut(spec, " ")
	arg = strings.TrimSpace(arg)
	if word == "" {
		return Pipe{}, errors.New("missing pipe command after |")
	}
	kw, err := resolveKeyword(word, pipeKeywords)
	if err != nil {
		return Pipe{}, fmt.Errorf("| %s: %w", word, err)
	}
	switch kw {
	case "match", "except":
		pattern, err := unquote(arg)
		if err != nil {
			return Pipe{}, fmt.Errorf("| %s: %w", kw, err)
		}
		if strings.Contains(pattern, `"`) {
			return Pipe{}, fmt.Errorf("| %s: a double quote may only enclose the pattern, got %s", kw, arg)
		}
		if kw == "match" {
			return Match(pattern)
		}
		return Except(pattern)
	case "count", "no-more":
		if arg != "" {
			return Pipe{}, fmt.Errorf("| %s takes no argument, got %q", kw, arg)
		}
		if kw == "count" {
			return Count(), nil
		}
		return NoMore(), nil
	case "display":
		form, err := resolveKeyword(arg, []string{"json", "xml"})
		if err != nil {
			return Pipe{}, fmt.Errorf("| display %s: %w (expected json or xml)", arg, err)
		}
		if form == "xml" {
			return DisplayAs(DisplayXML), nil
		}
		return DisplayAs(DisplayJSON), nil
	}
	return Pipe{}, fmt.Errorf("| %s is not supported (supported: match, except, count, no-more, display xml|json)", kw)
}

// resolveKeyword finds the keyword word is a unique prefix of.
func resolveKeyword(word string, keywords []string) (string, error) {
	if word == "" {
		return "", errors.New("missing argument")
	}
	var found []string
	for _, k := range keywords {
		if k == word {
			return k, nil
		}
		if strings.HasPrefix(k, word) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return "", errors.New("unknown keyword")
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("ambiguous: %s", strings.Join(found, ", "))
}

// unquote strips the double quotes around a pattern, if it has them.
func unquote(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	if len(s) < 2 || !strings.HasSuffix(s, `"`) {
		return "", fmt.Errorf("unterminated quote in %s", s)
	}
	return s[1 : len(s)-1], nil
}

// Pipeline is the pipes of one command line, in the order typed.
type Pipeline []Pipe

// ParsePipeline splits a command line at the bars outside double quotes
// and parses each pipe: `show security ike sa | match "UP|DOWN" | count`
// is the command "show security ike sa" and two pipes. At most one display
// pipe is allowed.
func ParsePipeline(line string) (command string, pl Pipeline, err error) {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case '|':
			if !quoted {
				parts = append(parts, line[start:i])
				start = i + 1
			}
		}
	}
	if quoted {
		return "", nil, fmt.Errorf("unterminated quote at column %d", strings.LastIndexByte(line, '"')+1)
	}
	parts = append(parts, line[start:])
	displays := 0
	for i, spec := range parts[1:] {
		p, err := ParsePipe(spec)
		if err != nil {
			return "", nil, fmt.Errorf("pipe %d: %w", i+1, err)
		}
		if p.kind == pipeDisplay {
			if displays++; displays > 1 {
				return "", nil, fmt.Errorf("pipe %d: only one | display per command", i+1)
			}
		}
		pl = append(pl, p)
	}
	return strings.TrimSpace(parts[0]), pl, nil
}

// Display is the form the pipeline asks for: that of its display pipe, or
// text.
func (pl Pipeline) Display() Display {
	for _, p := range pl {
		if p.kind == pipeDisplay {
			return p.display
		}
	}
	return DisplayText
}

// NoMore reports whether the pipeline turns paging off.
func (pl Pipeline) NoMore() bool {
	for _, p := range pl {
		if p.kind == pipeNoMore {
			return true
		}
	}
	return false
}

// Run prints r in the pipeline's form and passes the output through the
// text pipes in order.
func (pl Pipeline) Run(r Reply) string {
	out := r.Render(pl.Display())
	for _, p := range pl {
		out = p.Apply(out)
	}
	return out
}

// String is the pipeline as typed, " | match x | count".
func (pl Pipeline) String() string {
	var b strings.Builder
	for _, p := range pl {
		b.WriteString(" | " + p.String())
	}
	return b.String()
}
