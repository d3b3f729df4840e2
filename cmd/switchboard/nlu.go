package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/sla"
)

// nluConfig is the nlu section of the configuration file.
type nluConfig struct {
	// ModelsDir holds manifest.json and the model versions (docs/models.md).
	ModelsDir string `yaml:"models_dir"`
	// Threads is each model's intra-op thread count.
	Threads  int           `yaml:"threads"`
	MaxBatch int           `yaml:"max_batch"`
	Window   time.Duration `yaml:"batch_window"`
	Reload   time.Duration `yaml:"reload"`
}

// openNLU starts the models named by the manifest in dir. Without a
// manifest the server runs without NLU (every task answers 503) and says
// so; a manifest without the ONNX Runtime library is an error, since the
// operator plainly wants models.
func openNLU(ctx context.Context, cfg nluConfig, lib string, c *es.Client, reg prometheus.Registerer, log *slog.Logger) (*nlu.Service, *ort.Runtime, error) {
	if _, err := os.Stat(filepath.Join(cfg.ModelsDir, "manifest.json")); err != nil {
		log.WarnContext(ctx, "no models manifest; NLU is off (tickets are not classified)", "models_dir", cfg.ModelsDir, "err", err)
		return nil, nil, nil
	}
	if lib == "" {
		return nil, nil, errors.New("models are configured but the ONNX Runtime library was not found: set --onnxruntime-lib or ONNXRUNTIME_LIB (make setup downloads it to .cache/onnxruntime/), or --models-dir '' to run without NLU")
	}
	rt, err := ort.Open(ort.Options{LibraryPath: lib, IntraOpThreads: cfg.Threads})
	if err != nil {
		return nil, nil, fmt.Errorf("onnx runtime %s: %w", lib, err)
	}
	ncfg := nlu.Config{
		Dir: cfg.ModelsDir, Threads: cfg.Threads, MaxBatch: cfg.MaxBatch, Window: cfg.Window,
		Reload: cfg.Reload, Logger: log.With("component", "nlu"), Registerer: reg,
	}
	var deps nlu.Deps
	if c != nil {
		deps.Utterances = c // a nil *es.Client would be a non-nil interface
	}
	svc, err := nlu.Open(ctx, rt, ncfg, deps)
	if err != nil {
		_ = rt.Close()
		return nil, nil, fmt.Errorf("nlu: %w", err)
	}
	for _, ts := range svc.Status().Tasks {
		if ts.Production != nil {
			log.InfoContext(ctx, "model serving", "task", ts.Task, "version", ts.Production.Version)
		}
	}
	return svc, rt, nil
}

// embeddingDims reads the embedding size of the embed model in production,
// which the ticket index maps as a dense_vector; 0 when none serves.
func embeddingDims(svc *nlu.Service) int {
	if svc == nil {
		return 0
	}
	for _, ts := range svc.Status().Tasks {
		if ts.Task != "embed" || ts.Production == nil {
			continue
		}
		var card struct {
			EmbeddingDim int `json:"embedding_dim"`
		}
		if raw := svc.Cards()["embed"][ts.Production.Version]; json.Unmarshal(raw, &card) == nil {
			return card.EmbeddingDim
		}
	}
	return 0
}

// analyzer is the tickets.Analyzer over the NLU service: category,
// sentiment and embedding, run side by side. A task without a model is
// simply left out of the analysis.
type analyzer struct {
	svc     *nlu.Service
	timeout time.Duration
}

var _ tickets.Analyzer = analyzer{}

func (a analyzer) Analyze(ctx context.Context, text string) (tickets.Analysis, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var (
		out  tickets.Analysis
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(task string, err error) {
		if errors.Is(err, nlu.ErrUnavailable) {
			return
		}
		mu.Lock()
		errs = append(errs, fmt.Errorf("%s: %w", task, err))
		mu.Unlock()
	}
	wg.Go(func() {
		c, err := a.svc.Classify(ctx, text)
		if err != nil {
			fail("category", err)
			return
		}
		alts := make([]tickets.Scored, len(c.Alternatives))
		for i, s := range c.Alternatives {
			alts[i] = tickets.Scored{Label: s.Label, Score: s.Score}
		}
		out.Category = &tickets.Category{
			Label: c.Label, Confidence: c.Confidence, ModelVersion: c.ModelVersion,
			Source: c.Source, Alternatives: alts,
		}
	})
	wg.Go(func() {
		s, err := a.svc.Sentiment(ctx, text)
		if err != nil {
			fail("sentiment", err)
			return
		}
		out.Sentiment = &tickets.Sentiment{Label: s.Label, Score: s.Score, EscalationRisk: s.EscalationRisk}
	})
	wg.Go(func() {
		v, version, err := a.svc.EmbedOne(ctx, text)
		if err != nil {
			fail("embed", err)
			return
		}
		out.Embedding, out.EmbeddingModel = v, version
	})
	wg.Wait()
	if len(errs) > 0 && out.Category == nil && out.Sentiment == nil && out.Embedding == nil {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// labelFeedback counts agents' verdicts on the category model, the online
// accuracy: confirmed / (confirmed + corrected), per model version.
type labelFeedback struct{ c *prometheus.CounterVec }

func newLabelFeedback(reg prometheus.Registerer) (labelFeedback, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_nlu_category_feedback_total",
		Help: "People's verdicts on model-classified ticket categories: outcome confirmed or corrected, by model version.",
	}, []string{"model_version", "outcome"})
	return labelFeedback{c}, reg.Register(c)
}

func (f labelFeedback) CategoryLabelled(p tickets.Prediction, label string) {
	outcome := "corrected"
	if p.Label == label {
		outcome = "confirmed"
	}
	f.c.WithLabelValues(p.ModelVersion, outcome).Inc()
}

// neighbors serves the NLU API's evidence: labelled tickets nearest to a
// text's embedding.
type neighbors struct{ store tickets.VectorStore }

func (n neighbors) NearestLabelled(ctx context.Context, vec []float32, k int) ([]nluapi.Neighbor, error) {
	ns, err := n.store.Nearest(ctx, vec, k, tickets.NearestFilter{Labelled: true})
	if err != nil {
		return nil, err
	}
	out := make([]nluapi.Neighbor, len(ns))
	for i, x := range ns {
		out[i] = nluapi.Neighbor{TicketID: x.TicketID, Number: x.Number, Subject: x.Subject, Label: x.Label, Source: x.Source, Score: x.Score}
	}
	return out, nil
}

// newAPIImporter is the API's importer, embedding imported tickets when an
// embedding model of the index's dimension serves.
func newAPIImporter(svc *tickets.Service, store *esstore.Store, pol *sla.Holder, n *nlu.Service, dims int, log *slog.Logger) *apiImporter {
	a := &apiImporter{svc: svc, store: store, sla: pol, log: log}
	if n != nil && embeddingDims(n) == dims && dims > 0 {
		a.embed = n
	}
	return a
}
