package esstore

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
)

// labelledPage is how many tickets one request of Labelled fetches.
const labelledPage = 500

// Labelled calls fn with each ticket created in [from, to) (a zero bound is
// open) whose category source is one of sources, oldest first, and returns
// how many it passed. It is the training-data export: the tickets carry
// only what training reads (subject, description, language, channel,
// category, creation time), not comments or history. It pages with
// search_after, so memory stays flat however many tickets match.
func (s *Store) Labelled(ctx context.Context, from, to time.Time, sources []string, fn func(*tickets.Ticket) error) (int, error) {
	if len(sources) == 0 {
		return 0, invalid("sources", "name at least one category source")
	}
	filter := []any{terms("category.source", sources)}
	bounds := map[string]any{}
	if !from.IsZero() {
		bounds["gte"] = esTime(from)
	}
	if !to.IsZero() {
		bounds["lt"] = esTime(to)
	}
	if len(bounds) > 0 {
		filter = append(filter, rangeQ("created_at", bounds))
	}
	body := map[string]any{
		"query":   boolQ(map[string]any{"filter": filter}),
		"sort":    []any{map[string]any{"created_at": "asc"}, map[string]any{"id": "asc"}},
		"size":    labelledPage,
		"_source": []string{"id", "number", "channel", "subject", "description", "language", "category", "created_at"},
	}
	n := 0
	for {
		var res struct {
			Hits struct {
				Hits []struct {
					Source json.RawMessage   `json:"_source"`
					Sort   []json.RawMessage `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.tickets)+"/_search", body, &res); err != nil {
			return n, wrap("labelled", err)
		}
		hits := res.Hits.Hits
		for _, h := range hits {
			t := new(tickets.Ticket)
			if err := json.Unmarshal(h.Source, t); err != nil {
				return n, wrap("labelled: decode", err)
			}
			if err := fn(t); err != nil {
				return n, err
			}
			n++
		}
		if len(hits) < labelledPage {
			return n, nil
		}
		body["search_after"] = hits[len(hits)-1].Sort
	}
}
