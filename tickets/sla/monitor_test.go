package sla_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/sla"
)

const monitorPolicies = `
policies:
  - name: default
    match: {}
    first_response: 1h
    resolution: 4h
escalation:
  raise_priority: true
  notify: [supervisors]
`

// clock is a settable clock shared by the services and monitors of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// events records what the Service publishes.
type events struct {
	mu  sync.Mutex
	evs []tickets.Event
}

func (e *events) Publish(_ context.Context, ev tickets.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
	return nil
}

func (e *events) ofType(typ tickets.EventType) []tickets.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []tickets.Event
	for _, ev := range e.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// env is one deployment: a store, a clock and policies shared by any
// number of replicas.
type env struct {
	store  *backend
	clock  *clock
	policy *sla.Holder
	events *events
	ids    atomic.Int64
	t0     time.Time
}

func newEnv(t *testing.T, policies string) *env {
	t.Helper()
	p, err := sla.Parse([]byte(policies))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return &env{store: newBackend(t), clock: &clock{t: t0}, policy: sla.NewHolder(p), events: &events{}, t0: t0}
}

// service returns one replica's Service; store defaults to the env's.
func (e *env) service(t *testing.T, store tickets.Store) *tickets.Service {
	t.Helper()
	if store == nil {
		store = e.store
	}
	s, err := tickets.New(tickets.DefaultConfig(), tickets.Deps{
		Store: store, Sequencer: e.store, SLA: e.policy, Publisher: e.events, Now: e.clock.Now,
		NewID: func() string { return fmt.Sprintf("T%d", e.ids.Add(1)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) monitor(t *testing.T, u sla.Updater, f sla.Finder) *sla.Monitor {
	t.Helper()
	if f == nil {
		f = e.store
	}
	m, err := sla.NewMonitor(sla.MonitorConfig{}, sla.MonitorDeps{Finder: f, Updater: u, Policies: e.policy, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) open(t *testing.T, s *tickets.Service, p tickets.Priority) *tickets.Ticket {
	t.Helper()
	tk, _, err := s.Create(t.Context(), "agent:ann", tickets.NewTicket{
		Channel: tickets.ChannelChat, Customer: tickets.Customer{Name: "Li Lei"}, Subject: "where is my parcel", Priority: p,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func countActions(t *tickets.Ticket, action string) int {
	n := 0
	for _, c := range t.History {
		if c.Action == action {
			n++
		}
	}
	return n
}

func TestMonitorTick(t *testing.T) {
	noRaise := `
policies:
  - name: default
    match: {}
    first_response: 1h
    resolution: 4h
escalation:
  notify: [supervisors]
`
	tests := []struct {
		name     string
		policies string
		open     tickets.Priority
		// prepare runs at t0+30m, before the first tick.
		prepare func(t *testing.T, s *tickets.Service, id string)
		// ticks are offsets from t0; want is the result of each.
		ticks []time.Duration
		want  []sla.Result
		// final state
		priority    tickets.Priority
		level       int
		frBreached  bool
		resBreached bool
	}{
		{
			name: "not due yet", policies: monitorPolicies, open: tickets.PriorityNormal,
			ticks: []time.Duration{30 * time.Minute}, want: []sla.Result{{}},
			priority: tickets.PriorityNormal,
		},
		{
			name: "each breach escalated once, one step each", policies: monitorPolicies, open: tickets.PriorityNormal,
			ticks:    []time.Duration{90 * time.Minute, 91 * time.Minute, 5 * time.Hour, 6 * time.Hour},
			want:     []sla.Result{{Checked: 1, Breached: 1, Escalated: 1}, {}, {Checked: 1, Breached: 1, Escalated: 1}, {}},
			priority: tickets.PriorityUrgent, level: 2, frBreached: true, resBreached: true,
		},
		{
			name: "both clocks missed at once: one escalation", policies: monitorPolicies, open: tickets.PriorityLow,
			ticks:    []time.Duration{5 * time.Hour, 6 * time.Hour},
			want:     []sla.Result{{Checked: 1, Breached: 1, Escalated: 1}, {}},
			priority: tickets.PriorityNormal, level: 1, frBreached: true, resBreached: true,
		},
		{
			name: "a public reply stops the first-response clock", policies: monitorPolicies, open: tickets.PriorityNormal,
			prepare: func(t *testing.T, s *tickets.Service, id string) {
				if _, _, err := s.Comment(t.Context(), id, tickets.UpdateOptions{Actor: "agent:ann"}, tickets.NewComment{Body: "on it", Public: true}); err != nil {
					t.Fatal(err)
				}
			},
			ticks:    []time.Duration{2 * time.Hour, 5 * time.Hour},
			want:     []sla.Result{{}, {Checked: 1, Breached: 1, Escalated: 1}},
			priority: tickets.PriorityHigh, level: 1, resBreached: true,
		},
		{
			name: "a resolved ticket is not breached", policies: monitorPolicies, open: tickets.PriorityNormal,
			prepare: func(t *testing.T, s *tickets.Service, id string) {
				if _, _, err := s.Transition(t.Context(), id, tickets.UpdateOptions{Actor: "agent:ann"}, tickets.StatusResolved, "answered"); err != nil {
					t.Fatal(err)
				}
			},
			ticks: []time.Duration{5 * time.Hour}, want: []sla.Result{{}},
			priority: tickets.PriorityNormal,
		},
		{
			name: "urgent cannot rise: the level still counts", policies: monitorPolicies, open: tickets.PriorityUrgent,
			ticks: []time.Duration{2 * time.Hour}, want: []sla.Result{{Checked: 1, Breached: 1, Escalated: 1}},
			priority: tickets.PriorityUrgent, level: 1, frBreached: true,
		},
		{
			name: "raise_priority off", policies: noRaise, open: tickets.PriorityNormal,
			ticks: []time.Duration{2 * time.Hour}, want: []sla.Result{{Checked: 1, Breached: 1, Escalated: 1}},
			priority: tickets.PriorityNormal, level: 1, frBreached: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.policies)
			s := e.service(t, nil)
			tk := e.open(t, s, tt.open)
			e.clock.Set(e.t0.Add(30 * time.Minute))
			if tt.prepare != nil {
				tt.prepare(t, s, tk.ID)
			}
			m := e.monitor(t, s, nil)
			for i, at := range tt.ticks {
				e.clock.Set(e.t0.Add(at))
				e.store.refresh(t)
				got, err := m.Tick(t.Context())
				if err != nil {
					t.Fatalf("tick %d: %v", i, err)
				}
				if got != tt.want[i] {
					t.Errorf("tick %d at t0+%v = %+v, want %+v", i, at, got, tt.want[i])
				}
			}
			final, _, err := s.Get(t.Context(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			sl := final.SLA
			if final.Priority != tt.priority || sl.EscalationLevel != tt.level ||
				sl.FirstResponseBreached != tt.frBreached || sl.ResolutionBreached != tt.resBreached {
				t.Errorf("final priority %s, SLA %+v; want priority %s, level %d, breached first response %v, resolution %v",
					final.Priority, sl, tt.priority, tt.level, tt.frBreached, tt.resBreached)
			}
			breaches := 0
			for _, b := range []bool{tt.frBreached, tt.resBreached} {
				if b {
					breaches++
				}
			}
			if n := countActions(final, "sla_breach"); n != breaches {
				t.Errorf("history has %d sla_breach entries, want %d: %+v", n, breaches, final.History)
			}
			if n := countActions(final, "escalation"); n != tt.level {
				t.Errorf("history has %d escalation entries, want %d: %+v", n, tt.level, final.History)
			}
			if tt.level > 0 && (sl.EscalatedAt == nil || sl.EscalatedAt.Before(e.t0)) {
				t.Errorf("EscalatedAt = %v", sl.EscalatedAt)
			}
			for _, c := range final.History {
				if (c.Action == "sla_breach" || c.Action == "escalation") && c.Actor != sla.Actor {
					t.Errorf("history entry %+v not by %s", c, sla.Actor)
				}
			}
			evs := e.events.ofType(tickets.EventSLABreached)
			wantEvents := 0
			for _, r := range tt.want {
				wantEvents += r.Breached
			}
			if len(evs) != wantEvents {
				t.Errorf("published %d breach events, want %d", len(evs), wantEvents)
			}
			for _, ev := range evs {
				if !slices.Equal(ev.Notify, []string{"supervisors"}) {
					t.Errorf("breach event notifies %v, want [supervisors]", ev.Notify)
				}
			}
		})
	}
}

// staleFinder reports fixed ids, like an index that has not caught up.
type staleFinder []string

func (f staleFinder) Overdue(context.Context, time.Time, int) ([]string, error) { return f, nil }

func TestMonitorRechecksTheTicket(t *testing.T) {
	e := newEnv(t, monitorPolicies)
	s := e.service(t, nil)
	tk := e.open(t, s, tickets.PriorityNormal)
	// Reported overdue, but not: nothing is written.
	m := e.monitor(t, s, staleFinder{tk.ID, "no-such-ticket"})
	got, err := m.Tick(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got != (sla.Result{Checked: 2}) {
		t.Errorf("Tick = %+v, want 2 checked and nothing breached", got)
	}
	after, _, err := s.Get(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.History) != len(tk.History) || after.SLA.Breached() {
		t.Errorf("ticket changed: %+v", after)
	}
}

// gatedStore holds the first n reads until all n have happened, so that
// n replicas surely read the same version and race to write it.
type gatedStore struct {
	tickets.Store
	reads atomic.Int64
	n     int64
	all   sync.WaitGroup
}

func newGatedStore(s tickets.Store, n int) *gatedStore {
	g := &gatedStore{Store: s, n: int64(n)}
	g.all.Add(n)
	return g
}

func (g *gatedStore) Get(ctx context.Context, id string) (*tickets.Ticket, tickets.Version, error) {
	t, v, err := g.Store.Get(ctx, id)
	if g.reads.Add(1) <= g.n {
		g.all.Done()
		g.all.Wait()
	}
	return t, v, err
}

func TestMonitorNoDoubleEscalation(t *testing.T) {
	e := newEnv(t, monitorPolicies)
	tk := e.open(t, e.service(t, nil), tickets.PriorityNormal)
	e.clock.Set(e.t0.Add(2 * time.Hour))
	e.store.refresh(t)

	// Two replicas, each with its own Service and Monitor, tick at once.
	const replicas = 2
	gate := newGatedStore(e.store, replicas)
	var wg sync.WaitGroup
	results := make([]sla.Result, replicas)
	for i := range replicas {
		m := e.monitor(t, e.service(t, gate), nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if results[i], err = m.Tick(t.Context()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	final, _, err := e.store.Get(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := countActions(final, "escalation"); n != 1 {
		t.Errorf("history has %d escalation entries, want 1: %+v", n, final.History)
	}
	if n := countActions(final, "sla_breach"); n != 1 {
		t.Errorf("history has %d sla_breach entries, want 1", n)
	}
	if final.Priority != tickets.PriorityHigh || final.SLA.EscalationLevel != 1 {
		t.Errorf("priority %s, level %d; want high (one step up from normal), 1", final.Priority, final.SLA.EscalationLevel)
	}
	if esc := results[0].Escalated + results[1].Escalated; esc != 1 {
		t.Errorf("replicas report %d escalations (%+v), want 1", esc, results)
	}
	if n := len(e.events.ofType(tickets.EventSLABreached)); n != 1 {
		t.Errorf("%d breach events published, want 1", n)
	}
	if gate.reads.Load() <= replicas {
		t.Errorf("only %d reads: the losing replica never re-read the ticket", gate.reads.Load())
	}
}

func TestNewMonitor(t *testing.T) {
	h := sla.NewHolder(nil)
	var u sla.Updater = &tickets.Service{}
	tests := []struct {
		name string
		cfg  sla.MonitorConfig
		deps sla.MonitorDeps
	}{
		{"no finder", sla.MonitorConfig{}, sla.MonitorDeps{Updater: u, Policies: h}},
		{"no updater", sla.MonitorConfig{}, sla.MonitorDeps{Finder: staleFinder{}, Policies: h}},
		{"no policies", sla.MonitorConfig{}, sla.MonitorDeps{Finder: staleFinder{}, Updater: u}},
		{"negative interval", sla.MonitorConfig{Interval: -time.Second}, sla.MonitorDeps{Finder: staleFinder{}, Updater: u, Policies: h}},
	}
	for _, tt := range tests {
		if _, err := sla.NewMonitor(tt.cfg, tt.deps); err == nil {
			t.Errorf("%s: NewMonitor succeeded", tt.name)
		}
	}
}

// recordingFinder records when it is asked and fails every other time.
type recordingFinder struct {
	mu    sync.Mutex
	calls []time.Time
}

func (f *recordingFinder) Overdue(_ context.Context, now time.Time, _ int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, now)
	if len(f.calls)%2 == 0 {
		return nil, errors.New("index unavailable")
	}
	return nil, nil
}

func TestMonitorRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		f := &recordingFinder{}
		m, err := sla.NewMonitor(sla.MonitorConfig{}, sla.MonitorDeps{
			Finder: f, Updater: &tickets.Service{}, Policies: sla.NewHolder(nil),
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(95 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil after cancellation", err)
		}
		// A pass at once, then every 30 s (the default), failures or not.
		var offsets []time.Duration
		for _, c := range f.calls {
			offsets = append(offsets, c.Sub(start))
		}
		if want := []time.Duration{0, 30 * time.Second, 60 * time.Second, 90 * time.Second}; !slices.Equal(offsets, want) {
			t.Errorf("passes at %v, want %v", offsets, want)
		}
		if n := bytes.Count(logs.Bytes(), []byte("SLA pass failed")); n != 2 {
			t.Errorf("logged %d failed passes, want 2:\n%s", n, logs.String())
		}
	})
}
