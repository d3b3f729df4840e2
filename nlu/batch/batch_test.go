package batch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/batch"
)

// recorder is a batch function that doubles its inputs and records the
// batches it saw. Returning from the test's synctest bubble requires every
// goroutine to have exited, so each test also checks Close leaks nothing.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	times   []time.Time
}

func (r *recorder) run(_ context.Context, in []int) ([]int, error) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(in))
	r.times = append(r.times, time.Now())
	r.mu.Unlock()
	out := make([]int, len(in))
	for i, v := range in {
		out[i] = 2 * v
	}
	return out, nil
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []int
	for _, b := range r.batches {
		s = append(s, len(b))
	}
	return s
}

// doAll starts one Do per input and returns a function that waits for them.
func doAll(b *batch.Batcher[int, int], ins ...int) func() ([]int, []error) {
	outs := make([]int, len(ins))
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, v := range ins {
		wg.Go(func() { outs[i], errs[i] = b.Do(context.Background(), v) })
	}
	return func() ([]int, []error) { wg.Wait(); return outs, errs }
}

func TestWindow(t *testing.T) {
	cases := []struct {
		name     string
		opts     batch.Options
		requests int
		// wantAfter is when (fake clock) the last batch runs and
		// wantSizes the batches run.
		wantAfter time.Duration
		wantSizes []int
	}{
		{"lone request waits the window", batch.Options{MaxBatch: 8, Window: 10 * time.Millisecond}, 1, 10 * time.Millisecond, []int{1}},
		{"requests within the window share a batch", batch.Options{MaxBatch: 8, Window: 10 * time.Millisecond}, 5, 10 * time.Millisecond, []int{5}},
		{"a full batch starts at once", batch.Options{MaxBatch: 4, Window: time.Hour}, 4, 0, []int{4}},
		{"window zero never waits", batch.Options{MaxBatch: 8}, 1, 0, []int{1}},
		{"max batch splits", batch.Options{MaxBatch: 3, Window: 10 * time.Millisecond}, 7, 10 * time.Millisecond, []int{3, 3, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rec recorder
				b := batch.New(rec.run, c.opts)
				defer b.Close()
				start := time.Now()
				ins := make([]int, c.requests)
				for i := range ins {
					ins[i] = i + 1
				}
				wait := doAll(b, ins...)
				outs, errs := wait()
				for i := range ins {
					if errs[i] != nil || outs[i] != 2*ins[i] {
						t.Errorf("Do(%d) = %d, %v", ins[i], outs[i], errs[i])
					}
				}
				got := rec.sizes()
				slices.Sort(got)
				want := slices.Clone(c.wantSizes)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("batch sizes %v, want %v", rec.sizes(), c.wantSizes)
				}
				if d := rec.times[len(rec.times)-1].Sub(start); d != c.wantAfter {
					t.Errorf("last batch ran after %v, want %v", d, c.wantAfter)
				}
			})
		})
	}
}

// TestBatchGrowsWhileWorkersBusy: requests that arrive while the only
// worker is busy form one batch instead of queueing one by one.
func TestBatchGrowsWhileWorkersBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var rec recorder
		b := batch.New(func(ctx context.Context, in []int) ([]int, error) {
			if in[0] == 0 {
				<-gate
			}
			return rec.run(ctx, in)
		}, batch.Options{MaxBatch: 16, Workers: 1})
		defer b.Close()
		first := doAll(b, 0)
		synctest.Wait() // the first batch is running and blocked
		rest := doAll(b, 1, 2, 3, 4, 5)
		synctest.Wait()
		close(gate)
		first()
		rest()
		if got := rec.sizes(); !slices.Equal(got, []int{1, 5}) {
			t.Errorf("batch sizes %v, want [1 5]", got)
		}
	})
}

func TestRunFailures(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		run  func(context.Context, []int) ([]int, error)
		msg  string
	}{
		{"error", func(context.Context, []int) ([]int, error) { return nil, boom }, "boom"},
		{"wrong count", func(_ context.Context, in []int) ([]int, error) { return in[1:], nil }, "returned 2 outputs for 3 inputs"},
		{"panic", func(context.Context, []int) ([]int, error) { panic("kaput") }, "run panicked: kaput"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := batch.New(c.run, batch.Options{MaxBatch: 3, Window: time.Second})
				defer b.Close()
				_, errs := doAll(b, 1, 2, 3)()
				for i, err := range errs {
					if err == nil || !strings.Contains(err.Error(), c.msg) {
						t.Errorf("request %d: %v, want %q", i, err, c.msg)
					}
				}
			})
		})
	}
}

func TestCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runCtxDone := make(chan struct{})
		started := make(chan struct{})
		b := batch.New(func(ctx context.Context, in []int) ([]int, error) {
			close(started)
			<-ctx.Done() // a slow model that only stops when nobody waits
			close(runCtxDone)
			return nil, ctx.Err()
		}, batch.Options{MaxBatch: 2, Window: time.Millisecond})
		defer b.Close()

		ctx1, cancel1 := context.WithCancel(context.Background())
		ctx2, cancel2 := context.WithCancel(context.Background())
		errs := make(chan error, 2)
		go func() { _, err := b.Do(ctx1, 1); errs <- err }()
		go func() { _, err := b.Do(ctx2, 2); errs <- err }()
		<-started
		cancel1()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Do: %v", err)
		}
		synctest.Wait()
		select {
		case <-runCtxDone:
			t.Fatal("batch context cancelled while a caller still waits")
		default:
		}
		cancel2()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Do: %v", err)
		}
		<-runCtxDone // every caller left: the batch's context ends
	})
}

func TestCancelledBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		b := batch.New(rec.run, batch.Options{MaxBatch: 8, Window: time.Second})
		defer b.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { _, err := b.Do(ctx, 1); done <- err }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Do: %v", err)
		}
		// The abandoned request is dropped, not run.
		outs, errs := doAll(b, 2)()
		if errs[0] != nil || outs[0] != 4 {
			t.Fatalf("Do(2) = %d, %v", outs[0], errs[0])
		}
		if got := rec.sizes(); !slices.Equal(got, []int{1}) || rec.batches[0][0] != 2 {
			t.Errorf("batches %v, want [[2]]", rec.batches)
		}
		if _, err := b.Do(ctx, 3); !errors.Is(err, context.Canceled) {
			t.Errorf("Do with a done context: %v", err)
		}
	})
}

func TestCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		b := batch.New(rec.run, batch.Options{MaxBatch: 4, Window: time.Hour})
		wait := doAll(b, 1, 2, 3)
		synctest.Wait() // queued, waiting an hour for a fourth
		b.Close()       // must not wait the hour
		outs, errs := wait()
		for i, err := range errs {
			if err != nil || outs[i] != 2*(i+1) {
				t.Errorf("queued request %d: %d, %v", i+1, outs[i], err)
			}
		}
		if _, err := b.Do(context.Background(), 9); !errors.Is(err, batch.ErrClosed) {
			t.Errorf("Do after Close: %v", err)
		}
		b.Close() // idempotent
	})
}

// TestConcurrent hammers a real-time Batcher (run with -race).
func TestConcurrent(t *testing.T) {
	var rec recorder
	b := batch.New(rec.run, batch.Options{MaxBatch: 16, Window: 200 * time.Microsecond, Workers: 3})
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				v := g*1000 + i
				out, err := b.Do(context.Background(), v)
				if err == nil && out != 2*v {
					err = fmt.Errorf("Do(%d) = %d", v, out)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total, most := 0, 0
	for _, s := range rec.sizes() {
		total += s
		most = max(most, s)
	}
	if total != 64*50 || most > 16 {
		t.Errorf("ran %d requests, largest batch %d", total, most)
	}
	if len(rec.sizes()) >= total {
		t.Errorf("no batching happened: %d batches for %d requests", len(rec.sizes()), total)
	}
}
