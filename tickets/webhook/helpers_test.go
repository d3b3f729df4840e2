package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
)

// fastConfig retries within milliseconds so that tests take seconds.
func fastConfig(eps ...webhook.Endpoint) webhook.Config {
	return webhook.Config{
		Endpoints:    eps,
		Timeout:      time.Second,
		MaxAttempts:  4,
		BackoffBase:  20 * time.Millisecond,
		BackoffMax:   100 * time.Millisecond,
		PollInterval: 50 * time.Millisecond,
		Lease:        3 * time.Second,
		Concurrency:  4,
	}
}

func newDispatcher(t *testing.T, c *es.Client, cfg webhook.Config, deps webhook.Deps) *webhook.Dispatcher {
	t.Helper()
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, err := webhook.New(c, cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// run starts d.Run and stops it, checking it returns cleanly, when the test
// ends (before the receiver closes and the indices are removed) or when the
// returned function is called.
func run(t *testing.T, d *webhook.Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// receiver is a fake webhook consumer: it verifies signatures, counts hits
// per delivery id and answers with the status respond returns for the
// n-th hit of that delivery.
type receiver struct {
	srv     *httptest.Server
	secret  []byte
	respond func(n int) int

	mu     sync.Mutex
	hits   map[string]int
	bodies map[string][]byte
	bad    []string // why requests failed verification
}

func newReceiver(t *testing.T, secret string, respond func(n int) int) *receiver {
	t.Helper()
	r := &receiver{secret: []byte(secret), respond: respond, hits: map[string]int{}, bodies: map[string][]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ts, _ := strconv.ParseInt(req.Header.Get(webhook.HeaderTimestamp), 10, 64)
	id := req.Header.Get(webhook.HeaderDelivery)
	var problems []string
	if err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderSignature), ts, body, time.Now(), 5*time.Minute); err != nil {
		problems = append(problems, "verify: "+err.Error())
	}
	var p struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Ticket *tickets.Ticket `json:"ticket"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ID != id || p.Ticket == nil || p.Type != req.Header.Get(webhook.HeaderEvent) {
		problems = append(problems, "body does not match headers: "+string(body))
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.Header.Get("User-Agent") != webhook.UserAgent {
		problems = append(problems, "method or headers: "+req.Method+" "+req.Header.Get("Content-Type")+" "+req.Header.Get("User-Agent"))
	}
	r.mu.Lock()
	r.hits[id]++
	n := r.hits[id]
	r.bodies[id] = body
	r.bad = append(r.bad, problems...)
	r.mu.Unlock()
	code := http.StatusOK
	if r.respond != nil {
		code = r.respond(n)
	}
	w.WriteHeader(code)
}

func (r *receiver) counts() (total int, byID map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byID = map[string]int{}
	for id, n := range r.hits {
		byID[id] = n
		total += n
	}
	return total, byID
}

func (r *receiver) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bad {
		t.Errorf("receiver: %s", b)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until the delivery reaches want and returns it.
func waitStatus(t *testing.T, d *webhook.Dispatcher, id string, want webhook.Status) webhook.Delivery {
	t.Helper()
	var got webhook.Delivery
	waitFor(t, "delivery "+id+" to be "+string(want), 15*time.Second, func() bool {
		var err error
		got, err = d.Delivery(context.Background(), id)
		return err == nil && got.Status == want
	})
	return got
}

// deliveriesOf waits until n deliveries match f and returns them. It
// refreshes the index rather than wait for Elasticsearch to.
func deliveriesOf(t *testing.T, c *es.Client, d *webhook.Dispatcher, f webhook.Filter, n int) []webhook.Delivery {
	t.Helper()
	var got []webhook.Delivery
	waitFor(t, "deliveries to be searchable", 10*time.Second, func() bool {
		if err := c.Refresh(context.Background(), c.Name("webhook-deliveries")); err != nil {
			t.Fatal(err)
		}
		var err error
		got, err = d.Deliveries(context.Background(), f, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(got) >= n
	})
	if len(got) != n {
		t.Fatalf("%d deliveries match %+v, want %d", len(got), f, n)
	}
	return got
}

var base = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func event(ticketID string, typ tickets.EventType, i int, notify ...string) tickets.Event {
	return tickets.Event{
		Type:    typ,
		At:      base.Add(time.Duration(i) * time.Millisecond),
		Actor:   "agent:ana",
		Ticket:  &tickets.Ticket{ID: ticketID, Subject: "退款 refund", Status: tickets.StatusNew, Priority: tickets.PriorityNormal},
		Changes: []tickets.Change{{At: base, Actor: "agent:ana", Action: "created"}},
		Notify:  notify,
	}
}
