package record

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The recording format.
const (
	// SampleRate is the rate of both channels, the IVR's telephone rate.
	SampleRate = 8000
	// Channels: left is the caller, right the IVR.
	Channels = 2
	// bytesPerFrame is one stereo frame of two 16-bit samples.
	bytesPerFrame = Channels * 2
	// headerSize is the canonical 44-byte WAV header this package writes.
	headerSize = 44
	// maxData is the most audio a RIFF file can hold (its sizes are 32-bit):
	// about 37 hours at 32 kB/s.
	maxData = math.MaxUint32 - (headerSize - 8)
	// unknownSize is what streaming writers put in the sizes they cannot
	// know yet; readers take it as "to the end of the file".
	unknownSize = math.MaxUint32
)

// IVRQueueFrames bounds the IVR frames waiting for the caller's timeline:
// one second of 20 ms frames. An IVR that sends faster than the caller's
// side arrives (a stalled receiver) loses its oldest frames beyond that,
// counted in Info.IVRDropped, rather than drifting ever further behind.
const IVRQueueFrames = 50

// flushAt is how much audio a recording buffers before writing it: about a
// second, which is also what a crash can lose.
const flushAt = 32 << 10

// Errors callers branch on.
var (
	// ErrInvalidID: the ID is not 1 to 128 of [A-Za-z0-9_-].
	ErrInvalidID = errors.New("record: invalid call id")
	// ErrNotFound: there is no recording for the ID.
	ErrNotFound = errors.New("record: recording not found")
	// ErrExists: a recording for the ID was already started.
	ErrExists = errors.New("record: recording already exists")
	// ErrTooLong: the recording reached the 4 GiB limit of a WAV file;
	// the audio after it was not written.
	ErrTooLong = errors.New("record: recording exceeds the WAV size limit")
)

// Config says where recordings go and how long they stay.
type Config struct {
	// Dir holds the recordings; New creates it (mode 0700: the audio is
	// unredacted).
	Dir string
	// Retention is how long a recording is kept after it was last written;
	// zero keeps recordings forever.
	Retention time.Duration
	// SweepEvery is how often Run deletes expired recordings; zero means
	// an hour.
	SweepEvery time.Duration
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("record: Dir is required"))
	}
	if c.Retention < 0 || c.SweepEvery < 0 {
		errs = append(errs, errors.New("record: Retention and SweepEvery must not be negative"))
	}
	return errors.Join(errs...)
}

// Recorder creates, opens and expires the recordings in one directory. It
// is safe for concurrent use. One process owns a directory.
type Recorder struct {
	cfg Config
	log *slog.Logger
}

// New returns a Recorder over cfg.Dir, creating the directory.
func New(cfg Config, log *slog.Logger) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = time.Hour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("record: create %s: %w", cfg.Dir, err)
	}
	return &Recorder{cfg: cfg, log: log.With("component", "recorder")}, nil
}

// ValidID reports whether id can name a recording: 1 to 128 characters of
// [A-Za-z0-9_-]. Nothing else gets near a file name, so no ID can climb
// out of the directory.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// path is where the recording of id lives; id must be valid.
func (r *Recorder) path(id string) string {
	h := fnv.New32a()
	_, _ = io.WriteString(h, id)
	return filepath.Join(r.cfg.Dir, fmt.Sprintf("%02x", h.Sum32()&0xff), id+".wav")
}

// Start creates the recording of call id. It fails with ErrInvalidID for a
// bad ID and ErrExists when the call was recorded before: a recording is
// never overwritten.
func (r *Recorder) Start(id string) (*Recording, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("record: start %q: %w", id, ErrInvalidID)
	}
	p := r.path(id)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("record: start %s: %w", id, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("record: start %s: %w", id, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("record: start %s: %w", id, err)
	}
	rec := &Recording{id: id, path: p, f: f, buf: make([]byte, 0, flushAt+4*1024)}
	rec.q.init()
	if _, err := f.Write(header(unknownSize)); err != nil {
		_ = f.Close()
		_ = os.Remove(p)
		return nil, fmt.Errorf("record: start %s: write header: %w", id, err)
	}
	return rec, nil
}

// Info describes a recording.
type Info struct {
	ID   string
	Path string
	// Seconds is the audio's duration.
	Seconds float64
	// Bytes is the file's size.
	Bytes int64
	// ModTime is when the file was last written.
	ModTime time.Time
	// IVRDropped counts IVR frames dropped from a full queue (Close only).
	IVRDropped int
}

// Open opens the recording of call id for reading. It fails with
// ErrNotFound when there is none (or the ID is invalid, since such an ID
// names no recording: errors.Is(err, ErrInvalidID) tells them apart). The
// caller closes the file. A recording still being written can be opened:
// its header then describes the audio written so far.
func (r *Recorder) Open(id string) (*os.File, Info, error) {
	if !ValidID(id) {
		return nil, Info{}, fmt.Errorf("record: open %q: %w: %w", id, ErrNotFound, ErrInvalidID)
	}
	p := r.path(id)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Info{}, fmt.Errorf("record: open %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("record: open %s: %w", id, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Info{}, fmt.Errorf("record: open %s: %w", id, err)
	}
	data := st.Size() - headerSize
	var b [4]byte
	if _, err := f.ReadAt(b[:], 40); err == nil {
		// The header's size wins unless it is the placeholder or claims
		// more than the file holds (a crash between data and header).
		if n := int64(binary.LittleEndian.Uint32(b[:])); n != unknownSize && n <= data {
			data = n
		}
	}
	data = max(data, 0)
	return f, Info{ID: id, Path: p, Seconds: seconds(data), Bytes: st.Size(), ModTime: st.ModTime()}, nil
}

func seconds(data int64) float64 {
	return float64(data/bytesPerFrame) / SampleRate
}

// Sweep deletes the recordings last written more than Retention ago and
// returns how many it deleted. With no Retention it deletes nothing. A
// recording in progress is written at least every second or so, so it is
// never old enough.
func (r *Recorder) Sweep(ctx context.Context) (int, error) {
	if r.cfg.Retention <= 0 {
		return 0, nil
	}
	cutoff := time.Now().Add(-r.cfg.Retention)
	shards, err := os.ReadDir(r.cfg.Dir)
	if err != nil {
		return 0, fmt.Errorf("record: sweep: %w", err)
	}
	removed := 0
	var errs []error
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		dir := filepath.Join(r.cfg.Dir, sh.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, fe := range files {
			if err := ctx.Err(); err != nil {
				return removed, errors.Join(append(errs, err)...)
			}
			name := fe.Name()
			if !fe.Type().IsRegular() || !strings.HasSuffix(name, ".wav") {
				continue
			}
			fi, err := fe.Info()
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !fi.ModTime().Before(cutoff) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("record: sweep: %w", err)
	}
	return removed, nil
}

// Run sweeps at once and then every SweepEvery until ctx is done, and
// returns nil then. A failed sweep is logged and retried at the next
// tick: a full disk must not stop the server. Without Retention it only
// waits for ctx.
func (r *Recorder) Run(ctx context.Context) error {
	if r.cfg.Retention <= 0 {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(r.cfg.SweepEvery)
	defer tick.Stop()
	for {
		n, err := r.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.WarnContext(ctx, "recording sweep failed", "err", err, "removed", n)
		case n > 0:
			r.log.InfoContext(ctx, "expired recordings deleted", "removed", n, "retention", r.cfg.Retention)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// header is a 44-byte WAV header for data bytes of audio; unknownSize
// writes the streaming placeholder in both sizes.
func header(data int64) []byte {
	h := make([]byte, headerSize)
	riff := uint32(unknownSize)
	if data != unknownSize {
		riff = uint32(data + headerSize - 8)
	}
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[4:8], riff)
	copy(h[8:16], "WAVEfmt ")
	le.PutUint32(h[16:20], 16)
	le.PutUint16(h[20:22], 1) // PCM
	le.PutUint16(h[22:24], Channels)
	le.PutUint32(h[24:28], SampleRate)
	le.PutUint32(h[28:32], SampleRate*bytesPerFrame)
	le.PutUint16(h[32:34], bytesPerFrame)
	le.PutUint16(h[34:36], 16)
	copy(h[36:40], "data")
	le.PutUint32(h[40:44], uint32(data))
	return h
}
