// Package vad detects when a caller speaks, with the pretrained Silero VAD
// model (v5/v6 interface, MIT licence) running on nlu/ort.
//
// A Model is loaded once per process and shared; each call gets its own
// Stream, fed 8 kHz (telephone) or 16 kHz mono samples in any chunk sizes.
// The stream cuts the audio into the model's windows (32 ms: 256 samples at
// 8 kHz, 512 at 16 kHz), keeps the model's recurrent state and audio context
// between windows exactly as the silero-vad package's OnnxWrapper does, and
// turns the per-window speech probabilities into SpeechStart and SpeechEnd
// events with hysteresis, a minimum speech duration (so a cough or a click
// does not barge in), an end-of-utterance silence timer and a maximum
// utterance length. The per-window probability is exposed too, for callers
// that make their own barge-in decision.
//
// The model file is downloaded at setup (scripts/lib.sh vad_download) into
// models/vad/<version>/model.onnx; see models/vad/*/card.json and docs/asr.md.
package vad

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/switchboard-cc/switchboard/nlu/ort"
)

// ErrInvalidConfig means a Config failed Validate.
var ErrInvalidConfig = errors.New("vad: invalid config")

// ModelFile is the model's file name inside a model directory.
const ModelFile = "model.onnx"

// DefaultVersion names the model directory setup downloads,
// models/vad/<DefaultVersion>; it must follow VAD_VERSION in scripts/lib.sh.
const DefaultVersion = "silero-v6.2.3"

// The Silero VAD v5/v6 interface (silero_vad.onnx in the silero-vad wheel).
// The v4 model (h and c instead of state) and the wheel's 16 kHz-only or
// fixed-shape variants do not fit it and are refused by Load.
var (
	modelInputs = []ort.IO{
		{Name: "input", DType: ort.Float32, Shape: []int64{-1, -1}},     // [1, context+window]
		{Name: "state", DType: ort.Float32, Shape: []int64{2, -1, 128}}, // LSTM state
		{Name: "sr", DType: ort.Int64, Shape: []int64{}},                // sample rate, a scalar
	}
	modelOutputs = []ort.IO{
		{Name: "output", DType: ort.Float32, Shape: []int64{-1, 1}},      // speech probability
		{Name: "stateN", DType: ort.Float32, Shape: []int64{-1, -1, -1}}, // next state
	}
)

// stateSize is the number of floats in the recurrent state [2, 1, 128].
const stateSize = 2 * 1 * 128

// Model is a loaded Silero VAD model. It is safe for concurrent use by any
// number of Streams; the caller must Close it (Runtime.Close also does).
type Model struct {
	sess *ort.Session
}

// Load opens dir/model.onnx on rt after checking that it has the Silero VAD
// v5/v6 inputs and outputs; a different model fails with an error that wraps
// ort.ErrShapeMismatch and names each difference. threads is the intra-op
// thread count per inference (0 = the Runtime's default); 1 is right for
// this small model, whose windows are too short to split across threads:
// scale with concurrent streams instead.
func Load(rt *ort.Runtime, dir string, threads int) (*Model, error) {
	path := filepath.Join(dir, ModelFile)
	sess, err := rt.Load(path, modelInputs, modelOutputs, threads)
	if err != nil {
		if errors.Is(err, ort.ErrShapeMismatch) {
			return nil, fmt.Errorf("vad: %s is not a Silero VAD v5/v6 model (want inputs %v, outputs %v): %w", path, modelInputs, modelOutputs, err)
		}
		return nil, fmt.Errorf("vad: load: %w", err)
	}
	return &Model{sess: sess}, nil
}

// Path is the model file the Model was loaded from.
func (m *Model) Path() string { return m.sess.Path() }

// Close releases the model. Streams using it fail afterwards (ort.ErrClosed).
func (m *Model) Close() error { return m.sess.Close() }
