// Package esstore keeps incidents in Elasticsearch: what formed (label,
// tickets, time span, affected categories, regions and channels), the
// root-cause candidates with their evidence, and what ops did with it
// (closed, merged into another incident), with its history.
package esstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("incident: not found")
	ErrConflict = errors.New("incident: conflict")
	ErrInvalid  = errors.New("incident: invalid")
)

// State is where an incident is.
type State string

// States.
const (
	Open   State = "open"
	Closed State = "closed"
	Merged State = "merged"
)

// MaxTickets bounds the ticket ids kept on one incident; Count has them all.
const MaxTickets = 500

// Cause is a root-cause candidate with its evidence.
type Cause struct {
	Service    string   `json:"service"`
	Template   string   `json:"template"`
	Text       string   `json:"text,omitempty"`
	Before     float64  `json:"before"`
	After      float64  `json:"after"`
	RateBefore float64  `json:"rate_before"`
	RateAfter  float64  `json:"rate_after"`
	LagSeconds float64  `json:"lag_seconds"`
	Score      float64  `json:"score"`
	Samples    []string `json:"samples,omitempty"`
}

// Event is one entry of an incident's history.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // formed, closed, merged, absorbed
	By     string    `json:"by,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Incident is one stored incident.
type Incident struct {
	ID         string         `json:"id"`
	Label      []string       `json:"label"`
	State      State          `json:"state"`
	MergedInto string         `json:"merged_into,omitempty"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	Count      int            `json:"count"`
	Tickets    []string       `json:"tickets"`
	Categories map[string]int `json:"categories,omitempty"`
	Regions    map[string]int `json:"regions,omitempty"`
	Channels   map[string]int `json:"channels,omitempty"`
	Observed   int            `json:"observed"`
	Expected   float64        `json:"expected"`
	PValue     float64        `json:"p_value"`
	Causes     []Cause        `json:"causes,omitempty"`
	History    []Event        `json:"history"`
}

// Store reads and writes incidents.
type Store struct {
	c   *es.Client
	log *slog.Logger
	now func() time.Time
}

// New returns a store.
func New(c *es.Client, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{c: c, log: log, now: time.Now}
}

// Index is the incidents index.
func (s *Store) Index() es.Index {
	kw := map[string]any{"type": "keyword"}
	date := map[string]any{"type": "date"}
	return es.Index{Name: "incidents", Version: 1,
		Settings: map[string]any{"number_of_shards": 1},
		Mappings: map[string]any{"dynamic": false, "properties": map[string]any{
			"id": kw, "label": kw, "state": kw, "merged_into": kw, "start": date, "end": date,
			"count": map[string]any{"type": "integer"}, "tickets": kw,
			"categories": map[string]any{"type": "flattened"}, "regions": map[string]any{"type": "flattened"},
			"channels": map[string]any{"type": "flattened"},
			"causes":   map[string]any{"properties": map[string]any{"service": kw, "template": kw, "score": map[string]any{"type": "float"}}},
		}},
	}
}

func (s *Store) path(id string) string {
	return "/" + s.c.Name("incidents") + "/_doc/" + url.PathEscape(id)
}

// Put writes an incident as it stands (the monitor calls it when one forms
// and as tickets join it); an incident ops closed or merged keeps its state
// and history.
func (s *Store) Put(ctx context.Context, in *Incident) error {
	if in.ID == "" {
		return fmt.Errorf("%w: no id", ErrInvalid)
	}
	if old, err := s.Get(ctx, in.ID); err == nil {
		in.State, in.MergedInto, in.History = old.State, old.MergedInto, append(old.History, in.History...)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if in.State == "" {
		in.State = Open
	}
	if len(in.Tickets) > MaxTickets {
		in.Tickets = in.Tickets[len(in.Tickets)-MaxTickets:]
	}
	return s.write(ctx, in)
}

func (s *Store) write(ctx context.Context, in *Incident) error {
	if err := s.c.Do(ctx, http.MethodPut, s.path(in.ID)+"?refresh=wait_for", in, nil); err != nil {
		return fmt.Errorf("incident: put %s: %w", in.ID, err)
	}
	return nil
}

// Get reads one incident.
func (s *Store) Get(ctx context.Context, id string) (*Incident, error) {
	var res struct {
		Found  bool     `json:"found"`
		Source Incident `json:"_source"`
	}
	err := s.c.Do(ctx, http.MethodGet, s.path(id), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound || (err == nil && !res.Found) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("incident: get %s: %w", id, err)
	}
	return &res.Source, nil
}

// List returns incidents newest first, of one state if given.
func (s *Store) List(ctx context.Context, state State, size int) ([]Incident, error) {
	if size <= 0 || size > 1000 {
		size = 100
	}
	q := map[string]any{"match_all": map[string]any{}}
	if state != "" {
		q = map[string]any{"term": map[string]any{"state": state}}
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source Incident `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	body := map[string]any{"size": size, "query": q, "sort": []any{map[string]any{"start": "desc"}}}
	if err := s.c.Do(ctx, http.MethodPost, "/"+s.c.Name("incidents")+"/_search", body, &res); err != nil {
		return nil, fmt.Errorf("incident: list: %w", err)
	}
	out := make([]Incident, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source)
	}
	return out, nil
}

// Close marks an open incident closed.
func (s *Store) Close(ctx context.Context, id, by, note string) (*Incident, error) {
	in, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.State != Open {
		return nil, fmt.Errorf("%w: %s is %s", ErrConflict, id, in.State)
	}
	in.State = Closed
	in.History = append(in.History, Event{At: s.now().UTC(), Kind: "closed", By: by, Detail: note})
	return in, s.write(ctx, in)
}

// Merge folds incident id into into: its tickets, counts and causes join
// into's, and id is marked merged (ops found two clusters to be one
// incident, e.g. the same outage reported in two languages).
func (s *Store) Merge(ctx context.Context, id, into, by string) (*Incident, error) {
	if id == into {
		return nil, fmt.Errorf("%w: an incident cannot be merged into itself", ErrInvalid)
	}
	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	dst, err := s.Get(ctx, into)
	if err != nil {
		return nil, err
	}
	if src.State != Open || dst.State != Open {
		return nil, fmt.Errorf("%w: both incidents must be open (%s is %s, %s is %s)", ErrConflict, id, src.State, into, dst.State)
	}
	now := s.now().UTC()
	dst.Tickets = append(dst.Tickets, src.Tickets...)
	if len(dst.Tickets) > MaxTickets {
		dst.Tickets = dst.Tickets[len(dst.Tickets)-MaxTickets:]
	}
	dst.Count += src.Count
	dst.Observed += src.Observed
	dst.Expected += src.Expected
	if src.Start.Before(dst.Start) {
		dst.Start = src.Start
	}
	if src.End.After(dst.End) {
		dst.End = src.End
	}
	for _, m := range []struct{ to, from *map[string]int }{{&dst.Categories, &src.Categories}, {&dst.Regions, &src.Regions}, {&dst.Channels, &src.Channels}} {
		if *m.to == nil {
			*m.to = map[string]int{}
		}
		for k, v := range *m.from {
			(*m.to)[k] += v
		}
	}
	dst.Causes = mergeCauses(dst.Causes, src.Causes)
	dst.History = append(dst.History, Event{At: now, Kind: "absorbed", By: by, Detail: id})
	src.State, src.MergedInto = Merged, into
	src.History = append(src.History, Event{At: now, Kind: "merged", By: by, Detail: into})
	if err := s.write(ctx, dst); err != nil {
		return nil, err
	}
	if err := s.write(ctx, src); err != nil {
		return nil, err
	}
	return dst, nil
}

// mergeCauses keeps the best-scored entry of each service and template.
func mergeCauses(a, b []Cause) []Cause {
	best := map[string]Cause{}
	var order []string
	for _, c := range append(append([]Cause(nil), a...), b...) {
		k := c.Service + "\x00" + c.Template
		if old, ok := best[k]; !ok || c.Score > old.Score {
			if !ok {
				order = append(order, k)
			}
			best[k] = c
		}
	}
	out := make([]Cause, 0, len(order))
	for _, k := range order {
		out = append(out, best[k])
	}
	// Highest score first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Score > out[j-1].Score; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
