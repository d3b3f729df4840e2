// Package settings keeps small named configuration documents (SLA policies,
// automation rules, signing keys) in Elasticsearch, so that every replica of
// a deployment shares them and an edit made through one replica's API
// reaches the others on their next reload.
package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// Errors callers branch on.
var (
	// ErrNotFound: no document is stored under the key.
	ErrNotFound = errors.New("settings: not found")
	// ErrExists: Create found a document under the key already.
	ErrExists = errors.New("settings: already exists")
)

// Doc is one stored setting.
type Doc struct {
	Value     string    `json:"value"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// SeqNo changes on every write; a reloader compares it to skip
	// re-parsing an unchanged document.
	SeqNo int64 `json:"-"`
}

// Store reads and writes settings. It is safe for concurrent use.
type Store struct {
	c   *es.Client
	now func() time.Time
}

// New returns a Store on c.
func New(c *es.Client) *Store { return &Store{c: c, now: time.Now} }

// Index is the settings index definition, for es.Client.Ensure.
func (s *Store) Index() es.Index {
	return es.Index{
		Name:     "settings",
		Version:  1,
		Settings: map[string]any{"number_of_shards": 1},
		Mappings: map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"value":      map[string]any{"type": "text", "index": false},
				"updated_at": map[string]any{"type": "date"},
				"updated_by": map[string]any{"type": "keyword"},
			},
		},
	}
}

func (s *Store) path(key string) string {
	return "/" + s.c.Name("settings") + "/_doc/" + url.PathEscape(key)
}

// Get returns the document under key, or ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (Doc, error) {
	var res struct {
		Found  bool  `json:"found"`
		SeqNo  int64 `json:"_seq_no"`
		Source Doc   `json:"_source"`
	}
	err := s.c.Do(ctx, http.MethodGet, s.path(key), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound {
		return Doc{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return Doc{}, fmt.Errorf("settings: get %s: %w", key, err)
	}
	res.Source.SeqNo = res.SeqNo
	return res.Source, nil
}

// Put stores value under key, replacing what was there.
func (s *Store) Put(ctx context.Context, key, value, actor string) error {
	doc := Doc{Value: value, UpdatedAt: s.now().UTC(), UpdatedBy: actor}
	if err := s.c.Do(ctx, http.MethodPut, s.path(key)+"?refresh=true", doc, nil); err != nil {
		return fmt.Errorf("settings: put %s: %w", key, err)
	}
	return nil
}

// Create stores value under key only if nothing is stored there yet, so
// that when several replicas start at once exactly one value wins.
func (s *Store) Create(ctx context.Context, key, value, actor string) error {
	doc := Doc{Value: value, UpdatedAt: s.now().UTC(), UpdatedBy: actor}
	err := s.c.Do(ctx, http.MethodPut, s.path(key)+"?op_type=create&refresh=true", doc, nil)
	if es.StatusOf(err) == http.StatusConflict {
		return fmt.Errorf("%w: %s", ErrExists, key)
	}
	if err != nil {
		return fmt.Errorf("settings: create %s: %w", key, err)
	}
	return nil
}
