// Package esstore stores tickets in Elasticsearch: it implements
// tickets.Store (create, realtime get, optimistic replace, Chinese and
// English full-text search with cursor paging, dashboard aggregations),
// tickets.Sequencer (ticket numbers from a counters index), bulk creation
// for the importer, and the overdue query the SLA monitor polls.
//
// It relies only on what every Elasticsearch 8 node has: no analysis-common
// (so CJK bigrams are computed here, in Go, at write time), no scripts (so
// a priority rank and the next SLA due time are stored as derived fields)
// and no reindex module (index migrations go through es.Client.Ensure).
// Only cmd/switchboard should import it; everything else uses the
// interfaces declared in package tickets.
package esstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// Logical index names, prefixed by the es.Client (e.g. "switchboard-tickets").
// Readers other than this package (dashboards, AIOps) may query the alias
// Client.Name(TicketsIndex) read-only.
const (
	TicketsIndex  = "tickets"
	CountersIndex = "counters"
)

// Config tunes the store.
type Config struct {
	// Replicas is number_of_replicas of both indices. 0 suits a single node
	// (development, small deployments); production clusters set 1 or more.
	// Setup applies a change to existing indices too.
	Replicas int
	// RefreshOnWrite makes every ticket write wait (refresh=wait_for) until
	// Search can see it. Get sees a write at once either way; without this,
	// a search right after a write may miss it for up to the refresh
	// interval (1 s). The cost is write latency: each write waits for the
	// next scheduled refresh, up to 1 s (BenchmarkCreate: about 4 ms per
	// create without, 0.9 s back-to-back with it), though concurrent
	// writers share one refresh. Bulk imports and high write rates are
	// better off without it.
	RefreshOnWrite bool
	// EmbeddingDims is the length of ticket embeddings (the embedding
	// model's card.embedding_dim), mapped as a dense_vector for
	// similar-ticket search; 0 maps none. A ticket whose embedding has
	// another length is stored without it. Changing it needs a new index
	// version (the vectors of the old model are useless to the new one).
	EmbeddingDims int
}

// DefaultConfig returns the configuration for a small single-node
// deployment: no replicas, writes visible to search before they return.
func DefaultConfig() Config { return Config{RefreshOnWrite: true, EmbeddingDims: DefaultEmbeddingDims} }

// DefaultEmbeddingDims is the dimension of the shipped embedding model.
const DefaultEmbeddingDims = 384

// Validate checks c without contacting the cluster.
func (c Config) Validate() error {
	if c.Replicas < 0 {
		return fmt.Errorf("esstore: Replicas must not be negative, got %d", c.Replicas)
	}
	if c.EmbeddingDims < 0 || c.EmbeddingDims > 4096 {
		return fmt.Errorf("esstore: EmbeddingDims must be between 0 and 4096, got %d", c.EmbeddingDims)
	}
	return nil
}

// Store keeps tickets and sequence counters in Elasticsearch. It is safe for
// concurrent use, also by several replicas of the server on one cluster.
type Store struct {
	c        *es.Client
	cfg      Config
	log      *slog.Logger
	tickets  string // alias of the tickets index
	counters string // alias of the counters index
}

// New returns a Store writing through c. It does not contact the cluster;
// call Setup (or c.Ensure with Indices) before use.
func New(c *es.Client, cfg Config, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{c: c, cfg: cfg, log: log, tickets: c.Name(TicketsIndex), counters: c.Name(CountersIndex)}
}

// Setup creates or migrates the store's indices and applies the configured
// replica count to them. It is idempotent and safe to run from several
// replicas at once.
func (s *Store) Setup(ctx context.Context) error {
	if err := s.c.Ensure(ctx, s.log, s.Indices()...); err != nil {
		return wrap("setup", err)
	}
	// The template only shapes newly created indices; replicas are a
	// dynamic setting, so a changed Config reaches existing ones here.
	body := map[string]any{"index": map[string]any{"number_of_replicas": s.cfg.Replicas}}
	for _, alias := range []string{s.tickets, s.counters} {
		if err := s.c.Do(ctx, http.MethodPut, "/"+url.PathEscape(alias)+"/_settings", body, nil); err != nil {
			return wrap("setup: replicas of "+alias, err)
		}
	}
	return nil
}

// wrap adds context to an Elasticsearch error and marks outages with
// tickets.ErrUnavailable, so the HTTP edge answers 503 rather than 500.
func wrap(op string, err error) error {
	if errors.Is(err, es.ErrUnavailable) {
		return fmt.Errorf("esstore: %s: %w: %w", op, tickets.ErrUnavailable, err)
	}
	return fmt.Errorf("esstore: %s: %w", op, err)
}

func invalid(field, format string, args ...any) error {
	var v tickets.ValidationError
	v.Add(field, format, args...)
	return &v
}

// Interface guards.
var (
	_ tickets.Store     = (*Store)(nil)
	_ tickets.Sequencer = (*Store)(nil)
)
