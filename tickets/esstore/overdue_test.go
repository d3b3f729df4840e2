package esstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

func TestOverdue(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	now := t0.Add(30 * day)
	due := func(d time.Duration) *time.Time { return ptr(now.Add(d)) }
	type clocks struct {
		status           tickets.Status
		frDue, resDue    *time.Time
		answered         bool
		frBreach, resBre bool
	}
	cases := map[string]clocks{
		"first-response-late":   {status: tickets.StatusNew, frDue: due(-time.Hour), resDue: due(time.Hour)},
		"resolution-late":       {status: tickets.StatusOpen, frDue: due(-5 * time.Hour), answered: true, resDue: due(-3 * time.Hour)},
		"pending-late":          {status: tickets.StatusPending, resDue: due(-30 * time.Minute), answered: true},
		"both-late":             {status: tickets.StatusNew, frDue: due(-4 * time.Hour), resDue: due(-time.Minute)},
		"resolved":              {status: tickets.StatusResolved, resDue: due(-5 * time.Hour)},
		"closed":                {status: tickets.StatusClosed, frDue: due(-5 * time.Hour)},
		"already-flagged":       {status: tickets.StatusNew, frDue: due(-2 * time.Hour), frBreach: true, resDue: due(5 * time.Hour)},
		"answered-in-time":      {status: tickets.StatusOpen, frDue: due(-time.Hour), answered: true, resDue: due(time.Hour)},
		"resolution-flagged":    {status: tickets.StatusOpen, resDue: due(-10 * time.Minute), resBre: true, answered: true},
		"not-yet-due":           {status: tickets.StatusNew, frDue: due(time.Hour), resDue: due(2 * time.Hour)},
		"no-sla":                {status: tickets.StatusNew},
		"due-exactly-now":       {status: tickets.StatusNew, frDue: due(0)},
		"flagged-fr-late-res":   {status: tickets.StatusOpen, frDue: due(-9 * time.Hour), frBreach: true, resDue: due(-2 * time.Hour)},
		"answered-late-res-due": {status: tickets.StatusPending, frDue: due(-9 * time.Hour), answered: true, resDue: due(time.Minute)},
	}
	var ts []*tickets.Ticket
	for id, k := range cases {
		ts = append(ts, ticket(id, 0, func(t *tickets.Ticket) {
			t.Status = k.status
			t.SLA = tickets.SLA{Policy: "std", FirstResponseDue: k.frDue, ResolutionDue: k.resDue, FirstResponseBreached: k.frBreach, ResolutionBreached: k.resBre}
			if k.answered {
				t.FirstResponseAt = ptr(t.CreatedAt.Add(time.Minute))
			}
		}))
	}
	seed(t, s, c, ts...)
	ctx := context.Background()
	// Earliest missed clock first: both-late's first response (−4 h),
	// resolution-late (−3 h), flagged-fr-late-res's resolution (−2 h), …
	all := []string{"both-late", "resolution-late", "flagged-fr-late-res", "first-response-late", "pending-late"}
	tests := []struct {
		limit int
		want  []string
	}{
		{0, all},
		{100, all},
		{2, all[:2]},
		{1, all[:1]},
	}
	for _, tt := range tests {
		got, err := s.Overdue(ctx, now, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Overdue(limit %d) = %v, want %v", tt.limit, got, tt.want)
		}
	}
	if got, err := s.Overdue(ctx, t0, 10); err != nil || len(got) != 0 {
		t.Errorf("Overdue before any due time = %v, %v; want none", got, err)
	}
}
