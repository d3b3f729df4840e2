package audio

import (
	"fmt"
	"math"
)

// The resampler is a polyphase FIR: a Kaiser-windowed sinc, tabulated at
// the L distinct fractional delays a rational ratio L/M visits. The
// constants trade cost for telephone-grade quality:
//
//   - 32 zero crossings each side and β = 8.6 give about 85 dB of stop-band
//     attenuation with a transition band of about 17% of the cutoff;
//   - the cutoff sits at 0.92 × the lower Nyquist frequency, so the stop band
//     starts at that Nyquist (nothing aliases) and the pass band is flat to
//     about 84% of it (3.4 kHz at 8 kHz: the whole telephone band).
//
// Going 48 kHz → 8 kHz costs about 400 multiply-adds per output sample
// (3 M/s per stream); 8 kHz ↔ 16 kHz about 70.
const (
	resampleZeroCrossings = 32
	resampleKaiserBeta    = 8.6
	resampleRolloff       = 0.92
	// maxResamplePhases rejects ratios like 8001→16000 Hz whose reduced
	// form needs a huge table; no real telephone or media rate does.
	maxResamplePhases = 2048
)

// Resample converts src from inRate to outRate in one go and appends the
// result to dst. It returns exactly ceil(len(src)·outRate/inRate) samples,
// the same as a Resampler fed src in any chunks and then flushed.
func Resample(dst, src []float32, inRate, outRate int) ([]float32, error) {
	r, err := NewResampler(inRate, outRate)
	if err != nil {
		return dst, err
	}
	dst = r.Process(dst, src)
	return r.Flush(dst), nil
}

// Resampler converts a stream of samples between two rates. Output sample k
// is the band-limited value of the input at time k/outRate (no delay is
// added); the stream is zero before its start and after Flush. A Resampler
// holds only the filter's history (tens to hundreds of samples) and is not
// safe for concurrent use.
type Resampler struct {
	inRate, outRate int
	l, m            int64     // outRate/inRate = l/m in lowest terms
	half            int64     // taps each side of the centre
	taps            int       // 2·half
	coef            []float32 // l rows of taps, row p for the fractional delay p/l
	buf             []float32 // input history; buf[0] is input sample bufStart
	bufStart        int64
	nIn             int64 // input samples accepted
	k               int64 // next output sample
}

// NewResampler returns a Resampler from inRate to outRate (Hz). Both must be
// in [MinSampleRate, MaxSampleRate]; equal rates copy samples through.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	for _, r := range []int{inRate, outRate} {
		if r < MinSampleRate || r > MaxSampleRate {
			return nil, fmt.Errorf("resample: rate %d Hz outside [%d, %d]: %w", r, MinSampleRate, MaxSampleRate, ErrUnsupported)
		}
	}
	g := gcd(inRate, outRate)
	r := &Resampler{inRate: inRate, outRate: outRate, l: int64(outRate / g), m: int64(inRate / g)}
	if r.l > maxResamplePhases {
		return nil, fmt.Errorf("resample: %d→%d Hz needs %d filter phases (max %d): %w",
			inRate, outRate, r.l, maxResamplePhases, ErrUnsupported)
	}
	if r.l == r.m {
		r.half, r.taps, r.coef = 1, 2, []float32{1, 0}
	} else {
		r.design()
	}
	r.Reset()
	return r, nil
}

// design fills the polyphase table.
func (r *Resampler) design() {
	// Cutoff in cycles per input sample: below the lower of the two
	// Nyquist frequencies.
	fc := 0.5 * resampleRolloff * min(1, float64(r.l)/float64(r.m))
	halfLen := resampleZeroCrossings / (2 * fc) // input samples each side
	r.half = int64(math.Ceil(halfLen)) + 1
	r.taps = int(2 * r.half)
	r.coef = make([]float32, int(r.l)*r.taps)
	i0b := besselI0(resampleKaiserBeta)
	for p := range int(r.l) {
		row := r.coef[p*r.taps : (p+1)*r.taps]
		var sum float64
		w := make([]float64, r.taps)
		for j := range w {
			// Tap j multiplies input q-half+1+j for an output at q + p/l.
			tau := float64(p)/float64(r.l) + float64(r.half-1) - float64(j)
			if math.Abs(tau) >= halfLen {
				continue
			}
			x := tau / halfLen
			w[j] = 2 * fc * sinc(2*fc*tau) * besselI0(resampleKaiserBeta*math.Sqrt(1-x*x)) / i0b
			sum += w[j]
		}
		// Unit DC gain in every phase, so a constant stays exactly constant
		// instead of picking up a ripple at the phase rate.
		for j := range w {
			row[j] = float32(w[j] / sum)
		}
	}
}

// Reset discards the stream state so the Resampler can start a new stream.
func (r *Resampler) Reset() {
	// Zeros before the start of the stream, so the first outputs have the
	// history their filter reads.
	r.buf = append(r.buf[:0], make([]float32, r.half-1)...)
	r.bufStart = -(r.half - 1)
	r.nIn = 0
	r.k = 0
}

// Process appends src to the stream and appends to dst every output sample
// whose filter window is now complete; the last few outputs wait for more
// input or Flush.
func (r *Resampler) Process(dst, src []float32) []float32 {
	r.buf = append(r.buf, src...)
	r.nIn += int64(len(src))
	dst = r.produce(dst, -1)
	// Keep only the history the next output reads.
	if drop := r.k*r.m/r.l - r.half + 1 - r.bufStart; drop > 0 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.bufStart += drop
	}
	return dst
}

// Flush ends the stream: it appends the remaining outputs (the input is taken
// as zero after its end) to dst, so that the stream yields
// ceil(inputs·outRate/inRate) samples in total, and resets the Resampler.
func (r *Resampler) Flush(dst []float32) []float32 {
	total := (r.nIn*r.l + r.m - 1) / r.m
	r.buf = append(r.buf, make([]float32, r.half+1)...)
	dst = r.produce(dst, total)
	r.Reset()
	return dst
}

// produce appends outputs while their input window is buffered, stopping
// before output limit when limit ≥ 0.
func (r *Resampler) produce(dst []float32, limit int64) []float32 {
	last := r.bufStart + int64(len(r.buf)) - 1 // last buffered input index
	for limit < 0 || r.k < limit {
		km := r.k * r.m
		q, p := km/r.l, km%r.l
		if q+r.half > last {
			break
		}
		x := r.buf[q-r.half+1-r.bufStart:][:r.taps]
		c := r.coef[int(p)*r.taps:][:r.taps]
		var acc float32
		for j, v := range x {
			acc += v * c[j]
		}
		dst = append(dst, acc)
		r.k++
	}
	return dst
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges fast for the β used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		f := x / (2 * float64(k))
		term *= f * f
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
