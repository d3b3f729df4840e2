package agentsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/agents"
	"github.com/switchboard-cc/switchboard/ivr/agents/agentsapi"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
	"github.com/switchboard-cc/switchboard/web/webtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// env is the web server with the agents API over a Directory on a real
// Elasticsearch, and an Issuer with one API client per role.
type env struct {
	t       *testing.T
	handler http.Handler
	api     *agentsapi.API
	dir     *agents.Directory
	ws      *webtest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := estest.Client(t)
	log := slog.New(slog.DiscardHandler)
	dir, err := agents.New(c, agents.Config{
		Realm:      "switchboard.test",
		SeedGroups: []string{"sales"},
		Seed:       []agents.AgentConfig{{ID: "alice", URI: "sip:alice@pbx.example", Groups: []string{"sales"}, State: agents.Available}},
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ensure(t.Context(), log, dir.Index()); err != nil {
		t.Fatal(err)
	}
	if err := dir.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, api: agentsapi.New(dir)}
	ws := webtest.New(t, e.api)
	e.handler, e.ws = ws.Handler, ws
	return e
}

func (e *env) token(r auth.Role) string { return e.ws.Token(r) }

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body)) }

// do sends method path with body (JSON, "" for none) as role ("": no token).
func (e *env) do(role auth.Role, method, path, body string) *response {
	e.t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequestWithContext(context.Background(), method, path, nil)
	} else {
		req = httptest.NewRequestWithContext(context.Background(), method, path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(role))
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// as is do as a supervisor, who may do everything here.
func (e *env) as(method, path, body string) *response {
	e.t.Helper()
	return e.do(auth.RoleSupervisor, method, path, body)
}

func (r *response) decode(t *testing.T, code int, v any) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s, want %d", r, code)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// problem decodes a problem answer, checking its media type and status.
func (r *response) problem(t *testing.T) problem.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type %q, want %s; response %s", ct, problem.ContentType, r)
	}
	var p problem.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
	if p.Status != r.code {
		t.Fatalf("problem status %d in a %d response", p.Status, r.code)
	}
	return p
}
