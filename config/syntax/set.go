package syntax

import (
	"errors"
	"strings"
)

// Verbs of the set format that a configuration file may contain.
const (
	VerbSet        = "set"
	VerbDelete     = "delete"
	VerbDeactivate = "deactivate"
	VerbActivate   = "activate"
)

// Command is one line of the set format: a verb and the path words after it.
type Command struct {
	Verb  string
	Words []Word
	Pos   Pos // of the verb
}

// Format names the two textual forms of a configuration.
type Format int

const (
	FormatBrace Format = iota
	FormatSet
)

func (f Format) String() string {
	if f == FormatSet {
		return "set"
	}
	return "brace"
}

// ParseFormat maps the names used on command lines ("brace", "set") to a Format.
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "brace", "text", "curly":
		return FormatBrace, true
	case "set":
		return FormatSet, true
	}
	return 0, false
}

// DetectFormat tells the set format from the brace format by the first word:
// no top-level Junos statement is called "set" or "delete".
func DetectFormat(src string) Format {
	lx := newLexer("", src, false)
	for i := 0; i < 64; i++ {
		t, err := lx.next()
		if err != nil || t.kind == tokEOF {
			return FormatBrace
		}
		if t.kind == tokAnnotation {
			continue
		}
		if t.kind == tokWord && isVerb(t.text) {
			return FormatSet
		}
		return FormatBrace
	}
	return FormatBrace
}

func isVerb(s string) bool {
	switch s {
	case VerbSet, VerbDelete, VerbDeactivate, VerbActivate:
		return true
	}
	return false
}

// ErrorList holds every error of a source that can report more than one
// (the set format: each line stands alone).
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// ParseSet parses set-format text, one command per line. Every bad line is
// reported, not only the first.
func ParseSet(file, src string) ([]Command, error) {
	lx := newLexer(file, src, true)
	var (
		cmds []Command
		errs ErrorList
		cur  *Command
	)
	skipLine := false
	finish := func() {
		if cur != nil && !skipLine {
			cmds = append(cmds, *cur)
		}
		cur, skipLine = nil, false
	}
	for {
		t, err := lx.next()
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				errs = append(errs, se)
			}
			// A lexical error leaves the lexer mid-token; a quoted string
			// cannot span lines, so resume at the next line.
			skipToNewline(lx)
			cur, skipLine = nil, false
			if len(errs) > 1000 || lx.count > maxTokens {
				break
			}
			continue
		}
		if t.kind == tokEOF {
			finish()
			break
		}
		if t.kind == tokNewline {
			finish()
			continue
		}
		if skipLine {
			continue
		}
		if cur == nil {
			if t.kind == tokAnnotation {
				continue
			}
			if t.kind != tokWord || !isVerb(t.text) {
				errs = append(errs, &Error{Pos: t.pos, Msg: "unknown command: expected set, delete, deactivate or activate"})
				skipLine = true
				continue
			}
			cur = &Command{Verb: t.text, Pos: t.pos}
			continue
		}
		switch t.kind {
		case tokWord, tokString:
			cur.Words = append(cur.Words, Word{Text: t.text, Quoted: t.kind == tokString, Pos: t.pos})
		case tokLBracket:
			w, ok := setList(lx, t.pos, &errs)
			if !ok {
				cur, skipLine = nil, false
				continue
			}
			cur.Words = append(cur.Words, w)
		default:
			errs = append(errs, &Error{Pos: t.pos, Msg: "unexpected " + t.kind.String() + " in a " + cur.Verb + " command"})
			skipLine = true
		}
	}
	if len(errs) > 0 {
		return cmds, errs
	}
	return cmds, nil
}

// setList reads the rest of "[ a b ]" on one line.
func setList(lx *lexer, open Pos, errs *ErrorList) (Word, bool) {
	w := Word{IsList: true, Pos: open}
	for {
		t, err := lx.next()
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				*errs = append(*errs, se)
			}
			skipToNewline(lx)
			return w, false
		}
		switch t.kind {
		case tokWord, tokString:
			w.List = append(w.List, Word{Text: t.text, Quoted: t.kind == tokString, Pos: t.pos})
		case tokRBracket:
			if len(w.List) == 0 {
				*errs = append(*errs, &Error{Pos: t.pos, Msg: "empty list: expected at least one value between '[' and ']'"})
				skipToNewline(lx)
				return w, false
			}
			return w, true
		default:
			*errs = append(*errs, &Error{Pos: open, Msg: "missing ']': this '[' is never closed on its line"})
			if t.kind != tokNewline && t.kind != tokEOF {
				skipToNewline(lx)
			}
			return w, false
		}
	}
}

func skipToNewline(lx *lexer) {
	for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
		lx.advance(1)
	}
}
