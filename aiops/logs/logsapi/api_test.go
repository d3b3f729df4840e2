package logsapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/aiops/logs/logsapi"
	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/webtest"
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
	srv := webtest.New(t, logsapi.New(logs.New(c, nil, logs.Config{})))
	post := func(role auth.Role, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, logsapi.PathLogs+"?service=web", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+srv.Token(role))
		}
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, req)
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
