// Package config is the Junos configuration language of ipsecgw: the
// statement schema (schema.go, grammar.go), the tree built from text in
// either format, edits (set, delete, deactivate), the printers for both
// formats, and "show | compare".
//
// A Tree holds only what was written; defaults and cross-references belong
// to the typed model in config/schema.
package config

import (
	"strings"

	"ipsecgw/config/syntax"
)

// Stmt is one statement of a configuration tree.
type Stmt struct {
	Node       *Node    // its schema
	Key        string   // the entry name, for KindList
	Values     []string // KindLeaf (one) and KindLeafList; secrets in $9$ form
	Children   []*Stmt  // in display order (see insert)
	Inactive   bool
	Annotation string
	// Pos is where the statement was written, ValuePos where each value was;
	// zero for statements made by the CLI or a program.
	Pos      syntax.Pos
	ValuePos []syntax.Pos
	// InheritedFrom names the group a statement came from, in a tree made
	// by Inherit ("show | display inheritance"); "" when written here.
	InheritedFrom string
	parent        *Stmt
}

// Tree is a whole configuration.
type Tree struct {
	Root *Stmt
}

// New returns an empty configuration.
func New() *Tree { return &Tree{Root: &Stmt{Node: Root}} }

// Parent returns the enclosing statement (nil at the root).
func (s *Stmt) Parent() *Stmt { return s.parent }

// Words returns the statement's own words: "gateway ike_gw", "unit 0",
// "et-0/1/8", "version v2-only".
func (s *Stmt) Words() []string {
	var w []string
	if s.Node.Name != "" {
		w = append(w, s.Node.Name)
	}
	if s.Node.Kind == KindList {
		w = append(w, s.Key)
	}
	return w
}

// Path returns the words from the root to s, without leaf values: the
// "[edit ...]" path of a container, or the path of a leaf.
func (s *Stmt) Path() []string {
	if s.parent == nil {
		return nil
	}
	return append(s.parent.Path(), s.Words()...)
}

// PathString is Path joined by spaces, as Junos writes it in banners.
func (s *Stmt) PathString() string { return strings.Join(s.Path(), " ") }

// Value returns the single value of a leaf ("" if none).
func (s *Stmt) Value() string {
	if len(s.Values) == 0 {
		return ""
	}
	return s.Values[0]
}

// Child returns the first child statement with the given keyword (for
// containers, leaves and flags), or nil.
func (s *Stmt) Child(name string) *Stmt {
	for _, c := range s.Children {
		if c.Node.Name == name {
			return c
		}
	}
	return nil
}

// Entries returns the entries of the child list called name (the keyword-less
// list when name is ""), in creation order.
func (s *Stmt) Entries(name string) []*Stmt {
	var out []*Stmt
	for _, c := range s.Children {
		if c.Node.Kind == KindList && c.Node.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Entry returns the entry of list name with the given key, or nil.
func (s *Stmt) Entry(name, key string) *Stmt {
	for _, c := range s.Children {
		if c.Node.Kind == KindList && c.Node.Name == name && c.Key == key {
			return c
		}
	}
	return nil
}

// Lookup follows a path of child keywords and list keys ("security", "ike",
// "gateway", "gw1") and returns the statement there, or nil.
func (s *Stmt) Lookup(path ...string) *Stmt {
	cur := s
	for i := 0; i < len(path); i++ {
		n := cur.Node.Child(path[i])
		switch {
		case n == nil && cur.Node.KeyedList() != nil:
			cur = cur.Entry("", path[i])
		case n == nil:
			return nil
		case n.Kind == KindList:
			if i+1 >= len(path) {
				return nil
			}
			i++
			cur = cur.Entry(n.Name, path[i])
		default:
			cur = cur.Child(path[i])
		}
		if cur == nil {
			return nil
		}
	}
	return cur
}

// Active reports whether s and all its ancestors are active (not
// "inactive:"); the daemon ignores inactive statements.
func (s *Stmt) Active() bool {
	for c := s; c != nil; c = c.parent {
		if c.Inactive {
			return false
		}
	}
	return true
}

func (s *Stmt) find(n *Node, key string) *Stmt {
	for _, c := range s.Children {
		if c.Node == n && (n.Kind != KindList || c.Key == key) {
			return c
		}
	}
	return nil
}

// insert adds c in display order: after every child whose schema position is
// not later, so fixed statements follow the schema and list entries keep the
// order they were created in. A member of a choice replaces the others.
func (s *Stmt) insert(c *Stmt) {
	c.parent = s
	if c.Node.Choice != "" {
		kept := s.Children[:0]
		for _, o := range s.Children {
			if o.Node.Choice == c.Node.Choice && o.Node != c.Node {
				continue
			}
			kept = append(kept, o)
		}
		s.Children = kept
	}
	at := len(s.Children)
	for i, o := range s.Children {
		if o.Node.order > c.Node.order {
			at = i
			break
		}
	}
	s.Children = append(s.Children, nil)
	copy(s.Children[at+1:], s.Children[at:])
	s.Children[at] = c
}

func (s *Stmt) remove(c *Stmt) {
	for i, o := range s.Children {
		if o == c {
			s.Children = append(s.Children[:i], s.Children[i+1:]...)
			c.parent = nil
			return
		}
	}
}

// Clone returns a deep copy of the tree.
func (t *Tree) Clone() *Tree { return &Tree{Root: t.Root.clone(nil)} }

func (s *Stmt) clone(parent *Stmt) *Stmt {
	c := *s
	c.parent = parent
	c.Values = append([]string(nil), s.Values...)
	c.ValuePos = append([]syntax.Pos(nil), s.ValuePos...)
	c.Children = make([]*Stmt, len(s.Children))
	for i, ch := range s.Children {
		c.Children[i] = ch.clone(&c)
	}
	return &c
}

// Equal reports whether two trees hold the same statements, values,
// activation and annotations (positions are ignored).
func (t *Tree) Equal(o *Tree) bool { return t.Root.equal(o.Root, true) }

// EqualIgnoringAnnotations is Equal without annotations: the set format has
// no annotations, so a round trip through it keeps everything else.
func (t *Tree) EqualIgnoringAnnotations(o *Tree) bool { return t.Root.equal(o.Root, false) }

func (s *Stmt) equal(o *Stmt, annotations bool) bool {
	if s.Node != o.Node || s.Key != o.Key || s.Inactive != o.Inactive ||
		len(s.Values) != len(o.Values) || len(s.Children) != len(o.Children) {
		return false
	}
	if annotations && s.Annotation != o.Annotation {
		return false
	}
	for i := range s.Values {
		if s.Values[i] != o.Values[i] {
			return false
		}
	}
	for i := range s.Children {
		if !s.Children[i].equal(o.Children[i], annotations) {
			return false
		}
	}
	return true
}
