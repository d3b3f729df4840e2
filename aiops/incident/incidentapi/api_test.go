package incidentapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/incident/esstore"
	"github.com/switchboard-cc/switchboard/aiops/incident/incidentapi"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/webtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// TestIncidentLifecycle stores two incidents of one outage in a real
// Elasticsearch and, through the API with its auth, lists them, merges
// one into the other and closes the result.
func TestIncidentLifecycle(t *testing.T) {
	ctx := context.Background()
	c := estest.Client(t)
	store := esstore.New(c, nil)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), store.Index()); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 12, 14, 13, 0, 0, time.UTC)
	for _, in := range []*esstore.Incident{
		{ID: "zh", Label: []string{"支付失败"}, Start: start, End: start.Add(20 * time.Minute), Count: 9, Tickets: []string{"1", "2"},
			Categories: map[string]int{"payment_problem": 9}, Observed: 9, Expected: 1.7,
			Causes: []esstore.Cause{{Service: "payment-gw", Template: "9", Score: 300, RateBefore: 1, RateAfter: 40}}},
		{ID: "en", Label: []string{"payment", "failed"}, Start: start.Add(time.Minute), End: start.Add(22 * time.Minute), Count: 9, Tickets: []string{"3"},
			Categories: map[string]int{"payment_problem": 9}, Observed: 9, Expected: 1.6,
			Causes: []esstore.Cause{{Service: "payment-gw", Template: "9", Score: 280}, {Service: "search", Template: "4", Score: 3}}},
	} {
		if err := store.Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	srv := webtest.New(t, incidentapi.New(store))
	do := func(role auth.Role, method, path, body string) (int, []byte) {
		req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+srv.Token(role))
		}
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	if code, _ := do("", http.MethodGet, "/api/v1/incidents", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := do(auth.RoleAgent, http.MethodGet, "/api/v1/incidents", ""); code != http.StatusForbidden {
		t.Errorf("agent: %d", code)
	}
	code, body := do(auth.RoleOps, http.MethodGet, "/api/v1/incidents?state=open", "")
	var list incidentapi.List
	if err := json.Unmarshal(body, &list); err != nil || code != 200 || len(list.Incidents) != 2 || list.Incidents[0].ID != "en" {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, _ := do(auth.RoleOps, http.MethodGet, "/api/v1/incidents?state=gone", ""); code != http.StatusBadRequest {
		t.Errorf("bad state: %d", code)
	}
	code, body = do(auth.RoleOps, http.MethodPost, "/api/v1/incidents/en/merge", `{"into":"zh"}`)
	var merged esstore.Incident
	if err := json.Unmarshal(body, &merged); err != nil || code != 200 {
		t.Fatalf("merge: %d %s", code, body)
	}
	if merged.Count != 18 || len(merged.Tickets) != 3 || merged.Categories["payment_problem"] != 18 ||
		len(merged.Causes) != 2 || merged.Causes[0].Score != 300 || merged.History[len(merged.History)-1].By != webtest.ClientID(auth.RoleOps) {
		t.Errorf("merged %+v", merged)
	}
	if code, _ := do(auth.RoleOps, http.MethodPost, "/api/v1/incidents/en/merge", `{"into":"zh"}`); code != http.StatusConflict {
		t.Errorf("merging a merged incident: %d", code)
	}
	if code, _ := do(auth.RoleOps, http.MethodPost, "/api/v1/incidents/zh/merge", `{}`); code != http.StatusBadRequest {
		t.Errorf("merge without into: %d", code)
	}
	if code, _ := do(auth.RoleOps, http.MethodPost, "/api/v1/incidents/nope/close", ""); code != http.StatusNotFound {
		t.Errorf("close unknown: %d", code)
	}
	code, body = do(auth.RoleOps, http.MethodPost, "/api/v1/incidents/zh/close", `{"note":"gateway fixed"}`)
	if code != 200 || !strings.Contains(string(body), `"state":"closed"`) || !strings.Contains(string(body), "gateway fixed") {
		t.Errorf("close: %d %s", code, body)
	}
	// The monitor writing the incident again keeps what ops did.
	if err := store.Put(ctx, &esstore.Incident{ID: "zh", Label: []string{"支付失败"}, Start: start, Count: 10}); err != nil {
		t.Fatal(err)
	}
	if in, err := store.Get(ctx, "zh"); err != nil || in.State != esstore.Closed || len(in.History) < 2 {
		t.Errorf("after an update: %+v %v", in, err)
	}
}
