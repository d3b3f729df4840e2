package asr

import (
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
	"github.com/switchboard-cc/switchboard/nlu/vad"
	"github.com/switchboard-cc/switchboard/nlu/vad/vadtest"
)

func readTestWAV(t testing.TB, path string) *audio.WAV {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.DecodeWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// padded returns speech with lead and trail seconds of silence around it.
func padded(speech []float32, rate int, lead, trail float64) []float32 {
	out := make([]float32, int(lead*float64(rate)))
	out = append(out, speech...)
	return append(out, make([]float32, int(trail*float64(rate)))...)
}

// run streams samples in packets and returns every event.
func run(t testing.TB, s *Stream, samples []float32, packet int) []Event {
	t.Helper()
	ctx := context.Background()
	var evs []Event
	for off := 0; off < len(samples); off += packet {
		ev, err := s.Accept(ctx, samples[off:min(len(samples), off+packet)])
		if err != nil {
			t.Fatalf("Accept: %v", err)
		}
		evs = append(evs, ev...)
	}
	ev, err := s.Finish(ctx)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return append(evs, ev...)
}

func finals(evs []Event) []Result {
	var out []Result
	for _, e := range evs {
		if e.Kind == Final {
			out = append(out, e.Result)
		}
	}
	return out
}

func count(evs []Event, k EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func TestStreamEventsFollowSpeech(t *testing.T) {
	m, _ := loadTiny(t)
	v := vadtest.Model(t)
	w := readTestWAV(t, "../audio/testdata/speech8k.wav")
	speechDur := float64(len(w.Samples)) / float64(w.SampleRate)
	in := padded(w.Samples, w.SampleRate, 1.0, 1.5)

	var first []Result
	for _, packet := range []int{160, 333, 4000, len(in)} {
		s, err := m.NewStream(StreamConfig{SampleRate: w.SampleRate, VAD: v})
		if err != nil {
			t.Fatal(err)
		}
		evs := run(t, s, in, packet)
		if n := count(evs, SpeechStarted); n != 1 {
			t.Fatalf("packet %d: %d SpeechStarted events, want 1: %v", packet, n, evs)
		}
		fs := finals(evs)
		if len(fs) != 1 {
			t.Fatalf("packet %d: %d finals, want 1", packet, len(fs))
		}
		r := fs[0]
		// The utterance starts up to the pre-roll (500 ms) before the
		// VAD's start, which is within a window or two of the onset; its
		// end trails the last sound by the hangover and post-roll.
		if r.Start < 400*time.Millisecond || r.Start > 1100*time.Millisecond {
			t.Errorf("packet %d: utterance starts at %v, speech at 1s", packet, r.Start)
		}
		if end := time.Duration((1 + speechDur) * float64(time.Second)); r.End < end-400*time.Millisecond || r.End > end+500*time.Millisecond {
			t.Errorf("packet %d: utterance ends at %v, speech at %v", packet, r.End, end)
		}
		if first == nil {
			first = fs
			continue
		}
		// However the audio is packetized, the result is the same.
		if fs[0].Text != first[0].Text || fs[0].Start != first[0].Start || len(fs[0].Words) != len(first[0].Words) {
			t.Errorf("packet %d: result %+v differs from packet 160's %+v", packet, fs[0], first[0])
		}
	}
}

func TestStreamWithoutVADIsOneUtterance(t *testing.T) {
	m, _ := loadTiny(t)
	w := readTestWAV(t, "../audio/testdata/speech8k.wav")
	s, err := m.NewStream(StreamConfig{SampleRate: w.SampleRate, PartialEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	evs := run(t, s, w.Samples, 160)
	if n := len(finals(evs)); n != 1 {
		t.Fatalf("%d finals, want 1", n)
	}
	if count(evs, Partial) < 5 {
		t.Errorf("%d partials for %v of audio every 100ms", count(evs, Partial), w.Duration())
	}
	// The final result over the whole input equals a one-shot decode.
	rs, err := m.Transcribe(context.Background(), w.Samples, w.SampleRate, TranscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f := finals(evs)[0]; len(rs) > 0 && rs[0].Text != f.Text {
		t.Errorf("Transcribe %q, stream %q", rs[0].Text, f.Text)
	}
	if _, err := s.Accept(context.Background(), w.Samples[:10]); !errors.Is(err, ErrClosed) {
		t.Errorf("Accept after Finish: %v, want ErrClosed", err)
	}
	if _, err := s.Finish(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Finish: %v, want ErrClosed", err)
	}
}

// TestBadAudio: whatever arrives, the stream gives defined results and no
// panic: nothing for silence and noise, something bounded for the rest.
func TestBadAudio(t *testing.T) {
	m, _ := loadTiny(t)
	v := vadtest.Model(t)
	const rate = 8000
	speech := readTestWAV(t, "../audio/testdata/speech8k.wav").Samples
	gen := func(n int, f func(i int) float32) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	seed := uint32(1)
	noise := func(level float32) func(int) float32 {
		return func(int) float32 {
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			return level * (float32(seed)/math.MaxUint32*2 - 1)
		}
	}
	tests := []struct {
		name       string
		in         []float32
		minFinals  int
		maxFinals  int
		sampleRate int
	}{
		{"digital silence", make([]float32, 3*rate), 0, 0, rate},
		{"line noise", gen(3*rate, noise(0.01)), 0, 0, rate},
		{"empty", nil, 0, 0, rate},
		{"clipped speech", gen(len(speech), func(i int) float32 { return max(-1, min(1, speech[i]*30)) }), 1, 2, rate},
		{"DC offset", gen(len(speech)+rate, func(i int) float32 {
			if i < len(speech) {
				return speech[i] + 0.3
			}
			return 0.3
		}), 1, 2, rate},
		{"NaN and Inf samples", gen(len(speech), func(i int) float32 {
			switch i % 997 {
			case 0:
				return float32(math.NaN())
			case 1:
				return float32(math.Inf(1))
			}
			return speech[i]
		}), 0, 2, rate},
		{"full-scale square wave", gen(2*rate, func(i int) float32 {
			if (i/20)%2 == 0 {
				return 1
			}
			return -1
		}), 0, 1, rate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := m.NewStream(StreamConfig{SampleRate: tc.sampleRate, VAD: v})
			if err != nil {
				t.Fatal(err)
			}
			fs := finals(run(t, s, tc.in, 160))
			if len(fs) < tc.minFinals || len(fs) > tc.maxFinals {
				t.Errorf("%d finals, want %d..%d", len(fs), tc.minFinals, tc.maxFinals)
			}
		})
	}
}

// TestLongRecordingBoundedMemory streams ten minutes — speech every 20 s
// over line noise — and checks the heap does not grow with the audio: a
// call's memory must not depend on how long the caller stays on the line.
func TestLongRecordingBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("ten minutes of audio")
	}
	m, _ := loadTiny(t)
	v := vadtest.Model(t)
	const rate = 8000
	speech := readTestWAV(t, "../audio/testdata/speech8k.wav").Samples
	s, err := m.NewStream(StreamConfig{SampleRate: rate, VAD: v, VADConfig: func() vad.Config {
		c := vad.DefaultConfig()
		c.MaxSpeech = 10 * time.Second
		return c
	}()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	packet := make([]float32, 160)
	var heap []uint64
	finalsN := 0
	seed := uint32(7)
	for i := range 10 * 60 * rate / 160 {
		for j := range packet {
			k := (i*160 + j) % (20 * rate)
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			packet[j] = 0.003 * (float32(seed)/math.MaxUint32*2 - 1)
			if k < len(speech) {
				packet[j] += speech[k]
			}
		}
		evs, err := s.Accept(ctx, packet)
		if err != nil {
			t.Fatal(err)
		}
		finalsN += len(finals(evs))
		if i%(60*rate/160) == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = append(heap, ms.HeapAlloc)
		}
	}
	if finalsN < 25 || finalsN > 35 {
		t.Errorf("%d utterances in 10 minutes of speech every 20 s, want about 30", finalsN)
	}
	// After the first minute the heap must stay flat (within 8 MB).
	for i, h := range heap[1:] {
		if h > heap[1]+8<<20 {
			t.Errorf("heap at minute %d is %d MB, at minute 1 %d MB", i+1, h>>20, heap[1]>>20)
		}
	}
}

func TestResampledInput(t *testing.T) {
	m, _ := loadTiny(t)
	v := vadtest.Model(t)
	w := readTestWAV(t, "../audio/testdata/speech16k.wav")
	s, err := m.NewStream(StreamConfig{SampleRate: w.SampleRate, VAD: v})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(finals(run(t, s, padded(w.Samples, w.SampleRate, 0.5, 1), 320))); n != 1 {
		t.Errorf("16 kHz input: %d finals, want 1", n)
	}
}

func TestExpectRefused(t *testing.T) {
	m, _ := loadTiny(t)
	tests := []struct {
		name string
		e    Expect
	}{
		{"unencodable phrase", Expect{Phrases: []string{"退款"}}},
		{"empty phrase", Expect{Phrases: []string{" "}}},
		{"digits range", Expect{Digits: &DigitRange{Min: 5, Max: 2}}},
		{"two grammars", Expect{OneOf: []string{"你好"}, Digits: &DigitRange{Min: 1, Max: 2}}},
		{"beam", Expect{Beam: 1000}},
	}
	for _, tc := range tests {
		if _, err := m.NewStream(StreamConfig{Expect: tc.e}); !errors.Is(err, ErrExpect) {
			t.Errorf("%s: NewStream error %v, want ErrExpect", tc.name, err)
		}
	}
	if _, err := m.NewStream(StreamConfig{Expect: Expect{Digits: &DigitRange{Min: 4, Max: 4}, Phrases: []string{"你好"}}}); err != nil {
		t.Errorf("valid expectation refused: %v", err)
	}
}
