package recordapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/ivr/record/recordapi"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// TestAuthorization: no token is 401, a role without recordings:read 403,
// every other role reaches the handler; only those leave audit entries.
func TestAuthorization(t *testing.T) {
	e := newEnv(t, options{})
	e.record("auth-call", 1)
	if !reader().Has(auth.ScopeRecordingsRead) || nonReader().Has(auth.ScopeRecordingsRead) {
		t.Fatal("test roles do not fit the scope table")
	}
	paths := map[string]string{
		recordapi.PathRecording: "/api/v1/calls/auth-call/recording",
		recordapi.PathAudit:     recordapi.PathAudit + "?call_id=auth-call",
	}
	reached := 0
	for _, r := range e.api.Routes() {
		if r.Method != http.MethodGet || r.Scope != auth.ScopeRecordingsRead || paths[r.Path] == "" {
			t.Fatalf("route %+v, want GET with %s", r, auth.ScopeRecordingsRead)
		}
		path := paths[r.Path]
		if res := e.get("", path); res.code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %s, want 401", path, res)
		}
		for _, role := range auth.Roles() {
			res := e.get(role, path)
			switch {
			case !role.Has(r.Scope):
				if p := res.problem(t); res.code != http.StatusForbidden || p.Extensions["required_scope"] != r.Scope {
					t.Errorf("%s as %s: %s, want 403 naming the scope", path, role, res)
				}
			case res.code != http.StatusOK:
				t.Errorf("%s as %s: %s, want 200", path, role, res)
			case r.Path == recordapi.PathRecording:
				reached++
			}
		}
	}
	got := e.entries("auth-call")
	if len(got) != reached || reached == 0 {
		t.Fatalf("%d audit entries, want %d (one per request that reached the handler): %+v", len(got), reached, got)
	}
	for _, en := range got {
		role := auth.Role(strings.TrimPrefix(en.Actor, "test-"))
		if !role.Has(auth.ScopeRecordingsRead) || en.Result != recordapi.ResultServed {
			t.Errorf("entry %+v", en)
		}
	}
}

// TestRecording downloads recordings whole and in part, and asks for ones
// that do not exist; each access leaves its audit entry.
func TestRecording(t *testing.T) {
	e := newEnv(t, options{})
	wav := e.record("call-1", 2)
	tests := []struct {
		name    string
		id      string
		headers []string
		code    int
		body    []byte // 200, 206
		result  recordapi.Result
		rng     string
	}{
		{name: "whole", id: "call-1", code: 200, body: wav, result: recordapi.ResultServed},
		{name: "range", id: "call-1", headers: []string{"Range", "bytes=44-1043"}, code: 206, body: wav[44:1044], result: recordapi.ResultServed, rng: "bytes=44-1043"},
		{name: "suffix range", id: "call-1", headers: []string{"Range", "bytes=-100"}, code: 206, body: wav[len(wav)-100:], result: recordapi.ResultServed, rng: "bytes=-100"},
		{name: "no recording", id: "call-2", code: 404, result: recordapi.ResultNotFound},
		{name: "invalid id", id: "bad.id", code: 404, result: recordapi.ResultNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.entries(tc.id))
			res := e.get(reader(), "/api/v1/calls/"+tc.id+"/recording", tc.headers...)
			if res.code != tc.code {
				t.Fatalf("%s, want %d", res, tc.code)
			}
			if tc.body != nil {
				if !bytes.Equal(res.body, tc.body) {
					t.Errorf("body of %d bytes differs from the %d expected", len(res.body), len(tc.body))
				}
				h := res.header
				if h.Get("Content-Type") != "audio/wav" || h.Get("Cache-Control") != "no-store" || h.Get("Accept-Ranges") != "bytes" {
					t.Errorf("headers %v", h)
				}
			} else {
				res.problem(t)
			}
			got := e.entries(tc.id)
			if len(got) != before+1 {
				t.Fatalf("%d audit entries for %s, want %d", len(got), tc.id, before+1)
			}
			en := got[0]
			wantBytes := int64(0)
			if tc.result == recordapi.ResultServed {
				wantBytes = int64(len(wav))
			}
			if en.Actor != "test-"+string(reader()) || en.CallID != tc.id || en.Result != tc.result || en.Bytes != wantBytes ||
				en.Range != tc.rng || en.RemoteAddr != "192.0.2.1" || en.RequestID == "" || en.RequestID != res.header.Get(web.RequestIDHeader) || en.At.IsZero() {
				t.Errorf("audit entry %+v", en)
			}
		})
	}
}

// TestAuditFailure: when the access cannot be audited, nothing is served.
func TestAuditFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
	}{
		{"unreachable cluster", options{unreachable: true}},
		{"no audit index", options{noIndex: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.o)
			e.record("call-1", 1)
			for _, id := range []string{"call-1", "call-2"} {
				res := e.get(reader(), "/api/v1/calls/"+id+"/recording")
				p := res.problem(t)
				if res.code != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "audit") {
					t.Errorf("%s: %s, want 503 with Retry-After saying why", id, res)
				}
			}
			if tc.o.noIndex {
				// The refused write did not create an index with guessed
				// mappings in the alias's place.
				if err := e.es.Refresh(context.Background(), e.es.Name(recordapi.AuditIndex)); es.StatusOf(err) != http.StatusNotFound {
					t.Errorf("refresh of the audit index: %v, want 404 (no index)", err)
				}
			}
		})
	}
}

// TestAuditList lists entries through the API: newest first, filtered,
// bounded, with bad queries refused.
func TestAuditList(t *testing.T) {
	e := newEnv(t, options{})
	e.record("call-a", 1)
	for _, id := range []string{"call-a", "call-b", "call-a"} {
		e.get(reader(), "/api/v1/calls/"+id+"/recording")
	}
	e.entries("") // refresh
	list := func(query string) (*response, recordapi.AuditList) {
		res := e.get(reader(), recordapi.PathAudit+query)
		var l recordapi.AuditList
		if res.code == http.StatusOK {
			if err := json.Unmarshal(res.body, &l); err != nil {
				t.Fatal(err)
			}
		}
		return res, l
	}
	tests := []struct {
		query   string
		code    int
		results []recordapi.Result
	}{
		{"", 200, []recordapi.Result{"served", "not_found", "served"}},
		{"?call_id=call-a", 200, []recordapi.Result{"served", "served"}},
		{"?call_id=call-b", 200, []recordapi.Result{"not_found"}},
		{"?call_id=call-c", 200, []recordapi.Result{}},
		{"?size=1", 200, []recordapi.Result{"served"}},
		{"?size=0", 400, nil},
		{"?size=1001", 400, nil},
		{"?size=x", 400, nil},
		{"?call_id=../x", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res, l := list(tc.query)
			if res.code != tc.code {
				t.Fatalf("%s, want %d", res, tc.code)
			}
			if tc.code != http.StatusOK {
				res.problem(t)
				return
			}
			if l.Entries == nil {
				t.Fatalf("entries is null: %s", res)
			}
			var got []recordapi.Result
			for i, en := range l.Entries {
				got = append(got, en.Result)
				if i > 0 && en.At.After(l.Entries[i-1].At) {
					t.Errorf("entry %d is newer than the one before it", i)
				}
			}
			if len(got) != len(tc.results) || (len(got) > 0 && !equal(got, tc.results)) {
				t.Errorf("results %v, want %v", got, tc.results)
			}
		})
	}

	down := newEnv(t, options{unreachable: true})
	if res := down.get(reader(), recordapi.PathAudit); res.code != http.StatusServiceUnavailable {
		t.Errorf("listing from an unreachable cluster: %s, want 503", res)
	}
}

func equal(a, b []recordapi.Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
