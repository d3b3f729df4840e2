package recordapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/ivr/record/recordapi"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
	"github.com/switchboard-cc/switchboard/web/webtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// options adjust an environment.
type options struct {
	// unreachable points the auditor at an address where nothing listens.
	unreachable bool
	// noIndex leaves the audit index out (no Ensure).
	noIndex bool
}

// env is the web server with the recordings API over a real Recorder and
// a real Elasticsearch, and an Issuer with one API client per role.
type env struct {
	t       *testing.T
	handler http.Handler
	api     *recordapi.API
	rec     *record.Recorder
	es      *es.Client
	auditor *recordapi.Auditor
	ws      *webtest.Server
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	e := &env{t: t}
	var err error
	e.rec, err = record.New(record.Config{Dir: filepath.Join(t.TempDir(), "recordings")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.unreachable {
		e.es, err = es.New(es.Config{URLs: []string{"http://127.0.0.1:1"}, Prefix: "unreachable", Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
	} else {
		e.es = estest.Client(t)
	}
	e.auditor = recordapi.NewAuditor(e.es)
	if !o.unreachable && !o.noIndex {
		if err := e.es.Ensure(context.Background(), slog.New(slog.DiscardHandler), e.auditor.Index()); err != nil {
			t.Fatal(err)
		}
	}
	e.api, err = recordapi.New(recordapi.Deps{Recordings: e.rec, Audit: e.auditor})
	if err != nil {
		t.Fatal(err)
	}
	ws := webtest.New(t, e.api)
	e.handler, e.ws = ws.Handler, ws
	return e
}

func (e *env) token(r auth.Role) string { return e.ws.Token(r) }

// record makes a recording of id with seconds of caller audio and returns
// the file's bytes.
func (e *env) record(id string, seconds int) []byte {
	e.t.Helper()
	r, err := e.rec.Start(id)
	if err != nil {
		e.t.Fatal(err)
	}
	frame := make([]float32, 160)
	for k := range seconds * 50 {
		for i := range frame {
			frame[i] = float32((k*160+i)%2000-1000) / 32768
		}
		r.Caller(frame)
		r.IVR(frame[:80])
	}
	info, err := r.Close()
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := os.ReadFile(info.Path)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r *response) String() string {
	if len(r.body) > 200 {
		return fmt.Sprintf("%d (%d bytes)", r.code, len(r.body))
	}
	return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body))
}

// get sends GET path as role ("": no token) with the given headers.
func (e *env) get(role auth.Role, path string, headers ...string) *response {
	e.t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(role))
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
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

// entries reads the audit log directly, newest first, after a refresh.
func (e *env) entries(callID string) []recordapi.Entry {
	e.t.Helper()
	ctx := context.Background()
	if err := e.es.Refresh(ctx, e.es.Name(recordapi.AuditIndex)); err != nil {
		e.t.Fatal(err)
	}
	got, err := e.auditor.List(ctx, callID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// reader is a role with recordings:read, and nonReader one without.
func reader() auth.Role    { return auth.RoleSupervisor }
func nonReader() auth.Role { return auth.RoleAgent }
