package calls_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/calls"
)

// counter is an IntentCounter answering from a script: each call takes
// the next answer (the last repeats) and records what it was asked.
type counter struct {
	mu      sync.Mutex
	answers []answer
	asked   []asked
}

type answer struct {
	counts map[string]int64
	err    error
}

type asked struct {
	since time.Time
	node  string
}

func (c *counter) IntentCounts(_ context.Context, since time.Time, node string) (map[string]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, asked{since, node})
	a := c.answers[min(len(c.asked), len(c.answers))-1]
	return a.counts, a.err
}

func (c *counter) calls() []asked {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.asked)
}

// TestOrder: descending frequency, ties and unseen options in their given
// order, the input untouched.
func TestOrder(t *testing.T) {
	counts := map[string]int64{"refund": 50, "billing": 20, "balance": 20, "outage": 5, "elsewhere": 99}
	tests := []struct {
		name    string
		options []string
		want    []string
	}{
		{name: "by frequency", options: []string{"outage", "billing", "refund"}, want: []string{"refund", "billing", "outage"}},
		{name: "ties keep their order", options: []string{"balance", "billing"}, want: []string{"balance", "billing"}},
		{name: "ties keep their order, reversed", options: []string{"billing", "balance"}, want: []string{"billing", "balance"}},
		{name: "unseen last, in order", options: []string{"help", "agent", "outage", "refund"}, want: []string{"refund", "outage", "help", "agent"}},
		{name: "none seen", options: []string{"c", "a", "b"}, want: []string{"c", "a", "b"}},
		{name: "empty", options: []string{}, want: []string{}},
		{name: "nil", options: nil, want: nil},
	}
	r := calls.NewRanker(&counter{answers: []answer{{counts: counts}}}, calls.RankerConfig{}, nil)
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.options)
			got := r.Order(tc.options)
			if !slices.Equal(got, tc.want) || (tc.want == nil) != (got == nil) {
				t.Errorf("Order(%q) = %q, want %q", tc.options, got, tc.want)
			}
			if !slices.Equal(tc.options, in) {
				t.Errorf("Order changed its input to %q", tc.options)
			}
		})
	}
}

// TestRankerRun: before the first refresh the given order stands; Run
// counts at once over the window at the configured node and again every
// interval; a failed refresh keeps the last order; Run ends with its
// context.
func TestRankerRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &counter{answers: []answer{
			{counts: map[string]int64{"b": 3, "c": 1}},
			{err: errors.New("cluster down")},
			{counts: map[string]int64{"c": 9}},
		}}
		r := calls.NewRanker(src, calls.RankerConfig{Window: 24 * time.Hour, Every: time.Minute, Node: "menu"}, nil)
		opts := []string{"a", "b", "c"}
		if got := r.Order(opts); !slices.Equal(got, opts) {
			t.Errorf("before Run: %q", got)
		}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		synctest.Wait()
		if got := r.Order(opts); !slices.Equal(got, []string{"b", "c", "a"}) {
			t.Errorf("after the first refresh: %q", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := r.Order(opts); !slices.Equal(got, []string{"b", "c", "a"}) {
			t.Errorf("after a failed refresh: %q, want the previous order", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := r.Order(opts); !slices.Equal(got, []string{"c", "a", "b"}) {
			t.Errorf("after the third refresh: %q", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		got := src.calls()
		if len(got) != 3 {
			t.Fatalf("%d refreshes, want 3", len(got))
		}
		for i, a := range got {
			want := start.Add(time.Duration(i)*time.Minute - 24*time.Hour)
			if !a.since.Equal(want) || a.node != "menu" {
				t.Errorf("refresh %d asked since %v at %q, want %v at menu", i, a.since, a.node, want)
			}
		}
	})
}

// TestRankerDefaults: the window defaults to a week, the interval to ten
// minutes.
func TestRankerDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &counter{answers: []answer{{counts: nil}}}
		r := calls.NewRanker(src, calls.RankerConfig{}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() { _ = r.Run(ctx) }()
		synctest.Wait()
		if got := src.calls(); len(got) != 1 || !got[0].since.Equal(time.Now().Add(-7*24*time.Hour)) || got[0].node != "" {
			t.Errorf("asked %+v, want once, since a week ago at any node", got)
		}
		time.Sleep(10*time.Minute - time.Nanosecond)
		synctest.Wait()
		if n := len(src.calls()); n != 1 {
			t.Errorf("%d refreshes before ten minutes, want 1", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := len(src.calls()); n != 2 {
			t.Errorf("%d refreshes at ten minutes, want 2", n)
		}
		// No counts at all is a successful refresh: the given order stands.
		if got := r.Order([]string{"x", "y"}); !slices.Equal(got, []string{"x", "y"}) {
			t.Errorf("Order = %q", got)
		}
	})
}
