package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schollz/progressbar/v3"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/ivr/agents"
	"github.com/switchboard-cc/switchboard/ivr/agents/agentsapi"
	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/calls/callsapi"
	"github.com/switchboard-cc/switchboard/ivr/flow"
	"github.com/switchboard-cc/switchboard/ivr/lookup"
	"github.com/switchboard-cc/switchboard/ivr/prompt"
	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/ivr/record/recordapi"
	"github.com/switchboard-cc/switchboard/ivr/redact"
	"github.com/switchboard-cc/switchboard/ivr/session"
	"github.com/switchboard-cc/switchboard/ivr/sip"
	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/vad"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/web"
)

// ivrConfig is the ivr section of the configuration file: the voice IVR
// answering SIP calls with a call flow.
type ivrConfig struct {
	// Enabled turns the IVR on (default off; --ivr overrides).
	Enabled *bool `yaml:"enabled"`
	// Flow is the call flow file (default ivr/flows/ecommerce.yaml).
	Flow string `yaml:"flow"`
	SIP  struct {
		Addr        string        `yaml:"addr"`       // UDP and TCP, default 127.0.0.1:5060
		MediaAddr   string        `yaml:"media_addr"` // default: Addr's host
		RTPPortMin  int           `yaml:"rtp_port_min"`
		RTPPortMax  int           `yaml:"rtp_port_max"`
		RTPTimeout  time.Duration `yaml:"rtp_timeout"`
		InviteRate  float64       `yaml:"invite_rate"`
		InviteBurst int           `yaml:"invite_burst"`
		TLSAddr     string        `yaml:"tls_addr"`
		TLSCertFile string        `yaml:"tls_cert_file"`
		TLSKeyFile  string        `yaml:"tls_key_file"`
	} `yaml:"sip"`
	// PromptsDir caches synthesised prompts (default .cache/prompts).
	PromptsDir string `yaml:"prompts_dir"`
	Recordings struct {
		Disabled  bool          `yaml:"disabled"`
		Dir       string        `yaml:"dir"`       // default .data/recordings
		Retention time.Duration `yaml:"retention"` // 0 keeps them
	} `yaml:"recordings"`
	Redact struct {
		// Disabled stores transcripts, call tickets and logs unredacted.
		Disabled bool `yaml:"disabled"`
		// KeepLogs leaves the server's logs unredacted (they are redacted
		// by default while the IVR runs, before they are shipped).
		KeepLogs bool     `yaml:"keep_logs"`
		Kinds    []string `yaml:"kinds"` // phone, cn_id, bank_card, email; empty: all
		Style    string   `yaml:"style"` // partial (default) or token
	} `yaml:"redact"`
	// Systems are the outside systems lookup nodes call.
	Systems map[string]lookup.System `yaml:"systems"`
	Agents  struct {
		Realm  string               `yaml:"realm"` // SIP digest realm, default "switchboard"
		Groups []string             `yaml:"groups"`
		Seed   []agents.AgentConfig `yaml:"seed"`
	} `yaml:"agents"`
	Menu struct {
		Window time.Duration `yaml:"window"` // intent counts over this, default 7 days
		Every  time.Duration `yaml:"every"`  // recomputed this often, default 10 min
	} `yaml:"menu"`
	// EndSilence is the pause that closes an utterance (200 ms); the turn
	// logic decides whether the caller has finished (see ivr/session).
	EndSilence time.Duration  `yaml:"end_silence"`
	Session    session.Config `yaml:"session"`
}

// ivrParts is what the IVR adds to the server: its APIs, its long-running
// loops and what to close.
type ivrParts struct {
	apis    []web.Registrar
	runs    map[string]func(context.Context) error
	sip     *sip.Server
	runner  *session.Runner
	indices []es.Index
}

type ivrDeps struct {
	es        *es.Client
	speech    *asr.Speech
	nlu       *nlu.Service
	tickets   *tickets.Service
	reg       prometheus.Registerer
	log       *slog.Logger
	modelsDir string
	// progress shows prompt synthesis at start; nil shows none.
	progress func(total int) func(done int)
}

// startIVR builds the IVR from its configuration. It binds the SIP
// listeners last, once everything a call needs is ready.
func startIVR(ctx context.Context, cfg ivrConfig, d ivrDeps) (*ivrParts, error) {
	if d.speech == nil {
		return nil, errors.New("ivr: needs the speech models (asr and vad in models/manifest.json)")
	}
	log := d.log
	flowPath := firstNonEmpty(cfg.Flow, "ivr/flows/ecommerce.yaml")
	f, err := flow.Load(flowPath)
	if err != nil {
		return nil, fmt.Errorf("ivr: %w", err)
	}
	systems, err := lookup.New(cfg.Systems, nil, log)
	if err != nil {
		return nil, fmt.Errorf("ivr: %w", err)
	}

	// Skill groups and agents.
	realm := firstNonEmpty(cfg.Agents.Realm, "switchboard")
	dir, err := agents.New(d.es, agents.Config{Realm: realm, Seed: cfg.Agents.Seed, SeedGroups: cfg.Agents.Groups}, log)
	if err != nil {
		return nil, fmt.Errorf("ivr: agents: %w", err)
	}
	store := calls.New(d.es, calls.DefaultConfig(), log)
	if err := d.es.Ensure(ctx, log, store.Index(), dir.Index()); err != nil {
		return nil, err
	}
	if err := dir.Load(ctx); err != nil {
		return nil, fmt.Errorf("ivr: agents: %w", err)
	}

	var groups []string
	for _, g := range dir.Groups() {
		groups = append(groups, g.Name)
	}
	opts := flow.Options{Groups: groups}
	if len(cfg.Systems) > 0 {
		opts.Systems = systems.Systems()
	} else {
		log.WarnContext(ctx, "no lookup systems configured (ivr.systems); the flow's lookups take their on_error exits")
	}
	if d.nlu != nil {
		if opts.Intents, err = intentLabels("", d.modelsDir); err != nil {
			return nil, fmt.Errorf("ivr: %w", err)
		}
	}
	if probs := f.Validate(opts); probs.HasErrors() {
		return nil, fmt.Errorf("ivr: %s:\n%s", flowPath, probs)
	}

	// Prompts: synthesised once, cached on disk, warmed before the first
	// call so that no caller waits for espeak-ng.
	synth, err := prompt.NewSynth(prompt.DefaultSynthConfig())
	if err != nil {
		return nil, fmt.Errorf("ivr: prompts: %w", err)
	}
	cache, err := prompt.NewCache(prompt.CacheConfig{Dir: firstNonEmpty(cfg.PromptsDir, ".cache/prompts"), Logger: log}, synth)
	if err != nil {
		return nil, fmt.Errorf("ivr: prompts: %w", err)
	}
	if err := warmPrompts(ctx, cache, f, d.progress); err != nil {
		return nil, err
	}

	var recorder *record.Recorder
	if !cfg.Recordings.Disabled {
		recorder, err = record.New(record.Config{Dir: firstNonEmpty(cfg.Recordings.Dir, ".data/recordings"), Retention: cfg.Recordings.Retention}, log)
		if err != nil {
			return nil, fmt.Errorf("ivr: recordings: %w", err)
		}
	}
	red, err := newRedactor(cfg)
	if err != nil {
		return nil, err
	}
	ranker := calls.NewRanker(store, calls.RankerConfig{Window: cfg.Menu.Window, Every: cfg.Menu.Every}, log)

	vc := vad.DefaultConfig()
	vc.MinSilence = cfg.EndSilence
	if vc.MinSilence <= 0 {
		vc.MinSilence = 200 * time.Millisecond
	}
	sc0 := cfg.Session
	if sc0.PostRoll <= 0 {
		sc0.PostRoll = 200 * time.Millisecond
	}
	deps := session.Deps{
		Prompts: cache,
		Speech:  recognizer{sp: d.speech, vad: vc, postRoll: sc0.PostRoll},
		Calls:   store,
		Lookups: systems,
		Router:  router{dir},
		Menu:    menuOrder{ranker},
		Tickets: callTickets{d.tickets},
		Logger:  log, Registerer: d.reg, NewID: newID,
	}
	if d.nlu != nil {
		deps.Intents = intents{d.nlu}
	}
	if recorder != nil {
		deps.Recorder = recorderOf{recorder}
	}
	if red != nil {
		deps.Redactor = redactor{red}
	}
	runner, err := session.New(f, sc0, deps)
	if err != nil {
		return nil, fmt.Errorf("ivr: %w", err)
	}

	p := &ivrParts{runner: runner, runs: map[string]func(context.Context) error{"menu ranking": ranker.Run}}
	callsAPI := callsapi.New(store)
	agentsAPI := agentsapi.New(dir)
	p.apis = append(p.apis, callsAPI, agentsAPI)
	if recorder != nil {
		auditor := recordapi.NewAuditor(d.es)
		if err := d.es.Ensure(ctx, log, auditor.Index()); err != nil {
			return nil, err
		}
		recAPI, err := recordapi.New(recordapi.Deps{Recordings: recorder, Audit: auditor})
		if err != nil {
			return nil, err
		}
		p.apis = append(p.apis, recAPI)
		p.runs["recording retention"] = recorder.Run
	}

	sc := sip.Config{
		Addr: firstNonEmpty(cfg.SIP.Addr, "127.0.0.1:5060"), RTPPortMin: cfg.SIP.RTPPortMin, RTPPortMax: cfg.SIP.RTPPortMax,
		RTPTimeout: cfg.SIP.RTPTimeout, InviteRate: cfg.SIP.InviteRate, InviteBurst: cfg.SIP.InviteBurst,
		TLSAddr: cfg.SIP.TLSAddr, TLSCertFile: cfg.SIP.TLSCertFile, TLSKeyFile: cfg.SIP.TLSKeyFile,
	}
	if cfg.SIP.MediaAddr != "" {
		if sc.MediaAddr, err = netip.ParseAddr(cfg.SIP.MediaAddr); err != nil {
			return nil, fmt.Errorf("ivr: sip.media_addr: %w", err)
		}
	}
	srv, err := sip.New(sc, sip.Deps{Handler: runner, Logger: log, Registrar: dir})
	if err != nil {
		return nil, fmt.Errorf("ivr: %w", err)
	}
	p.sip = srv
	log.InfoContext(ctx, "ivr answering", "sip", srv.UDPAddr().String(), "flow", f.ID, "version", f.Version)
	return p, nil
}

// newRedactor builds the IVR's redactor; nil when redaction is off.
func newRedactor(cfg ivrConfig) (*redact.Redactor, error) {
	if cfg.Redact.Disabled {
		return nil, nil
	}
	rc := redact.Config{}
	for _, k := range cfg.Redact.Kinds {
		kind, err := redact.ParseKind(k)
		if err != nil {
			return nil, fmt.Errorf("ivr: redact: %w", err)
		}
		rc.Kinds = append(rc.Kinds, kind)
	}
	switch cfg.Redact.Style {
	case "", "partial":
	case "token":
		rc.Style = redact.StyleToken
	default:
		return nil, fmt.Errorf("ivr: redact: style %q: want partial or token", cfg.Redact.Style)
	}
	r, err := redact.New(rc)
	if err != nil {
		return nil, fmt.Errorf("ivr: redact: %w", err)
	}
	return r, nil
}

// warmPrompts synthesises every fixed prompt text of the flow in both of
// its languages (texts with variables are made when first needed).
func warmPrompts(ctx context.Context, cache *prompt.Cache, f *flow.Flow, progress func(int) func(int)) error {
	var ps []prompt.Prompt
	for _, p := range f.Prompts {
		for lang, text := range p.Text {
			if !strings.Contains(text, "{") {
				ps = append(ps, prompt.Prompt{Lang: lang, Text: text})
			}
		}
	}
	var step func(int)
	if progress != nil {
		step = progress(len(ps))
	}
	err := cache.Warm(ctx, ps, func(done, _ int, p prompt.Prompt, err error) {
		if step != nil {
			step(done)
		}
	})
	if err != nil {
		return fmt.Errorf("ivr: prompts: %w", err)
	}
	return nil
}

// promptProgress draws a progress bar on stderr for prompt synthesis.
func promptProgress(total int) func(int) {
	bar := progressbar.NewOptions(total, progressbar.OptionSetDescription("ivr prompts"),
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionClearOnFinish())
	return func(done int) { _ = bar.Set(done) }
}

// recognizer starts one recognition stream per ask, cut by the VAD.
type recognizer struct {
	sp       *asr.Speech
	vad      vad.Config
	postRoll time.Duration
}

func (r recognizer) NewStream(e asr.Expect) (session.Stream, error) {
	return r.sp.ASR.NewStream(asr.StreamConfig{SampleRate: 8000, Expect: e, VAD: r.sp.VAD, VADConfig: r.vad,
		PartialEvery: -1, PostRoll: r.postRoll})
}

type intents struct{ svc *nlu.Service }

func (i intents) Intent(ctx context.Context, text string) (string, float64, error) {
	r, err := i.svc.Intent(ctx, text)
	if err != nil {
		return "", 0, err
	}
	return r.Label, r.Confidence, nil
}

// callTickets files the tickets calls create, as voice tickets with the
// call's transcript.
type callTickets struct{ svc *tickets.Service }

func (t callTickets) CreateTicket(ctx context.Context, r session.TicketRequest) (string, error) {
	desc := r.Description
	if r.Transcript != "" {
		desc = strings.TrimSpace(desc + "\n\n通话记录 / transcript:\n" + r.Transcript)
	}
	n := tickets.NewTicket{
		Channel: tickets.ChannelVoice, Customer: tickets.Customer{Phone: r.Caller},
		Subject: r.Subject, Description: desc, Language: r.Language, SkillGroup: r.SkillGroup,
		ExternalID: "call:" + r.CallID, Related: map[string]any{"call_id": r.CallID},
	}
	if r.Category != "" {
		n.Category = &tickets.Category{Label: r.Category, Source: tickets.SourceAgent}
	}
	if !validPhone(r.Caller) {
		n.Customer = tickets.Customer{Name: r.Caller}
	}
	t2, _, err := t.svc.Create(ctx, "ivr", n)
	if err != nil {
		return "", err
	}
	return t2.ID, nil
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '-':
		default:
			return false
		}
	}
	return digits >= 3
}

type router struct{ d *agents.Directory }

func (r router) Acquire(ctx context.Context, group string, maxWait time.Duration, position func(int)) (session.Agent, func(), error) {
	a, release, err := r.d.Acquire(ctx, group, maxWait, position)
	if errors.Is(err, agents.ErrNoAgent) {
		return session.Agent{}, nil, fmt.Errorf("%w: %w", session.ErrNoAgent, err)
	}
	if err != nil {
		return session.Agent{}, nil, err
	}
	return session.Agent{ID: a.ID, URI: a.Target()}, release, nil
}

type menuOrder struct{ r *calls.Ranker }

func (m menuOrder) Order(_ string, intents []string) []string { return m.r.Order(intents) }

type recorderOf struct{ r *record.Recorder }

func (r recorderOf) Start(id string) (session.Recording, error) {
	rec, err := r.r.Start(id)
	if err != nil {
		return nil, err
	}
	return recording{rec}, nil
}

type recording struct{ *record.Recording }

func (r recording) Close() (float64, error) {
	info, err := r.Recording.Close()
	return info.Seconds, err
}

type redactor struct{ r *redact.Redactor }

func (r redactor) Redact(s string) string {
	out, _ := r.r.Redact(s)
	return out
}
