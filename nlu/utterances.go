package nlu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// Elasticsearch is what the Service needs of a cluster to record
// utterances and read them back; *es.Client is one. It must be safe for
// concurrent use.
type Elasticsearch interface {
	Name(logical string) string
	Ensure(ctx context.Context, log *slog.Logger, indices ...es.Index) error
	Do(ctx context.Context, method, path string, body, out any) error
	Bulk(ctx context.Context, ndjson []byte, refresh string) (*es.BulkResult, error)
}

// UtterancesIndex is the logical name of the index of recorded
// utterances; the cluster's prefix goes in front.
const UtterancesIndex = "nlu-utterances"

// UtteranceIndex describes the utterance index for es.Client.Ensure; dims
// is the embedding dimension, 0 to let the first vector written decide.
// The Service ensures it itself before its first write; cmd may ensure it
// at start-up with the others.
func UtteranceIndex(dims int) es.Index {
	vec := map[string]any{"type": "dense_vector", "index": true, "similarity": "cosine"}
	if dims > 0 {
		vec["dims"] = dims
	}
	return es.Index{
		Name:     UtterancesIndex,
		Version:  1,
		Settings: map[string]any{"number_of_shards": 1},
		Mappings: map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"text":          map[string]any{"type": "text"},
				"task":          map[string]any{"type": "keyword"},
				"label":         map[string]any{"type": "keyword"},
				"out_of_scope":  map[string]any{"type": "boolean"},
				"confidence":    map[string]any{"type": "float"},
				"model_version": map[string]any{"type": "keyword"},
				"at":            map[string]any{"type": "date"},
				"embedding":     vec,
				"embed_model":   map[string]any{"type": "keyword"},
			},
		},
	}
}

// utterance is one recorded text, as stored.
type utterance struct {
	Text         string    `json:"text"`
	Task         string    `json:"task"`
	Label        string    `json:"label"` // the model's top label, even when out of scope
	OutOfScope   bool      `json:"out_of_scope"`
	Confidence   float64   `json:"confidence"`
	ModelVersion string    `json:"model_version"`
	At           time.Time `json:"at"`
	Embedding    []float32 `json:"embedding,omitempty"`
	EmbedModel   string    `json:"embed_model,omitempty"`
}

// recorder writes utterances to Elasticsearch in small bulks, off the
// request path: a full queue or a failing cluster drops them, counted and
// logged, and never fails or slows the request that produced them.
type recorder struct {
	s   *Service
	es  Elasticsearch
	ch  chan utterance
	log *slog.Logger

	// Owned by run's goroutine.
	ensured bool
	dims    int // the index's embedding dimension; 0 while unset
	failing bool
}

func newRecorder(s *Service, c Elasticsearch) *recorder {
	return &recorder{s: s, es: c, ch: make(chan utterance, s.cfg.RecordQueue), log: s.log.With("index", c.Name(UtterancesIndex))}
}

// offer queues u, or drops and counts it when the queue is full.
func (r *recorder) offer(u utterance) {
	select {
	case r.ch <- u:
	default:
		r.s.m.recordDropped.WithLabelValues("queue_full").Inc()
	}
}

// run writes queued utterances until ctx is done, then writes what is
// still queued, bounded by Config.RecordTimeout.
func (r *recorder) run(ctx context.Context) {
	cfg := r.s.cfg
	tick := time.NewTicker(cfg.RecordFlush)
	defer tick.Stop()
	batch := make([]utterance, 0, cfg.RecordBatch)
	flush := func(ctx context.Context) {
		if len(batch) > 0 {
			r.write(ctx, batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.RecordTimeout)
			defer cancel()
			for {
				select {
				case u := <-r.ch:
					batch = append(batch, u)
					if len(batch) == cfg.RecordBatch {
						flush(final)
					}
				default:
					flush(final)
					return
				}
			}
		case u := <-r.ch:
			batch = append(batch, u)
			if len(batch) == cfg.RecordBatch {
				flush(ctx)
			}
		case <-tick.C:
			flush(ctx)
		}
	}
}

// write embeds and stores one batch.
func (r *recorder) write(ctx context.Context, batch []utterance) {
	ctx, cancel := context.WithTimeout(ctx, r.s.cfg.RecordTimeout)
	defer cancel()
	// Embedding here, not at query time, spreads the cost over the
	// traffic; without an embedding model the vectors are left out and
	// IntentHealth computes them when it needs them.
	texts := make([]string, len(batch))
	for k, u := range batch {
		texts[k] = u.Text
	}
	vecs, embedModel, dims := r.s.embedQuiet(ctx, texts)
	if err := r.ensure(ctx, dims); err != nil {
		r.failed(ctx, len(batch), err)
		return
	}
	var body bytes.Buffer
	meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": r.es.Name(UtterancesIndex), "require_alias": true}})
	withVectors := false
	for k, u := range batch {
		if vecs != nil && (r.dims == 0 || r.dims == len(vecs[k])) {
			u.Embedding, u.EmbedModel = vecs[k], embedModel
			withVectors = true
		}
		doc, err := json.Marshal(u)
		if err != nil {
			r.s.m.recordDropped.WithLabelValues("store_error").Inc()
			continue
		}
		body.Write(meta)
		body.WriteByte('\n')
		body.Write(doc)
		body.WriteByte('\n')
	}
	res, err := r.es.Bulk(ctx, body.Bytes(), "")
	if err != nil {
		r.failed(ctx, len(batch), err)
		return
	}
	ok, firstErr := 0, ""
	for _, it := range res.Items {
		if it.Status < 300 {
			ok++
		} else if firstErr == "" {
			firstErr = it.Error
		}
	}
	r.s.m.recorded.Add(float64(ok))
	if ok < len(res.Items) {
		// An index deleted behind our back (require_alias refuses to
		// recreate it unmapped) or a vector of the wrong size: ensure
		// and read the mapping again before the next batch.
		r.ensured = false
		r.failed(ctx, len(res.Items)-ok, fmt.Errorf("bulk item: %s", firstErr))
		return
	}
	if withVectors && r.dims == 0 {
		r.dims, _ = r.mappedDims(ctx)
	}
	if r.failing {
		r.failing = false
		r.log.InfoContext(ctx, "recording utterances again")
	}
}

// failed counts n dropped utterances and logs the first failure of a run
// of them, so an outage is one warning, not one per batch.
func (r *recorder) failed(ctx context.Context, n int, err error) {
	r.s.m.recordDropped.WithLabelValues("store_error").Add(float64(n))
	level := slog.LevelDebug
	if !r.failing {
		level = slog.LevelWarn
	}
	r.failing = true
	r.log.Log(ctx, level, "recording utterances failed; dropped them", "count", n, "err", err)
}

// ensure creates the index the first time, and after a failure, and
// learns its embedding dimension.
func (r *recorder) ensure(ctx context.Context, dims int) error {
	if r.ensured {
		return nil
	}
	if err := r.es.Ensure(ctx, r.log, UtteranceIndex(dims)); err != nil {
		return err
	}
	d, err := r.mappedDims(ctx)
	if err != nil {
		return err
	}
	r.dims, r.ensured = d, true
	return nil
}

// mappedDims reads the embedding dimension from the index's mapping: an
// index made while another embedding model served keeps that model's
// dimension, and vectors of any other size are then left out.
func (r *recorder) mappedDims(ctx context.Context) (int, error) {
	var res map[string]struct {
		Mappings struct {
			Properties struct {
				Embedding struct {
					Dims int `json:"dims"`
				} `json:"embedding"`
			} `json:"properties"`
		} `json:"mappings"`
	}
	if err := r.es.Do(ctx, http.MethodGet, "/"+url.PathEscape(r.es.Name(UtterancesIndex))+"/_mapping", nil, &res); err != nil {
		return 0, fmt.Errorf("read mapping: %w", err)
	}
	for _, ix := range res {
		return ix.Mappings.Properties.Embedding.Dims, nil
	}
	return 0, nil
}

// embedQuiet embeds texts with the production embedding model, outside
// the request metrics and shadowing; nil when no model serves or it fails.
func (s *Service) embedQuiet(ctx context.Context, texts []string) (vecs [][]float32, version string, dims int) {
	l, err := s.acquireQuiet(TaskEmbed)
	if err != nil {
		return nil, "", 0
	}
	defer l.release()
	in := make([]string, len(texts))
	for k, t := range texts {
		in[k] = prepare(t, l.info.maxRunes)
	}
	out, err := l.model.RunMany(ctx, in)
	if err != nil || len(out) != len(in) {
		return nil, "", l.info.dim
	}
	for _, v := range out {
		if checkVector(v, l.info) != nil {
			return nil, "", l.info.dim
		}
	}
	return out, l.info.version, l.info.dim
}

// acquireQuiet returns task's production model, retained, without its
// candidate.
func (s *Service) acquireQuiet(task string) (*loaded, error) {
	prod, cand, _, err := s.acquire(task)
	if cand != nil {
		cand.release()
	}
	return prod, err
}
