package config

import (
	"sort"
	"strings"
)

// Compare prints the difference from old to new the way Junos "show |
// compare" does: for each level with changes, a banner "[edit a b c]", then
// the removed ("-") and added ("+") statements, indented as in the brace
// format relative to the banner. Equal trees give "".
func Compare(old, new *Tree) string {
	var d differ
	d.stmt(old.Root, new.Root)
	return d.out.String()
}

type differ struct {
	out     strings.Builder
	pending []string
}

func banner(s *Stmt) string {
	if p := s.PathString(); p != "" {
		return "[edit " + p + "]"
	}
	return "[edit]"
}

func (d *differ) flush(at *Stmt) {
	if len(d.pending) == 0 {
		return
	}
	d.out.WriteString(banner(at))
	d.out.WriteByte('\n')
	for _, l := range d.pending {
		d.out.WriteString(l)
	}
	d.pending = d.pending[:0]
}

// mark prints s at depth 1 and puts sign in the first column of each line.
func (d *differ) mark(sign byte, s *Stmt) {
	text := FormatStmt(s, 1)
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		d.pending = append(d.pending, string(sign)+l[1:])
	}
}

type pair struct{ old, new *Stmt }

// stmt compares two versions of the same statement.
func (d *differ) stmt(o, n *Stmt) {
	for _, p := range pairChildren(o, n) {
		switch {
		case p.new == nil:
			d.mark('-', p.old)
		case p.old == nil:
			d.mark('+', p.new)
		case !p.new.Node.HasBody() || p.old.Inactive != p.new.Inactive || p.old.Annotation != p.new.Annotation:
			if !p.old.equal(p.new, true) {
				d.mark('-', p.old)
				d.mark('+', p.new)
			}
		default:
			d.flush(o)
			d.stmt(p.old, p.new)
		}
	}
	d.flush(o)
}

// pairChildren matches the children of o and n by identity (schema node and
// entry name) and orders the pairs as the brace format would print them.
func pairChildren(o, n *Stmt) []pair {
	type ident struct {
		node *Node
		key  string
	}
	pos := map[ident]int{}
	var pairs []pair
	var rank []int
	for i, c := range n.Children {
		pos[ident{c.Node, c.Key}] = len(pairs)
		pairs = append(pairs, pair{new: c})
		rank = append(rank, i)
	}
	for i, c := range o.Children {
		if j, ok := pos[ident{c.Node, c.Key}]; ok {
			pairs[j].old = c
			continue
		}
		pairs = append(pairs, pair{old: c})
		rank = append(rank, len(n.Children)+i)
	}
	idx := make([]int, len(pairs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		pa, pb := pairs[idx[a]], pairs[idx[b]]
		na, nb := either(pa).Node.order, either(pb).Node.order
		if na != nb {
			return na < nb
		}
		return rank[idx[a]] < rank[idx[b]]
	})
	out := make([]pair, len(pairs))
	for i, j := range idx {
		out[i] = pairs[j]
	}
	return out
}

func either(p pair) *Stmt {
	if p.new != nil {
		return p.new
	}
	return p.old
}
