package enrich_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/enrich"
)

// crm is a fake CRM whose behaviour a test can change between calls.
type crm struct {
	srv *httptest.Server

	mu      sync.Mutex
	handler http.HandlerFunc
	calls   int
	last    *http.Request
}

func newCRM(t *testing.T, h http.HandlerFunc) *crm {
	t.Helper()
	c := &crm{handler: h}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.calls++
		c.last = r
		h := c.handler
		c.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *crm) set(h http.HandlerFunc) {
	c.mu.Lock()
	c.handler = h
	c.mu.Unlock()
}

func (c *crm) stats() (int, *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls, c.last
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func body(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, s)
	}
}

// fast keeps retries and breaker cool-downs short.
func fast(url string) enrich.Config {
	return enrich.Config{
		URL:             url,
		Timeout:         time.Second,
		BackoffBase:     5 * time.Millisecond,
		BackoffMax:      20 * time.Millisecond,
		BreakerCooldown: 200 * time.Millisecond,
	}
}

func newConnector(t *testing.T, cfg enrich.Config) *enrich.Connector {
	t.Helper()
	c, err := enrich.New(cfg, enrich.Deps{
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Getenv: func(k string) string { return map[string]string{"CRM_TOKEN": "Bearer s3cret"}[k] },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var customer = tickets.Customer{ID: "C-42", Name: "Li Wei", Phone: "+86 138 0013 8000", Email: "li.wei@example.com"}

func TestEnrich(t *testing.T) {
	orders := `{"orders":[{"id":9007199254740993,"status":"shipped"}],"tier":"gold"}`
	cases := []struct {
		name      string
		template  string // %s is the CRM's base URL
		handler   http.HandlerFunc
		customer  tickets.Customer
		want      string // JSON of the result; "" for none
		wantErr   error
		wantCalls int
		check     func(t *testing.T, r *http.Request)
	}{
		{
			name: "happy path", template: "%s/api/customers/{id}/orders", handler: body(orders), customer: customer,
			want: `{"crm":` + orders + `}`, wantCalls: 1,
			check: func(t *testing.T, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/api/customers/C-42/orders" {
					t.Errorf("request %s %s", r.Method, r.URL)
				}
				if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Tenant") != "acme" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("headers %v", r.Header)
				}
			},
		},
		{
			name: "placeholders are escaped for path and query", customer: tickets.Customer{
				ID: "a/b c?", Phone: "+86 138-0000", Email: "li+x@example.com", Name: "王 小明&co=1"},
			template: "%s/api/customers/{id}/orders?phone={phone}&email={email}&name={name}", handler: body(`{}`),
			want: `{"crm":{}}`, wantCalls: 1,
			check: func(t *testing.T, r *http.Request) {
				if p := r.URL.EscapedPath(); p != "/api/customers/a%2Fb%20c%3F/orders" {
					t.Errorf("escaped path %q", p)
				}
				q := r.URL.Query()
				if q.Get("phone") != "+86 138-0000" || q.Get("email") != "li+x@example.com" || q.Get("name") != "王 小明&co=1" || len(q) != 3 {
					t.Errorf("query %q decodes to %v", r.URL.RawQuery, q)
				}
			},
		},
		{
			name: "missing fields are sent empty", template: "%s/find?phone={phone}&email={email}", handler: body(`{"ok":true}`),
			customer: tickets.Customer{Phone: "10086"}, want: `{"crm":{"ok":true}}`, wantCalls: 1,
			check: func(t *testing.T, r *http.Request) {
				if r.URL.RawQuery != "phone=10086&email=" {
					t.Errorf("query %q", r.URL.RawQuery)
				}
			},
		},
		{
			name: "customer without the needed fields is not looked up", template: "%s/find?phone={phone}&email={email}",
			handler: body(orders), customer: tickets.Customer{ID: "C-1", Name: "Li"}, wantCalls: 0,
		},
		{name: "static URL is always fetched", template: "%s/status", handler: body(`{"up":true}`),
			customer: tickets.Customer{Name: "x"}, want: `{"crm":{"up":true}}`, wantCalls: 1},
		{name: "404 is an unknown customer", template: "%s/c/{id}", handler: status(http.StatusNotFound), customer: customer, wantCalls: 1},
		{name: "non-JSON body", template: "%s/c/{id}", handler: body(`<html>oops</html>`), customer: customer,
			wantErr: enrich.ErrResponse, wantCalls: 1},
		{name: "JSON array is not an object", template: "%s/c/{id}", handler: body(`[1,2]`), customer: customer,
			wantErr: enrich.ErrResponse, wantCalls: 1},
		{name: "JSON null is not an object", template: "%s/c/{id}", handler: body(`null`), customer: customer,
			wantErr: enrich.ErrResponse, wantCalls: 1},
		{name: "trailing garbage", template: "%s/c/{id}", handler: body(`{"a":1} {"b":2}`), customer: customer,
			wantErr: enrich.ErrResponse, wantCalls: 1},
		{name: "oversized body", template: "%s/c/{id}", customer: customer, wantErr: enrich.ErrResponse, wantCalls: 1,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"blob":"%s"}`, strings.Repeat("x", 1<<20))
			}},
		{name: "oversized body without length", template: "%s/c/{id}", customer: customer, wantErr: enrich.ErrResponse, wantCalls: 1,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprint(w, `{"blob":"`)
				w.(http.Flusher).Flush() // chunked: no Content-Length
				fmt.Fprintf(w, `%s"}`, strings.Repeat("x", 1<<20))
			}},
		{name: "400 is not retried", template: "%s/c/{id}", handler: status(http.StatusBadRequest), customer: customer,
			wantErr: enrich.ErrResponse, wantCalls: 1},
		{name: "401 is not retried", template: "%s/c/{id}", handler: status(http.StatusUnauthorized), customer: customer,
			wantErr: enrich.ErrResponse, wantCalls: 1},
		{name: "503 is retried, then unavailable", template: "%s/c/{id}", handler: status(http.StatusServiceUnavailable), customer: customer,
			wantErr: tickets.ErrUnavailable, wantCalls: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCRM(t, tc.handler)
			cfg := fast(fmt.Sprintf(tc.template, srv.srv.URL))
			cfg.Headers = map[string]string{"X-Tenant": "acme"}
			cfg.HeadersFromEnv = map[string]string{"Authorization": "CRM_TOKEN"}
			c := newConnector(t, cfg)
			got, err := c.Enrich(context.Background(), tc.customer)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Enrich error = %v, want %v", err, tc.wantErr)
			}
			gotJSON := ""
			if len(got) > 0 {
				b, _ := json.Marshal(got)
				gotJSON = string(b)
			}
			if gotJSON != tc.want {
				t.Errorf("Enrich = %s, want %s", gotJSON, tc.want)
			}
			calls, last := srv.stats()
			if calls != tc.wantCalls {
				t.Errorf("CRM called %d times, want %d", calls, tc.wantCalls)
			}
			if tc.check != nil && last != nil {
				tc.check(t, last)
			}
		})
	}
}

func TestSlowCRMTimesOut(t *testing.T) {
	srv := newCRM(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	cfg := fast(srv.srv.URL + "/c/{id}")
	cfg.Timeout, cfg.Attempts = 100*time.Millisecond, 2
	c := newConnector(t, cfg)
	start := time.Now()
	_, err := c.Enrich(context.Background(), customer)
	if !errors.Is(err, enrich.ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("Enrich = %v, want a timeout", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s", el)
	}
	if calls, _ := srv.stats(); calls != 2 {
		t.Errorf("calls = %d, want 2 (one retry)", calls)
	}

	// A caller giving up is not the CRM's fault: the breaker stays closed.
	cfg.BreakerFailures, cfg.Timeout = 1, time.Second
	c = newConnector(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Enrich(ctx, customer); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Enrich with an expiring context = %v, want DeadlineExceeded", err)
	}
	if c.State() != "closed" {
		t.Errorf("breaker %s after the caller gave up, want closed", c.State())
	}
}

func TestFlappingCRMSucceedsOnRetry(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := newCRM(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		switch k {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			body(`{"tier":"silver"}`)(w, r)
		}
	})
	c := newConnector(t, fast(srv.srv.URL+"/c/{id}"))
	got, err := c.Enrich(context.Background(), customer)
	if err != nil {
		t.Fatal(err)
	}
	if crm, _ := got["crm"].(map[string]any); crm["tier"] != "silver" {
		t.Errorf("Enrich = %v", got)
	}
	if calls, _ := srv.stats(); calls != 3 {
		t.Errorf("calls = %d, want 3", calls)
	}
}

func TestCircuitBreaker(t *testing.T) {
	srv := newCRM(t, status(http.StatusInternalServerError))
	cfg := fast(srv.srv.URL + "/c/{id}")
	cfg.Attempts, cfg.BreakerFailures, cfg.Key = 1, 3, "erp"
	c := newConnector(t, cfg)
	ctx := context.Background()

	steps := []struct {
		name      string
		before    func()
		wantErr   error
		wantCalls int // total so far
		wantState string
	}{
		{"failure 1", nil, enrich.ErrUnavailable, 1, "closed"},
		{"failure 2", nil, enrich.ErrUnavailable, 2, "closed"},
		{"failure 3 opens", nil, enrich.ErrUnavailable, 3, "open"},
		{"open: CRM not called", nil, enrich.ErrCircuitOpen, 3, "open"},
		{"still open", nil, enrich.ErrCircuitOpen, 3, "open"},
		{"half-open trial fails: open again", func() { time.Sleep(250 * time.Millisecond) }, enrich.ErrUnavailable, 4, "open"},
		{"open again: not called", nil, enrich.ErrCircuitOpen, 4, "open"},
		{"half-open trial succeeds: closed", func() {
			srv.set(body(`{"ok":1}`))
			time.Sleep(250 * time.Millisecond)
		}, nil, 5, "closed"},
		{"closed: called", nil, nil, 6, "closed"},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		got, err := c.Enrich(ctx, customer)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("%s: Enrich error = %v, want %v", s.name, err, s.wantErr)
		}
		if s.wantErr == nil && got["erp"] == nil {
			t.Errorf("%s: Enrich = %v, want the answer under erp", s.name, got)
		}
		if calls, _ := srv.stats(); calls != s.wantCalls || c.State() != s.wantState {
			t.Errorf("%s: %d calls, breaker %s; want %d, %s", s.name, calls, c.State(), s.wantCalls, s.wantState)
		}
	}
	if !errors.Is(enrich.ErrCircuitOpen, tickets.ErrUnavailable) {
		t.Error("ErrCircuitOpen should be of the unavailable kind")
	}
}

func TestConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     enrich.Config
		wantErr string // substring; "" for valid
	}{
		{"template", enrich.Config{URL: "https://crm.example/api/customers/{id}/orders?phone={phone}&email={email}"}, ""},
		{"static URL", enrich.Config{URL: "http://crm.example/status"}, ""},
		{"empty", enrich.Config{}, "enrich.url: is required"},
		{"relative", enrich.Config{URL: "/c/{id}"}, "absolute http or https"},
		{"other scheme", enrich.Config{URL: "ftp://crm/{id}"}, "absolute http or https"},
		{"unknown placeholder", enrich.Config{URL: "https://crm/{idd}"}, "unknown placeholder {idd}"},
		{"unclosed", enrich.Config{URL: "https://crm/{id"}, "without '}'"},
		{"stray close", enrich.Config{URL: "https://crm/id}"}, "without '{'"},
		{"placeholder in host", enrich.Config{URL: "https://{id}.crm.example/x"}, "not the host"},
		{"bad header", enrich.Config{URL: "https://crm/x", Headers: map[string]string{"Bad Header": "x"}}, "not a valid header name"},
		{"header injection", enrich.Config{URL: "https://crm/x", Headers: map[string]string{"X-A": "a\r\nX-B: b"}}, "line breaks"},
		{"attempts", enrich.Config{URL: "https://crm/x", Attempts: 11}, "enrich.attempts"},
		{"backoff", enrich.Config{URL: "https://crm/x", BackoffBase: time.Second, BackoffMax: time.Millisecond}, "enrich.backoff_max"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, tickets.ErrInvalid)):
				t.Errorf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
	_, err := enrich.New(enrich.Config{URL: "https://crm/x", HeadersFromEnv: map[string]string{"Authorization": "UNSET_VAR"}},
		enrich.Deps{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "UNSET_VAR") {
		t.Errorf("New with an unset header variable = %v", err)
	}
}
