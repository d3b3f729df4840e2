package staffingapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/calls"
)

// TestRecommendationFromStoredCalls stores two weeks of calls to the
// logistics group in a real Elasticsearch (busy days, quiet nights) and
// asks for the next two hours' staffing: agents follow the forecast, and a
// surge in the last half hour brings a schedule change.
func TestRecommendationFromStoredCalls(t *testing.T) {
	ctx := context.Background()
	c := estest.Client(t)
	store := calls.New(c, calls.Config{}, nil)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), store.Index()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC) // a Tuesday morning
	perSlot := func(at time.Time) int {
		if h := at.Hour(); h >= 8 && h < 20 {
			return 12
		}
		return 2
	}
	write := func(surge int) {
		var b bytes.Buffer
		n := 0
		for at := now.Add(-14 * 24 * time.Hour); at.Before(now); at = at.Add(30 * time.Minute) {
			k := perSlot(at)
			if !at.Before(now.Add(-30 * time.Minute)) {
				k = surge
			}
			for i := range k {
				n++
				fmt.Fprintf(&b, `{"create":{"_index":%q,"_id":"s%d-%d"}}`+"\n", c.Name(calls.IndexName), surge, n)
				doc, _ := json.Marshal(map[string]any{"id": fmt.Sprint(n), "started": at.Add(time.Duration(i) * time.Second),
					"path": []any{}, "transfer": map[string]any{"group": "logistics", "result": "accepted"}})
				b.Write(doc)
				b.WriteByte('\n')
			}
		}
		if _, err := c.Bulk(ctx, b.Bytes(), "true"); err != nil {
			t.Fatal(err)
		}
	}
	gin.SetMode(gin.TestMode)
	api := New(NewESHistory(c))
	api.now = func() time.Time { return now }
	e := gin.New()
	api.Register(e, func(string) gin.HandlerFunc { return func(*gin.Context) {} })
	get := func(query string) Answer {
		t.Helper()
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, PathStaffing+query, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
		}
		var a Answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}

	write(12) // an ordinary last half hour
	a := get("?group=logistics&horizon=4&shrinkage=0.3")
	if len(a.Plan.Slots) != 4 || a.Change != nil || a.Uplift > 1.1 {
		t.Fatalf("ordinary morning: %+v", a)
	}
	for _, s := range a.Plan.Slots {
		// 12 calls per 30 min at 180 s is 1.2 Erlangs: 80/20 needs 3 on the
		// phones, 5 scheduled with 30 % shrinkage.
		if s.Calls < 10 || s.Calls > 14 || s.Agents != 3 || s.Scheduled != 5 || s.ServiceLevel < 0.8 {
			t.Errorf("slot %+v", s)
		}
	}

	// A second fortnight on top (every interval doubles) whose last half
	// hour has 36: 48 against a forecast of 24.
	write(36)
	a = get("?group=logistics&horizon=4&shrinkage=0.3")
	if a.Uplift < 2 || a.Change == nil || a.Change.MaxAdd < 1 || !a.Change.From.Equal(now) {
		t.Fatalf("surge: uplift %v, change %+v", a.Uplift, a.Change)
	}
	t.Logf("surge: latest %v vs forecast %.1f, add up to %d agents from %v", a.Latest, a.Forecast, a.Change.MaxAdd, a.Change.From)

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, PathStaffing+"?step=7m&service_level=2", nil))
	if rec.Code != http.StatusBadRequest || !bytes.Contains(rec.Body.Bytes(), []byte("service_level")) {
		t.Errorf("bad query: %d %s", rec.Code, rec.Body)
	}
}
