// Package web assembles Switchboard's HTTP server: the middleware every
// request passes (panic recovery, request IDs, access log, Prometheus
// metrics, body limits), the OAuth token endpoint, health, readiness and
// metrics endpoints, the OpenAPI document with its Swagger UI page, and the
// domain APIs, which plug in as Registrars behind per-route scopes.
//
// It knows no domain: cmd/switchboard builds each domain API (tickets/api
// today) and passes it in Deps.APIs.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// Config configures the server. Zero fields take the values of
// DefaultConfig.
type Config struct {
	// Addr is the TCP address to listen on, host:port.
	Addr string
	// MaxBodyBytes bounds request bodies; a route may allow more
	// (Route.MaxBodyBytes). Larger bodies get 413.
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds how long a client may take to send the
	// request headers, against slow-loris connections. Bodies are not
	// bounded by time because bulk imports are large.
	ReadHeaderTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown: requests still running
	// after it are cut off.
	ShutdownTimeout time.Duration
	// PublicURL is the URL clients reach the server at, e.g.
	// https://switchboard.example.com, when it differs from Addr (behind a
	// proxy). It becomes the OpenAPI document's server and token URL.
	PublicURL string
	// DocsAssetsDir is a directory holding the swagger-ui-dist files
	// (swagger-ui.css, swagger-ui-bundle.js, ...), served under
	// /docs/assets/ for installations without Internet access. When empty,
	// /docs loads Swagger UI from the jsDelivr CDN.
	DocsAssetsDir string
}

// DefaultConfig returns the configuration used for zero fields: listen on
// loopback only, so exposing the server is a deliberate choice.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		MaxBodyBytes:      1 << 20,
		ReadHeaderTimeout: 10 * time.Second,
		ShutdownTimeout:   15 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	return c
}

// Validate checks the configuration after defaults are applied; it touches
// the file system only to check DocsAssetsDir.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", c.Addr, err))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("max body bytes must be positive"))
	}
	if c.ReadHeaderTimeout < 0 || c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public URL %q is not an absolute http(s) URL", c.PublicURL))
		}
	}
	if c.DocsAssetsDir != "" {
		for _, f := range []string{"swagger-ui.css", "swagger-ui-bundle.js"} {
			if _, err := os.Stat(filepath.Join(c.DocsAssetsDir, f)); err != nil {
				errs = append(errs, fmt.Errorf("docs assets: %w", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("web: config: %w", err)
	}
	return nil
}

// Deps are the server's collaborators.
type Deps struct {
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is what /metrics serves; nil
	// means a private registry.
	Registry *prometheus.Registry
	// Verifier checks access tokens; nil means Issuer.
	Verifier auth.Verifier
	// Issuer serves POST /oauth/token; nil leaves that route out, e.g.
	// when tokens come from another authorization server.
	Issuer *auth.Issuer
	// Ready reports whether the server can do useful work (e.g. that
	// Elasticsearch answers); nil means always ready.
	Ready func(ctx context.Context) error
	// APIs are the domain APIs, registered in order.
	APIs []Registrar
	// Now is the clock for request durations; nil means time.Now.
	Now func() time.Time
}

// readyTimeout bounds a readiness check, so a hung dependency makes the
// probe fail instead of hang.
const readyTimeout = 5 * time.Second

// Server is Switchboard's HTTP server. It is safe for concurrent use.
type Server struct {
	cfg    Config
	d      Deps
	log    *slog.Logger
	engine *gin.Engine
	// scopes holds the scope of every API route, keyed by "METHOD path".
	scopes map[string]string
}

// New builds the server and registers every route; it does not listen
// (see Run). It fails if an API registers routes its table does not list,
// or misses routes it lists, so the table that the authorization tests and
// the OpenAPI check rely on is the one actually served.
func New(cfg Config, d Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if d.Verifier == nil {
		if d.Issuer == nil {
			return nil, errors.New("web: a Verifier or an Issuer is required")
		}
		d.Verifier = d.Issuer
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{cfg: cfg, d: d, log: d.Logger.With("component", "web"), scopes: map[string]string{}}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	limits := map[string]int64{}
	for _, api := range d.APIs {
		for _, r := range api.Routes() {
			if r.Scope != "" && !slices.Contains(auth.AllScopes(), r.Scope) {
				return nil, fmt.Errorf("web: route %s %s: unknown scope %q", r.Method, r.Path, r.Scope)
			}
			s.scopes[r.Method+" "+r.Path] = r.Scope
			if r.MaxBodyBytes > 0 {
				limits[r.Method+" "+r.Path] = r.MaxBodyBytes
			}
		}
	}

	e := gin.New()
	// An API has one spelling per resource; redirects would make clients
	// depend on a second one and turn a POST into a GET in some clients.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	// The server talks to clients directly unless an operator puts a proxy
	// in front; X-Forwarded-For is not trusted by default.
	if err := e.SetTrustedProxies(nil); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	e.Use(
		requestID(),
		s.observe(m),
		problem.Recovery(s.log),
		bodyLimit(cfg.MaxBodyBytes, limits),
	)
	e.NoRoute(problem.NoRoute())
	e.NoMethod(problem.NoMethod())

	if err := s.registerOwn(e); err != nil {
		return nil, err
	}
	guard := func(scope string) gin.HandlerFunc { return auth.Require(d.Verifier, scope) }
	for _, api := range d.APIs {
		if err := register(e, api, guard); err != nil {
			return nil, err
		}
	}
	s.engine = e
	return s, nil
}

// register lets api register its routes and checks them against its table.
func register(e *gin.Engine, api Registrar, guard func(string) gin.HandlerFunc) (err error) {
	key := func(method, path string) string { return method + " " + path }
	before := map[string]bool{}
	for _, r := range e.Routes() {
		before[key(r.Method, r.Path)] = true
	}
	defer func() {
		// gin panics on a route registered twice; to the caller that is
		// a configuration error like any other.
		if r := recover(); r != nil {
			err = fmt.Errorf("web: register %T: %v", api, r)
		}
	}()
	api.Register(e, guard)
	declared := map[string]bool{}
	for _, r := range api.Routes() {
		declared[key(r.Method, r.Path)] = true
	}
	var problems []string
	for _, r := range e.Routes() {
		k := key(r.Method, r.Path)
		if !before[k] && !declared[k] {
			problems = append(problems, "registered but not in its route table: "+k)
		}
		delete(declared, k)
	}
	for k := range declared {
		problems = append(problems, "in its route table but not registered: "+k)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("web: register %T: %s", api, strings.Join(problems, "; "))
	}
	return nil
}

// Handler returns the server's HTTP handler, e.g. for httptest.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes returns every route the server serves, its own and the APIs',
// with the scope each requires ("" for public routes), sorted by path and
// method.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.engine.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path, Scope: s.scopes[r.Method+" "+r.Path]})
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

// Run listens on Config.Addr and serves until ctx is done, then shuts down
// gracefully; see Serve.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting connections
// and waits up to Config.ShutdownTimeout for requests in flight, cutting
// off those still running after it. It returns nil after a shutdown that
// finished in time. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests inherit ctx's values but not its cancellation: the
		// shutdown, not the signal, decides when they are cut off.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.InfoContext(ctx, "serving HTTP", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // Serve returns at once with http.ErrServerClosed
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("web: shutdown: %w", err)
	}
	s.log.Info("HTTP server stopped")
	return nil
}
