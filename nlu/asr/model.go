package asr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
	"github.com/switchboard-cc/switchboard/nlu/audio"
	"github.com/switchboard-cc/switchboard/nlu/ort"
)

// ErrContract wraps every reason a model directory is refused: the model
// does not follow docs/asr.md, so running it would give wrong text rather
// than an error.
var ErrContract = errors.New("asr: model does not follow the contract")

// Files of a model directory (docs/asr.md).
const (
	ModelFile  = "model.onnx"
	TokensFile = "tokens.txt"
	CardFile   = "card.json"
)

// Info is what a model declares about itself, from its ONNX metadata with
// the documented defaults filled in.
type Info struct {
	Dir         string `json:"dir"`
	Version     string `json:"version"`
	ModelType   string `json:"model_type"`
	Language    string `json:"language,omitempty"`
	SampleRate  int    `json:"sample_rate"`
	FeatDim     int    `json:"feat_dim"`
	Subsampling int    `json:"subsampling_factor"`
	Vocab       int    `json:"vocab_size"`
	BlankID     int    `json:"blank_id"`
	// LeftContext and RightContext are the receptive field in input
	// frames, or -1 when the model does not declare one (then partial
	// results re-run the whole utterance).
	LeftContext  int                `json:"left_context"`
	RightContext int                `json:"right_context"`
	Features     audio.FbankOptions `json:"features"`
}

// Streamable reports whether the model declares a finite receptive field,
// so chunks of an utterance can be run on their own.
func (i Info) Streamable() bool { return i.LeftContext >= 0 && i.RightContext >= 0 }

// FrameDuration is the audio one output frame covers, in seconds.
func (i Info) FrameDuration() float64 {
	return float64(i.Subsampling) * i.Features.FrameShiftMs / 1000
}

// Model is a loaded acoustic model with its tokens and feature settings.
// It is safe for concurrent use; each call or file gets its own Stream.
type Model struct {
	info  Info
	sess  *ort.Session
	vocab *ctc.Vocab
	card  json.RawMessage
}

// LoadOptions tune Load.
type LoadOptions struct {
	// Threads is ONNX Runtime's intra-op thread count (0: the runtime's
	// default). One thread per session and more concurrent streams is
	// the better trade on a telephone server.
	Threads int
}

// Load opens the model directory dir (model.onnx, tokens.txt, optional
// card.json), checks it against the contract and runs it once on a
// second of silence, so a model that would fail on the first call is
// refused here with an error naming what is wrong.
func Load(ctx context.Context, rt *ort.Runtime, dir string, opts LoadOptions) (*Model, error) {
	path := filepath.Join(dir, ModelFile)
	meta, err := rt.Metadata(path)
	if err != nil {
		return nil, fmt.Errorf("asr: %s: %w", dir, err)
	}
	info, err := parseInfo(dir, meta)
	if err != nil {
		return nil, err
	}
	_, explicitBlank := meta["blank_id"]
	vocab, err := readVocab(filepath.Join(dir, TokensFile), info.BlankID, explicitBlank)
	if err != nil {
		return nil, err
	}
	info.Vocab = vocab.Size()
	info.BlankID = vocab.Blank()
	inputs, outputs, err := rt.Inspect(path)
	if err != nil {
		return nil, fmt.Errorf("asr: %s: %w", dir, err)
	}
	if err := checkIO(info, inputs, outputs); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrContract, dir, err)
	}
	sess, err := rt.Load(path, inputs, outputs, opts.Threads)
	if err != nil {
		return nil, fmt.Errorf("asr: %s: %w", dir, err)
	}
	m := &Model{info: info, sess: sess, vocab: vocab}
	if b, err := os.ReadFile(filepath.Join(dir, CardFile)); err == nil {
		if !json.Valid(b) {
			sess.Close()
			return nil, fmt.Errorf("%w: %s: card.json is not valid JSON", ErrContract, dir)
		}
		m.card = b
	}
	if err := m.selfTest(ctx); err != nil {
		sess.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrContract, dir, err)
	}
	return m, nil
}

// Close releases the ONNX session; streams still using the model fail.
func (m *Model) Close() error { return m.sess.Close() }

// Info describes the model.
func (m *Model) Info() Info { return m.info }

// Vocab is the model's token table.
func (m *Model) Vocab() *ctc.Vocab { return m.vocab }

// Card is the model's card.json, or nil.
func (m *Model) Card() json.RawMessage { return m.card }

// readVocab reads tokens.txt; the blank is the metadata's blank_id when
// the model declares one, else the <blk>/<blank> symbol.
func readVocab(path string, blank int, explicit bool) (*ctc.Vocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrContract, err)
	}
	defer f.Close()
	var v *ctc.Vocab
	if explicit {
		v, err = ctc.ReadTokensBlank(f, blank)
	} else {
		v, err = ctc.ReadTokens(f)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrContract, path, err)
	}
	return v, nil
}

// parseInfo applies the metadata over the documented defaults (those of
// sherpa-onnx for zipformer CTC models, so their files load unchanged).
func parseInfo(dir string, meta map[string]string) (Info, error) {
	info := Info{
		Dir: dir, Version: filepath.Base(dir), ModelType: "zipformer2_ctc",
		SampleRate: 16000, FeatDim: 80, Subsampling: 4,
		LeftContext: -1, RightContext: -1,
	}
	f := audio.DefaultFbankOptions(16000)
	var errs []error
	num := func(key string, dst *float64) {
		if s, ok := meta[key]; ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, fmt.Errorf("metadata %s=%q is not a number", key, s))
				return
			}
			*dst = v
		}
	}
	integer := func(key string, dst *int) {
		if s, ok := meta[key]; ok {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("metadata %s=%q is not an integer", key, s))
				return
			}
			*dst = v
		}
	}
	boolean := func(key string, dst *bool) {
		if s, ok := meta[key]; ok {
			v, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("metadata %s=%q is not true/false", key, s))
				return
			}
			*dst = v
		}
	}
	integer("sample_rate", &info.SampleRate)
	integer("feat_dim", &info.FeatDim)
	integer("subsampling_factor", &info.Subsampling)
	integer("blank_id", &info.BlankID)
	integer("left_context", &info.LeftContext)
	integer("right_context", &info.RightContext)
	num("frame_length_ms", &f.FrameLengthMs)
	num("frame_shift_ms", &f.FrameShiftMs)
	num("low_freq", &f.LowFreq)
	num("high_freq", &f.HighFreq)
	num("dither", &f.Dither)
	num("preemphasis", &f.PreemphCoeff)
	boolean("snip_edges", &f.SnipEdges)
	boolean("remove_dc_offset", &f.RemoveDCOffset)
	if s, ok := meta["window_type"]; ok {
		f.WindowType = s
	}
	for key, dst := range map[string]*string{"model_type": &info.ModelType, "language": &info.Language, "version": &info.Version} {
		if s, ok := meta[key]; ok && s != "" {
			*dst = s
		}
	}
	if (info.LeftContext < 0) != (info.RightContext < 0) {
		errs = append(errs, fmt.Errorf("metadata declares only one of left_context (%d) and right_context (%d)", info.LeftContext, info.RightContext))
	}
	switch {
	case info.SampleRate < 4000 || info.SampleRate > 48000:
		errs = append(errs, fmt.Errorf("sample_rate %d is outside 4000..48000", info.SampleRate))
	case info.FeatDim < 1 || info.FeatDim > 512:
		errs = append(errs, fmt.Errorf("feat_dim %d is outside 1..512", info.FeatDim))
	case info.Subsampling < 1 || info.Subsampling > 16:
		errs = append(errs, fmt.Errorf("subsampling_factor %d is outside 1..16", info.Subsampling))
	case info.BlankID < 0:
		errs = append(errs, fmt.Errorf("blank_id %d is negative", info.BlankID))
	}
	f.SampleRate = info.SampleRate
	f.NumMelBins = info.FeatDim
	if err := errors.Join(errs...); err != nil {
		return Info{}, fmt.Errorf("%w: %s: %w", ErrContract, dir, err)
	}
	if err := f.Validate(); err != nil {
		return Info{}, fmt.Errorf("%w: %s: feature settings: %w", ErrContract, dir, err)
	}
	info.Features = f
	return info, nil
}

// checkIO checks the graph's inputs and outputs against docs/asr.md: by
// position, features [N,T,F] float32 and lengths [N] int64 in, log-probs
// [N,T',V] float32 and lengths [N] int64 out.
func checkIO(info Info, in, out []ort.IO) error {
	var errs []error
	if len(in) != 2 {
		errs = append(errs, fmt.Errorf("model has %d inputs (%s), want 2: features [N,T,%d] float32 and lengths [N] int64", len(in), ioList(in), info.FeatDim))
	} else {
		if in[0].DType != ort.Float32 || len(in[0].Shape) != 3 {
			errs = append(errs, fmt.Errorf("input 0 is %s, want features float32 [N,T,%d]", in[0], info.FeatDim))
		} else if d := in[0].Shape[2]; d >= 0 && d != int64(info.FeatDim) {
			errs = append(errs, fmt.Errorf("input %s takes %d features per frame but the model declares feat_dim %d", in[0].Name, d, info.FeatDim))
		}
		if in[1].DType != ort.Int64 || len(in[1].Shape) != 1 {
			errs = append(errs, fmt.Errorf("input 1 is %s, want lengths int64 [N]", in[1]))
		}
	}
	if len(out) != 2 {
		errs = append(errs, fmt.Errorf("model has %d outputs (%s), want 2: log-probs [N,T',V] float32 and lengths [N] int64", len(out), ioList(out)))
	} else {
		if out[0].DType != ort.Float32 || len(out[0].Shape) != 3 {
			errs = append(errs, fmt.Errorf("output 0 is %s, want log-probs float32 [N,T',V]", out[0]))
		} else if v := out[0].Shape[2]; v >= 0 && v != int64(info.Vocab) {
			errs = append(errs, fmt.Errorf("output %s has %d tokens but tokens.txt has %d", out[0].Name, v, info.Vocab))
		}
		if out[1].DType != ort.Int64 || len(out[1].Shape) != 1 {
			errs = append(errs, fmt.Errorf("output 1 is %s, want lengths int64 [N]", out[1]))
		}
	}
	return errors.Join(errs...)
}

func ioList(ios []ort.IO) string {
	s := make([]string, len(ios))
	for i, io := range ios {
		s[i] = io.String()
	}
	return strings.Join(s, ", ")
}

// selfTest runs a second of silence through the model and checks what
// comes back: the vocabulary size when the graph leaves it dynamic, and
// the output length against the subsampling factor.
func (m *Model) selfTest(ctx context.Context) error {
	frames := 100
	feats := make([]float32, frames*m.info.FeatDim)
	for i := range feats {
		feats[i] = -15.9 // log of float32 epsilon: the fbank of silence
	}
	lp, n, err := m.forward(ctx, feats, frames)
	if err != nil {
		return fmt.Errorf("test run on silence: %w", err)
	}
	want := float64(frames) / float64(m.info.Subsampling)
	if math.Abs(float64(n)-want) > 4 {
		return fmt.Errorf("test run on %d frames gave %d output frames; subsampling_factor %d predicts about %.0f", frames, n, m.info.Subsampling, want)
	}
	if len(lp) != n*m.info.Vocab {
		return fmt.Errorf("test run gave %d values for %d frames of %d tokens", len(lp), n, m.info.Vocab)
	}
	// Log-probabilities of one frame sum to one in probability space; a
	// model that outputs logits would decode, but confidences and beam
	// scores would be wrong.
	var sum float64
	for _, v := range lp[:m.info.Vocab] {
		sum += math.Exp(float64(v))
	}
	if math.Abs(sum-1) > 0.01 {
		return fmt.Errorf("output is not log-softmax: probabilities of frame 0 sum to %.3f", sum)
	}
	return nil
}

// forward runs frames×FeatDim features through the model and returns the
// log-probs (outFrames×Vocab) and outFrames.
func (m *Model) forward(ctx context.Context, feats []float32, frames int) ([]float32, int, error) {
	if frames == 0 {
		return nil, 0, nil
	}
	out, err := m.sess.Run(ctx, []ort.Tensor{
		{Shape: []int64{1, int64(frames), int64(m.info.FeatDim)}, Float32: feats},
		{Shape: []int64{1}, Int64: []int64{int64(frames)}},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("asr: run model: %w", err)
	}
	lp, lens := out[0], out[1]
	if len(lp.Shape) != 3 || lp.Shape[0] != 1 || len(lens.Int64) != 1 {
		return nil, 0, fmt.Errorf("%w: outputs have shapes %v and %v", ErrContract, lp.Shape, lens.Shape)
	}
	v := int(lp.Shape[2])
	if v != m.info.Vocab {
		return nil, 0, fmt.Errorf("%w: model outputs %d tokens but tokens.txt has %d", ErrContract, v, m.info.Vocab)
	}
	n := int(lens.Int64[0])
	if n < 0 || n > int(lp.Shape[1]) {
		return nil, 0, fmt.Errorf("%w: output length %d outside the %d frames returned", ErrContract, n, lp.Shape[1])
	}
	return lp.Float32[:n*v], n, nil
}
