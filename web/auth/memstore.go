package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is a ClientStore in process memory, for tests and single-node
// installations that accept losing clients on restart. The zero value is
// not usable; call NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	mu      sync.RWMutex
	clients map[string]Client
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{clients: make(map[string]Client)}
}

// GetClient returns the client with the given ID.
func (s *MemoryStore) GetClient(ctx context.Context, id string) (Client, error) {
	if err := ctx.Err(); err != nil {
		return Client{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.clients[id]
	if !ok {
		return Client{}, fmt.Errorf("memory store: get %s: %w", id, ErrClientNotFound)
	}
	return c, nil
}

// CreateClient stores c unless its ID is taken.
func (s *MemoryStore) CreateClient(ctx context.Context, c Client) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		return fmt.Errorf("memory store: create %s: %w", c.ID, ErrClientExists)
	}
	s.clients[c.ID] = c
	return nil
}

// ListClients returns all clients ordered by ID.
func (s *MemoryStore) ListClients(ctx context.Context) ([]Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateClient replaces the stored client with c's ID.
func (s *MemoryStore) UpdateClient(ctx context.Context, c Client) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; !ok {
		return fmt.Errorf("memory store: update %s: %w", c.ID, ErrClientNotFound)
	}
	s.clients[c.ID] = c
	return nil
}

var _ ClientStore = (*MemoryStore)(nil)
