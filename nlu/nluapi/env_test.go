package nluapi_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// Versions of the tiny test models in ../testdata/models.
const (
	cat1  = "2026-01-01.1"
	cat2  = "2026-02-01.1"
	embed = "tiny-embed.1"
)

// options adjust an environment.
type options struct {
	manifest  nlu.Manifest
	deps      nlu.Deps
	neighbors bool // serve labelledTickets as neighbours
}

// env is the web server with the NLU API over a real nlu.Service on the
// tiny test models, and an Issuer with one API client per role.
type env struct {
	t       *testing.T
	svc     *nlu.Service
	dir     string
	handler http.Handler
	api     *nluapi.API
	iss     *auth.Issuer
	tokens  map[auth.Role]string
}

func fullManifest() nlu.Manifest {
	return nlu.Manifest{Tasks: map[string]nlu.TaskVersions{
		"category":  {Production: cat1, Candidate: cat2},
		"intent":    {Production: "2026-01-01.1"},
		"sentiment": {Production: "2026-01-01.1"},
		"embed":     {Production: embed},
	}}
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "testdata", "models"))); err != nil {
		t.Fatal(err)
	}
	if o.manifest.Tasks == nil {
		o.manifest = fullManifest()
	}
	e := &env{t: t, dir: dir, tokens: map[auth.Role]string{}}
	e.writeManifest(o.manifest)
	rt := orttest.Runtime(t)
	svc, err := nlu.Open(context.Background(), rt, nlu.Config{Dir: dir}, o.deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	e.svc = svc

	d := nluapi.Deps{Service: svc}
	if o.neighbors {
		d.Neighbors = newTickets(t, svc)
	}
	api, err := nluapi.New(nluapi.DefaultConfig(), d)
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	clients := auth.NewMemoryStore()
	for _, r := range auth.Roles() {
		hash, err := bcrypt.GenerateFromPassword([]byte("secret-"+string(r)), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := clients.CreateClient(context.Background(), auth.Client{ID: "test-" + string(r), Name: string(r), Role: r, SecretHash: string(hash), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	e.iss, err = auth.NewIssuer(auth.Config{SigningKey: []byte("nluapi-test-signing-key-0123456789abcdef"), Issuer: "https://switchboard.test", Audience: "switchboard"}, clients, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{}, web.Deps{Issuer: e.iss, APIs: []web.Registrar{api}})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = srv.Handler()
	return e
}

func (e *env) writeManifest(m nlu.Manifest) {
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, nlu.ManifestFile), b, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) token(r auth.Role) string {
	if tok, ok := e.tokens[r]; ok {
		return tok
	}
	tok, err := e.iss.Token(context.Background(), "test-"+string(r), "secret-"+string(r), nil)
	if err != nil {
		e.t.Fatalf("token for %s: %v", r, err)
	}
	e.tokens[r] = tok.AccessToken
	return tok.AccessToken
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body)) }

// call sends body (raw when string or []byte, else as JSON) as role ("":
// no token).
func (e *env) call(role auth.Role, method, path string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(role))
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// problem decodes a problem answer, checking its media type and status.
func (r *response) problem(t *testing.T) problem.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type %q, want %s; response %s", ct, problem.ContentType, r)
	}
	var p problem.Problem
	r.decode(t, &p)
	if p.Status != r.code {
		t.Fatalf("problem status %d in a %d response", p.Status, r.code)
	}
	return p
}

// tickets is a Neighbors over a few labelled tickets whose subjects are
// embedded by the real embedding model; the lead's implementation searches
// the ticket index the same way.
type tickets struct {
	subjects []string
	labels   []string
	vecs     [][]float32
}

func newTickets(t *testing.T, svc *nlu.Service) *tickets {
	t.Helper()
	tk := &tickets{
		subjects: []string{"where is my parcel?", "refund my order", "my card payment failed", "the app crashes", "tracking shows no update"},
		labels:   []string{"logistics", "returns_refunds", "billing_payment", "technical_fault", "logistics"},
	}
	vecs, _, err := svc.Embed(context.Background(), tk.subjects)
	if err != nil {
		t.Fatal(err)
	}
	tk.vecs = vecs
	return tk
}

func (tk *tickets) NearestLabelled(_ context.Context, v []float32, k int) ([]nluapi.Neighbor, error) {
	var out []nluapi.Neighbor
	for i, w := range tk.vecs {
		var dot float64
		for j := range w {
			dot += float64(v[j]) * float64(w[j])
		}
		out = append(out, nluapi.Neighbor{
			TicketID: fmt.Sprintf("t-%d", i), Number: int64(i + 1), Subject: tk.subjects[i],
			Label: tk.labels[i], Source: "agent", Score: dot,
		})
	}
	slices.SortFunc(out, func(a, b nluapi.Neighbor) int { return cmp.Compare(b.Score, a.Score) })
	return out[:min(k, len(out))], nil
}
