package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// Endpoint is a named webhook destination.
type Endpoint struct {
	Name string `json:"name" yaml:"name"`
	URL  string `json:"url" yaml:"url"`
	// Secret signs every request. It is stored, but List, Get and Update
	// return it empty with SecretSet true; Create returns it once, when it
	// generated it.
	Secret    string `json:"secret,omitempty" yaml:"secret"`
	SecretSet bool   `json:"secret_set" yaml:"-"`
	// Events the endpoint subscribes to. Empty means none: the endpoint
	// then receives only events whose automation rule or escalation names
	// it.
	Events []tickets.EventType `json:"events" yaml:"events"`
	// Enabled must be true for anything to be delivered; a disabled
	// endpoint keeps its settings.
	Enabled   bool      `json:"enabled" yaml:"enabled"`
	CreatedAt time.Time `json:"created_at,omitzero" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at,omitzero" yaml:"-"`
	// ReadOnly marks endpoints from the configuration file.
	ReadOnly bool `json:"read_only" yaml:"-"`
}

// MinSecretLen is the shortest secret accepted, in bytes.
const MinSecretLen = 16

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validateEndpoint adds e's violations to v, with field names under prefix
// ("" for API input).
func validateEndpoint(v *tickets.ValidationError, prefix string, e Endpoint) {
	field := func(f string) string {
		if prefix == "" {
			return f
		}
		return prefix + "." + f
	}
	if !nameRE.MatchString(e.Name) {
		v.Add(field("name"), "must be 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Add(field("url"), "must be an absolute http or https URL")
	} else if u.User != nil {
		v.Add(field("url"), "must not carry credentials; the signature authenticates requests")
	}
	if e.Secret != "" && len(e.Secret) < MinSecretLen {
		v.Add(field("secret"), "must be at least %d bytes", MinSecretLen)
	}
	for i, ev := range e.Events {
		if !slices.Contains(tickets.EventTypes(), ev) {
			v.Add(fmt.Sprintf("%s[%d]", field("events"), i), "unknown event type %q", ev)
		}
	}
}

// redacted returns e without its secret, for callers outside the package.
func (e Endpoint) redacted() Endpoint {
	e.SecretSet = e.Secret != ""
	e.Secret = ""
	e.Events = slices.Clone(e.Events)
	if e.Events == nil {
		e.Events = []tickets.EventType{}
	}
	return e
}

func (e Endpoint) subscribes(t tickets.EventType) bool {
	return e.Enabled && slices.Contains(e.Events, t)
}

// newSecret returns 32 random bytes, base64url-encoded (43 characters).
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (d *Dispatcher) endpointPath(name string) string {
	return "/" + d.c.Name(endpointsIndex) + "/_doc/" + url.PathEscape(name)
}

// CreateEndpoint stores a new dynamic endpoint. When e.Secret is empty a
// random secret is generated and returned in the result; this is the only
// time it is shown.
func (d *Dispatcher) CreateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error) {
	generated := e.Secret == ""
	if generated {
		e.Secret = newSecret()
	}
	e.Events = dedupe(e.Events)
	var v tickets.ValidationError
	validateEndpoint(&v, "", e)
	if err := v.Err(); err != nil {
		return Endpoint{}, err
	}
	if _, ok := d.static[e.Name]; ok {
		return Endpoint{}, fmt.Errorf("%w: %s (configured)", ErrExists, e.Name)
	}
	now := d.now().UTC()
	e.CreatedAt, e.UpdatedAt, e.ReadOnly, e.SecretSet = now, now, false, false
	path := "/" + d.c.Name(endpointsIndex) + "/_create/" + url.PathEscape(e.Name) + "?refresh=true"
	err := d.c.Do(ctx, http.MethodPut, path, e, nil)
	if es.StatusOf(err) == http.StatusConflict {
		return Endpoint{}, fmt.Errorf("%w: %s", ErrExists, e.Name)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhook: create endpoint %s: %w", e.Name, err)
	}
	d.invalidate()
	out := e.redacted()
	if generated {
		out.Secret = e.Secret
	}
	return out, nil
}

// GetEndpoint returns the named endpoint, without its secret.
func (d *Dispatcher) GetEndpoint(ctx context.Context, name string) (Endpoint, error) {
	e, _, err := d.endpoint(ctx, name)
	if err != nil {
		return Endpoint{}, err
	}
	return e.redacted(), nil
}

// endpoint returns the named endpoint with its secret, and its version
// when it is dynamic.
func (d *Dispatcher) endpoint(ctx context.Context, name string) (Endpoint, tickets.Version, error) {
	if e, ok := d.static[name]; ok {
		return e, tickets.Version{}, nil
	}
	if !nameRE.MatchString(name) {
		return Endpoint{}, tickets.Version{}, fmt.Errorf("%w: endpoint %q", ErrNotFound, name)
	}
	var res struct {
		SeqNo       int64    `json:"_seq_no"`
		PrimaryTerm int64    `json:"_primary_term"`
		Source      Endpoint `json:"_source"`
	}
	err := d.c.Do(ctx, http.MethodGet, d.endpointPath(name), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound {
		return Endpoint{}, tickets.Version{}, fmt.Errorf("%w: endpoint %q", ErrNotFound, name)
	}
	if err != nil {
		return Endpoint{}, tickets.Version{}, fmt.Errorf("webhook: get endpoint %s: %w", name, err)
	}
	return res.Source, tickets.Version{SeqNo: res.SeqNo, PrimaryTerm: res.PrimaryTerm}, nil
}

// ListEndpoints returns every endpoint, configured and dynamic, by name,
// without secrets.
func (d *Dispatcher) ListEndpoints(ctx context.Context) ([]Endpoint, error) {
	dyn, err := d.loadDynamic(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, 0, len(d.static)+len(dyn))
	for _, e := range d.static {
		out = append(out, e.redacted())
	}
	for _, e := range dyn {
		if _, shadowed := d.static[e.Name]; !shadowed {
			out = append(out, e.redacted())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// maxDynamicEndpoints bounds the endpoints read in one search; a deployment
// with more is not one this design is meant for.
const maxDynamicEndpoints = 1000

// loadDynamic reads every dynamic endpoint, with secrets.
func (d *Dispatcher) loadDynamic(ctx context.Context) ([]Endpoint, error) {
	body := map[string]any{
		"size":  maxDynamicEndpoints,
		"sort":  []any{map[string]any{"name": "asc"}},
		"query": map[string]any{"match_all": map[string]any{}},
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source Endpoint `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := d.c.Do(ctx, http.MethodPost, "/"+d.c.Name(endpointsIndex)+"/_search", body, &res); err != nil {
		return nil, fmt.Errorf("webhook: list endpoints: %w", err)
	}
	out := make([]Endpoint, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source)
	}
	return out, nil
}

// UpdateEndpoint replaces the named dynamic endpoint's URL, events, enabled
// flag and, when e.Secret is set, its secret; an empty e.Secret keeps the
// current one, so a client can change the URL without knowing the secret.
// e.Name must be empty or name: endpoints cannot be renamed.
func (d *Dispatcher) UpdateEndpoint(ctx context.Context, name string, e Endpoint) (Endpoint, error) {
	if _, ok := d.static[name]; ok {
		return Endpoint{}, fmt.Errorf("%w: %s", ErrReadOnly, name)
	}
	if e.Name != "" && e.Name != name {
		var v tickets.ValidationError
		v.Add("name", "cannot be changed (from %q to %q)", name, e.Name)
		return Endpoint{}, &v
	}
	e.Name = name
	e.Events = dedupe(e.Events)
	// Re-read and retry on a concurrent write, so that two updates racing
	// each leave a complete endpoint rather than failing spuriously.
	for attempt := 0; ; attempt++ {
		cur, ver, err := d.endpoint(ctx, name)
		if err != nil {
			return Endpoint{}, err
		}
		next := e
		if next.Secret == "" {
			next.Secret = cur.Secret
		}
		var v tickets.ValidationError
		validateEndpoint(&v, "", next)
		if err := v.Err(); err != nil {
			return Endpoint{}, err
		}
		next.CreatedAt, next.UpdatedAt, next.ReadOnly, next.SecretSet = cur.CreatedAt, d.now().UTC(), false, false
		path := fmt.Sprintf("%s?if_seq_no=%d&if_primary_term=%d&refresh=true", d.endpointPath(name), ver.SeqNo, ver.PrimaryTerm)
		err = d.c.Do(ctx, http.MethodPut, path, next, nil)
		if es.StatusOf(err) == http.StatusConflict && attempt < 5 {
			continue
		}
		if err != nil {
			return Endpoint{}, fmt.Errorf("webhook: update endpoint %s: %w", name, err)
		}
		d.invalidate()
		return next.redacted(), nil
	}
}

// DeleteEndpoint removes the named dynamic endpoint. Its pending deliveries
// become dead ("unknown endpoint") when next attempted.
func (d *Dispatcher) DeleteEndpoint(ctx context.Context, name string) error {
	if _, ok := d.static[name]; ok {
		return fmt.Errorf("%w: %s", ErrReadOnly, name)
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: endpoint %q", ErrNotFound, name)
	}
	err := d.c.Do(ctx, http.MethodDelete, d.endpointPath(name)+"?refresh=true", nil, nil)
	if es.StatusOf(err) == http.StatusNotFound {
		return fmt.Errorf("%w: endpoint %q", ErrNotFound, name)
	}
	if err != nil {
		return fmt.Errorf("webhook: delete endpoint %s: %w", name, err)
	}
	d.invalidate()
	return nil
}

// endpoints returns every endpoint with secrets, configured ones winning a
// name clash, reading dynamic ones through a short-lived cache because
// Publish runs on every ticket change.
func (d *Dispatcher) endpoints(ctx context.Context) (map[string]Endpoint, error) {
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	now := d.now()
	if d.cache == nil || now.Sub(d.cacheAt) > d.cfg.EndpointCacheTTL || now.Before(d.cacheAt) {
		dyn, err := d.loadDynamic(ctx)
		if err != nil {
			return nil, err
		}
		d.cache, d.cacheAt = dyn, now
	}
	out := make(map[string]Endpoint, len(d.cache)+len(d.static))
	for _, e := range d.cache {
		out[e.Name] = e
	}
	for n, e := range d.static {
		out[n] = e
	}
	return out, nil
}

func (d *Dispatcher) invalidate() {
	d.cacheMu.Lock()
	d.cache = nil
	d.cacheMu.Unlock()
}

func dedupe(evs []tickets.EventType) []tickets.EventType {
	var out []tickets.EventType
	for _, e := range evs {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
