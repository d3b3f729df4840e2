package importer_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// backend is the real storage a Run test imports into, wired as
// cmd/switchboard wires it, with the checks tests make on it.
type backend struct {
	deps importer.Deps
	st   *esstore.Store
	c    *es.Client // the client checks use; never proxied
}

// newBackend sets up the ticket indices through c and wires the importer
// to them through writeClient, which may run through a proxy. Bulk imports
// run without refresh-on-write, as the import command should.
func newBackend(t testing.TB, c, writeClient *es.Client) *backend {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	cfg := esstore.Config{RefreshOnWrite: false}
	if err := esstore.New(c, cfg, log).Setup(context.Background()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	st := esstore.New(writeClient, cfg, log)
	svc, err := tickets.New(tickets.DefaultConfig(), tickets.Deps{
		Store:     st,
		Sequencer: st,
		NewID:     func() string { return uuid.NewString() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &backend{
		st:   esstore.New(c, cfg, log),
		c:    c,
		deps: importer.Deps{Builder: svc, Sequencer: st, Writer: st},
	}
}

func (b *backend) get(t testing.TB, id string) *tickets.Ticket {
	t.Helper()
	tk, _, err := b.st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return tk
}

// counts returns how many tickets are stored and how many distinct
// external ids they have.
func (b *backend) counts(t testing.TB) (docs, distinct int64) {
	t.Helper()
	alias := b.c.Name(esstore.TicketsIndex)
	if err := b.c.Refresh(context.Background(), alias); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
		} `json:"hits"`
		Aggregations struct {
			IDs struct {
				Value int64 `json:"value"`
			} `json:"ids"`
		} `json:"aggregations"`
	}
	body := map[string]any{
		"size": 0, "track_total_hits": true,
		// Below precision_threshold the cardinality count is exact.
		"aggs": map[string]any{"ids": map[string]any{"cardinality": map[string]any{"field": "external_id", "precision_threshold": 40000}}},
	}
	if err := b.c.Do(context.Background(), http.MethodPost, "/"+alias+"/_search", body, &res); err != nil {
		t.Fatal(err)
	}
	return res.Hits.Total.Value, res.Aggregations.IDs.Value
}

// The real implementations of the interfaces the importer declares.
var (
	_ importer.Builder   = (*tickets.Service)(nil)
	_ importer.Sequencer = (*esstore.Store)(nil)
	_ importer.Writer    = (*esstore.Store)(nil)
)
