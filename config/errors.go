package config

import (
	"strings"

	"ipsecgw/config/syntax"
)

// Error is one configuration error: where it is (file:line:column), which
// statement (its path), what is wrong, and what was expected. It never holds
// a secret's value.
type Error struct {
	Pos      syntax.Pos
	Path     string // "security ike gateway gw1 ike-policy"
	Msg      string
	Expected string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Expected != "" {
		b.WriteString("; expected ")
		b.WriteString(e.Expected)
	}
	return b.String()
}

// ErrorList is every error found in one configuration, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Err returns l as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// fromSyntax converts the syntax package's errors into ErrorList.
func fromSyntax(err error) ErrorList {
	switch e := err.(type) {
	case *syntax.Error:
		return ErrorList{{Pos: e.Pos, Msg: e.Msg}}
	case syntax.ErrorList:
		out := make(ErrorList, len(e))
		for i, se := range e {
			out[i] = &Error{Pos: se.Pos, Msg: se.Msg}
		}
		return out
	}
	return ErrorList{{Msg: err.Error()}}
}
