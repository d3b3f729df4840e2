// Package enrich looks up what a CRM or ERP knows about a ticket's customer
// (orders, account status) with one HTTP GET, and implements
// tickets.Enricher so the answer lands under Ticket.Related (by default as
// related.crm). Every lookup is bounded: a per-attempt timeout, a few
// retries with backoff for transient failures, a response size limit and a
// circuit breaker that stops calling a CRM that keeps failing, so that a
// slow or broken CRM never holds up ticket creation.
//
// The request URL is a template with placeholders for the customer's
// fields, e.g.
//
//	https://crm.example/api/customers/{id}/orders?phone={phone}&email={email}
//
// Placeholders are {id}, {name}, {phone} and {email}. Values are escaped
// for where they stand: as a path segment before the "?", as a query value
// after it. A customer with none of the fields the template names is not
// looked up at all.
package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Errors callers branch on.
var (
	// ErrCircuitOpen: recent attempts failed, so the CRM was not called;
	// it is tried again after the cool-down.
	ErrCircuitOpen = fmt.Errorf("enrich: circuit open, CRM not called: %w", tickets.ErrUnavailable)
	// ErrUnavailable: the CRM did not answer in time, could not be
	// reached, or answered 408, 429 or 5xx, on every attempt.
	ErrUnavailable = fmt.Errorf("enrich: CRM unavailable: %w", tickets.ErrUnavailable)
	// ErrResponse: the CRM answered, but not with a usable JSON object
	// (another 4xx status, a non-JSON or oversized body, a JSON array).
	// Retrying does not help.
	ErrResponse = errors.New("enrich: unusable CRM response")
)

// Config says where and how to look customers up.
type Config struct {
	// URL is the request URL template; see the package documentation. A
	// URL without placeholders is fetched for every customer.
	URL string `yaml:"url"`
	// Headers are sent with every request, e.g. an API key.
	Headers map[string]string `yaml:"headers"`
	// HeadersFromEnv maps a header name to the environment variable that
	// holds its value, so credentials stay out of configuration files.
	HeadersFromEnv map[string]string `yaml:"headers_from_env"`
	// Key is where the answer goes in Ticket.Related; default "crm".
	Key string `yaml:"key"`
	// Timeout bounds one attempt including reading the body; default 2 s.
	Timeout time.Duration `yaml:"timeout"`
	// Attempts is the number of tries for a transient failure, the first
	// included; default 3 (two retries). 1 disables retries.
	Attempts int `yaml:"attempts"`
	// BackoffBase is the wait before the first retry, doubled for each
	// further one (with jitter) up to BackoffMax; defaults 100 ms and 1 s.
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
	// BreakerFailures consecutive failed attempts open the circuit;
	// default 5.
	BreakerFailures int `yaml:"breaker_failures"`
	// BreakerCooldown is how long the circuit stays open before one trial
	// request is let through (half-open); default 30 s.
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
	// MaxBodyBytes bounds the response body; default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// DefaultConfig returns the settings used where a Config leaves them zero.
func DefaultConfig() Config {
	return Config{
		Key:             "crm",
		Timeout:         2 * time.Second,
		Attempts:        3,
		BackoffBase:     100 * time.Millisecond,
		BackoffMax:      time.Second,
		BreakerFailures: 5,
		BreakerCooldown: 30 * time.Second,
		MaxBodyBytes:    1 << 20,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Key == "" {
		c.Key = d.Key
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.Attempts == 0 {
		c.Attempts = d.Attempts
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = d.BackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = max(d.BackoffMax, c.BackoffBase)
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = d.BreakerFailures
	}
	if c.BreakerCooldown == 0 {
		c.BreakerCooldown = d.BreakerCooldown
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	return c
}

// Validate checks c, with defaults applied to its zero fields, without
// contacting anything, and reports every problem as a
// *tickets.ValidationError.
func (c Config) Validate() error {
	c = c.withDefaults()
	var v tickets.ValidationError
	if _, err := parseTemplate(c.URL); err != nil {
		v.Add("enrich.url", "%v", err)
	}
	for name, val := range c.Headers {
		if !validHeaderName(name) {
			v.Add("enrich.headers", "%q is not a valid header name", name)
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			v.Add("enrich.headers."+name, "must not contain line breaks")
		}
	}
	for name, env := range c.HeadersFromEnv {
		if !validHeaderName(name) {
			v.Add("enrich.headers_from_env", "%q is not a valid header name", name)
		}
		if env == "" {
			v.Add("enrich.headers_from_env."+name, "names no environment variable")
		}
	}
	if c.Timeout < 0 || c.BackoffBase < 0 || c.BreakerCooldown < 0 {
		v.Add("enrich", "durations must not be negative")
	}
	if c.BackoffMax < c.BackoffBase {
		v.Add("enrich.backoff_max", "must be at least backoff_base")
	}
	if c.Attempts < 1 || c.Attempts > 10 {
		v.Add("enrich.attempts", "must be between 1 and 10")
	}
	if c.BreakerFailures < 1 {
		v.Add("enrich.breaker_failures", "must be at least 1")
	}
	if c.MaxBodyBytes < 1 {
		v.Add("enrich.max_body_bytes", "must be positive")
	}
	return v.Err()
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// Deps are the Connector's collaborators; all are optional.
type Deps struct {
	// HTTPClient sends the requests; timeouts come from Config.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Getenv resolves Config.HeadersFromEnv; default os.Getenv.
	Getenv func(string) string
}

// Connector looks customers up in one CRM. It is safe for concurrent use;
// its circuit breaker is shared by all callers.
type Connector struct {
	cfg     Config
	tmpl    template
	headers http.Header
	http    *http.Client
	log     *slog.Logger
	cb      *gobreaker.CircuitBreaker[fetched]
}

// New returns a Connector; it fails if cfg is invalid or a header's
// environment variable is unset.
func New(cfg Config, deps Deps) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("enrich: config: %w", err)
	}
	cfg = cfg.withDefaults()
	tmpl, _ := parseTemplate(cfg.URL) // checked by Validate
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Getenv == nil {
		deps.Getenv = os.Getenv
	}
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "Switchboard-Enrich/1")
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	for k, env := range cfg.HeadersFromEnv {
		v := deps.Getenv(env)
		if v == "" {
			return nil, fmt.Errorf("enrich: header %s: environment variable %s is not set: %w", k, env, tickets.ErrInvalid)
		}
		h.Set(k, v)
	}
	c := &Connector{cfg: cfg, tmpl: tmpl, headers: h, http: deps.HTTPClient, log: deps.Logger.With("component", "enrich")}
	c.cb = gobreaker.NewCircuitBreaker[fetched](gobreaker.Settings{
		Name:        "enrich",
		MaxRequests: 1,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= uint32(cfg.BreakerFailures) },
		// A CRM rejecting one customer's lookup is healthy.
		IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, errCustomer) },
		// A caller that gave up says nothing about the CRM.
		IsExcluded: func(err error) bool { return errors.Is(err, errCallerGone) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			c.log.Warn("CRM circuit breaker changed state", "from", from.String(), "to", to.String())
		},
	})
	return c, nil
}

// State is the circuit breaker's state: "closed", "half-open" or "open".
func (c *Connector) State() string { return c.cb.State().String() }

// Internal error marks, for the breaker and the retry loop.
var (
	errCustomer   = errors.New("rejected for this customer")
	errCallerGone = errors.New("caller gave up")
)

// fetched is one attempt's outcome; found is false for an unknown customer.
type fetched struct {
	obj   map[string]any
	found bool
}

// Enrich returns {Key: <the CRM's JSON object>} for c, or nothing (and no
// error) when the CRM does not know the customer (404) or c has none of
// the fields the URL needs.
func (c *Connector) Enrich(ctx context.Context, cust tickets.Customer) (map[string]any, error) {
	u, ok := c.tmpl.expand(cust)
	if !ok {
		return nil, nil
	}
	var last error
	for attempt := 1; ; attempt++ {
		res, err := c.cb.Execute(func() (fetched, error) { return c.fetch(ctx, u) })
		switch {
		case err == nil && !res.found:
			return nil, nil
		case err == nil:
			return map[string]any{c.cfg.Key: res.obj}, nil
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			if last != nil {
				return nil, fmt.Errorf("%w (after: %w)", ErrCircuitOpen, last)
			}
			return nil, ErrCircuitOpen
		case errors.Is(err, errCallerGone):
			return nil, fmt.Errorf("enrich: %w", ctx.Err())
		case !errors.Is(err, ErrUnavailable) || attempt >= c.cfg.Attempts:
			return nil, err
		}
		last = err
		if err := sleep(ctx, c.backoff(attempt)); err != nil {
			return nil, fmt.Errorf("enrich: %w (after: %w)", err, last)
		}
	}
}

// fetch makes one attempt.
func (c *Connector) fetch(ctx context.Context, u string) (fetched, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	fail := func(err error) (fetched, error) {
		if ctx.Err() != nil {
			return fetched{}, errCallerGone
		}
		if actx.Err() != nil {
			return fetched{}, fmt.Errorf("%w: no answer within %s", ErrUnavailable, c.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds customer data; keep it out of logs
		}
		return fetched{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("%w: build request: %w", ErrResponse, err)
	}
	req.Header = c.headers.Clone()
	res, err := c.http.Do(req)
	if err != nil {
		return fail(err)
	}
	defer res.Body.Close()
	switch code := res.StatusCode; {
	case code == http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return fetched{}, nil
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return fetched{}, fmt.Errorf("%w: CRM answered %d", ErrUnavailable, code)
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return fetched{}, fmt.Errorf("%w: CRM refused the credentials (%d)", ErrResponse, code)
	case code < 200 || code >= 300:
		return fetched{}, fmt.Errorf("%w: CRM answered %d: %w", ErrResponse, code, errCustomer)
	}
	if res.ContentLength > c.cfg.MaxBodyBytes {
		return fetched{}, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrResponse, res.ContentLength, c.cfg.MaxBodyBytes)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		return fail(err)
	}
	if int64(len(body)) > c.cfg.MaxBodyBytes {
		return fetched{}, fmt.Errorf("%w: body exceeds %d bytes", ErrResponse, c.cfg.MaxBodyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep large ids exact
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return fetched{}, fmt.Errorf("%w: body is not a JSON object", ErrResponse)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fetched{}, fmt.Errorf("%w: trailing data after the JSON object", ErrResponse)
	}
	return fetched{obj: obj, found: true}, nil
}

func (c *Connector) backoff(attempt int) time.Duration {
	w := c.cfg.BackoffBase
	for i := 1; i < attempt && w < c.cfg.BackoffMax; i++ {
		w *= 2
	}
	w = min(w, c.cfg.BackoffMax)
	if j := int64(w) / 2; j > 0 {
		w = w/2 + time.Duration(rand.Int64N(j+1)) // 50–100%, so callers spread out
	}
	return w
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

var _ tickets.Enricher = (*Connector)(nil)
