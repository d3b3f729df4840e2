package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// Recording is one call being recorded. Caller and IVR may be called
// concurrently, from the call's receiving and sending goroutines; both
// only copy samples into memory, except that about once a second Caller
// writes the buffered second to the file (page cache, no fsync). A
// Recording must be closed.
type Recording struct {
	id, path string

	mu      sync.Mutex
	f       *os.File
	buf     []byte // interleaved 16-bit frames not yet written
	written int64  // data bytes in the file
	q       ivrQueue
	err     error // the first write error; later audio is dropped
	closed  bool
	info    Info
}

// Caller records a frame received from the caller and advances the
// timeline by len(samples), taking as many IVR samples from the queue for
// the right channel (silence when it runs dry). Samples are in [-1, 1];
// others are clamped. Audio after Close or after a write error is dropped;
// Close reports the error.
func (r *Recording) Caller(samples []float32) {
	le := binary.LittleEndian
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.err != nil {
		return
	}
	if r.written+int64(len(r.buf))+int64(len(samples))*bytesPerFrame > maxData {
		r.err = fmt.Errorf("record: %s: %w", r.id, ErrTooLong)
		return
	}
	for _, s := range samples {
		r.buf = le.AppendUint16(r.buf, uint16(toInt16(s)))
		r.buf = le.AppendUint16(r.buf, uint16(toInt16(r.q.pop())))
	}
	if len(r.buf) >= flushAt {
		r.err = r.flushLocked()
	}
}

// IVR queues a frame the IVR sent, to be recorded beside the caller's
// next samples. The samples are copied. With IVRQueueFrames frames already
// waiting, the oldest is dropped.
func (r *Recording) IVR(samples []float32) {
	if len(samples) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.q.push(samples)
}

// flushLocked writes the buffer and then the header's sizes, in that
// order, so the header never claims audio the file lacks.
func (r *Recording) flushLocked() error {
	if len(r.buf) == 0 {
		return nil
	}
	n, err := r.f.Write(r.buf)
	r.written += int64(n)
	r.buf = r.buf[:0]
	if err != nil {
		return fmt.Errorf("record: %s: write: %w", r.id, err)
	}
	h := header(r.written)
	if _, err := r.f.WriteAt(h[4:8], 4); err != nil {
		return fmt.Errorf("record: %s: write header: %w", r.id, err)
	}
	if _, err := r.f.WriteAt(h[40:44], 40); err != nil {
		return fmt.Errorf("record: %s: write header: %w", r.id, err)
	}
	return nil
}

// Close writes what is buffered, fixes the header's sizes, syncs the file
// and its directory to disk and returns what was recorded. IVR frames still
// queued are not recorded: the caller's timeline ended before them. Close
// is idempotent; later calls return the first's result.
func (r *Recording) Close() (Info, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.info, r.err
	}
	r.closed = true
	errs := []error{r.err}
	if r.err == nil {
		errs = append(errs, r.flushLocked())
	}
	if err := r.f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("record: %s: sync: %w", r.id, err))
	}
	st, statErr := r.f.Stat()
	if err := r.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("record: %s: close: %w", r.id, err))
	}
	// The directory entry was made at Start; syncing the directory makes
	// it survive a power cut along with the data.
	if err := syncDir(filepath.Dir(r.path)); err != nil {
		errs = append(errs, fmt.Errorf("record: %s: sync directory: %w", r.id, err))
	}
	r.info = Info{ID: r.id, Path: r.path, Seconds: seconds(r.written), Bytes: headerSize + r.written, IVRDropped: r.q.dropped}
	if statErr == nil {
		r.info.ModTime = st.ModTime()
	}
	r.err = errors.Join(errs...)
	r.q = ivrQueue{}
	r.buf = nil
	return r.info, r.err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// toInt16 converts a sample the way nlu/audio does, so that a decoded
// recording gives back the samples written (to 16-bit precision).
func toInt16(s float32) int16 {
	v := math.Round(float64(s) * 32768)
	switch {
	case v != v: // NaN
		return 0
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// ivrQueue is a ring of up to IVRQueueFrames frames, each slot's buffer
// reused, so a long call allocates nothing after its first second.
type ivrQueue struct {
	frames  [][]float32
	head, n int
	off     int // samples of the head frame already taken
	dropped int
}

func (q *ivrQueue) init() { q.frames = make([][]float32, IVRQueueFrames) }

func (q *ivrQueue) push(s []float32) {
	if q.n == len(q.frames) {
		q.head = (q.head + 1) % len(q.frames)
		q.n--
		q.off = 0
		q.dropped++
	}
	i := (q.head + q.n) % len(q.frames)
	q.frames[i] = append(q.frames[i][:0], s...)
	q.n++
}

// pop takes the next IVR sample, or silence when none is queued.
func (q *ivrQueue) pop() float32 {
	if q.n == 0 {
		return 0
	}
	f := q.frames[q.head]
	s := f[q.off]
	q.off++
	if q.off == len(f) {
		q.head = (q.head + 1) % len(q.frames)
		q.n--
		q.off = 0
	}
	return s
}
