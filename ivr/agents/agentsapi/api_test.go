package agentsapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/agents"
	"github.com/switchboard-cc/switchboard/ivr/agents/agentsapi"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// TestAuthorization: every route answers 401 without a token, 403 to a
// role without its scope, and something else to the roles with it.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	bodies := map[string]string{
		agentsapi.PathGroup:      `{"description":"x"}`,
		agentsapi.PathAgent:      `{"uri":"sip:alice@pbx.example","groups":["sales"]}`,
		agentsapi.PathAgentState: `{"state":"available"}`,
	}
	for _, r := range e.api.Routes() {
		if want := map[string]string{http.MethodGet: auth.ScopeCallsRead}[r.Method]; want == "" && r.Scope != auth.ScopeAgentsManage || want != "" && r.Scope != want {
			t.Errorf("%s %s needs %s; reads need calls:read, changes agents:manage", r.Method, r.Path, r.Scope)
		}
		path := strings.NewReplacer(":name", "sales", ":id", "alice").Replace(r.Path)
		body := ""
		if r.Method == http.MethodPut {
			body = bodies[r.Path]
		}
		if res := e.do("", r.Method, path, body); res.code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %s, want 401", r.Method, path, res)
		}
		for _, role := range auth.Roles() {
			res := e.do(role, r.Method, path, body)
			switch {
			case !role.Has(r.Scope):
				if p := res.problem(t); res.code != http.StatusForbidden || p.Extensions["required_scope"] != r.Scope {
					t.Errorf("%s %s as %s (no %s): %s, want 403 naming the scope", r.Method, path, role, r.Scope, res)
				}
			case res.code == http.StatusUnauthorized || res.code == http.StatusForbidden:
				t.Errorf("%s %s as %s: %s", r.Method, path, role, res)
			}
		}
	}
}

// TestManage walks through the API as an administrator would, one
// request after another on one server.
func TestManage(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		method, path, body string
		code               int
		want               []string // substrings of the answer
	}{
		{"GET", "/api/v1/skill-groups", "", 200, []string{`"name":"sales"`, `"available":1`, `"queued":0`}},
		{"PUT", "/api/v1/skill-groups/support", `{"description":"Second level"}`, 200, []string{`"description":"Second level"`}},
		{"PUT", "/api/v1/skill-groups/bad%20name", `{}`, 400, []string{"group"}},
		{"PUT", "/api/v1/skill-groups/support", `{"descr":"typo"}`, 400, []string{"descr"}},
		{"PUT", "/api/v1/agents/bob", `{"name":"Bob","uri":"sip:bob@pbx.example","groups":["support"],"password":"pw"}`, 200, []string{`"has_password":true`, `"state":"offline"`, `"groups":["support"]`}},
		{"PUT", "/api/v1/agents/carol", `{"uri":"tel:+4930123"}`, 400, []string{"sip: or sips:"}},
		{"PUT", "/api/v1/agents/carol", `{"uri":"sip:carol@pbx.example","groups":["nope"]}`, 400, []string{`group \"nope\" does not exist`}},
		{"PUT", "/api/v1/agents/carol", `{"uri":"sip:carol@pbx.example","team":"x"}`, 400, []string{"team"}},
		{"PUT", "/api/v1/agents/bob/state", `{"state":"available"}`, 200, []string{`"state":"available"`}},
		{"PUT", "/api/v1/agents/bob/state", `{"state":"lunch"}`, 400, []string{"lunch"}},
		{"PUT", "/api/v1/agents/nobody/state", `{"state":"available"}`, 404, nil},
		{"PUT", "/api/v1/agents/bob", `{"name":"Robert","uri":"sip:bob@pbx.example","groups":["support"]}`, 200, []string{`"name":"Robert"`, `"has_password":true`, `"state":"available"`}},
		{"GET", "/api/v1/agents?group=support", "", 200, []string{`"id":"bob"`}},
		{"GET", "/api/v1/agents?group=nope", "", 404, nil},
		{"GET", "/api/v1/agents", "", 200, []string{`"id":"alice"`, `"id":"bob"`}},
		{"DELETE", "/api/v1/skill-groups/support", "", 409, []string{"bob"}},
		{"DELETE", "/api/v1/agents/bob", "", 204, nil},
		{"DELETE", "/api/v1/agents/bob", "", 404, nil},
		{"DELETE", "/api/v1/skill-groups/support", "", 204, nil},
		{"DELETE", "/api/v1/skill-groups/support", "", 404, nil},
	}
	for _, s := range steps {
		res := e.as(s.method, s.path, s.body)
		if res.code != s.code {
			t.Errorf("%s %s %s: %s, want %d", s.method, s.path, s.body, res, s.code)
			continue
		}
		if res.code >= 400 {
			res.problem(t)
		}
		for _, w := range s.want {
			if !strings.Contains(string(res.body), w) {
				t.Errorf("%s %s %s: %s, want it to contain %s", s.method, s.path, s.body, res, w)
			}
		}
	}
	if res := e.as("GET", "/api/v1/agents?group=support", ""); res.code != 404 {
		t.Errorf("agents of the deleted group: %s, want 404", res)
	}
}

// TestQueueInSnapshot: a waiting caller shows in the group list, and an
// agent made available through the API is handed to it.
func TestQueueInSnapshot(t *testing.T) {
	e := newEnv(t)
	if res := e.as("PUT", "/api/v1/agents/alice/state", `{"state":"offline"}`); res.code != 200 {
		t.Fatal(res)
	}
	type result struct {
		a   agents.Agent
		err error
	}
	got := make(chan result, 1)
	go func() {
		a, release, err := e.dir.Acquire(context.Background(), "sales", time.Minute, nil)
		if release != nil {
			defer release()
		}
		got <- result{a, err}
	}()
	for e.dir.QueueLen("sales") == 0 {
		time.Sleep(time.Millisecond)
	}
	var list agentsapi.GroupList
	e.as("GET", "/api/v1/skill-groups", "").decode(t, 200, &list)
	if len(list.Groups) != 1 || list.Groups[0].Queued != 1 || list.Groups[0].Available != 0 || list.Groups[0].Offline != 1 {
		t.Errorf("groups with a caller waiting: %+v", list.Groups)
	}
	var a agents.Agent
	e.as("PUT", "/api/v1/agents/alice/state", `{"state":"available"}`).decode(t, 200, &a)
	if a.State != agents.Busy {
		t.Errorf("alice made available with a caller waiting is %s, want busy (handed over)", a.State)
	}
	if r := <-got; r.err != nil || r.a.ID != "alice" {
		t.Errorf("the waiting caller got %q, %v; want alice", r.a.ID, r.err)
	}
}
