package ort

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// Element types IO.DType and Tensor support.
const (
	Int64   = "int64"
	Float32 = "float32"
)

// IO describes one input or output of a model. The json tags match the
// card.json "inputs"/"outputs" entries of docs/models.md.
type IO struct {
	Name string `json:"name"`
	// DType is "int64" or "float32" (other element types are reported by
	// Inspect under their ONNX name, e.g. "int32", and cannot be run).
	DType string `json:"dtype"`
	// Shape has one entry per dimension; -1 is dynamic.
	Shape []int64 `json:"shape"`
}

func (io IO) String() string {
	return fmt.Sprintf("%s %s%v", io.Name, io.DType, io.Shape)
}

// Tensor is a dense row-major tensor; exactly one of Int64 and Float32 holds
// the data, with product(Shape) elements. An empty Shape is a scalar (rank
// 0, one value).
type Tensor struct {
	Shape   []int64
	Int64   []int64
	Float32 []float32
}

// Session is a loaded model. Run is safe for concurrent use (ONNX Runtime
// sessions are); Close waits for runs in flight.
type Session struct {
	rt      *Runtime
	path    string
	inputs  []IO // the model's, in the caller's order
	outputs []IO
	threads int

	mu     sync.RWMutex // Run holds it shared, Close exclusively
	closed bool
	sess   *onnx.DynamicAdvancedSession
}

// Inspect returns the inputs and outputs the model file declares.
func (r *Runtime) Inspect(path string) (inputs, outputs []IO, err error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, nil, fmt.Errorf("%w: runtime", ErrClosed)
	}
	data, err := readModel(path)
	if err != nil {
		return nil, nil, err
	}
	return inspect(path, data)
}

func readModel(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: %s: empty file", ErrBadModel, path)
	}
	return data, nil
}

func inspect(path string, data []byte) (inputs, outputs []IO, err error) {
	in, out, err := onnx.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrBadModel, path, err)
	}
	return convertInfo(in), convertInfo(out), nil
}

func convertInfo(infos []onnx.InputOutputInfo) []IO {
	out := make([]IO, len(infos))
	for i, info := range infos {
		io := IO{Name: info.Name, Shape: slices.Clone([]int64(info.Dimensions))}
		switch {
		case info.OrtValueType != onnx.ONNXTypeTensor:
			io.DType = strings.ToLower(info.OrtValueType.String())
		case info.DataType == onnx.TensorElementDataTypeInt64:
			io.DType = Int64
		case info.DataType == onnx.TensorElementDataTypeFloat:
			io.DType = Float32
		default:
			io.DType = strings.ToLower(info.DataType.String())
		}
		out[i] = io
	}
	return out
}

// Load opens a session on the model at path after checking that its inputs
// and outputs are exactly those given: same names, element types and ranks,
// and equal dimensions wherever both sides fix one (-1 matches anything).
// Differences are reported together, wrapped in ErrShapeMismatch; a file
// ONNX Runtime cannot parse gives ErrBadModel. Run takes inputs and returns
// outputs in the order given here. threads is the intra-op thread count
// (0 = the Runtime's default). The caller must Close the session (Runtime.Close
// also does).
func (r *Runtime) Load(path string, inputs, outputs []IO, threads int) (*Session, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, fmt.Errorf("%w: runtime", ErrClosed)
	}
	data, err := readModel(path)
	if err != nil {
		return nil, err
	}
	gotIn, gotOut, err := inspect(path, data)
	if err != nil {
		return nil, err
	}
	diffs := append(compareIO("input", inputs, gotIn), compareIO("output", outputs, gotOut)...)
	if len(diffs) > 0 {
		return nil, fmt.Errorf("%w: %s: %s", ErrShapeMismatch, path, strings.Join(diffs, "; "))
	}
	for _, io := range slices.Concat(inputs, outputs) {
		if io.DType != Int64 && io.DType != Float32 {
			return nil, fmt.Errorf("%w: %s: %s has element type %s; only int64 and float32 are supported", ErrShapeMismatch, path, io.Name, io.DType)
		}
	}
	if threads <= 0 {
		threads = r.opts.IntraOpThreads
	}
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: session options: %w", ErrLibrary, err)
	}
	defer so.Destroy()
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			return nil, fmt.Errorf("ort: %s: intra-op threads %d: %w", path, threads, err)
		}
	}
	if n := r.opts.InterOpThreads; n > 0 {
		if err := so.SetInterOpNumThreads(n); err != nil {
			return nil, fmt.Errorf("ort: %s: inter-op threads %d: %w", path, n, err)
		}
	}
	sess, err := onnx.NewDynamicAdvancedSessionWithONNXData(data, names(inputs), names(outputs), so)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: create session: %w", ErrBadModel, path, err)
	}
	s := &Session{
		rt:      r,
		path:    path,
		inputs:  pick(inputs, gotIn),
		outputs: pick(outputs, gotOut),
		threads: threads,
		sess:    sess,
	}
	r.smu.Lock()
	r.sessions[s] = struct{}{}
	r.smu.Unlock()
	return s, nil
}

// compareIO lists every difference between what the caller expects and
// what the model declares, in words a person fixing a card can act on.
func compareIO(kind string, want, got []IO) []string {
	var diffs []string
	byName := map[string]IO{}
	for _, g := range got {
		byName[g.Name] = g
	}
	declared := map[string]bool{}
	for _, w := range want {
		declared[w.Name] = true
		g, ok := byName[w.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s %q is not in the model (model %ss: %s)", kind, w.Name, kind, list(got)))
			continue
		}
		if g.DType != w.DType {
			diffs = append(diffs, fmt.Sprintf("%s %q has element type %s in the model, expected %s", kind, w.Name, g.DType, w.DType))
		}
		if len(g.Shape) != len(w.Shape) {
			diffs = append(diffs, fmt.Sprintf("%s %q has rank %d in the model %v, expected rank %d %v", kind, w.Name, len(g.Shape), g.Shape, len(w.Shape), w.Shape))
			continue
		}
		for i := range w.Shape {
			if w.Shape[i] >= 0 && g.Shape[i] >= 0 && w.Shape[i] != g.Shape[i] {
				diffs = append(diffs, fmt.Sprintf("%s %q dimension %d is %d in the model, expected %d", kind, w.Name, i, g.Shape[i], w.Shape[i]))
			}
		}
	}
	for _, g := range got {
		if !declared[g.Name] {
			diffs = append(diffs, fmt.Sprintf("model %s %q is not expected (expected %ss: %s)", kind, g.Name, kind, list(want)))
		}
	}
	return diffs
}

func list(ios []IO) string {
	s := make([]string, len(ios))
	for i, io := range ios {
		s[i] = io.String()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func names(ios []IO) []string {
	out := make([]string, len(ios))
	for i, io := range ios {
		out[i] = io.Name
	}
	return out
}

// pick returns the model's IO for each wanted name, in the wanted order.
func pick(want, got []IO) []IO {
	out := make([]IO, len(want))
	for i, w := range want {
		for _, g := range got {
			if g.Name == w.Name {
				out[i] = g
			}
		}
	}
	return out
}

// Inputs returns the model's inputs in Run order (dimensions as the model
// file declares them).
func (s *Session) Inputs() []IO { return slices.Clone(s.inputs) }

// Outputs returns the model's outputs in Run order.
func (s *Session) Outputs() []IO { return slices.Clone(s.outputs) }

// Path is the model file the session was loaded from.
func (s *Session) Path() string { return s.path }

// Run runs the model on inputs (one Tensor per input, in Load's order) and
// returns one Tensor per output. It checks ctx before starting and asks ONNX
// Runtime to stop if ctx is cancelled while running. The inputs are only
// read, and only during the call.
func (s *Session) Run(ctx context.Context, inputs []Tensor) ([]Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ort: run: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("%w: session %s", ErrClosed, s.path)
	}
	if err := s.checkInputs(inputs); err != nil {
		return nil, err
	}
	in := make([]onnx.Value, len(inputs))
	defer destroyAll(in)
	for i, t := range inputs {
		var err error
		if in[i], err = newInput(s.inputs[i], t); err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", s.inputs[i].Name, err)
		}
	}
	out := make([]onnx.Value, len(s.outputs))
	defer destroyAll(out)
	if err := allocScalarOutputs(s.outputs, out); err != nil {
		return nil, err
	}
	if err := s.run(ctx, in, out); err != nil {
		return nil, err
	}
	res := make([]Tensor, len(out))
	for i, v := range out {
		var err error
		if res[i], err = fromValue(s.outputs[i], v); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// run calls ONNX Runtime, wiring ctx cancellation to RunOptions.Terminate.
func (s *Session) run(ctx context.Context, in, out []onnx.Value) error {
	if ctx.Done() == nil {
		if err := s.sess.Run(in, out); err != nil {
			return fmt.Errorf("ort: run %s: %w", s.path, err)
		}
		return nil
	}
	ro, err := onnx.NewRunOptions()
	if err != nil {
		return fmt.Errorf("%w: run options: %w", ErrLibrary, err)
	}
	terminated := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(terminated)
		_ = ro.Terminate() // best effort: the run also ends on its own
	})
	defer func() {
		// Terminate must not race with Destroy.
		if !stop() {
			<-terminated
		}
		_ = ro.Destroy()
	}()
	if err := s.sess.RunWithOptions(in, out, ro); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("ort: run %s: %w", s.path, ctxErr)
		}
		return fmt.Errorf("ort: run %s: %w", s.path, err)
	}
	return nil
}

func (s *Session) checkInputs(inputs []Tensor) error {
	if len(inputs) != len(s.inputs) {
		return fmt.Errorf("%w: %d input tensors for %d inputs %s", ErrShapeMismatch, len(inputs), len(s.inputs), list(s.inputs))
	}
	for i, t := range inputs {
		spec := s.inputs[i]
		if len(t.Shape) != len(spec.Shape) {
			return fmt.Errorf("%w: input %q: rank %d %v, model wants %v", ErrShapeMismatch, spec.Name, len(t.Shape), t.Shape, spec.Shape)
		}
		n := int64(1)
		for d, v := range t.Shape {
			if v <= 0 {
				return fmt.Errorf("%w: input %q: dimension %d is %d", ErrShapeMismatch, spec.Name, d, v)
			}
			if spec.Shape[d] >= 0 && v != spec.Shape[d] {
				return fmt.Errorf("%w: input %q: dimension %d is %d, model wants %d", ErrShapeMismatch, spec.Name, d, v, spec.Shape[d])
			}
			n *= v
		}
		got, other := len(t.Int64), len(t.Float32)
		if spec.DType == Float32 {
			got, other = other, got
		}
		if int64(got) != n || other != 0 {
			return fmt.Errorf("%w: input %q: %s tensor of shape %v needs %d %s values, got %d (and %d of the other type)", ErrShapeMismatch, spec.Name, spec.DType, t.Shape, n, spec.DType, got, other)
		}
	}
	return nil
}

func destroyAll(vs []onnx.Value) {
	for _, v := range vs {
		if v != nil {
			_ = v.Destroy()
		}
	}
}

// Close releases the session after runs in flight finish. Closing twice is
// a no-op.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.sess.Destroy()
	s.mu.Unlock()

	s.rt.smu.Lock()
	delete(s.rt.sessions, s)
	s.rt.smu.Unlock()
	if err != nil {
		return fmt.Errorf("ort: close %s: %w", s.path, err)
	}
	return nil
}
