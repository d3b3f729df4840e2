package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config tunes the Manager.
type Config struct {
	// Cooldown is how long after a resolve a raise with the same key is
	// suppressed (counted into the resolved alert, not notified), so a
	// flapping condition does not page again and again. Default 10 min;
	// negative disables.
	Cooldown time.Duration
	// EscalateAfter is how long a firing alert may stay unacknowledged
	// before the escalation channels are notified, once. Default 15 min.
	EscalateAfter time.Duration
	// CheckEvery is how often Run looks for alerts to escalate. Default
	// 30 s.
	CheckEvery time.Duration
	// NotifyResolved also tells the channels when an alert is resolved.
	NotifyResolved bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Cooldown: 10 * time.Minute, EscalateAfter: 15 * time.Minute, CheckEvery: 30 * time.Second}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Cooldown == 0 {
		c.Cooldown = d.Cooldown
	}
	if c.EscalateAfter <= 0 {
		c.EscalateAfter = d.EscalateAfter
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = d.CheckEvery
	}
	return c
}

// Validate checks c.
func (c Config) Validate() error {
	if c.EscalateAfter < 0 || c.CheckEvery < 0 {
		return fmt.Errorf("alert: %w: EscalateAfter and CheckEvery must not be negative", ErrInvalid)
	}
	return nil
}

// Deps are the Manager's collaborators.
type Deps struct {
	// Store persists alerts and their history; required.
	Store Store
	// Notifiers are told about every new alert (and resolves, with
	// Config.NotifyResolved).
	Notifiers []Notifier
	// Escalation channels are told, once, about alerts unacknowledged
	// after Config.EscalateAfter; none disables escalation.
	Escalation []Notifier
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewID makes alert ids; default UUIDv7 (time-ordered).
	NewID func() string
	// Log receives delivery failures; nil discards.
	Log *slog.Logger
}

// Manager raises, de-duplicates, escalates and closes alerts. It is safe
// for concurrent use. It keeps the open alerts and the recently resolved
// ones (for the cooldown) in memory, so exactly one Manager per cluster
// must own the alerts index: several would each notify.
//
// Notifications are sent by the call that causes them (Raise, Resolve,
// Escalate), after the state change is stored and outside the lock, so a
// slow channel delays only that caller. Detectors that must not wait
// should Raise from their own goroutine.
type Manager struct {
	cfg   Config
	store Store
	notif []Notifier
	esc   []Notifier
	now   func() time.Time
	newID func() string
	log   *slog.Logger

	mu       sync.Mutex
	open     map[string]*Alert // by key: firing or acknowledged
	resolved map[string]*Alert // by key: the last resolved, for the cooldown
}

// New returns a Manager. Call Load (Run does) before relying on
// de-duplication across restarts.
func New(cfg Config, deps Deps) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("alert: New needs a Store")
	}
	m := &Manager{
		cfg: cfg.withDefaults(), store: deps.Store, notif: deps.Notifiers, esc: deps.Escalation,
		now: deps.Now, newID: deps.NewID, log: deps.Log,
		open: map[string]*Alert{}, resolved: map[string]*Alert{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.newID == nil {
		m.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.log = m.log.With("component", "alert")
	return m, nil
}

// Load restores the open alerts and those resolved within the cooldown
// from the store, so a restart neither re-notifies nor forgets them.
func (m *Manager) Load(ctx context.Context) error {
	open, _, err := m.store.List(ctx, Query{States: []State{StateFiring, StateAcknowledged}, Size: MaxPageSize})
	if err != nil {
		return fmt.Errorf("alert: load open alerts: %w", err)
	}
	var recent []Alert
	if m.cfg.Cooldown > 0 {
		recent, _, err = m.store.List(ctx, Query{States: []State{StateResolved}, Since: m.now().Add(-m.cfg.Cooldown), Size: MaxPageSize})
		if err != nil {
			return fmt.Errorf("alert: load resolved alerts: %w", err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Lists are newest first: keep the newest alert per key.
	for i := len(recent) - 1; i >= 0; i-- {
		m.resolved[recent[i].Key] = recent[i].Clone()
	}
	for i := len(open) - 1; i >= 0; i-- {
		m.open[open[i].Key] = open[i].Clone()
	}
	return nil
}

// Raise reports a condition. A new key (or one past its cooldown) opens
// an alert and notifies the channels; a key with an open alert only counts
// into it (and notifies again only if the severity rose); a key resolved
// within the cooldown counts into the resolved alert silently. It returns
// a copy of the alert the raise landed in. ID, State, FirstAt, LastAt,
// Count and History of a are ignored.
func (m *Manager) Raise(ctx context.Context, a Alert) (*Alert, error) {
	if strings.TrimSpace(a.Key) == "" || strings.TrimSpace(a.Title) == "" {
		return nil, fmt.Errorf("alert: raise: %w: key and title are required", ErrInvalid)
	}
	if a.Severity.Rank() == 0 {
		return nil, fmt.Errorf("alert: raise %s: %w: unknown severity %q", a.Key, ErrInvalid, a.Severity)
	}
	m.mu.Lock()
	now := m.now()
	if cur, ok := m.open[a.Key]; ok {
		rose := a.Severity.Rank() > cur.Severity.Rank()
		cur.Count++
		cur.LastAt = now
		cur.Summary, cur.Evidence = a.Summary, a.Evidence
		if rose {
			cur.History = append(cur.History, Event{At: now, Kind: EventRepeated, Detail: fmt.Sprintf("severity %s → %s", cur.Severity, a.Severity)})
			cur.Severity = a.Severity
			cur.Title = a.Title
		}
		snap := cur.Clone()
		err := m.put(ctx, snap)
		m.mu.Unlock()
		if err != nil || !rose {
			return snap, err
		}
		return m.deliver(ctx, cur, KindFiring, m.notif)
	}
	if last, ok := m.resolved[a.Key]; ok && m.cfg.Cooldown > 0 && last.ResolvedAt != nil && now.Before(last.ResolvedAt.Add(m.cfg.Cooldown)) {
		last.Count++
		last.LastAt = now
		last.History = append(last.History, Event{At: now, Kind: EventSuppressed, Detail: "raised again within the cooldown"})
		snap := last.Clone()
		err := m.put(ctx, snap)
		m.mu.Unlock()
		return snap, err
	}
	delete(m.resolved, a.Key)
	n := a.Clone()
	n.ID = m.newID()
	n.State = StateFiring
	n.FirstAt, n.LastAt = now, now
	n.Count = 1
	n.AckBy, n.AckAt, n.ResolvedBy, n.ResolvedAt, n.EscalatedAt = "", nil, "", nil, nil
	n.History = []Event{{At: now, Kind: EventRaised}}
	m.open[n.Key] = n
	err := m.put(ctx, n.Clone())
	m.mu.Unlock()
	if err != nil {
		return n.Clone(), err
	}
	return m.deliver(ctx, n, KindFiring, m.notif)
}

// Acknowledge marks the open alert id as being handled by by, which stops
// its escalation. Acknowledging an acknowledged alert changes nothing; a
// resolved one is ErrConflict.
func (m *Manager) Acknowledge(ctx context.Context, id, by string) (*Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, err := m.find(ctx, id)
	if err != nil {
		return nil, err
	}
	switch a.State {
	case StateAcknowledged:
		return a.Clone(), nil
	case StateResolved:
		return nil, fmt.Errorf("alert: acknowledge %s: %w: it is resolved", id, ErrConflict)
	}
	now := m.now()
	a.State, a.AckBy, a.AckAt = StateAcknowledged, by, &now
	a.History = append(a.History, Event{At: now, Kind: EventAcknowledged, By: by})
	snap := a.Clone()
	return snap, m.put(ctx, snap)
}

// Resolve closes the open alert id; the key's cooldown starts now.
// Resolving a resolved alert is ErrConflict.
func (m *Manager) Resolve(ctx context.Context, id, by string) (*Alert, error) {
	m.mu.Lock()
	a, err := m.find(ctx, id)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	if a.State == StateResolved {
		m.mu.Unlock()
		return nil, fmt.Errorf("alert: resolve %s: %w: it is already resolved", id, ErrConflict)
	}
	now := m.now()
	a.State, a.ResolvedBy, a.ResolvedAt = StateResolved, by, &now
	a.History = append(a.History, Event{At: now, Kind: EventResolved, By: by})
	delete(m.open, a.Key)
	m.resolved[a.Key] = a
	snap := a.Clone()
	err = m.put(ctx, snap)
	m.mu.Unlock()
	if err != nil || !m.cfg.NotifyResolved {
		return snap, err
	}
	return m.deliver(ctx, a, KindResolved, m.notif)
}

// Get returns the alert id from the store, which holds every alert.
func (m *Manager) Get(ctx context.Context, id string) (*Alert, error) {
	return m.store.Get(ctx, id)
}

// List returns the alerts q selects from the store.
func (m *Manager) List(ctx context.Context, q Query) ([]Alert, int, error) {
	return m.store.List(ctx, q)
}

// Escalate notifies the escalation channels of every firing alert older
// than Config.EscalateAfter that has not been escalated yet, and returns
// how many it escalated. Each alert is marked before it is sent, so it is
// escalated at most once even if a channel fails.
func (m *Manager) Escalate(ctx context.Context) (int, error) {
	if len(m.esc) == 0 {
		return 0, nil
	}
	m.mu.Lock()
	now := m.now()
	var due []*Alert
	var errs []error
	for _, a := range m.open {
		if a.State != StateFiring || a.EscalatedAt != nil || now.Sub(a.FirstAt) < m.cfg.EscalateAfter {
			continue
		}
		a.EscalatedAt = &now
		a.History = append(a.History, Event{At: now, Kind: EventEscalated, Detail: fmt.Sprintf("unacknowledged for %s", now.Sub(a.FirstAt).Round(time.Second))})
		if err := m.put(ctx, a.Clone()); err != nil {
			errs = append(errs, err)
		}
		due = append(due, a)
	}
	m.mu.Unlock()
	for _, a := range due {
		if _, err := m.deliver(ctx, a, KindEscalation, m.esc); err != nil {
			errs = append(errs, err)
		}
	}
	return len(due), errors.Join(errs...)
}

// Run loads the alerts, then escalates every Config.CheckEvery until ctx
// ends. It returns ctx's error, or Load's. Escalation failures are
// logged; an alert is escalated once even if its channels fail (each
// channel retries within Notify; failures land in the alert's history).
func (m *Manager) Run(ctx context.Context) error {
	if err := m.Load(ctx); err != nil {
		return err
	}
	t := time.NewTicker(m.cfg.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := m.Escalate(ctx); err != nil && ctx.Err() == nil {
				m.log.WarnContext(ctx, "escalation", "err", err)
			}
		}
	}
}

// find returns the live alert id: the in-memory one when it is open or in
// its cooldown, else the stored one. m.mu is held.
func (m *Manager) find(ctx context.Context, id string) (*Alert, error) {
	for _, set := range []map[string]*Alert{m.open, m.resolved} {
		for _, a := range set {
			if a.ID == id {
				return a, nil
			}
		}
	}
	a, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Open() {
		// Open in the store but not here: written by an earlier process
		// and not loaded. Adopt it, so its key de-duplicates from now on.
		if cur, ok := m.open[a.Key]; ok && cur.ID != a.ID {
			return nil, fmt.Errorf("alert: %s: %w: another alert with key %s is open", id, ErrConflict, a.Key)
		}
		m.open[a.Key] = a
	}
	return a, nil
}

func (m *Manager) put(ctx context.Context, a *Alert) error {
	if err := m.store.Put(ctx, a); err != nil {
		return fmt.Errorf("alert: store %s: %w", a.ID, err)
	}
	return nil
}

// deliver sends a notification about live alert a to each channel,
// records the outcomes in its history and stores it. It returns a copy of
// the alert; a channel's failure is in the history and the log, not the
// error, which reports only the store.
func (m *Manager) deliver(ctx context.Context, a *Alert, kind Kind, to []Notifier) (*Alert, error) {
	m.mu.Lock()
	n := Notification{Kind: kind, Alert: *a.Clone()}
	m.mu.Unlock()
	events := make([]Event, 0, len(to))
	for _, ch := range to {
		err := ch.Notify(ctx, n)
		ev := Event{At: m.now(), Kind: EventNotified, Channel: ch.Name(), Detail: string(kind)}
		if err != nil {
			ev.Kind, ev.Detail = EventNotifyFailed, string(kind)+": "+err.Error()
			m.log.WarnContext(ctx, "notification failed", "alert_id", a.ID, "channel", ch.Name(), "kind", kind, "err", err)
		}
		events = append(events, ev)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a.History = append(a.History, events...)
	snap := a.Clone()
	return snap, m.put(ctx, snap)
}
