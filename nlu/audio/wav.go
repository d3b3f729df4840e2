package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Format is a WAV format tag (the codec of the data chunk).
type Format uint16

// The codecs DecodeWAV reads. WAVE_FORMAT_EXTENSIBLE files are reported with
// the format of their sub-format GUID.
const (
	FormatPCM   Format = 1
	FormatFloat Format = 3
	FormatALaw  Format = 6
	FormatULaw  Format = 7

	formatExtensible Format = 0xFFFE
)

func (f Format) String() string {
	switch f {
	case FormatPCM:
		return "pcm"
	case FormatFloat:
		return "float"
	case FormatALaw:
		return "alaw"
	case FormatULaw:
		return "ulaw"
	}
	return fmt.Sprintf("format(0x%04x)", uint16(f))
}

// DefaultMaxDuration bounds how much audio DecodeWAV and WAVReader return
// unless WithMaxDuration says otherwise: far longer than any IVR utterance,
// short enough that a hostile or broken file cannot take unbounded memory
// (4 bytes × rate × duration, about 29 MB at 8 kHz).
const DefaultMaxDuration = 15 * time.Minute

// maxChannels rejects headers that claim absurd channel counts.
const maxChannels = 64

// unknownSize marks a data chunk whose size the header does not tell:
// streaming writers put 0 or 0xFFFFFFFF there because they cannot seek back.
const unknownSize = -1

// WAVOption configures DecodeWAV and NewWAVReader.
type WAVOption func(*wavConfig)

type wavConfig struct {
	maxDuration time.Duration
}

// WithMaxDuration sets the longest audio accepted; longer input fails with
// ErrTooLong. d ≤ 0 keeps DefaultMaxDuration.
func WithMaxDuration(d time.Duration) WAVOption {
	return func(c *wavConfig) {
		if d > 0 {
			c.maxDuration = d
		}
	}
}

// WAVHeader describes the audio in a WAV stream as its fmt chunk declares it.
type WAVHeader struct {
	Format        Format
	SampleRate    int
	Channels      int // before downmixing
	BitsPerSample int // container bits of one sample of one channel
	// DataSize is the data chunk size the header declares, or -1 when it is
	// 0 or 0xFFFFFFFF, the placeholders of streaming writers; then the data
	// runs to the end of the input.
	DataSize int64
}

// WAV is a decoded WAV file.
type WAV struct {
	WAVHeader
	// Samples is the audio downmixed to mono (the mean of the channels),
	// in [-1, 1].
	Samples []float32
	// Truncated reports that the data ended before the size the header
	// declared, or in the middle of a sample frame. Samples holds every
	// whole frame that was there. A header that claims more data than the
	// file holds looks the same as a cut file, and is reported the same.
	Truncated bool
	// Clamped reports that float samples outside [-1, 1] (or NaN, which
	// becomes 0) were clamped.
	Clamped bool
}

// Duration is the length of the decoded audio.
func (w *WAV) Duration() time.Duration {
	if w.SampleRate <= 0 {
		return 0
	}
	return time.Duration(int64(len(w.Samples)) * int64(time.Second) / int64(w.SampleRate))
}

// DecodeWAV reads a whole WAV stream. It reads the input sequentially (no
// seeking) and holds at most the allowed duration of samples, however large
// the header says the data is. Chunks other than fmt and data (LIST, fact,
// unknown ones) are skipped; reading stops at the end of the data chunk.
func DecodeWAV(r io.Reader, opts ...WAVOption) (*WAV, error) {
	wr, err := NewWAVReader(r, opts...)
	if err != nil {
		return nil, err
	}
	h := wr.Header()
	w := &WAV{WAVHeader: h}
	// Preallocate from the declared size, but never more than a minute: the
	// header may lie, and append grows the slice if it was honest.
	want := min(wr.maxFrames, int64(h.SampleRate)*60)
	if h.DataSize >= 0 {
		want = min(want, h.DataSize/int64(h.Channels*h.BitsPerSample/8))
	}
	w.Samples = make([]float32, 0, want)
	buf := make([]float32, 4096)
	for {
		n, err := wr.Read(buf)
		w.Samples = append(w.Samples, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	w.Truncated = wr.Truncated()
	w.Clamped = wr.Clamped()
	return w, nil
}

// WAVReader streams the mono samples of a WAV input, for audio too long to
// hold (recordings fed to an OnlineFbank) or to start work before the end
// has arrived. It is not safe for concurrent use.
type WAVReader struct {
	r         io.Reader
	h         WAVHeader
	block     int   // bytes per frame (all channels)
	remaining int64 // bytes of data left, or unknownSize
	maxFrames int64
	frames    int64 // frames returned so far
	buf       []byte
	decode    func(b []byte) (float32, bool)
	done      bool
	err       error // sticky ErrTooLong
	truncated bool
	clamped   bool
}

// NewWAVReader parses the header of a WAV stream up to the start of its data
// chunk. Errors wrap ErrNotWAV, ErrInvalid, ErrUnsupported or the read error.
func NewWAVReader(r io.Reader, opts ...WAVOption) (*WAVReader, error) {
	cfg := wavConfig{maxDuration: DefaultMaxDuration}
	for _, o := range opts {
		o(&cfg)
	}
	var hdr [12]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("wav: empty input: %w", ErrNotWAV)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("wav: %d-byte input: %w", n, ErrNotWAV)
		}
		return nil, fmt.Errorf("wav: read header: %w", err)
	}
	switch id := string(hdr[0:4]); {
	case id == "RIFX" || id == "RF64":
		return nil, fmt.Errorf("wav: %s container: %w", id, ErrUnsupported)
	case id != "RIFF" || string(hdr[8:12]) != "WAVE":
		return nil, fmt.Errorf("wav: no RIFF/WAVE signature: %w", ErrNotWAV)
	}
	// The RIFF size is ignored: streaming writers leave it wrong, and the
	// chunks say everything needed.
	wr := &WAVReader{r: r}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				if !haveFmt {
					return nil, fmt.Errorf("wav: no fmt chunk: %w", ErrInvalid)
				}
				return nil, fmt.Errorf("wav: no data chunk: %w", ErrInvalid)
			}
			return nil, fmt.Errorf("wav: read chunk header: %w", err)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch {
		case id == "fmt " && !haveFmt:
			if err := wr.parseFmt(size); err != nil {
				return nil, err
			}
			haveFmt = true
		case id == "data":
			if !haveFmt {
				return nil, fmt.Errorf("wav: data chunk before fmt chunk: %w", ErrInvalid)
			}
			wr.h.DataSize = size
			if size == 0 || size == 0xFFFFFFFF {
				wr.h.DataSize = unknownSize
			}
			wr.remaining = wr.h.DataSize
			wr.maxFrames = int64(cfg.maxDuration) * int64(wr.h.SampleRate) / int64(time.Second)
			// About 4096 frames per read keeps syscalls few and memory small.
			wr.buf = make([]byte, 4096*wr.block)
			return wr, nil
		default:
			// RIFF chunks are padded to an even size.
			if err := skip(r, size+size&1); err != nil {
				return nil, fmt.Errorf("wav: skip %q chunk: no data chunk: %w", id, ErrInvalid)
			}
		}
	}
}

// The tail of every WAVE_FORMAT_EXTENSIBLE sub-format GUID for the classic
// format tags (KSDATAFORMAT_SUBTYPE_*).
var ksSubtypeTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

func (wr *WAVReader) parseFmt(size int64) error {
	if size < 16 {
		return fmt.Errorf("wav: fmt chunk of %d bytes: %w", size, ErrInvalid)
	}
	// Only the first 40 bytes mean anything to us; the rest (and the pad
	// byte) is skipped, so a huge fmt chunk costs no memory.
	var b [40]byte
	n := min(size, int64(len(b)))
	if _, err := io.ReadFull(wr.r, b[:n]); err != nil {
		return fmt.Errorf("wav: fmt chunk cut short: %w", ErrInvalid)
	}
	if err := skip(wr.r, size-n+size&1); err != nil {
		return fmt.Errorf("wav: fmt chunk cut short: %w", ErrInvalid)
	}
	le := binary.LittleEndian
	f := Format(le.Uint16(b[0:2]))
	channels := int(le.Uint16(b[2:4]))
	rate := int64(le.Uint32(b[4:8]))
	blockAlign := int(le.Uint16(b[12:14]))
	bits := int(le.Uint16(b[14:16]))
	if f == formatExtensible {
		if n < 40 || le.Uint16(b[16:18]) < 22 {
			return fmt.Errorf("wav: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes: %w", size, ErrInvalid)
		}
		guid := b[24:40]
		if !bytes.Equal(guid[2:], ksSubtypeTail) {
			return fmt.Errorf("wav: extensible sub-format %x: %w", guid, ErrUnsupported)
		}
		// wValidBitsPerSample (b[18:20]) may be less than the container
		// (20 bits in 24); the valid bits are the high ones, so decoding the
		// whole container is right.
		f = Format(le.Uint16(guid[0:2]))
	}
	switch {
	case channels == 0:
		return fmt.Errorf("wav: zero channels: %w", ErrInvalid)
	case channels > maxChannels:
		return fmt.Errorf("wav: %d channels (max %d): %w", channels, maxChannels, ErrUnsupported)
	case rate == 0:
		return fmt.Errorf("wav: zero sample rate: %w", ErrInvalid)
	case rate < MinSampleRate || rate > MaxSampleRate:
		return fmt.Errorf("wav: sample rate %d Hz outside [%d, %d]: %w", rate, MinSampleRate, MaxSampleRate, ErrUnsupported)
	}
	dec, err := sampleDecoder(f, bits)
	if err != nil {
		return err
	}
	if want := channels * bits / 8; blockAlign != want {
		return fmt.Errorf("wav: block align %d, want %d for %d × %d-bit: %w", blockAlign, want, channels, bits, ErrInvalid)
	}
	wr.h = WAVHeader{Format: f, SampleRate: int(rate), Channels: channels, BitsPerSample: bits}
	wr.block = blockAlign
	wr.decode = dec
	return nil
}

// sampleDecoder returns the function that decodes one sample of format f and
// its clamping flag (set for out-of-range floats).
func sampleDecoder(f Format, bits int) (func([]byte) (float32, bool), error) {
	le := binary.LittleEndian
	switch {
	case f == FormatPCM && bits == 8: // unsigned, 128 is zero
		return func(b []byte) (float32, bool) { return (float32(b[0]) - 128) / 128, false }, nil
	case f == FormatPCM && bits == 16:
		return func(b []byte) (float32, bool) { return float32(int16(le.Uint16(b))) / 32768, false }, nil
	case f == FormatPCM && bits == 24:
		return func(b []byte) (float32, bool) {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float32(v) / (1 << 23), false
		}, nil
	case f == FormatPCM && bits == 32:
		return func(b []byte) (float32, bool) { return float32(float64(int32(le.Uint32(b))) / (1 << 31)), false }, nil
	case f == FormatFloat && bits == 32:
		return func(b []byte) (float32, bool) { return clampFloat(float64(math.Float32frombits(le.Uint32(b)))) }, nil
	case f == FormatFloat && bits == 64:
		return func(b []byte) (float32, bool) { return clampFloat(math.Float64frombits(le.Uint64(b))) }, nil
	case f == FormatULaw && bits == 8:
		return func(b []byte) (float32, bool) { return ulawToFloat[b[0]], false }, nil
	case f == FormatALaw && bits == 8:
		return func(b []byte) (float32, bool) { return alawToFloat[b[0]], false }, nil
	}
	return nil, fmt.Errorf("wav: %v with %d bits per sample: %w", f, bits, ErrUnsupported)
}

func clampFloat(v float64) (float32, bool) {
	switch {
	case v != v: // NaN
		return 0, true
	case v > 1:
		return 1, true
	case v < -1:
		return -1, true
	}
	return float32(v), false
}

// Header returns the parsed header.
func (wr *WAVReader) Header() WAVHeader { return wr.h }

// Truncated reports whether the data so far ended early (see WAV.Truncated).
func (wr *WAVReader) Truncated() bool { return wr.truncated }

// Clamped reports whether float samples so far were clamped into [-1, 1].
func (wr *WAVReader) Clamped() bool { return wr.clamped }

// Read decodes up to len(dst) mono samples into dst. At the end of the data
// it returns io.EOF (possibly with n > 0). When the audio goes on past the
// maximum duration it returns the samples up to the limit and an error
// wrapping ErrTooLong; every later call returns the same error.
func (wr *WAVReader) Read(dst []float32) (int, error) {
	if wr.err != nil {
		return 0, wr.err
	}
	if wr.done {
		return 0, io.EOF
	}
	if wr.frames >= wr.maxFrames {
		return 0, wr.checkTooLong()
	}
	want := min(int64(len(dst)), int64(len(wr.buf)/wr.block), wr.maxFrames-wr.frames)
	nb := want * int64(wr.block)
	if wr.remaining != unknownSize {
		nb = min(nb, wr.remaining)
	}
	if len(dst) == 0 {
		return 0, nil
	}
	if nb == 0 {
		wr.done = true
		return 0, io.EOF
	}
	got, err := io.ReadFull(wr.r, wr.buf[:nb])
	if wr.remaining != unknownSize {
		wr.remaining -= int64(got)
	}
	n := wr.decodeFrames(dst, wr.buf[:got-got%wr.block])
	wr.frames += int64(n)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// A cut in the middle of a frame, or before the declared end.
		wr.truncated = wr.truncated || got%wr.block != 0 || wr.remaining > 0
		wr.done = true
		return n, io.EOF
	case err != nil:
		return n, fmt.Errorf("wav: read data: %w", err)
	case wr.remaining == 0:
		// A declared size that is not a whole number of frames.
		wr.truncated = wr.truncated || got%wr.block != 0
		wr.done = true
		return n, io.EOF
	}
	return n, nil
}

// checkTooLong is called once maxFrames frames were returned: the input is
// too long only if at least one more whole frame follows.
func (wr *WAVReader) checkTooLong() error {
	tooLong := fmt.Errorf("wav: more than %d samples (%v at %d Hz): %w",
		wr.maxFrames, time.Duration(wr.maxFrames*int64(time.Second)/int64(wr.h.SampleRate)), wr.h.SampleRate, ErrTooLong)
	if wr.remaining != unknownSize && wr.remaining < int64(wr.block) {
		wr.truncated = wr.remaining > 0
		wr.done = true
		return io.EOF
	}
	got, err := io.ReadFull(wr.r, wr.buf[:wr.block])
	if got == wr.block {
		wr.err = tooLong
		return tooLong
	}
	wr.truncated = wr.truncated || got > 0 || wr.remaining > 0
	wr.done = true
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("wav: read data: %w", err)
	}
	return io.EOF
}

func (wr *WAVReader) decodeFrames(dst []float32, b []byte) int {
	ch := wr.h.Channels
	bps := wr.block / ch
	inv := 1 / float32(ch)
	n := 0
	for ; len(b) >= wr.block; b = b[wr.block:] {
		var sum float32
		for c := 0; c < ch; c++ {
			v, clamped := wr.decode(b[c*bps:])
			wr.clamped = wr.clamped || clamped
			sum += v
		}
		if ch > 1 {
			sum *= inv
		}
		dst[n] = sum
		n++
	}
	return n
}

// skip discards n bytes of r; reading, not seeking, so it works on pipes.
func skip(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	got, err := io.CopyN(io.Discard, r, n)
	if got == n {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// EncodeWAV writes samples (clamped to [-1, 1]) as a 16-bit PCM mono WAV file
// at the given rate.
func EncodeWAV(w io.Writer, rate int, samples []float32) error {
	if rate < MinSampleRate || rate > MaxSampleRate {
		return fmt.Errorf("wav: encode at %d Hz: %w", rate, ErrUnsupported)
	}
	dataSize := int64(len(samples)) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("wav: encode %d samples: exceeds the 4 GiB RIFF limit: %w", len(samples), ErrTooLong)
	}
	var h [44]byte
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[4:8], uint32(36+dataSize))
	copy(h[8:16], "WAVEfmt ")
	le.PutUint32(h[16:20], 16)
	le.PutUint16(h[20:22], uint16(FormatPCM))
	le.PutUint16(h[22:24], 1)
	le.PutUint32(h[24:28], uint32(rate))
	le.PutUint32(h[28:32], uint32(rate*2))
	le.PutUint16(h[32:34], 2)
	le.PutUint16(h[34:36], 16)
	copy(h[36:40], "data")
	le.PutUint32(h[40:44], uint32(dataSize))
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("wav: write header: %w", err)
	}
	buf := make([]byte, 0, 8192)
	for len(samples) > 0 {
		k := min(len(samples), cap(buf)/2)
		buf = buf[:0]
		for _, s := range samples[:k] {
			buf = le.AppendUint16(buf, uint16(toInt16(s)))
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("wav: write data: %w", err)
		}
		samples = samples[k:]
	}
	return nil
}
