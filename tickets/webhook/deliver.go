package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// Status is where a delivery stands.
type Status string

// Delivery statuses. A delivery moves pending → in_flight → delivered, or
// → failed → in_flight … until it is delivered or dead.
const (
	StatusPending   Status = "pending"   // recorded; the first attempt is due
	StatusInFlight  Status = "in_flight" // claimed by a replica, which is attempting it
	StatusDelivered Status = "delivered" // the receiver answered 2xx
	StatusFailed    Status = "failed"    // the last attempt failed; another is due at NextAttemptAt
	StatusDead      Status = "dead"      // given up; Redeliver starts over
)

// Statuses lists every delivery status.
func Statuses() []Status {
	return []Status{StatusPending, StatusInFlight, StatusDelivered, StatusFailed, StatusDead}
}

// Delivery is one event to be sent to one endpoint, and how that went.
type Delivery struct {
	// ID is derived from the event and the endpoint, so publishing the
	// same event twice records it once; receivers deduplicate on it.
	ID       string            `json:"id"`
	Endpoint string            `json:"endpoint"`
	Event    tickets.EventType `json:"event"`
	TicketID string            `json:"ticket_id"`
	EventAt  time.Time         `json:"event_at"`
	// Payload is the request body, sent unchanged on every attempt.
	Payload        json.RawMessage `json:"payload"`
	Status         Status          `json:"status"`
	Attempts       int             `json:"attempts"`
	NextAttemptAt  *time.Time      `json:"next_attempt_at,omitempty"`
	LeaseUntil     *time.Time      `json:"lease_until,omitempty"`
	ClaimedBy      string          `json:"claimed_by,omitempty"` // the replica that made the last claim
	LastStatusCode int             `json:"last_status_code,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
}

// stored is a delivery at a known revision, so it can be claimed or
// updated with optimistic concurrency.
type stored struct {
	d Delivery
	v tickets.Version
}

// errLost: another writer changed the delivery first (a concurrent claim).
var errLost = errors.New("webhook: delivery changed concurrently")

// payload is the request body.
type payload struct {
	ID      string            `json:"id"`
	Type    tickets.EventType `json:"type"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor,omitempty"`
	Ticket  *tickets.Ticket   `json:"ticket"`
	Changes []tickets.Change  `json:"changes"`
}

// deliveryID identifies an event (ticket, type, instant) sent to one
// endpoint.
func deliveryID(ticketID string, t tickets.EventType, at time.Time, endpoint string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s", ticketID, t, at.UnixNano(), endpoint)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Publish records a delivery of ev for every enabled endpoint subscribed
// to ev.Type and every endpoint named in ev.Notify, then starts attempting
// them in the background. A name in ev.Notify that matches no endpoint (or
// a disabled one) is recorded as a dead delivery and logged, so that a
// misspelt automation rule is visible rather than silently dropped.
// Publishing the same event again (same ticket, type and At) records
// nothing new. Publish returns once the deliveries are stored; an error
// means some could not be.
func (d *Dispatcher) Publish(ctx context.Context, ev tickets.Event) error {
	if ev.Ticket == nil {
		return fmt.Errorf("webhook: publish %s: event has no ticket: %w", ev.Type, ErrInvalid)
	}
	if ev.At.IsZero() {
		ev.At = d.now()
	}
	eps, err := d.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("webhook: publish %s of %s: %w", ev.Type, ev.Ticket.ID, err)
	}
	type target struct{ name, dead string }
	var targets []target
	seen := map[string]bool{}
	names := make([]string, 0, len(eps))
	for n := range eps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if eps[n].subscribes(ev.Type) {
			targets = append(targets, target{name: n})
			seen[n] = true
		}
	}
	for _, n := range ev.Notify {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		e, ok := eps[n]
		if !ok {
			// The cache may predate an endpoint just created elsewhere.
			fresh, _, err := d.endpoint(ctx, n)
			switch {
			case err == nil:
				e, ok = fresh, true
			case !errors.Is(err, ErrNotFound):
				return fmt.Errorf("webhook: publish %s of %s: %w", ev.Type, ev.Ticket.ID, err)
			}
		}
		switch {
		case !ok:
			d.log.WarnContext(ctx, "event names an unknown webhook endpoint; recorded as dead",
				"endpoint", n, "event", ev.Type, "ticket_id", ev.Ticket.ID)
			targets = append(targets, target{name: n, dead: "unknown endpoint"})
		case !e.Enabled:
			d.log.WarnContext(ctx, "event names a disabled webhook endpoint; recorded as dead",
				"endpoint", n, "event", ev.Type, "ticket_id", ev.Ticket.ID)
			targets = append(targets, target{name: n, dead: "endpoint disabled"})
		default:
			targets = append(targets, target{name: n})
		}
	}
	if len(targets) == 0 {
		return nil
	}
	now := d.now().UTC()
	changes := ev.Changes
	if changes == nil {
		changes = []tickets.Change{}
	}
	recs := make([]Delivery, 0, len(targets))
	for _, t := range targets {
		id := deliveryID(ev.Ticket.ID, ev.Type, ev.At, t.name)
		body, err := json.Marshal(payload{ID: id, Type: ev.Type, At: ev.At.UTC(), Actor: ev.Actor, Ticket: ev.Ticket, Changes: changes})
		if err != nil {
			return fmt.Errorf("webhook: encode %s of %s: %w", ev.Type, ev.Ticket.ID, err)
		}
		r := Delivery{
			ID: id, Endpoint: t.name, Event: ev.Type, TicketID: ev.Ticket.ID, EventAt: ev.At.UTC(),
			Payload: body, Status: StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now,
		}
		if t.dead != "" {
			r.Status, r.NextAttemptAt, r.LastError = StatusDead, nil, t.dead
		}
		recs = append(recs, r)
	}
	created, err := d.record(ctx, recs)
	for _, s := range created {
		// When every slot is busy the poller picks the delivery up
		// instead: Publish must not wait on slow receivers.
		if s.d.Status == StatusPending && d.acquire(ctx, false) {
			d.launch(s)
		}
	}
	return err
}

// record creates the delivery documents. A document that exists already
// comes from an earlier publish of the same event and is left alone. It
// returns the documents it created.
func (d *Dispatcher) record(ctx context.Context, recs []Delivery) ([]stored, error) {
	var buf bytes.Buffer
	alias := d.c.Name(deliveriesIndex)
	for _, r := range recs {
		meta, _ := json.Marshal(map[string]any{"create": map[string]any{"_index": alias, "_id": r.ID}})
		doc, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("webhook: encode delivery %s: %w", r.ID, err)
		}
		buf.Write(meta)
		buf.WriteByte('\n')
		buf.Write(doc)
		buf.WriteByte('\n')
	}
	var res struct {
		Items []map[string]struct {
			SeqNo       int64           `json:"_seq_no"`
			PrimaryTerm int64           `json:"_primary_term"`
			Status      int             `json:"status"`
			Error       json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := d.c.Do(ctx, http.MethodPost, "/_bulk", buf.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("webhook: record deliveries: %w", err)
	}
	var out []stored
	var errs []error
	for i, item := range res.Items {
		if i >= len(recs) {
			break
		}
		for _, it := range item { // one key: "create"
			switch {
			case it.Status < 300:
				out = append(out, stored{d: recs[i], v: tickets.Version{SeqNo: it.SeqNo, PrimaryTerm: it.PrimaryTerm}})
			case it.Status == http.StatusConflict:
			default:
				errs = append(errs, fmt.Errorf("webhook: record delivery %s to %s: %d %s", recs[i].ID, recs[i].Endpoint, it.Status, it.Error))
			}
		}
	}
	return out, errors.Join(errs...)
}

// acquire takes an attempt slot, waiting for one when block is set.
func (d *Dispatcher) acquire(ctx context.Context, block bool) bool {
	if block {
		select {
		case d.sem <- struct{}{}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	select {
	case d.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// launch attempts s in the background on a slot the caller acquired,
// unless this Dispatcher is stopping or already attempting s.
func (d *Dispatcher) launch(s stored) {
	d.mu.Lock()
	_, busy := d.busy[s.d.ID]
	if d.stopped || busy {
		d.mu.Unlock()
		<-d.sem
		return
	}
	d.busy[s.d.ID] = struct{}{}
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer func() {
			d.mu.Lock()
			delete(d.busy, s.d.ID)
			d.mu.Unlock()
			<-d.sem
			d.wg.Done()
		}()
		// Detached from the caller: an attempt, once claimed, runs to its
		// own timeout and records its outcome even while shutting down.
		ctx := context.Background()
		log := d.log.With("delivery_id", s.d.ID, "endpoint", s.d.Endpoint, "ticket_id", s.d.TicketID, "event", s.d.Event)
		claimed, ok, err := d.claim(ctx, log, s)
		if err != nil {
			log.ErrorContext(ctx, "claiming webhook delivery failed", "err", err)
			return
		}
		if ok {
			d.deliver(ctx, log, claimed)
		}
	}()
}

// claim marks s in flight under this replica's lease if it is due, with
// optimistic concurrency so that of several replicas claiming the same
// attempt exactly one wins. It reports false when s is not due or another
// replica won.
func (d *Dispatcher) claim(ctx context.Context, log *slog.Logger, s stored) (stored, bool, error) {
	now := d.now().UTC()
	r := s.d
	switch {
	case (r.Status == StatusPending || r.Status == StatusFailed) && (r.NextAttemptAt == nil || !r.NextAttemptAt.After(now)):
	case r.Status == StatusInFlight && r.LeaseUntil != nil && r.LeaseUntil.Before(now):
		// The claimant died or hung mid-attempt. Whether that attempt
		// reached the receiver is unknown, so it is made again: delivery
		// is at least once.
		if r.Attempts >= d.cfg.MaxAttempts {
			r.Status, r.NextAttemptAt, r.LeaseUntil, r.UpdatedAt = StatusDead, nil, nil, now
			r.LastError = "lease expired during the last attempt"
			if _, err := d.write(ctx, r, s.v); err != nil && !errors.Is(err, errLost) {
				return stored{}, false, err
			}
			return stored{}, false, nil
		}
		log.InfoContext(ctx, "taking over a webhook delivery whose lease expired", "claimed_by", r.ClaimedBy, "attempts", r.Attempts)
	default:
		return stored{}, false, nil
	}
	lease := now.Add(d.cfg.Lease)
	r.Status, r.LeaseUntil, r.ClaimedBy, r.UpdatedAt = StatusInFlight, &lease, d.instance, now
	r.Attempts++ // counted before the attempt, so a request that crashes us still ends dead
	v, err := d.write(ctx, r, s.v)
	if errors.Is(err, errLost) {
		return stored{}, false, nil
	}
	if err != nil {
		return stored{}, false, err
	}
	return stored{d: r, v: v}, true, nil
}

// deliver makes the claimed attempt s and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, log *slog.Logger, s stored) {
	r := s.d
	var (
		code       int
		retryAfter time.Duration
		err        error
		terminal   string
	)
	ep, _, lerr := d.endpoint(ctx, r.Endpoint)
	switch {
	case errors.Is(lerr, ErrNotFound):
		terminal = "unknown endpoint"
	case lerr != nil:
		err = lerr
	case !ep.Enabled:
		terminal = "endpoint disabled"
	default:
		code, retryAfter, err = d.post(ep, r)
	}
	now := d.now().UTC()
	r.LeaseUntil, r.UpdatedAt, r.LastStatusCode = nil, now, code
	switch {
	case terminal != "":
		r.Status, r.NextAttemptAt, r.LastError = StatusDead, nil, terminal
	case err == nil:
		r.Status, r.NextAttemptAt, r.LastError, r.DeliveredAt = StatusDelivered, nil, "", &now
	case code == http.StatusGone:
		// The receiver says the hook is gone for good.
		r.Status, r.NextAttemptAt, r.LastError = StatusDead, nil, err.Error()
	case r.Attempts >= d.cfg.MaxAttempts:
		r.Status, r.NextAttemptAt, r.LastError = StatusDead, nil, err.Error()
	default:
		next := now.Add(d.backoff(r.Attempts, retryAfter))
		r.Status, r.NextAttemptAt, r.LastError = StatusFailed, &next, err.Error()
	}
	v, werr := d.write(ctx, r, s.v)
	if werr != nil {
		// Left in flight: after the lease another replica (or this one)
		// attempts it again.
		log.ErrorContext(ctx, "recording webhook attempt failed", "status", r.Status, "err", werr)
		return
	}
	if r.Status == StatusFailed {
		// Retry from here when the backoff ends rather than when a poll
		// next finds it (the index refreshes only about once a second);
		// if this replica stops first, Run on any replica picks it up.
		retry := stored{d: r, v: v}
		time.AfterFunc(r.NextAttemptAt.Sub(now), func() {
			if d.acquire(context.Background(), false) {
				d.launch(retry)
			}
		})
	}
	switch r.Status {
	case StatusDelivered:
		log.DebugContext(ctx, "webhook delivered", "attempts", r.Attempts, "code", code)
	case StatusDead:
		log.WarnContext(ctx, "webhook delivery dead", "attempts", r.Attempts, "code", code, "err", r.LastError)
	default:
		log.InfoContext(ctx, "webhook attempt failed; will retry", "attempts", r.Attempts, "code", code, "err", r.LastError, "next_attempt_at", r.NextAttemptAt)
	}
}

// post sends one signed attempt. A non-2xx answer is an error carrying the
// start of the response body, for the operator.
func (d *Dispatcher) post(ep Endpoint, r Delivery) (code int, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(r.Payload))
	if err != nil {
		return 0, 0, err
	}
	ts := d.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, string(r.Event))
	req.Header.Set(HeaderDelivery, r.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign([]byte(ep.Secret), ts, r.Payload))
	res, err := d.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known from the endpoint; keep the message short
		}
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no answer within %s: %w", d.cfg.Timeout, err)
		}
		return 0, 0, err
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 256))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, 0, nil
	}
	msg := strings.ToValidUTF8(strings.TrimSpace(string(snippet)), "")
	for len(msg) > 200 {
		_, size := utf8.DecodeLastRuneInString(msg)
		msg = msg[:len(msg)-size]
	}
	return res.StatusCode, parseRetryAfter(res.Header.Get("Retry-After")), fmt.Errorf("HTTP %d: %s", res.StatusCode, msg)
}

// parseRetryAfter reads a Retry-After header in seconds; the date form is
// rare from webhook receivers and ignored.
func parseRetryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// backoff is the wait after the attempts-th failed attempt: BackoffBase
// doubled per earlier failure, ±20% so that deliveries failing together do
// not retry in lockstep, at most BackoffMax. A receiver's Retry-After wins
// when it asks for longer.
func (d *Dispatcher) backoff(attempts int, retryAfter time.Duration) time.Duration {
	w := d.cfg.BackoffBase
	for i := 1; i < attempts && w < d.cfg.BackoffMax; i++ {
		w *= 2
	}
	w = min(w, d.cfg.BackoffMax)
	if j := int64(w) * 2 / 5; j > 0 {
		w = w*4/5 + time.Duration(rand.Int64N(j+1))
	}
	w = max(w, retryAfter)
	return min(w, d.cfg.BackoffMax)
}

func (d *Dispatcher) deliveryPath(id string) string {
	return "/" + d.c.Name(deliveriesIndex) + "/_doc/" + url.PathEscape(id)
}

// write replaces a delivery if it is still at version v; errLost
// otherwise.
func (d *Dispatcher) write(ctx context.Context, r Delivery, v tickets.Version) (tickets.Version, error) {
	var res struct {
		SeqNo       int64 `json:"_seq_no"`
		PrimaryTerm int64 `json:"_primary_term"`
	}
	path := fmt.Sprintf("%s?if_seq_no=%d&if_primary_term=%d", d.deliveryPath(r.ID), v.SeqNo, v.PrimaryTerm)
	err := d.c.Do(ctx, http.MethodPut, path, r, &res)
	if es.StatusOf(err) == http.StatusConflict {
		return tickets.Version{}, errLost
	}
	if err != nil {
		return tickets.Version{}, fmt.Errorf("webhook: update delivery %s: %w", r.ID, err)
	}
	return tickets.Version{SeqNo: res.SeqNo, PrimaryTerm: res.PrimaryTerm}, nil
}

// Run retries failed deliveries and takes over those another replica left
// behind, polling every PollInterval, until ctx is done; then it waits up
// to ShutdownTimeout for attempts in flight to finish and returns. Call it
// once. After it returns Publish still records deliveries but starts no
// attempts: another replica's Run, or this one's after a restart, makes
// them.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.log.InfoContext(ctx, "webhook dispatcher started", "instance", d.instance, "poll_interval", d.cfg.PollInterval)
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	for {
		if ctx.Err() == nil {
			d.poll(ctx)
		}
		select {
		case <-ctx.Done():
			return d.shutdown()
		case <-tick.C:
		}
	}
}

func (d *Dispatcher) shutdown() error {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		d.log.Info("webhook dispatcher stopped", "instance", d.instance)
		return nil
	case <-t.C:
		d.mu.Lock()
		n := len(d.busy)
		d.mu.Unlock()
		// Their leases expire and another replica attempts them again.
		return fmt.Errorf("webhook: %d attempts still in flight after %s", n, d.cfg.ShutdownTimeout)
	}
}

// poll starts attempts for deliveries that are due, or stuck in flight
// past their lease.
func (d *Dispatcher) poll(ctx context.Context) {
	due, err := d.due(ctx, d.now().UTC())
	if err != nil {
		if ctx.Err() == nil {
			d.log.WarnContext(ctx, "looking for due webhook deliveries failed", "err", err)
		}
		return
	}
	for _, s := range due {
		if !d.acquire(ctx, true) {
			return
		}
		d.launch(s)
	}
}

func (d *Dispatcher) due(ctx context.Context, now time.Time) ([]stored, error) {
	ms := now.UnixMilli()
	body := map[string]any{
		"size":                d.cfg.BatchSize,
		"seq_no_primary_term": true,
		"sort":                []any{map[string]any{"next_attempt_at": map[string]any{"order": "asc"}}},
		"query": map[string]any{"bool": map[string]any{
			"minimum_should_match": 1,
			"should": []any{
				map[string]any{"bool": map[string]any{"filter": []any{
					map[string]any{"terms": map[string]any{"status": []Status{StatusPending, StatusFailed}}},
					map[string]any{"range": map[string]any{"next_attempt_at": map[string]any{"lte": ms, "format": "epoch_millis"}}},
				}}},
				map[string]any{"bool": map[string]any{"filter": []any{
					map[string]any{"term": map[string]any{"status": StatusInFlight}},
					map[string]any{"range": map[string]any{"lease_until": map[string]any{"lt": ms, "format": "epoch_millis"}}},
				}}},
			},
		}},
	}
	return d.search(ctx, body)
}

func (d *Dispatcher) search(ctx context.Context, body map[string]any) ([]stored, error) {
	var res struct {
		Hits struct {
			Hits []struct {
				SeqNo       int64    `json:"_seq_no"`
				PrimaryTerm int64    `json:"_primary_term"`
				Source      Delivery `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := d.c.Do(ctx, http.MethodPost, "/"+d.c.Name(deliveriesIndex)+"/_search", body, &res); err != nil {
		return nil, fmt.Errorf("webhook: search deliveries: %w", err)
	}
	out := make([]stored, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, stored{d: h.Source, v: tickets.Version{SeqNo: h.SeqNo, PrimaryTerm: h.PrimaryTerm}})
	}
	return out, nil
}

var _ tickets.Publisher = (*Dispatcher)(nil)
