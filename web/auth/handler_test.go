package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestTokenHandler(t *testing.T) {
	f := newFixture(t)
	e := gin.New()
	e.POST("/oauth/token", auth.TokenHandler(f.iss))

	tests := []struct {
		name        string
		contentType string
		query       string
		form        url.Values
		authz       string
		wantCode    int
		wantError   string // RFC 6749 error code; "" for success
		wantScope   string
	}{
		{name: "basic credentials", form: url.Values{"grant_type": {"client_credentials"}},
			authz: basic("c-ops", "secret-c-ops"), wantCode: 200,
			wantScope: "tickets:read stats:read aiops:read aiops:manage calls:read"},
		{name: "form credentials with scope",
			form:     url.Values{"grant_type": {"client_credentials"}, "client_id": {"c-ops"}, "client_secret": {"secret-c-ops"}, "scope": {"aiops:read  stats:read"}},
			wantCode: 200, wantScope: "stats:read aiops:read"},
		{name: "content type with charset", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			form: url.Values{"grant_type": {"client_credentials"}}, authz: basic("c-ops", "secret-c-ops"), wantCode: 200,
			wantScope: "tickets:read stats:read aiops:read aiops:manage calls:read"},
		{name: "wrong secret via basic", form: url.Values{"grant_type": {"client_credentials"}},
			authz: basic("c-ops", "nope"), wantCode: 401, wantError: "invalid_client"},
		{name: "wrong secret via form",
			form:     url.Values{"grant_type": {"client_credentials"}, "client_id": {"c-ops"}, "client_secret": {"nope"}},
			wantCode: 401, wantError: "invalid_client"},
		{name: "disabled client", form: url.Values{"grant_type": {"client_credentials"}},
			authz: basic("c-disabled", "secret-c-disabled"), wantCode: 401, wantError: "invalid_client"},
		{name: "no credentials", form: url.Values{"grant_type": {"client_credentials"}},
			wantCode: 401, wantError: "invalid_client"},
		{name: "credentials only in query string", query: "?client_id=c-ops&client_secret=secret-c-ops",
			form: url.Values{"grant_type": {"client_credentials"}}, wantCode: 401, wantError: "invalid_client"},
		{name: "two authentication methods",
			form:  url.Values{"grant_type": {"client_credentials"}, "client_id": {"c-ops"}, "client_secret": {"secret-c-ops"}},
			authz: basic("c-ops", "secret-c-ops"), wantCode: 401, wantError: "invalid_client"},
		{name: "scope escalation", form: url.Values{"grant_type": {"client_credentials"}, "scope": {"tickets:read clients:manage"}},
			authz: basic("c-ops", "secret-c-ops"), wantCode: 400, wantError: "invalid_scope"},
		{name: "unsupported grant", form: url.Values{"grant_type": {"password"}, "username": {"a"}},
			authz: basic("c-ops", "secret-c-ops"), wantCode: 400, wantError: "unsupported_grant_type"},
		{name: "missing grant type", form: url.Values{}, authz: basic("c-ops", "secret-c-ops"),
			wantCode: 400, wantError: "invalid_request"},
		{name: "repeated parameter", form: url.Values{"grant_type": {"client_credentials"}, "scope": {"a", "b"}},
			authz: basic("c-ops", "secret-c-ops"), wantCode: 400, wantError: "invalid_request"},
		{name: "JSON body", contentType: "application/json", form: url.Values{"grant_type": {"client_credentials"}},
			authz: basic("c-ops", "secret-c-ops"), wantCode: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/oauth/token"+tt.query, strings.NewReader(tt.form.Encode()))
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			if tt.authz != "" {
				req.Header.Set("Authorization", tt.authz)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if tt.wantError != "" {
				if body["error"] != tt.wantError {
					t.Errorf("error = %v, want %s", body["error"], tt.wantError)
				}
				if _, leaked := body["access_token"]; leaked {
					t.Error("access_token in an error response")
				}
				wantChallenge := tt.wantCode == http.StatusUnauthorized
				if got := rec.Header().Get("WWW-Authenticate"); strings.HasPrefix(got, "Basic") != wantChallenge {
					t.Errorf("WWW-Authenticate = %q, want a Basic challenge: %v", got, wantChallenge)
				}
				return
			}
			if body["token_type"] != "Bearer" || body["scope"] != tt.wantScope || body["expires_in"] != float64(3600) {
				t.Errorf("body = %v", body)
			}
			if _, err := f.iss.Verify(body["access_token"].(string)); err != nil {
				t.Errorf("issued token does not verify: %v", err)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	f := newFixture(t)
	agent, err := f.iss.Token(t.Context(), "c-agent", "secret-c-agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := f.iss.Token(t.Context(), "c-supervisor", "secret-c-supervisor", []string{auth.ScopeTicketsRead})
	if err != nil {
		t.Fatal(err)
	}
	other := testConfig()
	other.SigningKey = []byte("ffffffffffffffffffffffffffffffff")
	otherIss, err := auth.NewIssuer(other, f.store, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := otherIss.Token(t.Context(), "c-agent", "secret-c-agent", nil)
	if err != nil {
		t.Fatal(err)
	}

	e := gin.New()
	ok := func(c *gin.Context) {
		claims, found := auth.FromContext(c)
		if !found {
			t.Error("no claims in context")
		}
		c.String(http.StatusOK, auth.Actor(c)+" "+string(claims.Role))
	}
	e.GET("/tickets", auth.Require(f.iss, auth.ScopeTicketsRead), ok)
	e.DELETE("/tickets/:id", auth.Require(f.iss, auth.ScopeTicketsAdmin), ok)
	e.GET("/me", auth.Require(f.iss, ""), ok)

	tests := []struct {
		name, method, path, authz string
		wantCode                  int
		wantBody                  string
		wantChallenge             string // substring of WWW-Authenticate
	}{
		{"valid token and scope", http.MethodGet, "/tickets", "Bearer " + agent.AccessToken, 200, "c-agent agent", ""},
		{"scheme is case-insensitive", http.MethodGet, "/tickets", "bearer " + agent.AccessToken, 200, "c-agent agent", ""},
		{"authentication only", http.MethodGet, "/me", "Bearer " + agent.AccessToken, 200, "c-agent agent", ""},
		{"no header", http.MethodGet, "/tickets", "", 401, "", "Bearer"},
		{"basic scheme", http.MethodGet, "/tickets", basic("c-agent", "secret-c-agent"), 401, "", "Bearer"},
		{"empty bearer", http.MethodGet, "/tickets", "Bearer ", 401, "", "Bearer"},
		{"garbage token", http.MethodGet, "/tickets", "Bearer abc.def.ghi", 401, "", `error="invalid_token"`},
		{"token from another key", http.MethodGet, "/tickets", "Bearer " + foreign.AccessToken, 401, "", `error="invalid_token"`},
		{"role lacks scope", http.MethodDelete, "/tickets/T-1", "Bearer " + agent.AccessToken, 403, "", `scope="tickets:admin"`},
		{"token narrowed below role", http.MethodDelete, "/tickets/T-1", "Bearer " + narrow.AccessToken, 403, "", `error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.authz != "" {
				req.Header.Set("Authorization", tt.authz)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode == http.StatusOK {
				if rec.Body.String() != tt.wantBody {
					t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
				}
				return
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.wantChallenge) || !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", got, tt.wantChallenge)
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
			}
			var p problem.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.wantCode {
				t.Errorf("problem status = %d", p.Status)
			}
			if tt.wantCode == http.StatusForbidden {
				if !strings.Contains(p.Detail, auth.ScopeTicketsAdmin) || p.Extensions["required_scope"] != auth.ScopeTicketsAdmin {
					t.Errorf("403 does not name the missing scope: %+v", p)
				}
			}
		})
	}
}

func TestRequireUnknownScopePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Require accepted an unknown scope")
		}
	}()
	auth.Require(nil, "tickets:reed")
}

func TestContextWithoutRequire(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if _, ok := auth.FromContext(c); ok {
		t.Error("FromContext found claims without Require")
	}
	if got := auth.Actor(c); got != "" {
		t.Errorf("Actor = %q, want empty", got)
	}
}
