package automation_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/automation"
)

func mustParse(t *testing.T, doc string) *automation.Rules {
	t.Helper()
	r, err := automation.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func exampleRules(t *testing.T) *automation.Rules {
	t.Helper()
	data, err := os.ReadFile("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(data))
}

func TestShippedRules(t *testing.T) {
	def, err := automation.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	if len(def.Rules) == 0 {
		t.Fatal("Default has no rules")
	}
	example := exampleRules(t)
	for _, r := range []*automation.Rules{def, example} {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
	}
	// The default's headline rule: a return request involves logistics
	// and finance.
	tk := &tickets.Ticket{Channel: tickets.ChannelChat, Priority: tickets.PriorityNormal, Status: tickets.StatusNew,
		Subject: "想退货", Category: &tickets.Category{Label: "returns_refunds"}}
	changes, notify := def.Apply(tickets.EventCreated, tk)
	if tk.SkillGroup != "logistics" || !tk.HasTag("return") || !tk.HasTag("finance-review") {
		t.Errorf("after the default rules: skill group %q, tags %v", tk.SkillGroup, tk.Tags)
	}
	if !slices.Contains(notify, "logistics") || !slices.Contains(notify, "finance") {
		t.Errorf("notify = %v, want logistics and finance", notify)
	}
	if len(changes) == 0 {
		t.Error("no changes recorded")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"unknown event type", `
rules:
  - name: r
    on: [ticket.created, ticket.deleted]
    then: {skill_group: a}
`, 4, `unknown event type "ticket.deleted"`},
		{"no events", `
rules:
  - name: r
    then: {skill_group: a}
`, 3, "no events"},
		{"unknown priority in when", `
rules:
  - name: r
    on: [ticket.created]
    when:
      priority: [high, critical]
    then: {skill_group: a}
`, 6, `unknown priority "critical"`},
		{"unknown priority in then", `
rules:
  - name: r
    on: [ticket.created]
    then:
      priority: asap
`, 6, `unknown priority "asap"`},
		{"unknown channel", `
rules:
  - name: r
    on: [ticket.created]
    when: {channel: [fax]}
    then: {skill_group: a}
`, 5, `unknown channel "fax"`},
		{"unknown status", `
rules:
  - name: r
    on: [ticket.created]
    when: {status: [done]}
    then: {skill_group: a}
`, 5, `unknown status "done"`},
		{"unknown sentiment", `
rules:
  - name: r
    on: [ticket.created]
    when: {sentiment: [furious]}
    then: {skill_group: a}
`, 5, `unknown sentiment "furious"`},
		{"empty rule", `
rules:
  - name: r
    on: [ticket.created]
    when: {priority: [high]}
    then: {}
`, 6, "the rule does nothing"},
		{"no then at all", `
rules:
  - name: r
    on: [ticket.created]
`, 3, "the rule does nothing"},
		{"duplicate names", `
rules:
  - name: r
    on: [ticket.created]
    then: {skill_group: a}
  - name: r
    on: [ticket.updated]
    then: {skill_group: b}
`, 6, `duplicate rule name (first defined on line 3)`},
		{"no name", `
rules:
  - on: [ticket.created]
    then: {skill_group: a}
`, 3, "rule without a name"},
		{"unknown rule key", `
rules:
  - name: r
    on: [ticket.created]
    then: {skill_group: a}
    priority: 3
`, 6, `unknown key "priority" in a rule`},
		{"unknown condition", `
rules:
  - name: r
    on: [ticket.created]
    when:
      language: [zh]
    then: {skill_group: a}
`, 6, `unknown key "language" in when`},
		{"unknown action", `
rules:
  - name: r
    on: [ticket.created]
    then: {skill_group: a, remove_tags: [x]}
`, 5, `unknown key "remove_tags" in then`},
		{"unknown top-level key", "rule: []\n", 1, `unknown key "rule"`},
		{"empty tag", `
rules:
  - name: r
    on: [ticket.created]
    then:
      add_tags: [ok, " "]
`, 6, "a tag must be 1 to"},
		{"empty text", `
rules:
  - name: r
    on: [ticket.created]
    when:
      text_contains_any: [""]
    then: {skill_group: a}
`, 6, "text_contains_any: empty value"},
		{"wrong type", `
rules:
  - name: r
    on: ticket.created
    then: {skill_group: a}
`, 4, "cannot unmarshal"},
		{"empty document", "", 0, "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := automation.Parse([]byte(tt.yaml))
			if !errors.Is(err, tickets.ErrInvalid) {
				t.Fatalf("Parse error = %v, want one wrapping tickets.ErrInvalid", err)
			}
			var pe *automation.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T is not a *automation.ParseError", err)
			}
			for _, p := range pe.Problems {
				if p.Line == tt.line && strings.Contains(p.Message, tt.want) {
					return
				}
			}
			t.Errorf("Parse error = %v; want a problem on line %d containing %q", err, tt.line, tt.want)
		})
	}
}

func TestParseEmptyRuleList(t *testing.T) {
	r := mustParse(t, "rules: []\n")
	tk := &tickets.Ticket{Priority: tickets.PriorityLow}
	if ch, n := r.Apply(tickets.EventCreated, tk); ch != nil || n != nil {
		t.Errorf("no rules changed %v, notified %v", ch, n)
	}
}

func TestConditions(t *testing.T) {
	base := func() *tickets.Ticket {
		return &tickets.Ticket{
			Channel: tickets.ChannelVoice, Priority: tickets.PriorityHigh, Status: tickets.StatusOpen,
			Subject: "我要退货", Description: "The RETURN label is missing",
			Category:  &tickets.Category{Label: "returns_refunds"},
			Sentiment: &tickets.Sentiment{Label: "negative"},
			Tags:      []string{"VIP", "repeat"},
		}
	}
	tests := []struct {
		name string
		c    automation.Conditions
		edit func(*tickets.Ticket)
		want bool
	}{
		{"no conditions", automation.Conditions{}, nil, true},
		{"category", automation.Conditions{Category: []string{"billing", "returns_refunds"}}, nil, true},
		{"other category", automation.Conditions{Category: []string{"billing"}}, nil, false},
		{"unclassified", automation.Conditions{Category: []string{"returns_refunds"}}, func(t *tickets.Ticket) { t.Category = nil }, false},
		{"priority", automation.Conditions{Priority: []tickets.Priority{tickets.PriorityHigh, tickets.PriorityUrgent}}, nil, true},
		{"other priority", automation.Conditions{Priority: []tickets.Priority{tickets.PriorityUrgent}}, nil, false},
		{"channel", automation.Conditions{Channel: []tickets.Channel{tickets.ChannelVoice}}, nil, true},
		{"other channel", automation.Conditions{Channel: []tickets.Channel{tickets.ChannelEmail}}, nil, false},
		{"status", automation.Conditions{Status: []tickets.Status{tickets.StatusNew, tickets.StatusOpen}}, nil, true},
		{"other status", automation.Conditions{Status: []tickets.Status{tickets.StatusClosed}}, nil, false},
		{"tags_any ignores case", automation.Conditions{TagsAny: []string{"gold", "vip"}}, nil, true},
		{"tags_any none carried", automation.Conditions{TagsAny: []string{"gold"}}, nil, false},
		{"tags_none", automation.Conditions{TagsNone: []string{"no-automation"}}, nil, true},
		{"tags_none carried", automation.Conditions{TagsNone: []string{"no-automation", "Repeat"}}, nil, false},
		{"chinese text", automation.Conditions{TextContainsAny: []string{"退货"}}, nil, true},
		{"text ignores case, in description", automation.Conditions{TextContainsAny: []string{"refund", "return label"}}, nil, true},
		{"text absent", automation.Conditions{TextContainsAny: []string{"refund", "退款"}}, nil, false},
		{"sentiment", automation.Conditions{Sentiment: []string{"negative"}}, nil, true},
		{"other sentiment", automation.Conditions{Sentiment: []string{"positive"}}, nil, false},
		{"no sentiment scored", automation.Conditions{Sentiment: []string{"negative"}}, func(t *tickets.Ticket) { t.Sentiment = nil }, false},
		{"all hold", automation.Conditions{
			Category: []string{"returns_refunds"}, Priority: []tickets.Priority{tickets.PriorityHigh}, Channel: []tickets.Channel{tickets.ChannelVoice},
			TagsAny: []string{"vip"}, TagsNone: []string{"x"}, TextContainsAny: []string{"return"}, Sentiment: []string{"negative"},
		}, nil, true},
		{"all but one hold", automation.Conditions{
			Category: []string{"returns_refunds"}, Priority: []tickets.Priority{tickets.PriorityHigh}, Channel: []tickets.Channel{tickets.ChannelChat},
		}, nil, false},
	}
	for _, tt := range tests {
		tk := base()
		if tt.edit != nil {
			tt.edit(tk)
		}
		if got := tt.c.Matches(tk); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// ticketAt returns a ticket as the Service hands it to the rules: with the
// triggering change last in its history.
func ticketAt(at time.Time, mod func(*tickets.Ticket)) *tickets.Ticket {
	t := &tickets.Ticket{
		ID: "T1", Channel: tickets.ChannelChat, Priority: tickets.PriorityNormal, Status: tickets.StatusNew,
		Subject: "parcel", History: []tickets.Change{{At: at, Actor: "agent:ann", Action: "created"}},
	}
	if mod != nil {
		mod(t)
	}
	return t
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	example := exampleRules(t)
	tests := []struct {
		name    string
		rules   *automation.Rules
		ev      tickets.EventType
		ticket  func(*tickets.Ticket)
		changes []tickets.Change // At is checked separately
		notify  []string
	}{
		{
			name: "return request involves logistics and finance", rules: example, ev: tickets.EventCreated,
			ticket: func(t *tickets.Ticket) { t.Category = &tickets.Category{Label: "returns_refunds"} },
			changes: []tickets.Change{
				{Actor: "automation:returns-involve-logistics-and-finance", Action: "automation", Field: "skill_group", To: "logistics"},
				{Actor: "automation:returns-involve-logistics-and-finance", Action: "automation", Field: "tags", To: "return,finance-review"},
			},
			notify: []string{"logistics", "finance"},
		},
		{
			name: "the event must be listed", rules: example, ev: tickets.EventCommented,
			ticket: func(t *tickets.Ticket) { t.Category = &tickets.Category{Label: "returns_refunds"} },
		},
		{
			name: "no-automation keeps rules off", rules: example, ev: tickets.EventUpdated,
			ticket: func(t *tickets.Ticket) {
				t.Category = &tickets.Category{Label: "returns_refunds"}
				t.Tags = []string{"no-automation"}
			},
		},
		{
			name: "stop skips later rules; priority and assignee set", rules: example, ev: tickets.EventCreated,
			ticket: func(t *tickets.Ticket) {
				t.Channel, t.Priority, t.Subject = tickets.ChannelVoice, tickets.PriorityHigh, "I want to RETURN this"
				t.Tags = []string{"vip"}
				t.Sentiment = &tickets.Sentiment{Label: "negative"}
			},
			changes: []tickets.Change{
				{Actor: "automation:angry-vip-voice", Action: "automation", Field: "assignee", To: "supervisor-wang"},
				{Actor: "automation:angry-vip-voice", Action: "automation", Field: "priority", From: "high", To: "urgent"},
				{Actor: "automation:angry-vip-voice", Action: "automation", Field: "tags", From: "vip", To: "vip,escalation-risk"},
			},
			notify: []string{"supervisors"},
		},
		{
			name: "catch-all routing", rules: example, ev: tickets.EventCreated,
			changes: []tickets.Change{{Actor: "automation:everything-else-to-general", Action: "automation", Field: "skill_group", To: "general"}},
		},
		{
			name: "notify-only rule notifies on every match", rules: example, ev: tickets.EventStatusChanged,
			ticket: func(t *tickets.Ticket) { t.Status = tickets.StatusClosed },
			notify: []string{"audit"},
		},
		{
			name: "priority is never lowered", ev: tickets.EventCreated,
			rules: mustParse(t, `
rules:
  - name: to-high
    on: [ticket.created]
    then: {priority: high, notify: [ops]}
`),
			ticket: func(t *tickets.Ticket) { t.Priority = tickets.PriorityUrgent },
		},
		{
			name: "a later rule's tag makes an earlier rule match", ev: tickets.EventCreated,
			rules: mustParse(t, `
rules:
  - name: route-vips
    on: [ticket.created]
    when: {tags_any: [vip]}
    then: {skill_group: vip-desk, notify: [vip-desk]}
  - name: spot-vips
    on: [ticket.created]
    when: {text_contains_any: [platinum]}
    then: {add_tags: [vip]}
`),
			ticket: func(t *tickets.Ticket) { t.Subject = "Platinum member here" },
			changes: []tickets.Change{
				{Actor: "automation:route-vips", Action: "automation", Field: "skill_group", To: "vip-desk"},
				{Actor: "automation:spot-vips", Action: "automation", Field: "tags", To: "vip"},
			},
			notify: []string{"vip-desk"},
		},
		{
			name: "the last of two rules setting a field wins, and only it notifies", ev: tickets.EventCreated,
			rules: mustParse(t, `
rules:
  - name: first
    on: [ticket.created]
    then: {skill_group: a, notify: [a, shared]}
  - name: second
    on: [ticket.created]
    then: {skill_group: b, notify: [b, shared]}
`),
			changes: []tickets.Change{{Actor: "automation:second", Action: "automation", Field: "skill_group", To: "b"}},
			notify:  []string{"b", "shared"},
		},
		{
			name: "priority raised through a chain of rules", ev: tickets.EventCreated,
			rules: mustParse(t, `
rules:
  - name: high-to-urgent-if-vip
    on: [ticket.created]
    when: {priority: [high], tags_any: [vip]}
    then: {priority: urgent}
  - name: vip-is-high
    on: [ticket.created]
    when: {tags_any: [vip]}
    then: {priority: high}
`),
			ticket: func(t *tickets.Ticket) { t.Tags = []string{"vip"} },
			changes: []tickets.Change{
				{Actor: "automation:high-to-urgent-if-vip", Action: "automation", Field: "priority", From: "normal", To: "urgent"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticketAt(at, tt.ticket)
			changes, notify := tt.rules.Apply(tt.ev, tk)
			for i := range changes {
				if !changes[i].At.Equal(at) {
					t.Errorf("change %d at %v, want the triggering change's time %v", i, changes[i].At, at)
				}
				changes[i].At = time.Time{}
			}
			if !slices.Equal(changes, tt.changes) {
				t.Errorf("changes:\n got %+v\nwant %+v", changes, tt.changes)
			}
			if !slices.Equal(notify, tt.notify) {
				t.Errorf("notify = %v, want %v", notify, tt.notify)
			}
		})
	}
}

// TestApplyIsIdempotent applies rules to their own result: nothing more
// may change, so that rules cannot loop or flap.
func TestApplyIsIdempotent(t *testing.T) {
	def, err := automation.Default()
	if err != nil {
		t.Fatal(err)
	}
	fighting := mustParse(t, `
rules:
  - name: sees-what-later-rules-do
    on: [ticket.created, ticket.updated]
    when: {priority: [urgent]}
    then: {add_tags: [was-urgent]}
  - name: a
    on: [ticket.created, ticket.updated]
    when: {tags_none: [b-done]}
    then: {skill_group: a, add_tags: [a-done], notify: [a]}
  - name: b
    on: [ticket.created, ticket.updated]
    when: {tags_any: [a-done]}
    then: {skill_group: b, add_tags: [b-done], priority: high}
  - name: c
    on: [ticket.created, ticket.updated]
    when: {priority: [high]}
    then: {assignee: carol, priority: urgent}
  - name: d
    on: [ticket.created, ticket.updated]
    when: {priority: [high]}
    then: {assignee: dave}
`)
	ticketsToTry := []func(*tickets.Ticket){
		nil,
		func(t *tickets.Ticket) {
			t.Category = &tickets.Category{Label: "returns_refunds"}
			t.Subject = "退货"
		},
		func(t *tickets.Ticket) { t.Subject = "my card was stolen, please refund" },
		func(t *tickets.Ticket) {
			t.Channel, t.Tags = tickets.ChannelVoice, []string{"vip"}
			t.Sentiment = &tickets.Sentiment{Label: "negative"}
		},
		func(t *tickets.Ticket) { t.Tags = []string{"vip", "no-automation"}; t.Subject = "fraud" },
	}
	for name, rules := range map[string]*automation.Rules{"default": def, "example": exampleRules(t), "fighting": fighting} {
		for i, mod := range ticketsToTry {
			for _, ev := range tickets.EventTypes() {
				tk := ticketAt(time.Now(), mod)
				rules.Apply(ev, tk)
				first := *tk
				first.Tags = slices.Clone(tk.Tags)
				changes, notify := rules.Apply(ev, tk)
				if len(changes) > 0 {
					t.Errorf("%s rules, ticket %d, %s: second Apply changed %+v", name, i, ev, changes)
				}
				if tk.SkillGroup != first.SkillGroup || tk.Assignee != first.Assignee || tk.Priority != first.Priority || !slices.Equal(tk.Tags, first.Tags) {
					t.Errorf("%s rules, ticket %d, %s: second Apply moved the ticket", name, i, ev)
				}
				for _, n := range notify {
					// Only notify-only rules may notify again.
					if n != "audit" {
						t.Errorf("%s rules, ticket %d, %s: second Apply notified %q again", name, i, ev, n)
					}
				}
			}
		}
	}
}

func TestApplyRespectsMaxTags(t *testing.T) {
	r := mustParse(t, "rules:\n  - name: r\n    on: [ticket.created]\n    then: {add_tags: [x, y]}\n")
	tk := ticketAt(time.Now(), nil)
	for i := range tickets.MaxTags - 1 {
		tk.Tags = append(tk.Tags, "t"+strings.Repeat("a", i+1))
	}
	r.Apply(tickets.EventCreated, tk)
	if len(tk.Tags) != tickets.MaxTags || !tk.HasTag("x") || tk.HasTag("y") {
		t.Errorf("%d tags after Apply; want %d ending with x", len(tk.Tags), tickets.MaxTags)
	}
}

func TestHolder(t *testing.T) {
	var zero automation.Holder
	tk := ticketAt(time.Now(), nil)
	if ch, n := zero.Apply(tickets.EventCreated, tk); ch != nil || n != nil {
		t.Fatal("the zero Holder applied rules")
	}
	a := mustParse(t, "rules:\n  - name: a\n    on: [ticket.created]\n    then: {skill_group: a}\n")
	b := mustParse(t, "rules:\n  - name: b\n    on: [ticket.created]\n    then: {skill_group: b}\n")
	h := automation.NewHolder(a)
	if err := h.ApplyConfig(nil); err == nil {
		t.Error("ApplyConfig(nil) succeeded")
	}
	if err := h.ApplyConfig(&automation.Rules{Rules: []automation.Rule{{Name: "x", On: []tickets.EventType{tickets.EventCreated}}}}); err == nil {
		t.Error("ApplyConfig accepted a rule that does nothing")
	}
	if h.Get() != a {
		t.Fatal("a rejected ApplyConfig replaced the rules")
	}
	// Reloads race with events; run with -race.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				if i == 0 {
					if err := h.ApplyConfig([]*automation.Rules{a, b}[j%2]); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				tk := ticketAt(time.Now(), nil)
				h.Apply(tickets.EventCreated, tk)
				if tk.SkillGroup != "a" && tk.SkillGroup != "b" {
					t.Errorf("skill group %q", tk.SkillGroup)
					return
				}
			}
		}()
	}
	wg.Wait()
}
