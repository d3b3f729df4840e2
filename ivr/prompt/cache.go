package prompt

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// Engine is what a Cache needs from a synthesiser; *Synth provides it.
// Implementations must be safe for concurrent use.
type Engine interface {
	// Key names the audio Synthesize would return for (lang, text), and
	// fails the way Synthesize would for invalid input.
	Key(ctx context.Context, lang, text string) (string, error)
	Synthesize(ctx context.Context, lang, text string) ([]float32, error)
}

// CacheConfig configures a Cache.
type CacheConfig struct {
	// Dir holds the cached prompts, one WAV file per prompt. It is created
	// if missing.
	Dir string
	// MaxMemoryBytes bounds the in-memory LRU in front of the disk (4
	// bytes a sample, about 32 KB a second). Zero means 64 MiB; negative
	// disables the LRU.
	MaxMemoryBytes int64
	// SynthTimeout bounds one synthesis. It is detached from the caller's
	// context because other callers may be waiting on the same prompt.
	// Zero means 30 s.
	SynthTimeout time.Duration
	// Logger receives failures to write the disk cache, which do not fail
	// Get. Nil discards them.
	Logger *slog.Logger
}

// Cache serves synthesised prompts from memory, then disk, then the
// engine. It is safe for concurrent use.
type Cache struct {
	cfg    CacheConfig
	engine Engine
	log    *slog.Logger
	flight singleflight.Group

	mu    sync.Mutex
	lru   *list.List // of *lruEntry, most recent first
	items map[string]*list.Element
	bytes int64
}

type lruEntry struct {
	key     string
	samples []float32
}

// NewCache returns a Cache over engine, creating cfg.Dir.
func NewCache(cfg CacheConfig, engine Engine) (*Cache, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("prompt: cache dir not set: %w", ErrInvalidConfig)
	}
	if cfg.MaxMemoryBytes == 0 {
		cfg.MaxMemoryBytes = 64 << 20
	}
	if cfg.SynthTimeout <= 0 {
		cfg.SynthTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("prompt: cache dir: %w", err)
	}
	return &Cache{cfg: cfg, engine: engine, log: log, lru: list.New(), items: map[string]*list.Element{}}, nil
}

// Get returns the prompt for (lang, text) at SampleRate, synthesising and
// storing it on a miss. Concurrent Gets for the same prompt synthesise it
// once. The returned slice is shared with the cache and other callers: do
// not modify it (a Player only reads it).
func (c *Cache) Get(ctx context.Context, lang, text string) ([]float32, error) {
	key, err := c.engine.Key(ctx, lang, text)
	if err != nil {
		return nil, err
	}
	if s, ok := c.lookup(key); ok {
		return s, nil
	}
	// The fill runs on a context detached from this caller's, so one
	// caller hanging up does not fail the others waiting on the same key.
	ch := c.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.SynthTimeout)
		defer cancel()
		return c.fill(fctx, key, lang, text)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]float32), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("prompt: get: %w", ctx.Err())
	}
}

func (c *Cache) path(key string) string { return filepath.Join(c.cfg.Dir, key+".wav") }

// fill loads key from disk or synthesises it, and puts it in the LRU.
func (c *Cache) fill(ctx context.Context, key, lang, text string) ([]float32, error) {
	if s, ok := c.lookup(key); ok { // filled while we waited for the flight
		return s, nil
	}
	s, err := c.readDisk(key)
	if err != nil {
		// A missing file is the normal miss; anything else is a corrupt
		// or foreign file, which synthesis below overwrites.
		if !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("prompt cache: unreadable entry, re-synthesising", "key", key, "err", err)
		}
		if s, err = c.synthesize(ctx, key, lang, text); err != nil {
			return nil, err
		}
	}
	c.insert(key, s)
	return s, nil
}

func (c *Cache) readDisk(key string) ([]float32, error) {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil, err
	}
	w, err := audio.DecodeWAV(bytes.NewReader(b), audio.WithMaxDuration(DefaultMaxDuration))
	switch {
	case err != nil:
		return nil, err
	case w.SampleRate != SampleRate || w.Truncated || len(w.Samples) == 0:
		return nil, fmt.Errorf("prompt: cache entry %s: %d Hz, %d samples, truncated=%v", key, w.SampleRate, len(w.Samples), w.Truncated)
	}
	return w.Samples, nil
}

// synthesize runs the engine and stores the result. It returns the samples
// as decoded from the stored 16-bit file, so a later disk hit returns
// exactly the same audio as this first call.
func (c *Cache) synthesize(ctx context.Context, key, lang, text string) ([]float32, error) {
	s, err := c.engine.Synthesize(ctx, lang, text)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := audio.EncodeWAV(&buf, SampleRate, s); err != nil {
		return nil, fmt.Errorf("prompt: encode %s: %w", key, err)
	}
	w, err := audio.DecodeWAV(bytes.NewReader(buf.Bytes()), audio.WithMaxDuration(DefaultMaxDuration))
	if err != nil {
		return nil, fmt.Errorf("prompt: decode %s: %w", key, err)
	}
	// A full disk or read-only cache dir costs the next process a
	// re-synthesis, not this call its prompt.
	if err := c.writeAtomic(key, buf.Bytes()); err != nil {
		c.log.Warn("prompt cache: store failed", "key", key, "err", err)
	}
	return w.Samples, nil
}

// writeAtomic writes via a temporary file and rename, so a crash or a
// concurrent process never sees a half-written entry.
func (c *Cache) writeAtomic(key string, b []byte) error {
	f, err := os.CreateTemp(c.cfg.Dir, key+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path(key))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func (c *Cache) lookup(key string) ([]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*lruEntry).samples, true
}

func (c *Cache) insert(key string, s []float32) {
	size := int64(len(s)) * 4
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.cfg.MaxMemoryBytes {
		return // also covers a disabled (negative) LRU
	}
	if _, ok := c.items[key]; ok {
		return
	}
	c.items[key] = c.lru.PushFront(&lruEntry{key: key, samples: s})
	c.bytes += size
	for c.bytes > c.cfg.MaxMemoryBytes {
		e := c.lru.Back().Value.(*lruEntry)
		c.lru.Remove(c.lru.Back())
		delete(c.items, e.key)
		c.bytes -= int64(len(e.samples)) * 4
	}
}

// MemoryBytes returns the bytes the in-memory LRU holds.
func (c *Cache) MemoryBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Prompt is one prompt of a flow, for Warm.
type Prompt struct {
	Lang string
	Text string
}

// Progress is called by Warm after each prompt: done of total are finished,
// and err is that prompt's error, if any.
type Progress func(done, total int, p Prompt, err error)

// Warm synthesises the prompts of a flow ahead of the first call, one at a
// time so start-up does not starve live calls of CPU. It goes on past a
// failing prompt and returns all failures joined; it stops early only when
// ctx ends. progress may be nil.
func (c *Cache) Warm(ctx context.Context, prompts []Prompt, progress Progress) error {
	var errs []error
	for i, p := range prompts {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("prompt: warm: %w", err))...)
		}
		_, err := c.Get(ctx, p.Lang, p.Text)
		if err != nil {
			errs = append(errs, fmt.Errorf("prompt: warm %s %q: %w", p.Lang, p.Text, err))
		}
		if progress != nil {
			progress(i+1, len(prompts), p, err)
		}
	}
	return errors.Join(errs...)
}

var _ Engine = (*Synth)(nil)
