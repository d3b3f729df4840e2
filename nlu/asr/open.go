package asr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/vad"
)

// ErrNoModel means the models directory names no model for a speech task.
var ErrNoModel = errors.New("asr: no model configured")

// Resolve returns the directory of task's production version ("asr" or
// "vad") in the models directory's manifest (docs/models.md).
func Resolve(modelsDir, task string) (string, error) {
	m, exists, err := nlu.ReadManifest(modelsDir)
	if err != nil {
		return "", fmt.Errorf("asr: %w", err)
	}
	if !exists {
		return "", fmt.Errorf("%w: %s has no %s", ErrNoModel, modelsDir, nlu.ManifestFile)
	}
	v, ok := m.Tasks[task]
	if !ok || v.Production == "" {
		return "", fmt.Errorf("%w: %s names no %q model", ErrNoModel, filepath.Join(modelsDir, nlu.ManifestFile), task)
	}
	return filepath.Join(modelsDir, task, v.Production), nil
}

// Speech is the recognizer and the VAD that cuts its utterances, loaded
// together because every caller of one needs the other.
type Speech struct {
	ASR *Model
	VAD *vad.Model // nil when no VAD model is configured
}

// OpenOptions say where the models are; an explicit directory overrides
// the manifest's version.
type OpenOptions struct {
	ModelsDir string
	ASRDir    string
	VADDir    string
	NoVAD     bool
	Threads   int
}

// Open loads the speech models. A missing VAD model is an error unless
// NoVAD is set: without it a stream cannot find the end of an utterance.
func Open(ctx context.Context, rt *ort.Runtime, o OpenOptions) (*Speech, error) {
	dir := o.ASRDir
	if dir == "" {
		d, err := Resolve(o.ModelsDir, nlu.TaskASR)
		if err != nil {
			return nil, err
		}
		dir = d
	}
	m, err := Load(ctx, rt, dir, LoadOptions{Threads: o.Threads})
	if err != nil {
		return nil, err
	}
	s := &Speech{ASR: m}
	if o.NoVAD {
		return s, nil
	}
	vdir := o.VADDir
	if vdir == "" {
		if vdir, err = Resolve(o.ModelsDir, nlu.TaskVAD); err != nil {
			m.Close()
			return nil, err
		}
	}
	if s.VAD, err = vad.Load(rt, vdir, o.Threads); err != nil {
		m.Close()
		return nil, fmt.Errorf("asr: %w (make setup downloads the VAD model)", err)
	}
	return s, nil
}

// Close releases both models.
func (s *Speech) Close() error {
	err := s.ASR.Close()
	if s.VAD != nil {
		err = errors.Join(err, s.VAD.Close())
	}
	return err
}
