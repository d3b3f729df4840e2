package tickets_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchboard-cc/switchboard/tickets"
)

// counter is the simplest correct Sequencer, standing in for the shared
// counter document; it counts how often it is asked.
type counter struct {
	mu    sync.Mutex
	next  int64
	calls int
}

func (c *counter) Reserve(_ context.Context, _ string, n int64) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	first := c.next + 1
	c.next += n
	return first, nil
}

func TestBlockSequencer(t *testing.T) {
	shared := &counter{}
	// Two replicas over one shared counter, many goroutines each.
	replicas := []*tickets.BlockSequencer{tickets.NewBlockSequencer(shared, 50), tickets.NewBlockSequencer(shared, 50)}
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for _, r := range replicas {
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					n, err := r.Reserve(context.Background(), "ticket", 1)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[n] {
						t.Errorf("number %d handed out twice", n)
					}
					seen[n] = true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(seen) != 2000 {
		t.Fatalf("%d distinct numbers, want 2000", len(seen))
	}
	if shared.calls != 40 {
		t.Fatalf("shared counter asked %d times, want 40 (one per block of 50)", shared.calls)
	}
	// A request larger than a block passes through and stays consecutive.
	first, _ := replicas[0].Reserve(context.Background(), "ticket", 1000)
	if first != 2001 {
		t.Fatalf("large reservation starts at %d, want 2001", first)
	}
}
