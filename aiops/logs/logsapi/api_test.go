package logsapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/aiops/logs/logsapi"
	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// TestIngestRoute posts lines through the real web server (auth included)
// into a real Elasticsearch.
func TestIngestRoute(t *testing.T) {
	ctx := context.Background()
	c := estest.Client(t)
	if err := eslog.New(c, eslog.Config{Service: "test"}).Setup(ctx); err != nil {
		t.Fatal(err)
	}
	clients := auth.NewMemoryStore()
	for _, r := range []auth.Role{auth.RoleOps, auth.RoleAgent} {
		hash, _ := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
		if err := clients.CreateClient(ctx, auth.Client{ID: string(r), Name: string(r), Role: r, SecretHash: string(hash), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	iss, err := auth.NewIssuer(auth.Config{SigningKey: []byte("logsapi-test-signing-key-0123456789abcdef"), Issuer: "https://switchboard.test", Audience: "switchboard"}, clients, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{}, web.Deps{Issuer: iss, APIs: []web.Registrar{logsapi.New(logs.New(c, nil, logs.Config{}))}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(role auth.Role, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, logsapi.PathLogs+"?service=web", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		if role != "" {
			tok, err := iss.Token(ctx, string(role), "secret", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := post("", "{}"); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", rec.Code)
	}
	if rec := post(auth.RoleAgent, "{}"); rec.Code != http.StatusForbidden {
		t.Errorf("agent: %d", rec.Code)
	}
	rec := post(auth.RoleOps, `{"message":"disk almost full","log.level":"warn"}`+"\nnot json\n"+`{"message":"ok"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("ops: %d %s", rec.Code, rec.Body)
	}
	var res logs.Result
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Rejected != 1 || res.Reasons[logs.ReasonNotJSON] != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 2 {
		t.Errorf("result %+v", res)
	}
}
