package calls

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// IntentCounter says how often each intent was recognised at a node since
// a time (Store.IntentCounts). Implementations must be safe for
// concurrent use.
type IntentCounter interface {
	IntentCounts(ctx context.Context, since time.Time, node string) (map[string]int64, error)
}

// RankerConfig tunes a Ranker.
type RankerConfig struct {
	// Window is how far back intents are counted; default 7 days, which
	// covers a weekly rhythm without clinging to last month's outage.
	Window time.Duration
	// Every is how often the counts are refreshed; default 10 minutes.
	Every time.Duration
	// Node is the menu node whose recognitions count; empty counts every
	// node.
	Node string
}

func (c RankerConfig) withDefaults() RankerConfig {
	if c.Window == 0 {
		c.Window = 7 * 24 * time.Hour
	}
	if c.Every == 0 {
		c.Every = 10 * time.Minute
	}
	return c
}

// Validate checks c (zero durations take their defaults).
func (c RankerConfig) Validate() error {
	c = c.withDefaults()
	if c.Window < 0 || c.Every < 0 {
		return errors.New("calls: ranker Window and Every must not be negative")
	}
	return nil
}

// Ranker orders a menu's options by how often callers asked for them
// recently, so the most wanted option is offered first. It is safe for
// concurrent use: Run refreshes the counts in the background while calls
// read them with Order.
type Ranker struct {
	src IntentCounter
	cfg RankerConfig
	log *slog.Logger
	now func() time.Time

	mu     sync.RWMutex
	counts map[string]int64 // nil until the first successful refresh
}

// NewRanker returns a Ranker counting through src. Until its first
// successful refresh (Run or Refresh), Order keeps the given order. A nil
// log discards.
func NewRanker(src IntentCounter, cfg RankerConfig, log *slog.Logger) *Ranker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ranker{
		src: src, cfg: cfg.withDefaults(), now: time.Now,
		log: log.With("component", "menu-ranker", "node", cfg.Node),
	}
}

// Run refreshes the counts at once and then every RankerConfig.Every until
// ctx is done, and returns nil then. A failed refresh is logged and the
// previous counts stay in use: a stale order is better than none.
func (r *Ranker) Run(ctx context.Context) error {
	tick := time.NewTicker(r.cfg.Every)
	defer tick.Stop()
	for {
		if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "menu ranking refresh failed; keeping the previous order", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Refresh recounts the intents over the window ending now.
func (r *Ranker) Refresh(ctx context.Context) error {
	counts, err := r.src.IntentCounts(ctx, r.now().Add(-r.cfg.Window), r.cfg.Node)
	if err != nil {
		return fmt.Errorf("calls: ranker: %w", err)
	}
	if counts == nil {
		counts = map[string]int64{}
	}
	r.mu.Lock()
	r.counts = counts
	r.mu.Unlock()
	return nil
}

// Order returns a copy of options sorted by descending frequency in the
// window. Options with equal counts, including those never asked for,
// keep their given order, so a flow's author still decides among them.
func (r *Ranker) Order(options []string) []string {
	out := slices.Clone(options)
	// A published map is never written again, so it is read unlocked.
	r.mu.RLock()
	counts := r.counts
	r.mu.RUnlock()
	if counts == nil {
		return out
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return cmp.Compare(counts[b], counts[a])
	})
	return out
}

var _ IntentCounter = (*Store)(nil)
