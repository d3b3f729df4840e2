package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/alert/alertapi"
	"github.com/switchboard-cc/switchboard/aiops/incident/incidentapi"
	"github.com/switchboard-cc/switchboard/aiops/logs/logsapi"
	"github.com/switchboard-cc/switchboard/aiops/staffing/staffingapi"
	"github.com/switchboard-cc/switchboard/ivr/agents/agentsapi"
	"github.com/switchboard-cc/switchboard/ivr/calls/callsapi"
	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/ivr/record/recordapi"
	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/asr/asrapi"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
	"github.com/switchboard-cc/switchboard/tickets/api/apitest"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/openapi"
	"github.com/switchboard-cc/switchboard/web/problem"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// ginParam matches a gin path parameter, :id or *path.
var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// openAPIPath converts a gin path template to OpenAPI's: :id → {id}.
func openAPIPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// documented lists the document's operations as "METHOD /path" → scope
// ("" for public ones).
func documented(t *testing.T) map[string]string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			var op struct {
				Security []map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			var scopes []string
			for _, req := range op.Security {
				scopes = append(scopes, req["oauth2"]...)
			}
			if len(scopes) > 1 {
				t.Errorf("%s %s requires several scopes %v; routes require one", method, path, scopes)
			}
			ops[strings.ToUpper(method)+" "+path] = strings.Join(scopes, " ")
		}
	}
	return ops
}

// recordRoutes is the recordings API's route table, which needs no live
// recorder or auditor to be read.
func recordRoutes(t *testing.T) []web.Route {
	t.Helper()
	a, err := recordapi.New(recordapi.Deps{Recordings: (*record.Recorder)(nil), Audit: (*recordapi.Auditor)(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return a.Routes()
}

// TestOpenAPIMatchesRoutes checks that the OpenAPI document and the routes
// the full server registers agree exactly: the same operations, and each
// operation's documented scope is the one its route requires.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	docs := documented(t)
	registered := map[string]bool{}
	// The NLU routes are registered only when models are configured, the
	// ASR route only when speech recognition is on; the document describes
	// them always. Their tables need no live service.
	nluAPI, err := nluapi.New(nluapi.DefaultConfig(), nluapi.Deps{Service: (*nlu.Service)(nil)})
	if err != nil {
		t.Fatal(err)
	}
	asrAPI, err := asrapi.New(asrapi.DefaultConfig(), asrapi.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	// The IVR's APIs (call records, agents, recordings) come with --ivr;
	// log ingestion with AIOps.
	ivrRoutes := slices.Concat(callsapi.New(nil).Routes(), agentsapi.New(nil).Routes(), recordRoutes(t), logsapi.New(nil).Routes(), alertapi.New(nil).Routes(), incidentapi.New(nil).Routes(), staffingapi.New(nil).Routes())
	for _, r := range slices.Concat(e.Server.Routes(), nluAPI.Routes(), asrAPI.Routes(), ivrRoutes) {
		key := r.Method + " " + openAPIPath(r.Path)
		registered[key] = true
		scope, ok := docs[key]
		switch {
		case !ok:
			t.Errorf("route %s %s is not documented", r.Method, r.Path)
		case scope != r.Scope:
			t.Errorf("%s: documented scope %q, route requires %q", key, scope, r.Scope)
		}
	}
	for key := range docs {
		if !registered[key] {
			t.Errorf("documented operation %s is not served", key)
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d routes registered", len(registered))
	}
}

// pathFor fills a route's parameters with placeholder values.
func pathFor(r web.Route) string {
	return ginParam.ReplaceAllString(r.Path, "no-such-$1")
}

// TestAuthorization calls every API route as every role: a role without
// the route's scope gets 403, a role with it gets past authorization, and
// a request without a token gets 401.
func TestAuthorization(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	var api []web.Route
	for _, r := range e.Server.Routes() {
		if strings.HasPrefix(r.Path, "/api/") {
			api = append(api, r)
		}
	}
	if len(api) == 0 {
		t.Fatal("no API routes")
	}
	for _, r := range api {
		if r.Scope == "" {
			t.Errorf("%s %s requires no scope", r.Method, r.Path)
			continue
		}
		path := pathFor(r)
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			resp := e.Do(apitest.Request{Method: r.Method, Path: path})
			if resp.Code != http.StatusUnauthorized {
				t.Errorf("no token: %s, want 401", resp)
			}
			for _, role := range auth.Roles() {
				resp := e.Do(apitest.Request{Method: r.Method, Path: path, Role: role})
				if !role.Has(r.Scope) {
					if resp.Code != http.StatusForbidden {
						t.Errorf("%s without %s: %s, want 403", role, r.Scope, resp)
					} else if p := resp.Problem(t); p.Extensions["required_scope"] != r.Scope {
						t.Errorf("%s: 403 names scope %v, want %s", role, p.Extensions["required_scope"], r.Scope)
					}
					continue
				}
				if resp.Code == http.StatusUnauthorized || resp.Code == http.StatusForbidden {
					t.Errorf("%s with %s: %s", role, r.Scope, resp)
				}
				// An empty request must be refused as the client's
				// fault, never crash a handler.
				if resp.Code == http.StatusInternalServerError {
					t.Errorf("%s: %s", role, resp)
				}
			}
		})
	}
}

// TestServerRoutes covers the server's own endpoints and middleware.
func TestServerRoutes(t *testing.T) {
	t.Parallel()
	notReady := errors.New("elasticsearch at 10.0.0.7:9200 is down")
	ready := true
	e := apitest.New(t, apitest.Options{
		Web: web.Config{PublicURL: "https://switchboard.example.com/"},
		Ready: func(context.Context) error {
			if ready {
				return nil
			}
			return notReady
		},
	})

	r := e.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz"})
	if r.Code != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"status":"ok"}` {
		t.Errorf("healthz: %s", r)
	}
	if r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"}); r.Code != http.StatusOK {
		t.Errorf("readyz: %s", r)
	}
	ready = false
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"})
	if r.Code != http.StatusServiceUnavailable || strings.Contains(string(r.Body), "10.0.0.7") {
		t.Errorf("readyz when not ready: %s", r)
	}
	r.Problem(t)
	if !strings.Contains(e.Log.String(), "10.0.0.7") {
		t.Error("the readiness failure was not logged")
	}

	// Unknown routes and methods are problems.
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/api/v1/nothing"})
	if r.Code != http.StatusNotFound {
		t.Errorf("unknown route: %s", r)
	}
	r.Problem(t)
	r = e.Do(apitest.Request{Method: http.MethodPut, Path: "/api/v1/stats", Role: auth.RoleAdmin})
	if r.Code != http.StatusMethodNotAllowed {
		t.Errorf("unknown method: %s", r)
	}
	r.Problem(t)
	if r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/api/v1/tickets/"}); r.Code != http.StatusNotFound {
		t.Errorf("trailing slash: %s, want 404 rather than a redirect", r)
	}

	// The OpenAPI document points at the public URL.
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/openapi.json"})
	var doc struct {
		OpenAPI string           `json:"openapi"`
		Servers []map[string]any `json:"servers"`
	}
	r.Decode(t, &doc)
	if r.Code != http.StatusOK || doc.OpenAPI == "" || len(doc.Servers) != 1 || doc.Servers[0]["url"] != "https://switchboard.example.com" ||
		!strings.Contains(string(r.Body), `"tokenUrl":"https://switchboard.example.com/oauth/token"`) {
		t.Errorf("openapi.json: servers %v", doc.Servers)
	}
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/docs"})
	if r.Code != http.StatusOK || !strings.Contains(string(r.Body), "SwaggerUIBundle") ||
		!strings.Contains(string(r.Body), `url: "openapi.json"`) || !strings.Contains(string(r.Body), "cdn.jsdelivr.net") {
		t.Errorf("docs: %s", r)
	}
	if r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/docs/assets/swagger-ui.css"}); r.Code != http.StatusNotFound {
		t.Errorf("docs asset without a directory: %s", r)
	}

	// Request IDs: a valid one is adopted, an unsafe one replaced.
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz", Header: http.Header{"X-Request-Id": {"abc-123"}}})
	if got := r.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("request ID %q, want the client's", got)
	}
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz", Header: http.Header{"X-Request-Id": {"evil\r\nid"}}})
	if got := r.Header.Get("X-Request-ID"); len(got) != 32 {
		t.Errorf("request ID %q, want a generated one", got)
	}

	// The access log names the route template and the client, never the
	// token or the concrete path.
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/api/v1/tickets/secret-id-42", Role: auth.RoleAgent,
		Header: http.Header{"X-Request-Id": {"trace-me"}}})
	if r.Code != http.StatusNotFound {
		t.Errorf("get unknown ticket: %s", r)
	}
	var line map[string]any
	for _, l := range strings.Split(e.Log.String(), "\n") {
		if strings.Contains(l, `"request_id":"trace-me"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]any{"msg": "http request", "method": "GET", "route": "/api/v1/tickets/:id", "status": 404.0, "client_id": apitest.Actor(auth.RoleAgent)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("access log has no duration: %v", line)
	}
	logs := e.Log.String()
	if strings.Contains(logs, e.Token(auth.RoleAgent)) || strings.Contains(logs, "secret-id-42") || strings.Contains(logs, "Bearer") {
		t.Error("the log holds a token or a concrete path")
	}

	// Metrics count by route template.
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: "/metrics"})
	body := string(r.Body)
	for _, want := range []string{
		`switchboard_http_requests_total{method="GET",route="/api/v1/tickets/:id",status="404"} 1`,
		`switchboard_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`switchboard_http_requests_total{method="PUT",route="unmatched",status="405"} 1`,
		`switchboard_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "secret-id-42") {
		t.Error("metrics hold a concrete path")
	}
}

// TestBodyLimit checks the server-wide limit and a route's own.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{Web: web.Config{MaxBodyBytes: 100}})
	big := `{"subject": "` + strings.Repeat("x", 200) + `"}`
	r := e.Do(apitest.Request{Method: http.MethodPost, Path: "/api/v1/tickets", Role: auth.RoleAgent, Body: big})
	if r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("over the server limit: %s", r)
	}
	r.Problem(t)
	// The import route allows more than the server default, so a 200-byte
	// upload gets past the limit (to the 501 of the missing importer).
	r = e.Do(apitest.Request{Method: http.MethodPost, Path: "/api/v1/imports", Role: auth.RoleAdmin, Body: big, ContentType: "multipart/form-data; boundary=x"})
	if r.Code != http.StatusNotImplemented {
		t.Errorf("import route: %s", r)
	}
}

func TestDocsAssets(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"swagger-ui.css", "swagger-ui-bundle.js"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("/* "+f+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "outside.txt"), []byte("no"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, web.Config{DocsAssetsDir: dir})
	for path, want := range map[string]int{
		"/docs/assets/swagger-ui.css":       200,
		"/docs/assets/swagger-ui-bundle.js": 200,
		"/docs/assets/missing.js":           404,
		"/docs/assets/..%2Foutside.txt":     404,
		"/docs/assets/.":                    404,
	} {
		code, body := get(t, s, path)
		if code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
		if want == 200 && !strings.Contains(body, filepath.Base(path)) {
			t.Errorf("%s: body %q", path, body)
		}
	}
	if _, page := get(t, s, "/docs"); !strings.Contains(page, `href="docs/assets/swagger-ui.css"`) || strings.Contains(page, "cdn.") {
		t.Errorf("docs page does not use the local assets: %s", page)
	}
	if _, err := web.New(web.Config{DocsAssetsDir: t.TempDir()}, web.Deps{Verifier: denyAll{}}); err == nil {
		t.Error("New accepted a docs directory without Swagger UI")
	}
}

// denyAll is a Verifier that accepts no token.
type denyAll struct{}

func (denyAll) Verify(string) (auth.Claims, error) { return auth.Claims{}, auth.ErrInvalidToken }

func newServer(t *testing.T, cfg web.Config, apis ...web.Registrar) *web.Server {
	t.Helper()
	s, err := web.New(cfg, web.Deps{Verifier: denyAll{}, APIs: apis})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, s *web.Server, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &recorder{header: http.Header{}}
	s.Handler().ServeHTTP(w, req)
	return w.code, w.body.String()
}

type recorder struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}

// registrar is a domain API whose table and registrations can disagree.
type registrar struct {
	table    []web.Route
	register []web.Route
}

func (r registrar) Routes() []web.Route { return r.table }
func (r registrar) Register(g gin.IRouter, guard func(string) gin.HandlerFunc) {
	for _, rt := range r.register {
		g.Handle(rt.Method, rt.Path, guard(rt.Scope), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	}
}

func TestRegistrarChecks(t *testing.T) {
	a := web.Route{Method: http.MethodGet, Path: "/api/v1/a", Scope: auth.ScopeTicketsRead}
	b := web.Route{Method: http.MethodPost, Path: "/api/v1/b", Scope: auth.ScopeTicketsWrite}
	for _, c := range []struct {
		name string
		r    registrar
		want string
	}{
		{"agree", registrar{table: []web.Route{a, b}, register: []web.Route{a, b}}, ""},
		{"unlisted", registrar{table: []web.Route{a}, register: []web.Route{a, b}}, "not in its route table: POST /api/v1/b"},
		{"unregistered", registrar{table: []web.Route{a, b}, register: []web.Route{a}}, "not registered: POST /api/v1/b"},
		{"duplicate", registrar{table: []web.Route{a}, register: []web.Route{a, a}}, "register"},
		{"clash with the server", registrar{table: []web.Route{{Method: http.MethodGet, Path: "/healthz"}}, register: []web.Route{{Method: http.MethodGet, Path: "/healthz"}}}, "register"},
		{"unknown scope", registrar{table: []web.Route{{Method: http.MethodGet, Path: "/x", Scope: "tickets:everything"}}}, "unknown scope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := web.New(web.Config{}, web.Deps{Verifier: denyAll{}, APIs: []web.Registrar{c.r}})
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	s := newServer(t, web.Config{}, registrar{table: []web.Route{a}, register: []web.Route{a}})
	i := slices.IndexFunc(s.Routes(), func(r web.Route) bool { return r.Path == a.Path })
	if i < 0 || s.Routes()[i].Scope != a.Scope {
		t.Errorf("Routes() = %v, want %v among them", s.Routes(), a)
	}
	if code, _ := get(t, s, "/api/v1/a"); code != http.StatusUnauthorized {
		t.Errorf("guarded route without token: %d", code)
	}
	req, _ := http.NewRequest(http.MethodDelete, "/api/v1/a", nil)
	w := &recorder{header: http.Header{}}
	s.Handler().ServeHTTP(w, req)
	if w.code != http.StatusMethodNotAllowed || w.header.Get("Allow") != "GET" || w.header.Get("Content-Type") != problem.ContentType {
		t.Errorf("wrong method: %d Allow %q %q", w.code, w.header.Get("Allow"), w.body.String())
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (web.Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	for _, c := range []web.Config{
		{Addr: "localhost"},
		{MaxBodyBytes: -1},
		{ShutdownTimeout: -time.Second},
		{PublicURL: "switchboard.example.com"},
		{DocsAssetsDir: "/does/not/exist"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := web.New(web.Config{}, web.Deps{}); err == nil {
		t.Error("New without Verifier or Issuer: no error")
	}
}

// TestServe starts the server on a real socket, makes a request that is
// still running when the context is cancelled, and checks that it is
// allowed to finish before Serve returns.
func TestServe(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := web.Route{Method: http.MethodGet, Path: "/api/v1/slow"}
	s, err := web.New(web.Config{ShutdownTimeout: 5 * time.Second}, web.Deps{
		Verifier: denyAll{},
		APIs:     []web.Registrar{slowAPI{slow, started, release}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("healthz over TCP: %d", resp.StatusCode)
	}

	slowDone := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + slow.Path)
		if err != nil {
			slowDone <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		slowDone <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := <-slowDone; got != "200 done" {
		t.Errorf("in-flight request: %s", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

// slowAPI serves one public route that waits for release.
type slowAPI struct {
	route            web.Route
	started, release chan struct{}
}

func (a slowAPI) Routes() []web.Route { return []web.Route{a.route} }
func (a slowAPI) Register(g gin.IRouter, _ func(string) gin.HandlerFunc) {
	g.GET(a.route.Path, func(c *gin.Context) {
		close(a.started)
		<-a.release
		c.String(http.StatusOK, "done")
	})
}

// TestProblemShape checks that a server-level error is a problem document.
func TestProblemShape(t *testing.T) {
	s := newServer(t, web.Config{})
	code, body := get(t, s, "/nowhere")
	var p problem.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || code != 404 || p.Status != 404 || p.Title == "" {
		t.Errorf("404: %d %s", code, body)
	}
}
