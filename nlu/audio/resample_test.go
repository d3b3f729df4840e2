package audio_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

func sine(rate int, freq, amp float64, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return x
}

// toneAt measures the amplitude of frequency freq in x (a single-bin DFT
// with a Hann window, away from the edges).
func toneAt(x []float32, rate int, freq float64) float64 {
	var re, im, wsum float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(x)-1))
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += w * float64(v) * math.Cos(ph)
		im += w * float64(v) * math.Sin(ph)
		wsum += w
	}
	return 2 * math.Hypot(re, im) / wsum
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestResampleKeepsTones(t *testing.T) {
	tests := []struct {
		in, out int
		freq    float64
	}{
		{8000, 16000, 1000},
		{16000, 8000, 1000},
		{44100, 16000, 3000},
		{48000, 8000, 3000},
		{22050, 16000, 440},
		{44100, 8000, 2500},
		{8000, 8000, 1000},
	}
	for _, tt := range tests {
		x := sine(tt.in, tt.freq, 0.5, tt.in/2) // 0.5 s
		y, err := audio.Resample(nil, x, tt.in, tt.out)
		if err != nil {
			t.Fatal(err)
		}
		if want := (len(x)*tt.out + tt.in - 1) / tt.in; len(y) != want {
			t.Errorf("%d→%d: %d samples, want %d", tt.in, tt.out, len(y), want)
		}
		// Skip the filter's warm-up at both ends.
		mid := y[len(y)/8 : len(y)*7/8]
		got := toneAt(mid, tt.out, tt.freq)
		if math.Abs(got-0.5) > 0.005 {
			t.Errorf("%d→%d: %v Hz tone amplitude %.4f, want 0.5", tt.in, tt.out, tt.freq, got)
		}
		// And nothing else: no delay is added, so the output minus the ideal
		// tone at the same phase leaves only the filter's ripple.
		ref := sine(tt.out, tt.freq, got, len(y))
		var res []float32
		for i := len(y) / 8; i < len(y)*7/8; i++ {
			res = append(res, y[i]-ref[i])
		}
		if r := rms(res); r > 0.005 {
			t.Errorf("%d→%d: residual rms %.4g (phase or shape error)", tt.in, tt.out, r)
		}
	}
}

// TestResampleAntiAliasing: a tone above the new Nyquist must not fold back.
func TestResampleAntiAliasing(t *testing.T) {
	tests := []struct {
		in, out int
		freq    float64
	}{
		{16000, 8000, 5000},
		{16000, 8000, 4200},
		{48000, 8000, 6000},
		{44100, 16000, 9000},
		{48000, 16000, 20000},
	}
	for _, tt := range tests {
		x := sine(tt.in, tt.freq, 0.9, tt.in/2)
		y, err := audio.Resample(nil, x, tt.in, tt.out)
		if err != nil {
			t.Fatal(err)
		}
		db := 20 * math.Log10(rms(y[len(y)/8:len(y)*7/8])/(0.9/math.Sqrt2))
		t.Logf("%d→%d: %v Hz tone attenuated to %.1f dB", tt.in, tt.out, tt.freq, db)
		if db > -60 {
			t.Errorf("%d→%d: %v Hz tone only attenuated to %.1f dB", tt.in, tt.out, tt.freq, db)
		}
	}
}

func TestResamplerChunkedEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 12345)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 0.2)
	}
	for _, rates := range [][2]int{{8000, 16000}, {16000, 8000}, {44100, 16000}, {48000, 8000}, {22050, 8000}, {8000, 8000}} {
		want, err := audio.Resample(nil, x, rates[0], rates[1])
		if err != nil {
			t.Fatal(err)
		}
		r, err := audio.NewResampler(rates[0], rates[1])
		if err != nil {
			t.Fatal(err)
		}
		for round := range 2 { // the second round checks Flush reset the state
			var got []float32
			for rest := x; len(rest) > 0; {
				k := min(len(rest), rng.IntN(700))
				got = r.Process(got, rest[:k])
				rest = rest[k:]
			}
			got = r.Flush(got)
			if !equal(got, want) {
				t.Fatalf("%v round %d: chunked output differs from one-shot (%d vs %d samples)", rates, round, len(got), len(want))
			}
		}
	}
}

func TestResampleRejects(t *testing.T) {
	for _, rates := range [][2]int{{0, 8000}, {8000, 0}, {8000, 10_000_000}, {8001, 16000}} {
		if _, err := audio.NewResampler(rates[0], rates[1]); !errors.Is(err, audio.ErrUnsupported) {
			t.Errorf("%v: %v, want ErrUnsupported", rates, err)
		}
	}
	// Empty input gives empty output.
	y, err := audio.Resample(nil, nil, 8000, 16000)
	if err != nil || len(y) != 0 {
		t.Errorf("empty: %v %v", y, err)
	}
}
