package vad

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/ort"
)

// ErrFinished means Accept or Flush was called after Flush; Reset the
// stream to start a new one.
var ErrFinished = errors.New("vad: stream finished")

// Config tunes a Stream. Start from DefaultConfig: the zero Config is not
// valid, so that a zero MinSpeech or SpeechPad can mean zero.
type Config struct {
	// SampleRate of the samples given to Accept: 8000 (telephone audio,
	// never resampled) or 16000.
	SampleRate int
	// Threshold is the speech probability at or above which a window is
	// speech (0.5, Silero's default). Lower catches quiet callers and lets
	// more noise in.
	Threshold float32
	// NegThreshold is the probability below which a window is not speech;
	// windows in between keep the current state (hysteresis), so speech
	// that wavers around Threshold is not chopped up. 0 means Threshold -
	// 0.15 (Silero's choice), but at least 0.01.
	NegThreshold float32
	// MinSpeech is how long speech must last (windows at or above
	// NegThreshold from one at or above Threshold on) before SpeechStart is
	// declared (250 ms): a cough or a line click must not barge in. The
	// start is reported where the speech began, not where it was confirmed.
	MinSpeech time.Duration
	// MinSilence is the end-of-utterance timer: how long the probability
	// must stay below NegThreshold before SpeechEnd (300 ms). Short enough
	// to answer promptly, long enough to span the pauses inside a sentence.
	MinSilence time.Duration
	// SpeechPad widens each segment on both sides (30 ms), so a recogniser
	// fed [start, end) gets the soft onset and the fading end of a word.
	// A start never moves before the previous end.
	SpeechPad time.Duration
	// MaxSpeech forces a SpeechEnd (Forced) after this much continuous
	// speech (30 s): a caller who never pauses, or noise the model takes for
	// speech, must not hold the IVR forever. Speech that goes on starts a
	// new segment after MinSpeech.
	MaxSpeech time.Duration
}

// DefaultConfig returns the defaults for 8 kHz telephone audio.
func DefaultConfig() Config {
	return Config{
		SampleRate: 8000,
		Threshold:  0.5,
		MinSpeech:  250 * time.Millisecond,
		MinSilence: 300 * time.Millisecond,
		SpeechPad:  30 * time.Millisecond,
		MaxSpeech:  30 * time.Second,
	}
}

// Validate reports every problem with c, wrapped in ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.SampleRate != 8000 && c.SampleRate != 16000 {
		bad("sample rate %d Hz, want 8000 or 16000", c.SampleRate)
	}
	// Written so that NaN fails too.
	if !(c.Threshold > 0 && c.Threshold < 1) {
		bad("threshold %v, want between 0 and 1", c.Threshold)
	}
	if c.NegThreshold != 0 && !(c.NegThreshold > 0 && c.NegThreshold <= c.Threshold) {
		bad("negative threshold %v, want 0 (default) or between 0 and threshold %v", c.NegThreshold, c.Threshold)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"min speech", c.MinSpeech}, {"min silence", c.MinSilence}, {"speech pad", c.SpeechPad}} {
		if d.v < 0 {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	if c.MaxSpeech <= c.MinSpeech {
		bad("max speech %v, want more than min speech %v", c.MaxSpeech, c.MinSpeech)
	}
	return errors.Join(errs...)
}

func (c Config) negThreshold() float32 {
	if c.NegThreshold != 0 {
		return c.NegThreshold
	}
	return max(c.Threshold-0.15, 0.01)
}

// EventKind says what an Event marks.
type EventKind uint8

// Event kinds.
const (
	SpeechStart EventKind = iota + 1
	SpeechEnd
)

func (k EventKind) String() string {
	switch k {
	case SpeechStart:
		return "SpeechStart"
	case SpeechEnd:
		return "SpeechEnd"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is the start or end of a speech segment.
type Event struct {
	Kind EventKind
	// Sample is where the segment starts or ends (SpeechPad included),
	// counted in samples from the start of the stream (or its last Reset).
	// It is accurate to the window (32 ms) and never beyond the samples
	// accepted so far.
	Sample int64
	// Offset is Sample as a duration.
	Offset time.Duration
	// Forced marks a SpeechEnd that MaxSpeech imposed.
	Forced bool
}

func (e Event) String() string {
	s := fmt.Sprintf("%v@%v", e.Kind, e.Offset)
	if e.Forced {
		s += "(forced)"
	}
	return s
}

// Stream is the voice activity of one audio stream (one call). It is not
// safe for concurrent use: feed it from the call's goroutine.
type Stream struct {
	m      *Model
	cfg    Config
	neg    float32
	window int // samples per model window
	ctxLen int // samples of the previous window the model sees again
	// Durations in samples.
	minSpeech, minSilence, pad, maxSpeech int64

	// in is the model input, [context | window]; n samples of the window
	// are filled. state is the model's recurrent state.
	in     []float32
	n      int
	state  []float32
	inputs []ort.Tensor

	pos   int64 // samples in complete windows so far
	total int64 // samples accepted so far
	prob  float32

	speaking bool
	cand     int64 // where unconfirmed speech began; -1 = none
	start    int64 // where the current segment's speech began (unpadded)
	silence  int64 // where the current silence began while speaking; -1 = none
	lastEnd  int64 // Sample of the last SpeechEnd

	err      error // sticky: a failed inference loses the stream's position
	finished bool
}

// NewStream starts a stream with cfg, which must be valid.
func (m *Model) NewStream(cfg Config) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	samples := func(d time.Duration) int64 {
		return int64(d) * int64(cfg.SampleRate) / int64(time.Second)
	}
	// The window and context sizes are the model's, fixed by Silero's
	// training: 32 ms of audio after 4 ms of the previous window.
	window, ctxLen := 256, 32
	if cfg.SampleRate == 16000 {
		window, ctxLen = 512, 64
	}
	s := &Stream{
		m:          m,
		cfg:        cfg,
		neg:        cfg.negThreshold(),
		window:     window,
		ctxLen:     ctxLen,
		minSpeech:  samples(cfg.MinSpeech),
		minSilence: samples(cfg.MinSilence),
		pad:        samples(cfg.SpeechPad),
		maxSpeech:  samples(cfg.MaxSpeech),
		in:         make([]float32, ctxLen+window),
		state:      make([]float32, stateSize),
	}
	s.inputs = []ort.Tensor{
		{Shape: []int64{1, int64(ctxLen + window)}, Float32: s.in},
		{Shape: []int64{2, 1, 128}, Float32: s.state},
		{Shape: []int64{}, Int64: []int64{int64(cfg.SampleRate)}},
	}
	s.Reset()
	return s, nil
}

// Reset starts the stream over, as a new stream with the same Config.
func (s *Stream) Reset() {
	clear(s.in)
	clear(s.state)
	s.n, s.pos, s.total, s.prob = 0, 0, 0, 0
	s.speaking, s.cand, s.start, s.silence, s.lastEnd = false, -1, 0, -1, 0
	s.err, s.finished = nil, false
}

// Config returns the stream's configuration.
func (s *Stream) Config() Config { return s.cfg }

// Probability is the speech probability of the last complete window (0
// before the first), for callers that decide barge-in themselves.
func (s *Stream) Probability() float32 { return s.prob }

// Speaking reports whether a segment is open: SpeechStart was returned and
// its SpeechEnd not yet.
func (s *Stream) Speaking() bool { return s.speaking }

// Accept feeds mono samples in [-1, 1] at the configured rate, in chunks of
// any size (an empty one is a no-op), and returns the events the complete
// windows among them decided. Samples out of range are clipped and NaN
// counts as 0, because a single non-finite value would poison the model's
// recurrent state for the rest of the call. ctx bounds the inferences.
//
// On an error (ctx done, model closed) the events decided before it are
// returned with it, and the stream, whose position in the audio is lost,
// returns the error until Reset.
func (s *Stream) Accept(ctx context.Context, samples []float32) ([]Event, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	var events []Event
	for len(samples) > 0 {
		k := min(s.window-s.n, len(samples))
		dst := s.in[s.ctxLen+s.n : s.ctxLen+s.n+k]
		for i, v := range samples[:k] {
			dst[i] = clip(v)
		}
		s.n += k
		s.total += int64(k)
		samples = samples[k:]
		if s.n < s.window {
			break
		}
		var err error
		if events, err = s.step(ctx, events); err != nil {
			return events, err
		}
	}
	return events, nil
}

// Flush ends the stream: it runs the model on the samples still short of a
// window (padded with silence), then closes an open segment with a
// SpeechEnd at the end of its speech or of the audio. Speech not yet
// confirmed (shorter than MinSpeech) is dropped. Accept and Flush fail with
// ErrFinished afterwards, until Reset.
func (s *Stream) Flush(ctx context.Context) ([]Event, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	var events []Event
	if s.n > 0 {
		clear(s.in[s.ctxLen+s.n:])
		s.n = s.window
		var err error
		if events, err = s.step(ctx, events); err != nil {
			return events, err
		}
	}
	if s.speaking {
		end := s.total
		if s.silence >= 0 {
			end = s.silence + s.pad
		}
		events = s.end(events, end, false)
	}
	s.finished = true
	return events, nil
}

func (s *Stream) usable() error {
	if s.err != nil {
		return s.err
	}
	if s.finished {
		return ErrFinished
	}
	return nil
}

func clip(v float32) float32 {
	switch {
	case v != v: // NaN
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return v
}

// step runs the model on the full window in s.in and appends what it decides.
func (s *Stream) step(ctx context.Context, events []Event) ([]Event, error) {
	out, err := s.m.sess.Run(ctx, s.inputs)
	if err == nil && (len(out[0].Float32) != 1 || len(out[1].Float32) != stateSize) {
		err = fmt.Errorf("%w: model returned %d probabilities and a state of %d values, want 1 and %d", ort.ErrShapeMismatch, len(out[0].Float32), len(out[1].Float32), stateSize)
	}
	if err != nil {
		s.err = fmt.Errorf("vad: window at sample %d: %w", s.pos, err)
		return events, s.err
	}
	copy(s.state, out[1].Float32)
	// The next input starts with the last samples of this one, as
	// OnnxWrapper keeps them: the model was trained to see them again.
	copy(s.in[:s.ctxLen], s.in[s.window:])
	s.n = 0
	p := out[0].Float32[0]
	if math.IsNaN(float64(p)) {
		p = 0
	}
	s.prob = p
	from := s.pos
	s.pos += int64(s.window)
	return s.decide(events, p, from, s.pos), nil
}

// decide advances the speech state machine by one window [from, to) with
// speech probability p.
func (s *Stream) decide(events []Event, p float32, from, to int64) []Event {
	if !s.speaking {
		switch {
		case p >= s.cfg.Threshold:
			if s.cand < 0 {
				s.cand = from
			}
		case p < s.neg:
			s.cand = -1
		}
		if s.cand >= 0 && to-s.cand >= s.minSpeech {
			s.speaking, s.start, s.silence, s.cand = true, s.cand, -1, -1
			at := max(s.start-s.pad, s.lastEnd)
			events = append(events, s.event(SpeechStart, at, false))
		}
		return events
	}
	switch {
	case p >= s.cfg.Threshold:
		s.silence = -1
	case p < s.neg:
		if s.silence < 0 {
			s.silence = from
		}
	}
	if s.silence >= 0 && to-s.silence >= s.minSilence {
		return s.end(events, min(s.silence+s.pad, to), false)
	}
	if to-s.start >= s.maxSpeech {
		return s.end(events, to, true)
	}
	return events
}

func (s *Stream) end(events []Event, at int64, forced bool) []Event {
	ev := s.event(SpeechEnd, at, forced)
	s.speaking, s.silence, s.lastEnd = false, -1, ev.Sample
	return append(events, ev)
}

func (s *Stream) event(kind EventKind, at int64, forced bool) Event {
	at = min(max(at, 0), s.total)
	return Event{
		Kind:   kind,
		Sample: at,
		Offset: time.Duration(at) * time.Second / time.Duration(s.cfg.SampleRate),
		Forced: forced,
	}
}
