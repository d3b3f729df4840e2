package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/alert/alertapi"
	alertstore "github.com/switchboard-cc/switchboard/aiops/alert/esstore"
	"github.com/switchboard-cc/switchboard/aiops/alert/notify"
	"github.com/switchboard-cc/switchboard/aiops/anomaly"
	"github.com/switchboard-cc/switchboard/aiops/incident"
	incidentstore "github.com/switchboard-cc/switchboard/aiops/incident/esstore"
	"github.com/switchboard-cc/switchboard/aiops/incident/incidentapi"
	"github.com/switchboard-cc/switchboard/aiops/live"
	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/aiops/logs/logsapi"
	"github.com/switchboard-cc/switchboard/aiops/logtemplate"
	"github.com/switchboard-cc/switchboard/aiops/monitor"
	"github.com/switchboard-cc/switchboard/aiops/staffing/staffingapi"
	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/web"
)

// aiopsConfig is the aiops section of the configuration file.
type aiopsConfig struct {
	Logs struct {
		// Disabled turns POST /api/v1/logs off.
		Disabled bool `yaml:"disabled"`
		// MaxLine is the longest log line taken (1 MiB).
		MaxLine int `yaml:"max_line"`
		// SaveEvery is how often the log-template miner's state is saved
		// to Elasticsearch, so template ids survive a restart (1 min).
		SaveEvery time.Duration `yaml:"save_every"`
	} `yaml:"logs"`
	Monitor struct {
		// Disabled turns the detectors off.
		Disabled bool `yaml:"disabled"`
		// Poll is how often new tickets, calls and error logs are read (30 s).
		Poll time.Duration `yaml:"poll"`
		// Holidays (YYYY-MM-DD in HolidayZone) are judged as the weekday
		// HolidayAs (Sunday), so a quiet public holiday is no anomaly.
		Holidays    []string `yaml:"holidays"`
		HolidayZone string   `yaml:"holiday_zone"`
		HolidayAs   string   `yaml:"holiday_as"`
	} `yaml:"monitor"`
	Alerts struct {
		Cooldown      time.Duration `yaml:"cooldown"`
		EscalateAfter time.Duration `yaml:"escalate_after"`
		// Notify are the channels every alert goes to; Escalate those an
		// unacknowledged one goes to after EscalateAfter.
		Notify   []alertChannel `yaml:"notify"`
		Escalate []alertChannel `yaml:"escalate"`
	} `yaml:"alerts"`
}

// alertChannel is one notification channel in the configuration.
type alertChannel struct {
	// Kind: webhook, slack, dingtalk, feishu, wecom or email.
	Kind   string `yaml:"kind"`
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
	// Email: the SMTP server (host:port, STARTTLS) and the envelope.
	SMTP     string   `yaml:"smtp"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
}

func (a alertChannel) notifier() (alert.Notifier, error) {
	if a.Kind != "email" && a.URL == "" {
		return nil, fmt.Errorf("alert channel %s: url is required", a.Kind)
	}
	switch a.Kind {
	case "webhook":
		return &notify.Webhook{URL: a.URL, Secret: a.Secret}, nil
	case "slack":
		return &notify.Slack{URL: a.URL}, nil
	case "dingtalk":
		return &notify.DingTalk{URL: a.URL, Secret: a.Secret}, nil
	case "feishu":
		return &notify.Feishu{URL: a.URL, Secret: a.Secret, Card: true}, nil
	case "wecom":
		return &notify.WeCom{URL: a.URL}, nil
	case "email":
		if a.SMTP == "" || a.From == "" || len(a.To) == 0 {
			return nil, errors.New("alert channel email: smtp, from and to are required")
		}
		return &notify.Email{Addr: a.SMTP, From: a.From, To: a.To, Username: a.Username, Password: a.Password}, nil
	}
	return nil, fmt.Errorf("alert channel kind %q: want webhook, slack, dingtalk, feishu, wecom or email", a.Kind)
}

func notifiers(chs []alertChannel) ([]alert.Notifier, error) {
	var out []alert.Notifier
	for _, ch := range chs {
		n, err := ch.notifier()
		if err != nil {
			return nil, fmt.Errorf("aiops: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// minerStateKey is the shared setting holding the template miner's state.
const minerStateKey = "aiops.logtemplate.state"

type aiopsParts struct {
	apis   []web.Registrar
	runs   map[string]func(context.Context) error
	alerts *alert.Manager
}

// startAIOps builds the AIOps parts the server runs: alerts and their
// channels, the monitor fed from the stores, and log ingestion with
// template mining.
// readable, if not nil, says whether the embedding model can read a
// ticket's text (nlu.Service.Readable).
func startAIOps(ctx context.Context, cfg aiopsConfig, c *es.Client, st *settings.Store, readable func(string) bool, log *slog.Logger) (*aiopsParts, error) {
	p := &aiopsParts{runs: map[string]func(context.Context) error{}}

	// Alerts: stored with their history, raised by the detectors.
	chs, err := notifiers(cfg.Alerts.Notify)
	if err != nil {
		return nil, err
	}
	esc, err := notifiers(cfg.Alerts.Escalate)
	if err != nil {
		return nil, err
	}
	store := alertstore.New(c, alertstore.DefaultConfig(), log)
	if err := c.Ensure(ctx, log, store.Index()); err != nil {
		return nil, err
	}
	alerts, err := alert.New(alert.Config{Cooldown: cfg.Alerts.Cooldown, EscalateAfter: cfg.Alerts.EscalateAfter},
		alert.Deps{Store: store, Notifiers: chs, Escalation: esc, Log: log})
	if err != nil {
		return nil, fmt.Errorf("aiops: %w", err)
	}
	p.alerts = alerts
	p.apis = append(p.apis, alertapi.New(alerts))
	p.runs["alerts"] = alerts.Run

	miner, err := logtemplate.New(logtemplate.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("aiops: %w", err)
	}
	doc, err := st.Get(ctx, minerStateKey)
	switch {
	case err == nil:
		if err := miner.Import([]byte(doc.Value)); err != nil {
			// A state we cannot read costs template ids, not service.
			log.WarnContext(ctx, "log-template state not restored; starting afresh", "err", err)
		}
	case !errors.Is(err, settings.ErrNotFound):
		return nil, fmt.Errorf("aiops: %w", err)
	}
	incidents := incidentstore.New(c, log)
	if err := c.Ensure(ctx, log, incidents.Index()); err != nil {
		return nil, err
	}
	p.apis = append(p.apis, incidentapi.New(incidents), staffingapi.New(staffingapi.NewESHistory(c)))
	if !cfg.Monitor.Disabled {
		// The detectors on what the stores receive, resumed from their
		// saved state at every start (with the holidays configured now).
		dcfg := anomaly.DefaultConfig()
		dcfg.Holidays, dcfg.HolidayZone, dcfg.HolidayAs = cfg.Monitor.Holidays, cfg.Monitor.HolidayZone, cfg.Monitor.HolidayAs
		if dcfg.Holidays == nil {
			dcfg.Holidays = []string{} // none now: saved calendars are replaced, not kept
		}
		if err := dcfg.Validate(); err != nil {
			return nil, fmt.Errorf("aiops.monitor: %w", err)
		}
		mon, err := monitor.New(monitor.Config{}, monitor.Deps{
			NewDetector: func(string) (monitor.Detector, error) { return anomaly.New(dcfg) },
			Alerts:      alerts, Incidents: incidentRecorder{incidents}, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("aiops: %w", err)
		}
		feeder := live.New(c, mon, templateMiner{miner}, st, live.Config{Poll: cfg.Monitor.Poll, Readable: readable}, log)
		p.runs["aiops monitor"] = feeder.Run
	}
	if cfg.Logs.Disabled {
		return p, nil
	}
	in := logs.New(c, templateMiner{miner}, logs.Config{MaxLine: cfg.Logs.MaxLine})
	p.apis = append(p.apis, logsapi.New(in))
	every := cfg.Logs.SaveEvery
	if every <= 0 {
		every = time.Minute
	}
	p.runs["log-template state"] = func(ctx context.Context) error {
		return saveMinerLoop(ctx, every, miner, st, log)
	}
	return p, nil
}

// incidentRecorder keeps the monitor's incidents in Elasticsearch.
type incidentRecorder struct{ s *incidentstore.Store }

func (r incidentRecorder) Record(ctx context.Context, id string, inc *incident.Incident, causes []incident.Candidate) error {
	out := &incidentstore.Incident{
		ID: id, Label: inc.Label, Start: inc.Start, End: inc.End, Count: len(inc.Tickets), Tickets: inc.Tickets,
		Categories: inc.Categories, Regions: inc.Regions, Channels: inc.Channels,
		Observed: inc.Observed, Expected: inc.Expected, PValue: inc.PValue,
	}
	for _, c := range causes[:min(len(causes), 5)] {
		out.Causes = append(out.Causes, incidentstore.Cause{Service: c.Service, Template: c.Template, Text: c.Text,
			Before: c.Before, After: c.After, RateBefore: c.RateBefore, RateAfter: c.RateAfter,
			LagSeconds: c.Lag.Seconds(), Score: c.Score, Samples: c.Samples})
	}
	if _, err := r.s.Get(ctx, id); errors.Is(err, incidentstore.ErrNotFound) {
		out.History = []incidentstore.Event{{At: inc.End, Kind: "formed"}}
	}
	return r.s.Put(ctx, out)
}

// templateMiner gives log ingestion the miner's template ids as strings.
type templateMiner struct{ m *logtemplate.Miner }

func (t templateMiner) Mine(msg string) (string, string) {
	r := t.m.Add(msg)
	return strconv.FormatInt(r.ID, 10), r.Template
}

// Template names a template id for the monitor's evidence.
func (t templateMiner) Template(id string) string {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ""
	}
	c, _ := t.m.Template(n)
	return c.Template
}

// saveMinerLoop saves the miner's state when it changed, and once more
// when ctx ends.
func saveMinerLoop(ctx context.Context, every time.Duration, m *logtemplate.Miner, st *settings.Store, log *slog.Logger) error {
	var last []byte
	save := func(ctx context.Context) {
		b, err := m.Export()
		if err != nil {
			log.ErrorContext(ctx, "log-template state not exported", "err", err)
			return
		}
		if bytes.Equal(b, last) {
			return
		}
		if err := st.Put(ctx, minerStateKey, string(b), "aiops"); err != nil {
			log.WarnContext(ctx, "log-template state not saved", "err", err)
			return
		}
		last = b
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			save(ctx)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			save(sctx)
			cancel()
			return nil
		}
	}
}
