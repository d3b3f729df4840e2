package asr

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/vad"
)

// Result is the recognition of one utterance.
type Result struct {
	Text string `json:"text"`
	// Confidence is the lowest word confidence: one doubtful word makes
	// a doubtful answer, which is what an IVR's confirm-or-reprompt
	// decision needs.
	Confidence float32 `json:"confidence"`
	Words      []Word  `json:"words,omitempty"`
	// Start and End place the utterance in the stream.
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
	// Slot is the normalised value a slot grammar read (e.g. the digits
	// "20261124"); GrammarMatched is false when a grammar was set and no
	// hypothesis satisfied it (Text then holds the unconstrained best).
	Slot           string `json:"slot,omitempty"`
	GrammarMatched bool   `json:"grammar_matched,omitempty"`
	// Phrase is the expected phrase the result matched, if any.
	Phrase string `json:"phrase,omitempty"`
}

// Word is one recognised word (a Chinese character is a word).
type Word struct {
	Text       string        `json:"text"`
	Start      time.Duration `json:"start_ns"`
	End        time.Duration `json:"end_ns"`
	Confidence float32       `json:"confidence"`
}

// TranscribeOptions configure Transcribe.
type TranscribeOptions struct {
	Expect Expect
	// VAD, when set, splits a long recording into utterances at pauses;
	// without it the recording is cut every MaxSegment.
	Stream StreamConfig
	// MaxSegment bounds an utterance without VAD (default 30 s): a model
	// run over ten minutes at once would need memory proportional to it.
	MaxSegment time.Duration
}

// Transcribe recognizes a whole recording (voicemail, an uploaded file)
// at sampleRate and returns one Result per utterance, in order. Silence
// gives no results, not an error.
func (m *Model) Transcribe(ctx context.Context, samples []float32, sampleRate int, opts TranscribeOptions) ([]Result, error) {
	cfg := opts.Stream
	cfg.SampleRate = sampleRate
	cfg.Expect = opts.Expect
	cfg.PartialEvery = -1
	if cfg.VAD != nil && cfg.VADConfig == (vad.Config{}) {
		cfg.VADConfig = vad.DefaultConfig() // MaxSpeech bounds each utterance
	}
	st, err := m.NewStream(cfg)
	if err != nil {
		return nil, err
	}
	maxSeg := opts.MaxSegment
	if maxSeg <= 0 {
		maxSeg = 30 * time.Second
	}
	segLen := int(maxSeg.Seconds() * float64(sampleRate))
	// Feed in 1 s pieces: the stream's work per call stays bounded and
	// cancellation is noticed within a second of audio.
	piece := max(1, sampleRate)
	var out []Result
	fed := 0
	for off := 0; off < len(samples); off += piece {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("asr: transcribe: %w", err)
		}
		end := min(len(samples), off+piece)
		evs, err := st.Accept(ctx, samples[off:end])
		if err != nil {
			return out, err
		}
		out = appendFinals(out, evs)
		fed += end - off
		if cfg.VAD == nil && fed >= segLen && end < len(samples) {
			// without a VAD, cut the recording into bounded segments
			evs, err := st.Finish(ctx)
			if err != nil {
				return out, err
			}
			out = appendFinals(out, evs)
			offset := st.time(st.received)
			if st, err = m.NewStream(cfg); err != nil {
				return out, err
			}
			st.timeOffset = offset
			fed = 0
		}
	}
	evs, err := st.Finish(ctx)
	if err != nil {
		return out, err
	}
	return appendFinals(out, evs), nil
}

func appendFinals(out []Result, evs []Event) []Result {
	for _, e := range evs {
		if e.Kind == Final && e.Result.Text != "" {
			out = append(out, e.Result)
		}
	}
	return out
}
