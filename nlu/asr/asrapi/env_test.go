package asrapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/asr/asrapi"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/nlu/vad/vadtest"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
	"github.com/switchboard-cc/switchboard/web/webtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// Test inputs: the tiny random model that follows the contract (its text
// is garbage, but every path runs), and real speech.
var (
	tinyModel = filepath.Join("..", "testdata", "tiny")
	speech8k  = filepath.Join("..", "..", "audio", "testdata", "speech8k.wav")
	speech16k = filepath.Join("..", "..", "audio", "testdata", "speech16k.wav")
)

// options adjust an environment.
type options struct {
	cfg     func(*asrapi.Config)
	modelOf string // model directory; "" is the tiny model
	noModel bool   // serve without a recognizer
	noVAD   bool
}

// env is the web server with the ASR API over a real model and the real
// Silero VAD, and an Issuer with one API client per role.
type env struct {
	t       *testing.T
	handler http.Handler
	api     *asrapi.API
	ws      *webtest.Server
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	e := &env{t: t}
	var d asrapi.Deps
	if !o.noModel {
		dir := o.modelOf
		if dir == "" {
			dir = tinyModel
		}
		m, err := asr.Load(context.Background(), orttest.Runtime(t), dir, asr.LoadOptions{Threads: 1})
		if err != nil {
			t.Fatalf("asr.Load(%s): %v", dir, err)
		}
		t.Cleanup(func() { _ = m.Close() })
		d.Recognizer = m
	}
	if !o.noVAD {
		d.VAD = vadtest.Model(t)
	}
	cfg := asrapi.DefaultConfig()
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	api, err := asrapi.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	ws := webtest.New(t, api)
	e.handler, e.ws = ws.Handler, ws
	return e
}

func (e *env) token(r auth.Role) string { return e.ws.Token(r) }

// upload is a request body and its Content-Type ("": none).
type upload struct {
	contentType string
	body        io.Reader
}

// raw sends b as the whole body.
func raw(contentType string, b []byte) upload {
	return upload{contentType: contentType, body: bytes.NewReader(b)}
}

// form sends b as the multipart field named field.
func form(t testing.TB, field string, b []byte) upload {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile(field, "recording.wav")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return upload{contentType: mw.FormDataContentType(), body: &buf}
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body)) }

// post uploads u to /api/v1/asr?query as role ("": no token).
func (e *env) post(role auth.Role, query string, u upload) *response {
	e.t.Helper()
	path := asrapi.PathASR
	if query != "" {
		path += "?" + query
	}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, u.body)
	if u.contentType != "" {
		req.Header.Set("Content-Type", u.contentType)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(role))
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (r *response) transcript(t *testing.T) asrapi.Transcript {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("%s, want 200", r)
	}
	var tr asrapi.Transcript
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
	return tr
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

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
