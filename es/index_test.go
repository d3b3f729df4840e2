package es_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
)

// TestEnsureMigratesWithoutLoss raises an index's version after documents
// were written and checks that every document is still readable through the
// alias, now backed by the new concrete index with the new mapping.
func TestEnsureMigratesWithoutLoss(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	v1 := es.Index{Name: "things", Version: 1, Mappings: map[string]any{"properties": map[string]any{"a": map[string]any{"type": "keyword"}}}}
	if err := c.Ensure(ctx, log, v1); err != nil {
		t.Fatal(err)
	}
	if err := c.Ensure(ctx, log, v1); err != nil { // idempotent
		t.Fatalf("second Ensure: %v", err)
	}
	alias := c.Name("things")
	const n = 1234 // more than one scroll page
	var body []byte
	for i := range n {
		body = fmt.Appendf(body, `{"index":{"_index":%q,"_id":"d%d"}}`+"\n"+`{"a":"x%d"}`+"\n", alias, i, i)
	}
	if _, err := c.Bulk(ctx, body, "true"); err != nil {
		t.Fatal(err)
	}
	v2 := v1
	v2.Version = 2
	v2.Mappings = map[string]any{"properties": map[string]any{"a": map[string]any{"type": "keyword"}, "b": map[string]any{"type": "long"}}}
	if err := c.Ensure(ctx, log, v2); err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(ctx, alias); err != nil {
		t.Fatal(err)
	}
	var count struct {
		Count int `json:"count"`
	}
	if err := c.Do(ctx, http.MethodGet, "/"+alias+"/_count", nil, &count); err != nil {
		t.Fatal(err)
	}
	if count.Count != n {
		t.Fatalf("after migration the alias holds %d documents, want %d", count.Count, n)
	}
	var aliases map[string]any
	if err := c.Do(ctx, http.MethodGet, "/_alias/"+alias, nil, &aliases); err != nil {
		t.Fatal(err)
	}
	if _, ok := aliases[c.Concrete(v2)]; !ok || len(aliases) != 1 {
		t.Fatalf("alias points at %v, want only %s", aliases, c.Concrete(v2))
	}
}

func TestErrorsAreDecoded(t *testing.T) {
	c := estest.Client(t)
	err := c.Do(context.Background(), http.MethodGet, "/"+c.Name("missing")+"/_doc/1", nil, nil)
	if es.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("status = %d (%v), want 404", es.StatusOf(err), err)
	}
	err = c.Do(context.Background(), http.MethodPut, "/"+c.Name("bad"), map[string]any{"settings": map[string]any{"number_of_shards": "lots"}}, nil)
	if es.StatusOf(err) != http.StatusBadRequest || !es.IsType(err, "illegal_argument_exception") {
		t.Fatalf("err = %v, want a 400 illegal_argument_exception", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  es.Config
		ok   bool
	}{
		{"ok", es.Config{URLs: []string{"http://127.0.0.1:9200"}, Prefix: "switchboard"}, true},
		{"no url", es.Config{Prefix: "switchboard"}, false},
		{"bad scheme", es.Config{URLs: []string{"ftp://x"}, Prefix: "switchboard"}, false},
		{"upper prefix", es.Config{URLs: []string{"http://x:9200"}, Prefix: "Switch"}, false},
		{"wildcard prefix", es.Config{URLs: []string{"http://x:9200"}, Prefix: "a*"}, false},
		{"missing ca", es.Config{URLs: []string{"https://x:9200"}, Prefix: "s", CAFile: "/nonexistent.pem"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
