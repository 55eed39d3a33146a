package cli

import (
	"fmt"
	"strings"
)

// syntaxError is a command the CLI refused before sending anything: Junos
// prints the line, a caret under the offending word, and the reason.
type syntaxError struct {
	col     int      // byte offset in the line the caret points at
	msg     string   // "syntax error, expecting <command>."
	choices []choice // an ambiguous word lists what it could be
	line    string   // the whole line as typed, set when the error leaves Execute
	indent  int      // columns already on the screen before the line (the prompt)
	echoed  bool     // the line is on the screen already: print only the caret
}

func (e *syntaxError) Error() string {
	var b strings.Builder
	if !e.echoed {
		b.WriteString(e.line + "\n")
	}
	b.WriteString(strings.Repeat(" ", e.indent+e.col) + "^\n")
	b.WriteString(e.msg)
	if len(e.choices) > 0 {
		b.WriteString("\n" + strings.TrimSuffix(formatChoices(e.choices), "\n"))
	}
	return b.String()
}

func unknownCommand(w word) *syntaxError {
	return &syntaxError{col: w.start, msg: "unknown command."}
}

func expecting(col int, what string) *syntaxError {
	return &syntaxError{col: col, msg: fmt.Sprintf("syntax error, expecting %s.", what)}
}

func missingArgument(col int) *syntaxError {
	return &syntaxError{col: col, msg: "missing argument."}
}

func badSyntax(w word) *syntaxError {
	return &syntaxError{col: w.start, msg: "syntax error."}
}

func ambiguous(w word, choices []choice) *syntaxError {
	return &syntaxError{col: w.start, msg: fmt.Sprintf("'%s' is ambiguous.", w.text), choices: choices}
}
