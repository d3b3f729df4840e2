package automation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/tickets/yamldoc"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/tickets"
)

// ParseError lists every problem found in a document, each with its line.
// It wraps tickets.ErrInvalid, so the API answers 400.
type ParseError = yamldoc.ParseError

// Problem is one mistake in a document; Line is 0 when it has no single
// line.
type Problem = yamldoc.Problem

// Parse reads a rules document (see the package doc) and validates it,
// reporting every problem with its line.
func Parse(data []byte) (*Rules, error) {
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{Doc: "automation: invalid rules", Problems: []Problem{{Message: "empty document"}}}
		}
		return nil, &ParseError{Doc: "automation: invalid rules", Problems: yamldoc.Problems(err)}
	}
	pe := &ParseError{Doc: "automation: invalid rules"}
	rules := &Rules{}
	seen := map[string]int{}
	for _, rr := range raw.Rules {
		name := rr.Name.V
		add := func(line int, format string, args ...any) {
			if line == 0 {
				line = rr.Line
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
			add(rr.Name.Line, "duplicate rule name (first defined on line %d)", seen[name])
		default:
			seen[name] = rr.Name.Line
		}
		r := Rule{Name: name, Stop: rr.Stop}

		if len(rr.On) == 0 {
			add(0, "no events: give `on`, e.g. [ticket.created, ticket.updated]")
		}
		for _, e := range rr.On {
			ev := tickets.EventType(e.V)
			if !slices.Contains(tickets.EventTypes(), ev) {
				add(e.Line, "unknown event type %q (want one of %s)", e.V, joinEvents())
			}
			r.On = append(r.On, ev)
		}

		w := rr.When
		for _, v := range w.Category {
			if strings.TrimSpace(v.V) == "" {
				add(v.Line, "empty category")
			}
			r.When.Category = append(r.When.Category, v.V)
		}
		for _, v := range w.Priority {
			if !tickets.Priority(v.V).Valid() {
				add(v.Line, "unknown priority %q (want low, normal, high or urgent)", v.V)
			}
			r.When.Priority = append(r.When.Priority, tickets.Priority(v.V))
		}
		for _, v := range w.Channel {
			if !tickets.Channel(v.V).Valid() {
				add(v.Line, "unknown channel %q (want voice, chat, email, social or api)", v.V)
			}
			r.When.Channel = append(r.When.Channel, tickets.Channel(v.V))
		}
		for _, v := range w.Status {
			if !tickets.Status(v.V).Valid() {
				add(v.Line, "unknown status %q (want new, open, pending, resolved or closed)", v.V)
			}
			r.When.Status = append(r.When.Status, tickets.Status(v.V))
		}
		for _, v := range w.Sentiment {
			if !slices.Contains(sentiments, v.V) {
				add(v.Line, "unknown sentiment %q (want negative, neutral or positive)", v.V)
			}
			r.When.Sentiment = append(r.When.Sentiment, v.V)
		}
		for _, f := range []struct {
			key string
			src []yamldoc.At[string]
			dst *[]string
		}{
			{"tags_any", w.TagsAny, &r.When.TagsAny},
			{"tags_none", w.TagsNone, &r.When.TagsNone},
			{"text_contains_any", w.TextContainsAny, &r.When.TextContainsAny},
		} {
			for _, v := range f.src {
				if strings.TrimSpace(v.V) == "" {
					add(v.Line, "%s: empty value", f.key)
				}
				*f.dst = append(*f.dst, v.V)
			}
		}

		th := rr.Then
		r.Then.SkillGroup = strings.TrimSpace(th.SkillGroup.V)
		r.Then.Assignee = strings.TrimSpace(th.Assignee.V)
		if p := th.Priority; p.V != "" {
			if !tickets.Priority(p.V).Valid() {
				add(p.Line, "unknown priority %q (want low, normal, high or urgent)", p.V)
			}
			r.Then.Priority = tickets.Priority(p.V)
		}
		for _, v := range th.AddTags {
			if t := strings.TrimSpace(v.V); t == "" || utf8.RuneCountInString(t) > tickets.MaxTagLen {
				add(v.Line, "add_tags: a tag must be 1 to %d characters", tickets.MaxTagLen)
			}
			r.Then.AddTags = append(r.Then.AddTags, strings.TrimSpace(v.V))
		}
		for _, v := range th.Notify {
			if strings.TrimSpace(v.V) == "" {
				add(v.Line, "notify: empty endpoint name")
			}
			r.Then.Notify = append(r.Then.Notify, strings.TrimSpace(v.V))
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
		return nil, &ParseError{Doc: "automation: invalid rules", Problems: []Problem{{Message: err.Error()}}}
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

type rawFile struct {
	Rules []*rawRule `yaml:"rules"`
}

func (f *rawFile) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "the rules document", "rules"); err != nil {
		return err
	}
	type plain rawFile
	return n.Decode((*plain)(f))
}

type rawRule struct {
	Line     int
	thenLine int
	Name     yamldoc.At[string]   `yaml:"name"`
	On       []yamldoc.At[string] `yaml:"on"`
	When     rawWhen              `yaml:"when"`
	Then     rawThen              `yaml:"then"`
	Stop     bool                 `yaml:"stop"`
}

func (r *rawRule) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "a rule", "name", "on", "when", "then", "stop"); err != nil {
		return err
	}
	type plain rawRule
	r.Line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "then" {
			r.thenLine = n.Content[i].Line
		}
	}
	return n.Decode((*plain)(r))
}

type rawWhen struct {
	Category        []yamldoc.At[string] `yaml:"category"`
	Priority        []yamldoc.At[string] `yaml:"priority"`
	Channel         []yamldoc.At[string] `yaml:"channel"`
	Status          []yamldoc.At[string] `yaml:"status"`
	TagsAny         []yamldoc.At[string] `yaml:"tags_any"`
	TagsNone        []yamldoc.At[string] `yaml:"tags_none"`
	TextContainsAny []yamldoc.At[string] `yaml:"text_contains_any"`
	Sentiment       []yamldoc.At[string] `yaml:"sentiment"`
}

func (w *rawWhen) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "when", "category", "priority", "channel", "status", "tags_any", "tags_none", "text_contains_any", "sentiment"); err != nil {
		return err
	}
	type plain rawWhen
	return n.Decode((*plain)(w))
}

type rawThen struct {
	SkillGroup yamldoc.At[string]   `yaml:"skill_group"`
	Assignee   yamldoc.At[string]   `yaml:"assignee"`
	Priority   yamldoc.At[string]   `yaml:"priority"`
	AddTags    []yamldoc.At[string] `yaml:"add_tags"`
	Notify     []yamldoc.At[string] `yaml:"notify"`
}

func (t *rawThen) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "then", "skill_group", "assignee", "priority", "add_tags", "notify"); err != nil {
		return err
	}
	type plain rawThen
	return n.Decode((*plain)(t))
}
