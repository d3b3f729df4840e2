package nlu

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

// TestRetiredModelClosesAfterLastRequest holds a request's reference
// across a swap: the retired model must keep answering it, and close only
// when that reference is released.
func TestRetiredModelClosesAfterLastRequest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, v := range []string{"2026-01-01.1", "2026-02-01.1"} {
		src, dst := filepath.Join("testdata", "models", "category", v), filepath.Join(dir, "category", v)
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	setProduction := func(v string) {
		b, _ := json.Marshal(Manifest{Tasks: map[string]TaskVersions{"category": {Production: v}}})
		if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setProduction("2026-01-01.1")
	s, err := Open(ctx, orttest.Runtime(t), Config{Dir: dir}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	old, _, _, err := s.acquire(TaskCategory) // a request in flight
	if err != nil {
		t.Fatal(err)
	}
	setProduction("2026-02-01.1")
	if err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Classify(ctx, "hello"); err != nil || c.ModelVersion != "2026-02-01.1" {
		t.Fatalf("new requests: %+v, %v", c, err)
	}
	if n := old.refs.Load(); n != 1 {
		t.Fatalf("retired model holds %d references, want 1 (the request's)", n)
	}
	if _, err := old.model.Run(ctx, "still serving the request in flight"); err != nil {
		t.Fatalf("the retired model failed its request in flight: %v", err)
	}
	old.release()
	if _, err := old.model.Run(ctx, "after the last release"); err == nil {
		t.Fatal("the retired model still runs after its last release: it was never closed")
	}
}
