// Package webhook delivers ticket events to other systems as signed HTTP
// POSTs, durably: every delivery is first recorded in Elasticsearch (an
// outbox), then attempted, retried with exponential backoff and finally
// marked dead, so that no event is silently dropped. Replicas sharing the
// indices claim each attempt with optimistic concurrency, so no attempt is
// made twice, and a delivery left behind by a stopped or crashed replica is
// picked up by another.
//
// Endpoints come from two sources: static ones from configuration
// (read-only) and dynamic ones managed through the API and stored in
// Elasticsearch. An endpoint receives the event types it subscribes to,
// plus any event whose automation rule or escalation names it.
//
// # Request format
//
// Each attempt is a POST with a JSON body
//
//	{"id": "<delivery id>", "type": "ticket.created", "at": "...", "actor": "...",
//	 "ticket": {...}, "changes": [...]}
//
// and the headers
//
//	Content-Type:            application/json
//	User-Agent:              Switchboard-Webhook/1
//	X-Switchboard-Event:     ticket.created
//	X-Switchboard-Delivery:  <delivery id; the same on every retry>
//	X-Switchboard-Timestamp: <unix seconds when this attempt was signed>
//	X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// Any 2xx answer counts as delivered. 410 Gone stops delivery at once;
// every other answer or network error is retried until MaxAttempts.
//
// # Verifying a delivery
//
// A receiver reads the raw body (before any JSON decoding), recomputes
// HMAC-SHA256 with the endpoint's secret over the X-Switchboard-Timestamp
// value, a "." and the body, compares the hex digest with the signature
// header in constant time, and rejects timestamps more than a few minutes
// from its clock so that a captured request cannot be replayed. Verify does
// exactly that:
//
//	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
//	ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
//	err = webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), ts, body, time.Now(), 5*time.Minute)
//
// Delivery is at least once: after a crash mid-attempt the delivery is
// attempted again, so a receiver that must not act twice deduplicates on
// X-Switchboard-Delivery.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// Errors callers branch on. Each wraps the tickets error kind the API maps
// to a status, so errors.Is works with either.
var (
	// ErrNotFound: no endpoint or delivery has that name or id.
	ErrNotFound = fmt.Errorf("webhook: %w", tickets.ErrNotFound)
	// ErrExists: an endpoint with that name exists already (in the index or
	// in the configuration).
	ErrExists = fmt.Errorf("webhook: endpoint already exists: %w", tickets.ErrConflict)
	// ErrInvalid is tickets.ErrInvalid; field errors are returned as a
	// *tickets.ValidationError, which unwraps to it.
	ErrInvalid = tickets.ErrInvalid
	// ErrReadOnly: the endpoint comes from the configuration file and can
	// only be changed there.
	ErrReadOnly = fmt.Errorf("webhook: endpoint is configured statically and read-only: %w", tickets.ErrConflict)
	// ErrBusy: the delivery is being attempted right now.
	ErrBusy = fmt.Errorf("webhook: delivery is in flight: %w", tickets.ErrConflict)
	// ErrSignature: a signature header is malformed or does not match.
	ErrSignature = errors.New("webhook: signature mismatch")
	// ErrStale: a signed timestamp is outside the accepted tolerance.
	ErrStale = errors.New("webhook: timestamp outside tolerance")
)

// Config tunes delivery. Zero durations and counts take the defaults of
// DefaultConfig, so a Config holding only Endpoints is complete.
type Config struct {
	// Endpoints are static destinations; they cannot be changed through
	// the API. Each needs a secret of at least 16 bytes.
	Endpoints []Endpoint `yaml:"endpoints"`
	// Timeout bounds one attempt, from dialling to the response headers
	// and the first bytes of the body.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts is how many attempts a delivery gets before it is dead.
	MaxAttempts int `yaml:"max_attempts"`
	// BackoffBase is the wait after the first failed attempt; it doubles
	// after each further failure, with ±20% jitter, up to BackoffMax.
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
	// PollInterval is how often Run looks for due and stuck deliveries.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lease is how long a claimed attempt may stay in flight before another
	// replica assumes its claimant died and takes it over. It must exceed
	// Timeout, or slow attempts would be duplicated.
	Lease time.Duration `yaml:"lease"`
	// Concurrency bounds the attempts one Dispatcher makes at once.
	Concurrency int `yaml:"concurrency"`
	// BatchSize bounds the due deliveries one poll picks up.
	BatchSize int `yaml:"batch_size"`
	// EndpointCacheTTL is how long Publish reuses the list of dynamic
	// endpoints; an endpoint created on another replica is seen after at
	// most this long (changes made through this Dispatcher at once).
	EndpointCacheTTL time.Duration `yaml:"endpoint_cache_ttl"`
	// ShutdownTimeout bounds how long Run waits, once its context is done,
	// for attempts in flight to finish.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultConfig returns the delivery settings used where a Config leaves
// them zero.
func DefaultConfig() Config {
	return Config{
		Timeout:          10 * time.Second,
		MaxAttempts:      8,
		BackoffBase:      time.Second,
		BackoffMax:       10 * time.Minute,
		PollInterval:     2 * time.Second,
		Lease:            time.Minute,
		Concurrency:      16,
		BatchSize:        100,
		EndpointCacheTTL: 5 * time.Second,
		ShutdownTimeout:  15 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(dst *time.Duration, def time.Duration) {
		if *dst == 0 {
			*dst = def
		}
	}
	set(&c.Timeout, d.Timeout)
	set(&c.BackoffBase, d.BackoffBase)
	set(&c.BackoffMax, d.BackoffMax)
	set(&c.PollInterval, d.PollInterval)
	set(&c.Lease, d.Lease)
	set(&c.EndpointCacheTTL, d.EndpointCacheTTL)
	set(&c.ShutdownTimeout, d.ShutdownTimeout)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	if c.BatchSize == 0 {
		c.BatchSize = d.BatchSize
	}
	return c
}

// Validate checks c, with defaults applied to its zero fields, and reports
// every problem as a *tickets.ValidationError.
func (c Config) Validate() error {
	c = c.withDefaults()
	var v tickets.ValidationError
	seen := map[string]bool{}
	for i, e := range c.Endpoints {
		field := fmt.Sprintf("webhooks.endpoints[%d]", i)
		validateEndpoint(&v, field, e)
		if e.Secret == "" {
			v.Add(field+".secret", "is required for a configured endpoint")
		}
		if seen[e.Name] {
			v.Add(field+".name", "duplicates endpoint %q", e.Name)
		}
		seen[e.Name] = true
	}
	positive := func(field string, d time.Duration) {
		if d < 0 {
			v.Add("webhooks."+field, "must not be negative")
		}
	}
	positive("timeout", c.Timeout)
	positive("backoff_base", c.BackoffBase)
	positive("backoff_max", c.BackoffMax)
	positive("poll_interval", c.PollInterval)
	positive("endpoint_cache_ttl", c.EndpointCacheTTL)
	positive("shutdown_timeout", c.ShutdownTimeout)
	if c.MaxAttempts < 1 {
		v.Add("webhooks.max_attempts", "must be at least 1")
	}
	if c.Concurrency < 1 {
		v.Add("webhooks.concurrency", "must be at least 1")
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		v.Add("webhooks.batch_size", "must be between 1 and 10000")
	}
	if c.BackoffMax < c.BackoffBase {
		v.Add("webhooks.backoff_max", "must be at least backoff_base")
	}
	if c.Lease <= c.Timeout {
		v.Add("webhooks.lease", "must be longer than timeout (%s)", c.Timeout)
	}
	return v.Err()
}

// Deps are the Dispatcher's collaborators; all are optional.
type Deps struct {
	// HTTPClient sends the attempts. The default follows no redirects (a
	// redirected webhook is a misconfiguration, and following it would
	// turn the POST into a GET); per-attempt timeouts come from Config.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Index names, before the deployment prefix.
const (
	endpointsIndex  = "webhooks"
	deliveriesIndex = "webhook-deliveries"
)

// Dispatcher records, delivers and retries webhook deliveries and manages
// the dynamic endpoints. It implements tickets.Publisher. It is safe for
// concurrent use; several Dispatchers (one per replica) may share the
// indices.
type Dispatcher struct {
	c        *es.Client
	cfg      Config
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time
	instance string // names this replica in claims, for operators
	static   map[string]Endpoint

	cacheMu sync.Mutex
	cache   []Endpoint // dynamic endpoints, with secrets
	cacheAt time.Time

	mu      sync.Mutex
	stopped bool                // Run has returned: record, but start no attempts
	busy    map[string]struct{} // delivery ids this Dispatcher is attempting
	wg      sync.WaitGroup      // attempts in flight
	sem     chan struct{}       // bounds attempts in flight
}

// New returns a Dispatcher on c. Call Setup before use, and Run to retry
// failed deliveries and pick up those other replicas left behind.
func New(c *es.Client, cfg Config, deps Deps) (*Dispatcher, error) {
	if c == nil {
		return nil, errors.New("webhook: an Elasticsearch client is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook: config: %w", err)
	}
	cfg = cfg.withDefaults()
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	d := &Dispatcher{
		c:        c,
		cfg:      cfg,
		http:     deps.HTTPClient,
		log:      deps.Logger.With("component", "webhook"),
		now:      deps.Now,
		instance: hex.EncodeToString(b[:]),
		static:   map[string]Endpoint{},
		busy:     map[string]struct{}{},
		sem:      make(chan struct{}, cfg.Concurrency),
	}
	for _, e := range cfg.Endpoints {
		e.ReadOnly = true
		d.static[e.Name] = e
	}
	return d, nil
}

// Indices returns the definitions of the endpoint and delivery indices, for
// es.Client.Ensure.
func (d *Dispatcher) Indices() []es.Index {
	return []es.Index{
		{
			Name:     endpointsIndex,
			Version:  1,
			Settings: map[string]any{"number_of_shards": 1},
			Mappings: map[string]any{
				"dynamic": false,
				"properties": map[string]any{
					"name":       map[string]any{"type": "keyword"},
					"url":        map[string]any{"type": "keyword", "index": false},
					"secret":     map[string]any{"type": "keyword", "index": false, "doc_values": false},
					"events":     map[string]any{"type": "keyword"},
					"enabled":    map[string]any{"type": "boolean"},
					"created_at": map[string]any{"type": "date"},
					"updated_at": map[string]any{"type": "date"},
				},
			},
		},
		{
			Name:     deliveriesIndex,
			Version:  1,
			Settings: map[string]any{"number_of_shards": 1},
			Mappings: map[string]any{
				"dynamic": false,
				"properties": map[string]any{
					"id":       map[string]any{"type": "keyword"},
					"endpoint": map[string]any{"type": "keyword"},
					"event":    map[string]any{"type": "keyword"},
					"ticket_id": map[string]any{
						"type": "keyword",
					},
					"event_at": map[string]any{"type": "date"},
					// The body is kept to be re-sent, never searched.
					"payload":          map[string]any{"type": "object", "enabled": false},
					"status":           map[string]any{"type": "keyword"},
					"attempts":         map[string]any{"type": "integer"},
					"next_attempt_at":  map[string]any{"type": "date"},
					"lease_until":      map[string]any{"type": "date"},
					"claimed_by":       map[string]any{"type": "keyword"},
					"last_status_code": map[string]any{"type": "integer"},
					"last_error":       map[string]any{"type": "text", "index": false},
					"created_at":       map[string]any{"type": "date"},
					"updated_at":       map[string]any{"type": "date"},
					"delivered_at":     map[string]any{"type": "date"},
				},
			},
		},
	}
}

// Setup creates or migrates the indices. It is idempotent and safe to run
// from several replicas at once.
func (d *Dispatcher) Setup(ctx context.Context) error {
	if err := d.c.Ensure(ctx, d.log, d.Indices()...); err != nil {
		return fmt.Errorf("webhook: setup: %w", err)
	}
	return nil
}
