package cli

import (
	"fmt"
	"strings"
)

// choice is one line of "Possible completions:": a keyword, or a
// placeholder such as "<index>" that says what to type but cannot be
// completed.
type choice struct {
	word string
	help string
	// mark is Junos's flag column in configuration mode: ">" for a
	// statement with a body, "+" for one taking several values.
	mark string
}

var (
	enterChoice = choice{word: "<[Enter]>", help: "Execute this command"}
	pipeChoice  = choice{word: "|", help: "Pipe through a command"}
)

func (c choice) completable() bool {
	return c.word != "" && !strings.HasPrefix(c.word, "<") && c.word != "|"
}

// helpColumn is where Junos starts the help text: two flag columns, then
// the keyword padded to 21.
const helpColumn = 21

// formatChoices prints choices the way Junos answers "?".
func formatChoices(cs []choice) string {
	var b strings.Builder
	b.WriteString("Possible completions:\n")
	for _, c := range cs {
		mark := c.mark
		if mark == "" {
			mark = " "
		}
		line := mark + " " + c.word
		if c.help != "" {
			if len(c.word) >= helpColumn {
				line += " " + c.help
			} else {
				line += strings.Repeat(" ", helpColumn-len(c.word)) + c.help
			}
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// filterChoices keeps the keywords prefix may abbreviate. Placeholders stay
// while a word is being typed, since the word may be such a value;
// "<[Enter]>" and "|" only fit before a new word.
func filterChoices(cs []choice, prefix string) []choice {
	if prefix == "" {
		return cs
	}
	var out []choice
	for _, c := range cs {
		switch {
		case c.word == enterChoice.word || c.word == pipeChoice.word:
		case strings.HasPrefix(c.word, "<"):
			out = append(out, c)
		case strings.HasPrefix(c.word, prefix):
			out = append(out, c)
		}
	}
	return out
}

// completionPoint splits the line before the cursor into the words already
// typed and the word being typed (empty after a blank).
func completionPoint(line string) (done []word, partial string, err *syntaxError) {
	ws, err := splitWords(line)
	if err != nil {
		return nil, "", err
	}
	if len(ws) > 0 && !strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\t") {
		return ws[:len(ws)-1], ws[len(ws)-1].text, nil
	}
	return ws, "", nil
}

// Help is the answer to "?" typed after line: the possible completions, or
// the syntax error that stops the line earlier.
func (s *Session) Help(line string) string {
	cs, _, err := s.completions(line)
	if err != nil {
		err.line, err.indent, err.echoed = line, len(s.Prompt()), true
		return err.Error() + "\n"
	}
	if len(cs) == 0 {
		return "No valid completions\n"
	}
	return formatChoices(cs)
}

// Complete is Tab on line (the text before the cursor): the line with the
// word being typed completed, and the choices to list when the word is
// ambiguous (nil when it was completed or nothing fits).
func (s *Session) Complete(line string) (string, []choice) {
	if openQuote(line) {
		return line, nil
	}
	cs, partial, err := s.completions(line)
	if err != nil {
		return line, nil
	}
	var words []string
	for _, c := range cs {
		if c.completable() && strings.HasPrefix(c.word, partial) {
			words = append(words, c.word)
		}
	}
	stem := line[:len(line)-len(partial)]
	switch len(words) {
	case 0:
		return line, nil
	case 1:
		return stem + words[0] + " ", nil
	}
	common := words[0]
	for _, w := range words[1:] {
		for !strings.HasPrefix(w, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(partial) {
		return stem + common, nil
	}
	return line, filterChoices(cs, partial)
}

// completions dispatches on the part of the line being typed: a pipe, a
// configuration-mode command, or an operational command.
func (s *Session) completions(line string) ([]choice, string, *syntaxError) {
	if bar := lastBar(line); bar >= 0 {
		return pipeCompletions(line, bar, s.configMode)
	}
	done, partial, err := completionPoint(line)
	if err != nil {
		return nil, "", err
	}
	var cs []choice
	if s.configMode {
		cs, err = s.cfgChoices(done)
	} else {
		cs, err = opChoices(done)
	}
	if err != nil {
		return nil, "", err
	}
	return filterChoices(cs, partial), partial, nil
}

// writeHelp prints the answer to "?" as Junos does: the line with the
// question mark, then the completions. On a terminal the line editor
// redraws the prompt and the line after it.
func writeHelp(w interface{ Write([]byte) (int, error) }, prompt, line, help string) {
	fmt.Fprintf(w, "%s%s?\n%s", prompt, line, help)
}
