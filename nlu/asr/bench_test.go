package asr

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/nlu/vad/vadtest"
)

// benchModel is the model the benchmarks run: $SWITCHBOARD_BENCH_ASR_MODEL
// or the production version in ../../models.
func benchModel(b *testing.B) *Model {
	b.Helper()
	dir := os.Getenv("SWITCHBOARD_BENCH_ASR_MODEL")
	if dir == "" {
		d, err := Resolve(filepath.Join("..", "..", "models"), "asr")
		if err != nil {
			b.Skipf("no ASR model: %v", err)
		}
		dir = d
	}
	m, err := Load(context.Background(), orttest.Runtime(b), dir, LoadOptions{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkStream streams a padded utterance in 20 ms packets through VAD,
// features, model and beam search on one thread, as one call does, and
// reports the real-time factor (compute time / audio time).
func BenchmarkStream(b *testing.B) {
	m := benchModel(b)
	v := vadtest.Model(b)
	w := readTestWAV(b, "../audio/testdata/speech8k.wav")
	in := padded(w.Samples, w.SampleRate, 0.5, 1.0)
	audioSec := float64(len(in)) / float64(w.SampleRate)
	for _, tc := range []struct {
		name   string
		expect Expect
		every  time.Duration
	}{
		{"beam8_partials_off", Expect{}, -1},
		{"beam8_partials_1s", Expect{}, time.Second},
		{"greedy_partials_off", Expect{Beam: 1}, -1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				s, err := m.NewStream(StreamConfig{SampleRate: w.SampleRate, VAD: v, Expect: tc.expect, PartialEvery: tc.every})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				for off := 0; off < len(in); off += 160 {
					if _, err := s.Accept(ctx, in[off:min(len(in), off+160)]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.Finish(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/audioSec, "rtf")
		})
	}
}
