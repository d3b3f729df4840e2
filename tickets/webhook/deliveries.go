package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// Filter selects deliveries; empty fields do not filter.
type Filter struct {
	Endpoint string `json:"endpoint,omitempty"`
	TicketID string `json:"ticket_id,omitempty"`
	Status   Status `json:"status,omitempty"`
}

// Page sizes for Deliveries.
const (
	DefaultDeliveriesSize = 50
	MaxDeliveriesSize     = 1000
)

// Deliveries returns up to size deliveries matching f, newest first; size 0
// means DefaultDeliveriesSize. Recent changes are visible after the index
// refreshes (about a second).
func (d *Dispatcher) Deliveries(ctx context.Context, f Filter, size int) ([]Delivery, error) {
	var v tickets.ValidationError
	if f.Status != "" && !slices.Contains(Statuses(), f.Status) {
		v.Add("status", "must be one of pending, in_flight, delivered, failed, dead")
	}
	if size < 0 || size > MaxDeliveriesSize {
		v.Add("size", "must be between 1 and %d", MaxDeliveriesSize)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if size == 0 {
		size = DefaultDeliveriesSize
	}
	filters := []any{}
	term := func(field, value string) {
		if value != "" {
			filters = append(filters, map[string]any{"term": map[string]any{field: value}})
		}
	}
	term("endpoint", f.Endpoint)
	term("ticket_id", f.TicketID)
	term("status", string(f.Status))
	body := map[string]any{
		"size":                size,
		"seq_no_primary_term": true,
		"sort":                []any{map[string]any{"created_at": "desc"}, map[string]any{"id": "asc"}},
		"query":               map[string]any{"bool": map[string]any{"filter": filters}},
	}
	hits, err := d.search(ctx, body)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, len(hits))
	for i, h := range hits {
		out[i] = h.d
	}
	return out, nil
}

// Delivery returns one delivery by id; unlike Deliveries it sees the latest
// write at once.
func (d *Dispatcher) Delivery(ctx context.Context, id string) (Delivery, error) {
	s, err := d.get(ctx, id)
	return s.d, err
}

func (d *Dispatcher) get(ctx context.Context, id string) (stored, error) {
	var res struct {
		SeqNo       int64    `json:"_seq_no"`
		PrimaryTerm int64    `json:"_primary_term"`
		Source      Delivery `json:"_source"`
	}
	err := d.c.Do(ctx, http.MethodGet, d.deliveryPath(id), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound {
		return stored{}, fmt.Errorf("%w: delivery %q", ErrNotFound, id)
	}
	if err != nil {
		return stored{}, fmt.Errorf("webhook: get delivery %s: %w", id, err)
	}
	return stored{d: res.Source, v: tickets.Version{SeqNo: res.SeqNo, PrimaryTerm: res.PrimaryTerm}}, nil
}

// Redeliver starts a delivery over: a dead, failed or delivered delivery
// becomes pending with its attempts reset and is attempted at once (by
// Run, if every slot is busy). A pending one is returned unchanged, since
// it is about to be attempted anyway; one in flight fails with ErrBusy.
func (d *Dispatcher) Redeliver(ctx context.Context, id string) (Delivery, error) {
	for attempt := 0; ; attempt++ {
		s, err := d.get(ctx, id)
		if err != nil {
			return Delivery{}, err
		}
		r := s.d
		switch r.Status {
		case StatusPending:
			return r, nil
		case StatusInFlight:
			return Delivery{}, fmt.Errorf("%w: %s", ErrBusy, id)
		}
		now := d.now().UTC()
		r.Status, r.Attempts, r.NextAttemptAt, r.UpdatedAt = StatusPending, 0, &now, now
		r.LeaseUntil, r.DeliveredAt, r.LastError, r.LastStatusCode = nil, nil, "", 0
		v, err := d.write(ctx, r, s.v)
		if errors.Is(err, errLost) && attempt < 3 {
			continue
		}
		if errors.Is(err, errLost) {
			return Delivery{}, fmt.Errorf("%w: %s", ErrBusy, id)
		}
		if err != nil {
			return Delivery{}, err
		}
		if d.acquire(ctx, false) {
			d.launch(stored{d: r, v: v})
		}
		return r, nil
	}
}
