package config

import (
	"strings"
)

// The two ways Junos prints a configuration: the brace hierarchy ("show")
// and set commands ("show | display set"). Parsing either output gives back
// the same tree (the set form has no annotations).

const indentUnit = "    " // Junos indents 4 spaces per level

// FormatBrace prints the statements below s (the whole tree when s is the
// root) in the brace format, as "show" does at s's edit level.
func FormatBrace(s *Stmt) string {
	var b strings.Builder
	for _, c := range s.Children {
		writeBrace(&b, c, 0)
	}
	return b.String()
}

// FormatStmt prints s itself and everything below it, at depth indent.
func FormatStmt(s *Stmt, indent int) string {
	var b strings.Builder
	writeBrace(&b, s, indent)
	return b.String()
}

func writeBrace(b *strings.Builder, s *Stmt, depth int) { writeBraceAfter(b, s, depth, nil) }

// writeBraceAfter prints s with lead, the words of a flat parent, before
// its own ("from-zone A" before "to-zone B").
func writeBraceAfter(b *strings.Builder, s *Stmt, depth int, lead []string) {
	if printsFlat(s) {
		for _, c := range s.Children {
			writeBraceAfter(b, c, depth, append(lead[:len(lead):len(lead)], quotedWords(s)...))
		}
		return
	}
	pad := strings.Repeat(indentUnit, depth)
	if s.InheritedFrom != "" {
		writeInherited(b, pad, s)
	}
	if s.Annotation != "" {
		b.WriteString(pad)
		b.WriteString("/* ")
		b.WriteString(s.Annotation)
		b.WriteString(" */\n")
	}
	b.WriteString(pad)
	if s.Inactive {
		b.WriteString("inactive: ")
	}
	words, secret := inlineWords(s)
	b.WriteString(strings.Join(append(lead[:len(lead):len(lead)], words...), " "))
	if s.Node.HasBody() && !printsInline(s) {
		b.WriteString(" {\n")
		for _, c := range s.Children {
			writeBrace(b, c, depth+1)
		}
		b.WriteString(pad)
		b.WriteString("}\n")
		return
	}
	b.WriteString(";")
	if secret {
		b.WriteString(" ## SECRET-DATA")
	}
	b.WriteString("\n")
}

// printsFlat reports whether a Flat list entry prints joined with each of
// its children: only when they are all list entries and no annotation or
// inactive mark would land on the wrong statement.
func printsFlat(s *Stmt) bool {
	if !s.Node.Flat || len(s.Children) == 0 || s.Inactive || s.Annotation != "" {
		return false
	}
	for _, c := range s.Children {
		if c.Node.Kind != KindList || c.Inactive || c.Annotation != "" {
			return false
		}
	}
	return true
}

// printsInline reports whether a statement with a body prints on one line:
// when it has no children ("family inet;") or is a one-line statement whose
// only child prints inline and carries no annotation or inactive mark
// ("pre-shared-key ascii-text "$9$...";", "route P next-hop st0.1;").
func printsInline(s *Stmt) bool {
	if len(s.Children) == 0 {
		return true
	}
	if !s.Node.Oneline || len(s.Children) != 1 {
		return false
	}
	c := s.Children[0]
	if c.Annotation != "" || c.Inactive {
		return false
	}
	return !c.Node.HasBody() || printsInline(c)
}

// inlineWords returns the words of s as printed on its line, descending into
// one-line children, and whether a secret is among them.
func inlineWords(s *Stmt) ([]string, bool) {
	words := make([]string, 0, 4)
	for _, w := range s.Words() {
		words = append(words, Quote(w))
	}
	switch s.Node.Kind {
	case KindLeaf:
		return append(words, quoteValue(s.Node, s.Value())), s.Node.IsSecretData()
	case KindLeafList:
		if len(s.Values) == 1 {
			return append(words, quoteValue(s.Node, s.Values[0])), s.Node.IsSecretData()
		}
		words = append(words, "[")
		for _, v := range s.Values {
			words = append(words, quoteValue(s.Node, v))
		}
		return append(words, "]"), s.Node.IsSecretData()
	}
	if s.Node.HasBody() && len(s.Children) == 1 && printsInline(s) {
		inner, secret := inlineWords(s.Children[0])
		return append(words, inner...), secret
	}
	return words, false
}

func quoteValue(n *Node, v string) string {
	if n.IsSecret() {
		return `"` + escape(v) + `"`
	}
	return Quote(v)
}

// Quote returns v as Junos prints a word: bare when it is made only of
// characters that cannot confuse the parser, double-quoted otherwise, with
// '"' and '\' escaped.
func Quote(v string) string {
	if v == "" {
		return `""`
	}
	for i := 0; i < len(v); i++ {
		if !isPlainByte(v[i]) {
			return `"` + escape(v) + `"`
		}
	}
	return v
}

func isPlainByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._:/+@,=-", c) >= 0
}

func escape(v string) string {
	if !strings.ContainsAny(v, `"\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// FormatSet prints the statements below s as set commands with absolute
// paths, in the order of the brace format, followed for each inactive
// statement by its "deactivate" command.
func FormatSet(s *Stmt) string {
	var b strings.Builder
	prefix := make([]string, 0, 16)
	for _, w := range s.Path() {
		prefix = append(prefix, Quote(w))
	}
	for _, c := range s.Children {
		writeSet(&b, c, prefix)
	}
	return b.String()
}

func writeSet(b *strings.Builder, s *Stmt, prefix []string) {
	path := append(prefix[:len(prefix):len(prefix)], quotedWords(s)...)
	switch s.Node.Kind {
	case KindLeaf:
		line(b, "set", append(path, quoteValue(s.Node, s.Value())))
	case KindLeafList:
		for _, v := range s.Values {
			line(b, "set", append(path[:len(path):len(path)], quoteValue(s.Node, v)))
		}
	case KindFlag:
		line(b, "set", path)
	default:
		if len(s.Children) == 0 {
			line(b, "set", path)
		}
		for _, c := range s.Children {
			writeSet(b, c, path)
		}
	}
	if s.Inactive {
		line(b, "deactivate", path)
	}
}

func quotedWords(s *Stmt) []string {
	w := s.Words()
	for i := range w {
		w[i] = Quote(w[i])
	}
	return w
}

func line(b *strings.Builder, verb string, words []string) {
	b.WriteString(verb)
	for _, w := range words {
		b.WriteByte(' ')
		b.WriteString(w)
	}
	b.WriteByte('\n')
}
