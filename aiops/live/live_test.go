package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/anomaly"
	"github.com/switchboard-cc/switchboard/aiops/incident"
	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/aiops/monitor"
	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

func newMonitor(t *testing.T) *monitor.Monitor {
	t.Helper()
	mgr, err := alert.New(alert.Config{}, alert.Deps{Store: alert.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := monitor.New(monitor.Config{}, monitor.Deps{
		NewDetector: func(string) (monitor.Detector, error) { return anomaly.New(anomaly.DefaultConfig()) },
		Alerts:      mgr,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// openCounts reads the monitor's counts of the interval still open.
func openCounts(t *testing.T, m *monitor.Monitor) map[string]float64 {
	t.Helper()
	b, err := m.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Counts map[string]float64 `json:"counts"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st.Counts
}

// TestFeederReadsStoresAndResumes writes tickets, calls and logs into a
// real Elasticsearch, feeds them to the monitor, then restarts the feeder
// from its saved state: nothing is read twice and new documents are.
func TestFeederReadsStoresAndResumes(t *testing.T) {
	ctx := context.Background()
	c := estest.Client(t)
	log := slog.New(slog.DiscardHandler)
	st := settings.New(c)
	store := calls.New(c, calls.Config{}, log)
	if err := c.Ensure(ctx, log, st.Index(), store.Index()); err != nil {
		t.Fatal(err)
	}
	if err := esstore.New(c, esstore.DefaultConfig(), log).Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := eslog.New(c, eslog.Config{Service: "test"}).Setup(ctx); err != nil {
		t.Fatal(err)
	}
	// "now" is 12:03:30; the monitor's clock runs a minute behind, so the
	// 5-minute interval from 12:00 stays open and its counts are visible.
	now := time.Date(2026, 11, 24, 12, 3, 30, 0, time.UTC)
	write := func(base time.Time) {
		for i := range 3 {
			doc := map[string]any{"id": fmt.Sprintf("t%s-%d", base.Format("1504"), i), "subject": "支付失败", "channel": "email",
				"created_at": base.Add(time.Duration(i) * time.Second), "category": map[string]any{"label": "payment_problem"}}
			if err := c.Do(ctx, http.MethodPut, "/"+c.Name("tickets")+"/_doc/"+doc["id"].(string)+"?refresh=true", doc, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.Put(ctx, &calls.Record{ID: "c" + base.Format("1504"), Started: base,
			Recognitions: []calls.Recognition{{Intent: "order_status"}}}); err != nil {
			t.Fatal(err)
		}
		in := logs.New(c, nil, logs.Config{})
		var lines []string
		for i := range 4 {
			lines = append(lines, fmt.Sprintf(`{"@timestamp":%q,"message":"timeout %d","log.level":"error","service.name":"payment-gw"}`,
				base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i))
		}
		lines = append(lines, fmt.Sprintf(`{"@timestamp":%q,"message":"fine","log.level":"info","service.name":"payment-gw"}`, base.Format(time.RFC3339)))
		if _, err := in.Ingest(ctx, strings.NewReader(strings.Join(lines, "\n")), logs.Defaults{}); err != nil {
			t.Fatal(err)
		}
		for _, idx := range []string{c.Name("tickets"), c.Name("logs") + "-*", c.Name("calls")} {
			if err := c.Refresh(ctx, idx); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(now.Add(-3 * time.Minute)) // 12:00:30

	m1 := newMonitor(t)
	f1 := New(c, m1, nil, st, Config{Batch: 2}, nil) // tiny pages: the paging is exercised
	f1.now = func() time.Time { return now }
	if err := f1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f1.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"tickets": 3, "tickets{category=payment_problem}": 3, "calls": 1, "log_errors{service=payment-gw}": 4}
	got := openCounts(t, m1)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("after the first poll %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}

	// A restart: a new monitor and feeder resume from the saved state.
	write(now.Add(-2 * time.Minute)) // 12:01:30, arrives after the first poll
	m2 := newMonitor(t)
	f2 := New(c, m2, nil, st, Config{Batch: 2}, nil)
	f2.now = func() time.Time { return now }
	if err := f2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f2.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got = openCounts(t, m2)
	for k, v := range want {
		if got[k] != 2*v {
			t.Errorf("after the restart %s = %v, want %v: the first batch once, the new one once", k, got[k], 2*v)
		}
	}
}

// seenTickets is the real monitor, recording the tickets it is given.
type seenTickets struct {
	*monitor.Monitor
	got []incident.Ticket
}

func (s *seenTickets) Ticket(ctx context.Context, t incident.Ticket) (int, error) {
	s.got = append(s.got, t)
	return s.Monitor.Ticket(ctx, t)
}

// TestFeederDropsUnreadableVectors: a ticket whose text the embedding model
// could not read reaches the clustering without its vector; the others
// keep theirs.
func TestFeederDropsUnreadableVectors(t *testing.T) {
	ctx := context.Background()
	c := estest.Client(t)
	log := slog.New(slog.DiscardHandler)
	st := settings.New(c)
	if err := c.Ensure(ctx, log, st.Index()); err != nil {
		t.Fatal(err)
	}
	if err := esstore.New(c, esstore.Config{EmbeddingDims: 3}, log).Setup(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 3, 30, 0, time.UTC)
	for i, subject := range []string{"payment failed", "支付失败"} {
		doc := map[string]any{"id": fmt.Sprint("t", i), "subject": subject, "channel": "chat",
			"created_at": now.Add(-3 * time.Minute), "embedding": []float32{1, 0, 0}}
		if err := c.Do(ctx, http.MethodPut, "/"+c.Name("tickets")+"/_doc/"+doc["id"].(string)+"?refresh=true", doc, nil); err != nil {
			t.Fatal(err)
		}
	}
	mon := &seenTickets{Monitor: newMonitor(t)}
	latin := func(text string) bool { return !strings.ContainsRune(text, '支') }
	f := New(c, mon, nil, st, Config{Readable: latin}, nil)
	f.now = func() time.Time { return now }
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(mon.got) != 2 {
		t.Fatalf("monitor got %d tickets, want 2", len(mon.got))
	}
	for _, tk := range mon.got {
		if want := tk.Text == "payment failed"; (tk.Vector != nil) != want {
			t.Errorf("%q: vector %v, want one: %v", tk.Text, tk.Vector, want)
		}
	}
}
