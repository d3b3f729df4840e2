// Package yamldoc decodes the YAML settings documents operators edit (SLA
// policies, automation rules) so that every mistake is reported with the
// line it is on: values that remember their line, a strict key check that
// reaches where the decoder's own does not, and a ParseError that lists all
// problems at once and maps to an HTTP 400 with the list.
package yamldoc

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Problem is one mistake in a document; Line is 0 when it has no single
// line.
type Problem struct {
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// ParseError lists every problem found in a document, each with its line.
// It wraps tickets.ErrInvalid, so the API answers 400.
type ParseError struct {
	// Doc names the document in the message, e.g. "sla: invalid policies".
	Doc      string
	Problems []Problem
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Doc)
	for _, p := range e.Problems {
		if p.Line > 0 {
			fmt.Fprintf(&b, "; line %d: %s", p.Line, p.Message)
		} else {
			fmt.Fprintf(&b, "; %s", p.Message)
		}
	}
	return b.String()
}

// Unwrap makes errors.Is(err, tickets.ErrInvalid) hold.
func (e *ParseError) Unwrap() error { return tickets.ErrInvalid }

// ProblemExtensions lists the problems in an HTTP problem body.
func (e *ParseError) ProblemExtensions() map[string]any {
	return map[string]any{"problems": e.Problems}
}

// Problems turns a decoding error, which may list several lines, into
// problems.
func Problems(err error) []Problem {
	var le *lineError
	if errors.As(err, &le) {
		return []Problem{{Line: le.line, Message: le.msg}}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]Problem, len(te.Errors))
		for i, e := range te.Errors {
			out[i] = lineProblem(e)
		}
		return out
	}
	return []Problem{lineProblem(err.Error())}
}

// lineProblem moves the "line N: " the YAML library puts in its messages
// into Problem.Line.
func lineProblem(msg string) Problem {
	rest := strings.TrimPrefix(msg, "yaml: ")
	var line int
	if _, err := fmt.Sscanf(rest, "line %d:", &line); err == nil && line > 0 {
		_, after, _ := strings.Cut(rest, ":")
		return Problem{Line: line, Message: strings.TrimSpace(after)}
	}
	return Problem{Message: msg}
}

// lineError is a problem found while decoding, with its line.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// LineError returns a decoding error for line; Problems reports it with
// that line.
func LineError(line int, msg string) error { return &lineError{line, msg} }

// At is a YAML value with the line it was written on, for error messages.
type At[T any] struct {
	V    T
	Line int
}

// UnmarshalYAML records the value's line.
func (a *At[T]) UnmarshalYAML(n *yaml.Node) error {
	a.Line = n.Line
	return n.Decode(&a.V)
}

// KnownKeys rejects mapping keys outside allowed. The decoder's own
// KnownFields check does not reach into types with an UnmarshalYAML
// method, which raw types need in order to learn their line.
func KnownKeys(n *yaml.Node, what string, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		return LineError(n.Line, what+" must be a mapping")
	}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return LineError(k.Line, fmt.Sprintf("unknown key %q in %s (want %s)", k.Value, what, strings.Join(allowed, ", ")))
		}
	}
	return nil
}
