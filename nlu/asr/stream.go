package asr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
	"github.com/switchboard-cc/switchboard/nlu/vad"
)

// ErrClosed is returned by a Stream used after Finish.
var ErrClosed = errors.New("asr: stream finished")

// EventKind says what an Event reports.
type EventKind int

const (
	// SpeechStarted: the VAD heard the caller start speaking (barge-in).
	SpeechStarted EventKind = iota + 1
	// Partial: the hypothesis so far for the utterance in progress.
	Partial
	// Final: the utterance ended (VAD end of speech, the forced maximum
	// length, or Finish) and this is its result.
	Final
)

func (k EventKind) String() string {
	switch k {
	case SpeechStarted:
		return "speech_started"
	case Partial:
		return "partial"
	case Final:
		return "final"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something a Stream reports. At is the stream time (audio
// accepted so far) when it was decided.
type Event struct {
	Kind   EventKind
	At     time.Duration
	Result Result // Partial and Final
}

// StreamConfig configures one stream (one call, one recording).
type StreamConfig struct {
	// SampleRate of the samples given to Accept; 0 means the model's.
	// Other rates are resampled (telephone audio at 8 kHz is not, for an
	// 8 kHz model).
	SampleRate int
	// Expect is what the IVR node listening expects to hear.
	Expect Expect
	// VAD, when set, splits the audio into utterances: a Final comes at
	// each end of speech. Without it the whole input is one utterance
	// ended by Finish.
	VAD       *vad.Model
	VADConfig vad.Config
	// PartialEvery is how much new audio a Partial waits for; 0 means
	// 1 s, negative means no partial results. A model with a declared
	// receptive field is run in chunks of at least its left+right context
	// (the partial text changes only when a chunk completes), and its
	// partials trail the audio by its right context.
	PartialEvery time.Duration
	// PreRoll is audio before the VAD's start of speech that the
	// utterance includes; 0 means 500 ms (MinSpeech plus a pause between
	// two words), negative none.
	PreRoll time.Duration
	// PostRoll is audio after the VAD's end of speech that the utterance
	// includes; 0 means 200 ms, negative none. It costs no latency: the
	// VAD decides the end only after MinSilence of quiet.
	PostRoll time.Duration
}

// Stream recognizes one audio stream incrementally. It is not safe for
// concurrent use: one goroutine (the call's media loop) owns it.
type Stream struct {
	m     *Model
	dec   *decoder
	enc   *encoder
	rs    *audio.Resampler // nil when the input is at the model's rate
	rsBuf []float32
	inBuf []float32
	vad   *vad.Stream // nil without VAD
	fb    *audio.OnlineFbank
	done  bool

	rate     int
	received int64 // model-rate samples accepted
	// hist keeps the latest model-rate samples, because the VAD declares
	// speech after hearing some of it: the utterance starts in the past.
	hist      []float32
	histStart int64 // stream index of hist[0]
	histKeep  int   // samples of history kept
	inSpeech  bool
	uttStart  int64 // stream index of the current utterance's first sample
	fed       int64 // stream index up to which the utterance has its samples
	holdBack  int64 // samples not fed yet in case the VAD ends speech in them
	preRoll   int64 // samples before the VAD's start included in an utterance
	postRoll  int64 // samples after the VAD's end included in an utterance
	lastEnd   int64 // stream index where the previous utterance ended
	sincePart int   // input frames since the last partial
	partEvery int   // in input frames; 0 = never
	// timeOffset places this stream's time zero in a longer recording.
	timeOffset time.Duration
}

// NewStream starts a stream on the model.
func (m *Model) NewStream(cfg StreamConfig) (*Stream, error) {
	rate := m.info.SampleRate
	if cfg.SampleRate == 0 {
		cfg.SampleRate = rate
	}
	s := &Stream{m: m, rate: rate}
	if cfg.SampleRate != rate {
		rs, err := audio.NewResampler(cfg.SampleRate, rate)
		if err != nil {
			return nil, fmt.Errorf("asr: stream: %w", err)
		}
		s.rs = rs
	}
	dec, err := m.newDecoder(cfg.Expect)
	if err != nil {
		return nil, err
	}
	s.dec = dec
	if s.fb, err = audio.NewOnlineFbank(m.info.Features); err != nil {
		return nil, fmt.Errorf("asr: stream: %w", err)
	}
	shift := m.info.Features.FrameShiftMs
	switch {
	case cfg.PartialEvery < 0:
		s.partEvery = 0
	case cfg.PartialEvery == 0:
		s.partEvery = int(1000 / shift)
	default:
		s.partEvery = max(1, int(float64(cfg.PartialEvery.Milliseconds())/shift))
	}
	chunk := s.partEvery
	if chunk == 0 {
		chunk = int(1000 / shift) // no partials: still bound the work per step
	}
	if m.info.Streamable() {
		// Each chunk recomputes its left and right context; a chunk at
		// least that long keeps the overhead to about 2x one pass.
		chunk = max(chunk, m.info.LeftContext+m.info.RightContext)
	}
	s.enc = newEncoder(m, chunk)
	if cfg.VAD != nil {
		vc := cfg.VADConfig
		if vc == (vad.Config{}) {
			vc = vad.DefaultConfig()
		}
		vc.SampleRate = rate
		vs, err := cfg.VAD.NewStream(vc)
		if err != nil {
			return nil, fmt.Errorf("asr: stream: %w", err)
		}
		s.vad = vs
		s.holdBack = int64(vc.MinSilence.Seconds() * float64(rate))
		switch {
		case cfg.PreRoll == 0:
			s.preRoll = int64(rate) / 2
		case cfg.PreRoll > 0:
			s.preRoll = int64(cfg.PreRoll.Seconds() * float64(rate))
		}
		switch {
		case cfg.PostRoll == 0:
			s.postRoll = int64(rate) / 5
		case cfg.PostRoll > 0:
			s.postRoll = int64(cfg.PostRoll.Seconds() * float64(rate))
		}
		// the held-back audio must cover the post-roll
		s.holdBack = max(s.holdBack, s.postRoll)
		// the history must reach back past the VAD's decision delay and
		// the pre-roll
		s.histKeep = int(max(3*time.Second, vc.MinSilence+vc.MinSpeech+vc.SpeechPad+time.Second).Seconds()*float64(rate)) + int(s.preRoll)
	}
	return s, nil
}

// Accept takes the next samples (mono, [-1, 1], at cfg.SampleRate) and
// returns what they made happen. NaN samples count as silence and samples
// beyond [-1, 1] are clipped, as a codec would.
func (s *Stream) Accept(ctx context.Context, samples []float32) ([]Event, error) {
	if s.done {
		return nil, ErrClosed
	}
	s.inBuf = sanitize(s.inBuf[:0], samples)
	samples = s.inBuf
	if s.rs != nil {
		s.rsBuf = s.rs.Process(s.rsBuf[:0], samples)
		samples = s.rsBuf
	}
	return s.process(ctx, samples)
}

// process handles samples at the model's rate.
func (s *Stream) process(ctx context.Context, samples []float32) ([]Event, error) {
	if len(samples) == 0 {
		return nil, nil
	}
	if s.vad == nil {
		if !s.inSpeech {
			s.startUtterance(s.received)
		}
		s.received += int64(len(samples))
		s.fed = s.received
		return s.feed(ctx, samples)
	}
	s.remember(samples)
	defer s.trimHist()
	s.received += int64(len(samples))
	vevs, err := s.vad.Accept(ctx, samples)
	if err != nil {
		return nil, fmt.Errorf("asr: vad: %w", err)
	}
	evs, err := s.vadEvents(ctx, vevs)
	if err != nil || !s.inSpeech {
		return evs, err
	}
	// The newest audio is held back for as long as the VAD may still
	// place the end of speech inside it: an utterance is then exactly
	// [start, end) however the audio was packetized.
	ev, err := s.feedTo(ctx, s.received-s.holdBack)
	return append(evs, ev...), err
}

// vadEvents starts and ends utterances at the VAD's events.
func (s *Stream) vadEvents(ctx context.Context, vevs []vad.Event) ([]Event, error) {
	var evs []Event
	for _, ve := range vevs {
		switch {
		case ve.Kind == vad.SpeechStart && !s.inSpeech:
			// The VAD declares speech after MinSpeech (250 ms) of it, and a
			// dip between words restarts that count, so a short first word
			// ("two", "五") can lie before the start it reports; a lost
			// first word is a lost first digit. The utterance reaches back
			// by PreRoll (never into the previous one).
			s.startUtterance(max(ve.Sample-s.preRoll, s.lastEnd, s.histStart))
			evs = append(evs, Event{Kind: SpeechStarted, At: s.time(s.received)})
		case ve.Kind == vad.SpeechEnd && s.inSpeech:
			// Likewise the VAD's probability falls before a trailing
			// fricative or vowel does: the utterance keeps a little of
			// what follows (held back audio, so it is already here).
			end := min(ve.Sample+s.postRoll, s.received)
			ev, err := s.feedTo(ctx, end)
			evs = append(evs, ev...)
			if err != nil {
				return evs, err
			}
			ev, err = s.endUtterance(ctx, end)
			evs = append(evs, ev...)
			if err != nil {
				return evs, err
			}
		}
	}
	return evs, nil
}

// feedTo feeds the remembered samples from s.fed up to stream index to.
func (s *Stream) feedTo(ctx context.Context, to int64) ([]Event, error) {
	if to <= s.fed {
		return nil, nil
	}
	chunk := s.histRange(s.fed, to)
	s.fed = to
	return s.feed(ctx, chunk)
}

// sanitize appends samples to dst with NaN as 0 and the rest clipped to
// [-1, 1]: one bad sample must not turn an utterance's features into NaN.
func sanitize(dst, samples []float32) []float32 {
	for _, v := range samples {
		switch {
		case v != v:
			v = 0
		case v > 1:
			v = 1
		case v < -1:
			v = -1
		}
		dst = append(dst, v)
	}
	return dst
}

// Finish ends the stream: an utterance in progress gets its Final.
func (s *Stream) Finish(ctx context.Context) ([]Event, error) {
	if s.done {
		return nil, ErrClosed
	}
	s.done = true
	var evs []Event
	if s.rs != nil {
		ev, err := s.process(ctx, s.rs.Flush(nil))
		evs = append(evs, ev...)
		if err != nil {
			return evs, err
		}
	}
	if s.vad != nil {
		vevs, err := s.vad.Flush(ctx)
		if err != nil {
			return evs, fmt.Errorf("asr: vad: %w", err)
		}
		ev, err := s.vadEvents(ctx, vevs)
		evs = append(evs, ev...)
		if err != nil {
			return evs, err
		}
	}
	if !s.inSpeech {
		return evs, nil
	}
	if s.vad != nil {
		ev, err := s.feedTo(ctx, s.received)
		evs = append(evs, ev...)
		if err != nil {
			return evs, err
		}
	}
	ev, err := s.endUtterance(ctx, s.received)
	return append(evs, ev...), err
}

func (s *Stream) startUtterance(at int64) {
	s.inSpeech = true
	s.uttStart, s.fed = at, at
	s.sincePart = 0
	s.fb.Reset()
	s.enc.reset()
	s.dec.reset()
}

// feed runs utterance samples through features, model and decoder.
func (s *Stream) feed(ctx context.Context, samples []float32) ([]Event, error) {
	s.fb.Accept(samples)
	n := s.fb.NumReady()
	if n == 0 {
		return nil, nil
	}
	s.enc.push(s.fb, n)
	s.sincePart += n
	if err := s.decode(ctx, false); err != nil {
		return nil, err
	}
	if s.partEvery == 0 || s.sincePart < s.partEvery {
		return nil, nil
	}
	s.sincePart = 0
	return []Event{{Kind: Partial, At: s.time(s.received), Result: s.result(s.dec.partial())}}, nil
}

func (s *Stream) decode(ctx context.Context, final bool) error {
	lp, n, restart, err := s.enc.step(ctx, final)
	if err != nil {
		return err
	}
	if restart {
		s.dec.reset()
	}
	if n > 0 {
		if err := s.dec.accept(lp, n); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stream) endUtterance(ctx context.Context, at int64) ([]Event, error) {
	s.inSpeech = false
	s.lastEnd = at
	s.fb.Finish()
	s.enc.push(s.fb, s.fb.NumReady())
	if err := s.decode(ctx, true); err != nil {
		return nil, err
	}
	r := s.result(s.dec.final())
	r.End = s.time(at)
	return []Event{{Kind: Final, At: s.time(s.received), Result: r}}, nil
}

// result places a decoder result in stream time.
func (s *Stream) result(r Result) Result {
	off := s.time(s.uttStart)
	r.Start += off
	r.End = off + time.Duration(float64(s.enc.frames)*s.m.info.Features.FrameShiftMs*float64(time.Millisecond))
	for i := range r.Words {
		r.Words[i].Start += off
		r.Words[i].End += off
	}
	return r
}

func (s *Stream) time(idx int64) time.Duration {
	return s.timeOffset + time.Duration(idx)*time.Second/time.Duration(s.rate)
}

func (s *Stream) remember(samples []float32) {
	s.hist = append(s.hist, samples...)
}

// trimHist forgets history the VAD can no longer reach back to (never
// samples the utterance in progress has not been fed).
func (s *Stream) trimHist() {
	keep := s.histKeep
	if s.inSpeech {
		keep = max(keep, int(s.received-s.fed))
	}
	if over := len(s.hist) - keep; over > 0 {
		s.hist = append(s.hist[:0], s.hist[over:]...)
		s.histStart += int64(over)
	}
}

// histRange returns the remembered samples with stream indexes [from, to),
// clipped to what is still remembered.
func (s *Stream) histRange(from, to int64) []float32 {
	from = max(from, s.histStart)
	to = min(to, s.histStart+int64(len(s.hist)))
	if from >= to {
		return nil
	}
	return s.hist[from-s.histStart : to-s.histStart]
}
