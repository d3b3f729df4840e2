package callsapi_test

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
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/calls/callsapi"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
	"github.com/switchboard-cc/switchboard/web/webtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// t0 is the last full hour; the seeded calls started before it.
var t0 = time.Now().UTC().Truncate(time.Hour)

// env is the web server with the calls API over a real store holding two
// calls, and an Issuer with one API client per role.
type env struct {
	t       *testing.T
	handler http.Handler
	api     *callsapi.API
	ws      *webtest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	c := estest.Client(t)
	store := calls.New(c, calls.Config{}, nil)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), store.Index()); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(-time.Hour + time.Minute)
	for _, r := range []*calls.Record{
		{ID: "c1", Caller: "sip:100@pbx", FlowID: "main", Started: t0.Add(-time.Hour), Ended: &end, DurationMS: 60000, Outcome: calls.SelfServed,
			Path:         []calls.Step{{Node: "menu", Kind: "ask", At: t0.Add(-time.Hour)}},
			Recognitions: []calls.Recognition{{Node: "menu", At: t0.Add(-time.Hour), Text: "查余额", Intent: "balance", Result: "matched", LatencyMS: 300}}},
		{ID: "c2", Caller: "sip:200@pbx", FlowID: "main", Started: t0.Add(-30 * time.Minute)},
	} {
		if err := store.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Do(ctx, http.MethodPost, "/"+c.Name(calls.IndexName)+"/_refresh", nil, nil); err != nil {
		t.Fatal(err)
	}

	e := &env{t: t, api: callsapi.New(store)}
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

// get requests target as role ("": no token).
func (e *env) get(role auth.Role, target string) *response {
	e.t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
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

// TestAuthorization: every route needs calls:read: no token is 401, a
// role without the scope 403 naming it, every other role 200.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	targets := map[string]string{
		callsapi.PathCalls: callsapi.PathCalls,
		callsapi.PathStats: callsapi.PathStats,
		callsapi.PathCall:  "/api/v1/calls/c1",
	}
	for _, r := range e.api.Routes() {
		target, ok := targets[r.Path]
		if !ok || r.Method != http.MethodGet || r.Scope != auth.ScopeCallsRead {
			t.Errorf("route %+v, want a GET of %v with %s", r, targets, auth.ScopeCallsRead)
			continue
		}
		if res := e.get("", target); res.code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %s, want 401", target, res)
		}
		for _, role := range auth.Roles() {
			res := e.get(role, target)
			switch {
			case !role.Has(r.Scope):
				if p := res.problem(t); res.code != http.StatusForbidden || p.Extensions["required_scope"] != r.Scope {
					t.Errorf("%s as %s: %s, want 403 naming the scope", target, role, res)
				}
			case res.code != http.StatusOK:
				t.Errorf("%s as %s: %s, want 200", target, role, res)
			}
		}
	}
}

// TestGet: a stored call, a missing one, and "stats" is the stats route,
// not a call id.
func TestGet(t *testing.T) {
	e := newEnv(t)
	var r calls.Record
	e.get(auth.RoleAgent, "/api/v1/calls/c1").decode(t, &r)
	if r.ID != "c1" || r.Outcome != calls.SelfServed || len(r.Recognitions) != 1 || r.Recognitions[0].Intent != "balance" {
		t.Errorf("got %+v", r)
	}
	res := e.get(auth.RoleAgent, "/api/v1/calls/nope")
	if p := res.problem(t); res.code != http.StatusNotFound || !strings.Contains(p.Detail, "nope") {
		t.Errorf("missing call: %s, want 404 naming it", res)
	}
	var st calls.Stats
	e.get(auth.RoleAgent, callsapi.PathStats).decode(t, &st)
	if st.Calls != 2 {
		t.Errorf("stats of the last day: %+v, want 2 calls", st)
	}
}

// TestSearch: filters from the query string, paging, and 400 naming each
// bad parameter.
func TestSearch(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		query string
		code  int
		ids   string   // 200: the page's ids, comma-separated
		total int      // 200
		field []string // 400: the fields named
	}{
		{query: "", code: 200, ids: "c2,c1", total: 2},
		{query: "outcome=self_served", code: 200, ids: "c1", total: 1},
		{query: "outcome=ticket,self_served&caller=sip:100@pbx&flow=main&intent=balance&node=menu", code: 200, ids: "c1", total: 1},
		{query: "from=" + t0.Add(-45*time.Minute).Format(time.RFC3339), code: 200, ids: "c2", total: 1},
		{query: "to=" + t0.Add(-45*time.Minute).Format(time.RFC3339), code: 200, ids: "c1", total: 1},
		{query: "size=1&offset=1", code: 200, ids: "c1", total: 2},
		{query: "intent=refund", code: 200, ids: "", total: 0},
		{query: "from=yesterday", code: 400, field: []string{"from"}},
		{query: "outcome=won", code: 400, field: []string{"outcome"}},
		{query: "size=0", code: 400, field: []string{"size"}},
		{query: "size=101", code: 400, field: []string{"size"}},
		{query: "offset=-1", code: 400, field: []string{"offset"}},
		{query: "caller=a&caller=b", code: 400, field: []string{"caller"}},
		{query: "sort=asc&size=x", code: 400, field: []string{"size", "sort"}},
		{query: "offset=9990&size=20", code: 400},
		{query: "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", code: 400},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res := e.get(auth.RoleOps, callsapi.PathCalls+"?"+tc.query)
			if res.code != tc.code {
				t.Fatalf("%s, want %d", res, tc.code)
			}
			if tc.code != http.StatusOK {
				p := res.problem(t)
				var fields []string
				for _, f := range p.Errors {
					fields = append(fields, f.Field)
				}
				if strings.Join(fields, ",") != strings.Join(tc.field, ",") {
					t.Errorf("fields %v, want %v: %s", fields, tc.field, res)
				}
				return
			}
			var page callsapi.Page
			res.decode(t, &page)
			var ids []string
			for _, r := range page.Calls {
				ids = append(ids, r.ID)
			}
			if strings.Join(ids, ",") != tc.ids || page.Total != tc.total || page.Calls == nil {
				t.Errorf("got %v of %d, want %s of %d", ids, page.Total, tc.ids, tc.total)
			}
		})
	}
}

// TestStats: the query's range and interval reach the store; bad ones are
// 400.
func TestStats(t *testing.T) {
	e := newEnv(t)
	from, to := t0.Add(-2*time.Hour).Format(time.RFC3339), t0.Format(time.RFC3339)
	var st calls.Stats
	e.get(auth.RoleOps, callsapi.PathStats+"?from="+from+"&to="+to+"&interval=30m").decode(t, &st)
	if st.Calls != 2 || st.Ended != 1 || st.ContainmentRate != 1 || len(st.Volume) != 4 || st.Volume[2].Calls != 1 || st.Volume[3].Calls != 1 ||
		st.LatencyP50MS == nil || *st.LatencyP50MS != 300 || st.AvgHandleMS == nil || *st.AvgHandleMS != 60000 {
		t.Errorf("stats %+v", st)
	}
	for _, q := range []string{
		"interval=soon", "interval=-1h", "interval=1s", "from=x", "from=" + to + "&to=" + from, "window=1h",
		"from=2020-01-01T00:00:00Z&interval=1m",
	} {
		res := e.get(auth.RoleOps, callsapi.PathStats+"?"+q)
		if res.code != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400", q, res)
			continue
		}
		res.problem(t)
	}
}
