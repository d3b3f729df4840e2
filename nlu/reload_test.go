package nlu_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu"
)

// TestHotReloadUnderLoad switches the production category model back and
// forth while eight goroutines classify without pause: no request may
// fail, and both versions must answer.
func TestHotReloadUnderLoad(t *testing.T) {
	dir := modelsDir(t, manifest("category="+cat1))
	e := open(t, dir, nlu.Config{Reload: 100 * time.Millisecond, MaxBatch: 8, Window: time.Millisecond}, nlu.Deps{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Watch polls too, racing the explicit reloads below, as a deployment
	// and an operator's POST would.
	watched := make(chan error, 1)
	go func() { watched <- e.svc.Watch(ctx) }()

	var (
		stop     atomic.Bool
		requests atomic.Int64
		mu       sync.Mutex
		failures []error
		seen     = map[string]int{}
		wg       sync.WaitGroup
	)
	texts := []string{"where is my parcel", "i want a refund", "my card payment failed", "the app crashes", "😀 hello"}
	for g := range 8 {
		wg.Go(func() {
			for k := g; !stop.Load(); k++ {
				c, err := e.svc.Classify(ctx, texts[k%len(texts)])
				requests.Add(1)
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					seen[c.ModelVersion]++
				}
				mu.Unlock()
			}
		})
	}
	const swaps = 20
	for k := range swaps {
		v := cat1
		if k%2 == 0 {
			v = cat2
		}
		writeManifest(t, dir, manifest("category="+v))
		if err := e.svc.Reload(ctx); err != nil {
			t.Errorf("reload %d to %s: %v", k, v, err)
		}
		if got := e.svc.Status().Tasks[0].Production.Version; got != v {
			t.Errorf("after reload %d: serving %s, want %s", k, got, v)
		}
		time.Sleep(20 * time.Millisecond) // let requests land on this version
	}
	stop.Store(true)
	wg.Wait()
	cancel()
	if err := <-watched; err != nil {
		t.Errorf("Watch returned %v", err)
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during reloads, first: %v", len(failures), requests.Load(), failures[0])
	}
	if seen[cat1] == 0 || seen[cat2] == 0 {
		t.Fatalf("versions seen %v, want both", seen)
	}
	if n := e.metric(t, "switchboard_nlu_model_swaps_total", map[string]string{"task": "category", "role": "production"}); n < swaps {
		t.Errorf("production swaps = %v, want at least %d", n, swaps)
	}
	t.Logf("%d requests, by version %v", requests.Load(), seen)
}

// TestRefusesBrokenVersion names broken versions in the manifest: each is
// refused, the version before keeps serving, and Status says why.
func TestRefusesBrokenVersion(t *testing.T) {
	ctx := context.Background()
	write := func(name string, b []byte) func(string) {
		return func(vdir string) {
			if err := os.WriteFile(filepath.Join(vdir, name), b, 0o644); err != nil {
				panic(err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		task string
		from string
		edit func(t *testing.T, vdir string)
		// want is part of the reason Status must show.
		want string
	}{
		{name: "corrupt model", task: "category", from: cat1, want: "bad model file",
			edit: func(t *testing.T, vdir string) { write("model.onnx", []byte("this is not a protobuf"))(vdir) }},
		{name: "truncated model", task: "category", from: cat1, want: "bad model file",
			edit: func(t *testing.T, vdir string) {
				b, _ := os.ReadFile(filepath.Join(vdir, "model.onnx"))
				write("model.onnx", b[:len(b)/3])(vdir)
			}},
		{name: "missing tokenizer", task: "category", from: cat1, want: "missing tokenizer.json",
			edit: func(t *testing.T, vdir string) { _ = os.Remove(filepath.Join(vdir, "tokenizer.json")) }},
		{name: "labels one short", task: "category", from: cat1, want: "7 labels",
			edit: func(t *testing.T, vdir string) {
				write("labels.json", []byte(`["logistics","returns_refunds","account_login","billing_payment","product_quality","technical_fault","complaint"]`))(vdir)
			}},
		{name: "duplicate labels", task: "category", from: cat1, want: "twice",
			edit: func(t *testing.T, vdir string) {
				write("labels.json", []byte(`["logistics","logistics","account_login","billing_payment","product_quality","technical_fault","complaint","general_inquiry"]`))(vdir)
			}},
		{name: "model output shape unlike the card", task: "category", from: cat1, want: "shape mismatch",
			edit: func(t *testing.T, vdir string) {
				// Card and labels agree on 7 classes; the network has 8.
				write("labels.json", []byte(`["logistics","returns_refunds","account_login","billing_payment","product_quality","technical_fault","complaint"]`))(vdir)
				editCard(t, vdir, func(c map[string]any) {
					c["outputs"] = []any{map[string]any{"name": "logits", "dtype": "float32", "shape": []any{-1, 7}}}
				})
			}},
		{name: "card input name mismatch", task: "category", from: cat1, want: `input "ids"`,
			edit: func(t *testing.T, vdir string) {
				editCard(t, vdir, func(c map[string]any) {
					c["inputs"] = []any{
						map[string]any{"name": "ids", "dtype": "int64", "shape": []any{-1, -1}},
						map[string]any{"name": "attention_mask", "dtype": "int64", "shape": []any{-1, -1}},
					}
				})
			}},
		{name: "card names another task", task: "category", from: cat1, want: `task "intent" does not match`,
			edit: func(t *testing.T, vdir string) { editCard(t, vdir, func(c map[string]any) { c["task"] = "intent" }) }},
		{name: "an embedder as the category model", task: "embed", from: embed, want: "needs a classifier"},
		{name: "out of scope label not a label", task: "intent", from: intent, want: "out_of_scope_label",
			edit: func(t *testing.T, vdir string) {
				editCard(t, vdir, func(c map[string]any) { c["out_of_scope_label"] = "nonsense" })
			}},
		{name: "threshold above one", task: "category", from: cat1, want: "thresholds.confidence",
			edit: func(t *testing.T, vdir string) {
				editCard(t, vdir, func(c map[string]any) { c["thresholds"] = map[string]any{"confidence": 1.5} })
			}},
		{name: "missing directory", task: "category", from: "", want: "missing model.onnx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task, bad := tc.task, "broken.1"
			if tc.task == "embed" {
				task = "category"
			}
			good := manifest(task + "=" + map[string]string{"category": cat1, "intent": intent}[task])
			dir := modelsDir(t, good)
			e := open(t, dir, nlu.Config{Reload: 100 * time.Millisecond}, nlu.Deps{})
			if tc.task == "embed" {
				// An embedder deployed as the category model.
				if err := os.MkdirAll(filepath.Join(dir, "category"), 0o755); err != nil {
					t.Fatal(err)
				}
				copyVersion(t, dir, "embed", embed, bad, func(vdir string) {
					editCard(t, vdir, func(c map[string]any) { c["task"] = "category" })
				})
				if err := os.Rename(filepath.Join(dir, "embed", bad), filepath.Join(dir, "category", bad)); err != nil {
					t.Fatal(err)
				}
			} else if tc.from != "" {
				copyVersion(t, dir, task, tc.from, bad, func(vdir string) { tc.edit(t, vdir) })
			}
			before := e.svc.Status()
			writeManifest(t, dir, manifest(task+"="+bad))

			err := e.svc.Reload(ctx)
			if !errors.Is(err, nlu.ErrRefused) {
				t.Fatalf("Reload: err = %v, want ErrRefused", err)
			}
			st := taskStatus(t, e.svc.Status(), task)
			old := taskStatus(t, before, task).Production.Version
			if st.Production == nil || st.Production.Version != old || st.WantedProduction != bad {
				t.Errorf("status %+v: want %s serving, %s wanted", st, old, bad)
			}
			// The paths name the test; the reason must not need them.
			reason := strings.ReplaceAll(st.LastError, dir, "")
			if st.LastErrorAt == nil || !strings.Contains(reason, tc.want) {
				t.Errorf("last error %q at %v, want one mentioning %q", st.LastError, st.LastErrorAt, tc.want)
			}
			if err := probe(ctx, e.svc, task); err != nil {
				t.Errorf("the old version stopped serving: %v", err)
			}
			if n := e.metric(t, "switchboard_nlu_reload_failures_total", map[string]string{"task": task}); n != 1 {
				t.Errorf("reload failures = %v, want 1", n)
			}
			// Watch does not retry an unchanged broken directory.
			watchFor(t, e.svc, 350*time.Millisecond)
			if n := e.metric(t, "switchboard_nlu_reload_failures_total", map[string]string{"task": task}); n != 1 {
				t.Errorf("reload failures after polling = %v, want still 1", n)
			}
			// Rolling the manifest back clears the error.
			writeManifest(t, dir, good)
			if err := e.svc.Reload(ctx); err != nil {
				t.Fatalf("Reload after rollback: %v", err)
			}
			if st := taskStatus(t, e.svc.Status(), task); st.LastError != "" {
				t.Errorf("after rollback: last error %q", st.LastError)
			}
		})
	}
}

// watchFor runs Watch with its configured interval for d.
func watchFor(t *testing.T, svc *nlu.Service, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := svc.Watch(ctx); err != nil {
		t.Errorf("Watch: %v", err)
	}
}

func taskStatus(t *testing.T, st nlu.Status, task string) nlu.TaskStatus {
	t.Helper()
	for _, ts := range st.Tasks {
		if ts.Task == task {
			return ts
		}
	}
	t.Fatalf("no status for task %s in %+v", task, st)
	return nlu.TaskStatus{}
}

// probe runs one request of task.
func probe(ctx context.Context, svc *nlu.Service, task string) error {
	var err error
	switch task {
	case nlu.TaskCategory:
		_, err = svc.Classify(ctx, "where is my parcel")
	case nlu.TaskIntent:
		_, err = svc.Intent(ctx, "where is my parcel")
	case nlu.TaskSentiment:
		_, err = svc.Sentiment(ctx, "where is my parcel")
	case nlu.TaskEmbed:
		_, _, err = svc.EmbedOne(ctx, "where is my parcel")
	default:
		err = fmt.Errorf("no probe for %s", task)
	}
	return err
}

// TestWatch checks that polling picks up a manifest change, a version
// directory that appears after the manifest named it, and the removal of
// a task; and that a bad manifest is refused while the models serve on.
func TestWatch(t *testing.T) {
	dir := modelsDir(t, manifest("category="+cat1, "sentiment="+sent))
	e := open(t, dir, nlu.Config{Reload: 100 * time.Millisecond}, nlu.Deps{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.svc.Watch(ctx) }()
	serving := func(task string) string {
		for _, ts := range e.svc.Status().Tasks {
			if ts.Task == task && ts.Production != nil {
				return ts.Production.Version
			}
		}
		return ""
	}

	writeManifest(t, dir, manifest("category="+cat2, "sentiment="+sent))
	eventually(t, 5*time.Second, "category "+cat2, func() bool { return serving("category") == cat2 })

	// Named before it exists (a copy still on its way): refused, then
	// served once the directory is complete.
	writeManifest(t, dir, manifest("category=late.1", "sentiment="+sent))
	eventually(t, 5*time.Second, "the refusal of late.1", func() bool {
		return taskStatus(t, e.svc.Status(), "category").LastError != ""
	})
	copyVersion(t, dir, "category", cat1, "late.1", nil)
	eventually(t, 5*time.Second, "category late.1", func() bool { return serving("category") == "late.1" })

	// A manifest that does not parse changes nothing.
	if err := os.WriteFile(filepath.Join(dir, nlu.ManifestFile), []byte(`{"tasks": {"category": `), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the manifest error", func() bool { return e.svc.Status().ManifestError != "" })
	if serving("category") != "late.1" || serving("sentiment") != sent {
		t.Errorf("a bad manifest changed what serves: %+v", e.svc.Status())
	}
	if err := e.svc.Reload(ctx); !errors.Is(err, nlu.ErrRefused) {
		t.Errorf("Reload with a bad manifest: err = %v, want ErrRefused", err)
	}

	// Removing a task from the manifest retires it.
	writeManifest(t, dir, manifest("category=late.1"))
	eventually(t, 5*time.Second, "sentiment retired", func() bool { return serving("sentiment") == "" })
	if _, err := e.svc.Sentiment(ctx, "great"); !errors.Is(err, nlu.ErrUnavailable) {
		t.Errorf("retired task: err = %v, want ErrUnavailable", err)
	}
	if st := e.svc.Status(); st.ManifestError != "" {
		t.Errorf("manifest error %q after a good manifest", st.ManifestError)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
}

// TestManifestRefusals checks manifests that parse but cannot be obeyed.
func TestManifestRefusals(t *testing.T) {
	for _, tc := range []struct{ name, manifest string }{
		{"escaping version", `{"tasks": {"category": {"production": "../../etc"}}}`},
		{"no production", `{"tasks": {"category": {"candidate": "` + cat2 + `"}}}`},
		{"bad task name", `{"tasks": {"Category/x": {"production": "` + cat1 + `"}}}`},
		{"not an object", `["category"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := nlu.ParseManifest([]byte(tc.manifest)); !errors.Is(err, nlu.ErrRefused) {
				t.Errorf("ParseManifest: err = %v, want ErrRefused", err)
			}
		})
	}
	m, err := nlu.ParseManifest([]byte(`{"tasks": {"category": {"production": "a.1", "candidate": "b.2", "previous": ["z.0"]}}, "comment": "newer field"}`))
	if err != nil || m.Tasks["category"].Candidate != "b.2" {
		t.Errorf("ParseManifest: %+v, %v", m, err)
	}
}
