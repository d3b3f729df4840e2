// Package estest gives tests a real Elasticsearch: a Client on the cluster
// named by SWITCHBOARD_TEST_ES_URL (which `make test` starts, throwaway, on a
// free port) with a prefix unique to the test, and removal of everything
// under that prefix when the test ends. Tests are therefore independent and
// may run in parallel on one cluster.
package estest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// EnvURL names the environment variable holding the test cluster's URL.
const EnvURL = "SWITCHBOARD_TEST_ES_URL"

// URL returns the test cluster's URL. Without one, the test is skipped with
// a message naming the command that provides it; under CI (CI=true) or
// `make test` (SWITCHBOARD_REQUIRE_ES=1) it fails instead, so that no
// integration test is silently skipped there.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" || os.Getenv("SWITCHBOARD_REQUIRE_ES") == "1" {
			t.Fatalf("%s is not set; run the tests with `make test`, which starts Elasticsearch", EnvURL)
		}
		t.Skipf("needs Elasticsearch: run `make test` (it starts a throwaway node), or set %s", EnvURL)
	}
	return u
}

// Client returns a client whose prefix is unique to this test; every index,
// alias and template under it is deleted when the test ends.
func Client(t testing.TB) *es.Client {
	t.Helper()
	c, err := es.New(es.Config{URLs: []string{URL(t)}, Prefix: Prefix(t)})
	if err != nil {
		t.Fatalf("estest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("estest: test cluster not reachable: %v", err)
	}
	t.Cleanup(func() { Cleanup(t, c) })
	return c
}

// Prefix returns a fresh index prefix derived from the test's name.
func Prefix(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, name)
	if len(name) > 30 {
		name = name[:30]
	}
	return "t_" + name + "_" + hex.EncodeToString(b[:])
}

// Cleanup deletes the indices and index templates under c's prefix. It names
// each index explicitly because clusters refuse wildcard deletes by default.
func Cleanup(t testing.TB, c *es.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var indices []struct {
		Index string `json:"index"`
	}
	if err := c.Do(ctx, http.MethodGet, "/_cat/indices/"+c.Prefix()+"-*?format=json&expand_wildcards=all", nil, &indices); err != nil {
		t.Logf("estest: list indices: %v", err)
	}
	for _, ix := range indices {
		if err := c.Do(ctx, http.MethodDelete, "/"+ix.Index, nil, nil); err != nil && es.StatusOf(err) != http.StatusNotFound {
			t.Logf("estest: delete %s: %v", ix.Index, err)
		}
	}
	var templates struct {
		IndexTemplates []struct {
			Name string `json:"name"`
		} `json:"index_templates"`
	}
	if err := c.Do(ctx, http.MethodGet, "/_index_template/"+c.Prefix()+"-*", nil, &templates); err != nil && es.StatusOf(err) != http.StatusNotFound {
		t.Logf("estest: list templates: %v", err)
	}
	for _, tm := range templates.IndexTemplates {
		if err := c.Do(ctx, http.MethodDelete, "/_index_template/"+tm.Name, nil, nil); err != nil {
			t.Logf("estest: delete template %s: %v", tm.Name, err)
		}
	}
}
