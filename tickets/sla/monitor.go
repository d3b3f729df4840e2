package sla

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Actor is the history actor of the Monitor's changes.
const Actor = "sla-monitor"

// Finder finds tickets whose SLA may have been breached. It must be safe
// for concurrent use; tickets/esstore implements it.
type Finder interface {
	// Overdue returns the ids of at most limit active tickets with a due
	// time before now whose breach is not flagged yet. It may return
	// tickets that turn out not to be breached; the Monitor re-checks.
	Overdue(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// Updater applies an edit to a ticket with optimistic concurrency,
// re-reading and re-applying it when a concurrent writer won;
// *tickets.Service implements it.
type Updater interface {
	Update(ctx context.Context, id string, o tickets.UpdateOptions, edit tickets.Edit) (*tickets.Ticket, tickets.Version, error)
}

// PolicySource returns the policies in force; *Holder implements it.
type PolicySource interface {
	Get() *Policies
}

// MonitorConfig tunes the Monitor. Zero fields take their defaults.
type MonitorConfig struct {
	// Interval between passes; default 30s.
	Interval time.Duration
	// BatchSize bounds the tickets handled in one pass; the rest wait for
	// the next. Default 200.
	BatchSize int
}

// Validate checks the configuration.
func (c MonitorConfig) Validate() error {
	if c.Interval < 0 {
		return fmt.Errorf("sla: monitor interval must not be negative, got %v", c.Interval)
	}
	if c.BatchSize < 0 {
		return fmt.Errorf("sla: monitor batch size must not be negative, got %d", c.BatchSize)
	}
	return nil
}

// MonitorDeps are the Monitor's collaborators. Finder, Updater and
// Policies are required.
type MonitorDeps struct {
	Finder   Finder
	Updater  Updater
	Policies PolicySource
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // default discards
}

// Monitor flags SLA breaches and escalates them. Every replica may run
// one: a breach is flagged on the freshly read ticket and written with
// optimistic concurrency, so it is recorded and escalated exactly once.
// It is safe for concurrent use.
type Monitor struct {
	cfg MonitorConfig
	d   MonitorDeps
	log *slog.Logger
}

// Result counts what one pass did.
type Result struct {
	Checked   int // overdue tickets looked at
	Breached  int // tickets on which this pass flagged a breach
	Escalated int // tickets this pass escalated
}

// NewMonitor returns a Monitor.
func NewMonitor(cfg MonitorConfig, d MonitorDeps) (*Monitor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 200
	}
	if d.Finder == nil || d.Updater == nil || d.Policies == nil {
		return nil, errors.New("sla: monitor needs Finder, Updater and Policies")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Monitor{cfg: cfg, d: d, log: d.Logger.With("component", "sla-monitor")}, nil
}

// Run makes a pass at once and then every Interval until ctx is done, and
// returns nil then. A failed pass is logged and retried at the next
// interval: storage being down for a while must not stop the server.
func (m *Monitor) Run(ctx context.Context) error {
	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	for {
		res, err := m.Tick(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			m.log.WarnContext(ctx, "SLA pass failed", "err", err, "checked", res.Checked)
		case res.Checked == m.cfg.BatchSize:
			m.log.WarnContext(ctx, "SLA pass hit its batch size; the rest waits for the next pass", "batch_size", m.cfg.BatchSize)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Tick makes one pass: it flags the breaches of the tickets the Finder
// reports and escalates each new breach. It goes on past a ticket it
// cannot update and returns those errors joined.
func (m *Monitor) Tick(ctx context.Context) (Result, error) {
	var res Result
	now := m.d.Now()
	ids, err := m.d.Finder.Overdue(ctx, now, m.cfg.BatchSize)
	if err != nil {
		return res, fmt.Errorf("sla: find overdue tickets: %w", err)
	}
	var esc Escalation
	if p := m.d.Policies.Get(); p != nil {
		esc = p.Escalation
	}
	opts := tickets.UpdateOptions{Actor: Actor, Event: tickets.EventSLABreached, Notify: esc.Notify}
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		res.Checked++
		var o outcome
		t, _, err := m.d.Updater.Update(ctx, id, opts, breach(now, esc, &o))
		switch {
		case errors.Is(err, tickets.ErrNotFound):
			continue // deleted since the Finder saw it
		case err != nil:
			errs = append(errs, fmt.Errorf("sla: flag breach of %s: %w", id, err))
			continue
		}
		// o describes the edit's last run, which is the one committed.
		if o.breached > 0 {
			res.Breached++
			m.log.InfoContext(ctx, "SLA breached", "ticket_id", id, "policy", t.SLA.Policy,
				"first_response_breached", t.SLA.FirstResponseBreached, "resolution_breached", t.SLA.ResolutionBreached,
				"escalated", o.escalated, "priority", t.Priority)
		}
		if o.escalated {
			res.Escalated++
		}
	}
	return res, errors.Join(errs...)
}

// outcome is what one run of the breach edit did.
type outcome struct {
	breached  int
	escalated bool
}

// breach returns the edit that flags t's missed clocks as of now and
// escalates when it flags something new. It decides from the ticket it is
// given alone, because Update re-runs it on a freshly read copy after
// losing a race: a replica that lost to another finds the flags set and
// changes nothing.
func breach(now time.Time, esc Escalation, out *outcome) tickets.Edit {
	return func(t *tickets.Ticket) ([]tickets.Change, error) {
		*out = outcome{}
		s := &t.SLA
		done := t.Status == tickets.StatusResolved || t.Status == tickets.StatusClosed
		var ch []tickets.Change
		if !s.FirstResponseBreached && !done && t.FirstResponseAt == nil && s.FirstResponseDue != nil && s.FirstResponseDue.Before(now) {
			s.FirstResponseBreached = true
			ch = append(ch, tickets.Change{Action: "sla_breach", Field: "first_response",
				Note: "no first response by " + s.FirstResponseDue.UTC().Format(time.RFC3339)})
		}
		if !s.ResolutionBreached && !done && s.ResolutionDue != nil && s.ResolutionDue.Before(now) {
			s.ResolutionBreached = true
			ch = append(ch, tickets.Change{Action: "sla_breach", Field: "resolution",
				Note: "not resolved by " + s.ResolutionDue.UTC().Format(time.RFC3339)})
		}
		if len(ch) == 0 {
			return nil, nil
		}
		out.breached = len(ch)
		breaches := 0
		for _, b := range []bool{s.FirstResponseBreached, s.ResolutionBreached} {
			if b {
				breaches++
			}
		}
		// One escalation per breach pass, and never more escalations than
		// breaches: the level is stored with the flags, so it cannot run
		// ahead of them whichever replica wrote them.
		if s.EscalationLevel >= breaches {
			return ch, nil
		}
		from := s.EscalationLevel
		s.EscalationLevel++
		at := now.UTC()
		s.EscalatedAt = &at
		out.escalated = true
		note := "escalation level " + strconv.Itoa(s.EscalationLevel)
		if p := t.Priority.Raise(); esc.RaisePriority && p != t.Priority {
			ch = append(ch, tickets.Change{Action: "escalation", Field: "priority", From: string(t.Priority), To: string(p), Note: note})
			// The due times stay those of the policy that was breached:
			// escalation asks for attention, it does not move the goal.
			t.Priority = p
		} else {
			ch = append(ch, tickets.Change{Action: "escalation", Field: "escalation_level",
				From: strconv.Itoa(from), To: strconv.Itoa(s.EscalationLevel), Note: note})
		}
		return ch, nil
	}
}

var _ Updater = (*tickets.Service)(nil)
