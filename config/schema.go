package config

import "sort"

// Kind is the shape of a statement in the schema.
type Kind uint8

const (
	// KindContainer is "keyword { ... }"; with no children it prints as
	// "keyword;" (a presence container, like "inline-services;").
	KindContainer Kind = iota
	// KindList is a named entry "keyword KEY { ... }". A list with an empty
	// Name is keyed by the word alone ("interfaces { et-0/1/8 { ... } }").
	KindList
	// KindLeaf is "keyword VALUE;".
	KindLeaf
	// KindLeafList is "keyword VALUE;" or "keyword [ V1 V2 ];".
	KindLeafList
	// KindFlag is "keyword;".
	KindFlag
)

// Node is one statement of the schema: the statements ipsecgw understands,
// with their value types. The tree printed by "show" follows it: children
// appear in schema order, list entries in the order they were created.
type Node struct {
	Name  string
	Kind  Kind
	Help  string
	Key   *Type // KindList: the type of the entry name
	Value *Type // KindLeaf, KindLeafList
	// MaxValues bounds a leaf-list (0: unbounded).
	MaxValues int
	// Choice groups children that exclude each other: setting one removes
	// the others (ascii-text or hexadecimal; optimized or always-send).
	Choice string
	// Oneline containers and list entries holding a single leaf print on one
	// line: "pre-shared-key ascii-text "$9$..."; " and "route P next-hop X;".
	Oneline bool
	// Flat lists print each entry together with its child entries on one
	// line: "from-zone A to-zone B { ... }".
	Flat bool
	// NotApplied, when set, says why ipsecgw accepts and keeps this statement
	// but does not act on it.
	NotApplied string
	Children   []*Node

	parent *Node
	order  int
	byName map[string]*Node
	keyed  *Node // the child list keyed by its word alone, if any
}

// Child returns the child statement called name, or nil.
func (n *Node) Child(name string) *Node { return n.byName[name] }

// KeyedList returns the child list whose entries are named by a word alone
// (the interface names under "interfaces"), or nil.
func (n *Node) KeyedList() *Node { return n.keyed }

// Parent returns the enclosing statement (nil at the root).
func (n *Node) Parent() *Node { return n.parent }

// ChildNames lists the keywords allowed below n, sorted, for messages,
// completion and help.
func (n *Node) ChildNames() []string {
	var out []string
	for _, c := range n.Children {
		if c.Name != "" {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}

// IsSecret reports whether values of n are secrets.
func (n *Node) IsSecret() bool { return n.Value != nil && n.Value.Secret }

// IsSecretData reports whether "show" marks values of n "## SECRET-DATA":
// secrets and password hashes.
func (n *Node) IsSecretData() bool { return n.Value != nil && (n.Value.Secret || n.Value.SecretData) }

// HasBody reports whether the statement can contain others.
func (n *Node) HasBody() bool { return n.Kind == KindContainer || n.Kind == KindList }

func (n *Node) link() *Node {
	n.byName = make(map[string]*Node, len(n.Children))
	for i, c := range n.Children {
		c.parent, c.order = n, i
		if c.Name == "" {
			if n.keyed != nil {
				panic("config: two keyword-less lists under " + n.Name)
			}
			n.keyed = c
		} else {
			if n.byName[c.Name] != nil {
				panic("config: duplicate schema statement " + n.Name + " " + c.Name)
			}
			n.byName[c.Name] = c
		}
	}
	return n
}

// Schema constructors: they keep the statement tree in schema.go readable.

func container(name, help string, children ...*Node) *Node {
	return (&Node{Name: name, Kind: KindContainer, Help: help, Children: children}).link()
}

func list(name, help string, key *Type, children ...*Node) *Node {
	return (&Node{Name: name, Kind: KindList, Help: help, Key: key, Children: children}).link()
}

func leaf(name, help string, t *Type) *Node {
	return &Node{Name: name, Kind: KindLeaf, Help: help, Value: t}
}

func leafList(name, help string, t *Type, max int) *Node {
	return &Node{Name: name, Kind: KindLeafList, Help: help, Value: t, MaxValues: max}
}

func flag(name, help string) *Node {
	return &Node{Name: name, Kind: KindFlag, Help: help}
}

func (n *Node) oneline() *Node { n.Oneline = true; return n }

func (n *Node) flat() *Node { n.Flat = true; return n }

func (n *Node) choice(group string) *Node { n.Choice = group; return n }

func (n *Node) notApplied(why string) *Node { n.NotApplied = why; return n }

// choices marks every given node as a member of one choice group.
func choices(group string, nodes ...*Node) []*Node {
	for _, n := range nodes {
		n.Choice = group
	}
	return nodes
}
