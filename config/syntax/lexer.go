// Package syntax turns Junos configuration text into statements, without
// knowing which statements exist. It reads both formats Junos prints: the
// brace hierarchy ("show") and set commands ("show | display set").
//
// Every token carries its position so that later stages (the schema, the
// typed model) can report file:line:column for any mistake.
package syntax

import (
	"fmt"
	"strings"
)

// Pos is a position in a configuration source: 1-based line and column
// (columns count bytes, as editors and compilers do).
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether p points somewhere.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is a syntax error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokWord
	tokString // a quoted string; Text holds the unescaped value
	tokLBrace
	tokRBrace
	tokSemi
	tokLBracket
	tokRBracket
	tokAnnotation // /* ... */; Text holds the trimmed inner text
	tokNewline    // only reported when the lexer is in line mode (set format)
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of input"
	case tokWord, tokString:
		return "word"
	case tokLBrace:
		return "'{'"
	case tokRBrace:
		return "'}'"
	case tokSemi:
		return "';'"
	case tokLBracket:
		return "'['"
	case tokRBracket:
		return "']'"
	case tokAnnotation:
		return "annotation"
	case tokNewline:
		return "end of line"
	}
	return "token"
}

type token struct {
	kind tokenKind
	text string
	pos  Pos
}

// maxTokens bounds the work done on one input, so that a hostile file cannot
// make the parser run away; real configurations are far smaller.
const maxTokens = 4 << 20

// lexer splits configuration text into tokens. Comments ("#" to end of line,
// which includes the "## SECRET-DATA" marker) are dropped; annotations
// ("/* ... */") are kept because Junos keeps them.
type lexer struct {
	src   string
	file  string
	off   int
	line  int
	col   int
	lines bool // report newlines (set format)
	count int
}

func newLexer(file, src string, lines bool) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1, lines: lines}
}

func (l *lexer) pos() Pos { return Pos{File: l.file, Line: l.line, Col: l.col} }

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// isWordByte reports whether c can be part of a bare word. Everything that is
// not whitespace or one of the structural characters is: Junos words include
// slashes, colons, dots, dollars and more (et-0/2/10, 2001:db8::/32, $9$...).
func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '{', '}', ';', '[', ']', '"', '#':
		return false
	}
	return c >= 0x20 && c != 0x7f
}

func (l *lexer) next() (token, error) {
	l.count++
	if l.count > maxTokens {
		return token{}, l.errorf(l.pos(), "input too large: more than %d tokens", maxTokens)
	}
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == '\n':
			p := l.pos()
			l.advance(1)
			if l.lines {
				return token{kind: tokNewline, pos: p}, nil
			}
		case c == ' ' || c == '\t' || c == '\r':
			l.advance(1)
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && strings.HasPrefix(l.src[l.off:], "/*"):
			return l.annotation()
		case c == '"':
			return l.quoted()
		case c == '{':
			return l.single(tokLBrace), nil
		case c == '}':
			return l.single(tokRBrace), nil
		case c == ';':
			return l.single(tokSemi), nil
		case c == '[':
			return l.single(tokLBracket), nil
		case c == ']':
			return l.single(tokRBracket), nil
		case isWordByte(c):
			p := l.pos()
			start := l.off
			for l.off < len(l.src) && isWordByte(l.src[l.off]) {
				l.advance(1)
			}
			return token{kind: tokWord, text: l.src[start:l.off], pos: p}, nil
		default:
			return token{}, l.errorf(l.pos(), "unexpected control character 0x%02x", c)
		}
	}
	return token{kind: tokEOF, pos: l.pos()}, nil
}

func (l *lexer) single(k tokenKind) token {
	t := token{kind: k, text: l.src[l.off : l.off+1], pos: l.pos()}
	l.advance(1)
	return t
}

func (l *lexer) annotation() (token, error) {
	p := l.pos()
	end := strings.Index(l.src[l.off+2:], "*/")
	if end < 0 {
		return token{}, l.errorf(p, "unterminated annotation: '/*' without '*/'")
	}
	text := strings.TrimSpace(l.src[l.off+2 : l.off+2+end])
	l.advance(end + 4)
	return token{kind: tokAnnotation, text: text, pos: p}, nil
}

// quoted reads a double-quoted string. Backslash escapes the next character
// (so \" and \\ work, as in Junos); a string may not span lines.
func (l *lexer) quoted() (token, error) {
	p := l.pos()
	l.advance(1)
	var b strings.Builder
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return token{kind: tokString, text: b.String(), pos: p}, nil
		case '\\':
			if l.off+1 >= len(l.src) || l.src[l.off+1] == '\n' {
				return token{}, l.errorf(l.pos(), "unterminated quoted string: backslash at end of line")
			}
			b.WriteByte(l.src[l.off+1])
			l.advance(2)
		case '\n':
			return token{}, l.errorf(p, "unterminated quoted string: missing closing '\"' before end of line")
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
	return token{}, l.errorf(p, "unterminated quoted string: missing closing '\"'")
}
