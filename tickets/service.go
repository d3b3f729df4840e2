package tickets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Store persists tickets with optimistic concurrency. Implementations must be
// safe for concurrent use and make a created ticket readable at once.
type Store interface {
	// Create stores a new ticket; ErrConflict if its ID exists.
	Create(ctx context.Context, t *Ticket) (Version, error)
	// Get returns a ticket and its current version; ErrNotFound if absent.
	Get(ctx context.Context, id string) (*Ticket, Version, error)
	// Replace overwrites a ticket only if it is still at version v;
	// ErrConflict otherwise.
	Replace(ctx context.Context, t *Ticket, v Version) (Version, error)
	Search(ctx context.Context, q Query) (*Page, error)
	Stats(ctx context.Context, q StatsQuery) (*Stats, error)
	// Delete removes a ticket for good; ErrNotFound if absent.
	Delete(ctx context.Context, id string) error
}

// Sequencer hands out human-readable ticket numbers.
type Sequencer interface {
	// Reserve returns the first of n consecutive numbers of the named
	// sequence; no number is handed out twice, even across replicas.
	Reserve(ctx context.Context, name string, n int64) (int64, error)
}

// SLAPolicy sets a ticket's SLA due times from its priority, category and
// creation time. It must keep the breach flags and escalation level.
type SLAPolicy interface {
	Apply(t *Ticket)
}

// Automator runs automation rules on an event: it may change t (skill group,
// tags, priority) and returns the changes it made, for the audit history,
// and the notification targets (webhook names) the rules asked for.
type Automator interface {
	Apply(ev EventType, t *Ticket) (changes []Change, notify []string)
}

// Enricher fetches what other systems know about a customer (orders, CRM
// history). It must bound its own time; its failure never fails a ticket.
type Enricher interface {
	Enrich(ctx context.Context, c Customer) (map[string]any, error)
}

// Publisher receives each committed event, e.g. to deliver webhooks.
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
}

// EventType names what happened to a ticket.
type EventType string

// Event types, as seen by automation rules and webhook subscribers.
const (
	EventCreated       EventType = "ticket.created"
	EventUpdated       EventType = "ticket.updated"
	EventStatusChanged EventType = "ticket.status_changed"
	EventCommented     EventType = "ticket.commented"
	EventCSAT          EventType = "ticket.csat"
	EventSLABreached   EventType = "ticket.sla_breached"
	EventEscalated     EventType = "ticket.escalated"
)

// EventTypes lists every event type.
func EventTypes() []EventType {
	return []EventType{EventCreated, EventUpdated, EventStatusChanged, EventCommented, EventCSAT, EventSLABreached, EventEscalated}
}

// Event is one committed change to a ticket.
type Event struct {
	Type    EventType `json:"type"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Ticket  *Ticket   `json:"ticket"` // the ticket as committed
	Changes []Change  `json:"changes,omitempty"`
	// Notify names the webhook endpoints automation rules asked for.
	Notify []string `json:"-"`
}

// Config tunes the Service.
type Config struct {
	// MaxRetries bounds how often an update is re-applied after losing a
	// race with a concurrent writer.
	MaxRetries int
	// EnrichTimeout bounds the enrichment call made on creation.
	EnrichTimeout time.Duration
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MaxRetries < 1 {
		return fmt.Errorf("tickets: MaxRetries must be at least 1, got %d", c.MaxRetries)
	}
	if c.EnrichTimeout < 0 {
		return fmt.Errorf("tickets: EnrichTimeout must not be negative")
	}
	return nil
}

// DefaultConfig returns the configuration used when none is given.
func DefaultConfig() Config {
	return Config{MaxRetries: 100, EnrichTimeout: 3 * time.Second}
}

// Deps are the Service's collaborators. Store, Sequencer and NewID are
// required; the others may be nil.
type Deps struct {
	Store     Store
	Sequencer Sequencer
	SLA       SLAPolicy
	Automator Automator
	Enricher  Enricher
	Analyzer  Analyzer
	Feedback  LabelFeedback
	Vectors   VectorStore
	Publisher Publisher
	Logger    *slog.Logger
	Now       func() time.Time
	NewID     func() string
}

// Service applies every change to tickets: validation, lifecycle, SLA,
// automation, audit history and metrics, with optimistic concurrency so
// concurrent writers never lose each other's changes. It is safe for
// concurrent use.
type Service struct {
	cfg Config
	d   Deps
}

// New returns a Service.
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Sequencer == nil || d.NewID == nil {
		return nil, errors.New("tickets: Store, Sequencer and NewID are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{cfg: cfg, d: d}, nil
}

// Input limits; they keep one ticket well inside an Elasticsearch document.
const (
	MaxSubjectLen     = 500
	MaxDescriptionLen = 64 << 10
	MaxCommentLen     = 64 << 10
	MaxTags           = 50
	MaxTagLen         = 64
)

// NewTicket is what a caller supplies to open a ticket.
type NewTicket struct {
	Channel     Channel        `json:"channel"`
	Customer    Customer       `json:"customer"`
	Subject     string         `json:"subject"`
	Description string         `json:"description,omitempty"`
	Language    string         `json:"language,omitempty"`
	Priority    Priority       `json:"priority,omitempty"`
	SkillGroup  string         `json:"skill_group,omitempty"`
	Assignee    string         `json:"assignee,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	Category    *Category      `json:"category,omitempty"`
	Sentiment   *Sentiment     `json:"sentiment,omitempty"`
	ExternalID  string         `json:"external_id,omitempty"`
	Related     map[string]any `json:"related,omitempty"`
}

// Validate reports every broken rule of n as a *ValidationError.
func (n *NewTicket) Validate() error {
	var v ValidationError
	if !n.Channel.Valid() {
		v.Add("channel", "must be one of voice, chat, email, social, api")
	}
	checkText(&v, "subject", n.Subject, MaxSubjectLen, true)
	checkText(&v, "description", n.Description, MaxDescriptionLen, false)
	if n.Priority != "" && !n.Priority.Valid() {
		v.Add("priority", "must be one of low, normal, high, urgent")
	}
	checkCustomer(&v, n.Customer)
	checkTags(&v, "tags", n.Tags)
	if n.Category != nil {
		checkCategory(&v, "category", *n.Category)
	}
	if n.Sentiment != nil {
		checkSentiment(&v, "sentiment", *n.Sentiment)
	}
	return v.Err()
}

func checkText(v *ValidationError, field, s string, max int, required bool) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most %d characters", max)
	}
}

func checkCustomer(v *ValidationError, c Customer) {
	if c.ID == "" && c.Phone == "" && c.Email == "" && c.Name == "" {
		v.Add("customer", "needs at least one of id, name, phone, email")
	}
	if c.Email != "" {
		if _, err := mail.ParseAddress(c.Email); err != nil {
			v.Add("customer.email", "is not an e-mail address")
		}
	}
	if c.Phone != "" && !validPhone(c.Phone) {
		v.Add("customer.phone", "must be digits, optionally with +, spaces, dashes or parentheses")
	}
	checkText(v, "customer.name", c.Name, 200, false)
	checkText(v, "customer.id", c.ID, 200, false)
}

func validPhone(p string) bool {
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}

func checkTags(v *ValidationError, field string, tags []string) {
	if len(tags) > MaxTags {
		v.Add(field, "at most %d tags", MaxTags)
	}
	for i, t := range tags {
		if strings.TrimSpace(t) == "" || utf8.RuneCountInString(t) > MaxTagLen || !utf8.ValidString(t) {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be 1 to %d characters", MaxTagLen)
		}
	}
}

func checkCategory(v *ValidationError, field string, c Category) {
	checkText(v, field+".label", c.Label, 100, true)
	if c.Confidence < 0 || c.Confidence > 1 {
		v.Add(field+".confidence", "must be between 0 and 1")
	}
	switch c.Source {
	case "", SourceAuto, SourceAgent, SourceNeedsReview, SourceImport:
	default:
		v.Add(field+".source", "must be one of auto, agent, needs_review, import")
	}
}

func checkSentiment(v *ValidationError, field string, s Sentiment) {
	switch s.Label {
	case "negative", "neutral", "positive":
	default:
		v.Add(field+".label", "must be one of negative, neutral, positive")
	}
}

// Create validates n, opens a ticket numbered from the "ticket" sequence,
// enriches it, applies SLA policy and automation, stores it and publishes
// EventCreated.
func (s *Service) Create(ctx context.Context, actor string, n NewTicket) (*Ticket, Version, error) {
	if err := n.Validate(); err != nil {
		return nil, Version{}, err
	}
	num, err := s.d.Sequencer.Reserve(ctx, "ticket", 1)
	if err != nil {
		return nil, Version{}, fmt.Errorf("tickets: number: %w", err)
	}
	t := s.Build(actor, n, num)
	s.recordAutomation(t, s.analyze(ctx, t), t.CreatedAt, actorNLU)
	s.enrich(ctx, t)
	var notify []string
	if s.d.Automator != nil {
		var changes []Change
		changes, notify = s.d.Automator.Apply(EventCreated, t)
		s.recordAutomation(t, changes, t.CreatedAt, actor)
	}
	v, err := s.d.Store.Create(ctx, t)
	if err != nil {
		return nil, Version{}, fmt.Errorf("tickets: create: %w", err)
	}
	s.publish(ctx, Event{Type: EventCreated, At: t.CreatedAt, Actor: actor, Ticket: t, Notify: notify})
	return t, v, nil
}

// Build turns a validated NewTicket into a ticket with the given number,
// status new, SLA due times and a creation entry in its history. Create uses
// it; bulk import uses it to build tickets it stores in batches.
func (s *Service) Build(actor string, n NewTicket, number int64) *Ticket {
	now := s.d.Now().UTC()
	t := &Ticket{
		ID:          s.d.NewID(),
		Number:      number,
		ExternalID:  n.ExternalID,
		Channel:     n.Channel,
		Customer:    n.Customer,
		Subject:     strings.TrimSpace(n.Subject),
		Description: n.Description,
		Language:    n.Language,
		Category:    n.Category,
		Priority:    n.Priority,
		Sentiment:   n.Sentiment,
		Status:      StatusNew,
		SkillGroup:  n.SkillGroup,
		Assignee:    n.Assignee,
		Related:     n.Related,
		CreatedAt:   now,
		UpdatedAt:   now,
		StatusSince: now,
	}
	if t.Priority == "" {
		t.Priority = PriorityNormal
	}
	if t.Category != nil {
		// What a model said is the server's to record, never the caller's.
		c := *t.Category
		c.Alternatives, c.Predicted, c.ModelCorrect = nil, nil, nil
		if c.Source == "" || c.Source == SourceAuto || c.Source == SourceNeedsReview {
			c.Source = SourceAgent
		}
		t.Category = &c
	}
	if t.Sentiment != nil {
		sent := *t.Sentiment
		sent.Source = SourceAgent
		t.Sentiment = &sent
	}
	t.AddTags(n.Tags...)
	t.History = []Change{{At: now, Actor: actor, Action: "created", To: string(StatusNew)}}
	if s.d.SLA != nil {
		s.d.SLA.Apply(t)
	}
	return t
}

func (s *Service) enrich(ctx context.Context, t *Ticket) {
	if s.d.Enricher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.EnrichTimeout)
	defer cancel()
	data, err := s.d.Enricher.Enrich(ctx, t.Customer)
	if err != nil {
		// A CRM outage must not stop tickets from being opened; the tag
		// lets an agent see the data is missing and why.
		s.d.Logger.WarnContext(ctx, "enrichment failed", "ticket_id", t.ID, "err", err)
		t.AddTags("enrichment-failed")
		return
	}
	if len(data) == 0 {
		return
	}
	if t.Related == nil {
		t.Related = map[string]any{}
	}
	for k, v := range data {
		t.Related[k] = v
	}
}

// Delete removes a ticket for good, e.g. to honour an erasure request. The
// audit trail goes with it, so the deletion itself is logged with its actor.
func (s *Service) Delete(ctx context.Context, id, actor string) error {
	if err := s.d.Store.Delete(ctx, id); err != nil {
		return err
	}
	s.d.Logger.InfoContext(ctx, "ticket deleted", "ticket_id", id, "actor", actor)
	return nil
}

// Get returns a ticket and its version.
func (s *Service) Get(ctx context.Context, id string) (*Ticket, Version, error) {
	return s.d.Store.Get(ctx, id)
}

// Search returns a page of tickets matching q.
func (s *Service) Search(ctx context.Context, q Query) (*Page, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return s.d.Store.Search(ctx, q)
}

// Validate reports every broken rule of q as a *ValidationError.
func (q *Query) Validate() error {
	var v ValidationError
	for i, st := range q.Status {
		if !st.Valid() {
			v.Add(fmt.Sprintf("status[%d]", i), "unknown status %q", st)
		}
	}
	for i, c := range q.Channel {
		if !c.Valid() {
			v.Add(fmt.Sprintf("channel[%d]", i), "unknown channel %q", c)
		}
	}
	for i, p := range q.Priority {
		if !p.Valid() {
			v.Add(fmt.Sprintf("priority[%d]", i), "unknown priority %q", p)
		}
	}
	if q.Size < 0 || q.Size > MaxPageSize {
		v.Add("size", "must be between 1 and %d", MaxPageSize)
	}
	if q.Sort != "" {
		ok := false
		for _, o := range SortOrders() {
			ok = ok || q.Sort == o
		}
		if !ok {
			v.Add("sort", "must be one of %s", strings.Join(SortOrders(), ", "))
		}
	}
	if q.CreatedFrom != nil && q.CreatedTo != nil && !q.CreatedFrom.Before(*q.CreatedTo) {
		v.Add("created_from", "must be before created_to")
	}
	if utf8.RuneCountInString(q.Text) > 1000 {
		v.Add("q", "must be at most 1000 characters")
	}
	return v.Err()
}

// Stats aggregates tickets for dashboards.
func (s *Service) Stats(ctx context.Context, q StatsQuery) (*Stats, error) {
	var v ValidationError
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		v.Add("from", "from and to are required and from must be before to")
	}
	switch q.Interval {
	case "":
		q.Interval = IntervalDay
	case IntervalHour, IntervalDay, IntervalWeek, IntervalMonth:
	default:
		v.Add("interval", "must be one of hour, day, week, month")
	}
	if q.Interval == IntervalHour && q.To.Sub(q.From) > 93*24*time.Hour {
		v.Add("interval", "hourly buckets are limited to 93 days")
	}
	if q.TimeZone != "" {
		if _, err := time.LoadLocation(q.TimeZone); err != nil {
			v.Add("tz", "unknown time zone %q", q.TimeZone)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.d.Store.Stats(ctx, q)
}

// UpdateOptions say who changes a ticket, as what event, and optionally the
// version the caller last saw (an HTTP If-Match).
type UpdateOptions struct {
	Actor string
	Event EventType
	// Expect, when set, makes the update fail with ErrPrecondition if the
	// ticket has changed since the caller read it, instead of re-applying.
	Expect *Version
	// Notify names webhook endpoints to notify of this change in addition
	// to those automation rules ask for (e.g. supervisors on escalation).
	Notify []string
}

// Edit changes a ticket in memory and returns what it changed. It may be
// called several times, each on a freshly read ticket, when concurrent
// writers race, so it must depend only on its argument. Returning no
// changes makes the update a no-op: nothing is written or published.
type Edit func(t *Ticket) ([]Change, error)

// Update reads a ticket, applies edit, runs automation and stores the result
// if nobody changed the ticket meanwhile; otherwise it re-reads and
// re-applies, so that no concurrent change is lost. Each change is recorded
// in the ticket's history and published as one event.
func (s *Service) Update(ctx context.Context, id string, o UpdateOptions, edit Edit) (*Ticket, Version, error) {
	if o.Event == "" {
		o.Event = EventUpdated
	}
	for attempt := 0; ; attempt++ {
		t, v, err := s.d.Store.Get(ctx, id)
		if err != nil {
			return nil, Version{}, err
		}
		if o.Expect != nil && *o.Expect != v {
			return t, v, fmt.Errorf("tickets: %s is at version %d/%d, not %d/%d: %w",
				id, v.SeqNo, v.PrimaryTerm, o.Expect.SeqNo, o.Expect.PrimaryTerm, ErrPrecondition)
		}
		changes, err := edit(t)
		if err != nil {
			return t, v, err
		}
		if len(changes) == 0 {
			return t, v, nil
		}
		now := s.d.Now().UTC()
		for i := range changes {
			if changes[i].At.IsZero() {
				changes[i].At = now
			}
			if changes[i].Actor == "" {
				changes[i].Actor = o.Actor
			}
		}
		t.History = append(t.History, changes...)
		notify := slices.Clone(o.Notify)
		if s.d.Automator != nil {
			auto, names := s.d.Automator.Apply(o.Event, t)
			auto = s.recordAutomation(t, auto, now, o.Actor)
			changes = append(changes, auto...)
			notify = append(notify, names...)
		}
		t.UpdatedAt = now
		nv, err := s.d.Store.Replace(ctx, t, v)
		if errors.Is(err, ErrConflict) && o.Expect == nil && attempt < s.cfg.MaxRetries {
			// Lost a race: back off a little, with jitter so that many
			// writers on one ticket do not collide again in lockstep.
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, Version{}, err
			}
			continue
		}
		if errors.Is(err, ErrConflict) && o.Expect != nil {
			return nil, Version{}, fmt.Errorf("tickets: %s changed concurrently: %w", id, ErrPrecondition)
		}
		if err != nil {
			return nil, Version{}, fmt.Errorf("tickets: update %s: %w", id, err)
		}
		s.publish(ctx, Event{Type: o.Event, At: now, Actor: o.Actor, Ticket: t, Changes: changes, Notify: notify})
		return t, nv, nil
	}
}

func backoff(attempt int) time.Duration {
	max := time.Duration(min(attempt+1, 20)) * 5 * time.Millisecond
	return time.Duration(rand.Int64N(int64(max))) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// recordAutomation stamps the changes automation made and adds them to the
// history. A rule that changed priority or category changes which SLA
// policy applies, so the due times are recomputed.
func (s *Service) recordAutomation(t *Ticket, changes []Change, at time.Time, actor string) []Change {
	resla := false
	for i := range changes {
		if changes[i].At.IsZero() {
			changes[i].At = at
		}
		if changes[i].Actor == "" {
			changes[i].Actor = actor
		}
		resla = resla || changes[i].Field == "priority" || changes[i].Field == "category"
	}
	t.History = append(t.History, changes...)
	if resla && s.d.SLA != nil {
		s.d.SLA.Apply(t)
	}
	return changes
}

func (s *Service) publish(ctx context.Context, ev Event) {
	if s.d.Publisher == nil {
		return
	}
	if err := s.d.Publisher.Publish(ctx, ev); err != nil {
		s.d.Logger.ErrorContext(ctx, "publishing ticket event failed", "ticket_id", ev.Ticket.ID, "event", ev.Type, "err", err)
	}
}
