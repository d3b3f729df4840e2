package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	alertstore "github.com/switchboard-cc/switchboard/aiops/alert/esstore"
	"github.com/switchboard-cc/switchboard/aiops/anomaly"
	"github.com/switchboard-cc/switchboard/aiops/incident"
	incidentstore "github.com/switchboard-cc/switchboard/aiops/incident/esstore"
	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/aiops/logtemplate"
	"github.com/switchboard-cc/switchboard/aiops/monitor"
	"github.com/switchboard-cc/switchboard/aiops/simulate"
	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/nlu/ort"
)

type simulateFlags struct {
	days          int
	seed          uint64
	start         string
	outageDay     int
	outageAt      string
	outageMinutes int
	webhooks      []string
	store         bool
	jsonOut       bool
	modelsDir     string
	ortLib        string
}

func newSimulate(g *globals) *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Generate contact-center traffic with an injected outage and run the AIOps detectors over it",
		Long: `Generate seeded ticket, call and log traffic (daily and weekly cycles, Chinese
and English tickets) with a payment-gateway outage injected, and run the AIOps
monitor over it in simulated time: volume anomalies, incidents with their
root-cause candidates, alerts sent to --webhook receivers. With --es-url (and
--store) the logs go into Elasticsearch's logs indices with their template ids,
the alerts with their history into the alerts index and the incidents into the
incidents index.

The report says when each alert came relative to the outage, what the incidents
found, how many alerts fired outside the outage (false alarms), and how well
the tickets were clustered (adjusted Rand index and NMI against the truth).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd.Context(), g, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.days, "days", 14, "simulated days (the detectors learn the cycles in the first week)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed gives the same traffic")
	fl.StringVar(&f.start, "start", "2026-11-02", "first simulated day (UTC, YYYY-MM-DD)")
	fl.IntVar(&f.outageDay, "outage-day", 11, "day of the payment-gateway outage, counted from 1; 0 for none")
	fl.StringVar(&f.outageAt, "outage-at", "14:07", "time of day the outage starts (UTC, HH:MM)")
	fl.IntVar(&f.outageMinutes, "outage-minutes", 45, "how long the outage lasts")
	fl.StringArrayVar(&f.webhooks, "webhook", nil, "URL that gets every alert as generic webhook JSON (repeatable)")
	fl.BoolVar(&f.store, "store", false, "write the logs and the alerts to Elasticsearch (--es-url)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fl.StringVar(&f.modelsDir, "models-dir", env("SWITCHBOARD_MODELS_DIR", "models"), "models directory whose production embedding model embeds the tickets, as the live pipeline does; '' or no manifest there clusters on terms alone (env SWITCHBOARD_MODELS_DIR)")
	fl.StringVar(&f.ortLib, "onnxruntime-lib", ort.LibraryFromEnv(), "ONNX Runtime 1.24 shared library (env ONNXRUNTIME_LIB)")
	return cmd
}

// simReport is what a simulation found.
type simReport struct {
	Days           int        `json:"days"`
	Tickets        int        `json:"tickets"`
	Calls          int        `json:"calls"`
	Logs           int        `json:"logs"`
	OutageStart    *time.Time `json:"outage_start,omitempty"`
	Alerts         []simAlert `json:"alerts"`
	FalseAlarms    int        `json:"false_alarms"`
	FirstAnomaly   *float64   `json:"first_anomaly_minutes,omitempty"`
	FirstIncident  *float64   `json:"first_incident_minutes,omitempty"`
	Incidents      int        `json:"incidents"`
	IncidentLabels []string   `json:"incident_labels,omitempty"`
	TopCause       string     `json:"top_cause,omitempty"`
	Embeddings     bool       `json:"embeddings"` // tickets clustered on the embedding model, not terms alone
	ClusterARI     float64    `json:"cluster_ari"`
	ClusterNMI     float64    `json:"cluster_nmi"`
	OutageRecall   float64    `json:"outage_ticket_recall"`
	Elapsed        string     `json:"elapsed"`
}

type simAlert struct {
	At      time.Time `json:"at"`
	Source  string    `json:"source"`
	Title   string    `json:"title"`
	Summary string    `json:"summary"`
	// Minutes is At relative to the outage's start.
	Minutes *float64 `json:"minutes_from_outage,omitempty"`
	Outage  bool     `json:"during_outage"`
}

func runSimulate(ctx context.Context, g *globals, f simulateFlags, stdout, stderr io.Writer) error {
	start, err := time.Parse("2006-01-02", f.start)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	if f.days < 1 {
		return fmt.Errorf("--days must be at least 1")
	}
	cfg := simulate.DefaultConfig(start)
	cfg.Duration = time.Duration(f.days) * 24 * time.Hour
	cfg.Seed = f.seed
	var outage *simulate.Incident
	if f.outageDay > 0 {
		at, err := time.Parse("15:04", f.outageAt)
		if err != nil {
			return fmt.Errorf("--outage-at: %w", err)
		}
		if f.outageDay > f.days {
			return fmt.Errorf("--outage-day %d is after the last simulated day %d", f.outageDay, f.days)
		}
		o := simulate.PaymentOutage(start.Add(time.Duration(f.outageDay-1)*24*time.Hour+time.Duration(at.Hour())*time.Hour+time.Duration(at.Minute())*time.Minute),
			time.Duration(f.outageMinutes)*time.Minute)
		outage = &o
		cfg.Incidents = []simulate.Incident{o}
	}

	log := slog.New(slog.DiscardHandler)
	rep := simReport{Days: f.days}
	var now time.Time
	chs, err := notifiers(webhookChannels(f.webhooks))
	if err != nil {
		return err
	}
	deps := alert.Deps{Notifiers: chs, Now: func() time.Time { return now }, Log: log}
	var ingester *logs.Ingester
	var recorder monitor.Recorder
	miner, err := logtemplate.New(logtemplate.DefaultConfig())
	if err != nil {
		return err
	}
	if f.store {
		c, err := g.connect(ctx, log, time.Minute)
		if err != nil {
			return err
		}
		store := alertstore.New(c, alertstore.DefaultConfig(), log)
		if err := c.Ensure(ctx, log, store.Index()); err != nil {
			return err
		}
		if err := eslog.New(c, eslog.Config{Service: "switchboard"}).Setup(ctx); err != nil {
			return err
		}
		deps.Store = store
		incidents := incidentstore.New(c, log)
		if err := c.Ensure(ctx, log, incidents.Index()); err != nil {
			return err
		}
		recorder = incidentRecorder{incidents}
		// Simulated time may run ahead of the clock: no future check.
		ingester = logs.New(c, templateMiner{miner}, logs.Config{MaxSkew: 100 * 365 * 24 * time.Hour})
	} else {
		deps.Store = alert.NewMemoryStore()
	}
	mgr, err := alert.New(alert.Config{}, deps)
	if err != nil {
		return err
	}
	mon, err := monitor.New(monitor.Config{}, monitor.Deps{
		NewDetector: func(string) (monitor.Detector, error) { return anomaly.New(anomaly.DefaultConfig()) },
		Alerts:      mgr, Incidents: recorder,
	})
	if err != nil {
		return err
	}

	// Tickets are embedded as the ticket service embeds them on creation,
	// so the clustering measured here is the production one.
	var embed func(string) ([]float32, error)
	if f.modelsDir != "" {
		svc, rt, err := openNLU(ctx, nluConfig{ModelsDir: f.modelsDir, Threads: 2}, f.ortLib, nil, nil, log)
		if err != nil {
			return err
		}
		if svc != nil {
			defer rt.Close()
			defer svc.Close()
			if embeddingDims(svc) > 0 {
				embed = func(text string) ([]float32, error) {
					if !svc.Readable(text) {
						return nil, nil // as the live feeder does: terms for what the model cannot read
					}
					v, _, err := svc.EmbedOne(ctx, text)
					return v, err
				}
				rep.Embeddings = true
			}
		}
	}

	began := time.Now()
	bar := progressbar.NewOptions(f.days*24, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("simulated hours"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	var truth, pred []int
	labels := map[string]int{}
	label := func(s string) int {
		if _, ok := labels[s]; !ok {
			labels[s] = len(labels)
		}
		return labels[s]
	}
	outageIDs := map[string]bool{}
	var batch bytes.Buffer
	hour := start
	flush := func() error {
		if ingester == nil || batch.Len() == 0 {
			return nil
		}
		res, err := ingester.Ingest(ctx, &batch, logs.Defaults{})
		batch.Reset()
		if err != nil {
			return err
		}
		if res.Rejected > 0 {
			return fmt.Errorf("simulate: %d log lines rejected: %v", res.Rejected, res.Reasons)
		}
		return nil
	}
	err = simulate.Generate(cfg, func(ev simulate.Event) error {
		now = ev.At
		for ev.At.Sub(hour) >= time.Hour {
			hour = hour.Add(time.Hour)
			_ = bar.Add(1)
			if err := flush(); err != nil {
				return err
			}
		}
		switch ev.Kind {
		case simulate.KindTicket:
			rep.Tickets++
			var vec []float32
			if embed != nil {
				if vec, err = embed(ev.Ticket.Subject); err != nil {
					return fmt.Errorf("embed ticket: %w", err)
				}
			}
			cl, err := mon.Ticket(ctx, incident.Ticket{ID: strconv.Itoa(rep.Tickets), At: ev.At, Text: ev.Ticket.Subject, Vector: vec,
				Category: ev.Ticket.Category, Region: ev.Ticket.Region, Channel: ev.Ticket.Channel})
			if err != nil {
				return err
			}
			t := ev.Ticket.Category
			if ev.Incident != "" {
				t = ev.Incident
			}
			truth, pred = append(truth, label(t)), append(pred, cl)
			if ev.Incident != "" {
				outageIDs[strconv.Itoa(rep.Tickets)] = true
			}
		case simulate.KindCall:
			rep.Calls++
			return mon.Call(ctx, ev.At, ev.Call.Intent, ev.Call.Region)
		case simulate.KindLog:
			rep.Logs++
			r := miner.Add(ev.Log.Message)
			if ingester != nil {
				line, _ := json.Marshal(map[string]any{"@timestamp": ev.At.Format(time.RFC3339Nano), "message": ev.Log.Message,
					"log.level": ev.Log.Level, "service.name": ev.Log.Service})
				batch.Write(line)
				batch.WriteByte('\n')
			}
			return mon.Log(ctx, ev.At, ev.Log.Service, ev.Log.Level, strconv.FormatInt(r.ID, 10), r.Template, ev.Log.Message)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	_ = bar.Finish()

	// Which tickets of the outage ended up in an incident.
	found := 0
	rep.Incidents = len(mon.Incidents())
	for _, inc := range mon.Incidents() {
		rep.IncidentLabels = append(rep.IncidentLabels, strings.Join(inc.Label, " "))
		for _, id := range inc.Tickets {
			if outageIDs[id] {
				found++
			}
		}
	}
	if len(outageIDs) > 0 {
		rep.OutageRecall = float64(found) / float64(len(outageIDs))
	}
	rep.ClusterARI, rep.ClusterNMI = incident.ARI(truth, pred), incident.NMI(truth, pred)

	all, _, err := mgr.List(ctx, alert.Query{Size: 1000})
	if err != nil {
		return err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].FirstAt.Before(all[j].FirstAt) })
	if outage != nil {
		at := outage.Start
		rep.OutageStart = &at
	}
	for _, a := range all {
		sa := simAlert{At: a.FirstAt, Source: string(a.Source), Title: a.Title, Summary: a.Summary}
		if outage != nil {
			m := a.FirstAt.Sub(outage.Start).Minutes()
			sa.Minutes = &m
			// The outage's logs start before it (its lead); its tickets
			// trail it by up to an hour.
			sa.Outage = m >= -15 && m <= float64(f.outageMinutes)+60
			if sa.Outage && a.Source == alert.SourceAnomaly && rep.FirstAnomaly == nil {
				rep.FirstAnomaly = &m
			}
			if sa.Outage && a.Source == alert.SourceIncident && rep.FirstIncident == nil {
				rep.FirstIncident = &m
				if a.Evidence != nil && len(a.Evidence.Candidates) > 0 {
					rep.TopCause = a.Evidence.Candidates[0].Value
				}
			}
		}
		if !sa.Outage {
			rep.FalseAlarms++
		}
		rep.Alerts = append(rep.Alerts, sa)
	}
	rep.Elapsed = time.Since(began).Round(time.Millisecond).String()
	if f.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printSimReport(stdout, rep)
	return nil
}

func webhookChannels(urls []string) []alertChannel {
	var out []alertChannel
	for _, u := range urls {
		out = append(out, alertChannel{Kind: "webhook", URL: u})
	}
	return out
}

func printSimReport(w io.Writer, r simReport) {
	fmt.Fprintf(w, "%d simulated days: %d tickets, %d calls, %d log lines (%s)\n", r.Days, r.Tickets, r.Calls, r.Logs, r.Elapsed)
	if r.OutageStart != nil {
		fmt.Fprintf(w, "payment-gateway outage from %s\n", r.OutageStart.Format("2006-01-02 15:04"))
	}
	for _, a := range r.Alerts {
		rel := ""
		if a.Minutes != nil {
			rel = fmt.Sprintf(" (%+.0f min)", *a.Minutes)
		}
		mark := " "
		if !a.Outage {
			mark = "!"
		}
		fmt.Fprintf(w, "%s %s%s  %s\n    %s\n", mark, a.At.Format("01-02 15:04"), rel, a.Title, a.Summary)
	}
	var b strings.Builder
	if r.FirstAnomaly != nil {
		fmt.Fprintf(&b, "first anomaly alert %+.0f min from the outage's start; ", *r.FirstAnomaly)
	}
	if r.FirstIncident != nil {
		fmt.Fprintf(&b, "first incident %+.0f min, top cause %s; ", *r.FirstIncident, r.TopCause)
	}
	if len(r.IncidentLabels) > 0 {
		fmt.Fprintf(&b, "incidents %q; ", r.IncidentLabels)
	}
	if r.Embeddings {
		b.WriteString("tickets embedded; ")
	} else {
		b.WriteString("tickets clustered on terms (no embedding model); ")
	}
	fmt.Fprintf(&b, "false alarms %d; clustering ARI %.3f, NMI %.3f; outage tickets in an incident %.0f%%",
		r.FalseAlarms, r.ClusterARI, r.ClusterNMI, 100*r.OutageRecall)
	fmt.Fprintln(w, b.String())
}
