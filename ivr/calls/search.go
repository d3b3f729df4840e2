package calls

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Paging bounds for Query.
const (
	// DefaultPageSize is Query.Size when the caller gives none.
	DefaultPageSize = 20
	// MaxPageSize bounds Query.Size.
	MaxPageSize = 100
	// MaxOffset bounds Query.Offset+Query.Size: Elasticsearch's
	// index.max_result_window. Deeper pages need a narrower time range.
	MaxOffset = 10000
)

// Query selects call records; zero fields do not filter. Results are the
// newest first (by Started).
type Query struct {
	// From and To bound Started to [From, To).
	From, To time.Time
	// Outcomes: any of these (a call still up has none and matches no
	// outcome filter).
	Outcomes []Outcome
	// Caller and FlowID match exactly.
	Caller string
	FlowID string
	// Intent: some recognition of the call carried it.
	Intent string
	// Node: the call's path visited it.
	Node string
	// Offset and Size page through the results.
	Offset, Size int
}

// Validate checks q's bounds and paging; it returns an error wrapping
// ErrInvalid.
func (q Query) Validate() error {
	switch {
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return fmt.Errorf("%w: from must be before to", ErrInvalid)
	case q.Offset < 0:
		return fmt.Errorf("%w: offset must not be negative", ErrInvalid)
	case q.Size < 0 || q.Size > MaxPageSize:
		return fmt.Errorf("%w: size must be between 1 and %d", ErrInvalid, MaxPageSize)
	case q.Offset+q.size() > MaxOffset:
		return fmt.Errorf("%w: offset+size must be at most %d; narrow the time range instead", ErrInvalid, MaxOffset)
	}
	for _, o := range q.Outcomes {
		if !o.Valid() {
			return fmt.Errorf("%w: unknown outcome %q", ErrInvalid, o)
		}
	}
	return nil
}

func (q Query) size() int {
	if q.Size == 0 {
		return DefaultPageSize
	}
	return q.Size
}

// Outcomes returns every outcome, in a stable order.
func Outcomes() []Outcome {
	return []Outcome{SelfServed, Ticketed, Transferred, Abandoned, Failed}
}

// Valid reports whether o is one of Outcomes().
func (o Outcome) Valid() bool {
	for _, x := range Outcomes() {
		if o == x {
			return true
		}
	}
	return false
}

// Query-building helpers: Elasticsearch's DSL as Go maps.
func term(field string, v any) map[string]any {
	return map[string]any{"term": map[string]any{field: v}}
}

func rangeQ(field string, bounds map[string]any) map[string]any {
	return map[string]any{"range": map[string]any{field: bounds}}
}

func boolFilter(filter []any) map[string]any {
	return map[string]any{"bool": map[string]any{"filter": filter}}
}

func nestedRecognitions(q map[string]any) map[string]any {
	return map[string]any{"nested": map[string]any{"path": "recognitions", "query": q}}
}

// esTime is how times are sent: epoch milliseconds, unambiguous whatever
// the field's format.
func esTime(t time.Time) int64 { return t.UnixMilli() }

// startedRange filters Started to [from, to); zero bounds are open.
func startedRange(from, to time.Time) []any {
	b := map[string]any{}
	if !from.IsZero() {
		b["gte"] = esTime(from)
	}
	if !to.IsZero() {
		b["lt"] = esTime(to)
	}
	if len(b) == 0 {
		return nil
	}
	return []any{rangeQ("started", b)}
}

func (q Query) filter() []any {
	f := startedRange(q.From, q.To)
	if len(q.Outcomes) > 0 {
		f = append(f, map[string]any{"terms": map[string]any{"outcome": q.Outcomes}})
	}
	if q.Caller != "" {
		f = append(f, term("caller", q.Caller))
	}
	if q.FlowID != "" {
		f = append(f, term("flow_id", q.FlowID))
	}
	if q.Intent != "" {
		f = append(f, nestedRecognitions(term("recognitions.intent", q.Intent)))
	}
	if q.Node != "" {
		f = append(f, term("path.node", q.Node))
	}
	return f
}

// Search returns a page of the records q selects, newest first, and how
// many it selects in all.
func (s *Store) Search(ctx context.Context, q Query) ([]Record, int, error) {
	if err := q.Validate(); err != nil {
		return nil, 0, fmt.Errorf("calls: search: %w", err)
	}
	body := map[string]any{
		"from":             q.Offset,
		"size":             q.size(),
		"track_total_hits": true,
		"query":            boolFilter(q.filter()),
		// The id breaks ties between calls answered in the same
		// millisecond, so pages neither repeat nor skip one.
		"sort": []any{
			map[string]any{"started": "desc"},
			map[string]any{"id": "desc"},
		},
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				Source Record `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.alias)+"/_search", body, &res); err != nil {
		return nil, 0, fmt.Errorf("calls: search: %w", err)
	}
	out := make([]Record, len(res.Hits.Hits))
	for i, h := range res.Hits.Hits {
		out[i] = h.Source
	}
	return out, res.Hits.Total.Value, nil
}

// maxIntents bounds the intents IntentCounts returns; an intent set is a
// few dozen labels.
const maxIntents = 1000

// IntentCounts counts, per intent, the recognitions at node (empty: at any
// node) made since since that carried an intent. A recognition whose
// result is no_match but which still carried the model's best intent
// counts too: it says what the caller asked for, which is what menu
// ordering wants to know, even where the model was not sure enough to
// route on it.
func (s *Store) IntentCounts(ctx context.Context, since time.Time, node string) (map[string]int64, error) {
	inner := []any{
		rangeQ("recognitions.at", map[string]any{"gte": esTime(since)}),
		map[string]any{"exists": map[string]any{"field": "recognitions.intent"}},
	}
	if node != "" {
		inner = append(inner, term("recognitions.node", node))
	}
	// The outer query picks the calls holding such a recognition; the
	// nested filter aggregation then counts only the recognitions
	// themselves, not their siblings in the same call.
	body := map[string]any{
		"size":  0,
		"query": nestedRecognitions(boolFilter(inner)),
		"aggs": map[string]any{
			"recognitions": map[string]any{
				"nested": map[string]any{"path": "recognitions"},
				"aggs": map[string]any{
					"selected": map[string]any{
						"filter": boolFilter(inner),
						"aggs": map[string]any{
							"intents": map[string]any{"terms": map[string]any{"field": "recognitions.intent", "size": maxIntents}},
						},
					},
				},
			},
		},
	}
	var res struct {
		Aggregations struct {
			Recognitions struct {
				Selected struct {
					Intents termBuckets `json:"intents"`
				} `json:"selected"`
			} `json:"recognitions"`
		} `json:"aggregations"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.alias)+"/_search", body, &res); err != nil {
		return nil, fmt.Errorf("calls: intent counts: %w", err)
	}
	out := map[string]int64{}
	for _, b := range res.Aggregations.Recognitions.Selected.Intents.Buckets {
		out[b.Key] = b.DocCount
	}
	return out, nil
}

// termBuckets is a terms aggregation's answer.
type termBuckets struct {
	Buckets []struct {
		Key      string `json:"key"`
		DocCount int64  `json:"doc_count"`
	} `json:"buckets"`
}
