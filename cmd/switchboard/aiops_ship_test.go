package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es/estest"
)

// TestShipLogs starts the server and ships a log file to it with
// `switchboard aiops ship`: good lines land in the logs indices with
// template ids, bad ones are counted.
func TestShipLogs(t *testing.T) {
	esURL := estest.URL(t)
	prefix := estest.Prefix(t)
	c := mustClient(t, esURL, prefix)
	t.Cleanup(func() { estest.Cleanup(t, c) })
	addr := freeAddr(t)
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--es-url", esURL, "--index-prefix", prefix, "--addr", addr, "--log-level", "warn", "--models-dir", ""}, nil, out, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), "Switchboard is running"); {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitHTTP(t, "http://"+addr+"/readyz")
	secret := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out.String())[1]

	file := filepath.Join(t.TempDir(), "app.log")
	var lines []string
	for i := range 250 {
		lines = append(lines, `{"message":"upstream timeout after `+strings.Repeat("1", 1+i%4)+`ms calling acquirer","log.level":"error"}`)
	}
	lines = append(lines, "not json at all", `{"message":""}`)
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shipped := &syncBuffer{}
	code := run(context.Background(), []string{"aiops", "ship", "--url", "http://" + addr, "--client-id", "admin",
		"--client-secret", secret, "--service", "payment-gw", "--batch", "100", file}, nil, shipped, io.Discard)
	if code != 0 {
		t.Fatalf("ship exited %d: %s", code, shipped)
	}
	if !strings.Contains(shipped.String(), "250 lines taken, 2 rejected") {
		t.Errorf("ship printed %q", shipped)
	}
	if err := c.Refresh(context.Background(), c.Name("logs")+"-*"); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
		Aggregations struct {
			T struct {
				Buckets []struct{ Key string } `json:"buckets"`
			} `json:"t"`
		} `json:"aggregations"`
	}
	q := map[string]any{"size": 0, "track_total_hits": true,
		"query": map[string]any{"term": map[string]any{"service.name": "payment-gw"}},
		"aggs":  map[string]any{"t": map[string]any{"terms": map[string]any{"field": "template_id"}}}}
	if err := c.Do(context.Background(), http.MethodPost, "/"+c.Name("logs")+"/_search", q, &res); err != nil {
		t.Fatal(err)
	}
	if res.Hits.Total.Value != 250 || len(res.Aggregations.T.Buckets) != 1 {
		t.Errorf("stored %d lines of payment-gw with templates %v; want 250 under one template", res.Hits.Total.Value, res.Aggregations.T.Buckets)
	}
}
