package nlu

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Service's Prometheus collectors. They exist, unregistered,
// when Config.Registerer is nil, so the code never checks for them.
type metrics struct {
	latency        *prometheus.HistogramVec
	requests       *prometheus.CounterVec
	reloadFailures *prometheus.CounterVec
	swaps          *prometheus.CounterVec
	loaded         *prometheus.GaugeVec
	shadowDropped  *prometheus.CounterVec
	shadowCompared *prometheus.CounterVec
	recorded       prometheus.Counter
	recordDropped  *prometheus.CounterVec
}

// Request outcomes, the values of the requests metric's outcome label.
const (
	outcomeOK          = "ok"
	outcomeEmpty       = "empty_text"
	outcomeUnavailable = "unavailable"
	outcomeCanceled    = "canceled"
	outcomeError       = "error"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "switchboard", "nlu"
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "inference_duration_seconds",
			Help:    "Time to run a production model on one request (one text, or a batch of them), by task and model version.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"task", "version"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Understanding requests by task and outcome (ok, empty_text, unavailable, canceled, error).",
		}, []string{"task", "outcome"}),
		reloadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "reload_failures_total",
			Help: "Model versions (or manifests, task=\"manifest\") a reload refused; the old version kept serving.",
		}, []string{"task"}),
		swaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "model_swaps_total",
			Help: "Model versions swapped in by a reload, by task and role (production or candidate).",
		}, []string{"task", "role"}),
		loaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "model_loaded",
			Help: "1 for each model version serving, by task, role and version.",
		}, []string{"task", "role", "version"}),
		shadowDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "shadow_dropped_total",
			Help: "Production requests not replayed on the candidate because the shadow queue was full.",
		}, []string{"task"}),
		shadowCompared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "shadow_compared_total",
			Help: "Texts answered by both production and candidate, by task and whether their labels agreed.",
		}, []string{"task", "agreed"}),
		recorded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "utterances_recorded_total",
			Help: "Out-of-scope or low-confidence utterances written to Elasticsearch.",
		}),
		recordDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "utterances_dropped_total",
			Help: "Utterances that could not be recorded, by reason (queue_full, store_error, closed).",
		}, []string{"reason"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.latency, m.requests, m.reloadFailures, m.swaps, m.loaded, m.shadowDropped, m.shadowCompared, m.recorded, m.recordDropped} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("nlu: register metrics: %w", err)
	}
	return m, nil
}
