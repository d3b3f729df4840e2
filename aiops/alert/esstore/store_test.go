package esstore_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/alert/esstore"
	"github.com/switchboard-cc/switchboard/es/estest"
)

func newStore(t *testing.T) *esstore.Store {
	t.Helper()
	c := estest.Client(t)
	s := esstore.New(c, esstore.DefaultConfig(), nil)
	if err := c.Ensure(context.Background(), slog.New(slog.DiscardHandler), s.Index()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestManagerPersistsHistory drives a Manager on the real store through
// raise, repeat, acknowledge and resolve, and reads the full history back,
// then restarts the Manager on the same index and checks it still
// de-duplicates.
func TestManagerPersistsHistory(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m, err := alert.New(alert.Config{}, alert.Deps{Store: s, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	raise := alert.Alert{Key: "anomaly:calls:billing", Source: alert.SourceAnomaly, Severity: alert.SeverityWarning, Title: "Spike",
		Evidence: &alert.Evidence{Metric: "calls", Expected: 40, Observed: 95, Dimensions: map[string]string{"skill_group": "billing"},
			Candidates: []alert.Candidate{{Dimension: "trunk", Value: "b", Before: 3, After: 60}}, Samples: []string{"SIP 503 from trunk b"}}}
	a, err := m.Raise(ctx, raise)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := m.Raise(ctx, raise); err != nil {
		t.Fatal(err)
	}
	other := raise
	other.Key = "incident:trunk"
	if _, err := m.Raise(ctx, other); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := m.Acknowledge(ctx, a.ID, "ops1"); err != nil {
		t.Fatal(err)
	}

	// A restarted manager loads the open alerts and keeps counting.
	m2, err := alert.New(alert.Config{}, alert.Deps{Store: s, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := m2.Raise(ctx, raise); err != nil || got.ID != a.ID || got.Count != 3 {
		t.Fatalf("raise after restart: %+v, %v; want %s count 3", got, err, a.ID)
	}
	if _, err := m2.Resolve(ctx, a.ID, "ops2"); err != nil {
		t.Fatal(err)
	}

	got, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []alert.EventKind
	for _, e := range got.History {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 3 || kinds[0] != alert.EventRaised || kinds[1] != alert.EventAcknowledged || kinds[2] != alert.EventResolved {
		t.Errorf("history %v", kinds)
	}
	if got.State != alert.StateResolved || got.AckBy != "ops1" || got.ResolvedBy != "ops2" || got.Count != 3 ||
		got.Evidence == nil || got.Evidence.Candidates[0].After != 60 || got.Evidence.Samples[0] != "SIP 503 from trunk b" ||
		!got.FirstAt.Equal(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("stored alert %+v", got)
	}

	for _, tt := range []struct {
		q     alert.Query
		total int
	}{
		{alert.Query{}, 2},
		{alert.Query{States: []alert.State{alert.StateResolved}}, 1},
		{alert.Query{States: []alert.State{alert.StateFiring, alert.StateAcknowledged}}, 1},
		{alert.Query{Key: "incident:trunk"}, 1},
		{alert.Query{Since: now.Add(time.Second)}, 0},
	} {
		list, total, err := s.List(ctx, tt.q)
		if err != nil || total != tt.total || len(list) != tt.total {
			t.Errorf("List(%+v) = %d of %d, %v; want %d", tt.q, len(list), total, err, tt.total)
		}
	}
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	if _, _, err := s.List(ctx, alert.Query{States: []alert.State{"open"}}); !errors.Is(err, alert.ErrInvalid) {
		t.Errorf("bad state: %v", err)
	}
}
