// Package esauth keeps API clients and the token signing key in
// Elasticsearch, so that every replica of a deployment authenticates the
// same clients and accepts each other's tokens.
package esauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Store is an auth.ClientStore on Elasticsearch. It is safe for concurrent
// use.
type Store struct {
	c *es.Client
}

// New returns a Store on c.
func New(c *es.Client) *Store { return &Store{c: c} }

// Index is the clients index definition, for es.Client.Ensure.
func (s *Store) Index() es.Index {
	return es.Index{
		Name:     "clients",
		Version:  1,
		Settings: map[string]any{"number_of_shards": 1},
		Mappings: map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"id":          map[string]any{"type": "keyword"},
				"name":        map[string]any{"type": "keyword"},
				"role":        map[string]any{"type": "keyword"},
				"secret_hash": map[string]any{"type": "keyword", "index": false},
				"created_at":  map[string]any{"type": "date"},
				"disabled":    map[string]any{"type": "boolean"},
			},
		},
	}
}

// doc is the stored form; auth.Client has no JSON tags of its own.
type doc struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	SecretHash string    `json:"secret_hash"`
	CreatedAt  time.Time `json:"created_at"`
	Disabled   bool      `json:"disabled"`
}

func toDoc(c auth.Client) doc {
	return doc{ID: c.ID, Name: c.Name, Role: string(c.Role), SecretHash: c.SecretHash, CreatedAt: c.CreatedAt, Disabled: c.Disabled}
}

func (d doc) client() auth.Client {
	return auth.Client{ID: d.ID, Name: d.Name, Role: auth.Role(d.Role), SecretHash: d.SecretHash, CreatedAt: d.CreatedAt, Disabled: d.Disabled}
}

func (s *Store) path(id string) string {
	return "/" + s.c.Name("clients") + "/_doc/" + url.PathEscape(id)
}

// GetClient implements auth.ClientGetter with a real-time get, so a client
// can use its credentials the moment it is created.
func (s *Store) GetClient(ctx context.Context, id string) (auth.Client, error) {
	var res struct {
		Source doc `json:"_source"`
	}
	err := s.c.Do(ctx, http.MethodGet, s.path(id), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound {
		return auth.Client{}, fmt.Errorf("esauth: client %s: %w", id, auth.ErrClientNotFound)
	}
	if err != nil {
		return auth.Client{}, fmt.Errorf("esauth: get client %s: %w", id, err)
	}
	return res.Source.client(), nil
}

// CreateClient implements auth.ClientCreator with a create-only write, so
// that of several replicas racing to create the admin exactly one succeeds.
func (s *Store) CreateClient(ctx context.Context, c auth.Client) error {
	err := s.c.Do(ctx, http.MethodPut, s.path(c.ID)+"?op_type=create&refresh=wait_for", toDoc(c), nil)
	if es.StatusOf(err) == http.StatusConflict {
		return fmt.Errorf("esauth: client %s: %w", c.ID, auth.ErrClientExists)
	}
	if err != nil {
		return fmt.Errorf("esauth: create client %s: %w", c.ID, err)
	}
	return nil
}

// ListClients returns every client, ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]auth.Client, error) {
	var res struct {
		Hits struct {
			Hits []struct {
				Source doc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	q := map[string]any{"size": 10000, "sort": []any{map[string]any{"id": "asc"}}}
	if err := s.c.Do(ctx, http.MethodPost, "/"+s.c.Name("clients")+"/_search", q, &res); err != nil {
		return nil, fmt.Errorf("esauth: list clients: %w", err)
	}
	out := make([]auth.Client, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source.client())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateClient replaces an existing client.
func (s *Store) UpdateClient(ctx context.Context, c auth.Client) error {
	if _, err := s.GetClient(ctx, c.ID); err != nil {
		return err
	}
	if err := s.c.Do(ctx, http.MethodPut, s.path(c.ID)+"?refresh=wait_for", toDoc(c), nil); err != nil {
		return fmt.Errorf("esauth: update client %s: %w", c.ID, err)
	}
	return nil
}

// signingKeySetting is the settings key of the shared JWT signing key.
const signingKeySetting = "auth.jwt-signing-key"

// SigningKey returns the deployment's token signing key, creating a random
// 32-byte key on first use. A create-only write makes concurrent replicas
// agree on one key. Operators who keep secrets elsewhere set
// SWITCHBOARD_JWT_KEY instead, and this is not called.
func SigningKey(ctx context.Context, st *settings.Store) ([]byte, error) {
	d, err := st.Get(ctx, signingKeySetting)
	if errors.Is(err, settings.ErrNotFound) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("esauth: signing key: %w", err)
		}
		err = st.Create(ctx, signingKeySetting, base64.StdEncoding.EncodeToString(key), "switchboard")
		if err != nil && !errors.Is(err, settings.ErrExists) {
			return nil, fmt.Errorf("esauth: store signing key: %w", err)
		}
		d, err = st.Get(ctx, signingKeySetting)
	}
	if err != nil {
		return nil, fmt.Errorf("esauth: signing key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(d.Value)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("esauth: stored signing key is corrupt (delete setting %q to generate a new one)", signingKeySetting)
	}
	return key, nil
}

var _ auth.ClientStore = (*Store)(nil)
