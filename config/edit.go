package config

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"ipsecgw/config/secret"
	"ipsecgw/config/syntax"
)

// Editor applies statements and commands to a tree. Rand supplies the salt of
// $9$ encodings for secrets given in plain text (crypto/rand when nil).
type Editor struct {
	Tree *Tree
	Rand io.Reader
}

func (e *Editor) rand() io.Reader {
	if e.Rand != nil {
		return e.Rand
	}
	return rand.Reader
}

// Set applies one "set" path below the statement at (the root for a file; the
// current edit level in the CLI). It returns the statement the path ends at.
func (e *Editor) Set(at *Stmt, words []syntax.Word) (*Stmt, error) {
	return e.apply(at, words, nil, true)
}

// apply walks words from at, creating statements as needed. When defined is
// not nil (loading the brace format), a statement the words end at that was
// already written earlier in the same load is a duplicate definition.
// setCmd allows what Junos allows only in set commands (setform.go): the
// IF.UNIT shorthand and several leaves in one command.
func (e *Editor) apply(at *Stmt, words []syntax.Word, defined map[*Stmt]syntax.Pos, setCmd bool) (*Stmt, error) {
	cur := at
	for i := 0; i < len(words); {
		w := words[i]
		if w.IsList {
			return nil, e.errAt(w.Pos, cur, "unexpected list "+w.String(), expectedChildren(cur.Node))
		}
		n := cur.Node.Child(w.Text)
		if n == nil {
			kl := cur.Node.KeyedList()
			if kl == nil {
				return nil, e.errAt(w.Pos, cur, fmt.Sprintf("unknown statement %q", w.Text), expectedChildren(cur.Node))
			}
			if err := checkKey(cur, kl.Key, w.Text); err != nil {
				unit, uerr := e.unitShorthand(cur, kl, w, setCmd)
				if uerr != nil {
					return nil, uerr
				}
				if unit != nil {
					cur = unit
					i++
					continue
				}
				return nil, e.errAt(w.Pos, cur, err.Error(), kl.Key.Name+" or "+expectedChildren(cur.Node))
			}
			cur = cur.entry(kl, w.Text, w.Pos)
			i++
			continue
		}
		switch n.Kind {
		case KindContainer:
			cur = cur.container(n, w.Pos)
			i++
		case KindList:
			if i+1 >= len(words) || words[i+1].IsList {
				return nil, e.errAt(w.Pos, cur, fmt.Sprintf("missing name after %q", n.Name), n.Key.Name)
			}
			k := words[i+1]
			if err := checkKey(cur, n.Key, k.Text); err != nil {
				return nil, e.errAt(k.Pos, cur, fmt.Sprintf("bad %s name: %v", n.Name, err), n.Key.Name)
			}
			cur = cur.entry(n, k.Text, w.Pos)
			i += 2
		case KindFlag:
			if i+1 < len(words) && !(setCmd && isSibling(cur, words[i+1])) {
				return nil, e.errAt(words[i+1].Pos, cur, fmt.Sprintf("unexpected %q: %s takes no value", words[i+1].String(), n.Name), moreExpected(cur, setCmd))
			}
			s, existed := cur.flag(n, w.Pos)
			if err := checkDuplicate(defined, s, existed, w.Pos, n.Name); err != nil {
				return nil, err
			}
			if i+1 < len(words) {
				i++ // set ... optimized destination-ip A: the next statement at this level
				continue
			}
			return s, nil
		case KindLeaf:
			if i+1 >= len(words) {
				return nil, e.errAt(w.Pos, cur, fmt.Sprintf("missing value for %q", n.Name), n.Value.Name)
			}
			v := words[i+1]
			if v.IsList {
				return nil, e.errAt(v.Pos, cur, fmt.Sprintf("%s takes one value, not a list", n.Name), n.Value.Name)
			}
			if i+2 < len(words) && !(setCmd && isSibling(cur, words[i+2])) {
				return nil, e.errAt(words[i+2].Pos, cur, fmt.Sprintf("unexpected %q after the value of %s", words[i+2].String(), n.Name), moreExpected(cur, setCmd))
			}
			val, err := e.value(n, v)
			if err != nil {
				return nil, e.errAt(v.Pos, cur, fmt.Sprintf("bad value for %s: %v", n.Name, err), n.Value.Name)
			}
			s, existed := cur.leaf(n, w.Pos)
			if err := checkDuplicate(defined, s, existed, w.Pos, n.Name); err != nil {
				return nil, err
			}
			s.Values, s.ValuePos = []string{val}, []syntax.Pos{v.Pos}
			if i+2 < len(words) {
				i += 2 // set ... interval 10 threshold 5: the next leaf at this level
				continue
			}
			return s, nil
		case KindLeafList:
			end := len(words)
			if setCmd {
				end = siblingAfter(cur, words, i+2) // "source-address any destination-address any"
			}
			vals := words[i+1 : end]
			if len(vals) == 0 {
				return nil, e.errAt(w.Pos, cur, fmt.Sprintf("missing value for %q", n.Name), n.Value.Name)
			}
			s, _ := cur.leaf(n, w.Pos)
			for _, v := range vals {
				items := []syntax.Word{v}
				if v.IsList {
					items = v.List
				}
				for _, it := range items {
					val, err := e.value(n, it)
					if err != nil {
						return nil, e.errAt(it.Pos, cur, fmt.Sprintf("bad value for %s: %v", n.Name, err), n.Value.Name)
					}
					if !contains(s.Values, val) {
						if n.MaxValues > 0 && len(s.Values) >= n.MaxValues {
							return nil, e.errAt(it.Pos, cur, fmt.Sprintf("too many values for %s", n.Name), fmt.Sprintf("at most %d", n.MaxValues))
						}
						s.Values = append(s.Values, val)
						s.ValuePos = append(s.ValuePos, it.Pos)
					}
				}
			}
			if end < len(words) {
				i = end
				continue
			}
			return s, nil
		}
	}
	return cur, nil
}

func checkDuplicate(defined map[*Stmt]syntax.Pos, s *Stmt, existed bool, at syntax.Pos, what string) error {
	if defined == nil {
		return nil
	}
	if prev, ok := defined[s]; ok && existed {
		return &Error{Pos: at, Path: s.PathString(), Msg: fmt.Sprintf("%s is defined twice (first at %s)", what, prev), Expected: "each statement once"}
	}
	defined[s] = at
	return nil
}

// value validates one value of leaf n and returns it as stored: secrets
// given in plain text are encoded to $9$ here, once.
func (e *Editor) value(n *Node, w syntax.Word) (string, error) {
	if !n.IsSecret() {
		return w.Text, n.Value.Check(w.Text)
	}
	if secret.IsEncoded(w.Text) {
		plain, err := secret.Decode(w.Text)
		if err != nil {
			return "", fmt.Errorf("bad $9$ secret: %w", err)
		}
		if err := n.Value.Check(string(plain)); err != nil {
			return "", err
		}
		return w.Text, nil
	}
	if strings.HasPrefix(w.Text, "$9$") {
		return "", fmt.Errorf("bad $9$ secret: not a valid encoding")
	}
	if w.Text == "" {
		return "", fmt.Errorf("empty key")
	}
	if err := n.Value.Check(w.Text); err != nil {
		return "", err
	}
	return secret.Encode([]byte(w.Text), e.rand())
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (e *Editor) errAt(p syntax.Pos, at *Stmt, msg, expected string) *Error {
	return &Error{Pos: p, Path: at.PathString(), Msg: msg, Expected: expected}
}

func expectedChildren(n *Node) string {
	names := configChildNames(n)
	var parts []string
	if kl := n.KeyedList(); kl != nil {
		parts = append(parts, kl.Key.Name)
	}
	if len(names) > 0 {
		parts = append(parts, "one of: "+strings.Join(names, ", "))
	}
	if len(parts) == 0 {
		return "';'"
	}
	return strings.Join(parts, ", or ")
}

func (s *Stmt) container(n *Node, p syntax.Pos) *Stmt {
	if c := s.find(n, ""); c != nil {
		return c
	}
	c := &Stmt{Node: n, Pos: p}
	s.insert(c)
	return c
}

func (s *Stmt) entry(n *Node, key string, p syntax.Pos) *Stmt {
	if c := s.find(n, key); c != nil {
		return c
	}
	c := &Stmt{Node: n, Key: key, Pos: p}
	s.insert(c)
	return c
}

func (s *Stmt) flag(n *Node, p syntax.Pos) (*Stmt, bool) {
	if c := s.find(n, ""); c != nil {
		return c, true
	}
	c := &Stmt{Node: n, Pos: p}
	s.insert(c)
	return c, false
}

func (s *Stmt) leaf(n *Node, p syntax.Pos) (*Stmt, bool) { return s.flag(n, p) }

// Resolve follows words from at without creating anything. It returns the
// statement they name and, when the last word is one value of a leaf-list
// or leaf, that value's index (-1 otherwise).
func (e *Editor) Resolve(at *Stmt, words []syntax.Word) (*Stmt, int, error) {
	cur := at
	for i := 0; i < len(words); i++ {
		w := words[i]
		n := cur.Node.Child(w.Text)
		var next *Stmt
		switch {
		case n == nil && cur.Node.KeyedList() != nil:
			next = cur.find(cur.Node.KeyedList(), w.Text)
			if next == nil {
				next = findUnitShorthand(cur, w.Text)
			}
		case n == nil:
			return nil, -1, e.errAt(w.Pos, cur, fmt.Sprintf("unknown statement %q", w.Text), expectedChildren(cur.Node))
		case n.Kind == KindList:
			if i+1 >= len(words) {
				return nil, -1, e.errAt(w.Pos, cur, fmt.Sprintf("missing name after %q", n.Name), n.Key.Name)
			}
			i++
			next = cur.find(n, words[i].Text)
		default:
			next = cur.find(n, "")
			if next != nil && (n.Kind == KindLeaf || n.Kind == KindLeafList) && i+1 < len(words) {
				v := words[i+1]
				if i+2 < len(words) {
					return nil, -1, e.errAt(words[i+2].Pos, cur, fmt.Sprintf("unexpected %q", words[i+2].Text), "end of the command")
				}
				for j, x := range next.Values {
					if x == v.Text {
						return next, j, nil
					}
				}
				return nil, -1, e.errAt(v.Pos, cur, fmt.Sprintf("%s has no value %q", n.Name, v.Text), "one of the values configured")
			}
		}
		if next == nil {
			return nil, -1, e.errAt(w.Pos, cur, fmt.Sprintf("statement not found: %s", strings.Join(wordTexts(words[:i+1]), " ")), "a configured statement")
		}
		cur = next
	}
	return cur, -1, nil
}

func wordTexts(ws []syntax.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

// Delete removes the statement words name (and all below it), or one value
// of a leaf-list.
func (e *Editor) Delete(at *Stmt, words []syntax.Word) error {
	if len(words) == 0 {
		at.Children = nil
		return nil
	}
	s, idx, err := e.Resolve(at, words)
	if err != nil {
		return err
	}
	if idx >= 0 && s.Node.Kind == KindLeafList && len(s.Values) > 1 {
		s.Values = append(s.Values[:idx], s.Values[idx+1:]...)
		s.ValuePos = nil
		return nil
	}
	if s.parent != nil {
		s.parent.remove(s)
	}
	return nil
}

// SetActive marks the statement words name active or inactive.
func (e *Editor) SetActive(at *Stmt, words []syntax.Word, active bool) error {
	s, _, err := e.Resolve(at, words)
	if err != nil {
		return err
	}
	if s.parent == nil {
		return e.errAt(syntax.Pos{}, s, "the whole configuration cannot be deactivated", "a statement")
	}
	s.Inactive = !active
	return nil
}
