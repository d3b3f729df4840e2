package tickets

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Patch is a partial update; nil fields are left alone.
type Patch struct {
	Subject     *string    `json:"subject,omitempty"`
	Description *string    `json:"description,omitempty"`
	Language    *string    `json:"language,omitempty"`
	Priority    *Priority  `json:"priority,omitempty"`
	SkillGroup  *string    `json:"skill_group,omitempty"`
	Assignee    *string    `json:"assignee,omitempty"`
	Customer    *Customer  `json:"customer,omitempty"`
	Tags        *[]string  `json:"tags,omitempty"`
	AddTags     []string   `json:"add_tags,omitempty"`
	RemoveTags  []string   `json:"remove_tags,omitempty"`
	Category    *Category  `json:"category,omitempty"` // an agent's correction
	Sentiment   *Sentiment `json:"sentiment,omitempty"`
}

// Validate reports every broken rule of p as a *ValidationError.
func (p *Patch) Validate() error {
	var v ValidationError
	if p.Subject != nil {
		checkText(&v, "subject", *p.Subject, MaxSubjectLen, true)
	}
	if p.Description != nil {
		checkText(&v, "description", *p.Description, MaxDescriptionLen, false)
	}
	if p.Priority != nil && !p.Priority.Valid() {
		v.Add("priority", "must be one of low, normal, high, urgent")
	}
	if p.Customer != nil {
		checkCustomer(&v, *p.Customer)
	}
	if p.Tags != nil {
		checkTags(&v, "tags", *p.Tags)
	}
	checkTags(&v, "add_tags", p.AddTags)
	checkTags(&v, "remove_tags", p.RemoveTags)
	if p.Category != nil {
		checkCategory(&v, "category", *p.Category)
	}
	if p.Sentiment != nil {
		checkSentiment(&v, "sentiment", *p.Sentiment)
	}
	return v.Err()
}

// Patch applies p and records one history entry per changed field. A
// category set through Patch is an agent's decision (source agent) and so
// becomes a training label. Priority and category changes recompute the
// SLA due times.
func (s *Service) Patch(ctx context.Context, id string, o UpdateOptions, p Patch) (*Ticket, Version, error) {
	if err := p.Validate(); err != nil {
		return nil, Version{}, err
	}
	o.Event = EventUpdated
	return s.Update(ctx, id, o, func(t *Ticket) ([]Change, error) {
		if t.Status.Terminal() {
			return nil, fmt.Errorf("tickets: %s is closed: %w", id, ErrConflict)
		}
		var ch []Change
		set := func(field string, dst *string, val *string) {
			if val != nil && *dst != *val {
				ch = append(ch, Change{Action: "updated", Field: field, From: *dst, To: *val})
				*dst = *val
			}
		}
		set("subject", &t.Subject, p.Subject)
		set("description", &t.Description, p.Description)
		set("language", &t.Language, p.Language)
		set("skill_group", &t.SkillGroup, p.SkillGroup)
		set("assignee", &t.Assignee, p.Assignee)
		recomputeSLA := false
		if p.Priority != nil && t.Priority != *p.Priority {
			ch = append(ch, Change{Action: "updated", Field: "priority", From: string(t.Priority), To: string(*p.Priority)})
			t.Priority = *p.Priority
			recomputeSLA = true
		}
		if p.Customer != nil && *p.Customer != t.Customer {
			ch = append(ch, Change{Action: "updated", Field: "customer", From: customerString(t.Customer), To: customerString(*p.Customer)})
			t.Customer = *p.Customer
		}
		if p.Category != nil && (t.Category == nil || t.Category.Label != p.Category.Label || t.Category.Source != SourceAgent) {
			ch = append(ch, Change{Action: "updated", Field: "category", From: t.CategoryLabel(), To: p.Category.Label})
			s.labelled(t, *p.Category)
			recomputeSLA = true
		}
		if p.Sentiment != nil {
			want := *p.Sentiment
			want.Source = SourceAgent
			if t.Sentiment == nil || *t.Sentiment != want {
				from := ""
				if t.Sentiment != nil {
					from = t.Sentiment.Label
				}
				ch = append(ch, Change{Action: "updated", Field: "sentiment", From: from, To: want.Label})
				t.Sentiment = &want
			}
		}
		if (p.Subject != nil || p.Description != nil) && slices.ContainsFunc(ch, func(c Change) bool {
			return c.Field == "subject" || c.Field == "description"
		}) {
			// New text, new reading: re-classify (unless a person set the
			// category), re-score and re-embed.
			for _, c := range s.analyze(ctx, t) {
				ch = append(ch, c)
				recomputeSLA = recomputeSLA || c.Field == "priority" || c.Field == "category"
			}
		}
		tags := slices.Clone(t.Tags)
		if p.Tags != nil {
			tags = nil
			for _, tag := range *p.Tags {
				if !slices.ContainsFunc(tags, func(x string) bool { return strings.EqualFold(x, tag) }) {
					tags = append(tags, strings.TrimSpace(tag))
				}
			}
		}
		for _, tag := range p.AddTags {
			if !slices.ContainsFunc(tags, func(x string) bool { return strings.EqualFold(x, tag) }) {
				tags = append(tags, strings.TrimSpace(tag))
			}
		}
		tags = slices.DeleteFunc(tags, func(x string) bool {
			return slices.ContainsFunc(p.RemoveTags, func(r string) bool { return strings.EqualFold(x, r) })
		})
		if len(tags) > MaxTags {
			v := ValidationError{}
			v.Add("tags", "a ticket carries at most %d tags", MaxTags)
			return nil, &v
		}
		if !slices.Equal(tags, t.Tags) {
			ch = append(ch, Change{Action: "updated", Field: "tags", From: strings.Join(t.Tags, ","), To: strings.Join(tags, ",")})
			t.Tags = tags
		}
		if recomputeSLA && s.d.SLA != nil {
			s.d.SLA.Apply(t)
		}
		return ch, nil
	})
}

func customerString(c Customer) string {
	return strings.Join(slices.DeleteFunc([]string{c.ID, c.Name, c.Phone, c.Email}, func(s string) bool { return s == "" }), " / ")
}

// Transition moves a ticket through its lifecycle. An illegal move fails
// with a *TransitionError listing the allowed ones.
func (s *Service) Transition(ctx context.Context, id string, o UpdateOptions, to Status, reason string) (*Ticket, Version, error) {
	if !to.Valid() {
		var v ValidationError
		v.Add("status", "unknown status %q", to)
		return nil, Version{}, &v
	}
	o.Event = EventStatusChanged
	return s.Update(ctx, id, o, func(t *Ticket) ([]Change, error) {
		if t.Status == to {
			return nil, nil // already there: idempotent, e.g. a retried request
		}
		if err := CheckTransition(t.Status, to); err != nil {
			return nil, err
		}
		return []Change{s.move(t, to, reason)}, nil
	})
}

// move changes t's status and keeps the lifecycle timestamps and metrics
// that depend on it in step.
func (s *Service) move(t *Ticket, to Status, reason string) Change {
	now := s.d.Now().UTC()
	from := t.Status
	if from == StatusOpen && !t.StatusSince.IsZero() {
		t.Metrics.HandleSeconds += now.Sub(t.StatusSince).Seconds()
	}
	action := "transition"
	switch {
	case to == StatusResolved:
		t.ResolvedAt = &now
		secs := now.Sub(t.CreatedAt).Seconds()
		t.Metrics.ResolutionSeconds = &secs
	case to == StatusClosed:
		t.ClosedAt = &now
		if t.ResolvedAt == nil { // closed straight from new, e.g. spam
			t.ResolvedAt = &now
		}
	case from == StatusResolved && to == StatusOpen:
		action = "reopen"
		t.Metrics.Reopens++
		t.ResolvedAt = nil
		t.Metrics.ResolutionSeconds = nil
	}
	t.Status = to
	t.StatusSince = now
	return Change{At: now, Action: action, Field: "status", From: string(from), To: string(to), Note: reason}
}

// NewComment is a reply or note added to a ticket.
type NewComment struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
	// FromCustomer marks a reply written by the customer (e.g. relayed by
	// e-mail intake); it reopens a pending ticket and is not a response.
	FromCustomer bool `json:"from_customer,omitempty"`
}

// Comment adds a reply or internal note. The first public reply by an agent
// stops the first-response clock; a new ticket being answered is opened; a
// customer's reply brings a pending ticket back to open.
func (s *Service) Comment(ctx context.Context, id string, o UpdateOptions, c NewComment) (*Ticket, Version, error) {
	var v ValidationError
	checkText(&v, "body", c.Body, MaxCommentLen, true)
	if c.FromCustomer && !c.Public {
		v.Add("public", "a customer's reply is always public")
	}
	if err := v.Err(); err != nil {
		return nil, Version{}, err
	}
	commentID := s.d.NewID()
	o.Event = EventCommented
	return s.Update(ctx, id, o, func(t *Ticket) ([]Change, error) {
		if t.Status.Terminal() {
			return nil, fmt.Errorf("tickets: %s is closed; open a new ticket: %w", id, ErrConflict)
		}
		// A retry after a lost race must not add the comment twice.
		if slices.ContainsFunc(t.Comments, func(x Comment) bool { return x.ID == commentID }) {
			return nil, nil
		}
		now := s.d.Now().UTC()
		t.Comments = append(t.Comments, Comment{ID: commentID, Author: o.Actor, Public: c.Public, Body: c.Body, CreatedAt: now})
		kind := "note"
		if c.Public {
			kind = "reply"
		}
		ch := []Change{{Action: "comment", Field: kind, To: commentID}}
		switch {
		case c.FromCustomer:
			if t.Status == StatusPending {
				ch = append(ch, s.move(t, StatusOpen, "customer replied"))
			}
		case c.Public:
			t.Metrics.PublicReplies++
			if t.FirstResponseAt == nil {
				t.FirstResponseAt = &now
				secs := now.Sub(t.CreatedAt).Seconds()
				t.Metrics.FirstResponseSeconds = &secs
			}
			if t.Status == StatusNew {
				ch = append(ch, s.move(t, StatusOpen, "agent replied"))
			}
		}
		return ch, nil
	})
}

// RateCSAT records the customer's satisfaction score (1–5) on a resolved or
// closed ticket; a later rating replaces an earlier one.
func (s *Service) RateCSAT(ctx context.Context, id string, o UpdateOptions, score int, comment string) (*Ticket, Version, error) {
	var v ValidationError
	if score < 1 || score > 5 {
		v.Add("score", "must be between 1 and 5")
	}
	checkText(&v, "comment", comment, 2000, false)
	if err := v.Err(); err != nil {
		return nil, Version{}, err
	}
	o.Event = EventCSAT
	return s.Update(ctx, id, o, func(t *Ticket) ([]Change, error) {
		if t.Status != StatusResolved && t.Status != StatusClosed {
			return nil, fmt.Errorf("tickets: %s is %s; CSAT is asked after resolution: %w", id, t.Status, ErrConflict)
		}
		if t.CSAT != nil && t.CSAT.Score == score && t.CSAT.Comment == comment {
			return nil, nil
		}
		from := ""
		if t.CSAT != nil {
			from = strconv.Itoa(t.CSAT.Score)
		}
		t.CSAT = &CSAT{Score: score, Comment: comment, At: s.d.Now().UTC()}
		return []Change{{Action: "csat", Field: "csat", From: from, To: strconv.Itoa(score)}}, nil
	})
}

// Now returns the Service's clock reading; SLA monitors share it.
func (s *Service) Now() time.Time { return s.d.Now() }
