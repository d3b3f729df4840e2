package alertapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/alert/alertapi"
	"github.com/switchboard-cc/switchboard/aiops/alert/esstore"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
	"github.com/switchboard-cc/switchboard/web/webtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// env is the web server with the alerts API over a Manager on a real
// store holding two open alerts, and one API client per role.
type env struct {
	t       *testing.T
	handler http.Handler
	api     *alertapi.API
	ws      *webtest.Server
	ids     []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	c := estest.Client(t)
	store := esstore.New(c, esstore.DefaultConfig(), nil)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), store.Index()); err != nil {
		t.Fatal(err)
	}
	m, err := alert.New(alert.Config{}, alert.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, api: alertapi.New(m)}
	for _, k := range []string{"anomaly:calls:billing", "incident:trunk"} {
		a, err := m.Raise(ctx, alert.Alert{Key: k, Source: alert.SourceAnomaly, Severity: alert.SeverityWarning, Title: "t " + k})
		if err != nil {
			t.Fatal(err)
		}
		e.ids = append(e.ids, a.ID)
	}
	ws := webtest.New(t, e.api)
	e.handler, e.ws = ws.Handler, ws
	return e
}

func (e *env) token(r auth.Role) string { return e.ws.Token(r) }

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.code, strings.TrimSpace(string(r.body)))
}

func (e *env) do(role auth.Role, method, target string) *response {
	e.t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, target, nil)
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(role))
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("%s, want 200", r)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

func (r *response) problem(t *testing.T) problem.Problem {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
	return p
}

// TestAuthorization: no token is 401; a role without the route's scope is
// 403 naming it; a role with it gets through (200, or 404/409 for a write
// whose alert another role already closed — anything but 401/403).
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	targets := map[string]string{
		alertapi.PathAlerts:  alertapi.PathAlerts,
		alertapi.PathAlert:   "/api/v1/alerts/" + e.ids[0],
		alertapi.PathAck:     "/api/v1/alerts/" + e.ids[0] + "/ack",
		alertapi.PathResolve: "/api/v1/alerts/" + e.ids[1] + "/resolve",
	}
	for _, r := range e.api.Routes() {
		target := targets[r.Path]
		wantScope := auth.ScopeAIOpsRead
		if r.Method == http.MethodPost {
			wantScope = auth.ScopeAIOpsManage
		}
		if target == "" || r.Scope != wantScope {
			t.Errorf("route %+v, want scope %s", r, wantScope)
			continue
		}
		if res := e.do("", r.Method, target); res.code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %s, want 401", r.Method, target, res)
		}
		for _, role := range auth.Roles() {
			res := e.do(role, r.Method, target)
			switch {
			case !role.Has(r.Scope):
				if p := res.problem(t); res.code != http.StatusForbidden || p.Extensions["required_scope"] != r.Scope {
					t.Errorf("%s %s as %s: %s, want 403 naming the scope", r.Method, target, role, res)
				}
			case res.code == http.StatusUnauthorized || res.code == http.StatusForbidden || res.code >= 500:
				t.Errorf("%s %s as %s: %s, want it let through", r.Method, target, role, res)
			}
		}
	}
}

func TestAckResolveAndList(t *testing.T) {
	e := newEnv(t)
	var a alert.Alert
	e.do(auth.RoleOps, http.MethodPost, "/api/v1/alerts/"+e.ids[0]+"/ack").decode(t, &a)
	if a.State != alert.StateAcknowledged || a.AckBy != "test-ops" {
		t.Errorf("after ack: %s by %q, want acknowledged by test-ops", a.State, a.AckBy)
	}
	e.do(auth.RoleOps, http.MethodPost, "/api/v1/alerts/"+e.ids[1]+"/resolve").decode(t, &a)
	if a.State != alert.StateResolved || a.ResolvedBy != "test-ops" {
		t.Errorf("after resolve: %+v", a)
	}
	if res := e.do(auth.RoleOps, http.MethodPost, "/api/v1/alerts/"+e.ids[1]+"/ack"); res.code != http.StatusConflict {
		t.Errorf("ack of a resolved alert: %s, want 409", res)
	}
	if res := e.do(auth.RoleOps, http.MethodGet, "/api/v1/alerts/nope"); res.code != http.StatusNotFound {
		t.Errorf("missing alert: %s, want 404", res)
	}
	for _, tt := range []struct {
		query string
		ids   []string
	}{
		{"", []string{e.ids[0], e.ids[1]}},
		{"?state=resolved", []string{e.ids[1]}},
		{"?state=firing,acknowledged", []string{e.ids[0]}},
		{"?state=firing", nil},
		{"?key=incident:trunk", []string{e.ids[1]}},
	} {
		var p alertapi.Page
		e.do(auth.RoleSupervisor, http.MethodGet, alertapi.PathAlerts+tt.query).decode(t, &p)
		got := map[string]bool{}
		for _, a := range p.Alerts {
			got[a.ID] = true
		}
		if p.Total != len(tt.ids) || len(got) != len(tt.ids) {
			t.Errorf("%q: %d alerts (total %d), want %v", tt.query, len(p.Alerts), p.Total, tt.ids)
		}
		for _, id := range tt.ids {
			if !got[id] {
				t.Errorf("%q lacks %s", tt.query, id)
			}
		}
	}
	for _, q := range []string{"?state=open", "?size=0", "?colour=red"} {
		if res := e.do(auth.RoleOps, http.MethodGet, alertapi.PathAlerts+q); res.code != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400", q, res)
		}
	}
	var got alert.Alert
	e.do(auth.RoleOps, http.MethodGet, "/api/v1/alerts/"+e.ids[0]).decode(t, &got)
	if len(got.History) != 2 || got.History[1].Kind != alert.EventAcknowledged || got.History[1].By != "test-ops" {
		t.Errorf("history %+v", got.History)
	}
}
