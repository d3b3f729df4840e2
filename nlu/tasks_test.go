package nlu_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu"
)

// golden is one line of testdata/golden.jsonl: what PyTorch computed.
type golden struct {
	Task      string    `json:"task"`
	Version   string    `json:"version"`
	Text      string    `json:"text"`
	Logits    []float64 `json:"logits"`
	Embedding []float64 `json:"embedding"`
}

func readGolden(t *testing.T) []golden {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []golden
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var g golden
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		t.Fatal("no golden records")
	}
	return out
}

// card is the part of a test model's card the expectations need.
type card struct {
	Calibration struct {
		Temperature float64 `json:"temperature"`
	} `json:"calibration"`
	Thresholds struct {
		Confidence float64 `json:"confidence"`
		OutOfScope float64 `json:"out_of_scope"`
		Escalation float64 `json:"escalation"`
	} `json:"thresholds"`
	OutOfScopeLabel string `json:"out_of_scope_label"`
}

func readCard(t *testing.T, task, version string) (card, []string) {
	t.Helper()
	dir := filepath.Join("testdata", "models", task, version)
	var c card
	var labels []string
	for f, v := range map[string]any{"card.json": &c, "labels.json": &labels} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return c, labels
}

// softmax is the reference calibration, in float64 from PyTorch's logits.
func softmax(logits []float64, temp float64) []float64 {
	m := slices.Max(logits)
	out := make([]float64, len(logits))
	var sum float64
	for k, l := range logits {
		out[k] = math.Exp((l - m) / temp)
		sum += out[k]
	}
	for k := range out {
		out[k] /= sum
	}
	return out
}

func argmax(p []float64) int {
	best := 0
	for k, v := range p {
		if v > p[best] {
			best = k
		}
	}
	return best
}

const tol = 1e-4

// TestGolden checks every answer against PyTorch's logits for the same
// texts: tokenizer, ONNX model and calibration together.
func TestGolden(t *testing.T) {
	envs := map[string]*env{}
	for _, v := range []string{cat1, cat2} {
		envs[v] = open(t, modelsDir(t, manifest("category="+v, "intent="+intent, "sentiment="+sent, "embed="+embed)), nlu.Config{}, nlu.Deps{})
	}
	ctx := context.Background()
	for _, g := range readGolden(t) {
		t.Run(g.Task+"/"+g.Version+"/"+g.Text, func(t *testing.T) {
			e := envs[cat1]
			if g.Task == nlu.TaskCategory {
				e = envs[g.Version]
			}
			if g.Task == nlu.TaskEmbed {
				v, version, err := e.svc.EmbedOne(ctx, g.Text)
				if err != nil {
					t.Fatal(err)
				}
				if version != g.Version || len(v) != len(g.Embedding) {
					t.Fatalf("version %s dims %d, want %s %d", version, len(v), g.Version, len(g.Embedding))
				}
				for k := range v {
					if math.Abs(float64(v[k])-g.Embedding[k]) > tol {
						t.Fatalf("embedding[%d] = %v, want %v", k, v[k], g.Embedding[k])
					}
				}
				return
			}
			c, labels := readCard(t, g.Task, g.Version)
			p := softmax(g.Logits, c.Calibration.Temperature)
			best := argmax(p)
			switch g.Task {
			case nlu.TaskCategory:
				r, err := e.svc.Classify(ctx, g.Text)
				if err != nil {
					t.Fatal(err)
				}
				checkClassification(t, r, labels, p, g.Version, c.Thresholds.Confidence)
			case nlu.TaskIntent:
				r, err := e.svc.Intent(ctx, g.Text)
				if err != nil {
					t.Fatal(err)
				}
				oos := labels[best] == c.OutOfScopeLabel || p[best] < c.Thresholds.OutOfScope
				if r.OutOfScope != oos {
					t.Errorf("out_of_scope = %v, want %v (top %s %.3f)", r.OutOfScope, oos, labels[best], p[best])
				}
				want := r.Classification
				if oos {
					if r.Label != nlu.OutOfScope {
						t.Errorf("label %q for an out-of-scope utterance", r.Label)
					}
					want.Label = labels[best]
				}
				checkClassification(t, want, labels, p, g.Version, c.Thresholds.Confidence)
			case nlu.TaskSentiment:
				r, err := e.svc.Sentiment(ctx, g.Text)
				if err != nil {
					t.Fatal(err)
				}
				if r.Label != labels[best] || math.Abs(r.Score-p[best]) > tol || r.ModelVersion != g.Version {
					t.Errorf("got %s %.4f %s, want %s %.4f %s", r.Label, r.Score, r.ModelVersion, labels[best], p[best], g.Version)
				}
				for k, l := range labels {
					if math.Abs(r.Probs[l]-p[k]) > tol {
						t.Errorf("P(%s) = %v, want %v", l, r.Probs[l], p[k])
					}
				}
				neg := p[slices.Index(labels, "negative")]
				if r.EscalationRisk != (neg >= c.Thresholds.Escalation) {
					t.Errorf("escalation risk %v with P(negative) %.3f and threshold %v", r.EscalationRisk, neg, c.Thresholds.Escalation)
				}
			}
		})
	}
}

func checkClassification(t *testing.T, r nlu.Classification, labels []string, p []float64, version string, threshold float64) {
	t.Helper()
	best := argmax(p)
	if r.Label != labels[best] || math.Abs(r.Confidence-p[best]) > tol || r.ModelVersion != version {
		t.Errorf("got %s %.4f %s, want %s %.4f %s", r.Label, r.Confidence, r.ModelVersion, labels[best], p[best], version)
	}
	wantSource := nlu.SourceAuto
	if p[best] < threshold {
		wantSource = nlu.SourceNeedsReview
	}
	if r.Source != wantSource {
		t.Errorf("source %s at confidence %.3f, threshold %v", r.Source, p[best], threshold)
	}
	if len(r.Alternatives) != 3 || r.Alternatives[0].Label != r.Label {
		t.Fatalf("alternatives %v: want 3, the winner first", r.Alternatives)
	}
	for k, a := range r.Alternatives {
		i := slices.Index(labels, a.Label)
		if i < 0 || math.Abs(a.Score-p[i]) > tol || (k > 0 && a.Score > r.Alternatives[k-1].Score) {
			t.Errorf("alternative %d %v: want a label scored P=%v, in descending order", k, a, p[max(i, 0)])
		}
	}
}

// TestInputs checks that every kind of text gets a defined answer: blank
// ones ErrEmptyText, anything else a valid result.
func TestInputs(t *testing.T) {
	e := open(t, modelsDir(t, all()), nlu.Config{}, nlu.Deps{})
	ctx := context.Background()
	_, catLabels := readCard(t, nlu.TaskCategory, cat1)
	for _, tc := range []struct {
		name, text string
		empty      bool
	}{
		{name: "empty", text: "", empty: true},
		{name: "spaces", text: " \t\n\r ", empty: true},
		{name: "ideographic space", text: "\u3000\u00a0", empty: true},
		{name: "one megabyte", text: strings.Repeat("where is my parcel ", 1<<20/19)},
		{name: "one megabyte without spaces", text: strings.Repeat("x", 1<<20)},
		{name: "binary", text: "\x00\x01\xff\xfe\x80 \x7f\xc3\x28"},
		{name: "emoji only", text: "😀😀😀👨‍👩‍👧🇨🇳"},
		{name: "mixed scripts", text: "我的订单还没到 where is my order? Привет مرحبا"},
		{name: "control characters", text: "\u0000\u0001\u200b\ufeff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(err error) bool {
				t.Helper()
				if tc.empty {
					if !errors.Is(err, nlu.ErrEmptyText) {
						t.Errorf("err = %v, want ErrEmptyText", err)
					}
					return false
				}
				if err != nil {
					t.Fatalf("err = %v, want a result", err)
				}
				return true
			}
			if c, err := e.svc.Classify(ctx, tc.text); check(err) {
				if !slices.Contains(catLabels, c.Label) || c.Confidence < 0 || c.Confidence > 1 || c.ModelVersion != cat1 {
					t.Errorf("classification %+v", c)
				}
			}
			if r, err := e.svc.Intent(ctx, tc.text); check(err) && r.Label == "" {
				t.Errorf("intent %+v", r)
			}
			if r, err := e.svc.Sentiment(ctx, tc.text); check(err) && len(r.Probs) != 3 {
				t.Errorf("sentiment %+v", r)
			}
			if v, _, err := e.svc.EmbedOne(ctx, tc.text); check(err) {
				var norm float64
				for _, x := range v {
					norm += float64(x) * float64(x)
				}
				if len(v) != 32 || math.Abs(norm-1) > 1e-3 {
					t.Errorf("embedding of %d dims, norm² %v", len(v), norm)
				}
			}
		})
	}
	t.Run("batch with an empty text", func(t *testing.T) {
		_, err := e.svc.ClassifyMany(ctx, []string{"where is my parcel", " ", "refund"})
		if !errors.Is(err, nlu.ErrEmptyText) || !strings.Contains(err.Error(), "text 1") {
			t.Errorf("err = %v, want ErrEmptyText naming text 1", err)
		}
	})
	if n := e.metric(t, "switchboard_nlu_requests_total", map[string]string{"task": "category", "outcome": "empty_text"}); n != 4 {
		t.Errorf("category empty_text requests = %v, want 4", n)
	}
}

// TestMany checks that the batch variants answer like the single ones.
func TestMany(t *testing.T) {
	e := open(t, modelsDir(t, all()), nlu.Config{}, nlu.Deps{})
	ctx := context.Background()
	texts := []string{"where is my parcel", "i want a refund", "this is terrible", "what is the weather", "😀"}
	cs, err := e.svc.ClassifyMany(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	is, err := e.svc.IntentMany(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := e.svc.SentimentMany(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	vs, version, err := e.svc.Embed(ctx, texts)
	if err != nil || version != embed || len(vs) != len(texts) {
		t.Fatalf("Embed: %d vectors, version %q, err %v", len(vs), version, err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-5 }
	for k, text := range texts {
		c, _ := e.svc.Classify(ctx, text)
		i, _ := e.svc.Intent(ctx, text)
		s, _ := e.svc.Sentiment(ctx, text)
		v, _, _ := e.svc.EmbedOne(ctx, text)
		if c.Label != cs[k].Label || !near(c.Confidence, cs[k].Confidence) ||
			i.Label != is[k].Label || !near(i.Confidence, is[k].Confidence) ||
			s.Label != ss[k].Label || !near(s.Score, ss[k].Score) || !near(float64(v[0]), float64(vs[k][0])) {
			t.Errorf("%q: single and batch answers differ", text)
		}
	}
	if n := e.metric(t, "switchboard_nlu_inference_duration_seconds", map[string]string{"task": "category", "version": cat1}); n != float64(1+len(texts)) {
		t.Errorf("category latency samples = %v, want %d", n, 1+len(texts))
	}
}

// TestReadable: the English embedding model reads English, not Chinese.
func TestReadable(t *testing.T) {
	e := open(t, modelsDir(t, all()), nlu.Config{}, nlu.Deps{})
	for text, want := range map[string]bool{
		"payment failed at checkout":    true,
		"where is my parcel 0123456789": true,
		"支付页面一直转圈然后支付失败":                false,
		"订单0123456789物流一直不更新":           false,
	} {
		if got := e.svc.Readable(text); got != want {
			t.Errorf("Readable(%q) = %v, want %v", text, got, want)
		}
	}
	none := open(t, modelsDir(t, manifest("category="+cat1)), nlu.Config{}, nlu.Deps{})
	if none.svc.Readable("payment failed") {
		t.Error("Readable without an embedding model")
	}
}

// TestUnavailable checks that tasks without a model answer ErrUnavailable
// naming the task, and that a Service without models runs.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		dir     func(t *testing.T) string
		serving []string
	}{
		{name: "no directory", dir: func(*testing.T) string { return "" }},
		{name: "no manifest", dir: func(t *testing.T) string { return t.TempDir() }},
		{name: "category only", dir: func(t *testing.T) string { return modelsDir(t, manifest("category="+cat1)) }, serving: []string{"category"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := open(t, tc.dir(t), nlu.Config{}, nlu.Deps{})
			calls := map[string]func() error{
				nlu.TaskCategory:  func() error { _, err := e.svc.Classify(ctx, "hello"); return err },
				nlu.TaskIntent:    func() error { _, err := e.svc.Intent(ctx, "hello"); return err },
				nlu.TaskSentiment: func() error { _, err := e.svc.Sentiment(ctx, "hello"); return err },
				nlu.TaskEmbed:     func() error { _, _, err := e.svc.EmbedOne(ctx, "hello"); return err },
			}
			for task, call := range calls {
				err := call()
				if slices.Contains(tc.serving, task) {
					if err != nil {
						t.Errorf("%s: %v", task, err)
					}
					continue
				}
				if !errors.Is(err, nlu.ErrUnavailable) || !strings.Contains(err.Error(), task) {
					t.Errorf("%s: err = %v, want ErrUnavailable naming the task", task, err)
				}
			}
			if _, err := e.svc.IntentHealth(ctx, time.Time{}, 10); !errors.Is(err, nlu.ErrUnavailable) {
				t.Errorf("IntentHealth without Elasticsearch: err = %v, want ErrUnavailable", err)
			}
			if got := len(e.svc.Status().Tasks); got != len(tc.serving) {
				t.Errorf("status lists %d tasks, want %d", got, len(tc.serving))
			}
		})
	}
}
