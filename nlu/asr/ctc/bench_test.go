package ctc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

// BenchmarkBeamSearch decodes 3 s of audio at 75 frames/s (225 frames;
// three times the 25/s of a 10 ms shift with 4× subsampling, so a bound)
// over a 1500-token vocabulary, with a peaky distribution: mostly
// confident blanks, a token spike every few frames.
func BenchmarkBeamSearch(b *testing.B) {
	const (
		frames = 225
		vocab  = 1500
		audio  = 3.0 // seconds
	)
	syms := make([]string, vocab)
	syms[0] = "<blk>"
	for i := 1; i < vocab; i++ {
		syms[i] = fmt.Sprintf("t%d", i)
	}
	v, err := ctc.NewVocab(syms, ctc.DetectBlank)
	if err != nil {
		b.Fatal(err)
	}
	m := realistic(rand.New(rand.NewPCG(3, 4)), vocab, frames)
	phrases := []ctc.Phrase{{Text: "t12t13"}, {Text: "t40t41t42"}}
	ctxt, err := ctc.NewContext(v, phrases)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts ctc.BeamOptions
	}{
		{"default", ctc.BeamOptions{}},
		{"context", ctc.BeamOptions{Context: ctxt}},
		{"no-blank-skip", ctc.BeamOptions{BlankSkip: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := ctc.NewBeamSearch(v, bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s := d.NewStream()
				if err := s.Accept(m); err != nil {
					b.Fatal(err)
				}
				_ = s.Final()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/audio, "µs/s-audio")
		})
	}
}

// realistic mimics a trained model's output: about two thirds of the
// frames are blank with posterior above 0.999, the rest a token spike
// (0.6-0.95) with a few rivals, tails spread over the whole vocabulary.
func realistic(rng *rand.Rand, vocab, frames int) [][]float32 {
	out := make([][]float32, frames)
	for t := range out {
		p := make([]float64, vocab)
		for i := range p {
			p[i] = 1e-7 * (0.5 + rng.Float64())
		}
		if rng.Float64() < 0.67 {
			p[0] = 1
		} else {
			spike := 0.6 + 0.35*rng.Float64()
			p[1+rng.IntN(vocab-1)] = spike
			rest := 1 - spike
			for range 3 {
				share := rest * rng.Float64() / 2
				p[1+rng.IntN(vocab-1)] += share
				rest -= share
			}
			p[0] += rest
		}
		sum := 0.0
		for _, x := range p {
			sum += x
		}
		row := make([]float32, vocab)
		for i, x := range p {
			row[i] = float32(math.Log(x / sum))
		}
		out[t] = row
	}
	return out
}
