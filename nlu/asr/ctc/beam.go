package ctc

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Defaults of BeamOptions.
const (
	DefaultBeamSize = 8
	DefaultTopK     = 8
	// DefaultPruneLogProb: tokens more than 10 nats (a posterior ratio of
	// about 22000) below a frame's best are not worth a hypothesis.
	DefaultPruneLogProb = 10
	// DefaultBlankSkip: a frame whose blank posterior exceeds 0.999 starts
	// no new token. Peaky CTC models spend most frames there (silence and
	// the gaps between token spikes), and those frames then cost a few
	// additions per hypothesis instead of a scan of the vocabulary, a
	// hash-map merge and a sort. Any token the frame could start has
	// posterior below 0.001, so hardly any hypothesis is lost.
	DefaultBlankSkip = 0.999
)

// BeamOptions configure a BeamSearch; zero values mean the defaults.
type BeamOptions struct {
	// BeamSize is the number of prefixes kept after each frame.
	BeamSize int
	// NBest is the number of results NBest returns; 0 means BeamSize.
	NBest int
	// TopK is the number of non-blank tokens each frame may append to a
	// prefix (the blank and the repeat of a prefix's last token are always
	// scored).
	TopK int
	// PruneLogProb drops candidate tokens more than this many nats below
	// the frame's best token; math.Inf(1) disables it.
	PruneLogProb float64
	// BlankSkip is the blank posterior above which a frame appends no
	// token to any prefix (see DefaultBlankSkip), in [0.5, 1]; 1 disables
	// it.
	BlankSkip float64
	// Context, when set, biases the search towards its phrases.
	Context *Context
	// Grammar, when set, constrains the search to its sequences.
	Grammar Grammar
}

// BeamSearch is CTC prefix beam search in the log domain: each prefix
// keeps the log-probabilities of its alignments ending in blank and in its
// last token, merged with log-sum-exp, so a prefix that many weak paths
// spell can beat the single best path. A BeamSearch is read-only and safe
// for concurrent use by many streams; its Context and Grammar must be too.
type BeamSearch struct {
	vocab        *Vocab
	opts         BeamOptions
	logBlankSkip float64
}

// NewBeamSearch returns a beam-search decoder for vocab. It is cheap: an
// IVR node that needs its own Context or Grammar may make its own decoder
// (or call With).
func NewBeamSearch(vocab *Vocab, opts BeamOptions) (*BeamSearch, error) {
	if vocab == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrInvalid)
	}
	if opts.BeamSize < 0 || opts.NBest < 0 || opts.TopK < 0 ||
		!(opts.PruneLogProb >= 0) || !(opts.BlankSkip == 0 || opts.BlankSkip >= 0.5 && opts.BlankSkip <= 1) {
		return nil, fmt.Errorf("%w: beam options %+v", ErrInvalid, opts)
	}
	if opts.BeamSize == 0 {
		opts.BeamSize = DefaultBeamSize
	}
	if opts.NBest == 0 {
		opts.NBest = opts.BeamSize
	}
	if opts.TopK == 0 {
		opts.TopK = DefaultTopK
	}
	if opts.PruneLogProb == 0 {
		opts.PruneLogProb = DefaultPruneLogProb
	}
	if opts.BlankSkip == 0 {
		opts.BlankSkip = DefaultBlankSkip
	}
	d := &BeamSearch{vocab: vocab, opts: opts, logBlankSkip: math.Log(opts.BlankSkip)}
	if opts.BlankSkip >= 1 {
		d.logBlankSkip = math.Inf(1)
	}
	return d, nil
}

// With returns a decoder with the same options but the given Context and
// Grammar (nil for none).
func (d *BeamSearch) With(c *Context, g Grammar) *BeamSearch {
	cp := *d
	cp.opts.Context, cp.opts.Grammar = c, g
	return &cp
}

// Decode decodes a whole utterance and returns the best result.
func (d *BeamSearch) Decode(frames [][]float32) (Result, error) {
	s := d.NewStream()
	if err := s.Accept(frames); err != nil {
		return Result{}, err
	}
	return s.Final(), nil
}

// NewStream starts decoding an utterance.
func (d *BeamSearch) NewStream() *BeamStream {
	s := &BeamStream{d: d, index: map[string]int{}}
	start := hyp{pb: 0, pnb: negInf}
	if g := d.opts.Grammar; g != nil {
		start.gram = g.Start()
	}
	s.beam = append(s.beam, start)
	return s
}

// BeamStream decodes one utterance chunk by chunk; any chunking gives
// exactly the same results, since every frame is processed the same way
// whatever chunk it arrives in. It is used by one goroutine.
type BeamStream struct {
	d        *BeamSearch
	beam     []hyp // sorted best first
	next     []hyp
	index    map[string]int // prefix key -> index in next
	cands    []int
	key      []byte
	frames   int
	bestPath float64 // sum of the frames' best log-probs
}

// hyp is a prefix and the probability of its alignments so far.
type hyp struct {
	key       string    // the prefix, keyBytes per token: paths merge on it
	last      *emission // newest token, nil for the empty prefix
	pb, pnb   float64   // log P(alignments ending in blank / in last token)
	ctx       int32     // Context node of the phrase match in progress
	committed float64   // bonus of completed phrases
	gram      State
	best      float64 // largest contribution this frame; its path gives last's timing
	rank      float64 // log P + bonus (completed and in progress)
}

// emission is a token of a prefix, in a list shared by the prefixes that
// extend it.
type emission struct {
	id    int
	frame int
	conf  float32
	prev  *emission
}

const keyBytes = 3 // token ids below 2^24

var negInf = math.Inf(-1)

// Accept decodes frames, each a row of V log-probabilities. A chunk with a
// malformed frame is refused whole (ErrShape, ErrInvalidFrame) and the
// stream stays as it was.
func (s *BeamStream) Accept(frames [][]float32) error {
	if err := checkFrames(frames, s.d.vocab.Size()); err != nil {
		return fmt.Errorf("ctc: beam search: %w", err)
	}
	for _, row := range frames {
		s.step(row)
		s.frames++
	}
	return nil
}

// AcceptFlat is Accept for a row-major frames × v buffer, as an ONNX
// output holds it; v must equal the vocabulary size.
func (s *BeamStream) AcceptFlat(data []float32, frames, v int) error {
	r, err := rows(data, frames, v, s.d.vocab.Size())
	if err != nil {
		return fmt.Errorf("ctc: beam search: %w", err)
	}
	return s.Accept(r)
}

// Frames is the number of frames accepted so far.
func (s *BeamStream) Frames() int { return s.frames }

func (s *BeamStream) step(row []float32) {
	d := s.d
	lpBlank := float64(row[d.vocab.blank])
	if lpBlank > d.logBlankSkip {
		// The blank is the frame's best token (its posterior is above
		// one half). No prefix changes, so nothing merges: update in
		// place.
		s.bestPath += lpBlank
		for i := range s.beam {
			h := &s.beam[i]
			stay := logAdd(h.pb, h.pnb) + lpBlank
			rep := negInf
			if h.last != nil {
				lp := float64(row[h.last.id])
				rep = h.pnb + lp
				if rep > stay {
					h.last = h.last.held(lp)
				}
			}
			h.pb, h.pnb = stay, rep
			s.rank(h)
		}
		s.sort(s.beam)
		return
	}

	cands := s.topK(row)
	clear(s.index)
	s.next = s.next[:0]
	for i := range s.beam {
		h := &s.beam[i]
		total := logAdd(h.pb, h.pnb)

		// The prefix stays: a blank, or its last token held.
		j, ok := s.index[h.key]
		if !ok {
			j = s.add(hyp{key: h.key, last: h.last, ctx: h.ctx, committed: h.committed, gram: h.gram})
		}
		e := &s.next[j]
		stay := total + lpBlank
		e.pb = logAdd(e.pb, stay)
		e.offer(stay, h.last)
		if h.last != nil {
			lp := float64(row[h.last.id])
			rep := h.pnb + lp
			e.pnb = logAdd(e.pnb, rep)
			if rep > e.best {
				e.offer(rep, h.last.held(lp))
			}
		}

		// The prefix grows by a token; the same token again needs a blank
		// between, or it would be the held one.
		for _, c := range cands {
			lp := float64(row[c])
			from := total
			if h.last != nil && c == h.last.id {
				from = h.pb
			}
			contrib := from + lp
			if math.IsInf(contrib, -1) {
				continue
			}
			gram := h.gram
			if g := d.opts.Grammar; g != nil {
				var ok bool
				if gram, ok = g.Next(h.gram, c); !ok {
					continue
				}
			}
			s.key = append(append(s.key[:0], h.key...), byte(c>>16), byte(c>>8), byte(c))
			j, ok := s.index[string(s.key)] // no allocation for a lookup
			if !ok {
				n := hyp{key: string(s.key), ctx: h.ctx, committed: h.committed, gram: gram}
				if ctx := d.opts.Context; ctx != nil {
					var commit float64
					n.ctx, commit = ctx.step(h.ctx, c)
					n.committed += commit
				}
				j = s.add(n)
			}
			e := &s.next[j]
			e.pnb = logAdd(e.pnb, contrib)
			if contrib > e.best {
				e.offer(contrib, &emission{id: c, frame: s.frames, conf: float32(math.Exp(lp)), prev: h.last})
			}
		}
	}
	for i := range s.next {
		s.rank(&s.next[i])
	}
	s.sort(s.next)
	if len(s.next) > d.opts.BeamSize {
		s.next = s.next[:d.opts.BeamSize]
	}
	s.beam, s.next = s.next, s.beam
}

// add appends a hypothesis of the next frame, with zero probability until
// paths reach it, and returns its index.
func (s *BeamStream) add(h hyp) int {
	h.pb, h.pnb, h.best = negInf, negInf, negInf
	s.index[h.key] = len(s.next)
	s.next = append(s.next, h)
	return len(s.next) - 1
}

// offer records that a path of probability p reaches the prefix with its
// last token emitted as last; the most probable path sets the timing.
func (h *hyp) offer(p float64, last *emission) {
	if p > h.best {
		h.best, h.last = p, last
	}
}

// held is e after one more frame of the same token with log-prob lp.
func (e *emission) held(lp float64) *emission {
	p := float32(math.Exp(lp))
	if p <= e.conf {
		return e
	}
	cp := *e
	cp.conf = p
	return &cp
}

func (s *BeamStream) rank(h *hyp) {
	h.rank = logAdd(h.pb, h.pnb) + h.committed + s.d.opts.Context.partial(h.ctx)
}

func (s *BeamStream) sort(hs []hyp) {
	slices.SortFunc(hs, func(a, b hyp) int {
		if c := cmp.Compare(b.rank, a.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key) // ties: deterministic order
	})
}

// topK returns the non-blank tokens of row worth appending: the TopK best
// within PruneLogProb of the frame's best, best first.
func (s *BeamStream) topK(row []float32) []int {
	blank, k := s.d.vocab.blank, s.d.opts.TopK
	best := float32(math.Inf(-1))
	for _, lp := range row {
		best = max(best, lp)
	}
	s.bestPath += float64(best)
	floor := float64(best) - s.d.opts.PruneLogProb
	c := s.cands[:0]
	for id, lp := range row {
		if id == blank || float64(lp) < floor || (len(c) == k && lp <= row[c[k-1]]) {
			continue
		}
		if len(c) < k {
			c = append(c, id)
		} else {
			c[k-1] = id
		}
		for j := len(c) - 1; j > 0 && row[c[j]] > row[c[j-1]]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	s.cands = c
	return c
}

// Partial is the best hypothesis so far, ranked with the bonus of phrases
// in progress; GrammarMatched says whether it could end here.
func (s *BeamStream) Partial() Result {
	h := &s.beam[0]
	return s.result(h, h.committed+s.d.opts.Context.partial(h.ctx))
}

// Final is the best result for the frames accepted so far; it does not end
// the stream. Phrase bonuses still in progress are taken back. With a
// Grammar, the best hypothesis in a final state wins; when none is, Final
// returns the best grammar-allowed prefix (possibly empty) with
// GrammarMatched false, and the IVR reprompts. That prefix is not the
// unconstrained transcript: a stream without the grammar gives that.
func (s *BeamStream) Final() Result {
	return s.nbest(1)[0]
}

// NBest is Final's ranking, best first, at most BeamOptions.NBest results:
// with a Grammar, those in a final state before the others.
func (s *BeamStream) NBest() []Result {
	return s.nbest(s.d.opts.NBest)
}

func (s *BeamStream) nbest(n int) []Result {
	g := s.d.opts.Grammar
	type ranked struct {
		h       *hyp
		score   float64
		matched bool
	}
	list := make([]ranked, len(s.beam))
	for i := range s.beam {
		h := &s.beam[i]
		list[i] = ranked{h, logAdd(h.pb, h.pnb) + h.committed, g != nil && g.Final(h.gram)}
	}
	slices.SortFunc(list, func(a, b ranked) int {
		if a.matched != b.matched {
			if a.matched {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.h.key, b.h.key)
	})
	out := make([]Result, min(n, len(list)))
	for i := range out {
		out[i] = s.result(list[i].h, list[i].h.committed)
	}
	return out
}

func (s *BeamStream) result(h *hyp, bonus float64) Result {
	var tokens []Token
	for e := h.last; e != nil; e = e.prev {
		tokens = append(tokens, Token{ID: e.id, Frame: e.frame, Confidence: e.conf})
	}
	slices.Reverse(tokens)
	r := makeResult(s.d.vocab, tokens, logAdd(h.pb, h.pnb), s.bestPath, s.frames)
	r.Bonus = bonus
	if g := s.d.opts.Grammar; g != nil && g.Final(h.gram) {
		ids := make([]int, len(tokens))
		for i, t := range tokens {
			ids[i] = t.ID
		}
		r.GrammarMatched = true
		r.Slot = g.Value(ids)
	}
	return r
}

// logAdd is log(e^a + e^b) without overflow.
func logAdd(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}
