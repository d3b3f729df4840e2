package audio

// OnlineFbank computes filterbank features of a stream, push/pull: Accept
// samples as they arrive, Pop the frames that are ready, Finish at the end
// of the utterance. The frames it yields, in total, are exactly (bit for
// bit) those Fbank.Compute gives for the concatenated samples.
//
// A frame is ready once the samples it covers have arrived. Without
// SnipEdges the first frames read a reflection of the first samples, which
// arrive first, so they are not delayed; the last one or two frames read a
// reflection of the end, so Finish releases them.
//
// Memory is bounded by the frames not yet popped plus about one frame of
// samples, however long the stream. Not safe for concurrent use.
type OnlineFbank struct {
	e        *extractor
	head     []float32 // the first win samples, for the reflection at the start
	buf      []float32 // samples from bufStart on
	bufStart int64
	n        int64 // samples accepted
	next     int64 // next frame to compute
	ready    []float32
	finished bool
	at       func(int64) float32
}

// NewOnlineFbank validates opts and builds a streaming extractor.
func NewOnlineFbank(opts FbankOptions) (*OnlineFbank, error) {
	e, err := newExtractor(opts)
	if err != nil {
		return nil, err
	}
	o := &OnlineFbank{e: e, head: make([]float32, 0, e.g.win)}
	o.at = o.sample
	return o, nil
}

// Dim is the number of values per frame.
func (o *OnlineFbank) Dim() int { return o.e.dim }

// Accept appends samples to the stream and computes the frames they
// complete. Accept after Finish is ignored (start again with Reset).
func (o *OnlineFbank) Accept(samples []float32) {
	if o.finished || len(samples) == 0 {
		return
	}
	if k := min(cap(o.head)-len(o.head), len(samples)); k > 0 {
		o.head = append(o.head, samples[:k]...)
	}
	o.buf = append(o.buf, samples...)
	o.n += int64(len(samples))
	win := int64(o.e.g.win)
	for o.e.frameStart(o.next)+win <= o.n {
		o.computeNext(o.n)
	}
	// Keep what later frames read: from the next frame's start, and the
	// last frame of samples for the reflection at the end.
	keep := max(0, min(o.e.frameStart(o.next), o.n-win))
	if drop := keep - o.bufStart; drop > 0 {
		k := copy(o.buf, o.buf[drop:])
		o.buf = o.buf[:k]
		o.bufStart = keep
	}
}

// Finish marks the end of the stream and computes the remaining frames.
func (o *OnlineFbank) Finish() {
	if o.finished {
		return
	}
	o.finished = true
	for m := o.e.numFrames(o.n); o.next < m; {
		o.computeNext(o.n)
	}
}

// NumReady is the number of computed frames not yet popped.
func (o *OnlineFbank) NumReady() int { return len(o.ready) / o.e.dim }

// Pop appends the ready frames (NumReady rows of Dim values, row-major) to
// dst, forgets them, and returns the extended slice.
func (o *OnlineFbank) Pop(dst []float32) []float32 {
	dst = append(dst, o.ready...)
	o.ready = o.ready[:0]
	return dst
}

// Finished reports whether Finish was called since the last Reset.
func (o *OnlineFbank) Finished() bool { return o.finished }

// Reset starts a new stream, keeping the buffers. With Dither, the random
// sequence continues.
func (o *OnlineFbank) Reset() {
	o.head, o.buf, o.ready = o.head[:0], o.buf[:0], o.ready[:0]
	o.bufStart, o.n, o.next, o.finished = 0, 0, 0, false
}

// computeNext computes frame o.next of a signal whose first n samples are
// known (all of it after Finish).
func (o *OnlineFbank) computeNext(n int64) {
	e := o.e
	s := e.frameStart(o.next)
	win := int64(e.g.win)
	if s >= o.bufStart && s+win <= n {
		e.load(o.buf[s-o.bufStart : s-o.bufStart+win])
	} else {
		e.loadReflected(s, n, o.at)
	}
	base := len(o.ready)
	o.ready = grow(o.ready, e.dim)
	e.compute(o.ready[base:])
	o.next++
}

// sample returns sample i (in [0, n)) from the head copy or the buffer.
// Accept keeps every index a later frame can reflect to in one of them.
func (o *OnlineFbank) sample(i int64) float32 {
	if i >= o.bufStart {
		return o.buf[i-o.bufStart]
	}
	return o.head[i]
}
