package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/api"
	"github.com/switchboard-cc/switchboard/tickets/api/apitest"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// failing is a TicketService whose Get fails with err; it exercises the
// error edge without needing a broken Elasticsearch.
type failing struct {
	api.TicketService
	err error
}

func (f failing) Get(context.Context, string) (*tickets.Ticket, tickets.Version, error) {
	return nil, tickets.Version{}, f.err
}

// allowAll admits every token with every scope.
type allowAll struct{}

func (allowAll) Verify(string) (auth.Claims, error) {
	return auth.Claims{Subject: "tester", Scopes: auth.AllScopes()}, nil
}

func TestErrorMapping(t *testing.T) {
	internal := "es at 10.1.2.3:9200: index switchboard-tickets-v3"
	for _, c := range []struct {
		err        error
		want       int
		retryAfter string
		logged     bool
	}{
		{fmt.Errorf("esstore: get x: %w", tickets.ErrNotFound), 404, "", false},
		{fmt.Errorf("%s: %w", internal, tickets.ErrUnavailable), 503, "7", true},
		{fmt.Errorf("%s: %w", internal, context.DeadlineExceeded), 503, "7", true},
		{errors.New(internal), 500, "", true},
	} {
		t.Run(fmt.Sprint(c.want), func(t *testing.T) {
			gin.SetMode(gin.TestMode)
			cfg := api.DefaultConfig()
			cfg.RetryAfter = 7 * time.Second
			a, err := api.New(cfg, api.Deps{Tickets: failing{err: c.err}})
			if err != nil {
				t.Fatal(err)
			}
			logs := &apitest.SyncBuffer{}
			s, err := web.New(web.Config{}, web.Deps{Verifier: allowAll{}, APIs: []web.Registrar{a}, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/api/v1/tickets/x", nil)
			req.Header.Set("Authorization", "Bearer any")
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			r := &apitest.Response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
			if r.Code != c.want || r.Header.Get("Retry-After") != c.retryAfter {
				t.Fatalf("got %s Retry-After %q, want %d %q", r, r.Header.Get("Retry-After"), c.want, c.retryAfter)
			}
			if p := r.Problem(t); strings.Contains(string(r.Body), "10.1.2.3") {
				t.Errorf("the answer leaks internals: %+v", p)
			}
			if got := strings.Contains(logs.String(), "10.1.2.3"); got != c.logged {
				t.Errorf("cause logged = %v, want %v; log %s", got, c.logged, logs)
			}
		})
	}
}
