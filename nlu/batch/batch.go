// Package batch provides dynamic micro-batching: requests that arrive within
// a short window run as one call of a batch function, which is how a model
// server trades a little latency for much higher throughput.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("batch: closed")

// Options configures a Batcher. Zero values give sensible defaults.
type Options struct {
	// MaxBatch is the most requests in one batch (default 1: no batching).
	MaxBatch int
	// Window is how long the first request of a batch waits for company
	// (0: no waiting; the batch takes what is already queued).
	Window time.Duration
	// Workers is how many batches may run at once (default 1).
	Workers int
}

// Batcher groups Do calls into batches for run. It is safe for concurrent
// use; Close it to stop its goroutines.
type Batcher[In, Out any] struct {
	run  func(ctx context.Context, in []In) ([]Out, error)
	opts Options

	// mu is held shared while a Do enqueues and exclusively by Close, so
	// the queue is never sent on after it is closed.
	mu      sync.RWMutex
	closed  bool
	queue   chan *request[In, Out]
	batches chan []*request[In, Out]
	done    sync.WaitGroup
}

type request[In, Out any] struct {
	ctx    context.Context
	in     In
	at     time.Time
	result chan result[Out] // buffered: the worker never blocks on a caller that left
}

type result[Out any] struct {
	out Out
	err error
}

// New starts a Batcher that calls run with batches of inputs. run must
// return one output per input, in order; an error (or a panic, or a wrong
// number of outputs) goes to every request of that batch. The ctx given to
// run is cancelled when every request in the batch has been abandoned by its
// caller, and carries the values of the batch's first request.
//
// A batch starts when MaxBatch requests are queued or Window has passed
// since its first request was queued; while all workers are busy, a waiting
// batch keeps growing up to MaxBatch.
func New[In, Out any](run func(ctx context.Context, in []In) ([]Out, error), opts Options) *Batcher[In, Out] {
	if opts.MaxBatch < 1 {
		opts.MaxBatch = 1
	}
	if opts.Window < 0 {
		opts.Window = 0
	}
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	b := &Batcher[In, Out]{
		run:     run,
		opts:    opts,
		queue:   make(chan *request[In, Out], opts.MaxBatch),
		batches: make(chan []*request[In, Out]),
	}
	b.done.Add(1 + opts.Workers)
	go b.collect()
	for range opts.Workers {
		go b.work()
	}
	return b
}

// Do queues in, waits for its batch to run and returns its output. If ctx
// ends first, Do returns ctx's error at once (the batch may still run).
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	r := &request[In, Out]{ctx: ctx, in: in, at: time.Now(), result: make(chan result[Out], 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return zero, ErrClosed
	}
	select {
	case b.queue <- r:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return zero, ctx.Err()
	}
	select {
	case res := <-r.result:
		return res.out, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Close stops accepting requests (Do returns ErrClosed), runs the requests
// already queued, and returns when all goroutines have exited. Closing twice
// is a no-op.
func (b *Batcher[In, Out]) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.done.Wait()
}

// collect forms batches from the queue and hands them to the workers.
func (b *Batcher[In, Out]) collect() {
	defer b.done.Done()
	defer close(b.batches)
	for {
		first, ok := <-b.queue
		if !ok {
			return
		}
		batch, open := b.fill([]*request[In, Out]{first})
		// While every worker is busy, keep taking requests into the
		// waiting batch instead of leaving them queued behind it.
		for sent := false; !sent; {
			if len(batch) >= b.opts.MaxBatch || !open {
				b.batches <- batch
				break
			}
			select {
			case b.batches <- batch:
				sent = true
			case r, ok := <-b.queue:
				if !ok {
					open = false
					continue
				}
				batch = append(batch, r)
			}
		}
		if !open {
			// Queue closed and drained into this batch.
			return
		}
	}
}

// fill adds requests to batch until it is full or the window of its first
// request ends. open is false once the queue is closed and empty.
func (b *Batcher[In, Out]) fill(batch []*request[In, Out]) (_ []*request[In, Out], open bool) {
	if b.opts.Window <= 0 {
		for len(batch) < b.opts.MaxBatch {
			select {
			case r, ok := <-b.queue:
				if !ok {
					return batch, false
				}
				batch = append(batch, r)
			default:
				return batch, true
			}
		}
		return batch, true
	}
	wait := time.Until(batch[0].at.Add(b.opts.Window))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(batch) < b.opts.MaxBatch {
		select {
		case r, ok := <-b.queue:
			if !ok {
				return batch, false
			}
			batch = append(batch, r)
		case <-timer.C:
			return batch, true
		}
	}
	return batch, true
}

func (b *Batcher[In, Out]) work() {
	defer b.done.Done()
	for batch := range b.batches {
		b.runBatch(batch)
	}
}

func (b *Batcher[In, Out]) runBatch(batch []*request[In, Out]) {
	// Callers that already gave up have returned; don't spend the model on them.
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	ins := make([]In, len(live))
	for i, r := range live {
		ins[i] = r.in
	}
	outs, err := b.call(ctx, ins)
	if err == nil && len(outs) != len(live) {
		err = fmt.Errorf("batch: run returned %d outputs for %d inputs", len(outs), len(live))
	}
	for i, r := range live {
		if err != nil {
			r.result <- result[Out]{err: err}
		} else {
			r.result <- result[Out]{out: outs[i]}
		}
	}
}

// call runs the batch function, turning a panic into an error so one bad
// batch cannot take the server down.
func (b *Batcher[In, Out]) call(ctx context.Context, ins []In) (outs []Out, err error) {
	defer func() {
		if p := recover(); p != nil {
			outs, err = nil, fmt.Errorf("batch: run panicked: %v", p)
		}
	}()
	return b.run(ctx, ins)
}

// batchContext returns a context with the first request's values that is
// cancelled once every request's context is done.
func batchContext[In, Out any](reqs []*request[In, Out]) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(reqs[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(reqs)))
	stops := make([]func() bool, 0, len(reqs))
	for _, r := range reqs {
		stops = append(stops, context.AfterFunc(r.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
