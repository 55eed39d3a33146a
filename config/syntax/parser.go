package syntax

import (
	"fmt"
	"strings"
)

// Word is one word of a statement: a bare word, a quoted string, or a
// bracketed list "[ a b c ]" (IsList, with the elements in List).
type Word struct {
	Text   string
	Quoted bool
	IsList bool
	List   []Word
	Pos    Pos
}

func (w Word) String() string {
	if !w.IsList {
		return w.Text
	}
	parts := make([]string, len(w.List))
	for i, e := range w.List {
		parts[i] = e.Text
	}
	return "[ " + strings.Join(parts, " ") + " ]"
}

// Statement is one statement of the brace format: words, then either ";"
// or a body in braces. "inactive:" and an annotation above it are kept.
type Statement struct {
	Words      []Word
	Body       []*Statement
	HasBody    bool
	Inactive   bool
	Annotation string
	Pos        Pos // of the first word
}

// maxDepth bounds nesting; the deepest real Junos hierarchy is far shallower,
// and the bound keeps hostile input from exhausting the stack.
const maxDepth = 64

// ParseBrace parses the brace hierarchy format. It stops at the first error:
// after a missing brace nothing later can be placed reliably.
func ParseBrace(file, src string) ([]*Statement, error) {
	p := &braceParser{lx: newLexer(file, src, false)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	stmts, err := p.block(0, Pos{})
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

type braceParser struct {
	lx  *lexer
	tok token
}

func (p *braceParser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// block parses statements until "}" (depth > 0) or end of input (depth 0).
func (p *braceParser) block(depth int, open Pos) ([]*Statement, error) {
	var out []*Statement
	for {
		switch p.tok.kind {
		case tokEOF:
			if depth > 0 {
				return nil, &Error{Pos: open, Msg: "missing '}': this '{' is never closed"}
			}
			return out, nil
		case tokRBrace:
			if depth == 0 {
				return nil, &Error{Pos: p.tok.pos, Msg: "unexpected '}': no block is open"}
			}
			return out, p.advance()
		}
		st, err := p.statement(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
}

func (p *braceParser) statement(depth int) (*Statement, error) {
	st := &Statement{Pos: p.tok.pos}
	if p.tok.kind == tokAnnotation {
		st.Annotation = p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		st.Pos = p.tok.pos
		if p.tok.kind == tokEOF || p.tok.kind == tokRBrace {
			return nil, &Error{Pos: st.Pos, Msg: "annotation must be followed by the statement it describes"}
		}
	}
	// Prefixes: "inactive:" is kept; "protect:" and "replace:" are accepted
	// and dropped, as Junos' own loaders do.
	for p.tok.kind == tokWord && (p.tok.text == "inactive:" || p.tok.text == "protect:" || p.tok.text == "replace:") {
		if p.tok.text == "inactive:" {
			st.Inactive = true
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		st.Pos = p.tok.pos
	}
	for {
		switch p.tok.kind {
		case tokWord, tokString:
			st.Words = append(st.Words, Word{Text: p.tok.text, Quoted: p.tok.kind == tokString, Pos: p.tok.pos})
			if err := p.advance(); err != nil {
				return nil, err
			}
		case tokLBracket:
			w, err := p.list()
			if err != nil {
				return nil, err
			}
			st.Words = append(st.Words, w)
		case tokSemi:
			if len(st.Words) == 0 {
				return nil, &Error{Pos: p.tok.pos, Msg: "unexpected ';': expected a statement"}
			}
			return st, p.advance()
		case tokLBrace:
			if len(st.Words) == 0 {
				return nil, &Error{Pos: p.tok.pos, Msg: "unexpected '{': expected a statement name before it"}
			}
			if depth+1 > maxDepth {
				return nil, &Error{Pos: p.tok.pos, Msg: fmt.Sprintf("nesting deeper than %d levels", maxDepth)}
			}
			open := p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			body, err := p.block(depth+1, open)
			if err != nil {
				return nil, err
			}
			st.Body, st.HasBody = body, true
			return st, nil
		case tokEOF, tokRBrace:
			if len(st.Words) == 0 {
				return nil, &Error{Pos: p.tok.pos, Msg: "expected a statement, found " + p.tok.kind.String()}
			}
			last := st.Words[len(st.Words)-1]
			return nil, &Error{Pos: last.Pos, Msg: fmt.Sprintf("missing ';' or '{' after %q", last.String())}
		case tokAnnotation:
			return nil, &Error{Pos: p.tok.pos, Msg: "annotation inside a statement: annotations go on their own line above a statement"}
		default:
			return nil, &Error{Pos: p.tok.pos, Msg: "unexpected " + p.tok.kind.String()}
		}
	}
}

// list parses "[ a b c ]". Lists may span lines.
func (p *braceParser) list() (Word, error) {
	w := Word{IsList: true, Pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return w, err
	}
	for {
		switch p.tok.kind {
		case tokWord, tokString:
			w.List = append(w.List, Word{Text: p.tok.text, Quoted: p.tok.kind == tokString, Pos: p.tok.pos})
			if err := p.advance(); err != nil {
				return w, err
			}
		case tokRBracket:
			if len(w.List) == 0 {
				return w, &Error{Pos: p.tok.pos, Msg: "empty list: expected at least one value between '[' and ']'"}
			}
			return w, p.advance()
		default:
			return w, &Error{Pos: w.Pos, Msg: "missing ']': this '[' is never closed"}
		}
	}
}
