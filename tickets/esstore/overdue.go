package esstore

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// maxOverdue bounds one Overdue call to one search page (Elasticsearch's
// default max_result_window); the monitor polls again for the rest.
const maxOverdue = 10000

// Overdue returns the ids of at most limit tickets that have an SLA clock
// past due and not yet marked breached, earliest due first: tickets that are
// new, open or pending, and whose first-response due time has passed
// without a first response, or whose resolution due time has passed.
// Resolved and closed tickets never are. limit ≤ 0 means 100.
//
// The result is as fresh as the last refresh (at most a second behind);
// the monitor re-reads each ticket by id before acting, so a ticket that
// was answered meanwhile is not flagged.
func (s *Store) Overdue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, maxOverdue)
	at := esTime(now)
	firstResponse := boolQ(map[string]any{
		"filter":   []any{rangeQ("sla.first_response_due", map[string]any{"lt": at})},
		"must_not": []any{exists("first_response_at"), term("sla.first_response_breached", true)},
	})
	resolution := boolQ(map[string]any{
		"filter":   []any{rangeQ("sla.resolution_due", map[string]any{"lt": at})},
		"must_not": []any{term("sla.resolution_breached", true)},
	})
	body := map[string]any{
		"query": boolQ(map[string]any{
			"filter": []any{
				terms("status", openStatuses),
				boolQ(map[string]any{"should": []any{firstResponse, resolution}, "minimum_should_match": 1}),
			},
		}),
		// sla_next_due is the earliest clock still running, which for a
		// matching ticket is the one that is overdue the longest.
		"sort": []any{
			map[string]any{"sla_next_due": map[string]any{"order": "asc", "missing": "_last"}},
			map[string]any{"id": map[string]any{"order": "asc"}},
		},
		"size":             limit,
		"_source":          false,
		"track_total_hits": false,
	}
	var res struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.tickets)+"/_search", body, &res); err != nil {
		return nil, wrap("overdue", err)
	}
	ids := make([]string, len(res.Hits.Hits))
	for i, h := range res.Hits.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}
