package esstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCreateGetReplace walks one store through the optimistic-concurrency
// contract that tickets.Service relies on.
func TestCreateGetReplace(t *testing.T) {
	s, _ := newStore(t, esstore.Config{})
	ctx := context.Background()
	full := ticket("full", 0, func(t *tickets.Ticket) {
		t.Subject = "退款申请 refund"
		t.Category = &tickets.Category{Label: "refund", Confidence: 0.9, ModelVersion: "m1", Source: tickets.SourceAuto}
		t.Sentiment = &tickets.Sentiment{Label: "negative", Score: 0.8, EscalationRisk: true}
		t.Tags = []string{"VIP"}
		t.Related = map[string]any{"orders": []any{map[string]any{"id": "o-1", "total": 12.5}}}
		t.Comments = []tickets.Comment{{ID: "c1", Author: "agent", Public: true, Body: "我们会处理", CreatedAt: t0.Add(time.Minute)}}
		t.SLA = tickets.SLA{Policy: "std", FirstResponseDue: ptr(t0.Add(time.Hour)), ResolutionBreached: true}
		t.Metrics.FirstResponseSeconds = ptr(60.0)
		t.FirstResponseAt = ptr(t0.Add(time.Minute))
	})
	odd := ticket("a/b c?d#e%f", 0)

	for _, tk := range []*tickets.Ticket{full, odd} {
		v, err := s.Create(ctx, tk)
		if err != nil {
			t.Fatalf("Create %q: %v", tk.ID, err)
		}
		got, gv, err := s.Get(ctx, tk.ID)
		if err != nil {
			t.Fatalf("Get %q: %v", tk.ID, err)
		}
		if gv != v {
			t.Errorf("Get %q: version %+v, Create returned %+v", tk.ID, gv, v)
		}
		if g, w := jsonOf(t, got), jsonOf(t, tk); g != w {
			t.Errorf("Get %q round trip:\n got %s\nwant %s", tk.ID, g, w)
		}
	}

	if _, err := s.Create(ctx, ticket("full", time.Hour)); !errors.Is(err, tickets.ErrConflict) {
		t.Errorf("second Create of an id: %v, want ErrConflict", err)
	}
	if _, _, err := s.Get(ctx, "missing"); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}

	_, v1, err := s.Get(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	changed := *full
	changed.Status = tickets.StatusOpen
	v2, err := s.Replace(ctx, &changed, v1)
	if err != nil {
		t.Fatalf("Replace at current version: %v", err)
	}
	if v2 == v1 {
		t.Errorf("Replace kept version %+v", v2)
	}
	tests := []struct {
		name string
		t    *tickets.Ticket
		v    tickets.Version
		want error
	}{
		{"stale version", &changed, v1, tickets.ErrConflict},
		{"zero version", &changed, tickets.Version{}, tickets.ErrConflict},
		{"missing ticket", ticket("missing", 0), v2, tickets.ErrNotFound},
		{"no id", ticket("", 0), v2, tickets.ErrInvalid},
		{"current version", &changed, v2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Replace(ctx, tt.t, tt.v)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Replace: %v, want %v", err, tt.want)
			}
		})
	}
	got, _, err := s.Get(ctx, "full")
	if err != nil || got.Status != tickets.StatusOpen {
		t.Errorf("after Replace: status %v, err %v; want open", got.Status, err)
	}
	if _, _, err := s.Get(ctx, "missing"); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("a failed Replace created the ticket: %v", err)
	}
}

// TestRefreshOnWrite: with the default configuration a created or replaced
// ticket is found by the very next search.
func TestRefreshOnWrite(t *testing.T) {
	s, _ := newStore(t, esstore.DefaultConfig())
	ctx := context.Background()
	tk := ticket("r1", 0, func(t *tickets.Ticket) { t.Subject = "printer on fire" })
	v, err := s.Create(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Search(ctx, tickets.Query{Text: "printer fire"})
	if err != nil || len(p.Tickets) != 1 {
		t.Fatalf("search right after Create: %v, %v; want the ticket", p, err)
	}
	tk.Status = tickets.StatusOpen
	if _, err := s.Replace(ctx, tk, v); err != nil {
		t.Fatal(err)
	}
	p, err = s.Search(ctx, tickets.Query{Status: []tickets.Status{tickets.StatusOpen}})
	if err != nil || len(p.Tickets) != 1 {
		t.Fatalf("search right after Replace: %v, %v; want the ticket", p, err)
	}
}

func TestCreateManyIsIdempotent(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	ctx := context.Background()
	var batch []*tickets.Ticket
	for i := range 25 {
		batch = append(batch, ticket(string(rune('a'+i)), time.Duration(i)*time.Minute))
	}
	errs, err := s.CreateMany(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("first import, item %d: %v", i, err)
		}
	}
	// Re-running the import plus one new ticket and one broken entry.
	again := append(slices.Clone(batch), ticket("new", 0), nil)
	errs, err = s.CreateMany(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != len(again) {
		t.Fatalf("%d errors for %d tickets", len(errs), len(again))
	}
	for i := range batch {
		if !errors.Is(errs[i], tickets.ErrConflict) {
			t.Errorf("second import, item %d: %v, want ErrConflict", i, errs[i])
		}
	}
	if errs[len(batch)] != nil {
		t.Errorf("new ticket in second import: %v", errs[len(batch)])
	}
	if !errors.Is(errs[len(batch)+1], tickets.ErrInvalid) {
		t.Errorf("nil ticket: %v, want ErrInvalid", errs[len(batch)+1])
	}
	if err := c.Refresh(ctx, c.Name(esstore.TicketsIndex)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Search(ctx, tickets.Query{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 26 {
		t.Errorf("after two imports: %d tickets, want 26", p.Total)
	}
	if errs, err := s.CreateMany(ctx, nil); err != nil || len(errs) != 0 {
		t.Errorf("empty batch: %v, %v", errs, err)
	}
}

// TestReserveConcurrently: concurrent reservations, as from several
// replicas, never hand out a number twice and leave no gaps.
func TestReserveConcurrently(t *testing.T) {
	s, _ := newStore(t, esstore.Config{})
	ctx := context.Background()
	const workers, each = 20, 10
	got := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				n, err := s.Reserve(ctx, "ticket", 1)
				if err != nil {
					t.Error(err)
					return
				}
				got <- n
			}
		})
	}
	wg.Wait()
	close(got)
	var nums []int64
	for n := range got {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	if len(nums) != workers*each {
		t.Fatalf("got %d numbers, want %d", len(nums), workers*each)
	}
	for i, n := range nums {
		if n != int64(i+1) {
			t.Fatalf("numbers are not 1..%d: position %d holds %d", workers*each, i, n)
		}
	}
}

func TestReserve(t *testing.T) {
	s, _ := newStore(t, esstore.Config{})
	ctx := context.Background()
	tests := []struct {
		name    string
		seq     string
		n       int64
		want    int64
		wantErr error
	}{
		{"first number is 1", "ticket", 1, 1, nil},
		{"next", "ticket", 1, 2, nil},
		{"a block", "ticket", 10, 3, nil},
		{"after the block", "ticket", 1, 13, nil},
		{"sequences are independent", "import", 5, 1, nil},
		{"odd name", "a/b c", 1, 1, nil},
		{"zero", "ticket", 0, 0, tickets.ErrInvalid},
		{"no name", "", 1, 0, tickets.ErrInvalid},
	}
	for _, tt := range tests {
		got, err := s.Reserve(ctx, tt.seq, tt.n)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || got != tt.want {
			t.Errorf("%s: Reserve(%q, %d) = %d, %v; want %d, %v", tt.name, tt.seq, tt.n, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestUnavailable: when the cluster cannot be reached every operation fails
// with tickets.ErrUnavailable, which the API answers with 503.
func TestUnavailable(t *testing.T) {
	c, err := es.New(es.Config{URLs: []string{"http://127.0.0.1:1"}, Prefix: "down", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := esstore.New(c, esstore.DefaultConfig(), slog.New(slog.DiscardHandler))
	ctx := context.Background()
	ops := map[string]func() error{
		"Create": func() error { _, err := s.Create(ctx, ticket("x", 0)); return err },
		"Get":    func() error { _, _, err := s.Get(ctx, "x"); return err },
		"Replace": func() error {
			_, err := s.Replace(ctx, ticket("x", 0), tickets.Version{SeqNo: 1, PrimaryTerm: 1})
			return err
		},
		"Search":     func() error { _, err := s.Search(ctx, tickets.Query{Text: "x"}); return err },
		"Stats":      func() error { _, err := s.Stats(ctx, tickets.StatsQuery{From: t0, To: t0.Add(time.Hour)}); return err },
		"Reserve":    func() error { _, err := s.Reserve(ctx, "ticket", 1); return err },
		"CreateMany": func() error { _, err := s.CreateMany(ctx, []*tickets.Ticket{ticket("x", 0)}); return err },
		"Overdue":    func() error { _, err := s.Overdue(ctx, t0, 10); return err },
		"Setup":      func() error { return s.Setup(ctx) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each waits out the client's retries
			if err := op(); !errors.Is(err, tickets.ErrUnavailable) {
				t.Errorf("with the cluster down: %v, want ErrUnavailable", err)
			}
		})
	}
}
