// Package alert is the vocabulary and the service of AIOps alerting: the
// Alert with its evidence and history, the Manager that de-duplicates
// raised alerts by key, holds a cooldown after a resolve, escalates what
// nobody acknowledges and notifies channels, and the small Store and
// Notifier interfaces it needs. Channels live in alert/notify, the
// Elasticsearch store in alert/esstore, the HTTP API in alert/alertapi.
package alert

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"
)

// Errors callers branch on.
var (
	// ErrNotFound: no alert has the id.
	ErrNotFound = errors.New("alert: not found")
	// ErrInvalid: an alert or query the manager refuses (the caller's fault).
	ErrInvalid = errors.New("alert: invalid")
	// ErrConflict: the alert's state does not allow the operation, e.g.
	// acknowledging a resolved alert.
	ErrConflict = errors.New("alert: conflict")
)

// Source says what raised an alert.
type Source string

// Sources.
const (
	SourceAnomaly  Source = "anomaly"
	SourceIncident Source = "incident"
)

// Severity orders alerts by urgency.
type Severity string

// Severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: info 1, warning 2, critical 3, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityCritical:
		return 3
	}
	return 0
}

// State is where an alert is in its life: firing → acknowledged →
// resolved, or firing → resolved.
type State string

// States.
const (
	StateFiring       State = "firing"
	StateAcknowledged State = "acknowledged"
	StateResolved     State = "resolved"
)

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	return s == StateFiring || s == StateAcknowledged || s == StateResolved
}

// Candidate is one root-cause candidate: a dimension value whose share of
// the metric changed, with its counts before and during the anomaly.
type Candidate struct {
	Dimension string  `json:"dimension"`
	Value     string  `json:"value"`
	Before    int64   `json:"before"`
	After     int64   `json:"after"`
	Score     float64 `json:"score,omitempty"`
}

// Evidence is why an alert fired, structured so channels and the console
// can render it and a later analysis can query it.
type Evidence struct {
	// Metric is what was measured, e.g. "calls_per_minute".
	Metric   string  `json:"metric,omitempty"`
	Expected float64 `json:"expected"`
	Observed float64 `json:"observed"`
	// Dimensions narrow the metric, e.g. {"skill_group": "billing"}.
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Candidates []Candidate       `json:"candidates,omitempty"`
	// Samples are a few representative lines (log lines, transcripts).
	Samples []string `json:"samples,omitempty"`
}

// EventKind names an entry of an alert's history.
type EventKind string

// Event kinds.
const (
	EventRaised       EventKind = "raised"
	EventRepeated     EventKind = "repeated"   // a repeat raised the severity
	EventSuppressed   EventKind = "suppressed" // a repeat within the cooldown after resolve
	EventAcknowledged EventKind = "acknowledged"
	EventResolved     EventKind = "resolved"
	EventEscalated    EventKind = "escalated"
	EventNotified     EventKind = "notified"
	EventNotifyFailed EventKind = "notify_failed"
)

// Event is one entry of an alert's history.
type Event struct {
	At      time.Time `json:"at"`
	Kind    EventKind `json:"kind"`
	By      string    `json:"by,omitempty"`
	Channel string    `json:"channel,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Alert is one alert: a condition, identified by Key, from when it first
// fired until it is resolved. Repeats of the condition while it is open
// count into the same alert.
type Alert struct {
	ID string `json:"id"`
	// Key identifies the condition (e.g. "anomaly:calls:billing"); raises
	// with the same key while an alert is open are de-duplicated.
	Key      string    `json:"key"`
	Source   Source    `json:"source"`
	Severity Severity  `json:"severity"`
	Title    string    `json:"title"`
	Summary  string    `json:"summary,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
	State    State     `json:"state"`
	FirstAt  time.Time `json:"first_at"`
	LastAt   time.Time `json:"last_at"`
	// Count is how many times the condition was raised.
	Count       int        `json:"count"`
	AckBy       string     `json:"ack_by,omitempty"`
	AckAt       *time.Time `json:"ack_at,omitempty"`
	ResolvedBy  string     `json:"resolved_by,omitempty"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	History     []Event    `json:"history"`
}

// Clone returns a deep copy of a, so a caller may keep or change it.
func (a *Alert) Clone() *Alert {
	c := *a
	if a.Evidence != nil {
		ev := *a.Evidence
		ev.Dimensions = maps.Clone(a.Evidence.Dimensions)
		ev.Candidates = slices.Clone(a.Evidence.Candidates)
		ev.Samples = slices.Clone(a.Evidence.Samples)
		c.Evidence = &ev
	}
	c.History = slices.Clone(a.History)
	for _, p := range []**time.Time{&c.AckAt, &c.ResolvedAt, &c.EscalatedAt} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	return &c
}

// Open reports whether a is firing or acknowledged.
func (a *Alert) Open() bool { return a.State == StateFiring || a.State == StateAcknowledged }

// Query selects alerts for List.
type Query struct {
	// States filters by state; empty means all.
	States []State
	// Key filters by dedup key; empty means all.
	Key string
	// Since keeps alerts whose LastAt is at or after it; zero means all.
	Since time.Time
	// Offset and Size page the result, newest LastAt first; Size zero means
	// DefaultPageSize, at most MaxPageSize.
	Offset int
	Size   int
}

// Page sizes of Query.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Store keeps alerts with their full history. Implementations must be safe
// for concurrent use; Get returns an error wrapping ErrNotFound for an
// unknown id. Put replaces the whole alert. *esstore.Store is the
// production one, MemoryStore a process-local one.
type Store interface {
	Put(ctx context.Context, a *Alert) error
	Get(ctx context.Context, id string) (*Alert, error)
	List(ctx context.Context, q Query) ([]Alert, int, error)
}

// Kind says why a notification is sent.
type Kind string

// Notification kinds.
const (
	KindFiring     Kind = "firing"
	KindEscalation Kind = "escalation"
	KindResolved   Kind = "resolved"
)

// Notification is what a Notifier delivers: a snapshot of the alert and
// why it is sent.
type Notification struct {
	Kind  Kind  `json:"kind"`
	Alert Alert `json:"alert"`
}

// Notifier delivers notifications to one channel. Notify must be safe for
// concurrent use, honour ctx and do its own retries; an error means the
// channel did not get the message. Name identifies the channel in alert
// history.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, n Notification) error
}
