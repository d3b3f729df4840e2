// Package tickets is the ticket domain's vocabulary: the Ticket type, its
// lifecycle state machine, the Service that applies every change with an
// audit trail and optimistic concurrency, and the small interfaces the
// Service needs from storage, SLA policy, automation and enrichment.
//
// It imports no infrastructure. Elasticsearch storage lives in
// tickets/esstore, SLA policies in tickets/sla, automation rules in
// tickets/automation, outgoing webhooks in tickets/webhook, CRM enrichment
// in tickets/enrich, bulk import in tickets/importer and the REST API in
// tickets/api; only cmd/switchboard wires them together.
package tickets

import (
	"strings"
	"time"
)

// Channel is how a ticket reached us.
type Channel string

// Channels a ticket can arrive on.
const (
	ChannelVoice  Channel = "voice"
	ChannelChat   Channel = "chat"
	ChannelEmail  Channel = "email"
	ChannelSocial Channel = "social"
	ChannelAPI    Channel = "api"
)

// Channels lists every valid channel, in display order.
func Channels() []Channel {
	return []Channel{ChannelVoice, ChannelChat, ChannelEmail, ChannelSocial, ChannelAPI}
}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, k := range Channels() {
		if c == k {
			return true
		}
	}
	return false
}

// Priority orders tickets for agents and selects SLA targets.
type Priority string

// Priorities from least to most urgent.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every valid priority from least to most urgent.
func Priorities() []Priority {
	return []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}
}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return p.Rank() >= 0 }

// Rank is p's position in Priorities, or -1 for an unknown priority.
func (p Priority) Rank() int {
	for i, k := range Priorities() {
		if p == k {
			return i
		}
	}
	return -1
}

// Raise returns the next more urgent priority; urgent stays urgent.
func (p Priority) Raise() Priority {
	ps := Priorities()
	if r := p.Rank(); r >= 0 && r < len(ps)-1 {
		return ps[r+1]
	}
	return p
}

// Category sources: who decided a ticket's category.
const (
	SourceAuto        = "auto"         // a model, with enough confidence
	SourceAgent       = "agent"        // a person; counts as a training label
	SourceNeedsReview = "needs_review" // a model, too unsure to be trusted
	SourceImport      = "import"       // carried over from a legacy system
)

// Customer identifies who the ticket is for.
type Customer struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Category is a ticket's classification and where it came from.
type Category struct {
	Label        string  `json:"label"`
	Confidence   float64 `json:"confidence,omitempty"`
	ModelVersion string  `json:"model_version,omitempty"`
	// Source is one of SourceAuto, SourceAgent, SourceNeedsReview, SourceImport.
	Source string `json:"source"`
	// Alternatives are the model's best labels with their calibrated
	// probabilities, the winner first, so an agent can see what else it
	// considered.
	Alternatives []Scored `json:"alternatives,omitempty"`
	// Predicted keeps the model's answer once a person has set the label,
	// and ModelCorrect whether the two agree: together they are the online
	// accuracy of the category model.
	Predicted    *Prediction `json:"predicted,omitempty"`
	ModelCorrect *bool       `json:"model_correct,omitempty"`
}

// Scored is a label with its probability.
type Scored struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Prediction is what a model said about a ticket's category.
type Prediction struct {
	Label        string  `json:"label"`
	Confidence   float64 `json:"confidence,omitempty"`
	ModelVersion string  `json:"model_version,omitempty"`
}

// prediction returns the model's answer carried by c, if any: c itself
// when a model set it, or what a model said before a person relabelled it.
func (c *Category) prediction() *Prediction {
	switch {
	case c == nil:
		return nil
	case c.Predicted != nil:
		return c.Predicted
	case c.Source == SourceAuto || c.Source == SourceNeedsReview:
		return &Prediction{Label: c.Label, Confidence: c.Confidence, ModelVersion: c.ModelVersion}
	}
	return nil
}

// Sentiment is the customer's mood as scored by a model or set by an agent.
type Sentiment struct {
	Label string  `json:"label"` // negative, neutral or positive
	Score float64 `json:"score,omitempty"`
	// EscalationRisk flags an angry customer for supervisor attention.
	EscalationRisk bool `json:"escalation_risk,omitempty"`
	// Source is SourceAuto (a model) or SourceAgent (a person, whose
	// judgement a later model run does not overwrite).
	Source string `json:"source,omitempty"`
}

// SLA holds a ticket's service-level clocks. Due times are computed from the
// policy matching the ticket's priority and category, in business time.
type SLA struct {
	Policy                string     `json:"policy,omitempty"`
	FirstResponseDue      *time.Time `json:"first_response_due,omitempty"`
	ResolutionDue         *time.Time `json:"resolution_due,omitempty"`
	FirstResponseBreached bool       `json:"first_response_breached"`
	ResolutionBreached    bool       `json:"resolution_breached"`
	// EscalationLevel counts escalations already made, so that a breach is
	// escalated once however many monitors observe it.
	EscalationLevel int        `json:"escalation_level"`
	EscalatedAt     *time.Time `json:"escalated_at,omitempty"`
}

// Breached reports whether any SLA clock has been missed.
func (s SLA) Breached() bool { return s.FirstResponseBreached || s.ResolutionBreached }

// Comment is a public reply to the customer or an internal note.
type Comment struct {
	ID        string    `json:"id"`
	Author    string    `json:"author"`
	Public    bool      `json:"public"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// CSAT is the customer's satisfaction rating after resolution.
type CSAT struct {
	Score   int       `json:"score"` // 1 (very unhappy) to 5 (very happy)
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// Change is one entry of a ticket's audit history.
type Change struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // e.g. created, updated, transition, comment, sla_breach, escalation
	Field  string    `json:"field,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Note   string    `json:"note,omitempty"` // e.g. why a status changed
}

// Metrics are derived from the history so that dashboards can aggregate
// them without replaying it.
type Metrics struct {
	// FirstResponseSeconds is from creation to the first public reply.
	FirstResponseSeconds *float64 `json:"first_response_seconds,omitempty"`
	// ResolutionSeconds is from creation to the latest resolution.
	ResolutionSeconds *float64 `json:"resolution_seconds,omitempty"`
	// HandleSeconds is the time spent in the open state, i.e. worked on by
	// an agent rather than waiting on the customer or unassigned.
	HandleSeconds float64 `json:"handle_seconds"`
	PublicReplies int     `json:"public_replies"`
	Reopens       int     `json:"reopens"`
}

// Ticket is a customer request and everything that happened to it.
type Ticket struct {
	ID          string     `json:"id"`
	Number      int64      `json:"number"`
	ExternalID  string     `json:"external_id,omitempty"` // id in the system it was imported from
	Channel     Channel    `json:"channel"`
	Customer    Customer   `json:"customer"`
	Subject     string     `json:"subject"`
	Description string     `json:"description,omitempty"`
	Language    string     `json:"language,omitempty"` // BCP 47, e.g. zh, en
	Category    *Category  `json:"category,omitempty"`
	Priority    Priority   `json:"priority"`
	Sentiment   *Sentiment `json:"sentiment,omitempty"`
	Status      Status     `json:"status"`
	SkillGroup  string     `json:"skill_group,omitempty"`
	Assignee    string     `json:"assignee,omitempty"`
	SLA         SLA        `json:"sla"`
	Tags        []string   `json:"tags,omitempty"`
	// Related holds data attached by enrichment (orders, CRM history),
	// keyed by source; it is stored but not indexed field by field.
	Related  map[string]any `json:"related,omitempty"`
	Comments []Comment      `json:"comments,omitempty"`
	CSAT     *CSAT          `json:"csat,omitempty"`
	Metrics  Metrics        `json:"metrics"`
	// Embedding is the sentence vector of subject and description, for
	// similar-ticket search. Stores keep it; API responses leave it out.
	Embedding      []float32 `json:"-"`
	EmbeddingModel string    `json:"embedding_model,omitempty"`

	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	// StatusSince is when the ticket entered its current status; it lets
	// the Service accumulate Metrics.HandleSeconds.
	StatusSince time.Time `json:"status_since"`

	History []Change `json:"history"`
}

// HasTag reports whether t carries tag (case-insensitively).
func (t *Ticket) HasTag(tag string) bool {
	for _, x := range t.Tags {
		if strings.EqualFold(x, tag) {
			return true
		}
	}
	return false
}

// AddTags adds the tags t does not carry yet and returns those it added.
func (t *Ticket) AddTags(tags ...string) []string {
	var added []string
	for _, tag := range tags {
		tag = strings.TrimSpace(tag)
		if tag == "" || t.HasTag(tag) {
			continue
		}
		t.Tags = append(t.Tags, tag)
		added = append(added, tag)
	}
	return added
}

// CategoryLabel returns the category label, or "" when unclassified.
func (t *Ticket) CategoryLabel() string {
	if t.Category == nil {
		return ""
	}
	return t.Category.Label
}

// Version identifies one stored revision of a ticket for optimistic
// concurrency (Elasticsearch's sequence number and primary term).
type Version struct {
	SeqNo       int64 `json:"seq_no"`
	PrimaryTerm int64 `json:"primary_term"`
}

// IsZero reports whether v names no revision.
func (v Version) IsZero() bool { return v.SeqNo == 0 && v.PrimaryTerm == 0 }
