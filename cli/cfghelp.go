package cli

// Help and completion for the arguments of configuration-mode commands.

type choicesFunc = func(s *Session, args []word) ([]choice, *syntaxError)

// pathChoices offers the statements below the edit level plus args, and
// "<[Enter]>" once the command could run.
func pathChoices(verb string) choicesFunc {
	return func(s *Session, args []word) ([]choice, *syntaxError) {
		p, err := s.walk(args)
		if err != nil {
			return nil, err
		}
		cs := p.choices()
		var runnable bool
		switch verb {
		case "show":
			runnable = true
			cs = append(cs, pipeChoice)
		case "set":
			runnable = len(args) > 0 && p.complete()
		case "edit":
			runnable = len(args) > 0 && p.expect == expectStatement
		case "delete":
			runnable = p.expect != expectInList
		default:
			runnable = len(args) > 0 && p.expect != expectInList
		}
		if runnable {
			cs = append(cs, enterChoice)
		}
		sortChoices(cs)
		return cs, nil
	}
}

func noArgs(_ *Session, args []word) ([]choice, *syntaxError) {
	if len(args) > 0 {
		return nil, expecting(args[0].start, "<command>")
	}
	return []choice{enterChoice}, nil
}

func exitChoices(_ *Session, args []word) ([]choice, *syntaxError) {
	if len(args) > 0 {
		return []choice{enterChoice}, nil
	}
	return []choice{enterChoice, {word: "configuration-mode", help: "Exit from configuration mode"}}, nil
}

func numberArg(help string) choicesFunc {
	return func(_ *Session, args []word) ([]choice, *syntaxError) {
		if len(args) > 0 {
			return []choice{enterChoice}, nil
		}
		return []choice{enterChoice, {word: "<number>", help: help}}, nil
	}
}

// runChoices completes the operational command after "run".
func runChoices(_ *Session, args []word) ([]choice, *syntaxError) {
	return opChoices(args)
}

func commitChoices(_ *Session, args []word) ([]choice, *syntaxError) {
	_, _, pending, err := parseCommit(args)
	switch {
	case err != nil && pending == "comment":
		return []choice{{word: "<comment>", help: "Message to write to commit log"}}, nil
	case err != nil:
		return nil, err
	}
	cs := []choice{enterChoice}
	if pending == "confirmed" {
		cs = append(cs, choice{word: "<minutes>", help: "Number of minutes until automatic rollback (1..65535)"})
	}
	cs = append(cs, commitOptions...)
	return cs, nil
}
