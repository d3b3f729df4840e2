package sla_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

// backend is the real ticket store on fresh indices of the test cluster
// (estest: run with `make test` or SWITCHBOARD_TEST_ES_URL set).
type backend struct {
	*esstore.Store
	c *es.Client
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	c := estest.Client(t)
	// Without RefreshOnWrite every write returns at once; the tests
	// refresh before each pass instead (see refresh).
	s := esstore.New(c, esstore.Config{}, slog.New(slog.DiscardHandler))
	if err := s.Setup(t.Context()); err != nil {
		t.Fatalf("esstore setup: %v", err)
	}
	return &backend{Store: s, c: c}
}

// refresh makes the latest writes visible to Overdue, which searches; a
// deployment sees them within the refresh interval, far below the
// monitor's 30 s.
func (b *backend) refresh(t *testing.T) {
	t.Helper()
	if err := b.c.Refresh(context.Background(), b.c.Name(esstore.TicketsIndex)); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}
