package audio

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/dsp/fourier"
)

// FbankOptions are the options of Kaldi's compute-fbank-feats, with the
// meaning and names of torchaudio.compliance.kaldi.fbank. Start from
// DefaultFbankOptions: several defaults are true or non-zero, so the zero
// value is not usable.
//
// Not supported (no model of ours uses them): VTLN warping, htk_compat,
// subtract_mean, min_duration.
type FbankOptions struct {
	SampleRate    int     // Hz of the input samples
	FrameLengthMs float64 // 25
	FrameShiftMs  float64 // 10
	// Dither adds Gaussian noise of this standard deviation (in the scaled,
	// 16-bit domain) to every sample; 0 turns it off. The noise comes from
	// a PCG generator seeded with DitherSeed and owned by the extractor, so
	// runs are reproducible.
	Dither     float64
	DitherSeed uint64
	// PreemphCoeff is the pre-emphasis coefficient in [0, 1]; 0 turns it off.
	PreemphCoeff   float64
	RemoveDCOffset bool
	// WindowType is "povey", "hamming", "hanning", "rectangular" or
	// "blackman" (BlackmanCoeff is its a₀, 0.42).
	WindowType        string
	BlackmanCoeff     float64
	RoundToPowerOfTwo bool
	NumMelBins        int
	LowFreq           float64 // Hz
	// HighFreq is the upper edge of the mel bank in Hz; ≤ 0 is an offset
	// from the Nyquist frequency (-400 at 8 kHz: 3600 Hz).
	HighFreq float64
	// SnipEdges false centres frame i on sample i·shift + shift/2 and
	// reflects the signal at both ends, giving (n + shift/2)/shift frames
	// for n samples; true keeps only frames wholly inside the signal.
	SnipEdges bool
	// UseEnergy prepends the log energy of each frame (measured before
	// pre-emphasis and windowing when RawEnergy; floored at EnergyFloor
	// when that is > 0) as an extra first column.
	UseEnergy   bool
	RawEnergy   bool
	EnergyFloor float64
	UseLogFbank bool // natural log, floored at float32 epsilon
	UsePower    bool // power spectrum; false uses the magnitude
	// Scale multiplies the [-1, 1] samples before anything else; 32768 is
	// the Kaldi/sherpa convention of features computed on 16-bit values.
	Scale float64
}

// DefaultFbankOptions returns the front end of docs/asr.md (the sherpa-onnx
// zipformer CTC contract) at the given sample rate: 80 log-mel bins from
// 20 Hz to Nyquist−400 Hz, 25 ms povey frames every 10 ms, no snipping, no
// dither.
func DefaultFbankOptions(sampleRate int) FbankOptions {
	return FbankOptions{
		SampleRate:        sampleRate,
		FrameLengthMs:     25,
		FrameShiftMs:      10,
		PreemphCoeff:      0.97,
		RemoveDCOffset:    true,
		WindowType:        "povey",
		BlackmanCoeff:     0.42,
		RoundToPowerOfTwo: true,
		NumMelBins:        80,
		LowFreq:           20,
		HighFreq:          -400,
		RawEnergy:         true,
		UseLogFbank:       true,
		UsePower:          true,
		Scale:             32768,
	}
}

// maxWindow bounds the frame length so absurd options cannot allocate
// absurd buffers (65536 samples is 170 ms at 384 kHz, 4 s at 16 kHz).
const maxWindow = 1 << 16

// float32 epsilon, torchaudio's and Kaldi's floor before every log.
const epsilon = 1.1920928955078125e-07

// geometry is what the options mean in samples.
type geometry struct {
	win, shift, padded int
}

func (o *FbankOptions) geometry() geometry {
	// Computed exactly as torchaudio does, in float64 and truncated, so the
	// same options give the same sample counts (25 ms at 8 kHz is
	// 200.00000000000003 samples, which must become 200).
	g := geometry{
		win:   int(float64(o.SampleRate) * o.FrameLengthMs * 0.001),
		shift: int(float64(o.SampleRate) * o.FrameShiftMs * 0.001),
	}
	g.padded = g.win
	if o.RoundToPowerOfTwo {
		g.padded = 1
		for g.padded < g.win {
			g.padded <<= 1
		}
	}
	return g
}

// Validate reports options that cannot work, with errors wrapping
// ErrInvalid. Beyond torchaudio's own checks it rejects a frame length
// shorter than the shift (samples between frames would be ignored) and,
// as Kaldi does, mel bins that contain no FFT bin (too many bins for the
// FFT resolution): torchaudio silently returns a constant log(ε) column
// there, which is never what a model was trained with on purpose.
func (o *FbankOptions) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("fbank: "+format+": %w", append(args, ErrInvalid)...)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if o.SampleRate <= 0 || o.SampleRate > MaxSampleRate {
		return bad("sample rate %d Hz outside (0, %d]", o.SampleRate, MaxSampleRate)
	}
	for _, v := range []float64{o.FrameLengthMs, o.FrameShiftMs, o.Dither, o.PreemphCoeff,
		o.BlackmanCoeff, o.LowFreq, o.HighFreq, o.EnergyFloor, o.Scale} {
		if !finite(v) {
			return bad("non-finite option %v", v)
		}
	}
	g := o.geometry()
	switch {
	case o.FrameLengthMs < o.FrameShiftMs:
		return bad("frame length %v ms shorter than the shift %v ms", o.FrameLengthMs, o.FrameShiftMs)
	case g.win < 2 || g.win > maxWindow:
		return bad("frame of %d samples outside [2, %d]", g.win, maxWindow)
	case g.shift < 1:
		return bad("frame shift of %d samples", g.shift)
	case g.padded%2 != 0:
		return bad("odd FFT size %d (set RoundToPowerOfTwo or an even frame length)", g.padded)
	case o.PreemphCoeff < 0 || o.PreemphCoeff > 1:
		return bad("pre-emphasis %v outside [0, 1]", o.PreemphCoeff)
	case o.Dither < 0:
		return bad("negative dither %v", o.Dither)
	case o.Scale <= 0:
		return bad("scale %v not positive", o.Scale)
	case o.EnergyFloor < 0:
		return bad("negative energy floor %v", o.EnergyFloor)
	case o.NumMelBins <= 3:
		return bad("%d mel bins (need more than 3)", o.NumMelBins)
	}
	switch o.WindowType {
	case "povey", "hamming", "hanning", "rectangular", "blackman":
	default:
		return bad("unknown window type %q", o.WindowType)
	}
	nyquist := 0.5 * float64(o.SampleRate)
	high := o.highFreq()
	if !(0 <= o.LowFreq && o.LowFreq < nyquist && 0 < high && high <= nyquist && o.LowFreq < high) {
		return bad("mel range low %v Hz, high %v Hz (from %v) does not fit in (0, Nyquist %v Hz]", o.LowFreq, high, o.HighFreq, nyquist)
	}
	for b, m := range o.melBank(g.padded) {
		if len(m.w) == 0 {
			return bad("mel bin %d of %d is empty at FFT size %d; use fewer bins", b, o.NumMelBins, g.padded)
		}
	}
	return nil
}

func (o *FbankOptions) highFreq() float64 {
	if o.HighFreq <= 0 {
		return o.HighFreq + 0.5*float64(o.SampleRate)
	}
	return o.HighFreq
}

// melBin is one triangular filter, stored sparsely: weights w apply to FFT
// bins lo, lo+1, ...
type melBin struct {
	lo int
	w  []float64
}

func melScale(f float64) float64 { return 1127 * math.Log(1+f/700) }

// melBank builds the filters as torchaudio's get_mel_banks does (without
// VTLN). Its FFT bins are 0 … padded/2−1; the Nyquist bin always has weight
// 0 (torchaudio's zero column).
func (o *FbankOptions) melBank(padded int) []melBin {
	numFFT := padded / 2
	binWidth := float64(o.SampleRate) / float64(padded)
	melLow, melHigh := melScale(o.LowFreq), melScale(o.highFreq())
	delta := (melHigh - melLow) / float64(o.NumMelBins+1)
	bins := make([]melBin, o.NumMelBins)
	for b := range bins {
		left := melLow + float64(b)*delta
		center := melLow + float64(b+1)*delta
		right := melLow + float64(b+2)*delta
		lo, hi := -1, -1
		var w []float64
		for k := range numFFT {
			mel := melScale(binWidth * float64(k))
			v := max(0, min((mel-left)/(center-left), (right-mel)/(right-center)))
			if v > 0 {
				if lo < 0 {
					lo = k
				}
				hi = k
			}
		}
		if lo >= 0 {
			w = make([]float64, hi-lo+1)
			for k := lo; k <= hi; k++ {
				mel := melScale(binWidth * float64(k))
				w[k-lo] = max(0, min((mel-left)/(center-left), (right-mel)/(right-center)))
			}
		}
		bins[b] = melBin{lo: lo, w: w}
	}
	return bins
}

// window returns the window function of length n (torchaudio's
// _feature_window_function; symmetric, "periodic=False").
func (o *FbankOptions) window(n int) []float64 {
	w := make([]float64, n)
	a := 2 * math.Pi / float64(n-1)
	for i := range w {
		x := float64(i)
		switch o.WindowType {
		case "hanning":
			w[i] = 0.5 - 0.5*math.Cos(a*x)
		case "povey": // a Hann window raised to 0.85: zero at both ends
			w[i] = math.Pow(0.5-0.5*math.Cos(a*x), 0.85)
		case "hamming":
			w[i] = 0.54 - 0.46*math.Cos(a*x)
		case "rectangular":
			w[i] = 1
		case "blackman":
			w[i] = o.BlackmanCoeff - 0.5*math.Cos(a*x) + (0.5-o.BlackmanCoeff)*math.Cos(2*a*x)
		}
	}
	return w
}

// extractor is the per-frame computation both Fbank and OnlineFbank run,
// with every buffer preallocated: a frame costs no allocation. Its arithmetic
// is float64 throughout (torchaudio's is float32), so the result is at least
// as accurate as the reference.
type extractor struct {
	opts    FbankOptions
	g       geometry
	dim     int
	window  []float64
	mel     []melBin
	fft     *fourier.FFT
	frame   []float64    // padded samples of the current frame
	spec    []complex128 // padded/2+1 coefficients
	power   []float64
	rng     *rand.Rand // nil without dither
	logEFlr float64    // log(EnergyFloor), or -Inf
}

func newExtractor(opts FbankOptions) (*extractor, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	g := opts.geometry()
	e := &extractor{
		opts:    opts,
		g:       g,
		dim:     opts.NumMelBins,
		window:  opts.window(g.win),
		mel:     opts.melBank(g.padded),
		fft:     fourier.NewFFT(g.padded),
		frame:   make([]float64, g.padded),
		spec:    make([]complex128, g.padded/2+1),
		power:   make([]float64, g.padded/2+1),
		logEFlr: math.Inf(-1),
	}
	if opts.UseEnergy {
		e.dim++
	}
	if opts.EnergyFloor > 0 {
		e.logEFlr = math.Log(opts.EnergyFloor)
	}
	if opts.Dither > 0 {
		e.rng = rand.New(rand.NewPCG(opts.DitherSeed, 0x5ca1ab1e))
	}
	return e, nil
}

// numFrames is Kaldi's frame count for n samples.
func (e *extractor) numFrames(n int64) int64 {
	win, shift := int64(e.g.win), int64(e.g.shift)
	if e.opts.SnipEdges {
		if n < win {
			return 0
		}
		return 1 + (n-win)/shift
	}
	return (n + shift/2) / shift
}

// frameStart is the index of the first sample of frame i (negative at the
// start without snipping: those samples come from the reflection).
func (e *extractor) frameStart(i int64) int64 {
	s := i * int64(e.g.shift)
	if !e.opts.SnipEdges {
		s += int64(e.g.shift/2) - int64(e.g.win/2)
	}
	return s
}

// load fills the frame from win consecutive samples.
func (e *extractor) load(seg []float32) {
	f, scale := e.frame[:len(seg)], e.opts.Scale
	for i, v := range seg {
		f[i] = float64(v) * scale
	}
}

// loadReflected fills the frame starting at sample start of an n-sample
// signal, reflecting indices outside [0, n) the way Kaldi does
// (… 1 0 | 0 1 2 … n-1 | n-1 n-2 …), repeatedly for signals shorter than a
// frame. at(i) returns sample i.
func (e *extractor) loadReflected(start, n int64, at func(int64) float32) {
	for j := range e.g.win {
		i := start + int64(j)
		for i < 0 || i >= n {
			if i < 0 {
				i = -i - 1
			} else {
				i = 2*n - 1 - i
			}
		}
		e.frame[j] = float64(at(i)) * e.opts.Scale
	}
}

// compute turns the loaded frame into one feature vector in out[:dim].
func (e *extractor) compute(out []float32) {
	o := &e.opts
	f := e.frame[:e.g.win]
	if e.rng != nil {
		for i := range f {
			f[i] += e.rng.NormFloat64() * o.Dither
		}
	}
	if o.RemoveDCOffset {
		var sum float64
		for _, v := range f {
			sum += v
		}
		mean := sum / float64(len(f))
		for i := range f {
			f[i] -= mean
		}
	}
	var logE float64
	if o.UseEnergy && o.RawEnergy {
		logE = e.logEnergy(f)
	}
	if c := o.PreemphCoeff; c != 0 {
		for i := len(f) - 1; i > 0; i-- {
			f[i] -= c * f[i-1]
		}
		f[0] -= c * f[0]
	}
	for i, w := range e.window {
		f[i] *= w
	}
	clear(e.frame[e.g.win:])
	if o.UseEnergy && !o.RawEnergy {
		logE = e.logEnergy(f)
	}
	e.fft.Coefficients(e.spec, e.frame)
	for k, c := range e.spec {
		p := real(c)*real(c) + imag(c)*imag(c)
		if !o.UsePower {
			p = math.Sqrt(p)
		}
		e.power[k] = p
	}
	if o.UseEnergy {
		out[0] = float32(logE)
		out = out[1:]
	}
	for b, m := range e.mel {
		var sum float64
		for k, w := range m.w {
			sum += w * e.power[m.lo+k]
		}
		if o.UseLogFbank {
			// The floor applies to the float32 value, as in torchaudio.
			out[b] = float32(math.Log(float64(max(float32(sum), epsilon))))
		} else {
			out[b] = float32(sum)
		}
	}
}

func (e *extractor) logEnergy(f []float64) float64 {
	var sum float64
	for _, v := range f {
		sum += v * v
	}
	return max(math.Log(max(sum, epsilon)), e.logEFlr)
}

// Fbank computes filterbank features of whole utterances. It is reusable
// (the window, mel bank, FFT plan and buffers are built once) but not safe
// for concurrent use: create one per goroutine.
type Fbank struct {
	e *extractor
}

// NewFbank validates opts and builds an extractor.
func NewFbank(opts FbankOptions) (*Fbank, error) {
	e, err := newExtractor(opts)
	if err != nil {
		return nil, err
	}
	return &Fbank{e: e}, nil
}

// Dim is the number of values per frame: NumMelBins, plus one with
// UseEnergy.
func (f *Fbank) Dim() int { return f.e.dim }

// NumFrames is the number of frames n samples give.
func (f *Fbank) NumFrames(n int) int { return int(f.e.numFrames(int64(n))) }

// Compute appends the features of samples to dst, NumFrames(len(samples))
// rows of Dim values, row-major (frame t, bin b at t·Dim+b: the layout of
// the model's [N, T, F] input), and returns the extended slice.
//
// Inputs shorter than a frame give Kaldi's answer: no frames with
// SnipEdges, otherwise (n + shift/2)/shift frames of the repeatedly
// reflected signal (torchaudio refuses such input). With Dither, every call
// continues the extractor's random sequence.
func (f *Fbank) Compute(dst, samples []float32) []float32 {
	e := f.e
	n := int64(len(samples))
	m := e.numFrames(n)
	base := len(dst)
	dst = grow(dst, int(m)*e.dim)
	at := func(i int64) float32 { return samples[i] }
	for i := range m {
		s := e.frameStart(i)
		if s >= 0 && s+int64(e.g.win) <= n {
			e.load(samples[s : s+int64(e.g.win)])
		} else {
			e.loadReflected(s, n, at)
		}
		e.compute(dst[base+int(i)*e.dim:])
	}
	return dst
}
