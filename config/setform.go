package config

import (
	"fmt"
	"strconv"
	"strings"

	"ipsecgw/config/syntax"
)

// Two habits of Junos set commands that the brace format does not share,
// relied on by the configurations cloud providers hand out for an SRX:
//
//   - "set interfaces st0.1 family inet address A" names interface st0, unit
//     1: a word IF.UNIT where an interface name is expected is the two
//     statements "IF unit UNIT". The brace format has no such shorthand: a
//     block "st0.1 { ... }" under interfaces is refused with the form to use.
//   - "set security ipsec vpn-monitor-options interval 10 threshold 5": after
//     a leaf's value (or a flag), the next word may start another statement
//     at the same level.
//
// Both only change how words are read: the tree holds the canonical form,
// which "show" and "show | display set" print one statement per line.

// unitShorthand reads an IF.UNIT word met where the keyed list kl (the
// interfaces) expects a name. It returns the unit's statement, created if
// needed; nil and no error when the word is no IF.UNIT; an error when it is
// one but cannot be used (the brace format, or a unit out of range).
func (e *Editor) unitShorthand(cur *Stmt, kl *Node, w syntax.Word, setCmd bool) (*Stmt, error) {
	unitNode := kl.Child("unit")
	if unitNode == nil || unitNode.Kind != KindList || w.Quoted {
		return nil, nil
	}
	ifd, unit, ok := splitUnit(w.Text)
	if !ok || kl.Key.Check(ifd) != nil {
		return nil, nil
	}
	if !setCmd {
		return nil, e.errAt(w.Pos, cur, fmt.Sprintf("%q is an interface and a unit: the IF.UNIT shorthand is for set commands", w.Text),
			fmt.Sprintf("%s { unit %s { ... } }", ifd, unit))
	}
	if err := unitNode.Key.Check(unit); err != nil {
		return nil, e.errAt(w.Pos, cur, fmt.Sprintf("bad unit in %q: %v", w.Text, err), unitNode.Key.Name)
	}
	return cur.entry(kl, ifd, w.Pos).entry(unitNode, unit, w.Pos), nil
}

// findUnitShorthand finds the unit an IF.UNIT word names below cur (delete,
// deactivate), or nil.
func findUnitShorthand(cur *Stmt, word string) *Stmt {
	kl := cur.Node.KeyedList()
	if kl == nil || kl.Child("unit") == nil {
		return nil
	}
	ifd, unit, ok := splitUnit(word)
	if !ok {
		return nil
	}
	if s := cur.find(kl, ifd); s != nil {
		return s.find(kl.Child("unit"), unit)
	}
	return nil
}

// splitUnit splits "st0.1" or "ge-0/0/0.0" at its last dot; the unit is
// returned in canonical decimal form.
func splitUnit(s string) (ifd, unit string, ok bool) {
	name, n, ok := SplitIfl(s)
	if !ok {
		return "", "", false
	}
	return name, strconv.FormatUint(uint64(n), 10), true
}

// isSibling reports whether w names a statement of cur's level, so that a
// set command may go on with it after a value.
func isSibling(cur *Stmt, w syntax.Word) bool {
	return !w.IsList && !w.Quoted && cur.Node.Child(w.Text) != nil
}

// siblingAfter returns the index of the first word from i on that names a
// statement of cur's level, or len(words): where the values of a leaf-list
// end in a set command.
func siblingAfter(cur *Stmt, words []syntax.Word, i int) int {
	for ; i < len(words); i++ {
		if isSibling(cur, words[i]) {
			return i
		}
	}
	return len(words)
}

// moreExpected says what may follow a complete leaf or flag.
func moreExpected(cur *Stmt, setCmd bool) string {
	if !setCmd {
		return "';'"
	}
	names := configChildNames(cur.Node)
	if len(names) == 0 {
		return "the end of the command"
	}
	return "the end of the command, or another statement of this level: " + strings.Join(names, ", ")
}
