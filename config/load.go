package config

import (
	"fmt"
	"io"

	"ipsecgw/config/syntax"
)

// Parse reads a configuration in either format (told apart by its first
// word) and returns its tree. All errors found are returned together as an
// ErrorList; on any error the tree is nil, so nothing half-read is used.
func Parse(file string, src []byte, rand io.Reader) (*Tree, error) {
	if syntax.DetectFormat(string(src)) == syntax.FormatSet {
		return ParseSet(file, src, rand)
	}
	return ParseBrace(file, src, rand)
}

// ParseBrace reads the brace hierarchy format.
func ParseBrace(file string, src []byte, rand io.Reader) (*Tree, error) {
	stmts, err := syntax.ParseBrace(file, string(src))
	if err != nil {
		return nil, fromSyntax(err)
	}
	t := New()
	e := &Editor{Tree: t, Rand: rand}
	var errs ErrorList
	e.loadBlock(t.Root, stmts, map[*Stmt]syntax.Pos{}, &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return t, nil
}

// LoadBrace merges brace-format statements into the tree below at (Junos
// "load merge"): statements already present are updated, not duplicated.
func (e *Editor) LoadBrace(at *Stmt, file string, src []byte) error {
	stmts, err := syntax.ParseBrace(file, string(src))
	if err != nil {
		return fromSyntax(err)
	}
	var errs ErrorList
	e.loadBlock(at, stmts, nil, &errs)
	return errs.Err()
}

func (e *Editor) loadBlock(at *Stmt, stmts []*syntax.Statement, defined map[*Stmt]syntax.Pos, errs *ErrorList) {
	for _, st := range stmts {
		target, err := e.apply(at, st.Words, defined, false)
		if err != nil {
			*errs = append(*errs, asError(err))
			continue
		}
		if st.HasBody {
			if !target.Node.HasBody() {
				*errs = append(*errs, &Error{Pos: st.Pos, Path: target.PathString(),
					Msg: fmt.Sprintf("%s takes no block", target.Node.Name), Expected: "';' after the statement"})
				continue
			}
			// Named entries (proposal p, gateway g, unit 0) are definitions:
			// writing one twice is a mistake. Plain containers (security,
			// ike) may be opened again and merge, as Junos "load" does.
			if defined != nil && target.Node.Kind == KindList {
				if prev, ok := defined[target]; ok {
					*errs = append(*errs, &Error{Pos: st.Pos, Path: target.PathString(),
						Msg: fmt.Sprintf("%s is defined twice (first at %s)", wordsOf(target), prev), Expected: "each statement once"})
					continue
				}
				defined[target] = st.Pos
			}
		}
		// "inactive:" and an annotation belong to the statement as written:
		// for "pre-shared-key ascii-text K;" that is pre-shared-key, the
		// child of at that the words begin with.
		first := target
		for first.parent != nil && first.parent != at {
			first = first.parent
		}
		if st.Inactive {
			first.Inactive = true
		}
		if st.Annotation != "" {
			first.Annotation = st.Annotation
		}
		if st.HasBody {
			e.loadBlock(target, st.Body, defined, errs)
		}
	}
}

func wordsOf(s *Stmt) string {
	w := s.Words()
	if len(w) == 0 {
		return "statement"
	}
	out := w[0]
	for _, x := range w[1:] {
		out += " " + x
	}
	return out
}

// ParseSet reads the set-command format.
func ParseSet(file string, src []byte, rand io.Reader) (*Tree, error) {
	t := New()
	e := &Editor{Tree: t, Rand: rand}
	if err := e.LoadSet(t.Root, file, src); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadSet applies set-format commands below at, in order. Every failing
// line is reported; the caller decides whether the partly edited tree is
// used (a file load discards it).
func (e *Editor) LoadSet(at *Stmt, file string, src []byte) error {
	cmds, perr := syntax.ParseSet(file, string(src))
	var errs ErrorList
	if perr != nil {
		errs = fromSyntax(perr)
	}
	for _, c := range cmds {
		if err := e.Command(at, c); err != nil {
			errs = append(errs, asError(err))
		}
	}
	errs.Sort()
	return errs.Err()
}

// Command applies one set-format command below at.
func (e *Editor) Command(at *Stmt, c syntax.Command) error {
	if len(c.Words) == 0 && c.Verb != syntax.VerbDelete {
		return &Error{Pos: c.Pos, Path: at.PathString(), Msg: "missing statement after " + c.Verb, Expected: expectedChildren(at.Node)}
	}
	switch c.Verb {
	case syntax.VerbSet:
		_, err := e.Set(at, c.Words)
		return err
	case syntax.VerbDelete:
		return e.Delete(at, c.Words)
	case syntax.VerbDeactivate:
		return e.SetActive(at, c.Words, false)
	case syntax.VerbActivate:
		return e.SetActive(at, c.Words, true)
	}
	return &Error{Pos: c.Pos, Msg: "unknown command " + c.Verb, Expected: "set, delete, deactivate or activate"}
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Msg: err.Error()}
}

// Sort orders the errors by position (file, line, column).
func (l ErrorList) Sort() {
	// Insertion sort: lists are short and mostly ordered already.
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && before(l[j].Pos, l[j-1].Pos); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

func before(a, b syntax.Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}
