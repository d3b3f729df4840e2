package audio_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// goldenIndex is testdata/fbank_golden.json, written by
// testdata/gen_fbank_golden.py from torchaudio.compliance.kaldi.fbank.
type goldenIndex struct {
	Torch      string `json:"torch"`
	Torchaudio string `json:"torchaudio"`
	Cases      []struct {
		Name        string         `json:"name"`
		WAV         string         `json:"wav"`
		Options     map[string]any `json:"options"`
		FramesTotal int            `json:"frames_total"`
		Frames      int            `json:"frames"`
		Dim         int            `json:"dim"`
		File64      string         `json:"file64"`
		File32      string         `json:"file32"`
	} `json:"cases"`
}

// torchaudioOptions maps torchaudio fbank keyword arguments onto
// FbankOptions, starting from torchaudio's defaults (not ours: its
// energy_floor is 1, high_freq 0, snip_edges true, 23 bins).
func torchaudioOptions(t *testing.T, rate int, kw map[string]any) audio.FbankOptions {
	t.Helper()
	o := audio.FbankOptions{
		SampleRate: rate, FrameLengthMs: 25, FrameShiftMs: 10, PreemphCoeff: 0.97,
		RemoveDCOffset: true, WindowType: "povey", BlackmanCoeff: 0.42, RoundToPowerOfTwo: true,
		NumMelBins: 23, LowFreq: 20, HighFreq: 0, SnipEdges: true, RawEnergy: true,
		EnergyFloor: 1, UseLogFbank: true, UsePower: true, Scale: 32768,
	}
	for k, v := range kw {
		f, _ := v.(float64)
		b, _ := v.(bool)
		switch k {
		case "num_mel_bins":
			o.NumMelBins = int(f)
		case "frame_length":
			o.FrameLengthMs = f
		case "frame_shift":
			o.FrameShiftMs = f
		case "low_freq":
			o.LowFreq = f
		case "high_freq":
			o.HighFreq = f
		case "dither":
			o.Dither = f
		case "preemphasis_coefficient":
			o.PreemphCoeff = f
		case "energy_floor":
			o.EnergyFloor = f
		case "blackman_coeff":
			o.BlackmanCoeff = f
		case "window_type":
			o.WindowType = v.(string)
		case "snip_edges":
			o.SnipEdges = b
		case "remove_dc_offset":
			o.RemoveDCOffset = b
		case "round_to_power_of_two":
			o.RoundToPowerOfTwo = b
		case "use_energy":
			o.UseEnergy = b
		case "raw_energy":
			o.RawEnergy = b
		case "use_log_fbank":
			o.UseLogFbank = b
		case "use_power":
			o.UsePower = b
		default:
			t.Fatalf("golden option %q not mapped", k)
		}
	}
	return o
}

func readGolden(t *testing.T, name string, n int) []float32 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", name, len(raw), 4*n)
	}
	out := make([]float32, n)
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFbankMatchesTorchaudio compares our features with
// torchaudio.compliance.kaldi.fbank on the committed clips, against two
// references: torchaudio run on float64 input, and (for the model-contract
// cases) on float32 input.
//
// Tolerances. We compute in float64 and round once at the end. torchaudio
// in float64 still builds its mel matrix in float32 (get_mel_banks uses the
// default dtype), which moves the weights by ~1e-7 relative and the small
// weights at a triangle's edges by more; with the float32 rounding of the
// stored golden that gives the ~1e-5..7e-5 we observe, so tol64 = 2e-4 in
// the log.
// torchaudio-in-float32 is itself off from its own float64 result by float32
// FFT rounding, which is relative to a frame's peak, not to each bin: bins
// 20+ nats below the peak (sidelobes of a pure tone, the band edges) move by
// up to ~6e-3 in the log. tol32 = 1e-2 covers that; the test logs the real
// maxima. Both strict checks apply where the reference mel energy is above
// 1 (16-bit-scaled units; log > 0; speech bins are 1e3..1e9). Below that a
// log is ill-conditioned (digital silence with the DC removed is pure
// rounding noise, down to the floor log(ε) ≈ -15.9) and carries nothing a
// model uses, so there we only check that neither side claims energy above
// lowTol the other lacks. Linear (non-log) outputs are compared relative to
// max(|ref|, 1).
func TestFbankMatchesTorchaudio(t *testing.T) {
	const (
		tol64  = 2e-4
		tol32  = 1e-2
		lowTol = 1.0
	)
	raw, err := os.ReadFile(filepath.Join("testdata", "fbank_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx goldenIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	t.Logf("goldens from torch %s, torchaudio %s", idx.Torch, idx.Torchaudio)
	if len(idx.Cases) < 5 {
		t.Fatalf("only %d golden cases", len(idx.Cases))
	}
	for _, c := range idx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			w := decodeFile(t, c.WAV)
			opts := torchaudioOptions(t, w.SampleRate, c.Options)
			fb, err := audio.NewFbank(opts)
			if err != nil {
				t.Fatal(err)
			}
			if fb.Dim() != c.Dim || fb.NumFrames(len(w.Samples)) != c.FramesTotal {
				t.Fatalf("shape %d×%d, torchaudio %d×%d", fb.NumFrames(len(w.Samples)), fb.Dim(), c.FramesTotal, c.Dim)
			}
			got := fb.Compute(nil, w.Samples)[:c.Frames*c.Dim]
			for _, ref := range []struct {
				name, file string
				tol        float64
			}{{"float64", c.File64, tol64}, {"float32", c.File32, tol32}} {
				if ref.file == "" {
					continue
				}
				want := readGolden(t, ref.file, c.Frames*c.Dim)
				strict, all, n := compareFeatures(t, ref.name, got, want, c.Dim, opts, ref.tol, lowTol)
				t.Logf("%-19s vs torchaudio-%s: max|diff| %.2g where ref energy > 1 (%d of %d values), %.2g overall",
					c.Name, ref.name, strict, n, len(want), all)
			}
		})
	}
}

// compareFeatures checks got against want as TestFbankMatchesTorchaudio
// describes and returns the largest difference among the strictly compared
// values, overall, and how many were strictly compared.
func compareFeatures(t *testing.T, ref string, got, want []float32, dim int, opts audio.FbankOptions, tol, lowTol float64) (maxStrict, maxAll float64, strict int) {
	t.Helper()
	errs := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		col := i % dim
		isLog := opts.UseLogFbank || (opts.UseEnergy && col == 0)
		d := math.Abs(g - w)
		logRef := w
		if !isLog {
			d /= max(math.Abs(w), 1)
			logRef = math.Log(max(w, 1e-30))
		}
		maxAll = max(maxAll, d)
		switch {
		case logRef > 0:
			strict++
			maxStrict = max(maxStrict, d)
			if d > tol {
				errs++
				if errs <= 5 {
					t.Errorf("vs %s: frame %d bin %d: got %v, want %v (diff %.3g > %g)", ref, i/dim, col, g, w, d, tol)
				}
			}
		case isLog && (g > lowTol || w > lowTol):
			errs++
			if errs <= 5 {
				t.Errorf("vs %s: frame %d bin %d: near-silent value got %v, want %v", ref, i/dim, col, g, w)
			}
		}
	}
	return maxStrict, maxAll, strict
}

func decodeFile(t *testing.T, name string) *audio.WAV {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
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
