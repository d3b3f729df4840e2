package ort

import (
	"fmt"
	"slices"

	onnx "github.com/yalue/onnxruntime_go"
)

// Rank-0 tensors. Models take settings such as a sample rate as scalars
// (Silero VAD's "sr" is an int64 of shape []). A Tensor with an empty Shape
// and exactly one value is such a scalar; the binding needs its separate
// Scalar type for them, because its Tensor refuses an empty shape and its
// output copier turns a rank-0 result into a zero-element tensor.

// newInput converts one checked input tensor to an ONNX value.
func newInput(spec IO, t Tensor) (onnx.Value, error) {
	switch {
	case len(t.Shape) == 0 && spec.DType == Int64:
		return onnx.NewScalar(t.Int64[0])
	case len(t.Shape) == 0:
		return onnx.NewScalar(t.Float32[0])
	case spec.DType == Int64:
		return onnx.NewTensor(onnx.NewShape(t.Shape...), t.Int64)
	default:
		return onnx.NewTensor(onnx.NewShape(t.Shape...), t.Float32)
	}
}

// allocScalarOutputs pre-allocates the outputs the model declares as rank 0,
// so ONNX Runtime writes them into a Scalar; the others stay nil for ONNX
// Runtime to allocate.
func allocScalarOutputs(specs []IO, out []onnx.Value) error {
	for i, spec := range specs {
		if len(spec.Shape) != 0 {
			continue
		}
		var err error
		if spec.DType == Int64 {
			out[i], err = onnx.NewEmptyScalar[int64]()
		} else {
			out[i], err = onnx.NewEmptyScalar[float32]()
		}
		if err != nil {
			return fmt.Errorf("ort: output %q: %w", spec.Name, err)
		}
	}
	return nil
}

// fromValue copies an output value into a Tensor.
func fromValue(spec IO, v onnx.Value) (Tensor, error) {
	switch t := v.(type) {
	case *onnx.Tensor[float32]:
		return Tensor{Shape: slices.Clone([]int64(t.GetShape())), Float32: t.GetData()}, nil
	case *onnx.Tensor[int64]:
		return Tensor{Shape: slices.Clone([]int64(t.GetShape())), Int64: t.GetData()}, nil
	case *onnx.Scalar[float32]:
		return Tensor{Shape: []int64{}, Float32: []float32{t.GetData()}}, nil
	case *onnx.Scalar[int64]:
		return Tensor{Shape: []int64{}, Int64: []int64{t.GetData()}}, nil
	default:
		return Tensor{}, fmt.Errorf("%w: output %q: unsupported value %T", ErrShapeMismatch, spec.Name, v)
	}
}
