package onnxmodel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/onnxmodel"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/nlu/tokenize"
)

var benchTexts = []string{
	"我的快递还没到，已经三天了 where is my package?",
	"I was charged twice for order SO20261124001, please refund",
	"忘记密码了，验证码一直收不到",
	"屏幕破损 the screen arrived broken 😡",
	"你好，请问什么时候发货？",
	"cancel my order and transfer me to a human agent",
	"充电器故障 not working after one day",
	"我要投诉你们的客服 very disappointed with the service",
}

// BenchmarkRun is single-request latency: one Run at a time, no batching.
func BenchmarkRun(b *testing.B) {
	rt := orttest.Runtime(b)
	for _, task := range []string{"category", "embed"} {
		b.Run(task, func(b *testing.B) {
			m := open(b, rt, modelDir(b, task), onnxmodel.Options{Threads: 1})
			i := 0
			for b.Loop() {
				if _, err := m.Run(context.Background(), benchTexts[i%len(benchTexts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkRunParallel is batched throughput: concurrent Runs micro-batched.
func BenchmarkRunParallel(b *testing.B) {
	rt := orttest.Runtime(b)
	m := open(b, rt, modelDir(b, "category"), onnxmodel.Options{Threads: 1, MaxBatch: 32, Window: 500 * time.Microsecond})
	b.SetParallelism(16)
	var n atomic.Int64
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Run(context.Background(), benchTexts[i%len(benchTexts)]); err != nil {
				b.Error(err)
				return
			}
			i++
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "items/s")
}

// BenchmarkRunMany is a caller's batch of 32 texts.
func BenchmarkRunMany(b *testing.B) {
	rt := orttest.Runtime(b)
	m := open(b, rt, modelDir(b, "category"), onnxmodel.Options{Threads: 1, MaxBatch: 32})
	texts := make([]string, 32)
	for i := range texts {
		texts[i] = benchTexts[i%len(benchTexts)]
	}
	for b.Loop() {
		if _, err := m.RunMany(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkRealModel measures a real model directory (e.g. a trained
// category model or MiniLM) given in SWITCHBOARD_BENCH_MODEL:
//
//	SWITCHBOARD_BENCH_MODEL=models/category/2026-11-24.1 go test -run - -bench RealModel ./nlu/onnxmodel
//
// single: p50/p99 latency of one Run at a time; batch32: RunMany
// throughput; parallel: concurrent Runs through the micro-batcher.
func BenchmarkRealModel(b *testing.B) {
	dir := os.Getenv("SWITCHBOARD_BENCH_MODEL")
	if dir == "" {
		b.Skip("set SWITCHBOARD_BENCH_MODEL to a model directory (…/<task>/<version>)")
	}
	rt := orttest.Runtime(b)
	threads := 0 // ONNX Runtime's default: all cores
	// The latency target is stated for a 64-token ticket: grow each bench
	// text, a realistic ticket at a time, to exactly 64 tokens of this
	// model's tokenizer ([CLS] and [SEP] included).
	benchTexts := ticketsOfTokens(b, dir, 64)
	b.Run("single", func(b *testing.B) {
		m := openReal(b, rt, dir, onnxmodel.Options{Threads: threads})
		lat := make([]time.Duration, 0, 1024)
		i := 0
		for b.Loop() {
			t0 := time.Now()
			if _, err := m.Run(context.Background(), benchTexts[i%len(benchTexts)]); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			i++
		}
		reportLatency(b, lat)
	})
	b.Run("batch32", func(b *testing.B) {
		m := openReal(b, rt, dir, onnxmodel.Options{Threads: threads, MaxBatch: 32})
		texts := make([]string, 32)
		for i := range texts {
			texts[i] = benchTexts[i%len(benchTexts)]
		}
		for b.Loop() {
			if _, err := m.RunMany(context.Background(), texts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("parallel", func(b *testing.B) {
		m := openReal(b, rt, dir, onnxmodel.Options{Threads: threads, MaxBatch: 32, Window: time.Millisecond})
		b.SetParallelism(16)
		var n atomic.Int64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := m.Run(context.Background(), benchTexts[i%len(benchTexts)]); err != nil {
					b.Error(err)
					return
				}
				i++
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "items/s")
	})
}

// ticketsOfTokens returns len(benchTexts) texts that tokenize to exactly n
// tokens with dir's tokenizer: each bench text followed by more ticket
// prose, cut a rune at a time.
func ticketsOfTokens(b *testing.B, dir string, n int) []string {
	b.Helper()
	tok, err := tokenize.Load(filepath.Join(dir, "tokenizer.json"), 4*n)
	if err != nil {
		b.Fatal(err)
	}
	const more = " 订单号 SO20261124001 下单后一直没有物流更新，客服电话打不通。 I contacted support twice by email and nobody answered, " +
		"please check the warehouse and tell me when it ships or refund the payment to my card. 谢谢，麻烦尽快处理。"
	out := make([]string, len(benchTexts))
	for i, t := range benchTexts {
		r := []rune(t + strings.Repeat(more, 4))
		lo, hi := 1, len(r)
		for lo < hi { // the longest prefix with at most n tokens
			mid := (lo + hi + 1) / 2
			ids, err := tok.Encode(string(r[:mid]))
			if err != nil {
				b.Fatal(err)
			}
			if len(ids) <= n {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		out[i] = string(r[:lo])
		if ids, _ := tok.Encode(out[i]); len(ids) != n {
			b.Logf("text %d has %d tokens, not %d (a word boundary)", i, len(ids), n)
		}
	}
	return out
}

func openReal(b *testing.B, rt *ort.Runtime, dir string, opts onnxmodel.Options) *onnxmodel.Model {
	b.Helper()
	m, err := onnxmodel.Open(context.Background(), rt, dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(p(0.50), "p50-ns")
	b.ReportMetric(p(0.99), "p99-ns")
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(len(lat))/sum.Seconds(), "items/s")
}

func ExampleSoftmax() {
	p := onnxmodel.Softmax([]float32{2, 1, 0}, 1.5)
	fmt.Printf("%.3f\n", p)
	// Output: [0.563 0.289 0.148]
}
