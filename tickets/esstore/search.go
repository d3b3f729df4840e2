package esstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/tickets"
)

// defaultPageSize is Query.Size when the caller gives none.
const defaultPageSize = 20

// maxQueryRunes bounds the text sent to Elasticsearch; it matches
// tickets.Query.Validate, and keeps a query well below the cluster's
// clause limit even when the service's validation is bypassed.
const maxQueryRunes = 1000

// maxQueryBigrams bounds the bigram clause; beyond a few dozen bigrams a
// query is a pasted text, and more terms add cost, not precision.
const maxQueryBigrams = 64

type valueKind int

const (
	kindInt    valueKind = iota // dates (epoch millis) and integers
	kindFloat                   // _score
	kindString                  // keywords
)

type sortKey struct {
	field, order string
	kind         valueKind
}

// sortKeys returns the Elasticsearch sort for a Query.Sort. Every order ends
// with the unique id so that search_after never skips or repeats a ticket
// whose other sort values tie.
func sortKeys(order string, hasText bool) []sortKey {
	id := sortKey{"id", "asc", kindString}
	switch order {
	case tickets.SortCreatedAsc:
		return []sortKey{{"created_at", "asc", kindInt}, id}
	case tickets.SortUpdatedDesc:
		return []sortKey{{"updated_at", "desc", kindInt}, id}
	case tickets.SortPriority:
		return []sortKey{{"priority_rank", "desc", kindInt}, {"created_at", "asc", kindInt}, id}
	case tickets.SortRelevance:
		if hasText {
			return []sortKey{{"_score", "desc", kindFloat}, {"created_at", "desc", kindInt}, id}
		}
	}
	return []sortKey{{"created_at", "desc", kindInt}, id}
}

// cursor is what Page.Next encodes: the sort order it belongs to and the
// last hit's sort values.
type cursor struct {
	Sort   string            `json:"s"`
	Values []json.RawMessage `json:"v"`
}

func encodeCursor(order string, values []json.RawMessage) string {
	b, _ := json.Marshal(cursor{Sort: order, Values: values})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor checks a cursor completely before it reaches Elasticsearch,
// so that a tampered or stale cursor is the client's error (400), never a
// search failure.
func decodeCursor(s, order string, keys []sortKey) ([]json.RawMessage, error) {
	bad := func(why string) error { return invalid("after", "is not a cursor from this search: %s", why) }
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad("not base64url")
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad("undecodable")
	}
	if c.Sort != order {
		return nil, bad("it belongs to another sort order")
	}
	if len(c.Values) != len(keys) {
		return nil, bad("wrong number of values")
	}
	for i, k := range keys {
		v := c.Values[i]
		var ok bool
		switch k.kind {
		case kindInt:
			_, err := strconv.ParseInt(string(v), 10, 64)
			ok = err == nil
		case kindFloat:
			var f float64
			ok = len(v) > 0 && v[0] != '"' && json.Unmarshal(v, &f) == nil
		case kindString:
			var s string
			ok = json.Unmarshal(v, &s) == nil
		}
		if !ok {
			return nil, bad("malformed value")
		}
	}
	return c.Values, nil
}

func terms[T ~string](field string, vals []T) map[string]any {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = string(v)
	}
	return map[string]any{"terms": map[string]any{field: s}}
}

func term(field string, v any) map[string]any {
	return map[string]any{"term": map[string]any{field: v}}
}

func exists(field string) map[string]any {
	return map[string]any{"exists": map[string]any{"field": field}}
}

func rangeQ(field string, bounds map[string]any) map[string]any {
	return map[string]any{"range": map[string]any{field: bounds}}
}

func boolQ(b map[string]any) map[string]any { return map[string]any{"bool": b} }

func esTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// breachedQuery matches tickets with any SLA clock missed.
func breachedQuery() map[string]any {
	return boolQ(map[string]any{
		"should": []any{
			term("sla.first_response_breached", true),
			term("sla.resolution_breached", true),
		},
		"minimum_should_match": 1,
	})
}

// filters turns every non-empty field of q except Text into a filter.
func filters(q tickets.Query) []any {
	var f []any
	if len(q.Status) > 0 {
		f = append(f, terms("status", q.Status))
	}
	if len(q.Category) > 0 {
		f = append(f, terms("category.label", q.Category))
	}
	if len(q.Channel) > 0 {
		f = append(f, terms("channel", q.Channel))
	}
	if len(q.Priority) > 0 {
		f = append(f, terms("priority", q.Priority))
	}
	if len(q.Assignee) > 0 {
		f = append(f, terms("assignee", q.Assignee))
	}
	if len(q.SkillGroup) > 0 {
		f = append(f, terms("skill_group", q.SkillGroup))
	}
	if len(q.Tags) > 0 {
		// Any of the tags, like every other list filter; the field's
		// normalizer makes the match case-insensitive.
		f = append(f, terms("tags", q.Tags))
	}
	if q.CustomerID != "" {
		f = append(f, term("customer.id", q.CustomerID))
	}
	if q.Breached != nil {
		if *q.Breached {
			f = append(f, breachedQuery())
		} else {
			f = append(f, boolQ(map[string]any{"must_not": []any{breachedQuery()}}))
		}
	}
	if q.CreatedFrom != nil || q.CreatedTo != nil {
		r := map[string]any{}
		if q.CreatedFrom != nil {
			r["gte"] = esTime(*q.CreatedFrom)
		}
		if q.CreatedTo != nil {
			r["lt"] = esTime(*q.CreatedTo)
		}
		f = append(f, rangeQ("created_at", r))
	}
	return f
}

// textQuery matches text as plain words in Chinese and English. The text
// only ever goes into match-type queries, never into query_string, so no
// character of it is syntax.
func textQuery(text string) map[string]any {
	should := []any{
		// Words (and, for Chinese, single characters) across the fields
		// as if they were one, so a query may match partly in the subject
		// and partly in a comment. Short queries need every word; longer
		// ones three quarters of them.
		map[string]any{"multi_match": map[string]any{
			"query":                text,
			"type":                 "cross_fields",
			"fields":               []string{"subject^3", "description", "comments.body"},
			"operator":             "or",
			"minimum_should_match": "2<75%",
		}},
		// The exact text, e.g. a Chinese phrase, ranks first.
		map[string]any{"match_phrase": map[string]any{"subject": map[string]any{"query": text, "boost": 4}}},
		map[string]any{"match_phrase": map[string]any{"description": map[string]any{"query": text, "boost": 2}}},
	}
	if bg := queryBigrams(text); len(bg) > 0 {
		should = append(should, map[string]any{"match": map[string]any{"search_bigrams": map[string]any{
			"query":                strings.Join(bg, " "),
			"operator":             "or",
			"minimum_should_match": "2<75%",
			"boost":                2,
		}}})
	}
	return boolQ(map[string]any{"should": should, "minimum_should_match": 1})
}

func queryBigrams(text string) []string {
	var out []string
	for _, b := range cjkBigrams(text) {
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
		if len(out) == maxQueryBigrams {
			break
		}
	}
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Search returns a page of tickets matching q, with the exact total. A list
// filter matches any of its values (tags case-insensitively); different
// filters must all match. Pages
// continue with search_after from Page.Next, so a deep page costs what the
// first one does; a cursor from another search is a *tickets.ValidationError
// on field "after".
func (s *Store) Search(ctx context.Context, q tickets.Query) (*tickets.Page, error) {
	text := truncateRunes(strings.TrimSpace(q.Text), maxQueryRunes)
	size := q.Size
	if size == 0 {
		size = defaultPageSize
	}
	if size < 0 || size > tickets.MaxPageSize {
		return nil, invalid("size", "must be between 1 and %d", tickets.MaxPageSize)
	}
	order := q.Sort
	if order == "" {
		order = tickets.SortCreatedDesc
		if text != "" {
			order = tickets.SortRelevance
		}
	}
	if !slices.Contains(tickets.SortOrders(), order) {
		return nil, invalid("sort", "must be one of %s", strings.Join(tickets.SortOrders(), ", "))
	}
	keys := sortKeys(order, text != "")

	b := map[string]any{"filter": filters(q)}
	if text != "" {
		b["must"] = []any{textQuery(text)}
	}
	sort := make([]any, len(keys))
	for i, k := range keys {
		sort[i] = map[string]any{k.field: map[string]any{"order": k.order}}
	}
	body := map[string]any{
		"query":            boolQ(b),
		"sort":             sort,
		"size":             size + 1, // one more tells whether a next page exists
		"track_total_hits": true,
		"_source":          map[string]any{"excludes": strings.Split(excludedOnSearch, ",")},
	}
	if q.After != "" {
		after, err := decodeCursor(q.After, order, keys)
		if err != nil {
			return nil, err
		}
		body["search_after"] = after
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
			Hits []struct {
				ID     string            `json:"_id"`
				Source json.RawMessage   `json:"_source"`
				Sort   []json.RawMessage `json:"sort"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.tickets)+"/_search", body, &res); err != nil {
		return nil, wrap("search", err)
	}
	hits := res.Hits.Hits
	page := &tickets.Page{Total: res.Hits.Total.Value, Tickets: make([]*tickets.Ticket, 0, min(len(hits), size))}
	if len(hits) > size {
		hits = hits[:size]
		page.Next = encodeCursor(order, hits[size-1].Sort)
	}
	for _, h := range hits {
		t := new(tickets.Ticket)
		if err := json.Unmarshal(h.Source, t); err != nil {
			return nil, wrap("search: decode "+h.ID, err)
		}
		page.Tickets = append(page.Tickets, t)
	}
	return page, nil
}
