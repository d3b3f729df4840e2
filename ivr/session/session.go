// Package session provides the IVR's call-flow runtime: it runs one flow
// (ivr/flow) for each call, speaking its prompts, listening with speech
// recognition and DTMF at each ask, understanding what the caller said
// with the intent model, and carrying out lookups, answers, tickets and
// transfers, while it records the call and writes its call record.
//
// One goroutine runs a call. Its clock is the caller's audio: the SIP layer
// delivers one 20 ms frame every 20 ms (concealment while nothing arrives),
// and for each frame received the runtime sends at most one frame of prompt
// audio, so prompts are paced by the line itself and the recording's two
// channels stay aligned. Work that may block (a lookup, a ticket, waiting
// for an agent, a REFER) runs beside the audio loop, which keeps reading
// and recording while it waits.
//
// Turn taking. An ask listens while its prompt plays: caller speech (the
// VAD's start of speech) or a key stops the prompt (barge-in). The end of
// a turn is decided by what was said, not by a fixed silence timer: the
// recogniser closes an utterance after a short pause (Config.EndSilence
// in the recogniser adapter), and the runtime acts at once when the
// utterance is complete — a grammar filled (all the digits of an order
// number, one of the expected phrases) or an intent recognised with enough
// confidence. Only an incomplete turn waits Config.TurnGrace for the caller
// to go on, and what they add is joined to what they said.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/flow"
	"github.com/switchboard-cc/switchboard/ivr/lookup"
	"github.com/switchboard-cc/switchboard/ivr/media"
	"github.com/switchboard-cc/switchboard/ivr/prompt"
	"github.com/switchboard-cc/switchboard/ivr/sip"
	"github.com/switchboard-cc/switchboard/nlu/asr"
)

// Line is one call's media and signalling, as the runtime needs it;
// *sip.Call has it.
type Line interface {
	// Frames delivers one 20 ms frame of 8 kHz audio every 20 ms and is
	// closed when the call ends.
	Frames() <-chan media.Frame
	Digits() <-chan media.Digit
	WriteFrame(samples []float32) error
	// Refer transfers the caller to a SIP URI.
	Refer(ctx context.Context, target string) error
	// Err says why the call ended, nil while it is up.
	Err() error
}

// CallInfo identifies a call.
type CallInfo struct {
	SIPCallID, From, To string
}

// Prompts turns a text into 8 kHz audio (the prompt cache).
type Prompts interface {
	Get(ctx context.Context, lang, text string) ([]float32, error)
}

// Recognizer starts a speech recognition stream for one ask.
type Recognizer interface {
	NewStream(expect asr.Expect) (Stream, error)
}

// Stream is a recognition stream over the caller's 8 kHz audio, cut into
// utterances by a VAD.
type Stream interface {
	Accept(ctx context.Context, samples []float32) ([]asr.Event, error)
}

// Intents classifies an utterance.
type Intents interface {
	Intent(ctx context.Context, text string) (label string, confidence float64, err error)
}

// TicketRequest is a ticket a call creates.
type TicketRequest struct {
	CallID, Caller       string
	Subject, Description string
	// Category is the category to file under; empty asks the category model.
	Category string
	// Transcript is the caller's side of the call so far, redacted.
	Transcript string
	Language   string
	SkillGroup string
}

// Tickets creates tickets.
type Tickets interface {
	CreateTicket(ctx context.Context, r TicketRequest) (id string, err error)
}

// Lookups calls outside systems.
type Lookups interface {
	Do(ctx context.Context, r lookup.Request) (map[string]string, error)
}

// Agent is who a call is transferred to.
type Agent struct {
	ID  string
	URI string // SIP URI
}

// ErrNoAgent is what a Router returns when no agent became free in time.
var ErrNoAgent = errors.New("session: no agent available")

// Router hands out agents of a skill group, queueing the call while none
// is free. position is called with the caller's place in the queue
// whenever it changes. release makes the agent available again.
type Router interface {
	Acquire(ctx context.Context, group string, maxWait time.Duration, position func(int)) (Agent, func(), error)
}

// CallStore keeps call records; Put is called at the start and at the end
// of every call with the same ID.
type CallStore interface {
	Put(ctx context.Context, r *calls.Record) error
}

// Recorder records calls, both directions.
type Recorder interface {
	Start(id string) (Recording, error)
}

// Recording is one call's recording: Caller is called for every received
// frame, IVR for every frame sent.
type Recording interface {
	Caller(samples []float32)
	IVR(samples []float32)
	Close() (seconds float64, err error)
}

// Redactor masks personal data in a text.
type Redactor interface {
	Redact(text string) string
}

// MenuRanker orders an ask's menu options (intents), most asked-for first.
type MenuRanker interface {
	Order(node string, intents []string) []string
}

// Config tunes the runtime. Zero values mean the defaults.
type Config struct {
	// NoInput is how long an ask waits for the caller to start speaking
	// or press a key after its prompt, when the node sets no timeout (5 s).
	NoInput time.Duration `yaml:"no_input"`
	// InterDigit is how long DTMF entry waits for the next key (3 s).
	InterDigit time.Duration `yaml:"inter_digit"`
	// TurnGrace is how long an incomplete turn waits for more speech
	// before it is judged as it stands (500 ms).
	TurnGrace time.Duration `yaml:"turn_grace"`
	// Confidence is the intent confidence an ask needs when the node sets
	// none (0.5).
	Confidence float64 `yaml:"confidence"`
	// ReferTimeout bounds a transfer: the REFER and the referred call's
	// progress (30 s).
	ReferTimeout time.Duration `yaml:"refer_timeout"`
	// BridgeRing is how long an agent's phone may ring when the caller's
	// side refused the REFER and the IVR calls the agent itself (20 s).
	BridgeRing time.Duration `yaml:"bridge_ring"`
	// MaxSteps ends a call that has entered this many nodes (200): a flow
	// that loops must not hold a line forever.
	MaxSteps int `yaml:"max_steps"`
	// NoBargeIn plays prompts to the end even when the caller speaks.
	NoBargeIn bool `yaml:"no_barge_in"`
	// PostRoll is how far past the VAD's end of speech the recogniser's
	// utterances reach (asr.StreamConfig.PostRoll, 200 ms); the turn
	// latency is measured from the end of speech itself.
	PostRoll time.Duration `yaml:"post_roll"`
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.NoInput, 5*time.Second)
	def(&c.InterDigit, 3*time.Second)
	def(&c.TurnGrace, 500*time.Millisecond)
	def(&c.ReferTimeout, 30*time.Second)
	def(&c.BridgeRing, 20*time.Second)
	def(&c.PostRoll, 200*time.Millisecond)
	if c.Confidence <= 0 {
		c.Confidence = 0.5
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 200
	}
	return c
}

// Deps are the runtime's collaborators. Prompts, Speech and Calls are
// required; without Intents an ask understands only grammars and DTMF;
// without Tickets, Lookups or Router those nodes take their error exits;
// Recorder, Redactor and Menu are optional.
type Deps struct {
	Prompts  Prompts
	Speech   Recognizer
	Intents  Intents
	Tickets  Tickets
	Lookups  Lookups
	Router   Router
	Calls    CallStore
	Recorder Recorder
	Redactor Redactor
	Menu     MenuRanker
	// RecordingURL makes the API path of a call's recording.
	RecordingURL func(callID string) string
	Registerer   prometheus.Registerer
	Logger       *slog.Logger
	NewID        func() string
	Now          func() time.Time
}

// Runner runs calls through the current flow.
type Runner struct {
	cfg  Config
	d    Deps
	log  *slog.Logger
	flow atomic.Pointer[flow.Flow]
	m    *metrics

	wavMu sync.Mutex
	wavs  map[string][]float32 // recorded prompts by path

	active sync.WaitGroup
}

// New returns a Runner for f, which must have passed validation.
func New(f *flow.Flow, cfg Config, d Deps) (*Runner, error) {
	switch {
	case f == nil:
		return nil, errors.New("session: no flow")
	case d.Prompts == nil:
		return nil, errors.New("session: no prompts")
	case d.Speech == nil:
		return nil, errors.New("session: no speech recognizer")
	case d.Calls == nil:
		return nil, errors.New("session: no call store")
	case d.NewID == nil:
		return nil, errors.New("session: no id source")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RecordingURL == nil {
		d.RecordingURL = func(id string) string { return "/api/v1/calls/" + id + "/recording" }
	}
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg.withDefaults(), d: d, log: d.Logger.With("component", "ivr/session"), m: m, wavs: map[string][]float32{}}
	r.flow.Store(f)
	return r, nil
}

// SetFlow puts a new flow (version) in force for calls that start from now.
func (r *Runner) SetFlow(f *flow.Flow) { r.flow.Store(f) }

// Flow returns the flow in force.
func (r *Runner) Flow() *flow.Flow { return r.flow.Load() }

// HandleCall runs a SIP call; it makes the Runner a sip.CallHandler.
func (r *Runner) HandleCall(ctx context.Context, c *sip.Call) {
	r.Run(ctx, c, CallInfo{SIPCallID: c.ID, From: c.From, To: c.To})
}

// Run runs one call until it ends, and returns its record.
func (r *Runner) Run(ctx context.Context, line Line, info CallInfo) *calls.Record {
	r.active.Add(1)
	defer r.active.Done()
	c := r.newCall(line, info)
	r.m.active.Inc()
	defer r.m.active.Dec()
	c.run(ctx)
	return &c.rec
}

// Wait waits for the calls in progress to end.
func (r *Runner) Wait() { r.active.Wait() }

// wav returns a recorded prompt, loaded once.
func (r *Runner) wav(path string) ([]float32, error) {
	r.wavMu.Lock()
	defer r.wavMu.Unlock()
	if s, ok := r.wavs[path]; ok {
		return s, nil
	}
	s, err := prompt.LoadWAV(path)
	if err != nil {
		return nil, fmt.Errorf("session: prompt %s: %w", path, err)
	}
	r.wavs[path] = s
	return s, nil
}

type metrics struct {
	active    prometheus.Gauge
	calls     *prometheus.CounterVec
	latency   prometheus.Histogram
	bargeIn   prometheus.Counter
	underruns prometheus.Counter
	dropped   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_ivr_active_calls", Help: "Calls in the IVR now.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ivr_calls_total", Help: "Calls that left the IVR, by outcome.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_ivr_turn_latency_seconds",
			Help:    "From the caller's end of speech to the first audio packet of the IVR's response.",
			Buckets: []float64{.1, .2, .3, .4, .5, .6, .7, .8, 1, 1.25, 1.5, 2, 3, 5},
		}),
		bargeIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_ivr_barge_ins_total", Help: "Prompts the caller interrupted.",
		}),
		underruns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_ivr_playout_underruns_total",
			Help: "Gaps of more than 60 ms between two frames of a prompt (the caller's jitter buffer runs dry).",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_ivr_frames_dropped_total",
			Help: "Caller frames lost because a call's runtime fell more than 1 s (50 frames) behind.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.active, m.calls, m.latency, m.bargeIn, m.underruns, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("session: metrics: %w", err)
			}
		}
	}
	return m, nil
}
