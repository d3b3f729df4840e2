// Package eslog ships the service's own structured logs to Elasticsearch,
// where AIOps mines them (template mining, error bursts, root-cause
// evidence). It is a slog.Handler that tees every record to another handler
// (usually JSON on stderr) and, asynchronously, to daily indices
// "<prefix>-logs-YYYY.MM.DD" behind the alias "<prefix>-logs", in ECS-style
// fields.
//
// Logging must never slow down or break a request: records are queued in a
// bounded buffer and written in bulk by one goroutine; when Elasticsearch is
// down or slow and the buffer is full, records are dropped and counted
// (Dropped), never blocked on. Retention is the package's own (no ILM in
// minimal clusters): Prune deletes daily indices older than the configured
// number of days.
package eslog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// Config tunes the shipper.
type Config struct {
	Service       string        // service.name in every record, e.g. "switchboard"
	Level         slog.Leveler  // minimum level shipped to Elasticsearch; default Info
	BufferSize    int           // records queued before dropping; default 10000
	BatchSize     int           // records per bulk request; default 500
	FlushInterval time.Duration // longest a record waits; default 1 s
	RetentionDays int           // daily indices kept; default 30
}

func (c *Config) defaults() {
	if c.Service == "" {
		c.Service = "switchboard"
	}
	if c.Level == nil {
		c.Level = slog.LevelInfo
	}
	if c.BufferSize <= 0 {
		c.BufferSize = 10000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.RetentionDays <= 0 {
		c.RetentionDays = 30
	}
}

// Shipper owns the queue and the writer goroutine. Create it with New, get
// handlers from Handler, run it with Run, and stop it by cancelling Run's
// context: Run then flushes what is queued before returning.
type Shipper struct {
	c       *es.Client
	cfg     Config
	queue   chan []byte
	dropped atomic.Int64
	shipped atomic.Int64
	now     func() time.Time
}

// New returns a Shipper writing through c.
func New(c *es.Client, cfg Config) *Shipper {
	cfg.defaults()
	return &Shipper{c: c, cfg: cfg, queue: make(chan []byte, cfg.BufferSize), now: time.Now}
}

// Alias is the read alias over all daily log indices.
func (s *Shipper) Alias() string { return s.c.Name("logs") }

// Setup installs the index template for the daily indices; the template
// adds every new daily index to the read alias.
func (s *Shipper) Setup(ctx context.Context) error {
	tmpl := map[string]any{
		"index_patterns": []string{s.Alias() + "-*"},
		"version":        1,
		"priority":       100,
		"template": map[string]any{
			"settings": map[string]any{"number_of_shards": 1},
			"aliases":  map[string]any{s.Alias(): map[string]any{}},
			"mappings": map[string]any{
				"dynamic": false,
				"properties": map[string]any{
					"@timestamp":   map[string]any{"type": "date"},
					"message":      map[string]any{"type": "text"},
					"log":          map[string]any{"properties": map[string]any{"level": map[string]any{"type": "keyword"}, "logger": map[string]any{"type": "keyword"}}},
					"service":      map[string]any{"properties": map[string]any{"name": map[string]any{"type": "keyword"}}},
					"component":    map[string]any{"type": "keyword"},
					"error":        map[string]any{"properties": map[string]any{"message": map[string]any{"type": "text"}}},
					"ticket_id":    map[string]any{"type": "keyword"},
					"call_id":      map[string]any{"type": "keyword"},
					"request_id":   map[string]any{"type": "keyword"},
					"template_id":  map[string]any{"type": "keyword"},
					"labels":       map[string]any{"type": "flattened"},
					"event":        map[string]any{"properties": map[string]any{"dataset": map[string]any{"type": "keyword"}}},
					"http":         map[string]any{"properties": map[string]any{"status": map[string]any{"type": "integer"}, "route": map[string]any{"type": "keyword"}, "method": map[string]any{"type": "keyword"}}},
					"duration_ms":  map[string]any{"type": "float"},
					"host":         map[string]any{"properties": map[string]any{"name": map[string]any{"type": "keyword"}}},
					"trace_id":     map[string]any{"type": "keyword"},
					"ingest_agent": map[string]any{"type": "keyword"},
				},
			},
		},
	}
	if err := s.c.Do(ctx, http.MethodPut, "/_index_template/"+s.Alias(), tmpl, nil); err != nil {
		return fmt.Errorf("eslog: put template: %w", err)
	}
	return nil
}

// Dropped is how many records were dropped because the queue was full.
func (s *Shipper) Dropped() int64 { return s.dropped.Load() }

// Shipped is how many records Elasticsearch accepted.
func (s *Shipper) Shipped() int64 { return s.shipped.Load() }

// Handler returns a slog.Handler that passes every record to next and
// queues it for Elasticsearch.
func (s *Shipper) Handler(next slog.Handler) slog.Handler {
	return &handler{s: s, next: next}
}

// Run writes queued records until ctx is done, then flushes the rest with a
// short grace period.
func (s *Shipper) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.FlushInterval)
	defer tick.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	batch := make([][]byte, 0, s.cfg.BatchSize)
	flush := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		s.write(ctx, batch)
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			for len(s.queue) > 0 && len(batch) < cap(batch)*4 {
				batch = append(batch, <-s.queue)
			}
			grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			flush(grace)
			cancel()
			return nil
		case doc := <-s.queue:
			batch = append(batch, doc)
			if len(batch) >= s.cfg.BatchSize {
				flush(ctx)
			}
		case <-tick.C:
			flush(ctx)
		case <-prune.C:
			_, _ = s.Prune(ctx)
		}
	}
}

func (s *Shipper) write(ctx context.Context, docs [][]byte) {
	index := s.Alias() + "-" + s.now().UTC().Format("2006.01.02")
	meta := fmt.Appendf(nil, `{"create":{"_index":%q}}`+"\n", index)
	var buf bytes.Buffer
	for _, d := range docs {
		buf.Write(meta)
		buf.Write(d)
		buf.WriteByte('\n')
	}
	res, err := s.c.Bulk(ctx, buf.Bytes(), "")
	if err != nil {
		// Logging the failure through slog would queue more records for
		// the same dead cluster; count them as dropped instead.
		s.dropped.Add(int64(len(docs)))
		return
	}
	for _, it := range res.Items {
		if it.Status < 300 {
			s.shipped.Add(1)
		} else {
			s.dropped.Add(1)
		}
	}
}

// Prune deletes daily log indices older than the retention and returns
// their names.
func (s *Shipper) Prune(ctx context.Context) ([]string, error) {
	var indices []struct {
		Index string `json:"index"`
	}
	if err := s.c.Do(ctx, http.MethodGet, "/_cat/indices/"+s.Alias()+"-*?format=json", nil, &indices); err != nil {
		return nil, fmt.Errorf("eslog: list log indices: %w", err)
	}
	cutoff := s.now().UTC().AddDate(0, 0, -s.cfg.RetentionDays).Format("2006.01.02")
	var deleted []string
	for _, ix := range indices {
		day := strings.TrimPrefix(ix.Index, s.Alias()+"-")
		if len(day) != len("2006.01.02") || day >= cutoff {
			continue
		}
		if err := s.c.Do(ctx, http.MethodDelete, "/"+ix.Index, nil, nil); err != nil {
			return deleted, fmt.Errorf("eslog: delete %s: %w", ix.Index, err)
		}
		deleted = append(deleted, ix.Index)
	}
	slices.Sort(deleted)
	return deleted, nil
}

type handler struct {
	s      *Shipper
	next   slog.Handler
	attrs  []slog.Attr
	groups []string
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l) || l >= h.s.cfg.Level.Level()
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	if r.Level < h.s.cfg.Level.Level() {
		return err
	}
	doc := h.document(r)
	select {
	case h.s.queue <- doc:
	default:
		h.s.dropped.Add(1)
	}
	return err
}

// document renders r in ECS-style fields. Well-known attributes go to their
// ECS place; the rest go under labels (a flattened field, so arbitrary keys
// cannot explode the mapping).
func (h *handler) document(r slog.Record) []byte {
	doc := map[string]any{
		"@timestamp": r.Time.UTC().Format(time.RFC3339Nano),
		"message":    r.Message,
		"log":        map[string]any{"level": strings.ToLower(r.Level.String())},
		"service":    map[string]any{"name": h.s.cfg.Service},
	}
	labels := map[string]any{}
	add := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		key := a.Key
		if len(h.groups) > 0 {
			key = strings.Join(h.groups, ".") + "." + key
		}
		switch key {
		case "component", "ticket_id", "call_id", "request_id", "trace_id", "template_id":
			doc[key] = a.Value.String()
		case "err", "error":
			doc["error"] = map[string]any{"message": a.Value.String()}
		case "status":
			if a.Value.Kind() == slog.KindInt64 {
				doc["http"] = mergeMap(doc["http"], "status", a.Value.Int64())
				return
			}
			labels[key] = a.Value.String()
		case "route", "method":
			doc["http"] = mergeMap(doc["http"], key, a.Value.String())
		case "duration_ms":
			doc[key] = a.Value.Any()
		default:
			if a.Value.Kind() == slog.KindGroup {
				for _, g := range a.Value.Group() {
					labels[key+"."+g.Key] = g.Value.String()
				}
				return
			}
			labels[key] = a.Value.String()
		}
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	if len(labels) > 0 {
		doc["labels"] = labels
	}
	b, err := json.Marshal(doc)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"@timestamp": doc["@timestamp"], "message": r.Message, "log": doc["log"]})
	}
	return b
}

func mergeMap(m any, k string, v any) map[string]any {
	mm, _ := m.(map[string]any)
	if mm == nil {
		mm = map[string]any{}
	}
	mm[k] = v
	return mm
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	c.attrs = append(slices.Clone(h.attrs), attrs...)
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.groups = append(slices.Clone(h.groups), name)
	return &c
}

var _ slog.Handler = (*handler)(nil)
