package api

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// queryParser reads a query string strictly, like the JSON decoder reads
// bodies: every parameter must be known, single-valued ones may appear
// once, and each bad value is reported with its parameter name as field.
type queryParser struct {
	values url.Values
	known  []string
	errs   []problem.FieldError
}

func (p *queryParser) fail(field, format string, args ...any) {
	p.errs = append(p.errs, problem.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// finish reports the parameters nobody asked for, in a stable order.
func (p *queryParser) finish() []problem.FieldError {
	var unknown []string
	for k := range p.values {
		if !slices.Contains(p.known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		p.fail(k, "unknown parameter")
	}
	return p.errs
}

// list returns a multi-valued parameter: repeated (status=new&status=open),
// comma-separated (status=new,open) or both; empty items are dropped.
func (p *queryParser) list(name string) []string {
	p.known = append(p.known, name)
	var out []string
	for _, v := range p.values[name] {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// one returns a single-valued parameter and whether it was given.
func (p *queryParser) one(name string) (string, bool) {
	p.known = append(p.known, name)
	vs, ok := p.values[name]
	if !ok {
		return "", false
	}
	if len(vs) > 1 {
		p.fail(name, "must be given at most once")
		return "", false
	}
	return vs[0], true
}

func (p *queryParser) time(name string) *time.Time {
	s, ok := p.one(name)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.fail(name, "must be an RFC 3339 timestamp, e.g. 2026-03-01T00:00:00Z")
		return nil
	}
	return &t
}

func (p *queryParser) bool(name string) *bool {
	s, ok := p.one(name)
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(name, "must be true or false")
		return nil
	}
	return &b
}

// parseQuery reads GET /api/v1/tickets' parameters into a Query. Domain
// rules on the values (known statuses, page size bounds) are the
// Service's; this checks only their syntax.
func parseQuery(values url.Values) (tickets.Query, []problem.FieldError) {
	p := &queryParser{values: values}
	var q tickets.Query
	q.Text, _ = p.one("q")
	for _, s := range p.list("status") {
		q.Status = append(q.Status, tickets.Status(s))
	}
	q.Category = p.list("category")
	for _, s := range p.list("channel") {
		q.Channel = append(q.Channel, tickets.Channel(s))
	}
	for _, s := range p.list("priority") {
		q.Priority = append(q.Priority, tickets.Priority(s))
	}
	q.Assignee = p.list("assignee")
	q.SkillGroup = p.list("skill_group")
	q.Tags = p.list("tag")
	q.CustomerID, _ = p.one("customer_id")
	q.Breached = p.bool("breached")
	q.CreatedFrom = p.time("created_from")
	q.CreatedTo = p.time("created_to")
	q.Sort, _ = p.one("sort")
	if s, ok := p.one("size"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > tickets.MaxPageSize {
			p.fail("size", "must be an integer between 1 and %d", tickets.MaxPageSize)
		}
		q.Size = n
	}
	q.After, _ = p.one("after")
	return q, p.finish()
}

// parseStatsQuery reads GET /api/v1/stats' parameters.
func parseStatsQuery(values url.Values) (tickets.StatsQuery, []problem.FieldError) {
	p := &queryParser{values: values}
	var q tickets.StatsQuery
	if t := p.time("from"); t != nil {
		q.From = *t
	} else if _, given := values["from"]; !given {
		p.fail("from", "is required")
	}
	if t := p.time("to"); t != nil {
		q.To = *t
	} else if _, given := values["to"]; !given {
		p.fail("to", "is required")
	}
	q.Interval, _ = p.one("interval")
	for _, s := range p.list("channel") {
		c := tickets.Channel(s)
		if !c.Valid() {
			p.fail("channel", "unknown channel %q", s)
		}
		q.Channel = append(q.Channel, c)
	}
	q.Category = p.list("category")
	q.TimeZone, _ = p.one("tz")
	return q, p.finish()
}
