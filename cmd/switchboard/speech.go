package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/asr/asrapi"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/vad"
)

// asrConfig is the asr section of the configuration file. The models are
// the ones the nlu section's models_dir manifest names as "asr" and "vad".
type asrConfig struct {
	// Enabled (default true) serves POST /api/v1/asr; --asr overrides.
	Enabled *bool `yaml:"enabled"`
	// Threads is each speech model's intra-op thread count (default 1:
	// concurrent transcriptions, not threads, use the CPUs).
	Threads       int           `yaml:"threads"`
	MaxConcurrent int           `yaml:"max_concurrent"`
	MaxPending    int           `yaml:"max_pending"`
	QueueTimeout  time.Duration `yaml:"queue_timeout"`
	MaxDuration   time.Duration `yaml:"max_duration"`
	MaxBodyBytes  int64         `yaml:"max_body_bytes"`
}

// apiConfig is the API's configuration: the defaults, overridden by what
// the file sets.
func (c asrConfig) apiConfig() asrapi.Config {
	cfg := asrapi.DefaultConfig()
	if c.MaxConcurrent > 0 {
		cfg.MaxConcurrent = c.MaxConcurrent
		cfg.MaxPending = max(cfg.MaxPending, c.MaxConcurrent)
	}
	if c.MaxPending > 0 {
		cfg.MaxPending = c.MaxPending
	}
	if c.QueueTimeout > 0 {
		cfg.QueueTimeout = c.QueueTimeout
	}
	if c.MaxDuration > 0 {
		cfg.MaxDuration = c.MaxDuration
	}
	if c.MaxBodyBytes > 0 {
		cfg.MaxBodyBytes = c.MaxBodyBytes
	}
	return cfg
}

// openSpeech loads the speech models the manifest in modelsDir names. It
// returns no models, and no error, when the manifest names no ASR model
// or its directory is not there (yet: training/ writes it, and a server
// without speech must still serve tickets); it says so in the log, and
// the API answers 503. A missing VAD model only costs the pauses: the
// recognizer then cuts recordings every 30 s. A model that is there but
// broken is an error: the operator plainly wants it.
func openSpeech(ctx context.Context, modelsDir string, cfg asrConfig, lib string, log *slog.Logger) (*asr.Speech, *ort.Runtime, error) {
	asrDir, err := asr.Resolve(modelsDir, nlu.TaskASR)
	if errors.Is(err, asr.ErrNoModel) {
		log.InfoContext(ctx, "no speech recognition model; POST /api/v1/asr answers 503", "reason", err.Error())
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(filepath.Join(asrDir, asr.ModelFile)); errors.Is(err, fs.ErrNotExist) {
		log.WarnContext(ctx, "the manifest names an ASR model that is not there; running without speech recognition (POST /api/v1/asr answers 503) until a restart finds it",
			"dir", asrDir)
		return nil, nil, nil
	}
	opts := asr.OpenOptions{ModelsDir: modelsDir, ASRDir: asrDir, Threads: max(1, cfg.Threads)}
	vadDir, err := asr.Resolve(modelsDir, nlu.TaskVAD)
	switch {
	case errors.Is(err, asr.ErrNoModel):
		log.WarnContext(ctx, "no VAD model; recordings are cut every 30 s, not at pauses", "reason", err.Error())
		opts.NoVAD = true
	case err != nil:
		return nil, nil, err
	default:
		if _, err := os.Stat(filepath.Join(vadDir, vad.ModelFile)); errors.Is(err, fs.ErrNotExist) {
			log.WarnContext(ctx, "the VAD model is not downloaded (make setup); recordings are cut every 30 s, not at pauses", "dir", vadDir)
			opts.NoVAD = true
		}
		opts.VADDir = vadDir
	}
	if lib == "" {
		return nil, nil, errors.New("a speech model is configured but the ONNX Runtime library was not found: set --onnxruntime-lib or ONNXRUNTIME_LIB (make setup downloads it to .cache/onnxruntime/), or --asr=false to run without speech recognition")
	}
	rt, err := ort.Open(ort.Options{LibraryPath: lib, IntraOpThreads: opts.Threads})
	if err != nil {
		return nil, nil, fmt.Errorf("onnx runtime %s: %w", lib, err)
	}
	sp, err := asr.Open(ctx, rt, opts)
	if err != nil {
		_ = rt.Close()
		return nil, nil, err
	}
	log.InfoContext(ctx, "model serving", "task", nlu.TaskASR, "version", sp.ASR.Info().Version, "vad", sp.VAD != nil)
	return sp, rt, nil
}

// newASRAPI is the speech recognition API over sp, which may be nil (no
// model: the route answers 503).
func newASRAPI(cfg asrConfig, sp *asr.Speech) (*asrapi.API, error) {
	var d asrapi.Deps
	if sp != nil {
		// Assigned only when there is a model: a nil *asr.Model would be
		// a non-nil Recognizer.
		d.Recognizer, d.VAD = sp.ASR, sp.VAD
	}
	api, err := asrapi.New(cfg.apiConfig(), d)
	if err != nil {
		return nil, fmt.Errorf("asr: %w", err)
	}
	return api, nil
}
