// Package lookup provides the IVR's calls to outside systems (an order
// system, a CRM): a flow's lookup node names a configured system, a method
// and a path; the client fills the path from call variables, makes the
// request with the system's headers and timeout, and reads chosen fields
// out of the JSON answer by dotted path.
package lookup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrUnknownSystem means a lookup names a system that is not configured.
var ErrUnknownSystem = errors.New("lookup: unknown system")

// ErrNotFound means the system answered 404: the caller's order (or
// customer) does not exist, which a flow treats like any failed lookup.
var ErrNotFound = errors.New("lookup: not found")

// System is one outside system.
type System struct {
	// URL is the base URL; a lookup's path is appended to it.
	URL string `yaml:"url" json:"url"`
	// Headers are sent with every request (e.g. Authorization).
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Timeout bounds one request when the node sets none (3 s).
	Timeout time.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// maxBody bounds an answer: a lookup reads a few fields, never a dump.
const maxBody = 1 << 20

// Client makes lookups against the configured systems.
type Client struct {
	systems map[string]System
	http    *http.Client
	log     *slog.Logger
}

// New checks the systems' URLs and returns a client. hc nil means a
// client with no overall timeout (each request has its own).
func New(systems map[string]System, hc *http.Client, log *slog.Logger) (*Client, error) {
	for name, s := range systems {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("lookup: system %s: url %q is not an http(s) URL", name, s.URL)
		}
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{systems: systems, http: hc, log: log.With("component", "ivr/lookup")}, nil
}

// Systems returns the configured systems' names, sorted, for flow
// validation.
func (c *Client) Systems() []string {
	names := make([]string, 0, len(c.systems))
	for n := range c.systems {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Request is one lookup.
type Request struct {
	System, Method string
	// Path may hold {name} placeholders, filled from Params (path-escaped).
	Path   string
	Params map[string]string
	// Outputs maps a variable to a dotted path in the JSON answer
	// ("delivery.eta_date", "items.0.name").
	Outputs map[string]string
	Timeout time.Duration
}

// Do makes the request and returns the outputs that the answer has; a
// missing field is left out (a branch on it then falls to its default).
func (c *Client) Do(ctx context.Context, r Request) (map[string]string, error) {
	sys, ok := c.systems[r.System]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownSystem, r.System)
	}
	path, err := fill(r.Path, r.Params)
	if err != nil {
		return nil, err
	}
	timeout := cmpOr(r.Timeout, sys.Timeout, 3*time.Second)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := cmpOr(strings.ToUpper(r.Method), http.MethodGet)
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(sys.URL, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("lookup: %s: %w", r.System, err)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range sys.Headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lookup: %s %s: %w", r.System, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("lookup: %s %s: read: %w", r.System, path, err)
	}
	switch {
	case res.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("lookup: %s %s: %w", r.System, path, ErrNotFound)
	case res.StatusCode < 200 || res.StatusCode > 299:
		return nil, fmt.Errorf("lookup: %s %s: status %d", r.System, path, res.StatusCode)
	case len(body) > maxBody:
		return nil, fmt.Errorf("lookup: %s %s: answer over %d bytes", r.System, path, maxBody)
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("lookup: %s %s: answer is not JSON: %w", r.System, path, err)
	}
	out := make(map[string]string, len(r.Outputs))
	for v, p := range r.Outputs {
		if s, ok := Field(doc, p); ok {
			out[v] = s
		}
	}
	return out, nil
}

// fill replaces {name} in path by its path-escaped parameter.
func fill(path string, params map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			break
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("lookup: path %q: unclosed {", path)
		}
		name := path[i+1 : i+j]
		v, ok := params[name]
		if !ok || v == "" {
			return "", fmt.Errorf("lookup: path parameter %q has no value", name)
		}
		b.WriteString(path[:i])
		b.WriteString(url.PathEscape(v))
		path = path[i+j+1:]
	}
	p := b.String()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p, nil
}

// Field reads a dotted path ("a.b.0.c") out of decoded JSON and formats
// the value as text: strings as they are, numbers without a trailing .0,
// booleans as true/false; objects and arrays are not values.
func Field(doc any, path string) (string, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return "", false
			}
			cur = v[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func cmpOr[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}
