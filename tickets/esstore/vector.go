package esstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/switchboard-cc/switchboard/tickets"
)

var _ tickets.VectorStore = (*Store)(nil)

// Nearest returns up to k tickets whose embeddings are closest to vec by
// cosine similarity (Elasticsearch approximate kNN on the embedding field),
// most similar first.
func (s *Store) Nearest(ctx context.Context, vec []float32, k int, f tickets.NearestFilter) ([]tickets.Neighbor, error) {
	if s.cfg.EmbeddingDims == 0 {
		return nil, fmt.Errorf("esstore: nearest: no embedding field is mapped (EmbeddingDims 0): %w", tickets.ErrUnavailable)
	}
	if len(vec) != s.cfg.EmbeddingDims {
		return nil, invalid("vector", "has %d dimensions, the index %d", len(vec), s.cfg.EmbeddingDims)
	}
	if k < 1 {
		return nil, invalid("k", "must be at least 1")
	}
	var filter []any
	if f.Labelled {
		filter = append(filter, terms("category.source", []string{tickets.SourceAgent, tickets.SourceImport}))
	}
	knn := map[string]any{
		"field":          "embedding",
		"query_vector":   vec,
		"k":              k,
		"num_candidates": max(50, 4*k),
	}
	if f.Exclude != "" {
		filter = append(filter, boolQ(map[string]any{"must_not": []any{term("id", f.Exclude)}}))
	}
	if len(filter) > 0 {
		knn["filter"] = filter
	}
	body := map[string]any{
		"knn":     knn,
		"size":    k,
		"_source": []string{"id", "number", "subject", "status", "category.label", "category.source"},
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Score  float64 `json:"_score"`
				Source struct {
					ID       string         `json:"id"`
					Number   int64          `json:"number"`
					Subject  string         `json:"subject"`
					Status   tickets.Status `json:"status"`
					Category *struct {
						Label  string `json:"label"`
						Source string `json:"source"`
					} `json:"category"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.tickets)+"/_search", body, &res); err != nil {
		return nil, wrap("nearest", err)
	}
	out := make([]tickets.Neighbor, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		n := tickets.Neighbor{
			TicketID: h.Source.ID, Number: h.Source.Number, Subject: h.Source.Subject, Status: h.Source.Status,
			// Elasticsearch scores cosine as (1 + cos) / 2 so that scores
			// are positive; report the cosine itself.
			Score: 2*h.Score - 1,
		}
		if c := h.Source.Category; c != nil {
			n.Label, n.Source = c.Label, c.Source
		}
		out = append(out, n)
	}
	return out, nil
}
