package cli

// opState walks the operational command tree one word at a time. Parsing a
// line feeds every word and then finishes; help feeds the words before the
// cursor and asks for choices.
type opState struct {
	node    *opNode
	args    opArgs
	pending *opOption // a keyword whose value is the next word
	cfg     *cfgPath  // show configuration: the hierarchy path so far
}

func newOpState() *opState { return &opState{node: opRoot, args: opArgs{}} }

func (st *opState) feed(w word) *syntaxError {
	if st.cfg != nil {
		return st.cfg.feed(w)
	}
	if o := st.pending; o != nil {
		st.pending = nil
		v, err := o.value.parse(w)
		if err != nil {
			return err
		}
		st.args[o.key()] = v
		return nil
	}
	if len(st.node.sub) > 0 {
		names, aliases := st.node.keywords()
		k, amb := resolve(w.text, names, aliases)
		switch {
		case k == "" && len(amb) > 1:
			return ambiguous(w, filterChoices(st.choices(), w.text))
		case k == "" && st.node == opRoot:
			return unknownCommand(w)
		case k == "":
			return expecting(w.start, "<command>")
		}
		st.node = st.node.child(k)
		if st.node.configPath {
			st.cfg = newCfgPath()
		}
		return nil
	}
	avail := st.available()
	var names []string
	for _, o := range avail {
		if o.name != "" {
			names = append(names, o.name)
		}
	}
	k, amb := resolve(w.text, names, nil)
	if k != "" {
		for _, o := range avail {
			if o.name != k {
				continue
			}
			if o.value != nil {
				st.pending = o
			} else {
				st.args[k] = ""
			}
			return nil
		}
	}
	if len(amb) > 1 {
		return ambiguous(w, filterChoices(st.choices(), w.text))
	}
	for _, o := range avail {
		if o.name == "" {
			v, err := o.value.parse(w)
			if err != nil {
				return err
			}
			st.args[o.key()] = v
			return nil
		}
	}
	return expecting(w.start, "<command>")
}

// finish ends the line: end is where the caret goes when something is
// missing.
func (st *opState) finish(end int) (opCommand, *syntaxError) {
	if st.pending != nil {
		return opCommand{}, missingArgument(end)
	}
	if st.node.build == nil {
		return opCommand{}, expecting(end, "<command>")
	}
	cmd := st.node.build(st.args)
	if st.cfg != nil {
		cmd.show.GetConfiguration().Path = st.cfg.words
	}
	return cmd, nil
}

// available lists the options not given yet and not excluded by one given.
func (st *opState) available() []*opOption {
	used := map[string]bool{}
	for _, o := range st.node.opts {
		if st.args.has(o.key()) && o.group != "" {
			used[o.group] = true
		}
	}
	var out []*opOption
	for _, o := range st.node.opts {
		if !st.args.has(o.key()) && (o.group == "" || !used[o.group]) {
			out = append(out, o)
		}
	}
	return out
}

// choices lists what may follow, for "?" and Tab.
func (st *opState) choices() []choice {
	var cs []choice
	switch {
	case st.cfg != nil:
		cs = append(st.cfg.choices(), enterChoice, pipeChoice)
	case st.pending != nil:
		cs = st.pending.value.choices()
	case len(st.node.sub) > 0:
		for _, c := range st.node.sub {
			cs = append(cs, choice{word: c.name, help: c.help})
		}
	default:
		cs = append(cs, enterChoice)
		for _, o := range st.available() {
			if o.name == "" {
				cs = append(cs, o.value.choices()...)
			} else {
				cs = append(cs, choice{word: o.name, help: o.help})
			}
		}
		cs = append(cs, pipeChoice)
	}
	sortChoices(cs)
	return cs
}

// key is where an option's value is kept in opArgs.
func (o *opOption) key() string {
	if o.name == "" {
		return o.value.placeholder
	}
	return o.name
}

// parse checks a value word, spelling out an abbreviated enum keyword.
func (v *opValue) parse(w word) (string, *syntaxError) {
	if v.enum != nil {
		names := make([]string, len(v.enum))
		for i, c := range v.enum {
			names[i] = c.word
		}
		k, amb := resolve(w.text, names, nil)
		if k == "" && len(amb) > 1 {
			return "", ambiguous(w, filterChoices(v.enum, w.text))
		}
		if k == "" {
			return "", expecting(w.start, v.placeholder)
		}
		return k, nil
	}
	if v.check != nil && !v.check(w.text) {
		return "", expecting(w.start, v.placeholder)
	}
	return w.text, nil
}

func (v *opValue) choices() []choice {
	if v.enum != nil {
		return v.enum
	}
	return []choice{{word: v.placeholder, help: v.help}}
}

// parseOp parses the words of an operational command.
func parseOp(ws []word, end int) (opCommand, *syntaxError) {
	st := newOpState()
	for _, w := range ws {
		if err := st.feed(w); err != nil {
			return opCommand{}, err
		}
	}
	return st.finish(end)
}

// opChoices is what may follow the words of an operational command.
func opChoices(ws []word) ([]choice, *syntaxError) {
	st := newOpState()
	for _, w := range ws {
		if err := st.feed(w); err != nil {
			return nil, err
		}
	}
	return st.choices(), nil
}
