package esstore

import (
	"context"
	"fmt"
	"net/http"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// Delete removes a ticket for good (e.g. a GDPR erasure request);
// tickets.ErrNotFound if it does not exist.
func (s *Store) Delete(ctx context.Context, id string) error {
	if id == "" {
		return invalid("id", "is required")
	}
	err := s.c.Do(ctx, http.MethodDelete, docPath(s.tickets, "_doc", id, s.writeParams()), nil, nil)
	if es.StatusOf(err) == http.StatusNotFound {
		return fmt.Errorf("esstore: delete %s: %w", id, tickets.ErrNotFound)
	}
	if err != nil {
		return wrap("delete "+id, err)
	}
	return nil
}
