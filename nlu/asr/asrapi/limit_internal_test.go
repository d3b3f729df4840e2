package asrapi

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestLimiter: a free turn is taken at once; a taken one is waited for
// until the timeout (errBusy) or the client leaves, and a release hands it
// to a waiter.
func TestLimiter(t *testing.T) {
	tests := []struct {
		name    string
		release time.Duration // when the holder releases; 0: never
		cancel  time.Duration // when the waiter's client leaves; 0: never
		want    error
		waited  time.Duration
	}{
		{name: "released in time", release: 2 * time.Second, want: nil, waited: 2 * time.Second},
		{name: "timeout", want: errBusy, waited: 5 * time.Second},
		{name: "client gone", cancel: time.Second, want: context.Canceled, waited: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLimiter(1)
				if err := l.acquire(t.Context(), 0); err != nil {
					t.Fatalf("free turn: %v", err)
				}
				if tc.release > 0 {
					time.AfterFunc(tc.release, l.release)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.cancel > 0 {
					time.AfterFunc(tc.cancel, cancel)
				}
				start := time.Now()
				err := l.acquire(ctx, 5*time.Second)
				if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
					t.Errorf("acquire: %v, want %v", err, tc.want)
				}
				if got := time.Since(start); got != tc.waited {
					t.Errorf("waited %v, want %v", got, tc.waited)
				}
			})
		})
	}
}
