// Package onnxmodel loads one model directory (docs/models.md) and makes it
// ready to answer: card, labels, tokenizer, ONNX Runtime session and a
// micro-batcher. It validates everything the contract lists before a
// version may serve, so a bad directory is refused while the old one keeps
// serving.
package onnxmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/batch"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/tokenize"
)

// Files of a model directory.
const (
	modelFile     = "model.onnx"
	tokenizerFile = "tokenizer.json"
	labelsFile    = "labels.json"
	cardFile      = "card.json"
)

// Input and output names fixed by docs/models.md.
const (
	InputIDs        = "input_ids"
	AttentionMask   = "attention_mask"
	TokenTypeIDs    = "token_type_ids" // accepted and fed zeros, for BERT exports that keep it
	OutputLogits    = "logits"
	OutputEmbedding = "embedding"
)

// smokeText is run through every model at load time.
const smokeText = "hello 你好, where is my order?"

// ErrInvalidModel wraps every reason Open refuses a directory; the message
// names the file and field, and the cause (ort.ErrShapeMismatch,
// ort.ErrBadModel, fs.ErrNotExist, tokenize.ErrUnsupported, ...) stays
// reachable with errors.Is.
var ErrInvalidModel = errors.New("onnxmodel: invalid model directory")

// Options tunes a loaded model; zero values take the defaults.
type Options struct {
	// Threads is the session's intra-op thread count (0: the Runtime's).
	Threads int
	// MaxBatch is the largest batch run at once (default 32).
	MaxBatch int
	// Window is how long Run waits for other requests to batch with
	// (default 0: batch only what is already queued).
	Window time.Duration
	// Workers is how many batches run at once (default 1).
	Workers int
}

// Model is a validated model directory ready for inference. Its methods are
// safe for concurrent use; Close it when it stops serving.
type Model struct {
	dir     string
	card    *Card
	labels  []string
	tok     *tokenize.Tokenizer
	sess    *ort.Session
	feeds   []string // session input names in Run order
	width   int      // columns of the output row
	opts    Options
	batcher *batch.Batcher[[]int64, []float32]

	closeOnce sync.Once
	closeErr  error
}

// Open validates dir (…/<task>/<version>) against docs/models.md, loads its
// tokenizer and session and runs a smoke inference. Any failure is an error
// wrapping ErrInvalidModel that names the file and what is wrong.
func Open(ctx context.Context, rt *ort.Runtime, dir string, opts Options) (*Model, error) {
	dir = filepath.Clean(dir)
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 32
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if err := checkFiles(dir); err != nil {
		return nil, err
	}
	card, err := ReadCard(dir)
	if err != nil {
		return nil, err
	}
	invalid := func(file, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidModel, filepath.Join(dir, file), fmt.Sprintf(format, args...))
	}
	if err := checkCard(dir, card, invalid); err != nil {
		return nil, err
	}
	labels, err := readLabels(dir, card, invalid)
	if err != nil {
		return nil, err
	}
	tok, err := tokenize.Load(filepath.Join(dir, tokenizerFile), card.MaxLength)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	sess, err := rt.Load(filepath.Join(dir, modelFile), card.Inputs, card.Outputs, opts.Threads)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	m := &Model{dir: dir, card: card, labels: labels, tok: tok, sess: sess, opts: opts}
	for _, in := range card.Inputs {
		m.feeds = append(m.feeds, in.Name)
	}
	m.width = len(labels)
	if card.Kind == KindEmbedder {
		m.width = card.EmbeddingDim
	}
	if d := sess.Outputs()[0].Shape[1]; d >= 0 && d != int64(m.width) {
		m.sess.Close()
		what := "len(labels.json) " + fmt.Sprint(len(labels))
		if card.Kind == KindEmbedder {
			what = "card.embedding_dim " + fmt.Sprint(card.EmbeddingDim)
		}
		return nil, invalid(modelFile, "output %q has %d columns, %s", card.Outputs[0].Name, d, what)
	}
	m.batcher = batch.New(m.runBatch, batch.Options{MaxBatch: opts.MaxBatch, Window: opts.Window, Workers: opts.Workers})
	if err := m.smoke(ctx, invalid); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// checkFiles reports every missing file of the four at once.
func checkFiles(dir string) error {
	var missing []string
	for _, f := range []string{modelFile, tokenizerFile, labelsFile, cardFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.IsDir() {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s: missing %s: %w", ErrInvalidModel, dir, strings.Join(missing, ", "), os.ErrNotExist)
	}
	return nil
}

func checkCard(dir string, c *Card, invalid func(file, format string, args ...any) error) error {
	task, version := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
	switch {
	case c.Task == "" || c.Task != task:
		return invalid(cardFile, "task %q does not match the task directory %q", c.Task, task)
	case c.Version == "" || c.Version != version:
		return invalid(cardFile, "version %q does not match the version directory %q", c.Version, version)
	case c.Kind != KindClassifier && c.Kind != KindEmbedder:
		return invalid(cardFile, "kind %q (want %q or %q)", c.Kind, KindClassifier, KindEmbedder)
	case c.MaxLength < 3:
		return invalid(cardFile, "max_length %d (want at least 3: [CLS] x [SEP])", c.MaxLength)
	case c.MinLength < 0 || c.MinLength > c.MaxLength:
		return invalid(cardFile, "min_length %d (want 0..max_length %d)", c.MinLength, c.MaxLength)
	case c.PadID < 0:
		return invalid(cardFile, "pad_id %d is negative", c.PadID)
	case c.Kind == KindEmbedder && c.EmbeddingDim <= 0:
		return invalid(cardFile, "embedding_dim %d: an embedder needs a positive dimension", c.EmbeddingDim)
	}
	seen := map[string]bool{}
	for _, in := range c.Inputs {
		switch {
		case in.Name != InputIDs && in.Name != AttentionMask && in.Name != TokenTypeIDs:
			return invalid(cardFile, "input %q (inputs are %s and %s)", in.Name, InputIDs, AttentionMask)
		case seen[in.Name]:
			return invalid(cardFile, "input %q listed twice", in.Name)
		case in.DType != ort.Int64 || len(in.Shape) != 2:
			return invalid(cardFile, "input %q is %s%v, want int64 [batch, seq]", in.Name, in.DType, in.Shape)
		}
		seen[in.Name] = true
	}
	if !seen[InputIDs] || !seen[AttentionMask] {
		return invalid(cardFile, "inputs must include %s and %s, got %v", InputIDs, AttentionMask, c.Inputs)
	}
	want := OutputLogits
	if c.Kind == KindEmbedder {
		want = OutputEmbedding
	}
	if len(c.Outputs) != 1 || c.Outputs[0].Name != want || c.Outputs[0].DType != ort.Float32 || len(c.Outputs[0].Shape) != 2 {
		return invalid(cardFile, "outputs %v: a %s has one output %s float32 [batch, n]", c.Outputs, c.Kind, want)
	}
	if c.Kind == KindEmbedder {
		if d := c.Outputs[0].Shape[1]; d >= 0 && d != int64(c.EmbeddingDim) {
			return invalid(cardFile, "output %s has %d columns but embedding_dim is %d", want, d, c.EmbeddingDim)
		}
	}
	return nil
}

func readLabels(dir string, c *Card, invalid func(file, format string, args ...any) error) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, labelsFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	var labels []string
	if err := json.Unmarshal(b, &labels); err != nil {
		return nil, invalid(labelsFile, "want a JSON array of strings: %v", err)
	}
	if c.Kind == KindEmbedder {
		if len(labels) != 0 {
			return nil, invalid(labelsFile, "an embedder has no labels ([]), got %d", len(labels))
		}
		return []string{}, nil
	}
	if len(labels) == 0 {
		return nil, invalid(labelsFile, "a classifier needs labels, got none")
	}
	seen := map[string]bool{}
	for i, l := range labels {
		if strings.TrimSpace(l) == "" {
			return nil, invalid(labelsFile, "label %d is empty", i)
		}
		if seen[l] {
			return nil, invalid(labelsFile, "label %q appears twice", l)
		}
		seen[l] = true
	}
	if d := c.Outputs[0].Shape[1]; d >= 0 && d != int64(len(labels)) {
		return nil, invalid(labelsFile, "%d labels but card.outputs %s has %d columns", len(labels), c.Outputs[0].Name, d)
	}
	return labels, nil
}

// smoke runs one short text and checks the row is the right size, finite
// and, for an embedder, L2-normalised as the contract promises.
func (m *Model) smoke(ctx context.Context, invalid func(file, format string, args ...any) error) error {
	rows, err := m.RunMany(ctx, []string{smokeText})
	if err != nil {
		return fmt.Errorf("%w: %s: smoke inference: %w", ErrInvalidModel, filepath.Join(m.dir, modelFile), err)
	}
	row := rows[0]
	if len(row) != m.width {
		return invalid(modelFile, "smoke inference returned %d columns, want %d", len(row), m.width)
	}
	var norm float64
	for i, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return invalid(modelFile, "smoke inference returned %v in column %d", v, i)
		}
		norm += float64(v) * float64(v)
	}
	if m.card.Kind == KindEmbedder && math.Abs(math.Sqrt(norm)-1) > 1e-3 {
		return invalid(modelFile, "embedding is not L2-normalised (norm %.4f)", math.Sqrt(norm))
	}
	return nil
}

// Card returns the model card. Callers must not modify it.
func (m *Model) Card() *Card { return m.card }

// Labels returns the output labels (empty for embedders). Callers must not
// modify the slice.
func (m *Model) Labels() []string { return m.labels }

// Dir is the model directory.
func (m *Model) Dir() string { return m.dir }

// Run returns the output row (logits or embedding) for one text. The text is
// tokenized in the caller's goroutine; the row is computed in a micro-batch
// with concurrent callers.
func (m *Model) Run(ctx context.Context, text string) ([]float32, error) {
	ids, err := m.tok.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("onnxmodel: %s: %w", m.dir, err)
	}
	return m.batcher.Do(ctx, ids)
}

// Known is the share of text's tokens the model's vocabulary knows (see
// tokenize.Tokenizer.Known).
func (m *Model) Known(text string) (float64, error) {
	ids, err := m.tok.Encode(text)
	if err != nil {
		return 0, fmt.Errorf("onnxmodel: %s: %w", m.dir, err)
	}
	return m.tok.Known(ids), nil
}

// RunMany returns one output row per text, running them in chunks of
// MaxBatch directly (the caller already has a batch, so no window wait).
func (m *Model) RunMany(ctx context.Context, texts []string) ([][]float32, error) {
	rows := make([][]int64, len(texts))
	for i, t := range texts {
		ids, err := m.tok.Encode(t)
		if err != nil {
			return nil, fmt.Errorf("onnxmodel: %s: text %d: %w", m.dir, i, err)
		}
		rows[i] = ids
	}
	out := make([][]float32, 0, len(texts))
	for chunk := range slices.Chunk(rows, m.opts.MaxBatch) {
		res, err := m.runBatch(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// runBatch pads token rows into one [batch, seq] tensor per input and runs
// the session: right-padded with pad_id to the longest row and at least
// min_length (docs/models.md).
func (m *Model) runBatch(ctx context.Context, rows [][]int64) ([][]float32, error) {
	width := m.card.MinLength
	for _, r := range rows {
		width = max(width, len(r))
	}
	width = max(width, 1)
	n := len(rows)
	shape := []int64{int64(n), int64(width)}
	ids := make([]int64, n*width)
	mask := make([]int64, n*width)
	for i, r := range rows {
		row := ids[i*width : (i+1)*width]
		copy(row, r)
		for j := len(r); j < width; j++ {
			row[j] = m.card.PadID
		}
		for j := range r {
			mask[i*width+j] = 1
		}
	}
	feeds := make([]ort.Tensor, len(m.feeds))
	for i, name := range m.feeds {
		switch name {
		case InputIDs:
			feeds[i] = ort.Tensor{Shape: shape, Int64: ids}
		case AttentionMask:
			feeds[i] = ort.Tensor{Shape: shape, Int64: mask}
		default: // token_type_ids: a single segment
			feeds[i] = ort.Tensor{Shape: shape, Int64: make([]int64, n*width)}
		}
	}
	outs, err := m.sess.Run(ctx, feeds)
	if err != nil {
		return nil, fmt.Errorf("onnxmodel: %s: %w", m.dir, err)
	}
	o := outs[0]
	if len(o.Shape) != 2 || o.Shape[0] != int64(n) || o.Shape[1] != int64(m.width) {
		return nil, fmt.Errorf("onnxmodel: %s: output shape %v, want [%d %d]", m.dir, o.Shape, n, m.width)
	}
	res := make([][]float32, n)
	for i := range res {
		res[i] = o.Float32[i*m.width : (i+1)*m.width : (i+1)*m.width]
	}
	return res, nil
}

// Close drains the batcher (queued Runs finish) and releases the session.
// Closing twice is a no-op.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		if m.batcher != nil {
			m.batcher.Close()
		}
		m.closeErr = m.sess.Close()
	})
	return m.closeErr
}

// Softmax returns softmax(logits / temperature) in float64; a temperature
// that is not a positive number counts as 1 (an uncalibrated model).
func Softmax(logits []float32, temperature float64) []float64 {
	if !(temperature > 0) || math.IsInf(temperature, 0) {
		temperature = 1
	}
	out := make([]float64, len(logits))
	if len(logits) == 0 {
		return out
	}
	top := math.Inf(-1)
	for _, l := range logits {
		top = max(top, float64(l)/temperature)
	}
	var sum float64
	for i, l := range logits {
		out[i] = math.Exp(float64(l)/temperature - top)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
