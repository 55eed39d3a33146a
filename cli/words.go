package cli

import (
	"sort"
	"strings"

	"ipsecgw/config"
)

// word is one word of a command line. Start and end are byte offsets in the
// line as typed, so that an error can put its caret under the word.
type word struct {
	text   string // without quotes and escapes
	quoted bool
	start  int
	end    int
}

// splitWords splits a command line into words: runs of non-blank bytes, or
// double-quoted strings in which \" and \\ are escapes. "[" and "]" are words
// of their own when typed apart, as Junos writes leaf-lists ("[ p1 p2 ]").
// An unterminated quote is a syntax error under the quote.
func splitWords(line string) ([]word, *syntaxError) {
	var ws []word
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c != '"' {
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			ws = append(ws, word{text: line[i:j], start: i, end: j})
			i = j
			continue
		}
		var b strings.Builder
		j := i + 1
		closed := false
		for j < len(line) {
			if line[j] == '\\' && j+1 < len(line) {
				b.WriteByte(line[j+1])
				j += 2
				continue
			}
			if line[j] == '"' {
				closed = true
				j++
				break
			}
			b.WriteByte(line[j])
			j++
		}
		if !closed {
			return ws, &syntaxError{col: i, msg: "syntax error, unterminated quoted string."}
		}
		ws = append(ws, word{text: b.String(), quoted: true, start: i, end: j})
		i = j
	}
	return ws, nil
}

// openQuote reports whether the line ends inside a double-quoted string; a
// '?' typed there is part of the string, not a request for help.
func openQuote(line string) bool {
	_, open := unquoted(line, '"')
	return open
}

// unquoted returns the offsets of the bytes sep in line that stand outside
// double-quoted strings (inside one, a backslash escapes the next byte),
// and whether the line ends inside one. The pipes ('|') and the command
// separators (';') are found with it.
func unquoted(line string, sep byte) (at []int, open bool) {
	for i := 0; i < len(line); i++ {
		switch {
		case open && line[i] == '\\':
			i++
		case line[i] == '"':
			open = !open
		case line[i] == sep && !open:
			at = append(at, i)
		}
	}
	return at, open
}

// valueText is a word as it is sent to the server inside a command: Junos
// quoting, and a word the user quoted stays quoted even when it would not
// need to be.
func (w word) valueText() string {
	q := config.Quote(w.text)
	if w.quoted && !strings.HasPrefix(q, `"`) {
		return `"` + q + `"`
	}
	return q
}

// resolve finds the keyword that word names: an exact keyword or alias, or
// else the only keyword it is a prefix of. With several it returns them all
// (sorted) and no keyword.
func resolve(w string, keywords []string, aliases map[string]string) (string, []string) {
	if a, ok := aliases[w]; ok {
		return a, nil
	}
	var found []string
	for _, k := range keywords {
		if k == w {
			return k, nil
		}
		if strings.HasPrefix(k, w) {
			found = append(found, k)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	sort.Strings(found)
	return "", found
}
