package ctc

import (
	"fmt"
	"math"
)

// Greedy is the best-path decoder: the most probable token of each frame,
// repeats collapsed, blanks dropped. It is the cheapest decoder and the
// reference the others are measured against; it cannot use a Context or a
// Grammar. A Greedy is read-only and safe for concurrent use.
type Greedy struct {
	vocab *Vocab
}

// NewGreedy returns a greedy decoder for vocab.
func NewGreedy(vocab *Vocab) (*Greedy, error) {
	if vocab == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrInvalid)
	}
	return &Greedy{vocab: vocab}, nil
}

// Decode decodes a whole utterance.
func (g *Greedy) Decode(frames [][]float32) (Result, error) {
	s := g.NewStream()
	if err := s.Accept(frames); err != nil {
		return Result{}, err
	}
	return s.Final(), nil
}

// NewStream starts decoding an utterance.
func (g *Greedy) NewStream() *GreedyStream {
	return &GreedyStream{g: g, prev: -1}
}

// GreedyStream decodes one utterance frame chunk by frame chunk; any
// chunking gives the same result. It is used by one goroutine.
type GreedyStream struct {
	g      *Greedy
	tokens []Token
	prev   int // argmax of the previous frame
	score  float64
	frames int
}

// Accept decodes frames, each a row of V log-probabilities. A chunk with a
// malformed frame is refused whole (ErrShape, ErrInvalidFrame) and the
// stream stays as it was.
func (s *GreedyStream) Accept(frames [][]float32) error {
	if err := checkFrames(frames, s.g.vocab.Size()); err != nil {
		return fmt.Errorf("ctc: greedy: %w", err)
	}
	blank := s.g.vocab.blank
	for _, row := range frames {
		best, bestLP := 0, float32(math.Inf(-1))
		for id, lp := range row {
			if lp > bestLP { // first maximum wins a tie: deterministic
				best, bestLP = id, lp
			}
		}
		p := float32(math.Exp(float64(bestLP)))
		switch {
		case best == blank:
		case best == s.prev:
			last := &s.tokens[len(s.tokens)-1]
			last.Confidence = max(last.Confidence, p)
		default:
			s.tokens = append(s.tokens, Token{ID: best, Frame: s.frames, Confidence: p})
		}
		s.prev = best
		s.score += float64(bestLP)
		s.frames++
	}
	return nil
}

// AcceptFlat is Accept for a row-major frames × v buffer, as an ONNX
// output holds it; v must equal the vocabulary size.
func (s *GreedyStream) AcceptFlat(data []float32, frames, v int) error {
	r, err := rows(data, frames, v, s.g.vocab.Size())
	if err != nil {
		return fmt.Errorf("ctc: greedy: %w", err)
	}
	return s.Accept(r)
}

// Frames is the number of frames accepted so far.
func (s *GreedyStream) Frames() int { return s.frames }

// Partial is the transcript so far. Greedy decoding never revises a
// token, so it equals Final.
func (s *GreedyStream) Partial() Result { return s.Final() }

// Final is the transcript of the frames accepted so far. It does not end
// the stream.
func (s *GreedyStream) Final() Result {
	tokens := append([]Token(nil), s.tokens...)
	return makeResult(s.g.vocab, tokens, s.score, s.score, s.frames)
}
