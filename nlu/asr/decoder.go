package asr

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

// ErrExpect wraps an Expect that cannot be used with the model: bad
// shape, or phrases the model's tokens cannot spell.
var ErrExpect = errors.New("asr: unusable expectation")

// ctcStream is what both ctc decoders' streams provide.
type ctcStream interface {
	AcceptFlat(data []float32, frames, v int) error
	Partial() ctc.Result
	Final() ctc.Result
}

// decoder decodes the utterances of one Stream with its Expect.
type decoder struct {
	m     *Model
	open  func() ctcStream
	s     ctcStream
	oneOf bool
}

func (m *Model) newDecoder(e Expect) (*decoder, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExpect, err)
	}
	d := &decoder{m: m, oneOf: len(e.OneOf) > 0}
	if e.Beam == 1 && len(e.Phrases) == 0 && len(e.OneOf) == 0 && e.Digits == nil {
		g, err := ctc.NewGreedy(m.vocab)
		if err != nil {
			return nil, fmt.Errorf("asr: %w", err)
		}
		d.open = func() ctcStream { return g.NewStream() }
		d.reset()
		return d, nil
	}
	opts := ctc.BeamOptions{BeamSize: e.Beam}
	if opts.BeamSize <= 1 {
		opts.BeamSize = DefaultBeam
	}
	if len(e.Phrases) > 0 {
		ps := make([]ctc.Phrase, len(e.Phrases))
		for i, p := range e.Phrases {
			ps[i] = ctc.Phrase{Text: p, Boost: e.Boost}
		}
		c, err := ctc.NewContext(m.vocab, ps)
		if err != nil {
			return nil, fmt.Errorf("%w: phrases: %w", ErrExpect, err)
		}
		opts.Context = c
	}
	switch {
	case len(e.OneOf) > 0:
		g, err := ctc.PhraseGrammar(m.vocab, e.OneOf)
		if err != nil {
			return nil, fmt.Errorf("%w: one_of: %w", ErrExpect, err)
		}
		opts.Grammar = g
	case e.Digits != nil:
		g, err := ctc.DigitGrammar(m.vocab, e.Digits.Min, e.Digits.Max)
		if err != nil {
			return nil, fmt.Errorf("%w: digits: %w", ErrExpect, err)
		}
		opts.Grammar = g
	}
	b, err := ctc.NewBeamSearch(m.vocab, opts)
	if err != nil {
		return nil, fmt.Errorf("asr: %w", err)
	}
	d.open = func() ctcStream { return b.NewStream() }
	d.reset()
	return d, nil
}

func (d *decoder) reset() { d.s = d.open() }

func (d *decoder) accept(lp []float32, n int) error {
	if err := d.s.AcceptFlat(lp, n, d.m.info.Vocab); err != nil {
		return fmt.Errorf("asr: decode: %w", err)
	}
	return nil
}

func (d *decoder) partial() Result { return d.convert(d.s.Partial()) }
func (d *decoder) final() Result   { return d.convert(d.s.Final()) }

// convert turns a ctc result into utterance-relative times.
func (d *decoder) convert(r ctc.Result) Result {
	frame := time.Duration(d.m.info.FrameDuration() * float64(time.Second))
	out := Result{Text: r.Text, Slot: r.Slot, GrammarMatched: r.GrammarMatched, Confidence: 1}
	if d.oneOf && r.GrammarMatched {
		out.Phrase = r.Slot
	}
	for _, w := range r.Words {
		s, e := w.Time(frame)
		out.Words = append(out.Words, Word{Text: w.Text, Start: s, End: e, Confidence: w.Confidence})
		out.Confidence = min(out.Confidence, w.Confidence)
	}
	if len(out.Words) == 0 {
		out.Confidence = 0
	}
	return out
}
