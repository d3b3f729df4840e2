package prompt

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// SampleRate is the rate of every prompt this package returns: the
// telephone rate of the G.711 media plane.
const SampleRate = 8000

// DefaultMaxDuration bounds a synthesised or loaded prompt. Nothing an IVR
// says should take longer, and it bounds the memory a runaway espeak-ng or
// a huge WAV file can take.
const DefaultMaxDuration = 2 * time.Minute

// SynthConfig configures a Synth. The zero value is usable: every zero
// field takes the default DefaultSynthConfig shows.
type SynthConfig struct {
	// Binary is the espeak-ng executable, a name looked up in PATH or a
	// path. Default "espeak-ng".
	Binary string
	// Voices maps a language ("zh", "en") to an espeak-ng voice. Default
	// zh → cmn, en → en-us.
	Voices map[string]string
	// Rate is the speaking rate in words per minute, 80–450. Default 175
	// (espeak-ng's own default).
	Rate int
	// Pitch is 1–99. Zero means espeak-ng's default of 50: a pitch of
	// exactly 0 is a growl no prompt wants, so zero can safely mean unset.
	Pitch int
	// MaxDuration bounds the synthesised audio. Default DefaultMaxDuration.
	MaxDuration time.Duration
}

// DefaultSynthConfig returns the configuration a zero SynthConfig means.
func DefaultSynthConfig() SynthConfig {
	return SynthConfig{
		Binary:      "espeak-ng",
		Voices:      map[string]string{"zh": "cmn", "en": "en-us"},
		Rate:        175,
		Pitch:       50,
		MaxDuration: DefaultMaxDuration,
	}
}

func (c SynthConfig) withDefaults() SynthConfig {
	d := DefaultSynthConfig()
	if c.Binary == "" {
		c.Binary = d.Binary
	}
	if c.Voices == nil {
		c.Voices = d.Voices
	}
	if c.Rate == 0 {
		c.Rate = d.Rate
	}
	if c.Pitch == 0 {
		c.Pitch = d.Pitch
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = d.MaxDuration
	}
	return c
}

// Validate reports whether the configuration (after defaults) is usable.
func (c SynthConfig) Validate() error {
	c = c.withDefaults()
	if c.Rate < 80 || c.Rate > 450 {
		return fmt.Errorf("prompt: rate %d wpm outside 80–450: %w", c.Rate, ErrInvalidConfig)
	}
	if c.Pitch < 1 || c.Pitch > 99 {
		return fmt.Errorf("prompt: pitch %d outside 1–99: %w", c.Pitch, ErrInvalidConfig)
	}
	for lang, v := range c.Voices {
		// The voice is passed as one argument; a leading dash would be
		// read as an option.
		if v == "" || strings.HasPrefix(v, "-") {
			return fmt.Errorf("prompt: voice %q for %q: %w", v, lang, ErrInvalidConfig)
		}
	}
	return nil
}

// Synth turns text into 8 kHz prompts by running espeak-ng, one process per
// prompt. It is safe for concurrent use.
type Synth struct {
	cfg SynthConfig

	mu      sync.Mutex
	version string // cached after the first successful --version

	// runs counts espeak-ng synthesis processes started; tests use it to
	// prove a cache hit did not synthesise.
	runs atomic.Int64
}

// NewSynth returns a Synth. It does not run espeak-ng, so a missing binary
// shows up on the first Synthesize, not here.
func NewSynth(cfg SynthConfig) (*Synth, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Synth{cfg: cfg.withDefaults()}, nil
}

// voice resolves a language such as "zh", "en", "zh-CN" or "en_US" to the
// configured espeak-ng voice.
func (s *Synth) voice(lang string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(lang))
	if v, ok := s.cfg.Voices[l]; ok {
		return v, nil
	}
	if i := strings.IndexAny(l, "-_"); i > 0 {
		if v, ok := s.cfg.Voices[l[:i]]; ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("prompt: language %q: %w", lang, ErrUnsupportedLanguage)
}

func checkText(text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmptyText
	}
	return nil
}

// Version returns espeak-ng's version line, running `espeak-ng --version`
// once per Synth.
func (s *Synth) Version(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version != "" {
		return s.version, nil
	}
	out, err := exec.CommandContext(ctx, s.cfg.Binary, "--version").Output()
	if err != nil {
		return "", s.execError("version", err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	// The line ends with the data directory, which says nothing about the
	// audio; keep only the part before it.
	line, _, _ = strings.Cut(line, "Data at:")
	s.version = strings.TrimSpace(line)
	return s.version, nil
}

// Key returns the cache key of a prompt: a hash of everything that changes
// the audio (engine version, voice, rate, pitch, text). It fails the way
// Synthesize would for empty text, an unknown language or a missing engine.
func (s *Synth) Key(ctx context.Context, lang, text string) (string, error) {
	if err := checkText(text); err != nil {
		return "", err
	}
	voice, err := s.voice(lang)
	if err != nil {
		return "", err
	}
	ver, err := s.Version(ctx)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	// NUL separators keep ("a", "bc") and ("ab", "c") apart.
	for _, f := range []string{ver, voice, strconv.Itoa(s.cfg.Rate), strconv.Itoa(s.cfg.Pitch), text} {
		io.WriteString(h, f)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// Synthesize speaks text in lang ("zh" or "en", or as configured) and
// returns 8 kHz mono samples in [-1, 1].
func (s *Synth) Synthesize(ctx context.Context, lang, text string) ([]float32, error) {
	if err := checkText(text); err != nil {
		return nil, err
	}
	voice, err := s.voice(lang)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Text goes in on stdin, not as an argument, so text that starts with
	// a dash is never taken for an option; -b 1 says it is UTF-8.
	cmd := exec.CommandContext(ctx, s.cfg.Binary, "--stdout", "-b", "1",
		"-v", voice, "-s", strconv.Itoa(s.cfg.Rate), "-p", strconv.Itoa(s.cfg.Pitch))
	cmd.Stdin = strings.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("prompt: espeak-ng: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, s.execError("synthesize", err)
	}
	s.runs.Add(1)
	// Decoding straight from the pipe bounds memory by MaxDuration however
	// much espeak-ng writes.
	wav, decErr := audio.DecodeWAV(bufio.NewReader(stdout), audio.WithMaxDuration(s.cfg.MaxDuration))
	if decErr != nil {
		cancel() // stop a process whose output is already useless
	} else {
		io.Copy(io.Discard, stdout) // let espeak-ng finish writing
	}
	waitErr := cmd.Wait()
	if waitErr != nil {
		if ctx.Err() != nil && decErr == nil {
			return nil, fmt.Errorf("prompt: espeak-ng: %w", ctx.Err())
		}
		if decErr == nil || stderr.Len() > 0 {
			return nil, fmt.Errorf("prompt: espeak-ng -v %s: %w: %s", voice, waitErr, tail(stderr.String()))
		}
	}
	if decErr != nil {
		return nil, fmt.Errorf("prompt: espeak-ng output: %w", decErr)
	}
	return to8k(wav)
}

// execError turns a failure to start espeak-ng into ErrEngineMissing when
// the binary is not there.
func (s *Synth) execError(op string, err error) error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("prompt: %s with %q: %w", op, s.cfg.Binary, ErrEngineMissing)
	}
	return fmt.Errorf("prompt: %s with %q: %w", op, s.cfg.Binary, err)
}

// tail keeps error messages short when espeak-ng is chatty.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = "…" + s[len(s)-200:]
	}
	return s
}

// to8k resamples decoded audio to SampleRate and clamps it: the resampler's
// ringing can overshoot a full-scale input slightly.
func to8k(w *audio.WAV) ([]float32, error) {
	if len(w.Samples) == 0 {
		return nil, ErrEmptyAudio
	}
	out := w.Samples
	if w.SampleRate != SampleRate {
		var err error
		out, err = audio.Resample(make([]float32, 0, len(w.Samples)*SampleRate/w.SampleRate+1), w.Samples, w.SampleRate, SampleRate)
		if err != nil {
			return nil, fmt.Errorf("prompt: resample %d Hz: %w", w.SampleRate, err)
		}
	}
	for i, v := range out {
		out[i] = max(-1, min(1, v))
	}
	return out, nil
}
