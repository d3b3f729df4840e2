package problem_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/web/problem"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// serve runs h behind a fresh engine and returns the recorded response.
func serve(t *testing.T, method, target, contentType, body string, h gin.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	e := gin.New()
	e.Handle(method, "/x", h)
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, target, rd)
	} else {
		req = httptest.NewRequest(method, target, http.NoBody)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// readProblem decodes a problem response and checks its media type.
func readProblem(t *testing.T, rec *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type = %q, want %q (body %s)", ct, problem.ContentType, rec.Body)
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem %q: %v", rec.Body, err)
	}
	if p.Status != rec.Code {
		t.Errorf("body status %d, response status %d", p.Status, rec.Code)
	}
	return p
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		p          problem.Problem
		wantStatus int
		wantTitle  string
		wantType   string
		wantJSON   map[string]any // members checked verbatim
		absent     []string       // members that must not appear
	}{
		{"bad request with fields", problem.BadRequest("bad", problem.FieldError{Field: "customer.email", Message: "required"}),
			400, "Bad Request", "about:blank",
			map[string]any{"detail": "bad", "errors": []any{map[string]any{"field": "customer.email", "message": "required"}}}, nil},
		{"unauthorized", problem.Unauthorized("no token"), 401, "Unauthorized", "about:blank", nil, []string{"errors"}},
		{"forbidden", problem.Forbidden("nope"), 403, "Forbidden", "about:blank", nil, nil},
		{"not found", problem.NotFound("gone"), 404, "Not Found", "about:blank", nil, nil},
		{"method not allowed", problem.MethodNotAllowed("no"), 405, "Method Not Allowed", "about:blank", nil, nil},
		{"conflict", problem.Conflict("busy"), 409, "Conflict", "about:blank", nil, nil},
		{"precondition failed", problem.PreconditionFailed("stale"), 412, "Precondition Failed", "about:blank", nil, nil},
		{"payload too large", problem.PayloadTooLarge("big"), 413, "Request Entity Too Large", "about:blank", nil, nil},
		{"unsupported media type", problem.UnsupportedMediaType("xml"), 415, "Unsupported Media Type", "about:blank", nil, nil},
		{"unprocessable", problem.Unprocessable("rule", problem.FieldError{Field: "priority", Message: "unknown"}), 422, "Unprocessable Entity", "about:blank", nil, nil},
		{"internal", problem.Internal("oops"), 500, "Internal Server Error", "about:blank", nil, nil},
		{"unavailable", problem.Unavailable("later"), 503, "Service Unavailable", "about:blank", nil, nil},
		{"zero value is 500", problem.Problem{}, 500, "Internal Server Error", "about:blank", nil, []string{"detail", "instance", "errors"}},
		{"custom type and title", problem.Problem{Type: "https://switchboard.example/problems/sla", Title: "SLA breached", Status: 409, Instance: "/tickets/1"},
			409, "SLA breached", "https://switchboard.example/problems/sla", map[string]any{"instance": "/tickets/1"}, nil},
		{"extensions merged, reserved ignored",
			problem.Conflict("bad transition").WithExtensions(map[string]any{"allowed": []string{"open", "closed"}, "status": 200, "type": "x"}),
			409, "Conflict", "about:blank", map[string]any{"allowed": []any{"open", "closed"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			later := false
			e := gin.New()
			e.GET("/x", func(c *gin.Context) { problem.Write(c, tt.p) }, func(*gin.Context) { later = true })
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if later {
				t.Error("handler after Write ran; Write must abort")
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			got := readProblem(t, rec)
			if got.Title != tt.wantTitle || got.Type != tt.wantType {
				t.Errorf("title, type = %q, %q; want %q, %q", got.Title, got.Type, tt.wantTitle, tt.wantType)
			}
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.wantJSON {
				if !reflect.DeepEqual(raw[k], want) {
					t.Errorf("member %q = %#v, want %#v", k, raw[k], want)
				}
			}
			for _, k := range tt.absent {
				if _, ok := raw[k]; ok {
					t.Errorf("member %q present, want absent", k)
				}
			}
		})
	}
}

func TestWriteAfterResponseStarted(t *testing.T) {
	rec := serve(t, http.MethodGet, "/x", "", "", func(c *gin.Context) {
		c.String(http.StatusOK, "partial")
		problem.Write(c, problem.Internal("late"))
	})
	if rec.Code != http.StatusOK || rec.Body.String() != "partial" {
		t.Errorf("got %d %q; a started response must be left alone", rec.Code, rec.Body)
	}
}

type customer struct {
	Email string `json:"email"`
	Age   int    `json:"age"`
}

type order struct {
	ID       string   `json:"id"`
	Customer customer `json:"customer"`
	Tags     []string `json:"tags"`
}

func TestDecodeJSON(t *testing.T) {
	const limit = 64
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int // 0: success
		wantField   *problem.FieldError
		wantDetail  string // substring
	}{
		{name: "ok", contentType: "application/json", body: `{"id":"a","customer":{"email":"x@y","age":3}}`},
		{name: "ok with charset", contentType: "application/json; charset=UTF-8", body: `{"id":"a"}`},
		{name: "ok with trailing whitespace", contentType: "application/json", body: "{\"id\":\"a\"}\n \t"},
		{name: "missing content type", body: `{"id":"a"}`, wantStatus: 415},
		{name: "wrong content type", contentType: "text/plain", body: `{"id":"a"}`, wantStatus: 415},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: `id=a`, wantStatus: 415},
		{name: "malformed content type", contentType: "application/json; ===", body: `{}`, wantStatus: 415},
		{name: "non-utf8 charset", contentType: "application/json; charset=latin1", body: `{}`, wantStatus: 415},
		{name: "empty body", contentType: "application/json", wantStatus: 400, wantDetail: "empty"},
		{name: "whitespace body", contentType: "application/json", body: "  \n", wantStatus: 400, wantDetail: "empty"},
		{name: "over limit", contentType: "application/json", body: `{"id":"` + strings.Repeat("a", limit) + `"}`, wantStatus: 413, wantDetail: "64 bytes"},
		{name: "over limit in trailing data", contentType: "application/json", body: `{"id":"a"}` + strings.Repeat(" ", limit), wantStatus: 413},
		{name: "unknown field", contentType: "application/json", body: `{"id":"a","colour":"red"}`, wantStatus: 400,
			wantField: &problem.FieldError{Field: "colour", Message: "unknown field"}},
		{name: "type error top level field", contentType: "application/json", body: `{"id":7}`, wantStatus: 400,
			wantField: &problem.FieldError{Field: "id", Message: "must be a string"}},
		{name: "type error nested field", contentType: "application/json", body: `{"customer":{"age":"old"}}`, wantStatus: 400,
			wantField: &problem.FieldError{Field: "customer.age", Message: "must be an integer"}},
		{name: "type error array", contentType: "application/json", body: `{"tags":"x"}`, wantStatus: 400,
			wantField: &problem.FieldError{Field: "tags", Message: "must be an array"}},
		{name: "type error object", contentType: "application/json", body: `{"customer":true}`, wantStatus: 400,
			wantField: &problem.FieldError{Field: "customer", Message: "must be an object"}},
		{name: "body not an object", contentType: "application/json", body: `[1,2]`, wantStatus: 400,
			wantField: &problem.FieldError{Message: "must be an object"}},
		{name: "syntax error", contentType: "application/json", body: `{"id":"a",}`, wantStatus: 400, wantDetail: "offset 11"},
		{name: "truncated", contentType: "application/json", body: `{"id":"a"`, wantStatus: 400, wantDetail: "truncated"},
		{name: "trailing object", contentType: "application/json", body: `{"id":"a"}{"id":"b"}`, wantStatus: 400, wantDetail: "single JSON value"},
		{name: "trailing garbage", contentType: "application/json", body: `{"id":"a"} x`, wantStatus: 400, wantDetail: "single JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst order
			rec := serve(t, http.MethodPost, "/x", tt.contentType, tt.body, func(c *gin.Context) {
				if p := problem.DecodeJSON(c, &dst, limit); p != nil {
					problem.Write(c, *p)
					return
				}
				c.Status(http.StatusNoContent)
			})
			if tt.wantStatus == 0 {
				if rec.Code != http.StatusNoContent {
					t.Fatalf("status = %d, want success; body %s", rec.Code, rec.Body)
				}
				return
			}
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			p := readProblem(t, rec)
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.wantDetail)
			}
			if tt.wantField != nil {
				if len(p.Errors) != 1 || p.Errors[0] != *tt.wantField {
					t.Errorf("errors = %+v, want [%+v]", p.Errors, *tt.wantField)
				}
			}
			if strings.Contains(rec.Body.String(), "problem_test.") {
				t.Errorf("body leaks Go type names: %s", rec.Body)
			}
		})
	}
}

func TestDecodeJSONNotAPointer(t *testing.T) {
	rec := serve(t, http.MethodPost, "/x", "application/json", `{}`, func(c *gin.Context) {
		var dst order
		if p := problem.DecodeJSON(c, dst, 0); p != nil {
			problem.Write(c, *p)
		}
	})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500 for a programming error", rec.Code)
	}
}

func TestRecovery(t *testing.T) {
	tests := []struct {
		name      string
		handler   gin.HandlerFunc
		wantCode  int
		wantLogs  int
		wantPanic bool
	}{
		{"no panic", func(c *gin.Context) { c.Status(http.StatusNoContent) }, http.StatusNoContent, 0, false},
		{"panic with value", func(*gin.Context) { panic("boom: secret internals") }, http.StatusInternalServerError, 1, false},
		{"panic with error", func(*gin.Context) { panic(errors.New("nil map")) }, http.StatusInternalServerError, 1, false},
		{"panic after response started", func(c *gin.Context) {
			c.String(http.StatusOK, "half")
			panic("late")
		}, http.StatusOK, 1, false},
		{"abort handler propagates", func(*gin.Context) { panic(http.ErrAbortHandler) }, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			e := gin.New()
			e.Use(problem.Recovery(logger))
			e.GET("/x", tt.handler)
			rec := httptest.NewRecorder()
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
				return false
			}()
			if panicked != tt.wantPanic {
				t.Fatalf("panicked = %v, want %v", panicked, tt.wantPanic)
			}
			if lines := strings.Count(logs.String(), "\n"); lines != tt.wantLogs {
				t.Errorf("%d log records, want %d:\n%s", lines, tt.wantLogs, logs.String())
			}
			if tt.wantPanic {
				return
			}
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode == http.StatusInternalServerError {
				p := readProblem(t, rec)
				if strings.Contains(rec.Body.String(), "internals") || strings.Contains(rec.Body.String(), "nil map") {
					t.Errorf("panic value leaked to client: %s", rec.Body)
				}
				if p.Detail == "" {
					t.Error("empty detail")
				}
				if !strings.Contains(logs.String(), `"stack"`) {
					t.Error("log record lacks the stack")
				}
			}
		})
	}
}

func TestNoRouteNoMethod(t *testing.T) {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.NoRoute(problem.NoRoute())
	e.NoMethod(problem.NoMethod())
	e.GET("/tickets", func(c *gin.Context) { c.Status(http.StatusOK) })
	tests := []struct {
		method, path string
		wantCode     int
		wantAllow    string
	}{
		{http.MethodGet, "/nowhere", http.StatusNotFound, ""},
		{http.MethodDelete, "/tickets", http.StatusMethodNotAllowed, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			readProblem(t, rec)
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

var (
	errNotFound = errors.New("not found")
	errConflict = errors.New("conflict")
	errInvalid  = errors.New("invalid")
	errDown     = errors.New("unavailable")
)

// validationError is how an API layer attaches field violations to a
// domain error.
type validationError struct{ fields []problem.FieldError }

func (e *validationError) Error() string                       { return "ticket is invalid" }
func (e *validationError) Unwrap() error                       { return errInvalid }
func (e *validationError) ProblemFields() []problem.FieldError { return e.fields }

// transitionError lists the allowed transitions on a conflict.
type transitionError struct{ allowed []string }

func (e transitionError) Error() string { return "cannot move ticket from closed to open" }
func (e transitionError) Unwrap() error { return errConflict }
func (e transitionError) ProblemExtensions() map[string]any {
	return map[string]any{"allowed_transitions": e.allowed, "status": 200}
}

func TestFromError(t *testing.T) {
	mapper := problem.Mapper{
		{Err: errNotFound, Status: http.StatusNotFound},
		{Err: errConflict, Status: http.StatusConflict, Title: "Invalid transition"},
		{Err: errInvalid, Status: http.StatusUnprocessableEntity},
		{Err: errDown, Status: http.StatusServiceUnavailable},
	}
	fields := []problem.FieldError{{Field: "customer.email", Message: "required"}}
	tests := []struct {
		name    string
		err     error
		want    problem.Problem
		wantExt map[string]any
	}{
		{"sentinel", errNotFound, problem.Problem{Status: 404, Detail: "not found"}, nil},
		{"wrapped sentinel", fmt.Errorf("tickets: get T-1: %w", errNotFound),
			problem.Problem{Status: 404, Detail: "tickets: get T-1: not found"}, nil},
		{"title override", fmt.Errorf("tickets: %w", errConflict),
			problem.Problem{Status: 409, Title: "Invalid transition", Detail: "tickets: conflict"}, nil},
		{"field violations", fmt.Errorf("api: create: %w", &validationError{fields}),
			problem.Problem{Status: 422, Detail: "api: create: ticket is invalid", Errors: fields}, nil},
		{"extensions, reserved dropped on the wire", transitionError{[]string{"reopened"}},
			problem.Problem{Status: 409, Title: "Invalid transition", Detail: "cannot move ticket from closed to open"},
			map[string]any{"allowed_transitions": []string{"reopened"}, "status": 200}},
		{"mapped 5xx hides message", fmt.Errorf("esstore: search: dial 10.0.0.5:9200: %w", errDown),
			problem.Problem{Status: 503, Detail: "the server hit an unexpected error"}, nil},
		{"unknown error is generic 500", errors.New("esstore: index sb-tickets-000001 missing"),
			problem.Problem{Status: 500, Detail: "the server hit an unexpected error"}, nil},
		{"nil error", nil, problem.Problem{Status: 500, Detail: "the server hit an unexpected error"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapper.Problem(tt.err)
			gotExt := got.Extensions
			got.Extensions = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromError = %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(gotExt, tt.wantExt) {
				t.Errorf("extensions = %#v, want %#v", gotExt, tt.wantExt)
			}
		})
	}
}

func TestFromErrorOnTheWire(t *testing.T) {
	err := transitionError{[]string{"reopened"}}
	rec := serve(t, http.MethodGet, "/x", "", "", func(c *gin.Context) {
		problem.Write(c, problem.FromError(err, []problem.Mapping{{Err: errConflict, Status: http.StatusConflict}}))
	})
	if rec.Code != http.StatusConflict {
		t.Fatalf("status = %d, want 409: an extension must not override status", rec.Code)
	}
	p := readProblem(t, rec)
	if got := fmt.Sprint(p.Extensions["allowed_transitions"]); got != "[reopened]" {
		t.Errorf("allowed_transitions = %s", got)
	}
}
