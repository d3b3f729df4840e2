package nlu_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

// Versions of the tiny test models in testdata/models (gen_models.py).
const (
	cat1   = "2026-01-01.1" // trained
	cat2   = "2026-02-01.1" // undertrained: disagrees with cat1 now and then
	intent = "2026-01-01.1"
	sent   = "2026-01-01.1"
	embed  = "tiny-embed.1"
)

// modelsDir copies testdata/models into a fresh directory, so a test may
// add versions and rewrite the manifest, and writes manifest m there.
func modelsDir(t testing.TB, m nlu.Manifest) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "models"))); err != nil {
		t.Fatalf("copy models: %v", err)
	}
	writeManifest(t, dir, m)
	return dir
}

// writeManifest replaces dir's manifest atomically, as a deployment does.
func writeManifest(t testing.TB, dir string, m nlu.Manifest) {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".manifest.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, nlu.ManifestFile)); err != nil {
		t.Fatal(err)
	}
}

// manifest builds a manifest of production versions, "task=version".
func manifest(pairs ...string) nlu.Manifest {
	m := nlu.Manifest{Tasks: map[string]nlu.TaskVersions{}}
	for _, p := range pairs {
		task, version, _ := strings.Cut(p, "=")
		m.Tasks[task] = nlu.TaskVersions{Production: version}
	}
	return m
}

// all is a manifest serving every test model.
func all() nlu.Manifest {
	return manifest("category="+cat1, "intent="+intent, "sentiment="+sent, "embed="+embed)
}

// copyVersion copies task/from to task/to in dir, setting card.version,
// and lets edit change the new directory before it is named anywhere.
func copyVersion(t testing.TB, dir, task, from, to string, edit func(vdir string)) {
	t.Helper()
	src, dst := filepath.Join(dir, task, from), filepath.Join(dir, task, to)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.onnx", "tokenizer.json", "labels.json", "card.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	editCard(t, dst, func(c map[string]any) { c["version"] = to })
	if edit != nil {
		edit(dst)
	}
}

// editCard rewrites vdir/card.json through edit.
func editCard(t testing.TB, vdir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(vdir, "card.json")
	var c map[string]any
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	edit(c)
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// env is a Service on real models with its metrics registry.
type env struct {
	svc *nlu.Service
	reg *prometheus.Registry
	dir string
}

// open starts a Service on dir; cfg's Dir and Registerer are set here.
func open(t testing.TB, dir string, cfg nlu.Config, d nlu.Deps) *env {
	t.Helper()
	rt := orttest.Runtime(t)
	reg := prometheus.NewRegistry()
	cfg.Dir, cfg.Registerer = dir, reg
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := nlu.Open(ctx, rt, cfg, d)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Registered after the runtime's cleanup, so it runs before it.
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{svc: svc, reg: reg, dir: dir}
}

// testWriter sends log lines to t.Log, so they show with the failure.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// metric returns the value of the counter or gauge name with the given
// labels, or the sample count of a histogram; 0 if absent.
func (e *env) metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
