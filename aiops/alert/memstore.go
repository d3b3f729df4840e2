package alert

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryStore is a Store in process memory, for a single process without
// Elasticsearch and for tests of code that uses the Manager. It is safe for
// concurrent use.
type MemoryStore struct {
	mu     sync.Mutex
	alerts map[string]*Alert
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{alerts: map[string]*Alert{}} }

// Put stores a copy of a.
func (s *MemoryStore) Put(_ context.Context, a *Alert) error {
	if a == nil || a.ID == "" {
		return fmt.Errorf("alert: put: %w: no id", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts[a.ID] = a.Clone()
	return nil
}

// Get returns a copy of the alert stored under id.
func (s *MemoryStore) Get(_ context.Context, id string) (*Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return nil, fmt.Errorf("alert: get %s: %w", id, ErrNotFound)
	}
	return a.Clone(), nil
}

// List returns the alerts q selects, newest LastAt first, and how many
// there are in all.
func (s *MemoryStore) List(_ context.Context, q Query) ([]Alert, int, error) {
	if err := q.Validate(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	var all []Alert
	for _, a := range s.alerts {
		if q.Matches(a) {
			all = append(all, *a.Clone())
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b Alert) int {
		return cmp.Or(b.LastAt.Compare(a.LastAt), cmp.Compare(a.ID, b.ID))
	})
	total := len(all)
	lo := min(q.Offset, total)
	hi := min(lo+q.PageSize(), total)
	return all[lo:hi], total, nil
}

// Validate checks q.
func (q Query) Validate() error {
	for _, st := range q.States {
		if !st.Valid() {
			return fmt.Errorf("alert: %w: unknown state %q", ErrInvalid, st)
		}
	}
	if q.Offset < 0 || q.Size < 0 || q.Size > MaxPageSize {
		return fmt.Errorf("alert: %w: offset %d, size %d (at most %d)", ErrInvalid, q.Offset, q.Size, MaxPageSize)
	}
	return nil
}

// Matches reports whether a satisfies q's filters (not its paging).
func (q Query) Matches(a *Alert) bool {
	return (len(q.States) == 0 || slices.Contains(q.States, a.State)) &&
		(q.Key == "" || q.Key == a.Key) &&
		(q.Since.IsZero() || !a.LastAt.Before(q.Since))
}

// PageSize is q.Size, or DefaultPageSize when that is zero.
func (q Query) PageSize() int {
	if q.Size == 0 {
		return DefaultPageSize
	}
	return q.Size
}

var _ Store = (*MemoryStore)(nil)
