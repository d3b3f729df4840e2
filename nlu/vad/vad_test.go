package vad_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/nlu/vad"
	"github.com/switchboard-cc/switchboard/nlu/vad/vadtest"
)

// The clips are espeak-ng voices at 8 kHz, trimmed to the first and last
// sample above -50 dBFS (sox silence), so their speech fills them; the tests
// pad them with known digital silence, as testdata/make_golden.py does.
const (
	clipZH = "testdata/speech_zh_8k.wav" // 我的快递三天了还没到
	clipEN = "testdata/speech_en_8k.wav" // My parcel has not arrived after three days
	lead   = 1.0                         // seconds of silence before the clip
	trail  = 1.5                         // and after
)

// readWAV reads a 16-bit mono PCM WAV file as samples in [-1, 1).
func readWAV(t testing.TB, path string) (samples []float32, rate int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s: not a WAV file", path)
	}
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(p+8+n, len(b))]
		switch id {
		case "fmt ":
			format, channels, bits := binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:])
			if format != 1 || channels != 1 || bits != 16 {
				t.Fatalf("%s: format %d, %d channels, %d bits; want PCM mono 16-bit", path, format, channels, bits)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			samples = make([]float32, len(body)/2)
			for i := range samples {
				samples[i] = float32(int16(binary.LittleEndian.Uint16(body[2*i:]))) / 32768
			}
			return samples, rate
		}
		p += 8 + n + n%2
	}
	t.Fatalf("%s: no data chunk", path)
	return nil, 0
}

// padded returns the clip with lead and trail seconds of silence at rate
// (8000, or 16000 by upsampling), and where its speech is, in samples.
func padded(t testing.TB, clip string, rate int) (x []float32, onset, offset int64) {
	t.Helper()
	speech, r := readWAV(t, clip)
	if r != 8000 {
		t.Fatalf("%s: %d Hz, want 8000", clip, r)
	}
	x = slices.Concat(make([]float32, int(lead*8000)), speech, make([]float32, int(trail*8000)))
	onset, offset = speechBounds(speech)
	onset, offset = onset+int64(lead*8000), offset+int64(lead*8000)
	if rate == 16000 {
		x = upsample2(x)
		onset, offset = 2*onset, 2*offset
	}
	return x, onset, offset
}

// speechBounds finds the speech in a clip from its energy: the first and
// last 10 ms frame whose RMS is above -40 dBFS.
func speechBounds(x []float32) (onset, offset int64) {
	const frame = 80
	onset, offset = -1, -1
	for i := 0; i+frame <= len(x); i += frame {
		var e float64
		for _, v := range x[i : i+frame] {
			e += float64(v) * float64(v)
		}
		if math.Sqrt(e/frame) > 0.01 {
			if onset < 0 {
				onset = int64(i)
			}
			offset = int64(i + frame)
		}
	}
	return onset, offset
}

// upsample2 doubles the rate by linear interpolation, like make_golden.py.
func upsample2(x []float32) []float32 {
	y := make([]float32, 2*len(x))
	for i, v := range x {
		next := v
		if i+1 < len(x) {
			next = x[i+1]
		}
		y[2*i], y[2*i+1] = v, (v+next)*0.5
	}
	return y
}

func rms(x []float32) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}

// noise returns n samples of white or pink (-3 dB/octave, Paul Kellet's
// filter) Gaussian noise at the given RMS, from a fixed seed.
func noise(kind string, n int, level float64, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	var b0, b1, b2, b3, b4, b5, b6 float64
	for i := range x {
		w := r.NormFloat64()
		if kind == "pink" {
			b0 = 0.99886*b0 + w*0.0555179
			b1 = 0.99332*b1 + w*0.0750759
			b2 = 0.96900*b2 + w*0.1538520
			b3 = 0.86650*b3 + w*0.3104856
			b4 = 0.55000*b4 + w*0.5329522
			b5 = -0.7616*b5 - w*0.0168980
			w, b6 = b0+b1+b2+b3+b4+b5+b6+w*0.5362, w*0.115926
		}
		x[i] = float32(w)
	}
	scale := float32(level / rms(x))
	for i := range x {
		x[i] *= scale
	}
	return x
}

// feed runs x through a fresh stream in chunks of chunk samples, then
// Flush, and returns every event.
func feed(t testing.TB, m *vad.Model, cfg vad.Config, x []float32, chunk int) []vad.Event {
	t.Helper()
	s, err := m.NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var events []vad.Event
	ctx := context.Background()
	for len(x) > 0 {
		k := min(chunk, len(x))
		ev, err := s.Accept(ctx, x[:k])
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev...)
		x = x[k:]
	}
	ev, err := s.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return append(events, ev...)
}

func config(rate int) vad.Config {
	c := vad.DefaultConfig()
	c.SampleRate = rate
	return c
}

// TestProbabilitiesMatchPython checks the stream's windowing, context and
// state handling against the silero-vad wheel's own OnnxWrapper, window by
// window (testdata/golden.json, written by make_golden.py).
func TestProbabilitiesMatchPython(t *testing.T) {
	m := vadtest.Model(t)
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Clip       string    `json:"clip"`
			SampleRate int       `json:"sample_rate"`
			Probs      []float32 `json:"probs"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		t.Run(fmt.Sprintf("%s@%d", c.Clip, c.SampleRate), func(t *testing.T) {
			x, _, _ := padded(t, "testdata/"+c.Clip, c.SampleRate)
			s, err := m.NewStream(config(c.SampleRate))
			if err != nil {
				t.Fatal(err)
			}
			window := 256 * c.SampleRate / 8000
			var got []float32
			for i := 0; i < len(x); i += window {
				if _, err := s.Accept(context.Background(), x[i:min(i+window, len(x))]); err != nil {
					t.Fatal(err)
				}
				if i+window <= len(x) {
					got = append(got, s.Probability())
				}
			}
			if _, err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(x)%window != 0 {
				got = append(got, s.Probability())
			}
			if len(got) != len(c.Probs) {
				t.Fatalf("%d windows, Python has %d", len(got), len(c.Probs))
			}
			for i := range got {
				if d := math.Abs(float64(got[i] - c.Probs[i])); d > 2e-5 {
					t.Fatalf("window %d: probability %v, Python %v", i, got[i], c.Probs[i])
				}
			}
		})
	}
}

func TestSpeechSegments(t *testing.T) {
	m := vadtest.Model(t)
	tests := []struct {
		name  string
		clip  string
		rate  int
		noise string  // "", "white" or "pink", added everywhere
		snr   float64 // dB, speech RMS over noise RMS
	}{
		{"zh 8k", clipZH, 8000, "", 0},
		{"en 8k", clipEN, 8000, "", 0},
		{"zh 16k", clipZH, 16000, "", 0},
		{"en 16k", clipEN, 16000, "", 0},
		{"zh 8k white 10 dB", clipZH, 8000, "white", 10},
		{"en 8k white 10 dB", clipEN, 8000, "white", 10},
		{"zh 8k pink 10 dB", clipZH, 8000, "pink", 10},
		{"en 8k pink 10 dB", clipEN, 8000, "pink", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(tc.rate)
			x, onset, offset := padded(t, tc.clip, tc.rate)
			if tc.noise != "" {
				level := rms(x[onset:offset]) / math.Pow(10, tc.snr/20)
				for i, v := range noise(tc.noise, len(x), level, 7) {
					x[i] += v
				}
			}
			events := feed(t, m, cfg, x, 4000)
			if len(events) != 2 || events[0].Kind != vad.SpeechStart || events[1].Kind != vad.SpeechEnd {
				t.Fatalf("events %v, want one SpeechStart and one SpeechEnd", events)
			}
			ms := func(d int64) int64 { return d * int64(tc.rate) / 1000 }
			pad := ms(cfg.SpeechPad.Milliseconds())
			// Accurate to the 32 ms window, plus one window for the
			// model's own onset judgement; a soft first consonant (the
			// nasal of "My" at 16 kHz, 我 in white noise) is heard up to
			// 130 ms late.
			early, late := ms(64), ms(160)
			start, end := events[0].Sample, events[1].Sample
			t.Logf("start %v (speech from %v), end %v (speech to %v)", events[0].Offset, dur(onset, tc.rate), events[1].Offset, dur(offset, tc.rate))
			if start < onset-pad-early || start > onset+late {
				t.Errorf("start at %v, speech begins at %v", events[0].Offset, dur(onset, tc.rate))
			}
			// Silero's probability decays for 100-150 ms after the last
			// syllable's energy (300 ms in white noise at 10 dB; the
			// golden test shows it is the model's, not the stream's), so
			// the end lags the energy bound by that plus the pad; a
			// fading syllable may also end it early.
			if end < offset-ms(200) || end > offset+pad+ms(320) {
				t.Errorf("end at %v, speech ends at %v", events[1].Offset, dur(offset, tc.rate))
			}
			if events[0].Offset != dur(start, tc.rate) || events[1].Forced {
				t.Errorf("bad event fields: %+v", events)
			}
		})
	}
}

func dur(samples int64, rate int) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(rate)
}

// TestNoSpeech: nothing a caller's line carries without a voice may start a
// segment. The probability of every window is reported so a regression
// shows how close it came.
func TestNoSpeech(t *testing.T) {
	m := vadtest.Model(t)
	const n = 10 * 8000
	tests := []struct {
		name string
		x    []float32
	}{
		{"digital silence", make([]float32, n)},
		{"white noise -30 dBFS", noise("white", n, 0.0316, 1)},
		{"pink noise -30 dBFS", noise("pink", n, 0.0316, 2)},
		{"white noise -20 dBFS", noise("white", n, 0.1, 3)},
		{"pink noise -20 dBFS", noise("pink", n, 0.1, 4)},
		{"1 kHz tone -20 dBFS", tone(n, 1000, 0.1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := m.NewStream(config(8000))
			if err != nil {
				t.Fatal(err)
			}
			var events []vad.Event
			var maxP float32
			speechWindows := 0
			for i := 0; i+256 <= len(tc.x); i += 256 {
				ev, err := s.Accept(context.Background(), tc.x[i:i+256])
				if err != nil {
					t.Fatal(err)
				}
				events = append(events, ev...)
				maxP = max(maxP, s.Probability())
				if s.Probability() >= 0.5 {
					speechWindows++
				}
			}
			t.Logf("max probability %.3f, %d of %d windows at or above 0.5", maxP, speechWindows, len(tc.x)/256)
			if len(events) != 0 {
				t.Errorf("events %v in %s", events, tc.name)
			}
		})
	}
}

func tone(n int, hz, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sqrt2 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return x
}

func TestChunkSizesGiveTheSameEvents(t *testing.T) {
	m := vadtest.Model(t)
	x, _, _ := padded(t, clipZH, 8000)
	x = slices.Concat(x, x) // two utterances
	want := feed(t, m, config(8000), x, 256)
	if len(want) != 4 {
		t.Fatalf("reference events %v, want two segments", want)
	}
	for _, chunk := range []int{1, 160, 333, 4000, len(x)} {
		if got := feed(t, m, config(8000), x, chunk); !slices.Equal(got, want) {
			t.Errorf("chunks of %d: %v, want %v", chunk, got, want)
		}
	}
}

func TestMaxSpeechForcesAnEnd(t *testing.T) {
	m := vadtest.Model(t)
	cfg := config(8000)
	cfg.MaxSpeech = time.Second
	x, onset, _ := padded(t, clipZH, 8000) // 3.5 s of speech
	events := feed(t, m, cfg, x, 4000)
	if len(events) < 4 || events[0].Kind != vad.SpeechStart || events[1].Kind != vad.SpeechEnd || !events[1].Forced {
		t.Fatalf("events %v, want a start, a forced end and more speech", events)
	}
	// Forced one window after a second of speech at the latest.
	if d := events[1].Sample - max(onset-512, 0); d < 8000 || d > 8000+3*256 {
		t.Errorf("forced end %v after the onset %v", events[1].Offset, dur(onset, 8000))
	}
	// The speech that goes on is a new segment, starting where the forced
	// one ended, and the last segment ends normally.
	if events[2].Kind != vad.SpeechStart || events[2].Sample < events[1].Sample {
		t.Errorf("after the forced end: %v", events[2:])
	}
	if last := events[len(events)-1]; last.Kind != vad.SpeechEnd {
		t.Errorf("last event %v", last)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*vad.Config)
		msg    string // "" = valid
	}{
		{"default", func(*vad.Config) {}, ""},
		{"16 kHz", func(c *vad.Config) { c.SampleRate = 16000 }, ""},
		{"no pad, no min speech", func(c *vad.Config) { c.SpeechPad, c.MinSpeech = 0, 0 }, ""},
		{"explicit negative threshold", func(c *vad.Config) { c.NegThreshold = 0.5 }, ""},
		{"zero config", func(c *vad.Config) { *c = vad.Config{} }, "sample rate 0 Hz"},
		{"44.1 kHz", func(c *vad.Config) { c.SampleRate = 44100 }, "sample rate 44100 Hz"},
		{"threshold 1", func(c *vad.Config) { c.Threshold = 1 }, "threshold 1, want between 0 and 1"},
		{"threshold NaN", func(c *vad.Config) { c.Threshold = float32(math.NaN()) }, "threshold NaN"},
		{"negative threshold above threshold", func(c *vad.Config) { c.NegThreshold = 0.6 }, "negative threshold 0.6"},
		{"negative threshold below 0", func(c *vad.Config) { c.NegThreshold = -0.1 }, "negative threshold -0.1"},
		{"negative min silence", func(c *vad.Config) { c.MinSilence = -time.Millisecond }, "min silence -1ms is negative"},
		{"negative pad", func(c *vad.Config) { c.SpeechPad = -time.Millisecond }, "speech pad -1ms is negative"},
		{"no max speech", func(c *vad.Config) { c.MaxSpeech = 0 }, "max speech 0s, want more than min speech 250ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := vad.DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, vad.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Validate: %v, want ErrInvalidConfig mentioning %q", err, tc.msg)
			}
		})
	}
	// NewStream validates too; it needs no model for that.
	var m *vad.Model
	if _, err := m.NewStream(vad.Config{}); !errors.Is(err, vad.ErrInvalidConfig) {
		t.Errorf("NewStream(Config{}): %v", err)
	}
}

func TestBadInput(t *testing.T) {
	m := vadtest.Model(t)
	x, _, _ := padded(t, clipEN, 8000)
	want := feed(t, m, config(8000), x, 4000)

	poison := func(f func(i int) float32) []float32 {
		y := slices.Clone(x)
		for i := 100; i < 4100; i++ { // inside the leading silence
			y[i] = f(i)
		}
		return y
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name string
		x    []float32
		want []vad.Event
	}{
		// NaN is silence, so the events are those of the clean clip: the
		// recurrent state was not poisoned.
		{"NaN samples", poison(func(int) float32 { return nan }), want},
		// ±Inf clip to ±1: a click of full-scale square wave, too short to
		// start a segment.
		{"infinite samples", poison(func(i int) float32 { return inf * float32(1-2*(i/8%2)) }), want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := feed(t, m, config(8000), tc.x, 333); !slices.Equal(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("empty chunks", func(t *testing.T) {
		s, err := m.NewStream(config(8000))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Accept(context.Background(), x[:8000]); err != nil {
			t.Fatal(err)
		}
		p := s.Probability()
		for _, chunk := range [][]float32{nil, {}} {
			if ev, err := s.Accept(context.Background(), chunk); ev != nil || err != nil {
				t.Errorf("Accept(%#v) = %v, %v; want nothing", chunk, ev, err)
			}
		}
		if s.Probability() != p {
			t.Errorf("probability changed on empty chunks")
		}
		// A flush with nothing buffered runs nothing.
		if ev, err := s.Flush(context.Background()); ev != nil || err != nil {
			t.Errorf("Flush after whole windows = %v, %v", ev, err)
		}
	})
}

func TestFlushEndsTheStream(t *testing.T) {
	m := vadtest.Model(t)
	speech, _ := readWAV(t, clipZH)
	x := slices.Concat(make([]float32, 8000), speech) // no trailing silence
	s, err := m.NewStream(config(8000))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev, err := s.Accept(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Kind != vad.SpeechStart || !s.Speaking() {
		t.Fatalf("Accept: %v, speaking %v; want an open segment", ev, s.Speaking())
	}
	ev, err = s.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Kind != vad.SpeechEnd || ev[0].Sample > int64(len(x)) || ev[0].Sample < int64(len(x))-1000 || s.Speaking() {
		t.Fatalf("Flush: %v, want a SpeechEnd near the end of the audio at %v", ev, dur(int64(len(x)), 8000))
	}
	if _, err := s.Accept(ctx, x[:10]); !errors.Is(err, vad.ErrFinished) {
		t.Errorf("Accept after Flush: %v", err)
	}
	if _, err := s.Flush(ctx); !errors.Is(err, vad.ErrFinished) {
		t.Errorf("Flush after Flush: %v", err)
	}
	s.Reset()
	if ev, err := s.Accept(ctx, x); err != nil || len(ev) != 1 || ev[0].Sample > 8000 {
		t.Errorf("after Reset: %v, %v; want the same start again", ev, err)
	}
}

func TestCancelledContext(t *testing.T) {
	m := vadtest.Model(t)
	s, err := m.NewStream(config(8000))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Less than a window runs nothing, so nothing fails yet.
	if _, err := s.Accept(ctx, make([]float32, 100)); err != nil {
		t.Fatalf("Accept without a window: %v", err)
	}
	if _, err := s.Accept(ctx, make([]float32, 1000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept on a cancelled context: %v", err)
	}
	// The stream lost its place in the audio: it stays failed until Reset.
	if _, err := s.Accept(context.Background(), make([]float32, 1000)); !errors.Is(err, context.Canceled) {
		t.Errorf("Accept after a failure: %v", err)
	}
	s.Reset()
	if _, err := s.Accept(context.Background(), make([]float32, 1000)); err != nil {
		t.Errorf("Accept after Reset: %v", err)
	}
}

func TestConcurrentStreams(t *testing.T) {
	m := vadtest.Model(t)
	x, _, _ := padded(t, clipEN, 8000)
	want := feed(t, m, config(8000), x, 256)
	var wg sync.WaitGroup
	got := make([][]vad.Event, 4)
	for i := range got {
		wg.Go(func() { got[i] = feed(t, m, config(8000), x, 160+i) })
	}
	wg.Wait()
	for i, g := range got {
		if !slices.Equal(g, want) {
			t.Errorf("stream %d: %v, want %v", i, g, want)
		}
	}
}

func TestLoadRefusesOtherModels(t *testing.T) {
	rt := orttest.Runtime(t)
	vadtest.Dir(t) // the real model must be there for the contrast below
	other := t.TempDir()
	tiny, err := os.ReadFile("../ort/testdata/tiny.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, vad.ModelFile), tiny, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want error
		msg  string
	}{
		{"a text classifier", other, ort.ErrShapeMismatch, `input "state" is not in the model`},
		{"no model", t.TempDir(), fs.ErrNotExist, "model.onnx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := vad.Load(rt, tc.dir, 1)
			if err == nil {
				m.Close()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Load: %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	// A closed model fails its streams with ort.ErrClosed.
	m, err := vad.Load(rt, vadtest.Dir(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewStream(config(8000))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := s.Accept(context.Background(), make([]float32, 256)); !errors.Is(err, ort.ErrClosed) {
		t.Errorf("Accept on a closed model: %v", err)
	}
}

// BenchmarkVAD8k measures the cost of one second of 8 kHz audio on one
// thread: the streams one core sustains is 1 s divided by it.
func BenchmarkVAD8k(b *testing.B) {
	m := vadtest.Model(b)
	x, _, _ := padded(b, clipZH, 8000)
	s, err := m.NewStream(config(8000))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		s.Reset()
		for i := 0; i < len(x); i += 160 { // 20 ms RTP packets
			if _, err := s.Accept(ctx, x[i:min(i+160, len(x))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	perSecond := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / (float64(len(x)) / 8000)
	b.ReportMetric(perSecond/1e3, "µs/audio-s")
	b.ReportMetric(1e9/perSecond, "streams/core")
}
