package prompt

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// needEspeak skips when espeak-ng is absent, unless the environment says
// the test run must have it.
func needEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_ESPEAK") != "" {
			t.Fatalf("espeak-ng required but missing: %v", err)
		}
		t.Skip("espeak-ng not on PATH; `apt-get install espeak-ng` (or SWITCHBOARD_REQUIRE_ESPEAK=1) runs this test")
	}
}

func rms(s []float32) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

func TestSynthesize(t *testing.T) {
	needEspeak(t)
	s, err := NewSynth(SynthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, text string }{
		{"zh", "您好，欢迎致电客服中心。"},
		{"en", "Hello, welcome to the service center."},
		{"en-US", "-v starts with a dash"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			got, err := s.Synthesize(t.Context(), tc.lang, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			d := samplesDuration(len(got))
			if d < 300*time.Millisecond || d > 10*time.Second {
				t.Errorf("duration %v outside 0.3–10 s", d)
			}
			if r := rms(got); r < 0.01 {
				t.Errorf("rms %.4f: audio is near silent", r)
			}
		})
	}
}

func TestSynthErrors(t *testing.T) {
	needEspeak(t)
	good, err := NewSynth(SynthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	missing, err := NewSynth(SynthConfig{Binary: filepath.Join(t.TempDir(), "no-espeak-ng")})
	if err != nil {
		t.Fatal(err)
	}
	missingPath, err := NewSynth(SynthConfig{Binary: "no-such-espeak-ng-binary"})
	if err != nil {
		t.Fatal(err)
	}
	badVoice, err := NewSynth(SynthConfig{Voices: map[string]string{"en": "zz"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		s          *Synth
		lang, text string
		want       error // nil: any error
	}{
		{"empty", good, "en", "", ErrEmptyText},
		{"blank", good, "zh", "  \n", ErrEmptyText},
		{"unknown language", good, "fr", "bonjour", ErrUnsupportedLanguage},
		{"missing binary path", missing, "en", "hello", ErrEngineMissing},
		{"missing binary in PATH", missingPath, "en", "hello", ErrEngineMissing},
		{"bad voice", badVoice, "en", "hello", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Synthesize(t.Context(), tc.lang, tc.text)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == ErrEngineMissing && !bytes.Contains([]byte(err.Error()), []byte("apt-get install espeak-ng")) {
				t.Errorf("error %q does not say how to install", err)
			}
		})
	}
	for _, cfg := range []SynthConfig{{Rate: 10}, {Pitch: 100}, {Voices: map[string]string{"en": "-x"}}} {
		if _, err := NewSynth(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewSynth(%+v) err = %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

func newCache(t *testing.T, dir string) (*Cache, *Synth) {
	t.Helper()
	s, err := NewSynth(SynthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCache(CacheConfig{Dir: dir}, s)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestCache(t *testing.T) {
	needEspeak(t)
	dir := t.TempDir()
	ctx := t.Context()
	c, s := newCache(t, dir)
	first, err := c.Get(ctx, "zh", "请稍候")
	if err != nil {
		t.Fatal(err)
	}
	if n := s.runs.Load(); n != 1 {
		t.Fatalf("first Get ran espeak-ng %d times, want 1", n)
	}
	mem, err := c.Get(ctx, "zh", "请稍候")
	if err != nil || !slices.Equal(mem, first) {
		t.Fatalf("memory hit: err %v, equal %v", err, slices.Equal(mem, first))
	}
	// A fresh cache over the same directory must hit the disk.
	c2, s2 := newCache(t, dir)
	disk, err := c2.Get(ctx, "zh", "请稍候")
	if err != nil || !slices.Equal(disk, first) {
		t.Fatalf("disk hit: err %v, equal %v", err, slices.Equal(disk, first))
	}
	if n := s.runs.Load() + s2.runs.Load(); n != 1 {
		t.Fatalf("cache hits ran espeak-ng: %d runs in all, want 1", n)
	}
	key, _ := s.Key(ctx, "zh", "请稍候")
	if _, err := os.Stat(filepath.Join(dir, key+".wav")); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	// Corrupt entries are re-synthesised.
	for name, corrupt := range map[string][]byte{
		"garbage":   []byte("not a wav"),
		"truncated": mustRead(t, filepath.Join(dir, key+".wav"))[:100],
		"empty":     nil,
	} {
		t.Run("corrupt "+name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, key+".wav"), corrupt, 0o644); err != nil {
				t.Fatal(err)
			}
			c3, s3 := newCache(t, dir)
			got, err := c3.Get(ctx, "zh", "请稍候")
			if err != nil || !slices.Equal(got, first) {
				t.Fatalf("err %v, equal %v", err, slices.Equal(got, first))
			}
			if n := s3.runs.Load(); n != 1 {
				t.Errorf("espeak-ng runs %d, want 1", n)
			}
		})
	}

	// Different settings are different entries.
	if other, _ := s.Key(ctx, "en", "请稍候"); other == key {
		t.Error("zh and en share a cache key")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCacheConcurrentGet(t *testing.T) {
	needEspeak(t)
	c, s := newCache(t, t.TempDir())
	const n = 8
	results := make([][]float32, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = c.Get(t.Context(), "en", "Please hold the line.") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !slices.Equal(results[i], results[0]) {
			t.Fatalf("Get %d: err %v", i, errs[i])
		}
	}
	if r := s.runs.Load(); r != 1 {
		t.Errorf("%d concurrent Gets ran espeak-ng %d times, want 1", n, r)
	}
}

func TestCacheWarmAndLRU(t *testing.T) {
	needEspeak(t)
	s, err := NewSynth(SynthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// Room for about one short prompt: the LRU must evict.
	c, err := NewCache(CacheConfig{Dir: t.TempDir(), MaxMemoryBytes: 60_000}, s)
	if err != nil {
		t.Fatal(err)
	}
	prompts := []Prompt{{"en", "Yes."}, {"zh", "好的"}, {"fr", "oui"}, {"en", "No."}}
	var calls []int
	err = c.Warm(t.Context(), prompts, func(done, total int, _ Prompt, _ error) {
		if total != len(prompts) {
			t.Errorf("total %d", total)
		}
		calls = append(calls, done)
	})
	if !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("Warm err = %v, want the fr failure", err)
	}
	if !slices.Equal(calls, []int{1, 2, 3, 4}) {
		t.Errorf("progress %v", calls)
	}
	if m := c.MemoryBytes(); m > 60_000 || m == 0 {
		t.Errorf("LRU holds %d bytes, want (0, 60000]", m)
	}
	before := s.runs.Load()
	for _, p := range []Prompt{prompts[0], prompts[1], prompts[3]} {
		if _, err := c.Get(t.Context(), p.Lang, p.Text); err != nil {
			t.Fatal(err)
		}
	}
	if s.runs.Load() != before {
		t.Error("Get after Warm synthesised again")
	}
}

func TestLoadWAV(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rate    int
		dur     time.Duration
		opts    []LoadOption
		wantN   int
		wantErr error
	}{
		{"16kHz", 16000, time.Second, nil, 8000, nil},
		{"44.1kHz", 44100, time.Second, nil, 8000, nil},
		{"8kHz", 8000, 500 * time.Millisecond, nil, 4000, nil},
		{"too long", 16000, 2 * time.Second, []LoadOption{WithMaxDuration(time.Second)}, 0, audio.ErrTooLong},
		{"empty", 16000, 0, nil, 0, ErrEmptyAudio},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := int(time.Duration(tc.rate) * tc.dur / time.Second)
			src := make([]float32, n)
			for i := range src {
				src[i] = 0.5 * float32(math.Sin(2*math.Pi*440*float64(i)/float64(tc.rate)))
			}
			path := filepath.Join(t.TempDir(), "p.wav")
			var buf bytes.Buffer
			if err := audio.EncodeWAV(&buf, tc.rate, src); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := LoadWAV(path, tc.opts...)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantN {
				t.Errorf("%d samples, want %d", len(got), tc.wantN)
			}
			// A 440 Hz tone at amplitude 0.5 has rms 0.354 at any rate.
			if r := rms(got[100 : len(got)-100]); math.Abs(r-0.3536) > 0.01 {
				t.Errorf("rms %.4f, want 0.354", r)
			}
		})
	}
	if _, err := LoadWAV(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestPlayer(t *testing.T) {
	ramp := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(i+1) / float32(n+1)
		}
		return s
	}
	for _, tc := range []struct {
		name       string
		n          int
		stopAfter  int // frames; -1 never
		wantFrames int
		wantPlayed time.Duration
	}{
		{"exact frames", 3 * FrameSamples, -1, 3, 60 * time.Millisecond},
		{"padded last frame", 3*FrameSamples + 40, -1, 4, 65 * time.Millisecond},
		{"one short frame", 8, -1, 1, time.Millisecond},
		{"empty", 0, -1, 0, 0},
		{"barge-in", 10 * FrameSamples, 4, 4, 80 * time.Millisecond},
		{"stop before start", 10 * FrameSamples, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := ramp(tc.n)
			p := NewPlayer(src)
			if p.Duration() != samplesDuration(tc.n) || p.Remaining() != p.Duration() {
				t.Fatalf("Duration %v Remaining %v", p.Duration(), p.Remaining())
			}
			var out []float32
			frames := 0
			for {
				if frames == tc.stopAfter {
					p.Stop()
				}
				f, ok := p.Next()
				if !ok {
					break
				}
				if len(f) != FrameSamples {
					t.Fatalf("frame %d has %d samples", frames, len(f))
				}
				f[0] += 0 // frames are copies; writing must be allowed
				out = append(out, f...)
				frames++
			}
			if frames != tc.wantFrames {
				t.Errorf("%d frames, want %d", frames, tc.wantFrames)
			}
			if p.Played() != tc.wantPlayed {
				t.Errorf("Played %v, want %v", p.Played(), tc.wantPlayed)
			}
			if p.Remaining() != 0 {
				t.Errorf("Remaining %v after end", p.Remaining())
			}
			played := min(len(out), tc.n)
			if !slices.Equal(out[:played], src[:played]) {
				t.Error("frames do not carry the prompt's samples")
			}
			for i, v := range out[played:] {
				if v != 0 {
					t.Fatalf("padding sample %d = %v", i, v)
				}
			}
			if _, ok := p.Next(); ok {
				t.Error("Next after the end returned a frame")
			}
			if tc.stopAfter >= 0 && !p.Stopped() {
				t.Error("Stopped false after Stop")
			}
		})
	}
}
