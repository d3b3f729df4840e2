// Package es connects Switchboard to Elasticsearch: configuration (URL, API
// key or basic auth, CA file), a small JSON request helper over the official
// client, error decoding, and versioned index bootstrap (index templates
// plus aliases, so a mapping change is a copy behind an alias, not data
// loss).
//
// It depends only on features every Elasticsearch 8 cluster has, including
// the minimal integ-test distribution used in development and tests: no
// x-pack, ILM, data streams, scripts or the reindex module. Domain stores
// (tickets/esstore and, later, calls, logs and AIOps state) build on it.
package es

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// Config says where the cluster is and how to authenticate.
type Config struct {
	// URLs of one or more nodes, e.g. https://es1:9200.
	URLs []string
	// APIKey is a base64 "id:key" API key; it wins over Username/Password.
	APIKey   string
	Username string
	Password string
	// CAFile is a PEM file with the CA that signed the cluster's certificate.
	CAFile string
	// InsecureSkipVerify disables TLS verification; for local tests only.
	InsecureSkipVerify bool
	// Prefix namespaces every index, template and alias this process makes,
	// so several deployments (or test runs) can share a cluster.
	Prefix string
	// Timeout bounds each request; zero means 30 s.
	Timeout time.Duration
}

// Validate checks c without contacting the cluster.
func (c Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("es: no Elasticsearch URL configured (set --es-url or ES_URL)")
	}
	for _, u := range c.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("es: %q is not an http(s) URL", u)
		}
	}
	if c.Prefix == "" || strings.ToLower(c.Prefix) != c.Prefix || strings.ContainsAny(c.Prefix, `\/*?"<>| ,#:`) {
		return fmt.Errorf("es: index prefix %q must be non-empty lower-case without special characters", c.Prefix)
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return fmt.Errorf("es: CA file: %w", err)
		}
	}
	return nil
}

// Client is an Elasticsearch connection with this deployment's prefix. It is
// safe for concurrent use.
type Client struct {
	es     *elasticsearch.Client
	prefix string
}

// New builds a client; it does not contact the cluster (see Ping).
func New(c Config) (*Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in, documented as test-only
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("es: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("es: %s holds no PEM certificate", c.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:     c.URLs,
		APIKey:        c.APIKey,
		Username:      c.Username,
		Password:      c.Password,
		Transport:     transport,
		RetryOnStatus: []int{502, 503, 504, 429},
		MaxRetries:    3,
		RetryBackoff:  func(i int) time.Duration { return time.Duration(i) * 100 * time.Millisecond },
	})
	if err != nil {
		return nil, fmt.Errorf("es: client: %w", err)
	}
	return &Client{es: es, prefix: c.Prefix}, nil
}

// Prefix is the deployment's index prefix.
func (c *Client) Prefix() string { return c.prefix }

// Name returns the prefixed name of a logical index, e.g. "tickets" →
// "switchboard-tickets".
func (c *Client) Name(logical string) string { return c.prefix + "-" + logical }

// Raw returns the official client for APIs this package does not wrap.
func (c *Client) Raw() *elasticsearch.Client { return c.es }

// Ping checks that the cluster answers and is at least yellow.
func (c *Client) Ping(ctx context.Context) error {
	var h struct {
		Status string `json:"status"`
	}
	if err := c.Do(ctx, http.MethodGet, "/_cluster/health?timeout=2s", nil, &h); err != nil {
		return err
	}
	if h.Status == "red" {
		return fmt.Errorf("es: cluster health is red: %w", ErrUnavailable)
	}
	return nil
}

// Do sends one JSON request. body may be nil, a []byte or io.Reader sent as
// is (e.g. NDJSON for _bulk), or any value encoded as JSON. A 2xx response
// is decoded into out when out is non-nil; any other status becomes an
// *Error.
func (c *Client) Do(ctx context.Context, method, path string, body any, out any) error {
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
		if strings.Contains(path, "_bulk") {
			contentType = "application/x-ndjson"
		}
	case io.Reader:
		r = b
		if strings.Contains(path, "_bulk") {
			contentType = "application/x-ndjson"
		}
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("es: encode %s %s: %w", method, path, err)
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, r)
	if err != nil {
		return fmt.Errorf("es: %s %s: %w", method, path, err)
	}
	if r != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.es.Perform(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("es: %s %s: %w", method, path, ctx.Err())
		}
		return fmt.Errorf("es: %s %s: %w: %w", method, path, ErrUnavailable, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return decodeError(method, path, res)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("es: decode %s %s: %w", method, path, err)
	}
	return nil
}

// ErrUnavailable marks failures where the cluster could not be reached or
// was overloaded; retrying later may succeed.
var ErrUnavailable = errors.New("elasticsearch unavailable")

// Error is an error response from Elasticsearch.
type Error struct {
	Method, Path string
	Status       int
	Type         string // e.g. version_conflict_engine_exception
	Reason       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("es: %s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Type, e.Reason)
}

// Unwrap lets errors.Is(err, ErrUnavailable) hold for overload and outage
// statuses.
func (e *Error) Unwrap() error {
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		return ErrUnavailable
	}
	return nil
}

func decodeError(method, path string, res *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	e := &Error{Method: method, Path: path, Status: res.StatusCode}
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
		var detail struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(body.Error, &detail) == nil && detail.Type != "" {
			e.Type, e.Reason = detail.Type, detail.Reason
		} else {
			e.Reason = string(body.Error)
		}
	} else {
		e.Reason = strings.TrimSpace(string(raw))
	}
	return e
}

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsType reports whether err is an Elasticsearch error of the given type.
func IsType(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}
