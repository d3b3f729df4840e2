package sla_test

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/sla"
)

func TestParseErrors(t *testing.T) {
	const catchAll = "\n  - name: default\n    match: {}\n    first_response: 1h\n"
	tests := []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"unknown calendar", `
policies:
  - name: default
    match: {}
    calendar: nowhere
    first_response: 1h
`, 5, `unknown calendar "nowhere"`},
		{"reversed time range", `
calendars:
  office:
    timezone: Asia/Shanghai
    hours:
      mon: "18:00-09:00"
policies:` + catchAll, 6, "must end after it starts"},
		{"malformed time range", `
calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon: "9-18"}
policies:` + catchAll, 5, "bad time range"},
		{"overlapping ranges", `
calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon: "09:00-13:00, 12:00-18:00"}
policies:` + catchAll, 5, "must not overlap"},
		{"unknown day", `
calendars:
  office:
    timezone: Asia/Shanghai
    hours:
      monday: "09:00-18:00"
policies:` + catchAll, 6, `unknown day "monday"`},
		{"unknown time zone", `
calendars:
  office:
    timezone: Mars/Olympus
    hours: {mon: "09:00-18:00"}
policies:` + catchAll, 4, `unknown time zone "Mars/Olympus"`},
		{"missing time zone", `
calendars:
  office:
    hours: {mon: "09:00-18:00"}
policies:` + catchAll, 3, "needs a timezone"},
		{"never open", `
calendars:
  office:
    timezone: Asia/Shanghai
    holidays: ["2026-10-01"]
policies:` + catchAll, 3, "never open"},
		{"bad holiday", `
calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon: "09:00-18:00"}
    holidays: ["2026-13-01"]
policies:` + catchAll, 6, "bad date"},
		{"redefined 24x7", `
calendars:
  24x7:
    24x7: true
policies:` + catchAll, 3, "built in"},
		{"bad duration", `
policies:
  - name: default
    match: {}
    first_response: 1h
    resolution: 4 hours
`, 6, `bad duration "4 hours"`},
		{"no target", `
policies:
  - name: default
    match: {}
`, 3, "needs first_response, resolution or both"},
		{"unknown priority", `
policies:
  - name: p1
    match:
      priority: [urgent, critical]
    first_response: 1h` + catchAll, 5, `unknown priority "critical"`},
		{"unknown channel", `
policies:
  - name: p1
    match: {channel: [fax]}
    first_response: 1h` + catchAll, 4, `unknown channel "fax"`},
		{"duplicate names", `
policies:
  - name: default
    match: {priority: [high]}
    first_response: 1h` + catchAll, 6, `duplicate policy name "default" (first defined on line 3)`},
		{"no catch-all", `
policies:
  - name: default
    match: {}
    first_response: 1h
  - name: urgent
    match: {priority: [urgent]}
    first_response: 10m
`, 6, `last policy "urgent" must match every ticket`},
		{"no policies", "calendars: {}\n", 0, "no policies"},
		{"unknown policy key", `
policies:
  - name: default
    match: {}
    resolve_in: 1h
`, 5, `unknown key "resolve_in" in a policy`},
		{"unknown match key", `
policies:
  - name: default
    match: {queue: [a]}
    first_response: 1h
`, 4, `unknown key "queue" in match`},
		{"unknown top-level key", "polices: []\n", 1, `unknown key "polices"`},
		{"wrong type", `
policies:
  - name: default
    match: {}
    first_response: [1h]
`, 5, "cannot unmarshal"},
		{"empty notify name", `
policies:` + catchAll + `escalation:
  notify: [supervisors, ""]
`, 7, "empty notify name"},
		{"syntax error", "escalation: {}\npolicies: [\n", 2, "did not find expected node content"},
		{"empty document", "", 0, "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sla.Parse([]byte(tt.yaml))
			if !errors.Is(err, tickets.ErrInvalid) {
				t.Fatalf("Parse error = %v, want one wrapping tickets.ErrInvalid", err)
			}
			var pe *sla.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T is not a *sla.ParseError", err)
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

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := sla.Parse([]byte(`
policies:
  - name: a
    match: {priority: [critical]}
    calendar: nowhere
    first_response: soon
`))
	var pe *sla.ParseError
	if !errors.As(err, &pe) || len(pe.Problems) != 4 {
		t.Fatalf("Parse error = %v; want 4 problems (priority, calendar, duration, catch-all)", err)
	}
	if got := pe.ProblemExtensions()["problems"]; got == nil {
		t.Error("ProblemExtensions lacks problems")
	}
}

func TestShippedPolicies(t *testing.T) {
	def, err := sla.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	data, err := os.ReadFile("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	example, err := sla.Parse(data)
	if err != nil {
		t.Fatalf("testdata/policies.yaml: %v", err)
	}
	for name, p := range map[string]*sla.Policies{"default": def, "example": example} {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
		if !p.Escalation.RaisePriority || len(p.Escalation.Notify) == 0 {
			t.Errorf("%s: escalation = %+v, want raise_priority and notify", name, p.Escalation)
		}
	}
	// In the default calendar National Day (1-7 October) is closed and
	// Saturday 10 October is a full make-up workday.
	office := def.Calendars["cn-office"]
	for _, c := range []struct{ start, want string }{
		{"2026-09-30T17:30:00+08:00", "2026-10-08T09:30:00+08:00"},
		{"2026-10-09T17:30:00+08:00", "2026-10-10T09:30:00+08:00"},
	} {
		if got := office.Add(mustTime(t, c.start), time.Hour); !got.Equal(mustTime(t, c.want)) {
			t.Errorf("cn-office: %s + 1h = %s, want %s", c.start, got, c.want)
		}
	}
}

func TestApply(t *testing.T) {
	data, err := os.ReadFile("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := sla.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	friday := mustTime(t, "2026-01-09T17:30:00+08:00").UTC()
	responded := friday.Add(time.Minute)
	tests := []struct {
		name         string
		ticket       tickets.Ticket
		policy       string
		firstDue     string
		resolvedDue  string
		keepBreaches bool
	}{
		{"urgent works around the clock",
			tickets.Ticket{Priority: tickets.PriorityUrgent, Channel: tickets.ChannelVoice, CreatedAt: friday},
			"urgent", "2026-01-09T18:00:00+08:00", "2026-01-09T21:30:00+08:00", false},
		// cn-office: Fri 09-18, Sat 10-16. 2h = 30m Fri + 1h30 Sat;
		// 18h = 30m Fri + 6h Sat + 9h Mon + 2h30 Tue.
		{"category and channel both match",
			tickets.Ticket{Priority: tickets.PriorityNormal, Channel: tickets.ChannelVoice, Category: &tickets.Category{Label: "complaint"}, CreatedAt: friday},
			"voice-complaints", "2026-01-10T11:30:00+08:00", "2026-01-13T11:30:00+08:00", false},
		// 8h = 30m Fri + 6h Sat + 1h30 Mon; 72h = 6h30 + 45h (Mon-Fri)
		// + 6h Sat + 9h Mon + 5h30 Tue.
		{"a complaint by chat falls through to the default",
			tickets.Ticket{Priority: tickets.PriorityNormal, Channel: tickets.ChannelChat, Category: &tickets.Category{Label: "complaint"}, CreatedAt: friday},
			"default", "2026-01-12T10:30:00+08:00", "2026-01-20T14:30:00+08:00", false},
		{"unclassified",
			tickets.Ticket{Priority: tickets.PriorityLow, Channel: tickets.ChannelEmail, CreatedAt: friday},
			"default", "2026-01-12T10:30:00+08:00", "2026-01-20T14:30:00+08:00", false},
		// support-247 is closed on 17 February only.
		{"24x7 calendar with a holiday",
			tickets.Ticket{Priority: tickets.PriorityHigh, Channel: tickets.ChannelChat, CreatedAt: mustTime(t, "2026-02-16T23:55:00+08:00")},
			"vip-chat", "2026-02-18T00:05:00+08:00", "2026-02-18T23:55:00+08:00", false},
		{"breach flags, escalation and a first response are kept",
			tickets.Ticket{Priority: tickets.PriorityUrgent, Channel: tickets.ChannelVoice, CreatedAt: friday, FirstResponseAt: &responded,
				SLA: tickets.SLA{Policy: "default", FirstResponseBreached: true, ResolutionBreached: true, EscalationLevel: 2}},
			"urgent", "2026-01-09T18:00:00+08:00", "2026-01-09T21:30:00+08:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tt.ticket
			p.Apply(&tk)
			if tk.SLA.Policy != tt.policy {
				t.Errorf("policy = %q, want %q", tk.SLA.Policy, tt.policy)
			}
			for _, c := range []struct {
				name string
				got  *time.Time
				want string
			}{{"first response", tk.SLA.FirstResponseDue, tt.firstDue}, {"resolution", tk.SLA.ResolutionDue, tt.resolvedDue}} {
				if c.got == nil || !c.got.Equal(mustTime(t, c.want)) {
					t.Errorf("%s due = %v, want %s", c.name, c.got, c.want)
				} else if c.got.Location() != time.UTC {
					t.Errorf("%s due is in %v, want UTC", c.name, c.got.Location())
				}
			}
			s := tk.SLA
			if kept := s.FirstResponseBreached && s.ResolutionBreached && s.EscalationLevel == 2; kept != tt.keepBreaches {
				t.Errorf("SLA after Apply = %+v; breach flags kept = %v, want %v", s, kept, tt.keepBreaches)
			}
		})
	}
}

func TestPolicyWithoutFirstResponse(t *testing.T) {
	p, err := sla.Parse([]byte("policies:\n  - name: default\n    match: {}\n    resolution: 2h\n"))
	if err != nil {
		t.Fatal(err)
	}
	tk := tickets.Ticket{CreatedAt: mustTime(t, "2026-01-09T10:00:00Z")}
	p.Apply(&tk)
	if tk.SLA.FirstResponseDue != nil || tk.SLA.ResolutionDue == nil || !tk.SLA.ResolutionDue.Equal(mustTime(t, "2026-01-09T12:00:00Z")) {
		t.Errorf("SLA = %+v, want only a resolution due at 12:00", tk.SLA)
	}
}

func TestHolder(t *testing.T) {
	var zero sla.Holder
	tk := tickets.Ticket{Priority: tickets.PriorityUrgent}
	zero.Apply(&tk) // holds nothing: does nothing
	if tk.SLA.Policy != "" {
		t.Fatalf("zero Holder set policy %q", tk.SLA.Policy)
	}

	fast, err := sla.Parse([]byte("policies:\n  - name: fast\n    match: {}\n    first_response: 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	slow, err := sla.Parse([]byte("policies:\n  - name: slow\n    match: {}\n    first_response: 1h\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := sla.NewHolder(fast)
	if err := h.ApplyConfig(nil); err == nil {
		t.Error("ApplyConfig(nil) succeeded")
	}
	if err := h.ApplyConfig(&sla.Policies{Policies: []sla.Policy{{Name: "x", Match: sla.Match{Priority: []tickets.Priority{"high"}}, Calendar: sla.TwentyFourSeven(), Resolution: time.Hour}}}); err == nil {
		t.Error("ApplyConfig accepted policies without a catch-all")
	}
	if h.Get() != fast {
		t.Fatal("a rejected ApplyConfig replaced the policies")
	}

	// Reloads race with tickets being created; run with -race.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				if i == 0 {
					if err := h.ApplyConfig([]*sla.Policies{fast, slow}[j%2]); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				tk := tickets.Ticket{}
				h.Apply(&tk)
				if tk.SLA.Policy != "fast" && tk.SLA.Policy != "slow" {
					t.Errorf("policy = %q", tk.SLA.Policy)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := h.ApplyConfig(slow); err != nil || h.Get() != slow {
		t.Fatalf("after ApplyConfig(slow): %v, Get = %v", err, h.Get())
	}
}
