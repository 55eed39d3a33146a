package cli

import (
	"strconv"
	"strings"

	"ipsecgw/show"
)

// pipeline is what follows the command's bars. The text pipes (match,
// except, count, no-more, display xml|json) belong to package show; "display
// set" and "compare" only make sense on a configuration and change which
// RPC is made, so they are taken out here.
type pipeline struct {
	text       show.Pipeline
	displaySet bool
	compare    bool
	rollback   uint32 // compare rollback N

	// displayInheritance: "| display inheritance", the configuration
	// after apply-groups.
	displayInheritance bool
}

// pipeKeywords is every pipe Junos knows, so that an abbreviation is
// ambiguous exactly when it is on Junos ("c": compare or count).
var pipeKeywords = []string{
	"append", "compare", "count", "display", "except", "find", "hold", "last",
	"match", "no-more", "refresh", "request", "resolve", "save", "tee", "trim",
}

var pipeHelp = map[string]string{
	"compare": "Compare configuration changes with prior version",
	"count":   "Count occurrences",
	"display": "Show additional kinds of information",
	"except":  "Show only text that does not match a pattern",
	"match":   "Show only text that matches a pattern",
	"no-more": "Don't paginate output",
}

// bars returns the offsets of the bars outside double quotes.
func bars(line string) []int {
	at, _ := unquoted(line, '|')
	return at
}

func lastBar(line string) int {
	b := bars(line)
	if len(b) == 0 {
		return -1
	}
	return b[len(b)-1]
}

// splitPipes parses the pipes of a line. It returns the command part (the
// line up to the first bar, so that columns still match the line).
func splitPipes(line string, configMode bool) (string, pipeline, *syntaxError) {
	bs := bars(line)
	if len(bs) == 0 {
		return line, pipeline{}, nil
	}
	var pl pipeline
	ends := append(bs[1:], len(line))
	for i, b := range bs {
		if err := pl.add(line, b+1, ends[i], configMode); err != nil {
			return "", pl, err
		}
	}
	return line[:bs[0]], pl, nil
}

// add parses the pipe in line[from:to].
func (pl *pipeline) add(line string, from, to int, configMode bool) *syntaxError {
	ws, err := splitWords(line[from:to])
	if err != nil {
		err.col += from
		return err
	}
	for i := range ws {
		ws[i].start += from
		ws[i].end += from
	}
	if len(ws) == 0 {
		return missingArgument(to)
	}
	kw, amb := resolve(ws[0].text, pipeKeywords, nil)
	if kw == "" {
		if len(amb) > 1 {
			return ambiguous(ws[0], pipeChoices(configMode, ws[0].text))
		}
		return expecting(ws[0].start, "<command>")
	}
	switch kw {
	case "compare":
		if !configMode {
			return &syntaxError{col: ws[0].start, msg: "syntax error, | compare is only available in configuration mode."}
		}
		pl.compare = true
		if len(ws) == 1 {
			return nil
		}
		if k, _ := resolve(ws[1].text, []string{"rollback"}, nil); k == "" {
			return expecting(ws[1].start, "rollback")
		}
		if len(ws) < 3 {
			return missingArgument(ws[1].end + 1)
		}
		n, perr := strconv.ParseUint(ws[2].text, 10, 32)
		if perr != nil || n > 49 {
			return expecting(ws[2].start, "<number> (0..49)")
		}
		pl.rollback = uint32(n)
		if len(ws) > 3 {
			return expecting(ws[3].start, "<command>")
		}
		return nil
	case "display":
		if len(ws) < 2 {
			return missingArgument(ws[0].end + 1)
		}
		form, amb := resolve(ws[1].text, []string{"inheritance", "json", "set", "xml"}, nil)
		switch {
		case form == "" && len(amb) > 1:
			return ambiguous(ws[1], filterChoices(displayChoices(), ws[1].text))
		case form == "":
			return expecting(ws[1].start, "inheritance, json, set or xml")
		case len(ws) > 2:
			return expecting(ws[2].start, "<command>")
		case form == "set":
			pl.displaySet = true
			return nil
		case form == "inheritance":
			pl.displayInheritance = true
			return nil
		}
		kw += " " + form
	case "match", "except":
		if len(ws) < 2 {
			return missingArgument(ws[0].end + 1)
		}
		// The pattern goes to show.ParsePipe as typed, quotes included.
		kw += " " + strings.TrimSpace(line[ws[1].start:to])
	case "count", "no-more":
		if len(ws) > 1 {
			return expecting(ws[1].start, "<command>")
		}
	default:
		return &syntaxError{col: ws[0].start, msg: "syntax error, | " + kw + " is not supported."}
	}
	p, perr := show.ParsePipe(kw)
	if perr != nil {
		return &syntaxError{col: ws[0].start, msg: "syntax error, " + perr.Error() + "."}
	}
	pl.text = append(pl.text, p)
	return nil
}

func pipeChoices(configMode bool, prefix string) []choice {
	var cs []choice
	for _, k := range pipeKeywords {
		if pipeHelp[k] == "" || k == "compare" && !configMode {
			continue
		}
		cs = append(cs, choice{word: k, help: pipeHelp[k]})
	}
	return filterChoices(cs, prefix)
}

func displayChoices() []choice {
	return []choice{
		{word: "inheritance", help: "Show inherited configuration data and source group"},
		{word: "json", help: "Show output in JSON format"},
		{word: "set", help: "Show configuration as set commands"},
		{word: "xml", help: "Show output as XML tags"},
	}
}

// pipeCompletions answers "?" and Tab after the last bar.
func pipeCompletions(line string, bar int, configMode bool) ([]choice, string, *syntaxError) {
	done, partial, err := completionPoint(line[bar+1:])
	if err != nil {
		return nil, "", err
	}
	if len(done) == 0 {
		return pipeChoices(configMode, partial), partial, nil
	}
	kw, _ := resolve(done[0].text, pipeKeywords, nil)
	var cs []choice
	switch {
	case kw == "display" && len(done) == 1:
		cs = displayChoices()
	case (kw == "match" || kw == "except") && len(done) == 1:
		cs = []choice{{word: "<pattern>", help: "Pattern to match against"}}
	case kw == "compare" && len(done) == 1:
		cs = []choice{enterChoice, {word: "rollback", help: "Compare against a rollback (0..49)"}, pipeChoice}
	case kw == "compare" && len(done) == 2:
		cs = []choice{{word: "<number>", help: "Rollback number (0..49)"}}
	default:
		cs = []choice{enterChoice, pipeChoice}
	}
	return filterChoices(cs, partial), partial, nil
}
