package config

import (
	"fmt"
	"slices"
)

// Inherit returns a copy of t in which every apply-groups has been applied,
// as Junos does at commit:
//
//   - the statements of a group at the path of the apply-groups are merged
//     into that level and everything below it;
//   - a statement written in the configuration wins over an inherited one;
//     among groups, one applied at a deeper level wins over one applied
//     above it, and at one level the first group named wins;
//   - a wildcard list entry ("<ge-*>") applies to every entry of the
//     configuration it matches and creates none;
//   - apply-groups-except at a level stops the named groups, applied above
//     it, from reaching it;
//   - "${node}" names nodeGroup (nothing when nodeGroup is "": a single
//     gateway belongs to no cluster; nothing either when that group is not
//     defined: a node with nothing of its own needs none). Any other
//     group named must be defined.
//
// Inherited statements keep their position in the group, so an error found
// in the result points at the group's statement, and carry InheritedFrom
// for "show | display inheritance". Groups and apply-groups stay in the
// result; Expand removes them.
func Inherit(t *Tree, nodeGroup string) (*Tree, error) {
	out := t.Clone()
	in := &inheritor{groups: map[string]*Stmt{}, node: nodeGroup}
	if gs := out.Root.Child("groups"); gs != nil && !gs.Inactive {
		for _, g := range gs.Entries("") {
			if !g.Inactive {
				in.groups[g.Key] = g
				in.noNesting(g)
			}
		}
	}
	in.level(out.Root)
	if len(in.errs) > 0 {
		in.errs.Sort()
		return nil, in.errs
	}
	return out, nil
}

// noNesting refuses apply-groups inside a group: groups do not nest, and
// a statement accepted must take effect.
func (in *inheritor) noNesting(s *Stmt) {
	for _, c := range s.Children {
		if c.Node.Name == "apply-groups" || c.Node.Name == "apply-groups-except" {
			in.errs = append(in.errs, &Error{Pos: c.Pos, Path: c.PathString(),
				Msg: c.Node.Name + " inside a group", Expected: "apply-groups outside [edit groups]: groups do not nest"})
			continue
		}
		in.noNesting(c)
	}
}

// Expand is Inherit without the statements about inheritance: the
// configuration the typed model is built from.
func Expand(t *Tree, nodeGroup string) (*Tree, error) {
	out, err := Inherit(t, nodeGroup)
	if err != nil {
		return nil, err
	}
	stripGroups(out.Root)
	return out, nil
}

func stripGroups(s *Stmt) {
	kept := s.Children[:0]
	for _, c := range s.Children {
		if IsGroupStatement(c.Node) {
			continue
		}
		stripGroups(c)
		kept = append(kept, c)
	}
	s.Children = kept
}

type inheritor struct {
	groups map[string]*Stmt
	node   string
	errs   ErrorList
}

// level applies the apply-groups of s's subtree, deepest first, so that
// when s's own groups fill what is missing, what the deeper levels
// inherited is already there and wins.
func (in *inheritor) level(s *Stmt) {
	if s.Node == groupsNode {
		return
	}
	for _, c := range slices.Clone(s.Children) {
		if c.Node.HasBody() {
			in.level(c)
		}
	}
	ag := s.Child("apply-groups")
	if ag == nil || !ag.Active() {
		return
	}
	for i, name := range ag.Values {
		if name == NodeVariable {
			if in.node == "" {
				continue
			}
			name = in.node
		}
		g := in.groups[name]
		if g == nil && ag.Values[i] == NodeVariable {
			continue // a node with nothing of its own needs no group
		}
		if g == nil {
			p := ag.Pos
			if i < len(ag.ValuePos) {
				p = ag.ValuePos[i]
			}
			in.errs = append(in.errs, &Error{Pos: p, Path: ag.PathString(),
				Msg: fmt.Sprintf("group %q is not defined", name), Expected: "a group defined under [edit groups]"})
			continue
		}
		for _, src := range groupLevel(g, s) {
			merge(s, src, name)
		}
	}
}

// groupLevel returns the statements of group g at the level of s: the path
// from the root to s, followed in g with wildcards matching (exact entries
// first, then wildcards in the order written).
func groupLevel(g, s *Stmt) []*Stmt {
	var chain []*Stmt
	for c := s; c.parent != nil; c = c.parent {
		chain = append(chain, c)
	}
	slices.Reverse(chain)
	srcs := []*Stmt{g}
	for _, step := range chain {
		var next []*Stmt
		for _, src := range srcs {
			next = append(next, matching(src, step)...)
		}
		srcs = next
	}
	return srcs
}

// matching returns the children of src that correspond to dst: the same
// statement, or for a list entry the same key, then matching wildcards.
func matching(src, dst *Stmt) []*Stmt {
	var exact, wild []*Stmt
	for _, c := range src.Children {
		if c.Node != dst.Node || c.Inactive {
			continue
		}
		switch {
		case dst.Node.Kind != KindList || c.Key == dst.Key:
			exact = append(exact, c)
		case IsWildcard(c.Key) && wildcardMatch(c.Key, dst.Key):
			wild = append(wild, c)
		}
	}
	return append(exact, wild...)
}

// merge fills dst with what src (a group's statement at dst's level) has
// and dst lacks, marking what it adds with the group's name.
func merge(dst, src *Stmt, group string) {
	if excepts(dst, group) {
		return
	}
	for _, c := range src.Children {
		if IsGroupStatement(c.Node) {
			continue
		}
		if c.Node.Kind == KindList && IsWildcard(c.Key) {
			for _, d := range slices.Clone(dst.Children) {
				if d.Node == c.Node && wildcardMatch(c.Key, d.Key) {
					merge(d, c, group)
				}
			}
			continue
		}
		if d := dst.find(c.Node, c.Key); d != nil {
			if c.Node.HasBody() {
				merge(d, c, group)
			}
			continue
		}
		if chosen(dst, c.Node) {
			continue
		}
		d := &Stmt{Node: c.Node, Key: c.Key, Inactive: c.Inactive, Pos: c.Pos,
			Values: slices.Clone(c.Values), ValuePos: slices.Clone(c.ValuePos), InheritedFrom: group}
		dst.insert(d)
		if c.Node.HasBody() {
			merge(d, c, group)
		}
	}
}

// chosen reports whether dst already holds another member of n's choice
// (ascii-text where the group has hexadecimal): the configuration's wins.
func chosen(dst *Stmt, n *Node) bool {
	if n.Choice == "" {
		return false
	}
	for _, o := range dst.Children {
		if o.Node.Choice == n.Choice && o.Node != n {
			return true
		}
	}
	return false
}

// excepts reports whether s, or a level above it, refuses group with
// apply-groups-except.
func excepts(s *Stmt, group string) bool {
	for c := s; c != nil; c = c.parent {
		if x := c.Child("apply-groups-except"); x != nil && !x.Inactive && slices.Contains(x.Values, group) {
			return true
		}
	}
	return false
}
