package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
)

const staticSecret = "static-secret-0123456789"

func TestSignedDelivery(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	// Receivers first, so that they outlive the dispatcher at cleanup.
	dyn := newReceiver(t, "", nil)
	static := newReceiver(t, staticSecret, nil)
	d := newDispatcher(t, c, fastConfig(webhook.Endpoint{
		Name: "supervisors", URL: static.srv.URL, Secret: staticSecret, Enabled: true, // no events: only when named
	}), webhook.Deps{})
	run(t, d)

	ep, err := d.CreateEndpoint(ctx, webhook.Endpoint{
		Name: "crm", URL: dyn.srv.URL + "/hook", Enabled: true,
		Events: []tickets.EventType{tickets.EventCreated, tickets.EventCreated},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ep.Secret) < webhook.MinSecretLen || !ep.SecretSet && ep.Secret == "" {
		t.Fatalf("Create returned secret %q; want a generated one", ep.Secret)
	}
	if len(ep.Events) != 1 {
		t.Errorf("events = %v, want duplicates removed", ep.Events)
	}
	dyn.secret = []byte(ep.Secret)

	ev := event("T-1", tickets.EventCreated, 0, "supervisors")
	if err := d.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
	// Publishing the same event again records and delivers nothing new.
	if err := d.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
	// An event type "crm" does not subscribe to reaches nobody.
	if err := d.Publish(ctx, event("T-1", tickets.EventCommented, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both receivers to be called", 10*time.Second, func() bool {
		a, _ := dyn.counts()
		b, _ := static.counts()
		return a == 1 && b == 1
	})
	dyn.check(t)
	static.check(t)

	got := deliveriesOf(t, c, d, webhook.Filter{TicketID: "T-1"}, 2)
	for _, g := range got {
		g = waitStatus(t, d, g.ID, webhook.StatusDelivered)
		if g.Attempts != 1 || g.LastStatusCode != 200 || g.DeliveredAt == nil || g.Event != tickets.EventCreated {
			t.Errorf("delivery %+v", g)
		}
		var p map[string]any
		if err := json.Unmarshal(g.Payload, &p); err != nil || p["id"] != g.ID || p["type"] != string(tickets.EventCreated) {
			t.Errorf("stored payload %s: %v", g.Payload, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // a duplicate would have arrived by now
	if n, _ := dyn.counts(); n != 1 {
		t.Errorf("re-published event delivered %d times, want once", n)
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name         string
		respond      func(n int) int
		wantStatus   webhook.Status
		wantAttempts int
		wantCode     int
	}{
		{"fails 3 times then succeeds", func(n int) int {
			if n <= 3 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		}, webhook.StatusDelivered, 4, http.StatusNoContent},
		{"always 500 ends dead after MaxAttempts", func(int) int { return http.StatusInternalServerError }, webhook.StatusDead, 4, 500},
		{"410 Gone is dead at once", func(int) int { return http.StatusGone }, webhook.StatusDead, 1, 410},
		{"other 4xx is retried", func(n int) int {
			if n == 1 {
				return http.StatusNotFound
			}
			return http.StatusOK
		}, webhook.StatusDelivered, 2, 200},
		{"429 is retried", func(n int) int {
			if n == 1 {
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		}, webhook.StatusDelivered, 2, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := estest.Client(t)
			ctx := context.Background()
			rcv := newReceiver(t, staticSecret, tc.respond)
			d := newDispatcher(t, c, fastConfig(webhook.Endpoint{
				Name: "erp", URL: rcv.srv.URL, Secret: staticSecret, Enabled: true,
				Events: []tickets.EventType{tickets.EventStatusChanged},
			}), webhook.Deps{})
			run(t, d)
			if err := d.Publish(ctx, event("T-9", tickets.EventStatusChanged, 0)); err != nil {
				t.Fatal(err)
			}
			id := deliveriesOf(t, c, d, webhook.Filter{Endpoint: "erp"}, 1)[0].ID
			got := waitStatus(t, d, id, tc.wantStatus)
			total, _ := rcv.counts()
			if got.Attempts != tc.wantAttempts || total != tc.wantAttempts || got.LastStatusCode != tc.wantCode {
				t.Errorf("attempts %d, receiver hits %d, last code %d; want %d, %d, %d (%+v)",
					got.Attempts, total, got.LastStatusCode, tc.wantAttempts, tc.wantAttempts, tc.wantCode, got)
			}
			if tc.wantStatus == webhook.StatusDead && !strings.Contains(got.LastError, fmt.Sprint(tc.wantCode)) {
				t.Errorf("last error %q does not say what the receiver answered", got.LastError)
			}
			rcv.check(t)
		})
	}
}

func TestUnknownEndpointIsRecordedAndRedeliverable(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	rcv := newReceiver(t, staticSecret, nil)
	d := newDispatcher(t, c, fastConfig(), webhook.Deps{})
	run(t, d)

	if err := d.Publish(ctx, event("T-2", tickets.EventEscalated, 0, "later")); err != nil {
		t.Fatal(err)
	}
	got := deliveriesOf(t, c, d, webhook.Filter{Endpoint: "later", Status: webhook.StatusDead}, 1)[0]
	if got.LastError != "unknown endpoint" || got.Attempts != 0 || got.TicketID != "T-2" {
		t.Fatalf("dead delivery %+v", got)
	}

	// Once the endpoint exists, the operator redelivers it.
	if _, err := d.CreateEndpoint(ctx, webhook.Endpoint{Name: "later", URL: rcv.srv.URL, Secret: staticSecret, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Redeliver(ctx, got.ID); err != nil {
		t.Fatal(err)
	}
	done := waitStatus(t, d, got.ID, webhook.StatusDelivered)
	if done.Attempts != 1 {
		t.Errorf("attempts after redelivery = %d, want 1", done.Attempts)
	}
	if total, _ := rcv.counts(); total != 1 {
		t.Errorf("receiver hits = %d, want 1", total)
	}
	rcv.check(t)

	if _, err := d.Redeliver(ctx, "no-such-delivery"); !errors.Is(err, webhook.ErrNotFound) || !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("Redeliver of a missing delivery: %v, want ErrNotFound", err)
	}
}

// Two replicas polling one index deliver every delivery exactly once.
func TestReplicasDeliverExactlyOnce(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	rcv := newReceiver(t, staticSecret, nil)
	cfg := fastConfig(webhook.Endpoint{
		Name: "bi", URL: rcv.srv.URL, Secret: staticSecret, Enabled: true,
		Events: []tickets.EventType{tickets.EventUpdated},
	})

	// A stopped replica records deliveries without attempting them, so
	// both running replicas find all of them on their first polls.
	recorder := newDispatcher(t, c, cfg, webhook.Deps{})
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := recorder.Run(stopped); err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		if err := recorder.Publish(ctx, event(fmt.Sprintf("T-%d", i), tickets.EventUpdated, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Refresh(ctx, c.Name("webhook-deliveries")); err != nil {
		t.Fatal(err)
	}
	a := newDispatcher(t, c, cfg, webhook.Deps{})
	b := newDispatcher(t, c, cfg, webhook.Deps{})
	run(t, a)
	run(t, b)
	// More events arrive while both run, through both.
	for i := n; i < n+10; i++ {
		if err := []*webhook.Dispatcher{a, b}[i%2].Publish(ctx, event(fmt.Sprintf("T-%d", i), tickets.EventUpdated, i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all deliveries", 15*time.Second, func() bool {
		_, by := rcv.counts()
		return len(by) == n+10
	})
	time.Sleep(300 * time.Millisecond) // let any duplicate arrive
	total, by := rcv.counts()
	if total != n+10 {
		for id, k := range by {
			if k != 1 {
				t.Errorf("delivery %s received %d times", id, k)
			}
		}
		t.Fatalf("receiver got %d requests for %d deliveries", total, n+10)
	}
	for _, g := range deliveriesOf(t, c, a, webhook.Filter{Endpoint: "bi"}, n+10) {
		if g = waitStatus(t, b, g.ID, webhook.StatusDelivered); g.Attempts != 1 {
			t.Errorf("delivery %s: %d attempts, want 1", g.ID, g.Attempts)
		}
	}
	rcv.check(t)
}

// A delivery recorded while its Dispatcher was stopped is delivered by the
// next one.
func TestPendingDeliverySurvivesRestart(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	rcv := newReceiver(t, staticSecret, nil)
	cfg := fastConfig(webhook.Endpoint{
		Name: "erp", URL: rcv.srv.URL, Secret: staticSecret, Enabled: true,
		Events: []tickets.EventType{tickets.EventCreated},
	})
	first := newDispatcher(t, c, cfg, webhook.Deps{})
	stop := run(t, first)
	stop()
	if err := first.Publish(ctx, event("T-3", tickets.EventCreated, 0)); err != nil {
		t.Fatal(err)
	}
	pending := deliveriesOf(t, c, first, webhook.Filter{Endpoint: "erp"}, 1)[0]
	time.Sleep(200 * time.Millisecond)
	if total, _ := rcv.counts(); total != 0 || pending.Status != webhook.StatusPending {
		t.Fatalf("stopped dispatcher delivered (%d hits, status %s)", total, pending.Status)
	}

	second := newDispatcher(t, c, cfg, webhook.Deps{})
	run(t, second)
	waitStatus(t, second, pending.ID, webhook.StatusDelivered)
	if total, _ := rcv.counts(); total != 1 {
		t.Errorf("receiver hits = %d, want 1", total)
	}
	rcv.check(t)
}

// hangingTransport simulates a replica that dies mid-attempt: its requests
// never return (ignoring their context) until released.
type hangingTransport struct{ release chan struct{} }

func (h hangingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	<-h.release
	return nil, errors.New("replica crashed")
}

func TestStuckAttemptIsTakenOver(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	rcv := newReceiver(t, staticSecret, nil)
	cfg := fastConfig(webhook.Endpoint{
		Name: "erp", URL: rcv.srv.URL, Secret: staticSecret, Enabled: true,
		Events: []tickets.EventType{tickets.EventCreated},
	})
	cfg.Timeout, cfg.Lease = 300*time.Millisecond, 700*time.Millisecond

	healthy := newDispatcher(t, c, cfg, webhook.Deps{})
	run(t, healthy)
	release := make(chan struct{})
	crashed := newDispatcher(t, c, cfg, webhook.Deps{HTTPClient: &http.Client{Transport: hangingTransport{release}}})
	run(t, crashed)
	t.Cleanup(func() { close(release) }) // runs before the dispatchers stop

	if err := crashed.Publish(ctx, event("T-4", tickets.EventCreated, 0)); err != nil {
		t.Fatal(err)
	}
	id := deliveriesOf(t, c, healthy, webhook.Filter{Endpoint: "erp"}, 1)[0].ID
	got := waitStatus(t, healthy, id, webhook.StatusDelivered)
	if got.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the lost one and the takeover)", got.Attempts)
	}
	if total, _ := rcv.counts(); total != 1 {
		t.Errorf("receiver hits = %d, want 1", total)
	}
}

func TestEndpoints(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	rcv := newReceiver(t, "rotated-secret-0123456789", nil)
	d := newDispatcher(t, c, fastConfig(webhook.Endpoint{
		Name: "static", URL: "https://example.com/hook", Secret: staticSecret, Enabled: true,
	}), webhook.Deps{})
	run(t, d)

	const secret = "supplied-secret-0123456789"
	created, err := d.CreateEndpoint(ctx, webhook.Endpoint{Name: "crm", URL: rcv.srv.URL, Secret: secret, Enabled: true,
		Events: []tickets.EventType{tickets.EventCreated}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Secret != "" || !created.SecretSet || created.CreatedAt.IsZero() {
		t.Errorf("Create with a supplied secret returned %+v; want it redacted", created)
	}

	invalid := []struct {
		name   string
		ep     webhook.Endpoint
		fields []string
	}{
		{"bad name, url, secret and event", webhook.Endpoint{Name: "Bad Name", URL: "ftp://x", Secret: "short",
			Events: []tickets.EventType{"ticket.exploded"}}, []string{"name", "url", "secret", "events[0]"}},
		{"relative url", webhook.Endpoint{Name: "rel", URL: "/hook"}, []string{"url"}},
		{"name too long", webhook.Endpoint{Name: strings.Repeat("a", 64), URL: "http://x"}, []string{"name"}},
		{"leading dash", webhook.Endpoint{Name: "-x", URL: "http://x"}, []string{"name"}},
	}
	for _, tc := range invalid {
		_, err := d.CreateEndpoint(ctx, tc.ep)
		var ve *tickets.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("%s: %v, want a ValidationError", tc.name, err)
			continue
		}
		var fields []string
		for _, v := range ve.Violations {
			fields = append(fields, v.Field)
		}
		if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: violations on %v, want %v", tc.name, fields, tc.fields)
		}
	}

	errCases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate", second(d.CreateEndpoint(ctx, webhook.Endpoint{Name: "crm", URL: "http://x"})), webhook.ErrExists},
		{"shadowing a static one", second(d.CreateEndpoint(ctx, webhook.Endpoint{Name: "static", URL: "http://x"})), webhook.ErrExists},
		{"update static", second(d.UpdateEndpoint(ctx, "static", webhook.Endpoint{URL: "http://x"})), webhook.ErrReadOnly},
		{"delete static", d.DeleteEndpoint(ctx, "static"), webhook.ErrReadOnly},
		{"get missing", second(d.GetEndpoint(ctx, "nope")), webhook.ErrNotFound},
		{"update missing", second(d.UpdateEndpoint(ctx, "nope", webhook.Endpoint{URL: "http://x"})), webhook.ErrNotFound},
		{"delete missing", d.DeleteEndpoint(ctx, "nope"), webhook.ErrNotFound},
		{"rename", second(d.UpdateEndpoint(ctx, "crm", webhook.Endpoint{Name: "other", URL: "http://x"})), webhook.ErrInvalid},
	}
	for _, tc := range errCases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := d.DeleteEndpoint(ctx, "static"); !errors.Is(err, tickets.ErrConflict) {
		t.Errorf("ErrReadOnly should map to the conflict kind, got %v", err)
	}

	// An update without a secret keeps it; the receiver would reject a
	// delivery signed with anything else.
	upd, err := d.UpdateEndpoint(ctx, "crm", webhook.Endpoint{URL: rcv.srv.URL + "/v2", Enabled: true,
		Events: []tickets.EventType{tickets.EventCommented}})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.CreatedAt.Equal(created.CreatedAt) || upd.URL != rcv.srv.URL+"/v2" || !upd.SecretSet {
		t.Errorf("updated endpoint %+v", upd)
	}
	rcv.secret = []byte(secret)
	if err := d.Publish(ctx, event("T-5", tickets.EventCommented, 0)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after update", 10*time.Second, func() bool { n, _ := rcv.counts(); return n == 1 })
	rcv.check(t)
	// Rotating the secret changes the signature.
	if _, err := d.UpdateEndpoint(ctx, "crm", webhook.Endpoint{URL: rcv.srv.URL, Secret: "rotated-secret-0123456789", Enabled: true,
		Events: []tickets.EventType{tickets.EventCommented}}); err != nil {
		t.Fatal(err)
	}
	rcv.secret = []byte("rotated-secret-0123456789")
	if err := d.Publish(ctx, event("T-5", tickets.EventCommented, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after rotation", 10*time.Second, func() bool { n, _ := rcv.counts(); return n == 2 })
	rcv.check(t)

	// Secrets never leave through List or Get.
	list, err := d.ListEndpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	one, err := d.GetEndpoint(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.GetEndpoint(ctx, "static")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"list": list, "one": one, "static": st, "updated": upd})
	for _, s := range []string{secret, staticSecret, "rotated-secret", `"secret":`} {
		if strings.Contains(string(raw), s) {
			t.Errorf("List/Get JSON contains %q: %s", s, raw)
		}
	}
	if len(list) != 2 || list[0].Name != "crm" || list[1].Name != "static" || !list[1].ReadOnly || list[0].ReadOnly ||
		!list[0].SecretSet || !list[1].SecretSet {
		t.Errorf("List = %+v", list)
	}

	if err := d.DeleteEndpoint(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetEndpoint(ctx, "crm"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef")
	body := []byte(`{"id":"d1","type":"ticket.created"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := now.Unix()
	sig := webhook.Sign(secret, ts, body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("Sign = %q", sig)
	}
	cases := []struct {
		name      string
		secret    []byte
		header    string
		ts        int64
		body      []byte
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, sig, ts, body, 5 * time.Minute, nil},
		{"valid within tolerance", secret, webhook.Sign(secret, ts-200, body), ts - 200, body, 5 * time.Minute, nil},
		{"tampered body", secret, sig, ts, []byte(`{"id":"d1","type":"ticket.closed"}`), 5 * time.Minute, webhook.ErrSignature},
		{"timestamp swapped", secret, sig, ts + 1, body, 5 * time.Minute, webhook.ErrSignature},
		{"wrong secret", []byte("fedcba9876543210"), sig, ts, body, 5 * time.Minute, webhook.ErrSignature},
		{"old timestamp", secret, webhook.Sign(secret, ts-3600, body), ts - 3600, body, 5 * time.Minute, webhook.ErrStale},
		{"future timestamp", secret, webhook.Sign(secret, ts+3600, body), ts + 3600, body, 5 * time.Minute, webhook.ErrStale},
		{"old timestamp without tolerance", secret, webhook.Sign(secret, ts-3600, body), ts - 3600, body, 0, nil},
		{"no prefix", secret, strings.TrimPrefix(sig, "sha256="), ts, body, 5 * time.Minute, webhook.ErrSignature},
		{"not hex", secret, "sha256=zz", ts, body, 5 * time.Minute, webhook.ErrSignature},
		{"truncated", secret, sig[:len(sig)-2], ts, body, 5 * time.Minute, webhook.ErrSignature},
		{"empty", secret, "", ts, body, 5 * time.Minute, webhook.ErrSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.header, tc.ts, tc.body, now, tc.tolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := webhook.Endpoint{Name: "a", URL: "https://x/y", Secret: staticSecret, Enabled: true}
	cases := []struct {
		name   string
		cfg    webhook.Config
		fields []string
	}{
		{"zero is complete", webhook.Config{}, nil},
		{"static endpoint", webhook.Config{Endpoints: []webhook.Endpoint{ok}}, nil},
		{"static endpoint needs a secret", webhook.Config{Endpoints: []webhook.Endpoint{{Name: "a", URL: "https://x"}}},
			[]string{"webhooks.endpoints[0].secret"}},
		{"duplicate static names", webhook.Config{Endpoints: []webhook.Endpoint{ok, ok}}, []string{"webhooks.endpoints[1].name"}},
		{"lease not above timeout", webhook.Config{Timeout: time.Minute, Lease: time.Minute}, []string{"webhooks.lease"}},
		{"backoff max below base", webhook.Config{BackoffBase: time.Minute, BackoffMax: time.Second}, []string{"webhooks.backoff_max"}},
		{"negatives", webhook.Config{MaxAttempts: -1, Concurrency: -1, PollInterval: -1},
			[]string{"webhooks.poll_interval", "webhooks.max_attempts", "webhooks.concurrency"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var ve *tickets.ValidationError
			var fields []string
			if errors.As(err, &ve) {
				for _, v := range ve.Violations {
					fields = append(fields, v.Field)
				}
			} else if err != nil {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("violations %v, want %v", fields, tc.fields)
			}
		})
	}
}
