package enrich

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/switchboard-cc/switchboard/tickets"
)

// template is a parsed URL template: literal text and placeholders.
type template struct {
	parts  []part
	fields []string // placeholders used, each once
}

type part struct {
	lit   string
	field string // a placeholder when non-empty
	query bool   // after the "?": escape as a query value, else as a path segment
}

// field returns the customer field a placeholder reads, and whether the
// placeholder is known.
func field(c tickets.Customer, name string) (string, bool) {
	switch name {
	case "id":
		return c.ID, true
	case "name":
		return c.Name, true
	case "phone":
		return c.Phone, true
	case "email":
		return c.Email, true
	}
	return "", false
}

func parseTemplate(s string) (template, error) {
	var t template
	if strings.TrimSpace(s) == "" {
		return t, fmt.Errorf("is required")
	}
	query := false
	rest := s
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		lit := rest
		if i >= 0 {
			lit = rest[:i]
		}
		if strings.ContainsRune(lit, '}') {
			return t, fmt.Errorf("has a '}' without '{'")
		}
		if lit != "" {
			t.parts = append(t.parts, part{lit: lit})
			query = query || strings.ContainsRune(lit, '?')
		}
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return t, fmt.Errorf("has a '{' without '}'")
		}
		name := rest[i+1 : i+j]
		if _, ok := field(tickets.Customer{}, name); !ok {
			return t, fmt.Errorf("has unknown placeholder {%s}; use {id}, {name}, {phone} or {email}", name)
		}
		t.parts = append(t.parts, part{field: name, query: query})
		if !slices.Contains(t.fields, name) {
			t.fields = append(t.fields, name)
		}
		rest = rest[i+j+1:]
	}
	// The scheme and host must be literal: customer data may only choose
	// what is asked, never whom.
	sample := t.render(func(string) string { return "x" })
	u, err := url.Parse(sample)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return t, fmt.Errorf("must be an absolute http or https URL")
	}
	if len(t.fields) > 0 {
		first := strings.Index(s, "{")
		hostEnd := len(u.Scheme) + len("://") + len(u.Host)
		if u.User != nil {
			hostEnd += len(u.User.String()) + 1
		}
		if first < hostEnd {
			return t, fmt.Errorf("placeholders may only appear in the path or query, not the host")
		}
	}
	return t, nil
}

func (t template) render(value func(field string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.field == "":
			b.WriteString(p.lit)
		case p.query:
			b.WriteString(url.QueryEscape(value(p.field)))
		default:
			b.WriteString(url.PathEscape(value(p.field)))
		}
	}
	return b.String()
}

// expand fills t in for c; false when c has none of the fields t uses (a
// template without placeholders always expands).
func (t template) expand(c tickets.Customer) (string, bool) {
	value := func(name string) string { v, _ := field(c, name); return v }
	have := len(t.fields) == 0
	for _, f := range t.fields {
		have = have || value(f) != ""
	}
	if !have {
		return "", false
	}
	return t.render(value), true
}
