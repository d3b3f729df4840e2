package nlu

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Service. Zero fields take the values of
// DefaultConfig.
type Config struct {
	// Dir is the models directory holding manifest.json; empty means no
	// models, so every task is unavailable.
	Dir string
	// Threads is each model session's intra-op thread count; zero means
	// the ONNX runtime's default (ort.Options.IntraOpThreads).
	Threads int
	// MaxBatch and Window tune the micro-batching of single requests
	// (see onnxmodel.Options); zero takes onnxmodel's defaults.
	MaxBatch int
	Window   time.Duration
	// Reload is how often Watch polls the manifest and the model
	// directories it names.
	Reload time.Duration
	// Logger receives reloads, refusals and dropped work; nil discards.
	Logger *slog.Logger
	// Now is the clock for load times, latencies and recorded utterances;
	// nil means time.Now.
	Now func() time.Time
	// Registerer receives the Service's metrics; nil means no metrics.
	Registerer prometheus.Registerer

	// ShadowQueue bounds the production requests waiting to be replayed
	// on a candidate; when it is full, new ones are dropped and counted,
	// so shadowing never slows production down.
	ShadowQueue int
	// ShadowWindow is how many recent latencies the shadow percentiles
	// are computed over.
	ShadowWindow int
	// ShadowTimeout bounds one shadow inference.
	ShadowTimeout time.Duration

	// RecordQueue bounds the utterances waiting to be written to
	// Elasticsearch; RecordBatch is how many go in one bulk request, and
	// RecordFlush how long a partial batch may wait.
	RecordQueue int
	RecordBatch int
	RecordFlush time.Duration
	// RecordTimeout bounds one write of recorded utterances.
	RecordTimeout time.Duration
	// ClusterThreshold is the cosine similarity at which IntentHealth
	// puts two utterances in one group.
	ClusterThreshold float64
}

// DefaultConfig returns the values used for zero fields.
func DefaultConfig() Config {
	return Config{
		Reload:           2 * time.Second,
		ShadowQueue:      256,
		ShadowWindow:     1000,
		ShadowTimeout:    10 * time.Second,
		RecordQueue:      1024,
		RecordBatch:      50,
		RecordFlush:      time.Second,
		RecordTimeout:    10 * time.Second,
		ClusterThreshold: 0.75,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Reload == 0 {
		c.Reload = d.Reload
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ShadowQueue == 0 {
		c.ShadowQueue = d.ShadowQueue
	}
	if c.ShadowWindow == 0 {
		c.ShadowWindow = d.ShadowWindow
	}
	if c.ShadowTimeout == 0 {
		c.ShadowTimeout = d.ShadowTimeout
	}
	if c.RecordQueue == 0 {
		c.RecordQueue = d.RecordQueue
	}
	if c.RecordBatch == 0 {
		c.RecordBatch = d.RecordBatch
	}
	if c.RecordFlush == 0 {
		c.RecordFlush = d.RecordFlush
	}
	if c.RecordTimeout == 0 {
		c.RecordTimeout = d.RecordTimeout
	}
	if c.ClusterThreshold == 0 {
		c.ClusterThreshold = d.ClusterThreshold
	}
	return c
}

// Validate checks the configuration after defaults are applied, without
// touching the file system.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Threads < 0 || c.MaxBatch < 0 || c.Window < 0 {
		errs = append(errs, errors.New("threads, max batch and window must not be negative"))
	}
	if c.Reload < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("reload interval %s is below 100ms", c.Reload))
	}
	if c.ShadowQueue < 0 || c.ShadowWindow < 1 || c.ShadowTimeout < 0 {
		errs = append(errs, errors.New("shadow queue must not be negative, window at least 1"))
	}
	if c.RecordQueue < 1 || c.RecordBatch < 1 || c.RecordFlush < 0 || c.RecordTimeout < 0 {
		errs = append(errs, errors.New("record queue and batch must be at least 1"))
	}
	if c.ClusterThreshold <= 0 || c.ClusterThreshold > 1 {
		errs = append(errs, fmt.Errorf("cluster threshold %v is not in (0, 1]", c.ClusterThreshold))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nlu: config: %w", err)
	}
	return nil
}
