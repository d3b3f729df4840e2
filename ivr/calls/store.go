package calls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/switchboard-cc/switchboard/es"
)

// Errors callers branch on.
var (
	// ErrNotFound: no call record has the id.
	ErrNotFound = errors.New("calls: not found")
	// ErrInvalid: a record or query the store refuses (the caller's fault).
	ErrInvalid = errors.New("calls: invalid")
)

// IndexName is the logical name of the call records' index; the es.Client
// prefixes it. Dashboards may query the alias Client.Name(IndexName)
// read-only.
const IndexName = "calls"

// Config tunes the Store.
type Config struct {
	// Replicas is number_of_replicas of the index: 0 suits a single node,
	// production clusters set 1 or more.
	Replicas int
	// RefreshOnWrite makes Put wait (refresh=wait_for) until Search and
	// Stats can see the record. The IVR writes two records per call and
	// nobody searches for a call in the second after it ends, so the
	// default is off: a write returns without waiting up to 1 s for the
	// next refresh. Get sees a write at once either way.
	RefreshOnWrite bool
}

// DefaultConfig returns the configuration for a single-node deployment.
func DefaultConfig() Config { return Config{} }

// Validate checks c without contacting the cluster.
func (c Config) Validate() error {
	if c.Replicas < 0 {
		return fmt.Errorf("calls: Replicas must not be negative, got %d", c.Replicas)
	}
	return nil
}

// Store keeps call records in Elasticsearch, one document per call under
// the call's ID. It is safe for concurrent use, also by several replicas
// of the server on one cluster.
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
	return &Store{c: c, cfg: cfg, log: log.With("component", "calls-store"), alias: c.Name(IndexName)}
}

// Index is the call records' index definition, for es.Client.Ensure.
//
// The mapping is explicit and "dynamic": false, so a field added to Record
// later is kept in _source but not indexed until the mapping (and Version)
// says how. Identifiers, the caller, outcome, nodes and intents are
// keywords (exact filters and terms aggregations); texts said by callers
// are text for search with a keyword sub-field for exact matches and
// top-N lists.
//
// path is a plain object array: the only question asked of it is "did the
// call visit node X", a single-field condition that Lucene's flattened
// arrays answer exactly, and a call has dozens of steps, which as nested
// documents would multiply the index's document count for nothing.
// recognitions is nested: IntentCounts asks "intent Y recognised at node X
// after time T", a condition across fields of one recognition that
// flattened arrays would answer wrongly (intent of one recognition, node
// of another), and the latency percentiles read each recognition's own
// value. There are only a few recognitions per call.
func (s *Store) Index() es.Index {
	kw := map[string]any{"type": "keyword"}
	date := map[string]any{"type": "date"}
	long := map[string]any{"type": "long"}
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
				"id":           kw,
				"sip_call_id":  kw,
				"caller":       kw,
				"called":       kw,
				"flow_id":      kw,
				"flow_version": map[string]any{"type": "integer"},
				"language":     kw,
				"started":      date,
				"ended":        date,
				"duration_ms":  long,
				"path": map[string]any{"properties": map[string]any{
					"node": kw, "kind": kw, "at": date,
				}},
				"recognitions": map[string]any{"type": "nested", "properties": map[string]any{
					"node": kw,
					"at":   date,
					"text": map[string]any{
						"type":   "text",
						"fields": map[string]any{"raw": map[string]any{"type": "keyword", "ignore_above": 256}},
					},
					"confidence":        map[string]any{"type": "float"},
					"intent":            kw,
					"intent_confidence": map[string]any{"type": "float"},
					"slot":              kw,
					"value":             kw,
					"result":            kw,
					"latency_ms":        long,
					"barge_in":          map[string]any{"type": "boolean"},
				}},
				"dtmf": map[string]any{"properties": map[string]any{
					"node": kw, "digits": kw, "at": date,
				}},
				"outcome":    kw,
				"end_reason": kw,
				"ticket_ids": kw,
				"transfer": map[string]any{"properties": map[string]any{
					"group": kw, "agent": kw, "target": kw, "method": kw, "result": kw,
					"queue_wait_ms": long,
				}},
				"recording": map[string]any{"properties": map[string]any{
					"id":      kw,
					"url":     map[string]any{"type": "keyword", "index": false},
					"seconds": map[string]any{"type": "float"},
				}},
				"redacted": map[string]any{"type": "boolean"},
			},
		},
	}
}

func (s *Store) docPath(id string) string {
	p := "/" + url.PathEscape(s.alias) + "/_doc/" + url.PathEscape(id)
	if s.cfg.RefreshOnWrite {
		p += "?refresh=wait_for"
	}
	return p
}

// Put stores r under r.ID, replacing what was there: the IVR writes a
// record when the call is answered and again, complete, when it ends.
func (s *Store) Put(ctx context.Context, r *Record) error {
	if r == nil || r.ID == "" {
		return fmt.Errorf("calls: put: %w: the record has no id", ErrInvalid)
	}
	if r.Started.IsZero() {
		return fmt.Errorf("calls: put %s: %w: the record has no start time", r.ID, ErrInvalid)
	}
	if err := s.c.Do(ctx, http.MethodPut, s.docPath(r.ID), r, nil); err != nil {
		return fmt.Errorf("calls: put %s: %w", r.ID, err)
	}
	return nil
}

// Get returns the record stored under id, or an error wrapping
// ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	if id == "" {
		return nil, fmt.Errorf("calls: get: %w: empty id", ErrNotFound)
	}
	var res struct {
		Found  bool   `json:"found"`
		Source Record `json:"_source"`
	}
	p := "/" + url.PathEscape(s.alias) + "/_doc/" + url.PathEscape(id)
	err := s.c.Do(ctx, http.MethodGet, p, nil, &res)
	if es.StatusOf(err) == http.StatusNotFound && !es.IsType(err, "index_not_found_exception") {
		return nil, fmt.Errorf("calls: get %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("calls: get %s: %w", id, err)
	}
	if !res.Found {
		return nil, fmt.Errorf("calls: get %s: %w", id, ErrNotFound)
	}
	return &res.Source, nil
}
