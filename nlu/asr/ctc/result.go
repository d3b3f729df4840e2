package ctc

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Result is a decoded hypothesis.
type Result struct {
	// Text is the detokenized transcript (Vocab.Detokenize of Tokens).
	Text   string
	Tokens []Token
	Words  []Word
	// Score is the natural-log probability of the hypothesis: for beam
	// search the sum over all alignments of its token sequence, for greedy
	// decoding the probability of the single best path.
	Score float64
	// Bonus is the contextual-biasing bonus (nats) the hypothesis was
	// ranked with, Score+Bonus; 0 without a Context. Final results count
	// completed phrases only.
	Bonus float64
	// BestPath is the log-probability of the single best path, the
	// greedy decoder's Score, which no grammar or context constrains.
	// Score-BestPath says how much a constraint cost: near 0 or above
	// (beam search sums paths) the model heard what the grammar allows;
	// far below (say under -5) the grammar forced a reading the audio does
	// not support, and an IVR should reject the slot and reprompt.
	BestPath float64
	// Frames is the number of frames decoded.
	Frames int
	// GrammarMatched reports that the stream had a Grammar and the tokens
	// end in one of its final states. It is always false without a
	// Grammar.
	GrammarMatched bool
	// Slot is the grammar's normalised value (Grammar.Value), e.g. "4096"
	// for a DigitGrammar or the phrase for a PhraseGrammar; "" unless
	// GrammarMatched.
	Slot string
}

// Token is one emitted token.
type Token struct {
	ID     int
	Symbol string
	// Frame is the first frame at which the token is emitted on the
	// winning path.
	Frame int
	// Confidence is the token's largest posterior, exp(logp), over the
	// frames it spans on the winning path. CTC posteriors are peaky: a
	// token holds one or two frames between blanks, and a mean would be
	// dragged down by the transition frames on either side of the spike,
	// while the spike's height is what says how sure the model was.
	Confidence float32
}

// Word is a word of the transcript: a CJK character, or the tokens between
// two word markers.
type Word struct {
	Text string
	// Start is the frame of the word's first token, End one past the frame
	// of its last token. Convert with Time.
	Start, End int
	// Confidence is the smallest confidence of the word's tokens: one
	// doubtful letter makes the whole word doubtful, and an IVR should
	// reprompt rather than accept a mishearing a mean would hide.
	Confidence float32
}

// FrameDuration is the time between two output frames of a model:
// its feature frame shift times its subsampling factor (10 ms × 4 = 40 ms
// for zipformer CTC models).
func FrameDuration(frameShift time.Duration, subsampling int) time.Duration {
	return frameShift * time.Duration(subsampling)
}

// Time converts the word's frames to times from the start of the decoded
// audio, given FrameDuration.
func (w Word) Time(frame time.Duration) (start, end time.Duration) {
	return time.Duration(w.Start) * frame, time.Duration(w.End) * frame
}

// Time is the token's emission time given FrameDuration.
func (t Token) Time(frame time.Duration) time.Duration {
	return time.Duration(t.Frame) * frame
}

// makeResult fills Text, Words and symbols from tokens.
func makeResult(v *Vocab, tokens []Token, score, bestPath float64, frames int) Result {
	ids := make([]int, len(tokens))
	for i := range tokens {
		tokens[i].Symbol = v.Symbol(tokens[i].ID)
		ids[i] = tokens[i].ID
	}
	if len(tokens) == 0 {
		tokens = nil
	}
	return Result{
		Text:     v.Detokenize(ids),
		Tokens:   tokens,
		Words:    words(tokens),
		Score:    score,
		BestPath: bestPath,
		Frames:   frames,
	}
}

// words groups tokens into words: each CJK character is a word; other
// symbols are glued to the previous one until a word marker.
func words(tokens []Token) []Word {
	var out []Word
	open := false // the last word takes more symbols
	for _, t := range tokens {
		sym, marked := strings.CutPrefix(t.Symbol, WordMarker)
		if marked {
			open = false
		}
		for sym != "" {
			r, n := utf8.DecodeRuneInString(sym)
			cjk := isCJK(r)
			if !open || cjk {
				out = append(out, Word{Start: t.Frame, Confidence: t.Confidence})
			}
			w := &out[len(out)-1]
			w.Text += sym[:n]
			w.End = t.Frame + 1
			w.Confidence = min(w.Confidence, t.Confidence)
			open = !cjk
			sym = sym[n:]
		}
	}
	return out
}

// checkFrames validates a chunk before any of it is decoded, so a stream
// that refuses a chunk is left as it was.
func checkFrames(frames [][]float32, v int) error {
	for t, row := range frames {
		if len(row) != v {
			return fmt.Errorf("%w: frame %d has %d values, vocabulary has %d tokens", ErrShape, t, len(row), v)
		}
		if err := checkRow(row); err != nil {
			return fmt.Errorf("frame %d: %w", t, err)
		}
	}
	return nil
}

func checkRow(row []float32) error {
	finite := false
	for _, x := range row {
		if x != x || x > math.MaxFloat32 {
			return fmt.Errorf("%w: NaN or +Inf", ErrInvalidFrame)
		}
		finite = finite || x >= -math.MaxFloat32
	}
	if !finite {
		return fmt.Errorf("%w: every token is -Inf", ErrInvalidFrame)
	}
	return nil
}

// rows splits a row-major frames × v buffer, checking its shape.
func rows(data []float32, frames, v, want int) ([][]float32, error) {
	if v != want {
		return nil, fmt.Errorf("%w: %d tokens per frame, vocabulary has %d", ErrShape, v, want)
	}
	if frames < 0 || len(data) != frames*v {
		return nil, fmt.Errorf("%w: %d values for %d frames × %d tokens", ErrShape, len(data), frames, v)
	}
	out := make([][]float32, frames)
	for t := range out {
		out[t] = data[t*v : (t+1)*v : (t+1)*v]
	}
	return out, nil
}
