package eslog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/es/estest"
)

func TestShipsRecordsInECSShape(t *testing.T) {
	c := estest.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := eslog.New(c, eslog.Config{Service: "switchboard-test", FlushInterval: 50 * time.Millisecond})
	if err := s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	var stderr bytes.Buffer
	log := slog.New(s.Handler(slog.NewJSONHandler(&stderr, nil))).With("component", "tickets")
	log.Info("ticket created", "ticket_id", "T-1", "request_id", "r1", "custom", 42)
	log.Error("storage failed", "err", errors.New("connection refused"), "status", 503)
	log.Debug("not shipped")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "ticket created") {
		t.Fatalf("records were not passed on to the next handler: %q", stderr.String())
	}
	if err := c.Refresh(context.Background(), s.Alias()); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	q := map[string]any{"sort": []any{map[string]any{"@timestamp": "asc"}}}
	if err := c.Do(context.Background(), http.MethodPost, "/"+s.Alias()+"/_search", q, &res); err != nil {
		t.Fatal(err)
	}
	if got := len(res.Hits.Hits); got != 2 {
		t.Fatalf("shipped %d records, want 2 (debug is below the level)", got)
	}
	first, second := res.Hits.Hits[0].Source, res.Hits.Hits[1].Source
	checks := []struct{ name, got, want string }{
		{"ticket_id", str(first["ticket_id"]), "T-1"},
		{"component", str(first["component"]), "tickets"},
		{"service", str(first["service"].(map[string]any)["name"]), "switchboard-test"},
		{"label", str(first["labels"].(map[string]any)["custom"]), "42"},
		{"level", str(second["log"].(map[string]any)["level"]), "error"},
		{"error", str(second["error"].(map[string]any)["message"]), "connection refused"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if s.Shipped() != 2 || s.Dropped() != 0 {
		t.Errorf("shipped=%d dropped=%d, want 2 and 0", s.Shipped(), s.Dropped())
	}
}

// TestNeverBlocksWhenClusterIsDown logs far more than the buffer holds at a
// cluster that does not exist: logging must not block, and counts the drops.
func TestNeverBlocksWhenClusterIsDown(t *testing.T) {
	c, err := es.New(es.Config{URLs: []string{"http://127.0.0.1:1"}, Prefix: "nowhere", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := eslog.New(c, eslog.Config{BufferSize: 10})
	log := slog.New(s.Handler(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	// Nothing drains the queue (Run is not started), so a blocking handler
	// would hang here; a non-blocking one keeps 10 and drops the rest.
	for i := range 1000 {
		log.Info("hello", "i", i)
	}
	if s.Dropped() != 990 {
		t.Fatalf("dropped = %d, want 990", s.Dropped())
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
