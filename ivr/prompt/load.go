package prompt

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// LoadOption configures LoadWAV.
type LoadOption func(*loadConfig)

type loadConfig struct{ maxDuration time.Duration }

// WithMaxDuration sets the longest recording LoadWAV accepts; d ≤ 0 keeps
// DefaultMaxDuration.
func WithMaxDuration(d time.Duration) LoadOption {
	return func(c *loadConfig) {
		if d > 0 {
			c.maxDuration = d
		}
	}
}

// LoadWAV reads an operator-recorded prompt: any WAV file nlu/audio decodes
// (PCM, float, G.711; any rate and channel count), downmixed to mono and
// resampled to 8 kHz. A longer file fails with an error wrapping
// audio.ErrTooLong, an empty one with ErrEmptyAudio.
func LoadWAV(path string, opts ...LoadOption) ([]float32, error) {
	cfg := loadConfig{maxDuration: DefaultMaxDuration}
	for _, o := range opts {
		o(&cfg)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prompt: load: %w", err)
	}
	defer f.Close()
	w, err := audio.DecodeWAV(bufio.NewReader(f), audio.WithMaxDuration(cfg.maxDuration))
	if err != nil {
		return nil, fmt.Errorf("prompt: load %s: %w", path, err)
	}
	s, err := to8k(w)
	if err != nil {
		return nil, fmt.Errorf("prompt: load %s: %w", path, err)
	}
	return s, nil
}
