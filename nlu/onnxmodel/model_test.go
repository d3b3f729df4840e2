package onnxmodel_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/batch"
	"github.com/switchboard-cc/switchboard/nlu/onnxmodel"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/nlu/tokenize"
)

const version = "test.1"

// modelDir copies testdata/models/<task>/test.1 to a fresh <tmp>/<task>/test.1
// so a test may break it.
func modelDir(t testing.TB, task string) string {
	t.Helper()
	src := filepath.Join("testdata", "models", task, version)
	dst := filepath.Join(t.TempDir(), task, version)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func open(t testing.TB, rt *ort.Runtime, dir string, opts onnxmodel.Options) *onnxmodel.Model {
	t.Helper()
	m, err := onnxmodel.Open(context.Background(), rt, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func TestOpen(t *testing.T) {
	rt := orttest.Runtime(t)
	cases := []struct {
		task, kind string
		labels     int
		width      int
	}{
		{"category", onnxmodel.KindClassifier, 8, 8},
		{"embed", onnxmodel.KindEmbedder, 0, 32},
	}
	for _, c := range cases {
		t.Run(c.task, func(t *testing.T) {
			dir := modelDir(t, c.task)
			m := open(t, rt, dir, onnxmodel.Options{})
			if m.Dir() != dir || m.Card().Task != c.task || m.Card().Kind != c.kind || len(m.Labels()) != c.labels {
				t.Errorf("Dir %q Card %+v Labels %v", m.Dir(), m.Card(), m.Labels())
			}
			row, err := m.Run(context.Background(), "我的快递还没到")
			if err != nil || len(row) != c.width {
				t.Errorf("Run: %d columns, %v; want %d", len(row), err, c.width)
			}
		})
	}
}

type goldenRow struct {
	Text   string    `json:"text"`
	IDs    []int64   `json:"ids"`
	Output []float32 `json:"output"`
}

func readGolden(t testing.TB, task string) []goldenRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden", task+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []goldenRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r goldenRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatalf("no golden rows for %s", task)
	}
	return rows
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestMatchesPython compares Run with what make_models.py got from Python
// tokenizers + onnxruntime for the same texts: tokenization, padding and
// the session end to end.
func TestMatchesPython(t *testing.T) {
	rt := orttest.Runtime(t)
	for _, task := range []string{"category", "embed"} {
		t.Run(task, func(t *testing.T) {
			dir := modelDir(t, task)
			m := open(t, rt, dir, onnxmodel.Options{})
			tok, err := tokenize.Load(filepath.Join(dir, "tokenizer.json"), m.Card().MaxLength)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range readGolden(t, task) {
				ids, err := tok.Encode(g.Text)
				if err != nil || !slices.Equal(ids, g.IDs) {
					t.Errorf("%.30q: ids %v (%v), python %v", g.Text, ids, err, g.IDs)
				}
				got, err := m.Run(context.Background(), g.Text)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(got, g.Output); d > 1e-4 {
					t.Errorf("%.30q: max |go - python| = %g\n go     %v\n python %v", g.Text, d, got, g.Output)
				}
			}
		})
	}
}

// TestClassifierMakesSense: the fixture classifier was trained on keywords;
// a wiring mistake (labels order, mask, padding) shows up as wrong answers.
func TestClassifierMakesSense(t *testing.T) {
	rt := orttest.Runtime(t)
	m := open(t, rt, modelDir(t, "category"), onnxmodel.Options{})
	cases := map[string]string{
		"我的快递还没到 where is my package": "logistics",
		"I want a refund please":      "returns_refunds",
		"忘记密码 cannot login":           "account_login",
		"信用卡 charged twice":           "billing_payment",
	}
	for text, want := range cases {
		logits, err := m.Run(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		p := onnxmodel.Softmax(logits, m.Card().Calibration.Temperature)
		best := 0
		for i := range p {
			if p[i] > p[best] {
				best = i
			}
		}
		if got := m.Labels()[best]; got != want {
			t.Errorf("%q: %s (p=%.2f), want %s", text, got, p[best], want)
		}
	}
}

// TestOpenRefuses derives broken directories from the good ones; each must
// be refused with its own clear error.
func TestOpenRefuses(t *testing.T) {
	rt := orttest.Runtime(t)
	editJSON := func(file string, f func(v any) any) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if b, err = json.Marshal(f(v)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	card := func(f func(c map[string]any)) func(t *testing.T, dir string) {
		return editJSON("card.json", func(v any) any { f(v.(map[string]any)); return v })
	}
	cases := []struct {
		name   string
		task   string
		break_ func(t *testing.T, dir string)
		cause  error // also errors.Is, besides ErrInvalidModel
		msg    string
	}{
		{"corrupt model", "category", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "model.onnx")
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b[:len(b)/3], 0o644)
		}, ort.ErrBadModel, "model.onnx"},
		{"one label too many", "category", editJSON("labels.json", func(v any) any {
			return append(v.([]any), "extra_label")
		}), nil, "labels.json: 9 labels but card.outputs logits has 8 columns"},
		{"duplicate label", "category", editJSON("labels.json", func(v any) any {
			l := v.([]any)
			l[1] = l[0]
			return l
		}), nil, `labels.json: label "logistics" appears twice`},
		{"card output shape", "category", card(func(c map[string]any) {
			c["outputs"].([]any)[0].(map[string]any)["shape"] = []any{-1, 9}
		}), nil, "labels.json: 8 labels but card.outputs logits has 9 columns"},
		{"card output shape and labels agree, model does not", "category", func(t *testing.T, dir string) {
			card(func(c map[string]any) { c["outputs"].([]any)[0].(map[string]any)["shape"] = []any{-1, 9} })(t, dir)
			editJSON("labels.json", func(v any) any { return append(v.([]any), "extra_label") })(t, dir)
		}, ort.ErrShapeMismatch, `output "logits" dimension 1 is 8 in the model, expected 9`},
		{"card input name", "category", card(func(c map[string]any) {
			c["inputs"].([]any)[1].(map[string]any)["name"] = "token_type_ids"
		}), nil, "inputs must include input_ids and attention_mask"},
		{"card input the model lacks", "category", card(func(c map[string]any) {
			c["inputs"] = append(c["inputs"].([]any), map[string]any{"name": "token_type_ids", "dtype": "int64", "shape": []any{-1, -1}})
		}), ort.ErrShapeMismatch, `input "token_type_ids" is not in the model`},
		{"card input dtype", "category", card(func(c map[string]any) {
			c["inputs"].([]any)[0].(map[string]any)["dtype"] = "float32"
		}), nil, `input "input_ids" is float32`},
		{"missing tokenizer", "category", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "tokenizer.json"))
		}, fs.ErrNotExist, "missing tokenizer.json"},
		{"unsupported tokenizer", "category", editJSON("tokenizer.json", func(v any) any {
			v.(map[string]any)["model"].(map[string]any)["type"] = "BPE"
			return v
		}), tokenize.ErrUnsupported, "model.type"},
		{"task mismatch", "category", card(func(c map[string]any) { c["task"] = "intent" }), nil,
			`card.json: task "intent" does not match the task directory "category"`},
		{"version mismatch", "category", card(func(c map[string]any) { c["version"] = "2026-01-01.1" }), nil,
			`card.json: version "2026-01-01.1" does not match the version directory "test.1"`},
		{"unknown kind", "category", card(func(c map[string]any) { c["kind"] = "regressor" }), nil, `kind "regressor"`},
		{"card not json", "category", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "card.json"), []byte("{"), 0o644)
		}, nil, "card.json: unexpected end of JSON input"},
		{"embedder with labels", "embed", editJSON("labels.json", func(any) any { return []any{"a"} }), nil,
			"labels.json: an embedder has no labels"},
		{"embedding_dim mismatch", "embed", card(func(c map[string]any) { c["embedding_dim"] = 64 }), nil,
			"output embedding has 32 columns but embedding_dim is 64"},
		{"embedding_dim mismatch, card shape dynamic", "embed", card(func(c map[string]any) {
			c["embedding_dim"] = 64
			c["outputs"].([]any)[0].(map[string]any)["shape"] = []any{-1, -1}
		}), nil, `model.onnx: output "embedding" has 32 columns, card.embedding_dim 64`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := modelDir(t, c.task)
			c.break_(t, dir)
			m, err := onnxmodel.Open(context.Background(), rt, dir, onnxmodel.Options{})
			if err == nil {
				m.Close()
				t.Fatal("Open accepted a broken directory")
			}
			if !errors.Is(err, onnxmodel.ErrInvalidModel) || (c.cause != nil && !errors.Is(err, c.cause)) {
				t.Errorf("Open: %v, want ErrInvalidModel and %v", err, c.cause)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Open: %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestReadCardKeepsUnknownFields(t *testing.T) {
	c, err := onnxmodel.ReadCard(filepath.Join("testdata", "models", "category", version))
	if err != nil {
		t.Fatal(err)
	}
	if c.Calibration.Temperature != 1.5 || c.Thresholds.Confidence != 0.55 || c.MinLength != 5 || c.Outputs[0].Shape[1] != 8 {
		t.Errorf("known fields: %+v", c)
	}
	if _, ok := c.Extra["x_fixture"]; !ok {
		t.Fatalf("Extra %v lacks x_fixture", c.Extra)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["x_fixture"] == nil || back["task"] != "category" {
		t.Errorf("round trip lost fields: %s", b)
	}
	if !json.Valid(c.Raw) || !strings.Contains(string(c.Raw), `"x_fixture"`) {
		t.Errorf("Raw: %s", c.Raw)
	}
}

// TestConcurrentEqualsUnbatched runs many goroutines through Run (micro-
// batched with each other) and RunMany at once; every row must equal the
// row the text gets alone. Tolerance: ONNX Runtime may pick different
// kernels for different batch shapes, so rows agree to float rounding, not
// bit for bit.
func TestConcurrentEqualsUnbatched(t *testing.T) {
	rt := orttest.Runtime(t)
	texts := []string{"", "退款", "where is my order", "我的快递还没到 where is my package?", "😀😀", strings.Repeat("订单 ", 80), "Café", "账号 login 密码"}
	for _, task := range []string{"category", "embed"} {
		t.Run(task, func(t *testing.T) {
			m := open(t, rt, modelDir(t, task), onnxmodel.Options{MaxBatch: 4, Window: time.Millisecond, Workers: 2})
			alone := make([][]float32, len(texts))
			for i, text := range texts {
				rows, err := m.RunMany(context.Background(), []string{text})
				if err != nil {
					t.Fatal(err)
				}
				alone[i] = rows[0]
			}
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for g := range 16 {
				wg.Go(func() {
					for k := range 10 {
						i := (g + k) % len(texts)
						if g%4 == 0 {
							rows, err := m.RunMany(context.Background(), texts)
							if err != nil {
								errs <- err
								return
							}
							for j, row := range rows {
								if d := maxDiff(row, alone[j]); d > 1e-5 {
									errs <- fmt.Errorf("RunMany %q: differs by %g", texts[j], d)
									return
								}
							}
							continue
						}
						row, err := m.Run(context.Background(), texts[i])
						if err == nil && maxDiff(row, alone[i]) > 1e-5 {
							err = fmt.Errorf("Run %q: differs by %g", texts[i], maxDiff(row, alone[i]))
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestBadInput: what a caller may send has a defined, finite result.
func TestBadInput(t *testing.T) {
	rt := orttest.Runtime(t)
	m := open(t, rt, modelDir(t, "category"), onnxmodel.Options{})
	long := strings.Repeat("我的订单 where is my order? 😀 ", 40000)
	run := func(text string) []float32 {
		row, err := m.Run(context.Background(), text)
		if err != nil {
			t.Fatalf("Run(%.30q): %v", text, err)
		}
		return row
	}
	cases := []struct {
		name, text string
		same       string // the text must give the same row as this one
	}{
		{"empty", "", "\u200b"},
		{"1 MB", long, long[:2000]},
		{"invalid utf-8", "ref\xff\xfeund", "refund"},
		{"only emoji", "😀😡👍🏽🇨🇳", ""},
		{"mixed scripts", "退款 refund Возврат 返品 환불 استرداد", ""},
		{"control characters", "\x00\x01\x1b[31m", "[31m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			row := run(c.text)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if len(row) != 8 {
				t.Fatalf("%d columns", len(row))
			}
			for _, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite output %v", row)
				}
			}
			if c.same != "" {
				if d := maxDiff(row, run(c.same)); d > 1e-5 {
					t.Errorf("differs from %.30q by %g", c.same, d)
				}
			}
		})
	}
}

func TestRunAfterCloseAndCancel(t *testing.T) {
	rt := orttest.Runtime(t)
	m, err := onnxmodel.Open(context.Background(), rt, modelDir(t, "embed"), onnxmodel.Options{Window: time.Hour, MaxBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	// A lone Run would wait the hour-long window; its context ends first.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := m.Run(ctx, "hello"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run with a short deadline: %v", err)
	}
	// Close drains: a queued Run finishes instead of waiting the window.
	done := make(chan error, 1)
	go func() { _, err := m.Run(context.Background(), "hello"); done <- err }()
	time.Sleep(10 * time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run queued before Close: %v", err)
	}
	if _, err := m.Run(context.Background(), "hello"); !errors.Is(err, batch.ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if _, err := m.RunMany(context.Background(), []string{"hello"}); !errors.Is(err, ort.ErrClosed) {
		t.Errorf("RunMany after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSoftmax(t *testing.T) {
	cases := []struct {
		logits []float32
		temp   float64
		want   []float64
	}{
		{[]float32{0, 0}, 1, []float64{0.5, 0.5}},
		{[]float32{1, 2, 3}, 1, []float64{0.09003057, 0.24472847, 0.66524096}},
		{[]float32{1, 2, 3}, 2, []float64{0.18632372, 0.30719589, 0.50648039}},
		{[]float32{1, 2, 3}, 0, []float64{0.09003057, 0.24472847, 0.66524096}},  // uncalibrated
		{[]float32{1, 2, 3}, -1, []float64{0.09003057, 0.24472847, 0.66524096}}, // uncalibrated
		{[]float32{1000, 0}, 1, []float64{1, 0}},                                // no overflow
		{[]float32{-1000, -1000}, 1, []float64{0.5, 0.5}},                       // no underflow
		{nil, 1, []float64{}},
	}
	for _, c := range cases {
		got := onnxmodel.Softmax(c.logits, c.temp)
		if len(got) != len(c.want) {
			t.Fatalf("Softmax(%v, %v) = %v", c.logits, c.temp, got)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-6 {
				t.Errorf("Softmax(%v, %v) = %v, want %v", c.logits, c.temp, got, c.want)
				break
			}
		}
	}
}
