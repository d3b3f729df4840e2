// Package sla provides service-level policies for tickets: business
// calendars and business-time arithmetic, the policies that set a ticket's
// first-response and resolution due times (implementing tickets.SLAPolicy),
// a Holder that swaps policies at runtime, and the Monitor that flags
// breaches and escalates each breach exactly once, however many replicas
// run it.
//
// # Policies document
//
// Policies are written in YAML:
//
//	calendars:
//	  cn-office:
//	    timezone: Asia/Shanghai          # IANA zone of the opening hours
//	    hours:                           # mon … sun; a missing day is closed
//	      mon: "09:00-18:00"
//	      tue: "09:00-12:00, 13:00-18:00"  # several ranges: a lunch break
//	      sat: "10:00-16:00"
//	    holidays: ["2026-10-01", "2026-10-02"]   # closed all day
//	    workdays:                        # make-up working days (调休), open
//	      "2026-10-10": "09:00-18:00"    # with these hours whatever the weekday
//	  support-247:
//	    24x7: true                       # open around the clock…
//	    timezone: Asia/Shanghai
//	    holidays: ["2026-02-17"]         # …except on its holidays
//	policies:                            # first match wins, in file order
//	  - name: urgent
//	    match: {priority: [urgent]}      # each list is "any of"; empty = any
//	    calendar: 24x7                   # built-in; also the default
//	    first_response: 30m
//	    resolution: 4h
//	  - name: voice-complaints
//	    match: {category: [complaint], channel: [voice]}
//	    calendar: cn-office
//	    first_response: 2h
//	    resolution: 18h
//	  - name: default                    # the last policy must match
//	    match: {}                        # everything, so every ticket
//	    calendar: cn-office              # gets an SLA
//	    first_response: 8h
//	    resolution: 3d
//	escalation:
//	  raise_priority: true               # raise one step on each breach
//	  notify: [supervisors]              # webhook endpoint names
//
// Match keys are priority (low, normal, high, urgent), category (labels)
// and channel (voice, chat, email, social, api); all given keys must hold.
// Targets are Go durations ("30m", "4h") or days ("3d", "1d12h"), counted
// in the policy's business time; a day is 24 business hours, so under a
// nine-hour working day "27h" means three working days. A policy may omit
// one of first_response and resolution, not both. Unknown keys are errors.
//
// Time zones are loaded with time.LoadLocation, so the binary needs the
// system's zoneinfo or an import of time/tzdata.
package sla

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-cc/switchboard/tickets/yamldoc"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Policies are a parsed, validated policies document. They are immutable
// once built and safe for concurrent use; swap them whole through a Holder.
type Policies struct {
	// Calendars by name, including the built-in AlwaysOpen.
	Calendars map[string]*Calendar
	// Policies in matching order; the last one matches every ticket.
	Policies   []Policy
	Escalation Escalation
}

// Policy is one set of SLA targets and the tickets it applies to.
type Policy struct {
	Name     string
	Match    Match
	Calendar *Calendar
	// FirstResponse and Resolution are business-time targets counted from
	// a ticket's creation; zero means no target.
	FirstResponse time.Duration
	Resolution    time.Duration
}

// Match selects tickets. Each non-empty list must contain the ticket's
// value; an empty Match selects every ticket.
type Match struct {
	Priority []tickets.Priority
	Category []string
	Channel  []tickets.Channel
}

// All reports whether m selects every ticket.
func (m Match) All() bool {
	return len(m.Priority) == 0 && len(m.Category) == 0 && len(m.Channel) == 0
}

// Matches reports whether m selects t.
func (m Match) Matches(t *tickets.Ticket) bool {
	return (len(m.Priority) == 0 || slices.Contains(m.Priority, t.Priority)) &&
		(len(m.Category) == 0 || slices.Contains(m.Category, t.CategoryLabel())) &&
		(len(m.Channel) == 0 || slices.Contains(m.Channel, t.Channel))
}

// Escalation says what the Monitor does when it finds a new breach.
type Escalation struct {
	// RaisePriority raises the ticket's priority one step per escalation.
	RaisePriority bool
	// Notify names the webhook endpoints told of breaches.
	Notify []string
}

//go:embed default.yaml
var defaultYAML []byte

// Default returns the policies shipped with Switchboard (default.yaml): a
// Chinese office calendar with 2026 public holidays and priority-based
// targets. Deployments replace them through the settings API.
func Default() (*Policies, error) { return Parse(defaultYAML) }

// Match returns the first policy selecting t, or nil if none does (which a
// validated Policies rules out).
func (p *Policies) Match(t *tickets.Ticket) *Policy {
	for i := range p.Policies {
		if p.Policies[i].Match.Matches(t) {
			return &p.Policies[i]
		}
	}
	return nil
}

// Apply sets t's SLA policy name and due times from the first matching
// policy, counting business time from t.CreatedAt. It depends on the
// ticket alone, so it may be re-applied at will (e.g. after a priority
// change); it keeps the breach flags and escalation level, because a
// breach that happened stays on the record. A nil Policies does nothing.
func (p *Policies) Apply(t *tickets.Ticket) {
	if p == nil {
		return
	}
	pol := p.Match(t)
	if pol == nil {
		return
	}
	t.SLA.Policy = pol.Name
	t.SLA.FirstResponseDue = due(pol.Calendar, t.CreatedAt, pol.FirstResponse)
	t.SLA.ResolutionDue = due(pol.Calendar, t.CreatedAt, pol.Resolution)
}

func due(c *Calendar, start time.Time, d time.Duration) *time.Time {
	if d <= 0 {
		return nil
	}
	at := c.Add(start, d).UTC()
	return &at
}

// Validate checks the invariants Apply and the Monitor rely on; Parse
// calls it, and callers assembling Policies in code should too.
func (p *Policies) Validate() error {
	if p == nil || len(p.Policies) == 0 {
		return errors.New("sla: no policies")
	}
	seen := map[string]bool{}
	for i, pol := range p.Policies {
		switch {
		case pol.Name == "":
			return fmt.Errorf("sla: policy %d has no name", i+1)
		case seen[pol.Name]:
			return fmt.Errorf("sla: duplicate policy name %q", pol.Name)
		case pol.Calendar == nil:
			return fmt.Errorf("sla: policy %q has no calendar", pol.Name)
		case pol.FirstResponse < 0 || pol.Resolution < 0 || pol.FirstResponse+pol.Resolution == 0:
			return fmt.Errorf("sla: policy %q needs a positive first_response or resolution", pol.Name)
		}
		seen[pol.Name] = true
		for _, pr := range pol.Match.Priority {
			if !pr.Valid() {
				return fmt.Errorf("sla: policy %q: unknown priority %q", pol.Name, pr)
			}
		}
		for _, c := range pol.Match.Channel {
			if !c.Valid() {
				return fmt.Errorf("sla: policy %q: unknown channel %q", pol.Name, c)
			}
		}
	}
	if last := p.Policies[len(p.Policies)-1]; !last.Match.All() {
		return fmt.Errorf("sla: the last policy %q must match every ticket, so that every ticket gets an SLA", last.Name)
	}
	return nil
}

// ParseError lists every problem found in a document, each with its line.
// It wraps tickets.ErrInvalid, so the API answers 400.
type ParseError = yamldoc.ParseError

// Problem is one mistake in a document; Line is 0 when it has no single
// line.
type Problem = yamldoc.Problem

// Parse reads a policies document (see the package doc) and validates it,
// reporting every problem with its line.
func Parse(data []byte) (*Policies, error) {
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{Doc: "sla: invalid policies", Problems: []Problem{{Message: "empty document"}}}
		}
		return nil, &ParseError{Doc: "sla: invalid policies", Problems: yamldoc.Problems(err)}
	}
	pe := &ParseError{Doc: "sla: invalid policies"}
	add := func(line int, format string, args ...any) {
		pe.Problems = append(pe.Problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
	}
	p := &Policies{Calendars: map[string]*Calendar{AlwaysOpen: TwentyFourSeven()}}

	names := slices.Sorted(maps.Keys(raw.Calendars))
	for _, name := range names {
		rc := raw.Calendars[name]
		if name == AlwaysOpen {
			add(rc.Line, "calendar %q is built in and cannot be redefined", name)
			continue
		}
		if c := rc.build(name, add); c != nil {
			p.Calendars[name] = c
		}
	}

	if len(raw.Policies) == 0 {
		add(0, "no policies: add at least a catch-all policy with `match: {}`")
	}
	seen := map[string]int{}
	for _, rp := range raw.Policies {
		line := rp.Line
		pol := Policy{Name: rp.Name.V}
		switch {
		case pol.Name == "":
			add(line, "policy without a name")
		case seen[pol.Name] > 0:
			add(rp.Name.Line, "duplicate policy name %q (first defined on line %d)", pol.Name, seen[pol.Name])
		default:
			seen[pol.Name] = rp.Name.Line
		}
		for _, pr := range rp.Match.Priority {
			if !tickets.Priority(pr.V).Valid() {
				add(pr.Line, "policy %q: unknown priority %q (want low, normal, high or urgent)", pol.Name, pr.V)
			}
			pol.Match.Priority = append(pol.Match.Priority, tickets.Priority(pr.V))
		}
		for _, ch := range rp.Match.Channel {
			if !tickets.Channel(ch.V).Valid() {
				add(ch.Line, "policy %q: unknown channel %q (want voice, chat, email, social or api)", pol.Name, ch.V)
			}
			pol.Match.Channel = append(pol.Match.Channel, tickets.Channel(ch.V))
		}
		for _, c := range rp.Match.Category {
			if strings.TrimSpace(c.V) == "" {
				add(c.Line, "policy %q: empty category", pol.Name)
			}
			pol.Match.Category = append(pol.Match.Category, c.V)
		}
		calName := rp.Calendar.V
		if calName == "" {
			calName = AlwaysOpen
		}
		if c, ok := p.Calendars[calName]; ok {
			pol.Calendar = c
		} else if _, defined := raw.Calendars[calName]; !defined {
			add(rp.Calendar.Line, "policy %q: unknown calendar %q", pol.Name, calName)
		}
		for _, f := range []struct {
			name string
			raw  yamldoc.At[string]
			dst  *time.Duration
		}{
			{"first_response", rp.FirstResponse, &pol.FirstResponse},
			{"resolution", rp.Resolution, &pol.Resolution},
		} {
			if f.raw.V == "" {
				continue
			}
			d, err := ParseDuration(f.raw.V)
			if err != nil {
				add(f.raw.Line, "policy %q: %s: %v", pol.Name, f.name, err)
			}
			*f.dst = d
		}
		if rp.FirstResponse.V == "" && rp.Resolution.V == "" {
			add(line, "policy %q needs first_response, resolution or both", pol.Name)
		}
		p.Policies = append(p.Policies, pol)
	}
	if n := len(raw.Policies); n > 0 {
		if last := raw.Policies[n-1]; !p.Policies[n-1].Match.All() {
			add(last.Line, "the last policy %q must match every ticket (`match: {}`), so that every ticket gets an SLA", last.Name.V)
		}
	}

	if e := raw.Escalation; e != nil {
		p.Escalation.RaisePriority = e.RaisePriority
		for _, n := range e.Notify {
			if strings.TrimSpace(n.V) == "" {
				add(n.Line, "escalation: empty notify name")
			}
			p.Escalation.Notify = append(p.Escalation.Notify, n.V)
		}
	}

	if len(pe.Problems) > 0 {
		return nil, pe
	}
	if err := p.Validate(); err != nil {
		return nil, &ParseError{Doc: "sla: invalid policies", Problems: []Problem{{Message: err.Error()}}}
	}
	return p, nil
}

type rawFile struct {
	Calendars  map[string]*rawCalendar `yaml:"calendars"`
	Policies   []*rawPolicy            `yaml:"policies"`
	Escalation *rawEscalation          `yaml:"escalation"`
}

func (f *rawFile) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "the policies document", "calendars", "policies", "escalation"); err != nil {
		return err
	}
	type plain rawFile
	if err := n.Decode((*plain)(f)); err != nil {
		return err
	}
	// Point a calendar's problems at its name rather than its first key.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "calendars" {
			continue
		}
		cals := n.Content[i+1]
		for j := 0; j+1 < len(cals.Content); j += 2 {
			if rc := f.Calendars[cals.Content[j].Value]; rc != nil {
				rc.Line = cals.Content[j].Line
			}
		}
	}
	return nil
}

type rawCalendar struct {
	Line     int
	TimeZone yamldoc.At[string]            `yaml:"timezone"`
	Always   bool                          `yaml:"24x7"`
	Hours    map[string]yamldoc.At[string] `yaml:"hours"`
	Holidays []yamldoc.At[string]          `yaml:"holidays"`
	Workdays map[string]yamldoc.At[string] `yaml:"workdays"`
}

func (c *rawCalendar) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "a calendar", "timezone", "24x7", "hours", "holidays", "workdays"); err != nil {
		return err
	}
	type plain rawCalendar
	c.Line = n.Line
	return n.Decode((*plain)(c))
}

// build compiles a calendar, reporting problems through add; it returns
// nil when the calendar is unusable.
func (rc *rawCalendar) build(name string, add func(int, string, ...any)) *Calendar {
	c := &Calendar{name: name, loc: time.UTC, always: rc.Always}
	ok := true
	bad := func(line int, format string, args ...any) {
		if line == 0 {
			line = rc.Line
		}
		add(line, "calendar %q: "+format, append([]any{name}, args...)...)
		ok = false
	}
	switch tz := rc.TimeZone.V; {
	case tz != "":
		loc, err := time.LoadLocation(tz)
		if err != nil {
			bad(rc.TimeZone.Line, "unknown time zone %q", tz)
		} else {
			c.loc = loc
		}
	case !rc.Always:
		bad(0, "needs a timezone, e.g. Asia/Shanghai")
	}
	if rc.Always && len(rc.Hours) > 0 {
		bad(0, "24x7 and hours exclude each other")
	}
	if rc.Always {
		for wd := range c.week {
			c.week[wd] = []span{{0, 24 * 60}}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(rc.Hours)) {
		h := rc.Hours[key]
		wd, known := weekdayOf(key)
		if !known {
			bad(h.Line, "unknown day %q in hours (want mon, tue, wed, thu, fri, sat or sun)", key)
			continue
		}
		spans, err := parseHours(h.V)
		if err != nil {
			bad(h.Line, "%s: %v", key, err)
			continue
		}
		c.week[wd] = spans
	}
	if !slices.ContainsFunc(c.week[:], func(s []span) bool { return len(s) > 0 }) {
		bad(0, "is never open: give hours for at least one day, or 24x7: true")
	}
	for _, h := range rc.Holidays {
		d, err := parseDay(h.V)
		if err != nil {
			bad(h.Line, "holidays: %v", err)
			continue
		}
		if c.holidays == nil {
			c.holidays = map[day]bool{}
		}
		c.holidays[d] = true
	}
	for _, key := range slices.Sorted(maps.Keys(rc.Workdays)) {
		h := rc.Workdays[key]
		d, err := parseDay(key)
		if err != nil {
			bad(h.Line, "workdays: %v", err)
			continue
		}
		spans, err := parseHours(h.V)
		if err != nil {
			bad(h.Line, "workdays: %s: %v", key, err)
			continue
		}
		if c.workdays == nil {
			c.workdays = map[day][]span{}
		}
		c.workdays[d] = spans
	}
	// Plain addition is only right when nothing is ever closed.
	c.always = rc.Always && len(c.holidays) == 0
	if !ok {
		return nil
	}
	return c
}

type rawPolicy struct {
	Line          int
	Name          yamldoc.At[string] `yaml:"name"`
	Match         rawMatch           `yaml:"match"`
	Calendar      yamldoc.At[string] `yaml:"calendar"`
	FirstResponse yamldoc.At[string] `yaml:"first_response"`
	Resolution    yamldoc.At[string] `yaml:"resolution"`
}

func (p *rawPolicy) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "a policy", "name", "match", "calendar", "first_response", "resolution"); err != nil {
		return err
	}
	type plain rawPolicy
	p.Line = n.Line
	return n.Decode((*plain)(p))
}

type rawMatch struct {
	Priority []yamldoc.At[string] `yaml:"priority"`
	Category []yamldoc.At[string] `yaml:"category"`
	Channel  []yamldoc.At[string] `yaml:"channel"`
}

func (m *rawMatch) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "match", "priority", "category", "channel"); err != nil {
		return err
	}
	type plain rawMatch
	return n.Decode((*plain)(m))
}

type rawEscalation struct {
	RaisePriority bool                 `yaml:"raise_priority"`
	Notify        []yamldoc.At[string] `yaml:"notify"`
}

func (e *rawEscalation) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "escalation", "raise_priority", "notify"); err != nil {
		return err
	}
	type plain rawEscalation
	return n.Decode((*plain)(e))
}
