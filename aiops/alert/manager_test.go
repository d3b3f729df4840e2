package alert_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a channel that remembers what it was sent and fails while
// fail is set.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []alert.Notification
	fail error
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Notify(_ context.Context, n alert.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, n)
	return nil
}
func (r *recorder) kinds() []alert.Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var k []alert.Kind
	for _, n := range r.got {
		k = append(k, n.Kind)
	}
	return k
}

type fixture struct {
	m       *alert.Manager
	store   alert.Store
	clk     *clock
	ch, esc *recorder
}

func newFixture(t *testing.T, cfg alert.Config, store alert.Store) *fixture {
	t.Helper()
	if store == nil {
		store = alert.NewMemoryStore()
	}
	f := &fixture{store: store, clk: &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}, ch: &recorder{name: "chat"}, esc: &recorder{name: "oncall"}}
	n := 0
	m, err := alert.New(cfg, alert.Deps{
		Store: store, Notifiers: []alert.Notifier{f.ch}, Escalation: []alert.Notifier{f.esc},
		Now: f.clk.Now, NewID: func() string { n++; return fmt.Sprintf("a%d", n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

func spike(sev alert.Severity) alert.Alert {
	return alert.Alert{Key: "anomaly:calls:billing", Source: alert.SourceAnomaly, Severity: sev, Title: "Call volume spike in billing",
		Evidence: &alert.Evidence{Metric: "calls_per_minute", Expected: 40, Observed: 95, Dimensions: map[string]string{"skill_group": "billing"}}}
}

func kinds(h []alert.Event) []alert.EventKind {
	var k []alert.EventKind
	for _, e := range h {
		k = append(k, e.Kind)
	}
	return k
}

func eq[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeduplicationAndCooldown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alert.Config{Cooldown: 10 * time.Minute}, nil)
	first, err := f.m.Raise(ctx, spike(alert.SeverityWarning))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		do        func() (*alert.Alert, error)
		wantID    string
		wantState alert.State
		wantCount int
		wantSent  []alert.Kind // everything the chat channel got so far
	}{
		{"repeat counts, no notification", time.Minute, func() (*alert.Alert, error) { return f.m.Raise(ctx, spike(alert.SeverityWarning)) },
			"a1", alert.StateFiring, 2, []alert.Kind{alert.KindFiring}},
		{"a lower severity neither", time.Minute, func() (*alert.Alert, error) { return f.m.Raise(ctx, spike(alert.SeverityInfo)) },
			"a1", alert.StateFiring, 3, []alert.Kind{alert.KindFiring}},
		{"a higher severity notifies again", time.Minute, func() (*alert.Alert, error) { return f.m.Raise(ctx, spike(alert.SeverityCritical)) },
			"a1", alert.StateFiring, 4, []alert.Kind{alert.KindFiring, alert.KindFiring}},
		{"resolve", time.Minute, func() (*alert.Alert, error) { return f.m.Resolve(ctx, "a1", "ops1") },
			"a1", alert.StateResolved, 4, []alert.Kind{alert.KindFiring, alert.KindFiring}},
		{"within the cooldown: suppressed", 9 * time.Minute, func() (*alert.Alert, error) { return f.m.Raise(ctx, spike(alert.SeverityCritical)) },
			"a1", alert.StateResolved, 5, []alert.Kind{alert.KindFiring, alert.KindFiring}},
		{"after the cooldown: a new alert", time.Minute, func() (*alert.Alert, error) { return f.m.Raise(ctx, spike(alert.SeverityWarning)) },
			"a2", alert.StateFiring, 1, []alert.Kind{alert.KindFiring, alert.KindFiring, alert.KindFiring}},
	}
	if first.ID != "a1" || first.Count != 1 || first.State != alert.StateFiring {
		t.Fatalf("first raise: %+v", first)
	}
	for _, s := range steps {
		f.clk.Add(s.advance)
		a, err := s.do()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if a.ID != s.wantID || a.State != s.wantState || a.Count != s.wantCount {
			t.Fatalf("%s: got %s %s count %d, want %s %s count %d", s.name, a.ID, a.State, a.Count, s.wantID, s.wantState, s.wantCount)
		}
		if got := f.ch.kinds(); !eq(got, s.wantSent) {
			t.Fatalf("%s: chat got %v, want %v", s.name, got, s.wantSent)
		}
	}
	a1, err := f.store.Get(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	want := []alert.EventKind{alert.EventRaised, alert.EventNotified, alert.EventRepeated, alert.EventNotified, alert.EventResolved, alert.EventSuppressed}
	if got := kinds(a1.History); !eq(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
	if a1.Severity != alert.SeverityCritical || a1.ResolvedBy != "ops1" || !a1.LastAt.Equal(f.clk.Now().Add(-time.Minute)) {
		t.Errorf("stored a1: %+v", a1)
	}
}

func TestEscalation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alert.Config{EscalateAfter: 15 * time.Minute}, nil)
	if _, err := f.m.Raise(ctx, spike(alert.SeverityCritical)); err != nil {
		t.Fatal(err)
	}
	other := spike(alert.SeverityWarning)
	other.Key = "incident:sip-trunk"
	if _, err := f.m.Raise(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Acknowledge(ctx, "a2", "ops2"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		advance time.Duration
		want    int
	}{
		{14 * time.Minute, 0}, // not yet
		{time.Minute, 1},      // a1 only: a2 is acknowledged
		{time.Hour, 0},        // once
	} {
		f.clk.Add(s.advance)
		n, err := f.m.Escalate(ctx)
		if err != nil || n != s.want {
			t.Fatalf("after %v: escalated %d (%v), want %d", s.advance, n, err, s.want)
		}
	}
	if got := f.esc.kinds(); !eq(got, []alert.Kind{alert.KindEscalation}) {
		t.Fatalf("escalation channel got %v", got)
	}
	if id := f.esc.got[0].Alert.ID; id != "a1" {
		t.Errorf("escalated %s, want a1", id)
	}
	a1, _ := f.store.Get(ctx, "a1")
	if a1.EscalatedAt == nil || kinds(a1.History)[len(a1.History)-1] != alert.EventNotified || a1.History[len(a1.History)-1].Channel != "oncall" {
		t.Errorf("a1 after escalation: %+v", a1)
	}
}

func TestNotifyFailureIsRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alert.Config{}, nil)
	f.ch.fail = errors.New("HTTP 500")
	a, err := f.m.Raise(ctx, spike(alert.SeverityWarning))
	if err != nil {
		t.Fatal(err)
	}
	last := a.History[len(a.History)-1]
	if last.Kind != alert.EventNotifyFailed || last.Channel != "chat" {
		t.Errorf("last event %+v, want notify_failed on chat", last)
	}
}

func TestStateErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alert.Config{}, nil)
	if _, err := f.m.Raise(ctx, alert.Alert{Key: "k", Severity: alert.SeverityInfo}); !errors.Is(err, alert.ErrInvalid) {
		t.Errorf("raise without title: %v", err)
	}
	if _, err := f.m.Raise(ctx, alert.Alert{Key: "k", Title: "t", Severity: "loud"}); !errors.Is(err, alert.ErrInvalid) {
		t.Errorf("raise with unknown severity: %v", err)
	}
	if _, err := f.m.Acknowledge(ctx, "nope", "x"); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("ack unknown: %v", err)
	}
	if _, err := f.m.Raise(ctx, spike(alert.SeverityInfo)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Resolve(ctx, "a1", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Acknowledge(ctx, "a1", "x"); !errors.Is(err, alert.ErrConflict) {
		t.Errorf("ack resolved: %v", err)
	}
	if _, err := f.m.Resolve(ctx, "a1", "x"); !errors.Is(err, alert.ErrConflict) {
		t.Errorf("resolve resolved: %v", err)
	}
}

// TestLoadRestoresDeduplication: a new Manager on the same store keeps
// counting into the open alert instead of notifying again.
func TestLoadRestoresDeduplication(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alert.Config{}, nil)
	if _, err := f.m.Raise(ctx, spike(alert.SeverityWarning)); err != nil {
		t.Fatal(err)
	}
	g := newFixture(t, alert.Config{}, f.store)
	if err := g.m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := g.m.Raise(ctx, spike(alert.SeverityWarning))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "a1" || a.Count != 2 || len(g.ch.kinds()) != 0 {
		t.Errorf("after restart: %s count %d, %d notifications; want a1 count 2, none", a.ID, a.Count, len(g.ch.kinds()))
	}
}

// TestRunEscalates runs the loop in a synctest bubble, where time.Now and
// the ticker share the fake clock.
func TestRunEscalates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		esc := &recorder{name: "oncall"}
		m, err := alert.New(alert.Config{EscalateAfter: 5 * time.Minute, CheckEvery: 30 * time.Second},
			alert.Deps{Store: alert.NewMemoryStore(), Escalation: []alert.Notifier{esc}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		if _, err := m.Raise(ctx, spike(alert.SeverityCritical)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4*time.Minute + 50*time.Second)
		synctest.Wait()
		if len(esc.kinds()) != 0 {
			t.Fatal("escalated before EscalateAfter")
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if got := esc.kinds(); !eq(got, []alert.Kind{alert.KindEscalation}) {
			t.Fatalf("escalation channel got %v", got)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	})
}
