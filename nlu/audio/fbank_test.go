package audio_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

func noise(seed uint64, n int, amp float64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(max(-1, min(1, rng.NormFloat64()*amp)))
	}
	return x
}

// streamed feeds x to an OnlineFbank in random chunks, popping as it goes.
func streamed(t *testing.T, opts audio.FbankOptions, x []float32, rng *rand.Rand) []float32 {
	t.Helper()
	o, err := audio.NewOnlineFbank(opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for rest := x; len(rest) > 0; {
		k := min(len(rest), rng.IntN(500))
		o.Accept(rest[:k])
		rest = rest[k:]
		if rng.IntN(3) == 0 {
			got = o.Pop(got)
		}
	}
	o.Finish()
	return o.Pop(got)
}

func TestOnlineFbankEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	speech := decodeFile(t, "speech8k.wav").Samples
	snip := audio.DefaultFbankOptions(8000)
	snip.SnipEdges = true
	dither := audio.DefaultFbankOptions(8000)
	dither.Dither, dither.DitherSeed = 1, 99
	energy := audio.DefaultFbankOptions(16000)
	energy.UseEnergy, energy.WindowType = true, "hamming"
	long := audio.DefaultFbankOptions(8000)
	long.FrameLengthMs, long.FrameShiftMs = 50, 10 // pad > shift: more reflected head frames
	tests := []struct {
		name string
		opts audio.FbankOptions
		x    []float32
	}{
		{"model 8k speech", audio.DefaultFbankOptions(8000), speech},
		{"snip edges", snip, speech},
		{"dither", dither, speech},
		{"energy 16k", energy, noise(1, 8000, 0.1)},
		{"long frames", long, speech[:3000]},
		{"shorter than a frame", audio.DefaultFbankOptions(8000), speech[4000:4150]},
		{"one sample", audio.DefaultFbankOptions(8000), speech[5000:5001]},
		{"empty", audio.DefaultFbankOptions(8000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb, err := audio.NewFbank(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := fb.Compute(nil, tt.x)
			if len(want) != fb.NumFrames(len(tt.x))*fb.Dim() {
				t.Fatalf("%d values for %d frames", len(want), fb.NumFrames(len(tt.x)))
			}
			for range 3 {
				got := streamed(t, tt.opts, tt.x, rng)
				if !equal(got, want) {
					t.Fatalf("streamed %d values, one-shot %d; differ", len(got), len(want))
				}
			}
		})
	}
}

// TestOnlineFbankReleasesEarly: frames are released as soon as their
// samples are in, not held until Finish.
func TestOnlineFbankReleasesEarly(t *testing.T) {
	o, err := audio.NewOnlineFbank(audio.DefaultFbankOptions(8000))
	if err != nil {
		t.Fatal(err)
	}
	o.Accept(make([]float32, 8000)) // 1 s: 100 frames in all
	if n := o.NumReady(); n < 97 {
		t.Errorf("%d frames ready after 1 s, want ≥ 97", n)
	}
	o.Finish()
	if n := o.NumReady(); n != 100 {
		t.Errorf("%d frames after Finish, want 100", n)
	}
	o.Accept(make([]float32, 800)) // ignored after Finish
	if n := o.NumReady(); n != 100 || !o.Finished() {
		t.Errorf("Accept after Finish changed the stream: %d frames", n)
	}
	o.Reset()
	if o.NumReady() != 0 || o.Finished() {
		t.Error("Reset kept state")
	}
}

// TestFbankBadAudio: degenerate signals give finite features of the right
// shape, never NaN, never a panic.
func TestFbankBadAudio(t *testing.T) {
	const rate = 8000
	floor := float32(math.Log(1.1920928955078125e-07))
	clipped := sine(rate, 300, 4, rate) // clamp a loud sine: full-scale square-ish wave
	for i, v := range clipped {
		clipped[i] = max(-1, min(1, v))
	}
	dc := make([]float32, rate)
	for i := range dc {
		dc[i] = 0.5
	}
	tests := []struct {
		name string
		x    []float32
		// check is an extra property of the features
		check func(t *testing.T, feats []float32)
	}{
		{"silence", make([]float32, rate), func(t *testing.T, f []float32) {
			for _, v := range f {
				if v != floor {
					t.Fatalf("silence gives %v, want the floor %v", v, floor)
				}
			}
		}},
		{"full-scale clipping", clipped, nil},
		{"constant DC", dc, func(t *testing.T, f []float32) {
			// DC removal leaves nothing: the floor everywhere.
			for _, v := range f {
				if v != floor {
					t.Fatalf("pure DC gives %v, want the floor", v)
				}
			}
		}},
		{"DC plus speech equals speech", nil, nil},
		{"alternating ±1", func() []float32 {
			x := make([]float32, rate)
			for i := range x {
				x[i] = float32(1 - 2*(i%2))
			}
			return x
		}(), nil},
		{"single click", func() []float32 { x := make([]float32, rate); x[4000] = 1; return x }(), nil},
		{"empty", nil, func(t *testing.T, f []float32) {
			if len(f) != 0 {
				t.Fatalf("%d values for empty input", len(f))
			}
		}},
	}
	fb, err := audio.NewFbank(audio.DefaultFbankOptions(rate))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := tt.x
			if tt.name == "DC plus speech equals speech" {
				// Per-frame DC removal makes features blind to a DC offset.
				speech := decodeFile(t, "speech8k.wav").Samples
				shifted := make([]float32, len(speech))
				for i, v := range speech {
					shifted[i] = v + 0.25
				}
				a, b := fb.Compute(nil, speech), fb.Compute(nil, shifted)
				for i := range a {
					if d := math.Abs(float64(a[i] - b[i])); d > 1e-3 && a[i] > 0 {
						t.Fatalf("value %d: %v vs %v with DC", i, a[i], b[i])
					}
				}
				return
			}
			f := fb.Compute(nil, x)
			if len(f) != fb.NumFrames(len(x))*fb.Dim() {
				t.Fatalf("%d values, want %d frames × %d", len(f), fb.NumFrames(len(x)), fb.Dim())
			}
			for i, v := range f {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < floor {
					t.Fatalf("value %d is %v", i, v)
				}
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

// TestOnlineFbankTenMinutesBoundedMemory streams 10 minutes of generated
// audio and checks the heap does not grow with it.
func TestOnlineFbankTenMinutesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 10 minutes of audio (~1 s of CPU); run without -short")
	}
	const rate = 8000
	o, err := audio.NewOnlineFbank(audio.DefaultFbankOptions(rate))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	chunk := make([]float32, 160) // 20 ms, as RTP delivers it
	frames := make([]float32, 0, 4*80)
	var before, after runtime.MemStats
	total := 0
	for i := range 10 * 60 * rate / len(chunk) {
		for j := range chunk {
			chunk[j] = float32(rng.NormFloat64() * 0.1)
		}
		o.Accept(chunk)
		frames = o.Pop(frames[:0])
		total += len(frames) / o.Dim()
		if i == 1000 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
	}
	o.Finish()
	total += o.NumReady()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if total != 60000 {
		t.Errorf("%d frames for 10 minutes, want 60000", total)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("heap grew %d bytes over 10 minutes of streaming", grew)
	}
}

func TestFbankOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(o *audio.FbankOptions)
	}{
		{"zero value", func(o *audio.FbankOptions) { *o = audio.FbankOptions{} }},
		{"zero rate", func(o *audio.FbankOptions) { o.SampleRate = 0 }},
		{"high freq above nyquist", func(o *audio.FbankOptions) { o.HighFreq = 4500 }},
		{"high freq offset below low", func(o *audio.FbankOptions) { o.HighFreq = -3990 }},
		{"low freq negative", func(o *audio.FbankOptions) { o.LowFreq = -1 }},
		{"frame shorter than shift", func(o *audio.FbankOptions) { o.FrameLengthMs = 5 }},
		{"zero shift", func(o *audio.FbankOptions) { o.FrameShiftMs = 0 }},
		{"huge frame", func(o *audio.FbankOptions) { o.FrameLengthMs = 1e6 }},
		{"nan", func(o *audio.FbankOptions) { o.LowFreq = math.NaN() }},
		{"too few bins", func(o *audio.FbankOptions) { o.NumMelBins = 3 }},
		{"empty mel bins", func(o *audio.FbankOptions) { o.NumMelBins = 128 }},
		{"unknown window", func(o *audio.FbankOptions) { o.WindowType = "kaiser" }},
		{"preemphasis > 1", func(o *audio.FbankOptions) { o.PreemphCoeff = 1.5 }},
		{"negative dither", func(o *audio.FbankOptions) { o.Dither = -1 }},
		{"odd fft without rounding", func(o *audio.FbankOptions) { o.RoundToPowerOfTwo, o.FrameLengthMs = false, 25.125 }},
		{"zero scale", func(o *audio.FbankOptions) { o.Scale = 0 }},
	}
	for _, tt := range tests {
		o := audio.DefaultFbankOptions(8000)
		tt.modify(&o)
		err := o.Validate()
		if !errors.Is(err, audio.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
			continue
		}
		if _, err := audio.NewOnlineFbank(o); !errors.Is(err, audio.ErrInvalid) {
			t.Errorf("%s: NewOnlineFbank accepted it", tt.name)
		}
		t.Logf("%s: %v", tt.name, err)
	}
	for _, rate := range []int{8000, 16000, 22050, 44100, 48000} {
		o := audio.DefaultFbankOptions(rate)
		if err := o.Validate(); err != nil {
			t.Errorf("defaults at %d Hz: %v", rate, err)
		}
	}
}

// BenchmarkFbank8k measures the model's front end on 8 kHz audio; ns/op is
// the cost of one second of audio (100 frames).
func BenchmarkFbank8k(b *testing.B) {
	x := noise(9, 8000, 0.1)
	fb, err := audio.NewFbank(audio.DefaultFbankOptions(8000))
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, 0, fb.NumFrames(len(x))*fb.Dim())
	b.ReportAllocs()
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		dst = fb.Compute(dst[:0], x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/audio-second")
}
