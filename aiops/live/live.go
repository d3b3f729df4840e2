// Package live runs the AIOps monitor on what the server stores: every
// Poll it reads the tickets, call records and error logs that arrived in
// Elasticsearch since the last time, in time order, feeds them to the
// monitor, advances its clock to a little before now (late writes get
// Lag to land), and saves the monitor's state with the read position in a
// shared setting, so a restart resumes where it stopped — without
// relearning the cycles or alerting twice.
//
// One replica should run it (the alert manager de-duplicates, but
// detectors in two replicas would learn twice).
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/incident"
	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/settings"
)

// Monitor is what the feeder drives; *monitor.Monitor is one.
type Monitor interface {
	Ticket(ctx context.Context, t incident.Ticket) (int, error)
	Call(ctx context.Context, at time.Time, intent, region string) error
	Log(ctx context.Context, at time.Time, service, level, templateID, template, message string) error
	Advance(ctx context.Context, now time.Time) error
	MarshalState() ([]byte, error)
	RestoreState(b []byte) error
}

// Templates names a log template id's template text (for evidence).
type Templates interface {
	Template(id string) string
}

// Settings keeps the feeder's state; *settings.Store is one.
type Settings interface {
	Get(ctx context.Context, key string) (settings.Doc, error)
	Put(ctx context.Context, key, value, actor string) error
}

// Config tunes the feeder.
type Config struct {
	// Poll is how often new data is read (30 s).
	Poll time.Duration
	// Lag is how far behind now the monitor's clock stays, so that
	// documents written late still fall in an open interval (1 min).
	Lag time.Duration
	// Batch is how many documents one query reads (1,000).
	Batch int
	// StateKey is the shared setting holding the state.
	StateKey string
	// Readable, if set, says whether the embedding model that made the
	// tickets' vectors could read a text; a ticket it could not read is
	// clustered on its terms, since such vectors are all alike (an English
	// encoder reads Chinese as unknown tokens). nil trusts every vector.
	Readable func(text string) bool
}

func (c Config) withDefaults() Config {
	if c.Poll <= 0 {
		c.Poll = 30 * time.Second
	}
	if c.Lag <= 0 {
		c.Lag = time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.StateKey == "" {
		c.StateKey = "aiops.monitor.state"
	}
	return c
}

// Feeder reads the stores into the monitor.
type Feeder struct {
	cfg  Config
	es   *es.Client
	mon  Monitor
	tmpl Templates
	st   Settings
	log  *slog.Logger
	now  func() time.Time

	pos position
}

// position is where reading stopped in each source: the sort values of the
// last document read (time and id), for search_after.
type position struct {
	Tickets []any `json:"tickets,omitempty"`
	Calls   []any `json:"calls,omitempty"`
	Logs    []any `json:"logs,omitempty"`
}

type saved struct {
	Position position        `json:"position"`
	Monitor  json.RawMessage `json:"monitor"`
}

// New returns a feeder. tmpl may be nil.
func New(c *es.Client, mon Monitor, tmpl Templates, st Settings, cfg Config, log *slog.Logger) *Feeder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feeder{cfg: cfg.withDefaults(), es: c, mon: mon, tmpl: tmpl, st: st, log: log.With("component", "aiops/live"), now: time.Now}
}

// Load restores the saved state, if any. A state that cannot be read is
// logged and dropped: the monitor starts afresh (from an hour ago) rather
// than not at all.
func (f *Feeder) Load(ctx context.Context) error {
	doc, err := f.st.Get(ctx, f.cfg.StateKey)
	if errors.Is(err, settings.ErrNotFound) {
		f.startFresh()
		return nil
	}
	if err != nil {
		return fmt.Errorf("live: load: %w", err)
	}
	var s saved
	if err := json.Unmarshal([]byte(doc.Value), &s); err == nil {
		err = f.mon.RestoreState(s.Monitor)
	}
	if err != nil {
		f.log.WarnContext(ctx, "aiops state not restored; starting afresh", "err", err)
		f.startFresh()
		return nil
	}
	f.pos = s.Position
	return nil
}

// startFresh reads from an hour ago: enough to see an incident in progress,
// not so much that a new deployment replays its whole history.
func (f *Feeder) startFresh() {
	// Sort values of dates are epoch milliseconds.
	from := f.now().Add(-time.Hour).UnixMilli()
	f.pos = position{Tickets: []any{from, ""}, Calls: []any{from, ""}, Logs: []any{from}}
}

// Run polls until ctx ends, saving the state after every poll.
func (f *Feeder) Run(ctx context.Context) error {
	if err := f.Load(ctx); err != nil {
		return err
	}
	t := time.NewTicker(f.cfg.Poll)
	defer t.Stop()
	for {
		if err := f.Poll(ctx); err != nil && ctx.Err() == nil {
			f.log.WarnContext(ctx, "aiops poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll reads what arrived, feeds it in time order, advances the clock and
// saves the state.
func (f *Feeder) Poll(ctx context.Context) error {
	until := f.now().Add(-f.cfg.Lag)
	evs, err := f.read(ctx, until)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		if err := ev.feed(ctx, f); err != nil {
			return err
		}
	}
	if err := f.mon.Advance(ctx, until); err != nil {
		return err
	}
	return f.save(ctx)
}

func (f *Feeder) save(ctx context.Context) error {
	m, err := f.mon.MarshalState()
	if err != nil {
		return err
	}
	b, err := json.Marshal(saved{Position: f.pos, Monitor: m})
	if err != nil {
		return err
	}
	if err := f.st.Put(ctx, f.cfg.StateKey, string(b), "aiops"); err != nil {
		return fmt.Errorf("live: save: %w", err)
	}
	return nil
}

// event is one document to feed.
type event struct {
	at   time.Time
	feed func(ctx context.Context, f *Feeder) error
}

// read collects the new documents of the three sources up to until,
// merged in time order.
func (f *Feeder) read(ctx context.Context, until time.Time) ([]event, error) {
	var all []event
	tks, err := f.readTickets(ctx, until)
	if err != nil {
		return nil, err
	}
	all = append(all, tks...)
	cls, err := f.readCalls(ctx, until)
	if err != nil {
		return nil, err
	}
	all = append(all, cls...)
	lgs, err := f.readLogs(ctx, until)
	if err != nil {
		return nil, err
	}
	all = append(all, lgs...)
	sortEvents(all)
	return all, nil
}

func sortEvents(evs []event) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
}

// search runs one page of a sorted query after pos.
func (f *Feeder) search(ctx context.Context, index string, query map[string]any, sortBy []any, after []any, source []string, out any) error {
	body := map[string]any{"size": f.cfg.Batch, "query": query, "sort": sortBy, "_source": source, "track_total_hits": false}
	if len(after) > 0 {
		body["search_after"] = after
	}
	err := f.es.Do(ctx, http.MethodPost, "/"+index+"/_search?ignore_unavailable=true&allow_no_indices=true", body, out)
	if es.StatusOf(err) == http.StatusNotFound {
		return nil // nothing written yet
	}
	return err
}

type hit[T any] struct {
	Source T     `json:"_source"`
	Sort   []any `json:"sort"`
}

type hits[T any] struct {
	Hits struct {
		Hits []hit[T] `json:"hits"`
	} `json:"hits"`
}

func (f *Feeder) readTickets(ctx context.Context, until time.Time) ([]event, error) {
	type ticket struct {
		ID        string    `json:"id"`
		Subject   string    `json:"subject"`
		Channel   string    `json:"channel"`
		CreatedAt time.Time `json:"created_at"`
		Category  *struct {
			Label string `json:"label"`
		} `json:"category"`
		Embedding []float32 `json:"embedding"`
	}
	var out []event
	for {
		var res hits[ticket]
		q := map[string]any{"range": map[string]any{"created_at": map[string]any{"lte": until.UTC().Format(time.RFC3339Nano)}}}
		err := f.search(ctx, f.es.Name("tickets"), q, []any{map[string]any{"created_at": "asc"}, map[string]any{"id": "asc"}},
			f.pos.Tickets, []string{"id", "subject", "channel", "created_at", "category.label", "embedding"}, &res)
		if err != nil {
			return nil, fmt.Errorf("live: tickets: %w", err)
		}
		for _, h := range res.Hits.Hits {
			t := h.Source
			cat := ""
			if t.Category != nil {
				cat = t.Category.Label
			}
			tk := incident.Ticket{ID: t.ID, At: t.CreatedAt, Text: t.Subject, Vector: t.Embedding, Category: cat, Channel: t.Channel}
			if tk.Vector != nil && f.cfg.Readable != nil && !f.cfg.Readable(t.Subject) {
				tk.Vector = nil
			}
			out = append(out, event{at: t.CreatedAt, feed: func(ctx context.Context, f *Feeder) error {
				_, err := f.mon.Ticket(ctx, tk)
				return err
			}})
			f.pos.Tickets = h.Sort
		}
		if len(res.Hits.Hits) < f.cfg.Batch {
			return out, nil
		}
	}
}

func (f *Feeder) readCalls(ctx context.Context, until time.Time) ([]event, error) {
	type call struct {
		ID           string    `json:"id"`
		Started      time.Time `json:"started"`
		Recognitions []struct {
			Intent string `json:"intent"`
		} `json:"recognitions"`
	}
	var out []event
	for {
		var res hits[call]
		q := map[string]any{"range": map[string]any{"started": map[string]any{"lte": until.UTC().Format(time.RFC3339Nano)}}}
		err := f.search(ctx, f.es.Name("calls"), q, []any{map[string]any{"started": "asc"}, map[string]any{"id": "asc"}},
			f.pos.Calls, []string{"id", "started", "recognitions.intent"}, &res)
		if err != nil {
			return nil, fmt.Errorf("live: calls: %w", err)
		}
		for _, h := range res.Hits.Hits {
			c := h.Source
			intent := ""
			for _, r := range c.Recognitions {
				if r.Intent != "" {
					intent = r.Intent
					break
				}
			}
			out = append(out, event{at: c.Started, feed: func(ctx context.Context, f *Feeder) error {
				return f.mon.Call(ctx, c.Started, intent, "")
			}})
			f.pos.Calls = h.Sort
		}
		if len(res.Hits.Hits) < f.cfg.Batch {
			return out, nil
		}
	}
}

func (f *Feeder) readLogs(ctx context.Context, until time.Time) ([]event, error) {
	type line struct {
		Timestamp time.Time `json:"@timestamp"`
		Message   string    `json:"message"`
		Log       struct {
			Level string `json:"level"`
		} `json:"log"`
		Service struct {
			Name string `json:"name"`
		} `json:"service"`
		TemplateID string `json:"template_id"`
	}
	var out []event
	for {
		var res hits[line]
		q := map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"range": map[string]any{"@timestamp": map[string]any{"lte": until.UTC().Format(time.RFC3339Nano)}}},
			map[string]any{"terms": map[string]any{"log.level": []string{"ERROR", "FATAL", "CRITICAL"}}},
		}}}
		err := f.search(ctx, f.es.Name("logs"), q, []any{map[string]any{"@timestamp": "asc"}}, f.pos.Logs,
			[]string{"@timestamp", "message", "log.level", "service.name", "template_id"}, &res)
		if err != nil {
			return nil, fmt.Errorf("live: logs: %w", err)
		}
		page := res.Hits.Hits
		if len(page) == f.cfg.Batch {
			// The sort has no tiebreaker (lines have no id): a full page may
			// end inside one millisecond. Leave that millisecond to the next
			// page, unless the whole page is in it.
			last := page[len(page)-1].Source.Timestamp
			k := len(page)
			for k > 0 && page[k-1].Source.Timestamp.Equal(last) {
				k--
			}
			if k > 0 {
				page = page[:k]
			}
		}
		for _, h := range page {
			l := h.Source
			text := ""
			if f.tmpl != nil {
				text = f.tmpl.Template(l.TemplateID)
			}
			out = append(out, event{at: l.Timestamp, feed: func(ctx context.Context, f *Feeder) error {
				return f.mon.Log(ctx, l.Timestamp, l.Service.Name, l.Log.Level, l.TemplateID, text, l.Message)
			}})
			f.pos.Logs = h.Sort
		}
		if len(res.Hits.Hits) < f.cfg.Batch {
			return out, nil
		}
	}
}
