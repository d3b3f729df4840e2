package asrapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errBusy means every transcription turn stayed taken for the queue
// timeout, or too many requests were already inside: the server is
// saturated, not broken (503 with Retry-After).
var errBusy = errors.New("asrapi: too many transcriptions in progress")

// limiter hands out a fixed number of turns.
type limiter struct{ slots chan struct{} }

func newLimiter(n int) *limiter { return &limiter{slots: make(chan struct{}, n)} }

// acquire takes a turn, waiting at most wait; the caller must release it.
// It fails with errBusy when the wait runs out and with ctx's error when
// the client goes away first.
func (l *limiter) acquire(ctx context.Context, wait time.Duration) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("%w: no turn within %v", errBusy, wait)
	case <-ctx.Done():
		return fmt.Errorf("asrapi: waiting for a turn: %w", context.Cause(ctx))
	}
}

func (l *limiter) release() { <-l.slots }
