package cli

import (
	"sort"
	"strconv"
	"strings"

	"ipsecgw/config"
)

// cfgPath walks the configuration schema (config.Root) word by word: the
// path of "edit", "set", "delete", "show" and "show configuration". The
// same walk parses a command, offers completions and says where a word is
// wrong, so help and the parser cannot disagree.
type cfgPath struct {
	body   *config.Node // the statement whose children come next
	node   *config.Node // the list, leaf or leaf-list awaiting a key or value
	expect expect
	// words are the resolved words: keywords spelled out, keys and values
	// as typed (unquoted). sent are the same words as they go to the server
	// (Junos quoting).
	words []string
	sent  []string
	// levels holds len(words) after each hierarchy level: a container
	// ("ike"), a list entry ("gateway gw1") or an interface ("st0"). "up"
	// goes back one level, not one word.
	levels []int
}

type expect uint8

const (
	expectStatement expect = iota // a child keyword of body, or a key of its keyed list
	expectKey                     // the name of an entry of list node
	expectValue                   // the value of leaf node
	expectValues                  // the value of leaf-list node, or "[" for several
	expectInList                  // more values of leaf-list node, or "]"
	expectEnd                     // the statement is complete
)

func newCfgPath() *cfgPath { return &cfgPath{body: config.Root} }

func (c *cfgPath) clone() *cfgPath {
	d := *c
	d.words = append([]string(nil), c.words...)
	d.sent = append([]string(nil), c.sent...)
	d.levels = append([]int(nil), c.levels...)
	return &d
}

// upTo returns the path cut back to its first n levels.
func (c *cfgPath) upTo(n int) *cfgPath {
	d := newCfgPath()
	for _, w := range c.words[:c.levelEnd(n)] {
		// Replaying the resolved words cannot fail: they resolved before.
		d.feed(word{text: w})
	}
	return d
}

func (c *cfgPath) levelEnd(n int) int {
	if n <= 0 {
		return 0
	}
	return c.levels[n-1]
}

func (c *cfgPath) add(resolved, sent string) {
	c.words = append(c.words, resolved)
	c.sent = append(c.sent, sent)
}

func (c *cfgPath) enter(body *config.Node) {
	c.body, c.node, c.expect = body, nil, expectStatement
	c.levels = append(c.levels, len(c.words))
}

// feed takes the next word. A keyword may be abbreviated to a unique
// prefix; so may a value with a fixed set of keywords (an enum).
func (c *cfgPath) feed(w word) *syntaxError {
	switch c.expect {
	case expectStatement:
		k, amb := resolve(w.text, c.body.ChildNames(), nil)
		if w.quoted {
			k, amb = "", nil // a quoted word is a name, never a keyword
		}
		if k == "" {
			if len(amb) > 1 {
				return ambiguous(w, filterChoices(c.choices(), w.text))
			}
			if kl := c.body.KeyedList(); kl != nil {
				if ifd, unit, ok := config.SplitIfl(w.text); ok && !w.quoted && kl.Child("unit") != nil {
					// "st0.1" is "st0 unit 1", as Junos reads it.
					c.add(ifd, ifd)
					c.enter(kl)
					u := strconv.FormatUint(uint64(unit), 10)
					c.add("unit", "unit")
					c.add(u, u)
					c.enter(kl.Child("unit"))
					return nil
				}
				c.add(w.text, w.valueText())
				c.enter(kl)
				return nil
			}
			return badSyntax(w)
		}
		n := c.body.Child(k)
		c.add(k, k)
		c.node = n
		switch n.Kind {
		case config.KindContainer:
			c.enter(n)
		case config.KindList:
			c.expect = expectKey
		case config.KindLeaf:
			c.expect = expectValue
		case config.KindLeafList:
			c.expect = expectValues
		case config.KindFlag:
			c.expect = expectEnd
		}
	case expectKey:
		c.add(c.value(c.node.Key, w))
		c.enter(c.node)
	case expectValue:
		c.add(c.value(c.node.Value, w))
		c.expect = expectEnd
	case expectValues, expectInList:
		if !w.quoted && (w.text == "[" && c.expect == expectValues || w.text == "]" && c.expect == expectInList) {
			c.add(w.text, w.text)
			if w.text == "[" {
				c.expect = expectInList
			} else {
				c.expect = expectEnd
			}
			return nil
		}
		c.add(c.value(c.node.Value, w))
		if c.expect == expectValues {
			c.expect = expectEnd
		}
	case expectEnd:
		// Junos set commands go on after a value or flag with another
		// statement of the same level: "interval 10 threshold 3".
		if k, _ := resolve(w.text, c.body.ChildNames(), nil); k != "" && !w.quoted {
			c.expect = expectStatement
			return c.feed(w)
		}
		return badSyntax(w)
	}
	return nil
}

// value spells out an abbreviated enum keyword; any other value goes to
// the server as typed, which checks it against the type.
func (c *cfgPath) value(t *config.Type, w word) (string, string) {
	if t != nil && t.Enum != nil && !w.quoted {
		if k, _ := resolve(w.text, t.Enum, nil); k != "" {
			return k, k
		}
	}
	return w.text, w.valueText()
}

// complete reports whether the words so far make a whole statement path
// for "set": a list key or a value still missing is not.
func (c *cfgPath) complete() bool {
	return c.expect == expectStatement || c.expect == expectEnd
}

// choices lists what may come next, for "?" and Tab.
func (c *cfgPath) choices() []choice {
	var out []choice
	switch c.expect {
	case expectStatement:
		for _, n := range c.body.Children {
			if n.Name == "" {
				out = append(out, choice{word: "<" + strings.ToLower(n.Help) + "_name>", help: n.Help + " name"})
				continue
			}
			mark := ""
			switch n.Kind {
			case config.KindContainer, config.KindList:
				mark = ">"
			case config.KindLeafList:
				mark = "+"
			}
			out = append(out, choice{word: n.Name, help: n.Help, mark: mark})
		}
	case expectKey:
		out = valueChoices(c.node, c.node.Key, "<name>")
	case expectValue:
		out = valueChoices(c.node, c.node.Value, "<"+c.node.Name+">")
	case expectValues:
		out = append(valueChoices(c.node, c.node.Value, "<"+c.node.Name+">"),
			choice{word: "[", help: "Open a set of values"})
	case expectInList:
		out = append(valueChoices(c.node, c.node.Value, "<"+c.node.Name+">"),
			choice{word: "]", help: "Close a set of values"})
	}
	sortChoices(out)
	return out
}

// valueChoices offers the keywords of an enum, or a placeholder saying
// what kind of value is expected.
func valueChoices(n *config.Node, t *config.Type, placeholder string) []choice {
	if t == nil {
		return nil
	}
	if t.Enum != nil {
		out := make([]choice, 0, len(t.Enum))
		for _, e := range t.Enum {
			out = append(out, choice{word: e})
		}
		return out
	}
	help := n.Help
	switch {
	case strings.HasPrefix(t.Name, "integer"):
		placeholder = "<number>"
		help += " (" + strings.TrimPrefix(t.Name, "integer ") + ")"
	case !strings.HasPrefix(t.Name, "a name"):
		help += " (" + t.Name + ")"
	}
	return []choice{{word: placeholder, help: help}}
}

// sortChoices puts placeholders first, then keywords alphabetically, as
// Junos lists them.
func sortChoices(cs []choice) {
	rank := func(c choice) int {
		switch {
		case c.word == enterChoice.word:
			return 0
		case strings.HasPrefix(c.word, "<"):
			return 1
		case c.word == "|":
			return 3
		}
		return 2
	}
	sort.SliceStable(cs, func(i, j int) bool {
		ri, rj := rank(cs[i]), rank(cs[j])
		if ri != rj {
			return ri < rj
		}
		return cs[i].word < cs[j].word
	})
}
