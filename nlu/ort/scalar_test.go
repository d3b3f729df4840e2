package ort_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

// testdata/scalar.onnx (make_scalar.py): y = x*float(k) + g, twice = k + k,
// with k, g and twice rank-0.
var (
	scalarIn = []ort.IO{
		{Name: "x", DType: ort.Float32, Shape: []int64{-1}},
		{Name: "k", DType: ort.Int64, Shape: []int64{}},
		{Name: "g", DType: ort.Float32, Shape: []int64{}},
	}
	scalarOut = []ort.IO{
		{Name: "y", DType: ort.Float32, Shape: []int64{-1}},
		{Name: "twice", DType: ort.Int64, Shape: []int64{}},
	}
)

func TestScalarTensors(t *testing.T) {
	rt := orttest.Runtime(t)
	in, out, err := rt.Inspect("testdata/scalar.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 3 || len(in[1].Shape) != 0 || len(out) != 2 || len(out[1].Shape) != 0 {
		t.Fatalf("Inspect = %v %v, want rank-0 k and twice", in, out)
	}
	s, err := rt.Load("testdata/scalar.onnx", scalarIn, scalarOut, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	tests := []struct {
		name      string
		k         int64
		g         float32
		x         []float32
		wantY     []float32
		wantTwice int64
	}{
		{"one element", 3, 0.5, []float32{1}, []float32{3.5}, 6},
		{"several", -2, 1, []float32{1, 2, 3}, []float32{-1, -3, -5}, -4},
		{"sample rate", 8000, 0, []float32{0.25}, []float32{2000}, 16000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Run twice: the scalar outputs are fresh each time.
			for range 2 {
				res, err := s.Run(context.Background(), []ort.Tensor{
					{Shape: []int64{int64(len(tc.x))}, Float32: tc.x},
					{Shape: []int64{}, Int64: []int64{tc.k}},
					{Shape: nil, Float32: []float32{tc.g}}, // nil is rank 0 too
				})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res[0].Float32, tc.wantY) {
					t.Errorf("y = %v, want %v", res[0].Float32, tc.wantY)
				}
				if len(res[1].Shape) != 0 || !slices.Equal(res[1].Int64, []int64{tc.wantTwice}) {
					t.Errorf("twice = %+v, want rank 0 [%d]", res[1], tc.wantTwice)
				}
			}
		})
	}
}

func TestScalarTensorsRejected(t *testing.T) {
	rt := orttest.Runtime(t)
	s, err := rt.Load("testdata/scalar.onnx", scalarIn, scalarOut, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := ort.Tensor{Shape: []int64{1}, Float32: []float32{1}}
	g := ort.Tensor{Float32: []float32{0}}
	tests := []struct {
		name string
		k    ort.Tensor
		msg  string
	}{
		{"no value", ort.Tensor{}, "needs 1 int64 values, got 0"},
		{"two values", ort.Tensor{Int64: []int64{1, 2}}, "needs 1 int64 values, got 2"},
		{"wrong type", ort.Tensor{Float32: []float32{1}}, "needs 1 int64 values, got 0"},
		{"rank 1 for a scalar", ort.Tensor{Shape: []int64{1}, Int64: []int64{1}}, "rank 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Run(context.Background(), []ort.Tensor{x, tc.k, g})
			if !errors.Is(err, ort.ErrShapeMismatch) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Run: %v, want ErrShapeMismatch mentioning %q", err, tc.msg)
			}
		})
	}
	// Declaring a scalar input with a dimension is a Load-time mismatch.
	wrong := slices.Clone(scalarIn)
	wrong[1] = ort.IO{Name: "k", DType: ort.Int64, Shape: []int64{1}}
	if s, err := rt.Load("testdata/scalar.onnx", wrong, scalarOut, 1); !errors.Is(err, ort.ErrShapeMismatch) || !strings.Contains(err.Error(), `input "k" has rank 0`) {
		if s != nil {
			s.Close()
		}
		t.Errorf("Load with k as rank 1: %v", err)
	}
}
