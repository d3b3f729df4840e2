package ort_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

const tinyModel = "testdata/tiny.onnx"

var (
	tinyIn = []ort.IO{
		{Name: "input_ids", DType: ort.Int64, Shape: []int64{-1, -1}},
		{Name: "attention_mask", DType: ort.Int64, Shape: []int64{-1, -1}},
	}
	tinyOut = []ort.IO{{Name: "logits", DType: ort.Float32, Shape: []int64{-1, 3}}}
)

// tinyGolden is the batch make_models.py ran through Python onnxruntime.
type tinyGolden struct {
	Shape         []int64   `json:"shape"`
	InputIDs      []int64   `json:"input_ids"`
	AttentionMask []int64   `json:"attention_mask"`
	LogitsShape   []int64   `json:"logits_shape"`
	Logits        []float32 `json:"logits"`
}

func readTiny(t *testing.T) tinyGolden {
	t.Helper()
	b, err := os.ReadFile("testdata/tiny.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g tinyGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g tinyGolden) inputs() []ort.Tensor {
	return []ort.Tensor{
		{Shape: g.Shape, Int64: g.InputIDs},
		{Shape: g.Shape, Int64: g.AttentionMask},
	}
}

func load(t *testing.T, rt *ort.Runtime) *ort.Session {
	t.Helper()
	s, err := rt.Load(tinyModel, tinyIn, tinyOut, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func near(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

func TestInspect(t *testing.T) {
	rt := orttest.Runtime(t)
	in, out, err := rt.Inspect(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	got := func(ios []ort.IO) string { b, _ := json.Marshal(ios); return string(b) }
	if w := got(tinyIn); got(in) != w {
		t.Errorf("inputs %s, want %s", got(in), w)
	}
	if w := got(tinyOut); got(out) != w {
		t.Errorf("outputs %s, want %s", got(out), w)
	}
}

func TestRunMatchesPython(t *testing.T) {
	rt := orttest.Runtime(t)
	s := load(t, rt)
	g := readTiny(t)
	out, err := s.Run(context.Background(), g.inputs())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !slices.Equal(out[0].Shape, g.LogitsShape) || !near(out[0].Float32, g.Logits, 1e-5) {
		t.Fatalf("Run = %+v, want shape %v logits %v", out, g.LogitsShape, g.Logits)
	}
	if got := s.Outputs()[0].Shape; !slices.Equal(got, []int64{-1, 3}) {
		t.Errorf("Outputs()[0].Shape = %v", got)
	}
}

func TestRunConcurrent(t *testing.T) {
	rt := orttest.Runtime(t)
	s := load(t, rt)
	g := readTiny(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 25 {
				out, err := s.Run(context.Background(), g.inputs())
				if err == nil && !near(out[0].Float32, g.Logits, 1e-5) {
					err = errors.New("logits differ under concurrency")
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
}

func TestRunRejectsBadInputs(t *testing.T) {
	rt := orttest.Runtime(t)
	s := load(t, rt)
	ids := []int64{1, 2, 3, 4}
	shape := []int64{2, 2}
	cases := []struct {
		name string
		in   []ort.Tensor
		want error
		msg  string
	}{
		{"too few tensors", []ort.Tensor{{Shape: shape, Int64: ids}}, ort.ErrShapeMismatch, "1 input tensors for 2 inputs"},
		{"wrong rank", []ort.Tensor{{Shape: []int64{4}, Int64: ids}, {Shape: shape, Int64: ids}}, ort.ErrShapeMismatch, "rank 1"},
		{"too little data", []ort.Tensor{{Shape: shape, Int64: ids[:3]}, {Shape: shape, Int64: ids}}, ort.ErrShapeMismatch, "needs 4 int64 values, got 3"},
		{"wrong element type", []ort.Tensor{{Shape: shape, Float32: []float32{1, 2, 3, 4}}, {Shape: shape, Int64: ids}}, ort.ErrShapeMismatch, "needs 4 int64 values, got 0"},
		{"zero dimension", []ort.Tensor{{Shape: []int64{0, 2}}, {Shape: []int64{0, 2}}}, ort.ErrShapeMismatch, "dimension 0 is 0"},
		{"id outside the vocabulary", []ort.Tensor{{Shape: shape, Int64: []int64{1, 99, 3, 4}}, {Shape: shape, Int64: ids}}, nil, "run testdata/tiny.onnx"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Run(context.Background(), c.in)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Run: %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Run: %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	rt := orttest.Runtime(t)
	s := load(t, rt)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, readTiny(t).inputs()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run on a cancelled context: %v", err)
	}
	// A live cancellable context goes through RunOptions and still works.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.Run(ctx, readTiny(t).inputs()); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesMismatch(t *testing.T) {
	rt := orttest.Runtime(t)
	with := func(ios []ort.IO, i int, f func(*ort.IO)) []ort.IO {
		out := make([]ort.IO, len(ios))
		for j, io := range ios {
			io.Shape = slices.Clone(io.Shape)
			out[j] = io
		}
		f(&out[i])
		return out
	}
	cases := []struct {
		name    string
		in, out []ort.IO
		msg     string
	}{
		{"renamed input", with(tinyIn, 0, func(io *ort.IO) { io.Name = "ids" }), tinyOut, `input "ids" is not in the model`},
		{"input dtype", with(tinyIn, 1, func(io *ort.IO) { io.DType = ort.Float32 }), tinyOut, `input "attention_mask" has element type int64 in the model, expected float32`},
		{"input rank", with(tinyIn, 0, func(io *ort.IO) { io.Shape = []int64{-1} }), tinyOut, `input "input_ids" has rank 2`},
		{"output dimension", tinyIn, with(tinyOut, 0, func(io *ort.IO) { io.Shape = []int64{-1, 9} }), `output "logits" dimension 1 is 3 in the model, expected 9`},
		{"output name", tinyIn, with(tinyOut, 0, func(io *ort.IO) { io.Name = "embedding" }), `output "embedding" is not in the model`},
		{"input not declared", tinyIn[:1], tinyOut, `model input "attention_mask" is not expected`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := rt.Load(tinyModel, c.in, c.out, 1)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ort.ErrShapeMismatch) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Load: %v, want ErrShapeMismatch mentioning %q", err, c.msg)
			}
		})
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	rt := orttest.Runtime(t)
	good, err := os.ReadFile(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		content []byte // nil = no file
		want    error
	}{
		{"missing", nil, fs.ErrNotExist},
		{"empty", []byte{}, ort.ErrBadModel},
		{"truncated", good[:len(good)/2], ort.ErrBadModel},
		{"not onnx", []byte("this is not a model"), ort.ErrBadModel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.onnx")
			if c.content != nil {
				if err := os.WriteFile(path, c.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := rt.Load(path, tinyIn, tinyOut, 1); !errors.Is(err, c.want) {
				t.Errorf("Load: %v, want %v", err, c.want)
			}
			if _, _, err := rt.Inspect(path); !errors.Is(err, c.want) {
				t.Errorf("Inspect: %v, want %v", err, c.want)
			}
		})
	}
}

func TestOpenSharesOneLibrary(t *testing.T) {
	lib := orttest.Library(t)
	a, err := ort.Open(ort.Options{LibraryPath: lib})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ort.Open(ort.Options{LibraryPath: lib})
	if err != nil {
		t.Fatal(err)
	}
	// The same file under another name is the same library.
	link := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if err := os.Symlink(lib, link); err != nil {
		t.Fatal(err)
	}
	c, err := ort.Open(ort.Options{LibraryPath: link})
	if err != nil {
		t.Fatalf("Open through a symlink: %v", err)
	}
	c.Close()
	// Another library is refused while the environment is up:
	// onnxruntime_go holds one library per process.
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(other, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := ort.Open(ort.Options{LibraryPath: other}); !errors.Is(err, ort.ErrLibrary) || !strings.Contains(err.Error(), "already initialised") {
		if c != nil {
			c.Close()
		}
		t.Errorf("Open with a second library: %v, want ErrLibrary", err)
	}
	s, err := b.Load(tinyModel, tinyIn, tinyOut, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// b still holds the environment, so its session still runs.
	if _, err := s.Run(context.Background(), readTiny(t).inputs()); err != nil {
		t.Fatalf("Run after the other Runtime closed: %v", err)
	}
	// Closing the last Runtime closes its sessions and the environment.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), readTiny(t).inputs()); !errors.Is(err, ort.ErrClosed) {
		t.Errorf("Run after Runtime.Close: %v, want ErrClosed", err)
	}
	if _, err := b.Load(tinyModel, tinyIn, tinyOut, 1); !errors.Is(err, ort.ErrClosed) {
		t.Errorf("Load after Close: %v, want ErrClosed", err)
	}
	// The environment can be brought up again.
	load(t, orttest.Runtime(t))
}

func TestOpenBadLibrary(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.so")
	if err := os.WriteFile(garbage, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.so"), garbage} {
		if rt, err := ort.Open(ort.Options{LibraryPath: path}); !errors.Is(err, ort.ErrLibrary) {
			if rt != nil {
				rt.Close()
			}
			t.Errorf("Open(%s): %v, want ErrLibrary", path, err)
		}
	}
	// A failed Open leaves nothing behind: the real library still opens.
	load(t, orttest.Runtime(t))
}

func TestLibraryFromEnv(t *testing.T) {
	t.Setenv("ONNXRUNTIME_LIB", "/opt/x/libonnxruntime.so.1")
	if got := ort.LibraryFromEnv(); got != "/opt/x/libonnxruntime.so.1" {
		t.Errorf("with ONNXRUNTIME_LIB: %q", got)
	}
	t.Setenv("ONNXRUNTIME_LIB", "")
	// Found by walking up from a directory below a repo-like root.
	root := t.TempDir()
	lib := filepath.Join(root, ".cache", "onnxruntime", ort.LibraryVersion, "lib", "libonnxruntime.so.1")
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "nlu", "ort")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	if got := ort.LibraryFromEnv(); got != lib {
		t.Errorf("walking up: %q, want %q", got, lib)
	}
}

func TestMetadata(t *testing.T) {
	rt := orttest.Runtime(t)
	tests := []struct {
		path string
		want map[string]string
	}{
		{"testdata/tiny.onnx", map[string]string{}},
		{"testdata/tiny_meta.onnx", map[string]string{"sample_rate": "8000", "language": "zh,en", "note": "中文 ok"}},
	}
	for _, tc := range tests {
		got, err := rt.Metadata(tc.path)
		if err != nil {
			t.Fatalf("Metadata(%s): %v", tc.path, err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("Metadata(%s) = %v, want %v", tc.path, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("Metadata(%s)[%q] = %q, want %q", tc.path, k, got[k], v)
			}
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Metadata(bad); !errors.Is(err, ort.ErrBadModel) {
		t.Errorf("Metadata(garbage) = %v, want ErrBadModel", err)
	}
}
