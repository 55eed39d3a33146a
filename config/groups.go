package config

import (
	"fmt"
	"strings"
)

// Junos configuration groups: "groups { G { ...any configuration... } }"
// holds statements that "apply-groups [ G ... ]" at some level of the
// configuration inherits. A group's body has the same statements as the
// root (less groups itself), and its list keys may be wildcards, "<*>" or
// "<ge-*>", that match entries of the configuration instead of creating
// them. "${node}" in apply-groups names the group of the node this daemon
// runs as ("node1"), as a chassis cluster does.
//
// The tree keeps groups and apply-groups as written; Inherit (inherit.go)
// makes the configuration the daemon acts on.

// NodeVariable is the apply-groups value replaced by the node's group name.
const NodeVariable = "${node}"

// Schema nodes of groups; linked into the statement tree by init below, so
// the grammar file stays the list of product statements.
var (
	// groupEntry is one group; its body is filled by init.
	groupEntry = list("", "Group name", nameType)
	groupsNode = container("groups", "Configuration groups", groupEntry)
)

// groupName is a group name, or ${node} in apply-groups.
var groupName = &Type{Name: "a group name or " + NodeVariable, check: func(s string) error {
	if s == NodeVariable {
		return nil
	}
	return nameType.Check(s)
}}

func init() {
	addApplyGroups(Root, map[*Node]bool{})
	groupsNode.order = -3
	Root.Children = append([]*Node{groupsNode}, Root.Children...)
	Root.byName["groups"] = groupsNode
	groupsNode.parent = Root
	// A group's body is the root's body without groups: Junos groups do
	// not nest. Its children stay Root's (their parent is Root), so a
	// statement means the same in a group as in the configuration.
	groupEntry.byName = make(map[string]*Node, len(Root.byName))
	for _, c := range Root.Children {
		if IsGroupStatement(c) {
			continue
		}
		groupEntry.Children = append(groupEntry.Children, c)
		groupEntry.byName[c.Name] = c
	}
	groupEntry.keyed = Root.keyed
}

// addApplyGroups gives every level that has a body its own apply-groups and
// apply-groups-except, printed first at the level as Junos does.
func addApplyGroups(n *Node, seen map[*Node]bool) {
	if seen[n] || !n.HasBody() {
		return
	}
	seen[n] = true
	for _, c := range n.Children {
		addApplyGroups(c, seen)
	}
	for i, name := range []string{"apply-groups", "apply-groups-except"} {
		help := "Groups from which to inherit configuration data"
		if i == 1 {
			help = "Don't inherit configuration data from these groups"
		}
		a := leafList(name, help, groupName, 0)
		a.parent, a.order = n, i-2
		n.Children = append([]*Node{a}, n.Children...)
		if n.byName == nil {
			n.byName = map[string]*Node{}
		}
		n.byName[name] = a
	}
}

// IsGroupStatement reports whether n is groups, apply-groups or
// apply-groups-except: statements about inheritance, not configuration.
func IsGroupStatement(n *Node) bool {
	return n == groupsNode || n.Name == "apply-groups" || n.Name == "apply-groups-except"
}

// inGroup reports whether s is inside a group's body.
func inGroup(s *Stmt) bool {
	for c := s; c != nil; c = c.parent {
		if c.Node == groupEntry {
			return true
		}
	}
	return false
}

// IsWildcard reports whether a list key is a group wildcard, "<...>".
func IsWildcard(key string) bool {
	return len(key) >= 2 && key[0] == '<' && key[len(key)-1] == '>'
}

// checkKey checks a list key below at: inside a group a wildcard is a key.
func checkKey(at *Stmt, t *Type, key string) error {
	if IsWildcard(key) && inGroup(at) {
		return checkWildcard(key)
	}
	return t.Check(key)
}

func checkWildcard(key string) error {
	pat := key[1 : len(key)-1]
	if pat == "" {
		return fmt.Errorf("empty wildcard %q", key)
	}
	if strings.Count(pat, "[") != strings.Count(pat, "]") {
		return fmt.Errorf("unbalanced [ ] in wildcard %q", key)
	}
	return nil
}

// wildcardMatch reports whether key matches the Junos wildcard w ("<ge-*>"):
// "*" any run of characters (slashes included: ge-0/0/0), "?" one
// character, "[abc]" and "[a-c]" one of a set.
func wildcardMatch(w, key string) bool {
	return globMatch(w[1:len(w)-1], key)
}

func globMatch(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pat, s = pat[1:], s[1:]
		case '[':
			end := strings.IndexByte(pat, ']')
			if end < 0 || s == "" || !classMatch(pat[1:end], s[0]) {
				return false
			}
			pat, s = pat[end+1:], s[1:]
		default:
			if s == "" || pat[0] != s[0] {
				return false
			}
			pat, s = pat[1:], s[1:]
		}
	}
	return s == ""
}

func classMatch(class string, c byte) bool {
	for i := 0; i < len(class); i++ {
		if i+2 < len(class) && class[i+1] == '-' {
			if class[i] <= c && c <= class[i+2] {
				return true
			}
			i += 2
			continue
		}
		if class[i] == c {
			return true
		}
	}
	return false
}

// writeInherited marks a statement of an inherited tree the way Junos
// "show | display inheritance" does; the word quoted is the one that names
// the statement: the entry's key, the leaf's value, or the keyword.
func writeInherited(b *strings.Builder, pad string, s *Stmt) {
	what := s.Node.Name
	switch {
	case s.Node.Kind == KindList:
		what = s.Key
	case len(s.Values) > 0 && !s.Node.IsSecret():
		what = strings.Join(s.Values, " ")
	}
	fmt.Fprintf(b, "%s##\n%s## '%s' was inherited from group '%s'\n%s##\n", pad, pad, what, s.InheritedFrom, pad)
}

// configChildNames is ChildNames without the inheritance statements every
// level has: an error's "expected" lists what configures the level.
func configChildNames(n *Node) []string {
	var out []string
	for _, name := range n.ChildNames() {
		if c := n.Child(name); c == nil || !IsGroupStatement(c) {
			out = append(out, name)
		}
	}
	return out
}
