package nluapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// TestAuthorization walks route × role: no token is 401, a role without
// the route's scope 403, and any other answer comes from the handler.
func TestAuthorization(t *testing.T) {
	e := newEnv(t, options{})
	for _, r := range e.api.Routes() {
		var body any
		if r.Method == http.MethodPost {
			body = map[string]any{"text": "where is my parcel"}
			if strings.HasSuffix(r.Path, "/embed") {
				body = map[string]any{"texts": []string{"where is my parcel"}}
			}
			if strings.HasSuffix(r.Path, "/reload") {
				body = nil
			}
		}
		if res := e.call("", r.Method, r.Path, body); res.code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %s", r.Method, r.Path, res)
		}
		for _, role := range auth.Roles() {
			res := e.call(role, r.Method, r.Path, body)
			allowed := role.Has(r.Scope)
			switch {
			case !allowed && res.code != http.StatusForbidden:
				t.Errorf("%s %s as %s (no %s): %s, want 403", r.Method, r.Path, role, r.Scope, res)
			case allowed && (res.code == http.StatusForbidden || res.code == http.StatusUnauthorized):
				t.Errorf("%s %s as %s: %s", r.Method, r.Path, role, res)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	e := newEnv(t, options{neighbors: true})
	var c struct {
		nlu.Classification
		Neighbors *[]nluapi.Neighbor `json:"neighbors"`
	}
	res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", map[string]any{"text": "where is my parcel"})
	if res.code != http.StatusOK {
		t.Fatal(res)
	}
	res.decode(t, &c)
	if c.Label == "" || c.ModelVersion != cat1 || len(c.Alternatives) != 3 || c.Alternatives[0].Label != c.Label ||
		(c.Source != nlu.SourceAuto && c.Source != nlu.SourceNeedsReview) {
		t.Errorf("classification %+v", c.Classification)
	}
	if c.Neighbors == nil || len(*c.Neighbors) != nluapi.DefaultConfig().Neighbors {
		t.Fatalf("neighbors %v, want %d", c.Neighbors, nluapi.DefaultConfig().Neighbors)
	}
	ns := *c.Neighbors
	if ns[0].Subject != "where is my parcel?" || ns[0].Score < 0.9 || ns[0].Label != "logistics" {
		t.Errorf("nearest neighbour %+v, want the ticket with the same subject", ns[0])
	}
	for k := 1; k < len(ns); k++ {
		if ns[k].Score > ns[k-1].Score {
			t.Errorf("neighbours not sorted: %+v", ns)
		}
	}

	for _, tc := range []struct {
		k    int
		want int // neighbours; -1: field absent
	}{{0, -1}, {2, 2}} {
		c.Neighbors = nil
		res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", map[string]any{"text": "refund", "k": tc.k})
		res.decode(t, &c)
		if got := -1; c.Neighbors != nil {
			got = len(*c.Neighbors)
			if got != tc.want {
				t.Errorf("k=%d: %d neighbours, want %d", tc.k, got, tc.want)
			}
		} else if tc.want != -1 {
			t.Errorf("k=%d: no neighbours field", tc.k)
		}
	}
	res = e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", map[string]any{"text": "refund", "k": 21})
	if p := res.problem(t); res.code != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != "k" {
		t.Errorf("k=21: %s", res)
	}

	// Without neighbour search the field is absent.
	plain := newEnv(t, options{})
	c.Neighbors = nil
	plain.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", map[string]any{"text": "refund"}).decode(t, &c)
	if c.Neighbors != nil {
		t.Errorf("neighbors %v without a Neighbors", *c.Neighbors)
	}
}

// TestTextInputs sends every kind of text to the single-text routes.
func TestTextInputs(t *testing.T) {
	e := newEnv(t, options{})
	big := strings.Repeat("where is my parcel ", 1<<20/19) // about 1 MB
	for _, tc := range []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{name: "empty", body: map[string]any{"text": ""}, code: 400, field: "text"},
		{name: "white space", body: map[string]any{"text": " \n\t\u3000"}, code: 400, field: "text"},
		{name: "missing", body: map[string]any{}, code: 400, field: "text"},
		{name: "null", body: `{"text": null}`, code: 400, field: "text"},
		{name: "number", body: `{"text": 42}`, code: 400, field: "text"},
		{name: "unknown field", body: map[string]any{"text": "hi", "lang": "en"}, code: 400, field: "lang"},
		{name: "not JSON", body: "text=hello", code: 400},
		{name: "one megabyte", body: map[string]any{"text": big}, code: 413},
		{name: "just over 64 KiB", body: map[string]any{"text": strings.Repeat("a", 64<<10+1)}, code: 413, field: "text"},
		{name: "64 KiB", body: map[string]any{"text": strings.Repeat("a", 64<<10)}, code: 200},
		{name: "binary", body: "{\"text\": \"\xff\xfe\x80 \\u0000\\u0001 \xc3\x28\"}", code: 200},
		{name: "escaped control characters", body: `{"text": "\u0000\u0001\u001f"}`, code: 200},
		{name: "emoji only", body: map[string]any{"text": "😀😀😀👨‍👩‍👧🇨🇳"}, code: 200},
		{name: "mixed scripts", body: map[string]any{"text": "我的订单还没到 where is my order? Привет مرحبا"}, code: 200},
	} {
		for _, route := range []string{"classify", "intent", "sentiment"} {
			t.Run(tc.name+"/"+route, func(t *testing.T) {
				res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/"+route, tc.body)
				if res.code != tc.code {
					t.Fatalf("%s, want %d", res, tc.code)
				}
				if tc.code == 200 {
					var r struct {
						Label        string `json:"label"`
						ModelVersion string `json:"model_version"`
					}
					res.decode(t, &r)
					if r.Label == "" || r.ModelVersion == "" {
						t.Errorf("answer %s", res)
					}
					return
				}
				p := res.problem(t)
				if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
					t.Errorf("errors %+v, want one naming %q", p.Errors, tc.field)
				}
			})
		}
	}
	res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", nil)
	if res.code != http.StatusUnsupportedMediaType && res.code != http.StatusBadRequest {
		t.Errorf("no body: %s", res)
	}
}

func TestEmbed(t *testing.T) {
	e := newEnv(t, options{})
	texts := func(n int, text string) []string {
		out := make([]string, n)
		for k := range out {
			out[k] = text
		}
		return out
	}
	var ok struct {
		ModelVersion string      `json:"model_version"`
		Dim          int         `json:"dim"`
		Embeddings   [][]float32 `json:"embeddings"`
	}
	res := e.call(auth.RoleIntegration, http.MethodPost, "/api/v1/nlu/embed", map[string]any{"texts": []string{"where is my parcel", "😀", "我的订单"}})
	if res.code != http.StatusOK {
		t.Fatal(res)
	}
	res.decode(t, &ok)
	if ok.ModelVersion != embed || ok.Dim != 32 || len(ok.Embeddings) != 3 || len(ok.Embeddings[2]) != 32 {
		t.Errorf("embed: version %s dim %d, %d vectors", ok.ModelVersion, ok.Dim, len(ok.Embeddings))
	}
	if res := e.call(auth.RoleIntegration, http.MethodPost, "/api/v1/nlu/embed", map[string]any{"texts": texts(64, "hello")}); res.code != http.StatusOK {
		t.Errorf("64 texts: %s", res)
	}
	for _, tc := range []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{name: "65 texts", body: map[string]any{"texts": texts(65, "hello")}, code: 413, field: "texts"},
		{name: "no texts", body: map[string]any{"texts": []string{}}, code: 400, field: "texts"},
		{name: "missing", body: map[string]any{}, code: 400, field: "texts"},
		{name: "one empty", body: map[string]any{"texts": []string{"hello", " "}}, code: 400, field: "texts[1]"},
		{name: "one too long", body: map[string]any{"texts": []string{"hello", strings.Repeat("b", 64<<10+1)}}, code: 413, field: "texts[1]"},
		{name: "not strings", body: `{"texts": [1, 2]}`, code: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call(auth.RoleIntegration, http.MethodPost, "/api/v1/nlu/embed", tc.body)
			if res.code != tc.code {
				t.Fatalf("%s, want %d", res, tc.code)
			}
			p := res.problem(t)
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors %+v, want one naming %q", p.Errors, tc.field)
			}
		})
	}
}

// TestUnavailable checks a server whose manifest serves only category.
func TestUnavailable(t *testing.T) {
	e := newEnv(t, options{manifest: nlu.Manifest{Tasks: map[string]nlu.TaskVersions{"category": {Production: cat1}}}, neighbors: false})
	for _, route := range []string{"intent", "sentiment"} {
		res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/"+route, map[string]any{"text": "hello"})
		p := res.problem(t)
		if res.code != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" || !strings.Contains(p.Detail, route) {
			t.Errorf("%s: %s", route, res)
		}
	}
	res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/embed", map[string]any{"texts": []string{"hello"}})
	if res.code != http.StatusServiceUnavailable {
		t.Errorf("embed: %s", res)
	}
	if res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", map[string]any{"text": "hello"}); res.code != http.StatusOK {
		t.Errorf("classify: %s", res)
	}
}

func TestModelsAndReload(t *testing.T) {
	e := newEnv(t, options{})
	var m struct {
		Status   nlu.Status                                           `json:"status"`
		Manifest nlu.Manifest                                         `json:"manifest"`
		Cards    map[string]map[string]struct{ Task, Version string } `json:"cards"`
	}
	res := e.call(auth.RoleAgent, http.MethodGet, "/api/v1/nlu/models", nil)
	if res.code != http.StatusOK {
		t.Fatal(res)
	}
	res.decode(t, &m)
	if len(m.Status.Tasks) != 4 || m.Manifest.Tasks["category"].Candidate != cat2 {
		t.Errorf("status %+v manifest %+v", m.Status, m.Manifest)
	}
	for task, versions := range map[string][]string{"category": {cat1, cat2}, "embed": {embed}} {
		for _, v := range versions {
			if c := m.Cards[task][v]; c.Task != task || c.Version != v {
				t.Errorf("card of %s %s: %+v", task, v, c)
			}
		}
	}

	// A manifest naming a version that does not exist is refused.
	broken := fullManifest()
	broken.Tasks["sentiment"] = nlu.TaskVersions{Production: "missing.1"}
	e.writeManifest(broken)
	res = e.call(auth.RoleMLEngineer, http.MethodPost, "/api/v1/nlu/models/reload", nil)
	p := res.problem(t)
	if res.code != http.StatusUnprocessableEntity || !strings.Contains(p.Detail, "missing.1") {
		t.Fatalf("reload of a broken manifest: %s", res)
	}
	raw, _ := json.Marshal(p.Extensions["serving"])
	var st nlu.Status
	if err := json.Unmarshal(raw, &st); err != nil || len(st.Tasks) != 4 {
		t.Fatalf("problem's serving member: %s (%v)", raw, err)
	}
	for _, ts := range st.Tasks {
		if ts.Task == "sentiment" && (ts.Production == nil || ts.Production.Version != "2026-01-01.1" || ts.LastError == "") {
			t.Errorf("sentiment status %+v: want the old version serving and the error", ts)
		}
	}
	if res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/sentiment", map[string]any{"text": "great"}); res.code != http.StatusOK {
		t.Errorf("sentiment after a refused reload: %s", res)
	}
	e.writeManifest(fullManifest())
	if res := e.call(auth.RoleMLEngineer, http.MethodPost, "/api/v1/nlu/models/reload", nil); res.code != http.StatusOK {
		t.Errorf("reload: %s", res)
	}
}

func TestShadow(t *testing.T) {
	e := newEnv(t, options{})
	const n = 5
	for k := range n {
		if res := e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/classify", map[string]any{"text": strings.Repeat("refund ", k+1)}); res.code != http.StatusOK {
			t.Fatal(res)
		}
	}
	var out struct {
		Reports []nlu.ShadowReport `json:"reports"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.call(auth.RoleMLEngineer, http.MethodGet, "/api/v1/nlu/shadow", nil).decode(t, &out)
		if len(out.Reports) == 1 && out.Reports[0].Compared == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(out.Reports) != 1 || out.Reports[0].Task != "category" || !out.Reports[0].Active || out.Reports[0].Compared != n ||
		out.Reports[0].Candidate != cat2 || out.Reports[0].AgreementRate == nil {
		t.Fatalf("reports %+v", out.Reports)
	}
	e.call(auth.RoleMLEngineer, http.MethodGet, "/api/v1/nlu/shadow?task=intent", nil).decode(t, &out)
	if len(out.Reports) != 1 || out.Reports[0].Active {
		t.Errorf("intent reports %+v", out.Reports)
	}
	if res := e.call(auth.RoleMLEngineer, http.MethodGet, "/api/v1/nlu/shadow?tsk=intent", nil); res.code != http.StatusBadRequest {
		t.Errorf("unknown parameter: %s", res)
	}
}

func TestIntentHealth(t *testing.T) {
	t.Run("without Elasticsearch", func(t *testing.T) {
		e := newEnv(t, options{})
		res := e.call(auth.RoleMLEngineer, http.MethodGet, "/api/v1/nlu/intent-health", nil)
		if res.problem(t); res.code != http.StatusServiceUnavailable {
			t.Errorf("%s", res)
		}
		for _, q := range []string{"limit=0", "limit=2001", "limit=x", "since=yesterday", "foo=1", "limit=1&limit=2"} {
			res := e.call(auth.RoleMLEngineer, http.MethodGet, "/api/v1/nlu/intent-health?"+q, nil)
			if p := res.problem(t); res.code != http.StatusBadRequest || len(p.Errors) == 0 {
				t.Errorf("%s: %s", q, res)
			}
		}
	})
	t.Run("with Elasticsearch", func(t *testing.T) {
		c := estest.Client(t)
		e := newEnv(t, options{deps: nlu.Deps{Utterances: c}})
		texts := []string{"what is the weather", "what is the weather today", "tell me a joke", "tell me a joke please"}
		for _, text := range texts {
			var r nlu.IntentResult
			e.call(auth.RoleAgent, http.MethodPost, "/api/v1/nlu/intent", map[string]any{"text": text}).decode(t, &r)
			if !r.OutOfScope || r.Label != nlu.OutOfScope {
				t.Fatalf("%q: %+v; the test needs out-of-scope utterances", text, r)
			}
		}
		since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		var rep nlu.HealthReport
		deadline := time.Now().Add(10 * time.Second)
		for rep.Utterances < len(texts) && time.Now().Before(deadline) {
			_ = c.Refresh(context.Background(), c.Name(nlu.UtterancesIndex))
			res := e.call(auth.RoleMLEngineer, http.MethodGet, "/api/v1/nlu/intent-health?limit=100&since="+since, nil)
			if res.code != http.StatusOK {
				t.Fatal(res)
			}
			res.decode(t, &rep)
			time.Sleep(50 * time.Millisecond)
		}
		if rep.Utterances != len(texts) || len(rep.Groups) != 2 || rep.Groups[0].Count != 2 || rep.Groups[1].Count != 2 {
			t.Fatalf("report %+v", rep)
		}
		var names []string
		for _, g := range rep.Groups {
			names = append(names, g.Name)
		}
		slices.Sort(names)
		if !strings.Contains(names[0], "joke") || !strings.Contains(names[1], "weather") {
			t.Errorf("group names %v", names)
		}
	})
}
