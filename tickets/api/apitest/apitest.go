// Package apitest gives tests a complete Switchboard HTTP server: the web
// server with the ticket API over a real tickets.Service on the real
// Elasticsearch store and webhook dispatcher (under a per-test index
// prefix, see es/estest), an auth Issuer with one API client per role, and
// helpers to call routes with a role's token and read problem answers.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/api"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// Options adjust the environment; the zero value is a complete server.
type Options struct {
	// API overrides api.DefaultConfig.
	API *api.Config
	// Web is the server configuration.
	Web web.Config
	// Ready is the server's readiness check.
	Ready func(context.Context) error
	// Importer is passed to the API as it is.
	Importer api.Importer
	// Bare leaves out every optional collaborator of the API (webhooks,
	// SLA policies, automation rules, importer, clients).
	Bare bool
}

// Env is a running test server.
type Env struct {
	t        testing.TB
	Server   *web.Server
	Handler  http.Handler
	Service  *tickets.Service
	Store    *esstore.Store
	Clients  *auth.MemoryStore
	Issuer   *auth.Issuer
	Registry *prometheus.Registry
	// Webhooks is the real dispatcher; the Service publishes to it.
	Webhooks *webhook.Dispatcher
	// SLA and Automation are the YAML documents behind their routes.
	SLA, Automation *Document
	// Log collects the server's log lines, as JSON.
	Log *SyncBuffer

	mu     sync.Mutex
	tokens map[auth.Role]string
}

// signingKey is the test Issuer's HS256 key.
const signingKey = "apitest-signing-key-0123456789abcdef"

// New starts an environment; everything it made is removed when the test
// ends. It skips the test without Elasticsearch (see estest.URL).
func New(t testing.TB, o Options) *Env {
	t.Helper()
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	logs := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ec := estest.Client(t)
	// Without refresh on write, as in production under load: a search
	// may lag a write by a second, and tests must not assume otherwise.
	st := esstore.New(ec, esstore.Config{RefreshOnWrite: false}, log)
	if err := st.Setup(ctx); err != nil {
		t.Fatalf("apitest: esstore setup: %v", err)
	}
	hooks, err := webhook.New(ec, webhook.Config{}, webhook.Deps{Logger: log})
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	if err := hooks.Setup(ctx); err != nil {
		t.Fatalf("apitest: webhook setup: %v", err)
	}
	svc, err := tickets.New(tickets.DefaultConfig(), tickets.Deps{
		Store: st, Sequencer: st, Publisher: hooks, NewID: uuid.NewString, Logger: log,
	})
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	clients := auth.NewMemoryStore()
	iss, err := auth.NewIssuer(auth.Config{SigningKey: []byte(signingKey), Issuer: "https://switchboard.test", Audience: "switchboard"}, clients, nil)
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	for _, r := range auth.Roles() {
		addClient(t, clients, clientID(r), r)
	}

	cfg := api.DefaultConfig()
	if o.API != nil {
		cfg = *o.API
	}
	e := &Env{
		t: t, Service: svc, Store: st, Clients: clients, Issuer: iss, Webhooks: hooks,
		Registry:   prometheus.NewRegistry(),
		SLA:        &Document{},
		Automation: &Document{},
		Log:        logs,
		tokens:     map[auth.Role]string{},
	}
	deps := api.Deps{Tickets: svc}
	if !o.Bare {
		deps.Webhooks, deps.Importer, deps.Clients = hooks, o.Importer, clients
		deps.SLA, deps.Automation = slaDocs{e.SLA}, ruleDocs{e.Automation}
	}
	a, err := api.New(cfg, deps)
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	srv, err := web.New(o.Web, web.Deps{
		Logger: log, Registry: e.Registry, Issuer: iss, Ready: o.Ready,
		APIs: []web.Registrar{a},
	})
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	e.Server, e.Handler = srv, srv.Handler()
	return e
}

// clientID is the ID of the test client with role r; its secret is
// "secret-" + the ID.
func clientID(r auth.Role) string { return "test-" + string(r) }

// addClient stores a client directly, hashed at bcrypt.MinCost: the real
// verification path reads the cost from the hash, and DefaultCost would
// spend a second per token under the race detector.
func addClient(t testing.TB, s *auth.MemoryStore, id string, r auth.Role) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret-"+id), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(context.Background(), auth.Client{ID: id, Name: id, Role: r, SecretHash: string(hash), CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

// Token returns an access token for the test client with role r, minted
// by the real Issuer with all of the role's scopes.
func (e *Env) Token(r auth.Role) string {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if tok, ok := e.tokens[r]; ok {
		return tok
	}
	id := clientID(r)
	tok, err := e.Issuer.Token(context.Background(), id, "secret-"+id, nil)
	if err != nil {
		e.t.Fatalf("apitest: token for %s: %v", r, err)
	}
	e.tokens[r] = tok.AccessToken
	return tok.AccessToken
}

// Actor returns the client ID the Service records for role r's requests.
func Actor(r auth.Role) string { return clientID(r) }

// Request describes one call.
type Request struct {
	Method, Path string
	// Role's token authenticates the call; "" sends none.
	Role auth.Role
	// Body is sent as is when it is a string or []byte, and as JSON
	// otherwise; nil sends no body.
	Body any
	// ContentType defaults to application/json when there is a body.
	ContentType string
	Header      http.Header
}

// Response is a recorded answer.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Do serves one request and records the answer.
func (e *Env) Do(r Request) *Response {
	e.t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("apitest: encode body: %v", err)
		}
		body = bytes.NewReader(j)
	}
	req := httptest.NewRequestWithContext(context.Background(), r.Method, r.Path, body)
	if body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Role != "" {
		req.Header.Set("Authorization", "Bearer "+e.Token(r.Role))
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	return &Response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// Call is Do for the common case of a JSON request as role.
func (e *Env) Call(role auth.Role, method, path string, body any) *Response {
	e.t.Helper()
	return e.Do(Request{Method: method, Path: path, Role: role, Body: body})
}

// String describes the response for failure messages.
func (r *Response) String() string {
	return fmt.Sprintf("%d %s", r.Code, bytes.TrimSpace(r.Body))
}

// Decode decodes the JSON body into v, failing the test if it cannot.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("apitest: decode %s: %v", r, err)
	}
}

// Problem decodes a problem answer, checking its media type and that its
// status matches the response's.
func (r *Response) Problem(t testing.TB) problem.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("apitest: Content-Type %q, want %s; response %s", ct, problem.ContentType, r)
	}
	var p problem.Problem
	r.Decode(t, &p)
	if p.Status != r.Code {
		t.Fatalf("apitest: problem status %d in a %d response", p.Status, r.Code)
	}
	return p
}

// Ticket decodes a ticket answer.
func (r *Response) Ticket(t testing.TB) *tickets.Ticket {
	t.Helper()
	var tk tickets.Ticket
	r.Decode(t, &tk)
	return &tk
}

// Document is a YAML document held in memory, standing in for the SLA
// policy and automation rule stores: a replacement must parse as YAML,
// else it is refused with an error wrapping tickets.ErrInvalid that names
// the line, as the real ones do.
type Document struct {
	mu  sync.Mutex
	doc []byte
}

// Get returns the document.
func (d *Document) Get(context.Context) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.doc), nil
}

// Replace validates and stores doc.
func (d *Document) Replace(_ context.Context, doc []byte) error {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("%w: %v", tickets.ErrInvalid, err) // yaml.v3 errors name the line
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.doc = bytes.Clone(doc)
	return nil
}

type slaDocs struct{ *Document }

func (d slaDocs) Policies(ctx context.Context) ([]byte, error)        { return d.Get(ctx) }
func (d slaDocs) ReplacePolicies(ctx context.Context, b []byte) error { return d.Replace(ctx, b) }

type ruleDocs struct{ *Document }

func (d ruleDocs) Rules(ctx context.Context) ([]byte, error)        { return d.Get(ctx) }
func (d ruleDocs) ReplaceRules(ctx context.Context, b []byte) error { return d.Replace(ctx, b) }

// SyncBuffer is a bytes.Buffer safe for concurrent writers, for logs.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	_ api.SLAPolicies     = slaDocs{}
	_ api.AutomationRules = ruleDocs{}
)
