// Package asrapi serves speech recognition of uploaded recordings over
// HTTP: POST /api/v1/asr takes a WAV file (voicemail, a call recording)
// and answers its transcript, one segment per utterance with word times
// and confidences. It is a web.Registrar like nlu/nluapi: one route table
// (Routes) drives registration, the route's scope and body limit, the
// authorization tests and the OpenAPI check (openapi.yaml here is the
// fragment merged into web/openapi).
//
// It declares what it consumes, a Recognizer (*asr.Model) and the VAD
// that cuts recordings at pauses; cmd/switchboard passes the models it
// loaded. Decoding competes for the CPUs with live calls, so the API runs
// at most Config.MaxConcurrent transcriptions at once and answers 503 when
// a request cannot get a turn in time. Every error leaves as an RFC 9457
// problem, with audio's and asr's error kinds mapped to statuses here,
// once.
package asrapi

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/vad"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Recognizer transcribes whole recordings. Implementations must be safe
// for concurrent use and return errors wrapping asr.ErrExpect for an
// expectation the model cannot use (the client's fault, 400).
type Recognizer interface {
	Transcribe(ctx context.Context, samples []float32, sampleRate int, opts asr.TranscribeOptions) ([]asr.Result, error)
	Info() asr.Info
}

// Config tunes the API.
type Config struct {
	// MaxBodyBytes bounds an upload (413 beyond). 64 MiB is six minutes of
	// 16-bit 48 kHz stereo, or over an hour of 8 kHz telephone audio.
	MaxBodyBytes int64
	// MaxDuration bounds a recording's length (413 beyond): memory and
	// decoding time grow with it.
	MaxDuration time.Duration
	// MaxConcurrent is how many transcriptions run at once; each keeps a
	// CPU busy, and live calls need theirs.
	MaxConcurrent int
	// MaxPending bounds the requests being uploaded, waiting or
	// transcribed at once (503 beyond, at once): each holds its decoded
	// recording in memory.
	MaxPending int
	// QueueTimeout is how long a decoded recording waits for one of the
	// MaxConcurrent turns before the request is answered 503.
	QueueTimeout time.Duration
	// RetryAfter is what a 503 answer tells clients to wait.
	RetryAfter time.Duration
}

// DefaultConfig returns the limits used when none are given: one
// transcription per CPU, four times as many requests in the building.
func DefaultConfig() Config {
	n := runtime.NumCPU()
	return Config{
		MaxBodyBytes: 64 << 20, MaxDuration: 10 * time.Minute,
		MaxConcurrent: n, MaxPending: 4 * n,
		QueueTimeout: 30 * time.Second, RetryAfter: 5 * time.Second,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodyBytes <= 0 || c.MaxDuration <= 0 {
		errs = append(errs, errors.New("asrapi: MaxBodyBytes and MaxDuration must be positive"))
	}
	if c.MaxConcurrent <= 0 || c.MaxPending < c.MaxConcurrent {
		errs = append(errs, errors.New("asrapi: MaxConcurrent must be positive and MaxPending at least MaxConcurrent"))
	}
	if c.QueueTimeout < 0 {
		errs = append(errs, errors.New("asrapi: QueueTimeout must not be negative"))
	}
	if c.RetryAfter < time.Second {
		errs = append(errs, errors.New("asrapi: RetryAfter must be at least 1s"))
	}
	return errors.Join(errs...)
}

// Deps are the API's collaborators. Without a Recognizer (no ASR model is
// configured, or its directory is not there yet) the route answers 503;
// without a VAD recordings are cut every 30 s instead of at pauses.
type Deps struct {
	Recognizer Recognizer
	VAD        *vad.Model
}

// API serves the ASR route. It is safe for concurrent use. It logs
// nothing itself: server-side failures go to the gin context (c.Error),
// and the web server's access log records them with the request ID.
type API struct {
	cfg     Config
	d       Deps
	pending chan struct{} // a token per request inside the handler
	turns   *limiter
}

// New returns the API.
func New(cfg Config, d Deps) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &API{
		cfg: cfg, d: d,
		pending: make(chan struct{}, cfg.MaxPending),
		turns:   newLimiter(cfg.MaxConcurrent),
	}, nil
}

// PathASR is the route's path.
const PathASR = "/api/v1/asr"

// endpoints is the route table: the one place that says which operations
// exist, what scope each needs and which handler serves it.
func (a *API) endpoints() web.Endpoints {
	return web.Endpoints{
		{Route: web.Route{Method: http.MethodPost, Path: PathASR, Scope: auth.ScopeNLURead, Summary: "Transcribe a WAV recording", MaxBodyBytes: a.cfg.MaxBodyBytes}, Handle: a.transcribe},
	}
}

// Routes returns the route table.
func (a *API) Routes() []web.Route { return a.endpoints().Routes() }

// Register adds every route of the table to r, each behind guard(scope).
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	a.endpoints().Register(r, guard)
}

var (
	_ web.Registrar = (*API)(nil)
	_ Recognizer    = (*asr.Model)(nil)
)
