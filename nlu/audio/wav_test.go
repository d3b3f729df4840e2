package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// wavFile builds WAV bytes chunk by chunk, so tests can lie in any field.
type wavFile struct {
	format, channels     uint16
	rate                 uint32
	blockAlign, bits     uint16
	extensible           bool
	subformat            uint16
	extra                []chunk // chunks before data
	dataSize             *uint32 // nil: the true size
	data                 []byte
	omitFmt, dataBeforeF bool
}

type chunk struct {
	id   string
	body []byte
}

func (f wavFile) bytes() []byte {
	le := binary.LittleEndian
	var fmtBody []byte
	tag := f.format
	if f.extensible {
		tag = 0xFFFE
	}
	fmtBody = le.AppendUint16(fmtBody, tag)
	fmtBody = le.AppendUint16(fmtBody, f.channels)
	fmtBody = le.AppendUint32(fmtBody, f.rate)
	fmtBody = le.AppendUint32(fmtBody, f.rate*uint32(f.blockAlign))
	fmtBody = le.AppendUint16(fmtBody, f.blockAlign)
	fmtBody = le.AppendUint16(fmtBody, f.bits)
	if f.extensible {
		fmtBody = le.AppendUint16(fmtBody, 22)
		fmtBody = le.AppendUint16(fmtBody, f.bits)
		fmtBody = le.AppendUint32(fmtBody, 0)
		fmtBody = le.AppendUint16(fmtBody, f.subformat)
		fmtBody = append(fmtBody, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	}
	var body []byte
	put := func(id string, b []byte, size uint32) {
		body = append(body, id...)
		body = le.AppendUint32(body, size)
		body = append(body, b...)
	}
	putPadded := func(c chunk) {
		put(c.id, c.body, uint32(len(c.body)))
		if len(c.body)%2 == 1 {
			body = append(body, 0)
		}
	}
	size := uint32(len(f.data))
	if f.dataSize != nil {
		size = *f.dataSize
	}
	if f.dataBeforeF {
		put("data", f.data, size)
	}
	if !f.omitFmt {
		putPadded(chunk{"fmt ", fmtBody})
	}
	for _, c := range f.extra {
		putPadded(c)
	}
	if !f.dataBeforeF {
		put("data", f.data, size)
	}
	out := []byte("RIFF")
	out = le.AppendUint32(out, uint32(4+len(body)))
	out = append(out, "WAVE"...)
	return append(out, body...)
}

func pcm16(rate uint32, channels uint16, samples ...int16) wavFile {
	var data []byte
	for _, s := range samples {
		data = binary.LittleEndian.AppendUint16(data, uint16(s))
	}
	return wavFile{format: 1, channels: channels, rate: rate, blockAlign: 2 * channels, bits: 16, data: data}
}

func u32(v uint32) *uint32 { return &v }

func TestDecodeWAVFormats(t *testing.T) {
	le := binary.LittleEndian
	f32 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	f64 := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = le.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	tests := []struct {
		name    string
		file    wavFile
		want    []float32
		format  audio.Format
		clamped bool
	}{
		{"pcm16", pcm16(8000, 1, 0, 16384, -32768), []float32{0, 0.5, -1}, audio.FormatPCM, false},
		{"pcm16 stereo downmix", pcm16(8000, 2, 16384, 0, -32768, -32768), []float32{0.25, -1}, audio.FormatPCM, false},
		{"pcm8 unsigned", wavFile{format: 1, channels: 1, rate: 8000, blockAlign: 1, bits: 8, data: []byte{128, 192, 0}},
			[]float32{0, 0.5, -1}, audio.FormatPCM, false},
		{"pcm24", wavFile{format: 1, channels: 1, rate: 8000, blockAlign: 3, bits: 24, data: []byte{0, 0, 0x40, 0, 0, 0x80}},
			[]float32{0.5, -1}, audio.FormatPCM, false},
		{"pcm32", wavFile{format: 1, channels: 1, rate: 8000, blockAlign: 4, bits: 32, data: le.AppendUint32(le.AppendUint32(nil, 0x40000000), 0x80000000)},
			[]float32{0.5, -1}, audio.FormatPCM, false},
		{"float32 with out-of-range and NaN", wavFile{format: 3, channels: 1, rate: 16000, blockAlign: 4, bits: 32,
			data: f32(0.25, 2, float32(math.NaN()), -7)}, []float32{0.25, 1, 0, -1}, audio.FormatFloat, true},
		{"float64", wavFile{format: 3, channels: 1, rate: 16000, blockAlign: 8, bits: 64, data: f64(-0.5, 0.125)},
			[]float32{-0.5, 0.125}, audio.FormatFloat, false},
		{"ulaw", wavFile{format: 7, channels: 1, rate: 8000, blockAlign: 1, bits: 8, data: []byte{0xFF, 0x80, 0x00}},
			[]float32{0, 32124.0 / 32768, -32124.0 / 32768}, audio.FormatULaw, false},
		{"alaw", wavFile{format: 6, channels: 1, rate: 8000, blockAlign: 1, bits: 8, data: []byte{0xD5, 0xAA}},
			[]float32{8.0 / 32768, 32256.0 / 32768}, audio.FormatALaw, false},
		{"extensible pcm16", wavFile{extensible: true, subformat: 1, channels: 1, rate: 48000, blockAlign: 2, bits: 16,
			data: le.AppendUint16(nil, 0x4000)}, []float32{0.5}, audio.FormatPCM, false},
		{"extensible float", wavFile{extensible: true, subformat: 3, channels: 1, rate: 44100, blockAlign: 4, bits: 32,
			data: f32(-0.75)}, []float32{-0.75}, audio.FormatFloat, false},
		{"LIST and odd unknown chunk skipped", func() wavFile {
			f := pcm16(8000, 1, 100, -100)
			f.extra = []chunk{{"LIST", []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00\x00")}, {"junk", []byte{1, 2, 3}}}
			return f
		}(), []float32{100.0 / 32768, -100.0 / 32768}, audio.FormatPCM, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := audio.DecodeWAV(bytes.NewReader(tt.file.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if w.Format != tt.format || w.Clamped != tt.clamped || w.Truncated {
				t.Errorf("format %v clamped %v truncated %v, want %v %v false", w.Format, w.Clamped, w.Truncated, tt.format, tt.clamped)
			}
			if !equal(w.Samples, tt.want) {
				t.Errorf("samples %v, want %v", w.Samples, tt.want)
			}
		})
	}
}

// TestDecodeWAVBadInput: every malformed input has a defined result, an
// error that says which kind, and no panic.
func TestDecodeWAVBadInput(t *testing.T) {
	good := pcm16(8000, 1, 1000, 2000, 3000, 4000)
	full := good.bytes()
	tests := []struct {
		name      string
		in        []byte
		opts      []audio.WAVOption
		err       error // nil: decodes
		samples   int
		truncated bool
	}{
		{"empty", nil, nil, audio.ErrNotWAV, 0, false},
		{"short", []byte("RIFF"), nil, audio.ErrNotWAV, 0, false},
		{"not riff", []byte("OggS\x00\x00\x00\x00WAVEfmt "), nil, audio.ErrNotWAV, 0, false},
		{"riff but not wave", []byte("RIFF\x04\x00\x00\x00AVI "), nil, audio.ErrNotWAV, 0, false},
		{"rf64", []byte("RF64\xff\xff\xff\xffWAVE"), nil, audio.ErrUnsupported, 0, false},
		{"header only", full[:12], nil, audio.ErrInvalid, 0, false},
		{"missing fmt", func() []byte { f := good; f.omitFmt = true; return f.bytes() }(), nil, audio.ErrInvalid, 0, false},
		{"data before fmt", func() []byte { f := good; f.dataBeforeF = true; return f.bytes() }(), nil, audio.ErrInvalid, 0, false},
		{"no data chunk", full[:36], nil, audio.ErrInvalid, 0, false},
		{"fmt cut short", full[:30], nil, audio.ErrInvalid, 0, false},
		{"zero channels", func() []byte { f := good; f.channels = 0; return f.bytes() }(), nil, audio.ErrInvalid, 0, false},
		{"absurd channels", func() []byte { f := good; f.channels = 1000; f.blockAlign = 2000; return f.bytes() }(), nil, audio.ErrUnsupported, 0, false},
		{"zero rate", func() []byte { f := good; f.rate = 0; return f.bytes() }(), nil, audio.ErrInvalid, 0, false},
		{"absurd rate", func() []byte { f := good; f.rate = 100_000_000; return f.bytes() }(), nil, audio.ErrUnsupported, 0, false},
		{"tiny rate", func() []byte { f := good; f.rate = 7; return f.bytes() }(), nil, audio.ErrUnsupported, 0, false},
		{"wrong block align", func() []byte { f := good; f.blockAlign = 7; return f.bytes() }(), nil, audio.ErrInvalid, 0, false},
		{"zero block align", func() []byte { f := good; f.blockAlign = 0; return f.bytes() }(), nil, audio.ErrInvalid, 0, false},
		{"12-bit pcm", func() []byte { f := good; f.bits = 12; return f.bytes() }(), nil, audio.ErrUnsupported, 0, false},
		{"adpcm", func() []byte { f := good; f.format = 2; return f.bytes() }(), nil, audio.ErrUnsupported, 0, false},
		{"truncated data", full[:len(full)-3], nil, nil, 2, true},
		{"odd data size", func() []byte {
			f := good
			f.data = append(f.data[:len(f.data):len(f.data)], 0x55)
			return f.bytes()
		}(), nil, nil, 4, true},
		{"size larger than file", func() []byte { f := good; f.dataSize = u32(1 << 30); return f.bytes() }(), nil, nil, 4, true},
		{"streaming size 0xFFFFFFFF", func() []byte { f := good; f.dataSize = u32(0xFFFFFFFF); return f.bytes() }(), nil, nil, 4, false},
		{"streaming size 0", func() []byte { f := good; f.dataSize = u32(0); return f.bytes() }(), nil, nil, 4, false},
		{"size smaller than data", func() []byte { f := good; f.dataSize = u32(4); return f.bytes() }(), nil, nil, 2, false},
		{"empty data", pcm16(8000, 1).bytes(), nil, nil, 0, false},
		{"longer than max", full, []audio.WAVOption{audio.WithMaxDuration(375 * time.Microsecond)}, audio.ErrTooLong, 0, false},
		{"exactly max", full, []audio.WAVOption{audio.WithMaxDuration(500 * time.Microsecond)}, nil, 4, false},
		{"exactly max then half a frame", full[:len(full)-1], []audio.WAVOption{audio.WithMaxDuration(375 * time.Microsecond)}, nil, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := audio.DecodeWAV(bytes.NewReader(tt.in), tt.opts...)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				t.Logf("%v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Samples) != tt.samples || w.Truncated != tt.truncated {
				t.Errorf("%d samples truncated=%v, want %d %v", len(w.Samples), w.Truncated, tt.samples, tt.truncated)
			}
		})
	}
}

// TestDecodeWAVTooLongBoundedMemory feeds an endless stream that claims an
// unknown size: DecodeWAV must stop at the limit, not read forever.
func TestDecodeWAVTooLongBoundedMemory(t *testing.T) {
	f := pcm16(8000, 1)
	f.dataSize = u32(0xFFFFFFFF)
	r := io.MultiReader(bytes.NewReader(f.bytes()), endless{})
	_, err := audio.DecodeWAV(r, audio.WithMaxDuration(2*time.Second))
	if !errors.Is(err, audio.ErrTooLong) {
		t.Fatalf("err %v, want ErrTooLong", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func TestWAVReaderTooLongSticky(t *testing.T) {
	f := pcm16(8000, 1, make([]int16, 100)...)
	r, err := audio.NewWAVReader(bytes.NewReader(f.bytes()), audio.WithMaxDuration(5*time.Millisecond)) // 40 samples
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 64)
	n, err := r.Read(buf)
	if n != 40 || err != nil {
		t.Fatalf("first read: %d, %v", n, err)
	}
	for range 2 {
		if n, err := r.Read(buf); n != 0 || !errors.Is(err, audio.ErrTooLong) {
			t.Fatalf("read past limit: %d, %v", n, err)
		}
	}
}

func TestEncodeWAVRoundTrip(t *testing.T) {
	in := []float32{0, 0.5, -0.5, 1, -1, 2, float32(math.NaN()), 1.0 / 32768}
	want := []float32{0, 0.5, -0.5, 32767.0 / 32768, -1, 32767.0 / 32768, 0, 1.0 / 32768}
	var b bytes.Buffer
	if err := audio.EncodeWAV(&b, 8000, in); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 44+2*len(in) {
		t.Fatalf("%d bytes", b.Len())
	}
	w, err := audio.DecodeWAV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if w.SampleRate != 8000 || w.Channels != 1 || w.BitsPerSample != 16 || !equal(w.Samples, want) {
		t.Fatalf("got %+v", w)
	}
	if err := audio.EncodeWAV(io.Discard, 0, in); !errors.Is(err, audio.ErrUnsupported) {
		t.Fatalf("rate 0: %v", err)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzDecodeWAV: whatever the bytes, DecodeWAV returns samples in [-1, 1]
// or an error, and never panics.
func FuzzDecodeWAV(f *testing.F) {
	f.Add(pcm16(8000, 2, 1, 2, 3, 4).bytes())
	f.Add(wavFile{extensible: true, subformat: 3, channels: 1, rate: 44100, blockAlign: 4, bits: 32, data: []byte{1, 2, 3, 4}}.bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := audio.DecodeWAV(bytes.NewReader(b), audio.WithMaxDuration(time.Second))
		if err != nil {
			return
		}
		for _, s := range w.Samples {
			if !(s >= -1 && s <= 1) {
				t.Fatalf("sample %v out of range", s)
			}
		}
	})
}
