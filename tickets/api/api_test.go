package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/api"
	"github.com/switchboard-cc/switchboard/tickets/api/apitest"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

const (
	agent      = auth.RoleAgent
	supervisor = auth.RoleSupervisor
	mlEngineer = auth.RoleMLEngineer
	admin      = auth.RoleAdmin
	integrator = auth.RoleIntegration
)

func newTicket() map[string]any {
	return map[string]any{
		"channel":  "email",
		"customer": map[string]any{"name": "王小明", "email": "xiaoming@example.com"},
		"subject":  "快递三天没到 package late",
		"tags":     []string{"delivery"},
	}
}

// create opens a ticket through the API and returns it with its ETag.
func create(t *testing.T, e *apitest.Env) (*tickets.Ticket, string) {
	t.Helper()
	r := e.Call(agent, http.MethodPost, "/api/v1/tickets", newTicket())
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	return r.Ticket(t), r.Header.Get("ETag")
}

// stored reads a ticket straight from the Service.
func stored(t *testing.T, e *apitest.Env, id string) (*tickets.Ticket, tickets.Version) {
	t.Helper()
	tk, v, err := e.Service.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return tk, v
}

// eventually retries check until it passes or 10 s pass; search results
// appear after an index refresh.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fields(p problem.Problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

// TestTicketLifecycle walks one ticket through the API the way an agent
// would, checking statuses, headers and what is stored at each step.
func TestTicketLifecycle(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})

	// Create.
	r := e.Call(agent, http.MethodPost, "/api/v1/tickets", newTicket())
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	tk := r.Ticket(t)
	if loc := r.Header.Get("Location"); loc != "/api/v1/tickets/"+tk.ID {
		t.Errorf("Location = %q", loc)
	}
	_, v := stored(t, e, tk.ID)
	etag := r.Header.Get("ETag")
	if etag != api.ETag(v) || etag != fmt.Sprintf(`"%d-%d"`, v.SeqNo, v.PrimaryTerm) {
		t.Errorf("ETag = %q, stored version %+v", etag, v)
	}
	if tk.Status != tickets.StatusNew || tk.Number < 1 || tk.History[0].Actor != apitest.Actor(agent) {
		t.Errorf("created ticket %+v", tk)
	}
	path := "/api/v1/tickets/" + tk.ID

	// Get, and a conditional get.
	r = e.Call(auth.RoleOps, http.MethodGet, path, nil)
	if r.Code != http.StatusOK || r.Header.Get("ETag") != etag || r.Ticket(t).Subject != tk.Subject {
		t.Fatalf("get: %s (ETag %q)", r, r.Header.Get("ETag"))
	}
	r = e.Do(apitest.Request{Method: http.MethodGet, Path: path, Role: agent, Header: http.Header{"If-None-Match": {etag}}})
	if r.Code != http.StatusNotModified {
		t.Errorf("conditional get: %s", r)
	}

	// Patch with the current ETag, then with the stale one.
	r = e.Do(apitest.Request{Method: http.MethodPatch, Path: path, Role: agent,
		Body:   map[string]any{"priority": "high", "add_tags": []string{"vip"}},
		Header: http.Header{"If-Match": {etag}}})
	if r.Code != http.StatusOK {
		t.Fatalf("patch: %s", r)
	}
	patched := r.Ticket(t)
	if patched.Priority != tickets.PriorityHigh || !patched.HasTag("vip") || !patched.HasTag("delivery") {
		t.Errorf("patched ticket: priority %s tags %v", patched.Priority, patched.Tags)
	}
	newTag := r.Header.Get("ETag")
	if newTag == etag || newTag == "" {
		t.Errorf("ETag after patch = %q, before %q", newTag, etag)
	}
	before, _ := stored(t, e, tk.ID)
	r = e.Do(apitest.Request{Method: http.MethodPatch, Path: path, Role: agent,
		Body: map[string]any{"priority": "low"}, Header: http.Header{"If-Match": {etag}}})
	if r.Code != http.StatusPreconditionFailed {
		t.Fatalf("stale patch: %s", r)
	}
	r.Problem(t)
	if after, _ := stored(t, e, tk.ID); !reflect.DeepEqual(before, after) {
		t.Errorf("stale patch changed the ticket")
	}

	// A legal transition, then an illegal one.
	r = e.Call(agent, http.MethodPost, path+"/transitions", map[string]any{"status": "open", "reason": "working on it"})
	if r.Code != http.StatusOK || r.Ticket(t).Status != tickets.StatusOpen {
		t.Fatalf("open: %s", r)
	}
	before, _ = stored(t, e, tk.ID)
	r = e.Call(agent, http.MethodPost, path+"/transitions", map[string]any{"status": "closed"})
	if r.Code != http.StatusConflict {
		t.Fatalf("illegal transition: %s", r)
	}
	p := r.Problem(t)
	if got := p.Extensions["allowed"]; !reflect.DeepEqual(got, []any{"pending", "resolved"}) {
		t.Errorf("allowed = %v, want [pending resolved]; problem %+v", got, p)
	}
	if p.Extensions["from"] != "open" || p.Extensions["to"] != "closed" {
		t.Errorf("problem extensions %v", p.Extensions)
	}
	if after, _ := stored(t, e, tk.ID); !reflect.DeepEqual(before, after) {
		t.Errorf("illegal transition changed the ticket")
	}

	// Comment.
	r = e.Call(agent, http.MethodPost, path+"/comments", map[string]any{"body": "已联系快递公司", "public": true})
	if r.Code != http.StatusCreated {
		t.Fatalf("comment: %s", r)
	}
	commented := r.Ticket(t)
	if len(commented.Comments) != 1 || commented.Comments[0].Author != apitest.Actor(agent) || commented.FirstResponseAt == nil {
		t.Errorf("commented ticket: comments %+v first response %v", commented.Comments, commented.FirstResponseAt)
	}

	// CSAT is refused before resolution, accepted after.
	r = e.Call(agent, http.MethodPut, path+"/csat", map[string]any{"score": 5})
	if r.Code != http.StatusConflict {
		t.Errorf("csat on open ticket: %s", r)
	}
	if r = e.Call(agent, http.MethodPost, path+"/transitions", map[string]any{"status": "resolved"}); r.Code != http.StatusOK {
		t.Fatalf("resolve: %s", r)
	}
	r = e.Call(agent, http.MethodPut, path+"/csat", map[string]any{"score": 4, "comment": "谢谢"})
	if r.Code != http.StatusOK || r.Ticket(t).CSAT == nil || r.Ticket(t).CSAT.Score != 4 {
		t.Fatalf("csat: %s", r)
	}

	// History.
	r = e.Call(agent, http.MethodGet, path+"/history", nil)
	var h struct {
		TicketID string           `json:"ticket_id"`
		History  []tickets.Change `json:"history"`
	}
	r.Decode(t, &h)
	var actions []string
	for _, c := range h.History {
		actions = append(actions, c.Action)
	}
	want := []string{"created", "updated", "updated", "transition", "comment", "transition", "csat"}
	if r.Code != http.StatusOK || h.TicketID != tk.ID || !slices.Equal(actions, want) {
		t.Errorf("history: %d %v, want %v", r.Code, actions, want)
	}

	// Search, by words and by filters.
	eventually(t, "search", func() error {
		r := e.Call(agent, http.MethodGet, "/api/v1/tickets?q=快递&status=resolved,closed&tag=vip&channel=email&size=5", nil)
		if r.Code != http.StatusOK {
			t.Fatalf("search: %s", r)
		}
		var page tickets.Page
		r.Decode(t, &page)
		if page.Total != 1 || len(page.Tickets) != 1 || page.Tickets[0].ID != tk.ID {
			return fmt.Errorf("got %s", r)
		}
		return nil
	})
	r = e.Call(agent, http.MethodGet, "/api/v1/tickets?status=open&status=pending", nil)
	var page tickets.Page
	r.Decode(t, &page)
	if r.Code != http.StatusOK || page.Total != 0 || page.Tickets == nil {
		t.Errorf("search for open tickets: %s", r)
	}

	// Stats.
	from := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	to := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	// Writes do not wait for a refresh: the CSAT rating reaches the
	// aggregations within the refresh interval.
	eventually(t, "stats", func() error {
		r := e.Call(agent, http.MethodGet, "/api/v1/stats?from="+from+"&to="+to+"&interval=hour&channel=email&tz=Asia/Shanghai", nil)
		var st tickets.Stats
		r.Decode(t, &st)
		if r.Code != http.StatusOK || st.Total != 1 || st.ByStatus["resolved"] != 1 || st.CSATCount != 1 {
			return fmt.Errorf("stats: %s", r)
		}
		return nil
	})

	// Delete needs tickets:admin.
	if r = e.Call(agent, http.MethodDelete, path, nil); r.Code != http.StatusForbidden {
		t.Errorf("agent delete: %s", r)
	}
	if r = e.Call(supervisor, http.MethodDelete, path, nil); r.Code != http.StatusNoContent {
		t.Fatalf("delete: %s", r)
	}
	if r = e.Call(agent, http.MethodGet, path, nil); r.Code != http.StatusNotFound {
		t.Errorf("get after delete: %s", r)
	}
	r.Problem(t)
	if r = e.Call(supervisor, http.MethodDelete, path, nil); r.Code != http.StatusNotFound {
		t.Errorf("second delete: %s", r)
	}
}

// TestRejectedRequests sends requests that must be refused and checks the
// status, the problem's field paths, and that the ticket is unchanged.
func TestRejectedRequests(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	tk, _ := create(t, e)
	path := "/api/v1/tickets/" + tk.ID
	// Pending, because every move from new is legal.
	r := e.Call(agent, http.MethodPost, path+"/transitions", map[string]any{"status": "pending"})
	if r.Code != http.StatusOK {
		t.Fatalf("pending: %s", r)
	}
	etag := r.Header.Get("ETag")
	before, _ := stored(t, e, tk.ID)
	oversized := `{"description": "` + strings.Repeat("x", 1<<20) + `"}`

	for _, c := range []struct {
		name        string
		method      string
		path        string
		role        auth.Role
		body        any
		contentType string
		header      http.Header
		want        int
		fields      []string
	}{
		{name: "malformed JSON", method: http.MethodPatch, body: `{"subject": "x",}`, want: 400},
		{name: "truncated JSON", method: http.MethodPatch, body: `{"subject": "x"`, want: 400},
		{name: "two JSON values", method: http.MethodPatch, body: `{"subject": "x"} {}`, want: 400},
		{name: "empty body", method: http.MethodPatch, body: "", want: 400},
		{name: "unknown field", method: http.MethodPatch, body: `{"colour": "red"}`, want: 400, fields: []string{"colour"}},
		{name: "wrong type", method: http.MethodPatch, body: `{"subject": 5}`, want: 400, fields: []string{"subject"}},
		{name: "wrong nested type", method: http.MethodPatch, body: `{"customer": {"email": 5}}`, want: 400, fields: []string{"customer.email"}},
		{name: "wrong array item type", method: http.MethodPatch, body: `{"add_tags": [1]}`, want: 400, fields: []string{"add_tags"}},
		{name: "oversized", method: http.MethodPatch, body: oversized, want: 413},
		{name: "wrong content type", method: http.MethodPatch, body: `{"subject": "x"}`, contentType: "text/plain", want: 415},
		{name: "non-UTF-8 charset", method: http.MethodPatch, body: `{"subject": "x"}`, contentType: "application/json; charset=latin1", want: 415},
		{name: "validation", method: http.MethodPatch, body: map[string]any{"priority": "extreme", "subject": " ", "customer": map[string]any{"email": "nope"}, "tags": []string{"ok", ""}},
			want: 422, fields: []string{"customer.email", "priority", "subject", "tags[1]"}},
		{name: "stale If-Match", method: http.MethodPatch, body: map[string]any{"subject": "x"}, header: http.Header{"If-Match": {`"0-1"`}}, want: 412},
		{name: "foreign If-Match", method: http.MethodPatch, body: map[string]any{"subject": "x"}, header: http.Header{"If-Match": {`"abc"`}}, want: 412},
		{name: "weak If-Match", method: http.MethodPatch, body: map[string]any{"subject": "x"}, header: http.Header{"If-Match": {"W/" + etag + "x"}}, want: 412},
		{name: "no token", method: http.MethodPatch, role: "-", body: map[string]any{"subject": "x"}, want: 401},
		{name: "bad token", method: http.MethodPatch, role: "-", header: http.Header{"Authorization": {"Bearer not.a.token"}}, body: map[string]any{"subject": "x"}, want: 401},
		{name: "missing scope", method: http.MethodPatch, role: mlEngineer, body: map[string]any{"subject": "x"}, want: 403},
		{name: "delete without admin scope", method: http.MethodDelete, role: integrator, want: 403},
		{name: "illegal transition", method: http.MethodPost, path: "/transitions", body: map[string]any{"status": "closed"}, want: 409},
		{name: "unknown status", method: http.MethodPost, path: "/transitions", body: map[string]any{"status": "bogus"}, want: 422, fields: []string{"status"}},
		{name: "transition unknown field", method: http.MethodPost, path: "/transitions", body: map[string]any{"state": "open"}, want: 400, fields: []string{"state"}},
		{name: "empty comment", method: http.MethodPost, path: "/comments", body: map[string]any{"body": ""}, want: 422, fields: []string{"body"}},
		{name: "private customer reply", method: http.MethodPost, path: "/comments", body: map[string]any{"body": "hi", "from_customer": true}, want: 422, fields: []string{"public"}},
		{name: "comment wrong type", method: http.MethodPost, path: "/comments", body: `{"body": "x", "public": "yes"}`, want: 400, fields: []string{"public"}},
		{name: "csat out of range", method: http.MethodPut, path: "/csat", body: map[string]any{"score": 9}, want: 422, fields: []string{"score"}},
		{name: "csat before resolution", method: http.MethodPut, path: "/csat", body: map[string]any{"score": 3}, want: 409},
		{name: "no such ticket", method: http.MethodPatch, path: "-/api/v1/tickets/does-not-exist", body: map[string]any{"subject": "x"}, want: 404},
		{name: "create invalid", method: http.MethodPost, path: "-/api/v1/tickets", body: map[string]any{"channel": "fax", "customer": map[string]any{}},
			want: 422, fields: []string{"channel", "customer", "subject"}},
		{name: "create unknown field", method: http.MethodPost, path: "-/api/v1/tickets", body: `{"channel": "email", "status": "closed"}`, want: 400, fields: []string{"status"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := path + c.path
			if strings.HasPrefix(c.path, "-") {
				p = c.path[1:]
			}
			role := c.role
			switch role {
			case "":
				role = agent
			case "-":
				role = ""
			}
			r := e.Do(apitest.Request{Method: c.method, Path: p, Role: role, Body: c.body, ContentType: c.contentType, Header: c.header})
			if r.Code != c.want {
				t.Fatalf("got %s, want %d", r, c.want)
			}
			pr := r.Problem(t)
			if got := fields(pr); !slices.Equal(got, c.fields) {
				t.Errorf("fields %v, want %v; problem %+v", got, c.fields, pr)
			}
			if c.want == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if c.want == 403 && pr.Extensions["required_scope"] == nil {
				t.Errorf("403 without required_scope: %+v", pr)
			}
			if after, _ := stored(t, e, tk.ID); !reflect.DeepEqual(before, after) {
				t.Errorf("rejected request changed the ticket:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestQueryParameters checks that search and stats refuse bad parameters
// with 400 naming each one.
func TestQueryParameters(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"/api/v1/tickets?size=abc", []string{"size"}},
		{"/api/v1/tickets?size=0", []string{"size"}},
		{"/api/v1/tickets?size=501", []string{"size"}},
		{"/api/v1/tickets?size=1&size=2", []string{"size"}},
		{"/api/v1/tickets?created_from=yesterday", []string{"created_from"}},
		{"/api/v1/tickets?breached=maybe&colour=red", []string{"breached", "colour"}},
		{"/api/v1/tickets?status=open,bogus", []string{"status[1]"}},
		{"/api/v1/tickets?channel=fax&priority=extreme", []string{"channel[0]", "priority[0]"}},
		{"/api/v1/tickets?sort=name", []string{"sort"}},
		{"/api/v1/tickets?created_from=2026-03-02T00:00:00Z&created_to=2026-03-01T00:00:00Z", []string{"created_from"}},
		{"/api/v1/stats", []string{"from", "to"}},
		{"/api/v1/stats?from=2026-03-01&to=2026-03-02T00:00:00Z", []string{"from"}},
		{"/api/v1/stats?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&interval=minute", []string{"interval"}},
		{"/api/v1/stats?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&tz=Mars/Olympus", []string{"tz"}},
		{"/api/v1/stats?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&channel=fax", []string{"channel"}},
	} {
		t.Run(c.query, func(t *testing.T) {
			r := e.Call(agent, http.MethodGet, c.query, nil)
			if r.Code != http.StatusBadRequest {
				t.Fatalf("got %s, want 400", r)
			}
			if got := fields(r.Problem(t)); !slices.Equal(got, c.fields) {
				t.Errorf("fields %v, want %v", got, c.fields)
			}
		})
	}
}

// TestConcurrentPatches has 50 clients add one tag each to the same ticket
// at once: optimistic concurrency must keep every tag and record each
// change once in the history.
func TestConcurrentPatches(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	nt := newTicket()
	delete(nt, "tags") // room for n = MaxTags more
	r := e.Call(agent, http.MethodPost, "/api/v1/tickets", nt)
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	tk := r.Ticket(t)
	path := "/api/v1/tickets/" + tk.ID
	const n = tickets.MaxTags
	var wg sync.WaitGroup
	codes := make([]*apitest.Response, n)
	for i := range n {
		wg.Go(func() {
			codes[i] = e.Call(agent, http.MethodPatch, path, map[string]any{"add_tags": []string{fmt.Sprintf("t%02d", i)}})
		})
	}
	wg.Wait()
	for i, r := range codes {
		if r.Code != http.StatusOK {
			t.Errorf("patch %d: %s", i, r)
		}
	}
	got, _ := stored(t, e, tk.ID)
	if len(got.Tags) != n {
		t.Errorf("%d tags, want %d: %v", len(got.Tags), n, got.Tags)
	}
	added := map[string]int{}
	for _, c := range got.History {
		if c.Action != "updated" || c.Field != "tags" {
			continue
		}
		from := strings.Split(c.From, ",")
		for _, tag := range strings.Split(c.To, ",") {
			if !slices.Contains(from, tag) {
				added[tag]++
			}
		}
	}
	for i := range n {
		tag := fmt.Sprintf("t%02d", i)
		if !got.HasTag(tag) {
			t.Errorf("tag %s lost", tag)
		}
		if added[tag] != 1 {
			t.Errorf("tag %s added by %d history entries, want 1", tag, added[tag])
		}
	}
	if len(added) != n {
		t.Errorf("history adds %d distinct tags, want %d", len(added), n)
	}
}

// TestYAMLDocuments covers the SLA policy and automation rule routes.
func TestYAMLDocuments(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	for _, path := range []string{"/api/v1/sla/policies", "/api/v1/automation/rules"} {
		t.Run(path, func(t *testing.T) {
			doc := "policies:\n  - name: urgent\n    first_response: 1h\n"
			put := func(role auth.Role, ct, body string) *apitest.Response {
				return e.Do(apitest.Request{Method: http.MethodPut, Path: path, Role: role, Body: body, ContentType: ct})
			}
			if r := put(supervisor, "application/yaml", doc); r.Code != http.StatusNoContent {
				t.Fatalf("put: %s", r)
			}
			r := e.Call(agent, http.MethodGet, path, nil)
			if r.Code != http.StatusOK || string(r.Body) != doc || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") {
				t.Fatalf("get: %s %q", r, r.Header.Get("Content-Type"))
			}
			r = put(supervisor, "text/yaml", "policies:\n  - name: [unclosed\n")
			if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Problem(t).Detail, "line") {
				t.Errorf("invalid YAML: %s", r)
			}
			for _, c := range []struct {
				role auth.Role
				ct   string
				body string
				want int
			}{
				{agent, "application/yaml", doc, 403},
				{supervisor, "application/json", `{}`, 415},
				{supervisor, "application/yaml; charset=utf-16", doc, 415},
				{supervisor, "application/yaml", "", 400},
				{supervisor, "application/yaml", strings.Repeat("#", 1<<20+1), 413},
			} {
				if r := put(c.role, c.ct, c.body); r.Code != c.want {
					t.Errorf("put as %s with %s: %s, want %d", c.role, c.ct, r, c.want)
				}
			}
			if r := e.Call(agent, http.MethodGet, path, nil); string(r.Body) != doc {
				t.Errorf("rejected puts changed the document: %q", r.Body)
			}
		})
	}
}

// TestClients creates, lists and disables an API client, and checks that
// the secret works at the token endpoint until the client is disabled.
func TestClients(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	r := e.Call(admin, http.MethodPost, "/api/v1/clients", map[string]any{"name": "CRM sync", "role": "integration"})
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	var created struct {
		ID, Name, Role string
		Secret         string `json:"client_secret"`
		Disabled       bool
	}
	r.Decode(t, &created)
	if created.Secret == "" || created.Role != "integration" || r.Header.Get("Cache-Control") != "no-store" ||
		r.Header.Get("Location") != "/api/v1/clients/"+created.ID {
		t.Fatalf("create: %s", r)
	}
	token := func() int {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {created.ID}, "client_secret": {created.Secret}}
		return e.Do(apitest.Request{Method: http.MethodPost, Path: "/oauth/token", Body: form.Encode(), ContentType: "application/x-www-form-urlencoded"}).Code
	}
	if c := token(); c != http.StatusOK {
		t.Fatalf("token for the new client: %d", c)
	}

	r = e.Call(admin, http.MethodGet, "/api/v1/clients", nil)
	if r.Code != http.StatusOK || !strings.Contains(string(r.Body), created.ID) || strings.Contains(string(r.Body), "secret") {
		t.Errorf("list: %s", r)
	}

	for _, c := range []struct {
		body   any
		want   int
		fields []string
	}{
		{map[string]any{"name": "", "role": "root"}, 422, []string{"name", "role"}},
		{map[string]any{"name": "x", "role": "agent", "secret": "mine"}, 400, []string{"secret"}},
	} {
		r := e.Call(admin, http.MethodPost, "/api/v1/clients", c.body)
		if r.Code != c.want || !slices.Equal(fields(r.Problem(t)), c.fields) {
			t.Errorf("create %v: %s", c.body, r)
		}
	}
	if r := e.Call(admin, http.MethodDelete, "/api/v1/clients/"+apitest.Actor(admin), nil); r.Code != http.StatusConflict {
		t.Errorf("self-disable: %s", r)
	}
	if r := e.Call(admin, http.MethodDelete, "/api/v1/clients/nobody", nil); r.Code != http.StatusNotFound {
		t.Errorf("disable unknown: %s", r)
	}
	for range 2 { // disabling twice is fine
		if r := e.Call(admin, http.MethodDelete, "/api/v1/clients/"+created.ID, nil); r.Code != http.StatusNoContent {
			t.Fatalf("disable: %s", r)
		}
	}
	if c := token(); c != http.StatusUnauthorized {
		t.Errorf("token for the disabled client: %d, want 401", c)
	}
}

// recordingImporter stands in for tickets/importer: it reads the whole
// upload and reports what it got.
type recordingImporter struct {
	mu   sync.Mutex
	got  []string
	size int
}

func (r *recordingImporter) Import(_ context.Context, mapping []byte, in io.Reader, filename string, dryRun bool, actor string) (any, []byte, error) {
	b, err := io.ReadAll(in)
	if err != nil {
		return nil, nil, err
	}
	if strings.Contains(string(mapping), "broken") {
		return nil, nil, fmt.Errorf("importer: mapping line 1: unknown field broken: %w", tickets.ErrInvalid)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%s dry=%v actor=%s mapping=%q", filename, dryRun, actor, mapping))
	r.size = len(b)
	return map[string]any{"read": 2, "imported": 1, "rejected": 1}, []byte("line,reason\n3,subject is required\n"), nil
}

func multipartBody(t *testing.T, parts map[string]string, file string, content []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range parts {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		fw, err := w.CreateFormFile("file", file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestImport(t *testing.T) {
	t.Parallel()
	imp := &recordingImporter{}
	small := api.DefaultConfig()
	small.MaxImportBytes = 3 << 20
	e := apitest.New(t, apitest.Options{Importer: imp, API: &small})
	big := bytes.Repeat([]byte("id,subject\n"), 200_000) // 2.2 MB, over the 1 MiB JSON limit

	ct, body := multipartBody(t, map[string]string{"mapping": "source: legacy\n", "dry_run": "true"}, "export.csv", big)
	r := e.Do(apitest.Request{Method: http.MethodPost, Path: "/api/v1/imports", Role: integrator, Body: body, ContentType: ct})
	if r.Code != http.StatusOK {
		t.Fatalf("import: %s", r)
	}
	var res struct {
		Summary map[string]int `json:"summary"`
		Rejects string         `json:"rejects_csv"`
	}
	r.Decode(t, &res)
	if res.Summary["imported"] != 1 || !strings.Contains(res.Rejects, "subject is required") {
		t.Errorf("import answer: %s", r)
	}
	want := fmt.Sprintf("export.csv dry=true actor=%s mapping=%q", apitest.Actor(integrator), "source: legacy\n")
	if len(imp.got) != 1 || imp.got[0] != want || imp.size != len(big) {
		t.Errorf("importer got %v (%d bytes), want %s (%d bytes)", imp.got, imp.size, want, len(big))
	}

	tooBig := bytes.Repeat([]byte("x"), 4<<20)
	for _, c := range []struct {
		name   string
		parts  map[string]string
		file   []byte
		role   auth.Role
		ct     string
		want   int
		fields []string
	}{
		{name: "no file", parts: map[string]string{"mapping": "x: 1"}, want: 400, fields: []string{"file"}},
		{name: "no mapping", file: []byte("a"), want: 400, fields: []string{"mapping"}},
		{name: "bad dry_run and unknown field", parts: map[string]string{"mapping": "x: 1", "dry_run": "perhaps", "format": "csv"}, file: []byte("a"), want: 400, fields: []string{"dry_run", "format"}},
		{name: "bad mapping", parts: map[string]string{"mapping": "broken: true"}, file: []byte("a"), want: 422},
		{name: "too large", parts: map[string]string{"mapping": "x: 1"}, file: tooBig, want: 413},
		{name: "not multipart", ct: "application/json", want: 415},
		{name: "agent lacks tickets:import", role: agent, parts: map[string]string{"mapping": "x: 1"}, file: []byte("a"), want: 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := ""
			if c.file != nil {
				file = "export.csv"
			}
			ct, body := multipartBody(t, c.parts, file, c.file)
			if c.ct != "" {
				ct = c.ct
			}
			role := c.role
			if role == "" {
				role = integrator
			}
			r := e.Do(apitest.Request{Method: http.MethodPost, Path: "/api/v1/imports", Role: role, Body: body, ContentType: ct})
			if r.Code != c.want {
				t.Fatalf("got %s, want %d", r, c.want)
			}
			if got := fields(r.Problem(t)); !slices.Equal(got, c.fields) {
				t.Errorf("fields %v, want %v", got, c.fields)
			}
		})
	}
}

// TestNotConfigured checks that routes whose collaborator is missing stay
// registered and answer 501.
func TestNotConfigured(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{Bare: true})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/webhooks"},
		{http.MethodGet, "/api/v1/webhooks/x"},
		{http.MethodGet, "/api/v1/webhooks/deliveries"},
		{http.MethodPost, "/api/v1/webhooks/deliveries/x/redeliver"},
		{http.MethodGet, "/api/v1/sla/policies"},
		{http.MethodPut, "/api/v1/automation/rules"},
		{http.MethodGet, "/api/v1/clients"},
		{http.MethodDelete, "/api/v1/clients/x"},
	} {
		if r := e.Call(admin, c.method, c.path, nil); r.Code != http.StatusNotImplemented {
			t.Errorf("%s %s: %s", c.method, c.path, r)
		}
	}
	ct, body := multipartBody(t, map[string]string{"mapping": "x: 1"}, "a.csv", []byte("a"))
	if r := e.Do(apitest.Request{Method: http.MethodPost, Path: "/api/v1/imports", Role: admin, Body: body, ContentType: ct}); r.Code != http.StatusNotImplemented {
		t.Errorf("import: %s", r)
	}
}

// TestWebhooks manages an endpoint through the API over the real
// dispatcher, and redelivers a delivery of a ticket event to it.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, apitest.Options{})
	var mu sync.Mutex
	received := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		received++
	}))
	t.Cleanup(receiver.Close)

	r := e.Call(integrator, http.MethodPost, "/api/v1/webhooks", map[string]any{"name": "crm", "url": receiver.URL, "events": []string{"ticket.created"}})
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	var ep webhook.Endpoint
	r.Decode(t, &ep)
	if ep.Secret == "" || !ep.Enabled || r.Header.Get("Location") != "/api/v1/webhooks/crm" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("created endpoint %+v", ep)
	}
	for _, c := range []struct {
		body   any
		want   int
		fields []string
	}{
		{map[string]any{"name": "crm", "url": receiver.URL}, 409, nil},
		{map[string]any{"name": "deliveries", "url": receiver.URL}, 422, []string{"name"}},
		{map[string]any{"name": "Bad Name", "url": "ftp://x", "events": []string{"ticket.exploded"}}, 422, []string{"events[0]", "name", "url"}},
		{map[string]any{"name": "x", "url": receiver.URL, "read_only": true}, 400, []string{"read_only"}},
	} {
		r := e.Call(integrator, http.MethodPost, "/api/v1/webhooks", c.body)
		if r.Code != c.want || !slices.Equal(fields(r.Problem(t)), c.fields) {
			t.Errorf("create %v: %s, want %d %v", c.body, r, c.want, c.fields)
		}
	}

	r = e.Call(integrator, http.MethodPut, "/api/v1/webhooks/crm", map[string]any{"url": receiver.URL + "/v2", "events": []string{"ticket.created", "ticket.commented"}, "enabled": true})
	if r.Code != http.StatusOK {
		t.Fatalf("put: %s", r)
	}
	r = e.Call(integrator, http.MethodGet, "/api/v1/webhooks/crm", nil)
	ep = webhook.Endpoint{}
	r.Decode(t, &ep)
	if r.Code != http.StatusOK || ep.URL != receiver.URL+"/v2" || ep.Secret != "" || !ep.SecretSet || len(ep.Events) != 2 {
		t.Errorf("get after put: %s", r)
	}
	if r = e.Call(integrator, http.MethodPut, "/api/v1/webhooks/crm", map[string]any{"name": "other", "url": receiver.URL}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("rename: %s", r)
	}
	var list struct{ Webhooks []webhook.Endpoint }
	r = e.Call(integrator, http.MethodGet, "/api/v1/webhooks", nil)
	r.Decode(t, &list)
	if r.Code != http.StatusOK || len(list.Webhooks) != 1 || list.Webhooks[0].Name != "crm" {
		t.Errorf("list: %s", r)
	}

	// A ticket event becomes a delivery, which can be sent again.
	tk, _ := create(t, e)
	var deliveries struct{ Deliveries []webhook.Delivery }
	eventually(t, "delivery", func() error {
		r := e.Call(integrator, http.MethodGet, "/api/v1/webhooks/deliveries?endpoint=crm&ticket_id="+tk.ID, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("deliveries: %s", r)
		}
		r.Decode(t, &deliveries)
		if len(deliveries.Deliveries) != 1 || deliveries.Deliveries[0].Status != webhook.StatusDelivered {
			return fmt.Errorf("got %s", r)
		}
		return nil
	})
	id := deliveries.Deliveries[0].ID
	r = e.Call(integrator, http.MethodPost, "/api/v1/webhooks/deliveries/"+id+"/redeliver", nil)
	var d webhook.Delivery
	r.Decode(t, &d)
	if r.Code != http.StatusAccepted || d.ID != id || d.Attempts != 0 {
		t.Errorf("redeliver: %s", r)
	}
	eventually(t, "redelivery", func() error {
		mu.Lock()
		defer mu.Unlock()
		if received < 2 {
			return fmt.Errorf("receiver got %d requests", received)
		}
		return nil
	})
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/api/v1/webhooks/deliveries/nope/redeliver", 404},
		{http.MethodGet, "/api/v1/webhooks/deliveries?status=lost&size=0", 400},
		{http.MethodGet, "/api/v1/webhooks/nope", 404},
		{http.MethodDelete, "/api/v1/webhooks/crm", 204},
		{http.MethodDelete, "/api/v1/webhooks/crm", 404},
		{http.MethodGet, "/api/v1/webhooks", 200},
	} {
		if r := e.Call(integrator, c.method, c.path, nil); r.Code != c.want {
			t.Errorf("%s %s: %s, want %d", c.method, c.path, r, c.want)
		}
	}
	if r := e.Call(agent, http.MethodGet, "/api/v1/webhooks", nil); r.Code != http.StatusForbidden {
		t.Errorf("agent lists webhooks: %s", r)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := api.DefaultConfig().Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
	for _, c := range []api.Config{
		{MaxBodyBytes: 0, MaxImportBytes: 1, RetryAfter: time.Second},
		{MaxBodyBytes: 1, MaxImportBytes: 0, RetryAfter: time.Second},
		{MaxBodyBytes: 1, MaxImportBytes: 1, RetryAfter: 0},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := api.New(api.DefaultConfig(), api.Deps{}); err == nil {
		t.Error("New without Tickets: no error")
	}
}
