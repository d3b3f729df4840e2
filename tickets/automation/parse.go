package automation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/tickets"
)

// ParseError lists every problem found in a rules document, each with its
// line. It wraps tickets.ErrInvalid, so the API answers 400.
type ParseError struct {
	Problems []Problem
}

// Problem is one mistake in a document; Line is 0 when it has no single
// line.
type Problem struct {
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("automation: invalid rules")
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

// Parse reads a rules document (see the package doc) and validates it,
// reporting every problem with its line.
func Parse(data []byte) (*Rules, error) {
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{Problems: []Problem{{Message: "empty document"}}}
		}
		return nil, &ParseError{Problems: yamlProblems(err)}
	}
	pe := &ParseError{}
	rules := &Rules{}
	seen := map[string]int{}
	for _, rr := range raw.Rules {
		name := rr.Name.v
		add := func(line int, format string, args ...any) {
			if line == 0 {
				line = rr.line
			}
			msg := fmt.Sprintf(format, args...)
			if name != "" {
				msg = fmt.Sprintf("rule %q: %s", name, msg)
			}
			pe.Problems = append(pe.Problems, Problem{Line: line, Message: msg})
		}
		switch {
		case strings.TrimSpace(name) == "":
			add(0, "rule without a name")
		case seen[name] > 0:
			add(rr.Name.line, "duplicate rule name (first defined on line %d)", seen[name])
		default:
			seen[name] = rr.Name.line
		}
		r := Rule{Name: name, Stop: rr.Stop}

		if len(rr.On) == 0 {
			add(0, "no events: give `on`, e.g. [ticket.created, ticket.updated]")
		}
		for _, e := range rr.On {
			ev := tickets.EventType(e.v)
			if !slices.Contains(tickets.EventTypes(), ev) {
				add(e.line, "unknown event type %q (want one of %s)", e.v, joinEvents())
			}
			r.On = append(r.On, ev)
		}

		w := rr.When
		for _, v := range w.Category {
			if strings.TrimSpace(v.v) == "" {
				add(v.line, "empty category")
			}
			r.When.Category = append(r.When.Category, v.v)
		}
		for _, v := range w.Priority {
			if !tickets.Priority(v.v).Valid() {
				add(v.line, "unknown priority %q (want low, normal, high or urgent)", v.v)
			}
			r.When.Priority = append(r.When.Priority, tickets.Priority(v.v))
		}
		for _, v := range w.Channel {
			if !tickets.Channel(v.v).Valid() {
				add(v.line, "unknown channel %q (want voice, chat, email, social or api)", v.v)
			}
			r.When.Channel = append(r.When.Channel, tickets.Channel(v.v))
		}
		for _, v := range w.Status {
			if !tickets.Status(v.v).Valid() {
				add(v.line, "unknown status %q (want new, open, pending, resolved or closed)", v.v)
			}
			r.When.Status = append(r.When.Status, tickets.Status(v.v))
		}
		for _, v := range w.Sentiment {
			if !slices.Contains(sentiments, v.v) {
				add(v.line, "unknown sentiment %q (want negative, neutral or positive)", v.v)
			}
			r.When.Sentiment = append(r.When.Sentiment, v.v)
		}
		for _, f := range []struct {
			key string
			src []at[string]
			dst *[]string
		}{
			{"tags_any", w.TagsAny, &r.When.TagsAny},
			{"tags_none", w.TagsNone, &r.When.TagsNone},
			{"text_contains_any", w.TextContainsAny, &r.When.TextContainsAny},
		} {
			for _, v := range f.src {
				if strings.TrimSpace(v.v) == "" {
					add(v.line, "%s: empty value", f.key)
				}
				*f.dst = append(*f.dst, v.v)
			}
		}

		th := rr.Then
		r.Then.SkillGroup = strings.TrimSpace(th.SkillGroup.v)
		r.Then.Assignee = strings.TrimSpace(th.Assignee.v)
		if p := th.Priority; p.v != "" {
			if !tickets.Priority(p.v).Valid() {
				add(p.line, "unknown priority %q (want low, normal, high or urgent)", p.v)
			}
			r.Then.Priority = tickets.Priority(p.v)
		}
		for _, v := range th.AddTags {
			if t := strings.TrimSpace(v.v); t == "" || utf8.RuneCountInString(t) > tickets.MaxTagLen {
				add(v.line, "add_tags: a tag must be 1 to %d characters", tickets.MaxTagLen)
			}
			r.Then.AddTags = append(r.Then.AddTags, strings.TrimSpace(v.v))
		}
		for _, v := range th.Notify {
			if strings.TrimSpace(v.v) == "" {
				add(v.line, "notify: empty endpoint name")
			}
			r.Then.Notify = append(r.Then.Notify, strings.TrimSpace(v.v))
		}
		if r.Then.empty() {
			add(rr.thenLine, "the rule does nothing: give `then` at least one of skill_group, assignee, priority, add_tags, notify")
		}
		rules.Rules = append(rules.Rules, r)
	}
	if len(pe.Problems) > 0 {
		return nil, pe
	}
	if err := rules.Validate(); err != nil {
		return nil, &ParseError{Problems: []Problem{{Message: err.Error()}}}
	}
	return rules, nil
}

var sentiments = []string{"negative", "neutral", "positive"}

func joinEvents() string {
	var s []string
	for _, e := range tickets.EventTypes() {
		s = append(s, string(e))
	}
	return strings.Join(s, ", ")
}

// yamlProblems turns the YAML library's error, which may list several
// lines, into problems.
func yamlProblems(err error) []Problem {
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

// at is a YAML value with the line it was written on, for error messages.
type at[T any] struct {
	v    T
	line int
}

func (a *at[T]) UnmarshalYAML(n *yaml.Node) error {
	a.line = n.Line
	return n.Decode(&a.v)
}

// knownKeys rejects mapping keys outside allowed. The decoder's own
// KnownFields check does not reach into types with an UnmarshalYAML
// method, which the raw types need to learn their line.
func knownKeys(n *yaml.Node, what string, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		return &lineError{n.Line, what + " must be a mapping"}
	}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return &lineError{k.Line, fmt.Sprintf("unknown key %q in %s (want %s)", k.Value, what, strings.Join(allowed, ", "))}
		}
	}
	return nil
}

type rawFile struct {
	Rules []*rawRule `yaml:"rules"`
}

func (f *rawFile) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "the rules document", "rules"); err != nil {
		return err
	}
	type plain rawFile
	return n.Decode((*plain)(f))
}

type rawRule struct {
	line     int
	thenLine int
	Name     at[string]   `yaml:"name"`
	On       []at[string] `yaml:"on"`
	When     rawWhen      `yaml:"when"`
	Then     rawThen      `yaml:"then"`
	Stop     bool         `yaml:"stop"`
}

func (r *rawRule) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "a rule", "name", "on", "when", "then", "stop"); err != nil {
		return err
	}
	type plain rawRule
	r.line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "then" {
			r.thenLine = n.Content[i].Line
		}
	}
	return n.Decode((*plain)(r))
}

type rawWhen struct {
	Category        []at[string] `yaml:"category"`
	Priority        []at[string] `yaml:"priority"`
	Channel         []at[string] `yaml:"channel"`
	Status          []at[string] `yaml:"status"`
	TagsAny         []at[string] `yaml:"tags_any"`
	TagsNone        []at[string] `yaml:"tags_none"`
	TextContainsAny []at[string] `yaml:"text_contains_any"`
	Sentiment       []at[string] `yaml:"sentiment"`
}

func (w *rawWhen) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "when", "category", "priority", "channel", "status", "tags_any", "tags_none", "text_contains_any", "sentiment"); err != nil {
		return err
	}
	type plain rawWhen
	return n.Decode((*plain)(w))
}

type rawThen struct {
	SkillGroup at[string]   `yaml:"skill_group"`
	Assignee   at[string]   `yaml:"assignee"`
	Priority   at[string]   `yaml:"priority"`
	AddTags    []at[string] `yaml:"add_tags"`
	Notify     []at[string] `yaml:"notify"`
}

func (t *rawThen) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "then", "skill_group", "assignee", "priority", "add_tags", "notify"); err != nil {
		return err
	}
	type plain rawThen
	return n.Decode((*plain)(t))
}
