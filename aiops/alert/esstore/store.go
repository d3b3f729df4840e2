// Package esstore keeps alerts, with their full history, in
// Elasticsearch: one document per alert under its id in the "alerts"
// index. It implements alert.Store.
package esstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/es"
)

// IndexName is the logical name of the alerts index; the es.Client
// prefixes it.
const IndexName = "alerts"

// Config tunes the Store.
type Config struct {
	// Replicas is number_of_replicas of the index.
	Replicas int
	// RefreshOnWrite makes Put wait until List can see the change. Alerts
	// are few and the console lists them right after an acknowledge, so
	// the default (DefaultConfig) is on.
	RefreshOnWrite bool
}

// DefaultConfig returns the configuration for a single-node deployment.
func DefaultConfig() Config { return Config{RefreshOnWrite: true} }

// Validate checks c.
func (c Config) Validate() error {
	if c.Replicas < 0 {
		return fmt.Errorf("esstore: Replicas must not be negative, got %d", c.Replicas)
	}
	return nil
}

// Store keeps alerts in Elasticsearch. It is safe for concurrent use.
type Store struct {
	c     *es.Client
	cfg   Config
	log   *slog.Logger
	alias string
}

// New returns a Store on c. Its index must exist: pass Index() to
// c.Ensure at start-up. A nil log discards.
func New(c *es.Client, cfg Config, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{c: c, cfg: cfg, log: log.With("component", "alert-store"), alias: c.Name(IndexName)}
}

// Index is the alerts index definition, for es.Client.Ensure. Identifiers,
// states and dimensions are keywords for filters and aggregations; titles
// and summaries are text. history is a plain object array: the questions
// asked of it ("was it escalated", "who acknowledged") are single-field.
// Evidence samples are kept in _source only.
func (s *Store) Index() es.Index {
	kw := map[string]any{"type": "keyword"}
	date := map[string]any{"type": "date"}
	text := map[string]any{"type": "text", "fields": map[string]any{"raw": map[string]any{"type": "keyword", "ignore_above": 256}}}
	return es.Index{
		Name:    IndexName,
		Version: 1,
		Settings: map[string]any{
			"number_of_shards":   1,
			"number_of_replicas": s.cfg.Replicas,
		},
		Mappings: map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"id": kw, "key": kw, "source": kw, "severity": kw, "state": kw,
				"title": text, "summary": map[string]any{"type": "text"},
				"first_at": date, "last_at": date, "ack_at": date, "resolved_at": date, "escalated_at": date,
				"count":  map[string]any{"type": "integer"},
				"ack_by": kw, "resolved_by": kw,
				"evidence": map[string]any{"properties": map[string]any{
					"metric":     kw,
					"expected":   map[string]any{"type": "double"},
					"observed":   map[string]any{"type": "double"},
					"dimensions": map[string]any{"type": "flattened"},
					"candidates": map[string]any{"properties": map[string]any{
						"dimension": kw, "value": kw,
						"before": map[string]any{"type": "long"}, "after": map[string]any{"type": "long"},
						"score": map[string]any{"type": "double"},
					}},
				}},
				"history": map[string]any{"properties": map[string]any{
					"at": date, "kind": kw, "by": kw, "channel": kw,
					"detail": map[string]any{"type": "text"},
				}},
			},
		},
	}
}

// Put stores a under a.ID, replacing what was there.
func (s *Store) Put(ctx context.Context, a *alert.Alert) error {
	if a == nil || a.ID == "" {
		return fmt.Errorf("esstore: put: %w: no id", alert.ErrInvalid)
	}
	p := "/" + url.PathEscape(s.alias) + "/_doc/" + url.PathEscape(a.ID)
	if s.cfg.RefreshOnWrite {
		p += "?refresh=wait_for"
	}
	if err := s.c.Do(ctx, http.MethodPut, p, a, nil); err != nil {
		return fmt.Errorf("esstore: put %s: %w", a.ID, err)
	}
	return nil
}

// Get returns the alert stored under id, or an error wrapping
// alert.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*alert.Alert, error) {
	if id == "" {
		return nil, fmt.Errorf("esstore: get: %w: empty id", alert.ErrNotFound)
	}
	var res struct {
		Found  bool        `json:"found"`
		Source alert.Alert `json:"_source"`
	}
	err := s.c.Do(ctx, http.MethodGet, "/"+url.PathEscape(s.alias)+"/_doc/"+url.PathEscape(id), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound && !es.IsType(err, "index_not_found_exception") {
		return nil, fmt.Errorf("esstore: get %s: %w", id, alert.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("esstore: get %s: %w", id, err)
	}
	if !res.Found {
		return nil, fmt.Errorf("esstore: get %s: %w", id, alert.ErrNotFound)
	}
	return &res.Source, nil
}

// List returns the alerts q selects, newest LastAt first, and their total.
func (s *Store) List(ctx context.Context, q alert.Query) ([]alert.Alert, int, error) {
	if err := q.Validate(); err != nil {
		return nil, 0, fmt.Errorf("esstore: list: %w", err)
	}
	if q.Offset+q.PageSize() > 10000 {
		return nil, 0, fmt.Errorf("esstore: list: %w: offset+size beyond 10000", alert.ErrInvalid)
	}
	filter := []any{}
	if len(q.States) > 0 {
		filter = append(filter, map[string]any{"terms": map[string]any{"state": q.States}})
	}
	if q.Key != "" {
		filter = append(filter, map[string]any{"term": map[string]any{"key": q.Key}})
	}
	if !q.Since.IsZero() {
		filter = append(filter, map[string]any{"range": map[string]any{"last_at": map[string]any{"gte": q.Since.UTC().Format(time.RFC3339Nano)}}})
	}
	body := map[string]any{
		"from":             q.Offset,
		"size":             q.PageSize(),
		"track_total_hits": true,
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
		"sort":             []any{map[string]any{"last_at": "desc"}, map[string]any{"id": "asc"}},
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				Source alert.Alert `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.alias)+"/_search", body, &res); err != nil {
		return nil, 0, fmt.Errorf("esstore: list: %w", err)
	}
	out := make([]alert.Alert, len(res.Hits.Hits))
	for i, h := range res.Hits.Hits {
		out[i] = h.Source
	}
	return out, res.Hits.Total.Value, nil
}

var _ alert.Store = (*Store)(nil)
