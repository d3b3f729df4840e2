package nlu_test

import (
	"context"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu"
)

// The tiny test models make these measure the Service's own overhead
// (tokenizing, batching, calibration, reference counting), not a real
// model's inference.

func BenchmarkClassify(b *testing.B) {
	e := open(b, modelsDir(b, all()), nlu.Config{}, nlu.Deps{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.svc.Classify(ctx, "my parcel has not arrived and tracking shows no update"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassifyParallel(b *testing.B) {
	e := open(b, modelsDir(b, all()), nlu.Config{MaxBatch: 32}, nlu.Deps{})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Classify(ctx, "my parcel has not arrived and tracking shows no update"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkClassifyMany64(b *testing.B) {
	e := open(b, modelsDir(b, all()), nlu.Config{}, nlu.Deps{})
	ctx := context.Background()
	texts := make([]string, 64)
	for k := range texts {
		texts[k] = shadowTexts[k%len(shadowTexts)]
	}
	for b.Loop() {
		if _, err := e.svc.ClassifyMany(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassifyWithShadow(b *testing.B) {
	m := manifest()
	m.Tasks["category"] = nlu.TaskVersions{Production: cat1, Candidate: cat2}
	e := open(b, modelsDir(b, m), nlu.Config{}, nlu.Deps{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.svc.Classify(ctx, "my parcel has not arrived and tracking shows no update"); err != nil {
			b.Fatal(err)
		}
	}
}
