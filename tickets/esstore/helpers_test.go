package esstore_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

// t0 is a Monday, so that weekly buckets start on it.
var t0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// newStore returns a store on fresh indices of the test cluster. Tests that
// search seed with seed (one bulk request and one refresh) rather than
// RefreshOnWrite, which would make every write wait for a refresh.
func newStore(t testing.TB, cfg esstore.Config) (*esstore.Store, *es.Client) {
	t.Helper()
	c := estest.Client(t)
	s := esstore.New(c, cfg, slog.New(slog.DiscardHandler))
	if err := s.Setup(context.Background()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return s, c
}

// ticket returns a valid ticket created at t0+offset, changed by mods.
func ticket(id string, offset time.Duration, mods ...func(*tickets.Ticket)) *tickets.Ticket {
	at := t0.Add(offset)
	t := &tickets.Ticket{
		ID:          id,
		Channel:     tickets.ChannelChat,
		Customer:    tickets.Customer{ID: "c-" + id, Name: "Customer " + id},
		Subject:     "ticket " + id,
		Priority:    tickets.PriorityNormal,
		Status:      tickets.StatusNew,
		CreatedAt:   at,
		UpdatedAt:   at,
		StatusSince: at,
		History:     []tickets.Change{{At: at, Actor: "test", Action: "created", To: "new"}},
	}
	for _, m := range mods {
		m(t)
	}
	return t
}

// seed stores ts in one bulk request and makes them searchable.
func seed(t testing.TB, s *esstore.Store, c *es.Client, ts ...*tickets.Ticket) {
	t.Helper()
	ctx := context.Background()
	errs, err := s.CreateMany(ctx, ts)
	if err != nil {
		t.Fatalf("CreateMany: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreateMany: ticket %s: %v", ts[i].ID, err)
		}
	}
	if err := c.Refresh(ctx, c.Name(esstore.TicketsIndex)); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}

func ids(p *tickets.Page) []string {
	out := make([]string, len(p.Tickets))
	for i, t := range p.Tickets {
		out[i] = t.ID
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
