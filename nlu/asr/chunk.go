package asr

import (
	"context"
	"fmt"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// encoder turns the feature frames of one utterance into log-prob frames
// as the frames arrive.
//
// A model that declares its receptive field (left_context/right_context
// input frames) is run on chunks: output frames for inputs [done, end) are
// computed from the window [done-left, end+right], which holds everything
// they depend on, so the chunked outputs equal those of one run over the
// whole utterance and each input frame is processed about
// (chunk+left+right)/chunk times instead of once per partial result. A
// model that does not declare it (attention over the whole utterance) is
// re-run from the start whenever a partial result is asked for.
type encoder struct {
	m      *Model
	feats  []float32 // frames × FeatDim, the utterance so far
	frames int
	done   int // input frames whose output frames have been produced
	// minChunk is how many new input frames a non-final step waits for.
	minChunk int
}

func newEncoder(m *Model, minChunk int) *encoder {
	sub := m.info.Subsampling
	minChunk = max(sub, (minChunk+sub-1)/sub*sub)
	return &encoder{m: m, minChunk: minChunk}
}

func (e *encoder) reset() {
	e.feats, e.frames, e.done = e.feats[:0], 0, 0
}

// push moves n ready frames from the feature extractor.
func (e *encoder) push(fb *audio.OnlineFbank, n int) {
	e.feats = fb.Pop(e.feats)
	e.frames += n
}

// step returns the log-prob frames (n × Vocab) that can now be computed
// exactly, and whether they replace everything returned before (true for
// models without a declared receptive field: their whole utterance is
// re-run). final says the utterance has ended, so its last frames are
// computed with the model's own edge handling.
func (e *encoder) step(ctx context.Context, final bool) (lp []float32, n int, restart bool, err error) {
	info := e.m.info
	if !info.Streamable() {
		if e.frames == e.done || (!final && e.frames-e.done < e.minChunk) {
			return nil, 0, false, nil
		}
		e.done = e.frames
		lp, n, err = e.m.forward(ctx, e.feats, e.frames)
		return lp, n, true, err
	}
	sub := info.Subsampling
	end := e.frames
	if !final {
		end = (e.frames - info.RightContext) / sub * sub
		if end-e.done < e.minChunk {
			return nil, 0, false, nil
		}
	}
	if end <= e.done {
		return nil, 0, false, nil
	}
	left := (info.LeftContext + sub - 1) / sub * sub
	ws := max(0, e.done-left) // a multiple of sub, like done
	we := e.frames
	if !final {
		we = min(e.frames, end+info.RightContext)
	}
	out, outN, err := e.m.forward(ctx, e.feats[ws*info.FeatDim:we*info.FeatDim], we-ws)
	if err != nil {
		return nil, 0, false, err
	}
	from := (e.done - ws) / sub
	to := outN
	if !final {
		to = (end - ws) / sub
	}
	if from > to || to > outN {
		return nil, 0, false, fmt.Errorf("%w: %d input frames gave %d output frames, fewer than subsampling_factor %d implies", ErrContract, we-ws, outN, sub)
	}
	e.done = end
	v := info.Vocab
	return out[from*v : to*v], to - from, false, nil
}
