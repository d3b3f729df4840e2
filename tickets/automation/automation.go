// Package automation provides event-driven ticket rules: when a ticket
// event matches a rule's conditions, the rule routes the ticket to a skill
// group or agent, raises its priority, tags it and asks for webhook
// notifications. Rules implement tickets.Automator; a Holder swaps them at
// runtime.
//
// # Rules document
//
// Rules are written in YAML and evaluated in file order:
//
//	rules:
//	  - name: returns-involve-logistics-and-finance
//	    on: [ticket.created, ticket.updated]   # tickets.EventType values
//	    when:                     # every given condition must hold;
//	      category: [returns_refunds]          # each list means "any of"
//	      priority: [high, urgent]
//	      channel: [voice]
//	      status: [new, open]
//	      tags_any: [vip]         # carries at least one of these tags
//	      tags_none: [no-automation]           # carries none of these
//	      text_contains_any: ["退货", "return"]  # in subject or description,
//	      sentiment: [negative]                # ignoring case
//	    then:                     # at least one action
//	      skill_group: logistics
//	      assignee: agent-42
//	      priority: high          # raises to at least high; never lowers
//	      add_tags: [return, finance-review]
//	      notify: [logistics, finance]         # webhook endpoint names
//	    stop: false               # true: later rules are skipped when
//	                              # this one matches
//
// A rule without `when` matches every ticket of its events. Unknown keys,
// event types, priorities, channels, statuses and sentiments are errors,
// reported with their line.
//
// # Evaluation
//
// Rules never loop and never fight: Apply re-evaluates the rules until the
// ticket stops changing (a later rule's tag can make an earlier rule
// match), records one history entry per field whose final value differs
// from the value before, attributed to the rule that set it (for tags, one
// per rule that added some), and raises
// priority without ever lowering it. Applying the rules again to the ticket
// they produced therefore changes nothing. A rule's notify names are
// returned when the rule changed the ticket, or, for a rule whose only
// action is notify, whenever it matches.
package automation

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Rules are a parsed, validated rules document. They are immutable once
// built and safe for concurrent use; swap them whole through a Holder.
type Rules struct {
	Rules []Rule
}

// Rule is one "on these events, when this holds, do that".
type Rule struct {
	Name string
	On   []tickets.EventType
	When Conditions
	Then Actions
	// Stop skips the remaining rules when this one matches.
	Stop bool
}

// Conditions must all hold for a rule to match; an empty list does not
// constrain.
type Conditions struct {
	Category []string
	Priority []tickets.Priority
	Channel  []tickets.Channel
	Status   []tickets.Status
	// TagsAny needs at least one of the tags, TagsNone none of them;
	// tags compare ignoring case.
	TagsAny  []string
	TagsNone []string
	// TextContainsAny needs one of the strings in the subject or the
	// description, ignoring case.
	TextContainsAny []string
	// Sentiment needs the ticket's sentiment label to be one of these.
	Sentiment []string
}

// Matches reports whether t meets every condition.
func (c Conditions) Matches(t *tickets.Ticket) bool {
	if len(c.Category) > 0 && !slices.Contains(c.Category, t.CategoryLabel()) ||
		len(c.Priority) > 0 && !slices.Contains(c.Priority, t.Priority) ||
		len(c.Channel) > 0 && !slices.Contains(c.Channel, t.Channel) ||
		len(c.Status) > 0 && !slices.Contains(c.Status, t.Status) ||
		len(c.TagsAny) > 0 && !slices.ContainsFunc(c.TagsAny, t.HasTag) ||
		slices.ContainsFunc(c.TagsNone, t.HasTag) {
		return false
	}
	if len(c.Sentiment) > 0 && (t.Sentiment == nil || !slices.Contains(c.Sentiment, t.Sentiment.Label)) {
		return false
	}
	if len(c.TextContainsAny) > 0 {
		text := strings.ToLower(t.Subject + "\n" + t.Description)
		if !slices.ContainsFunc(c.TextContainsAny, func(s string) bool { return strings.Contains(text, strings.ToLower(s)) }) {
			return false
		}
	}
	return true
}

// Actions are what a matching rule does; empty fields do nothing.
type Actions struct {
	SkillGroup string
	Assignee   string
	// Priority raises the ticket to at least this priority.
	Priority tickets.Priority
	AddTags  []string
	// Notify names webhook endpoints to tell of the event.
	Notify []string
}

func (a Actions) empty() bool { return a.onlyNotifies() && len(a.Notify) == 0 }

func (a Actions) onlyNotifies() bool {
	return a.SkillGroup == "" && a.Assignee == "" && a.Priority == "" && len(a.AddTags) == 0
}

//go:embed default.yaml
var defaultYAML []byte

// Default returns the rules shipped with Switchboard (default.yaml).
// Deployments replace them through the settings API.
func Default() (*Rules, error) { return Parse(defaultYAML) }

// Validate checks the invariants Apply relies on; Parse calls it, and
// callers assembling Rules in code should too.
func (r *Rules) Validate() error {
	if r == nil {
		return errors.New("automation: nil rules")
	}
	seen := map[string]bool{}
	for i, rule := range r.Rules {
		switch {
		case rule.Name == "":
			return fmt.Errorf("automation: rule %d has no name", i+1)
		case seen[rule.Name]:
			return fmt.Errorf("automation: duplicate rule name %q", rule.Name)
		case len(rule.On) == 0:
			return fmt.Errorf("automation: rule %q has no events", rule.Name)
		case rule.Then.empty():
			return fmt.Errorf("automation: rule %q does nothing", rule.Name)
		case rule.Then.Priority != "" && !rule.Then.Priority.Valid():
			return fmt.Errorf("automation: rule %q: unknown priority %q", rule.Name, rule.Then.Priority)
		}
		seen[rule.Name] = true
		for _, ev := range rule.On {
			if !slices.Contains(tickets.EventTypes(), ev) {
				return fmt.Errorf("automation: rule %q: unknown event type %q", rule.Name, ev)
			}
		}
	}
	return nil
}

// Actor returns the history actor of a rule's changes.
func Actor(rule string) string { return "automation:" + rule }

// Apply runs the rules for event ev on t, changing t, and returns one
// history entry per field it changed and the endpoints to notify, without
// duplicates. See the package doc for how rules interact.
func (r *Rules) Apply(ev tickets.EventType, t *tickets.Ticket) ([]tickets.Change, []string) {
	if r == nil {
		return nil, nil
	}
	before := snapshot(t)
	setBy := map[string]string{} // field → rule that last changed it
	var tagsBy []ruleTags        // who added which tags, in order
	var matched []int            // rules matching in the settled pass
	// Each pass that changes the ticket adds a tag or raises the priority
	// (or is the first), and a rule can do either only once, so this
	// bound is never reached; it is a guard, not a limit.
	for range 2*len(r.Rules) + 2 {
		start := snapshot(t)
		matched = matched[:0]
		for i := range r.Rules {
			rule := &r.Rules[i]
			if !slices.Contains(rule.On, ev) || !rule.When.Matches(t) {
				continue
			}
			matched = append(matched, i)
			a := rule.Then
			set := func(field string, dst *string, v string) {
				if v != "" && *dst != v {
					*dst = v
					setBy[field] = rule.Name
				}
			}
			set("skill_group", &t.SkillGroup, a.SkillGroup)
			set("assignee", &t.Assignee, a.Assignee)
			if a.Priority.Rank() > t.Priority.Rank() {
				t.Priority = a.Priority
				setBy["priority"] = rule.Name
			}
			if room := tickets.MaxTags - len(t.Tags); room > 0 && len(a.AddTags) > 0 {
				if added := t.AddTags(a.AddTags[:min(room, len(a.AddTags))]...); len(added) > 0 {
					tagsBy = append(tagsBy, ruleTags{rule.Name, added})
				}
			}
			if rule.Stop {
				break
			}
		}
		if snapshot(t).equal(start) {
			break
		}
	}

	at := triggeredAt(t)
	var changes []tickets.Change
	changed := map[string]bool{} // rules that changed the ticket
	for _, f := range []struct{ field, from, to string }{
		{"skill_group", before.skillGroup, t.SkillGroup},
		{"assignee", before.assignee, t.Assignee},
		{"priority", string(before.priority), string(t.Priority)},
	} {
		if f.from != f.to {
			rule := setBy[f.field]
			changed[rule] = true
			changes = append(changes, tickets.Change{At: at, Actor: Actor(rule), Action: "automation", Field: f.field, From: f.from, To: f.to})
		}
	}
	// Tags are only ever added, so every addition survives; one entry per
	// rule that added some.
	tags := slices.Clone(before.tags)
	for i, rt := range tagsBy {
		if i > 0 && tagsBy[i-1].rule == rt.rule {
			changes[len(changes)-1].To = strings.Join(append(tags, rt.tags...), ",")
		} else {
			changes = append(changes, tickets.Change{At: at, Actor: Actor(rt.rule), Action: "automation", Field: "tags",
				From: strings.Join(tags, ","), To: strings.Join(append(tags, rt.tags...), ",")})
		}
		tags = append(tags, rt.tags...)
		changed[rt.rule] = true
	}

	var notify []string
	for i := range r.Rules {
		rule := &r.Rules[i]
		if !changed[rule.Name] && !(rule.Then.onlyNotifies() && slices.Contains(matched, i)) {
			continue
		}
		for _, n := range rule.Then.Notify {
			if !slices.Contains(notify, n) {
				notify = append(notify, n)
			}
		}
	}
	return changes, notify
}

type ruleTags struct {
	rule string
	tags []string
}

// state is what rules can change.
type state struct {
	skillGroup, assignee string
	priority             tickets.Priority
	tags                 []string
}

func snapshot(t *tickets.Ticket) state {
	return state{t.SkillGroup, t.Assignee, t.Priority, slices.Clone(t.Tags)}
}

func (s state) equal(o state) bool {
	return s.skillGroup == o.skillGroup && s.assignee == o.assignee && s.priority == o.priority && slices.Equal(s.tags, o.tags)
}

// triggeredAt is when the change that triggered the rules was made: the
// Service appends it to the history before running them. Rule changes
// share its time, so that the history stays ordered.
func triggeredAt(t *tickets.Ticket) time.Time {
	if n := len(t.History); n > 0 {
		return t.History[n-1].At
	}
	return time.Time{}
}

// Holder holds the rules in force and lets a reload replace them while
// tickets change; every event sees either the old or the new rules whole.
// The zero Holder holds none and does nothing. It is safe for concurrent
// use.
type Holder struct {
	r atomic.Pointer[Rules]
}

// NewHolder returns a Holder with r in force.
func NewHolder(r *Rules) *Holder {
	h := &Holder{}
	h.r.Store(r)
	return h
}

// Get returns the rules in force, or nil if none were set. Callers must
// not modify them.
func (h *Holder) Get() *Rules { return h.r.Load() }

// ApplyConfig puts r in force if it is valid; otherwise it keeps the
// current rules and returns why. r must not be modified afterwards.
func (h *Holder) ApplyConfig(r *Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	h.r.Store(r)
	return nil
}

// Apply runs the rules in force.
func (h *Holder) Apply(ev tickets.EventType, t *tickets.Ticket) ([]tickets.Change, []string) {
	return h.Get().Apply(ev, t)
}

var (
	_ tickets.Automator = (*Rules)(nil)
	_ tickets.Automator = (*Holder)(nil)
)
