// Package monitor runs the AIOps detectors over the contact center's
// traffic and raises alerts: volume anomalies in ticket, call and error-log
// counts (overall and by dimension), and incidents — bursting clusters of
// tickets about one thing — with root-cause candidates from the log
// templates whose error rates rose at the same time.
//
// A Monitor is fed events in time order (Ticket, Call, Log) and told how
// far time has gone (Advance). It keeps its own clock from those calls,
// never the wall clock, so the same code runs live (fed from the stores
// as traffic arrives) and over simulated weeks in seconds.
package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/anomaly"
	"github.com/switchboard-cc/switchboard/aiops/incident"
)

// Detector scores one count series; *anomaly.Detector is one.
type Detector interface {
	Observe(t time.Time, v float64) anomaly.Score
}

// Raiser raises alerts; *alert.Manager is one.
type Raiser interface {
	Raise(ctx context.Context, a alert.Alert) (*alert.Alert, error)
}

// Config tunes the monitor. Zero values mean the defaults.
type Config struct {
	// Interval is the counting interval of the volume series (5 min).
	Interval time.Duration
	// MinExcess is how many more events than expected an interval needs
	// before an anomaly is alerted on (5): a quiet series doubling from
	// 2 to 4 is not an ops event.
	MinExcess float64
	// PValue gates the detector's anomalies on counts: the observed count
	// must be this improbable (Poisson upper tail) under the detector's
	// expectation (1e-6). Some thirty series scored every 5 minutes make
	// about 60,000 tests a week; this keeps pure chance below one false
	// alarm a week when the expectation is right.
	PValue float64
	// Incident configures incident detection.
	Incident incident.DetectorConfig
	// CauseWindow is the window before and after an incident's start in
	// which error rates are compared (30 min).
	CauseWindow time.Duration
	// LogHistory is how much per-minute error history is kept (3 h).
	LogHistory time.Duration
	// CauseScore is the root-cause score above which incidents with the
	// same top cause share one alert (50: a rise no noise gives).
	CauseScore float64
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 5 * time.Minute
	}
	if c.MinExcess <= 0 {
		c.MinExcess = 5
	}
	if c.PValue <= 0 {
		c.PValue = 1e-6
	}
	if c.CauseWindow <= 0 {
		c.CauseWindow = 30 * time.Minute
	}
	if c.LogHistory <= 0 {
		c.LogHistory = 3 * time.Hour
	}
	if c.CauseScore <= 0 {
		c.CauseScore = 50
	}
	return c
}

// Recorder keeps incidents: Record is called when one forms and, at most
// once a minute, as tickets join it.
type Recorder interface {
	Record(ctx context.Context, id string, inc *incident.Incident, causes []incident.Candidate) error
}

// Deps are the monitor's collaborators.
type Deps struct {
	// NewDetector makes the detector of a new series.
	NewDetector func(series string) (Detector, error)
	Alerts      Raiser
	// Incidents, when set, keeps the incidents.
	Incidents Recorder
	Logger    *slog.Logger
}

// Monitor is the AIOps detection pipeline. It is not safe for concurrent
// use: one goroutine feeds it.
type Monitor struct {
	cfg  Config
	d    Deps
	log  *slog.Logger
	now  time.Time
	open time.Time // start of the interval being counted

	counts    map[string]float64 // series → count in the open interval
	detectors map[string]Detector
	// lastAlert keeps anomaly alerts of one series from repeating every
	// interval of one burst; the alert manager de-duplicates too.
	lastAlert map[string]time.Time

	incidents *incident.Detector
	errs      map[string]*errorSeries
	formed    []*incident.Incident
	anomalies []Anomaly
	// recorded is when each incident (by cluster) was last recorded, and
	// its causes as found when it formed.
	recorded map[*incident.Incident]time.Time
	causes   map[*incident.Incident][]incident.Candidate
}

// Anomaly is a volume anomaly the monitor alerted on.
type Anomaly struct {
	Series   string
	At       time.Time // the interval's start
	Observed float64
	Expected float64
	Score    float64
	// Drivers are the dimension series that moved most, largest first.
	Drivers []string
}

// errorSeries is the per-minute error count of one service's log
// template, kept for root-cause ranking.
type errorSeries struct {
	service, template, text string
	start                   time.Time // minute of counts[0]
	counts                  []float64
	samples                 []string
}

// New returns a monitor.
func New(cfg Config, d Deps) (*Monitor, error) {
	if d.NewDetector == nil || d.Alerts == nil {
		return nil, fmt.Errorf("monitor: NewDetector and Alerts are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	return &Monitor{
		cfg: cfg, d: d, log: d.Logger.With("component", "aiops/monitor"),
		counts: map[string]float64{}, detectors: map[string]Detector{}, lastAlert: map[string]time.Time{},
		incidents: incident.NewDetector(cfg.Incident), errs: map[string]*errorSeries{},
		recorded: map[*incident.Incident]time.Time{}, causes: map[*incident.Incident][]incident.Candidate{},
	}, nil
}

// Ticket counts a ticket and runs incident detection on it; it returns
// the cluster the ticket joined.
func (m *Monitor) Ticket(ctx context.Context, t incident.Ticket) (int, error) {
	if err := m.Advance(ctx, t.At); err != nil {
		return 0, err
	}
	m.count("tickets", "", "")
	m.count("tickets", "category", t.Category)
	m.count("tickets", "channel", t.Channel)
	m.count("tickets", "region", t.Region)
	inc, cluster, formed := m.incidents.Add(t)
	if formed {
		m.formed = append(m.formed, inc)
		if err := m.raiseIncident(ctx, inc); err != nil {
			return cluster, err
		}
	}
	if inc != nil && m.d.Incidents != nil && (formed || t.At.Sub(m.recorded[inc]) >= time.Minute) {
		m.recorded[inc] = t.At
		id := fmt.Sprintf("inc-%s-%d", inc.Start.UTC().Format("20060102T150405"), inc.ClusterID)
		if err := m.d.Incidents.Record(ctx, id, inc, m.causes[inc]); err != nil {
			// The alert went out; a failed write of the record is logged,
			// not fatal to detection.
			m.log.WarnContext(ctx, "incident not recorded", "incident", id, "err", err)
		}
	}
	return cluster, nil
}

// Call counts an IVR call.
func (m *Monitor) Call(ctx context.Context, at time.Time, intent, region string) error {
	if err := m.Advance(ctx, at); err != nil {
		return err
	}
	m.count("calls", "", "")
	m.count("calls", "intent", intent)
	m.count("calls", "region", region)
	return nil
}

// Log counts a log line; errors (and warnings) feed the error-rate series
// per service and template.
func (m *Monitor) Log(ctx context.Context, at time.Time, service, level, templateID, template, message string) error {
	if err := m.Advance(ctx, at); err != nil {
		return err
	}
	lv := strings.ToUpper(level)
	if lv != "ERROR" && lv != "FATAL" && lv != "CRITICAL" {
		return nil
	}
	m.count("log_errors", "service", service)
	key := service + "\x00" + templateID
	s := m.errs[key]
	if s == nil {
		s = &errorSeries{service: service, template: templateID, text: template, start: at.Truncate(time.Minute)}
		m.errs[key] = s
	}
	i := int(at.Truncate(time.Minute).Sub(s.start) / time.Minute)
	if i < 0 {
		return nil // older than the series: late, not worth a rewrite
	}
	for len(s.counts) <= i {
		s.counts = append(s.counts, 0)
	}
	s.counts[i]++
	if len(s.samples) < 3 {
		s.samples = append(s.samples, message)
	}
	// Keep LogHistory of minutes.
	if keep := int(m.cfg.LogHistory / time.Minute); len(s.counts) > keep {
		drop := len(s.counts) - keep
		s.counts = s.counts[drop:]
		s.start = s.start.Add(time.Duration(drop) * time.Minute)
	}
	return nil
}

func (m *Monitor) count(metric, dim, value string) {
	if dim != "" && value == "" {
		return
	}
	key := metric
	if dim != "" {
		key += "{" + dim + "=" + value + "}"
	}
	m.counts[key]++
}

// Advance moves the monitor's clock to now, closing every counting
// interval that ended: each series is scored (zero for series with no
// events in it) and anomalies raise alerts.
func (m *Monitor) Advance(ctx context.Context, now time.Time) error {
	if m.open.IsZero() {
		m.open = now.Truncate(m.cfg.Interval)
	}
	if now.After(m.now) {
		m.now = now
	}
	for !now.Before(m.open.Add(m.cfg.Interval)) {
		if err := m.close(ctx, m.open); err != nil {
			return err
		}
		m.open = m.open.Add(m.cfg.Interval)
	}
	return nil
}

func (m *Monitor) close(ctx context.Context, start time.Time) error {
	// Every series ever seen gets a point, zero when it was quiet.
	for key := range m.detectors {
		if _, ok := m.counts[key]; !ok {
			m.counts[key] = 0
		}
	}
	type verdict struct {
		key   string
		score anomaly.Score
	}
	var verdicts []verdict
	scores := map[string]anomaly.Score{}
	for key, n := range m.counts {
		d, ok := m.detectors[key]
		if !ok {
			var err error
			if d, err = m.d.NewDetector(key); err != nil {
				return fmt.Errorf("monitor: detector for %s: %w", key, err)
			}
			m.detectors[key] = d
		}
		sc := d.Observe(start, n)
		scores[key] = sc
		verdicts = append(verdicts, verdict{key, sc})
	}
	clear(m.counts)
	sort.Slice(verdicts, func(i, j int) bool { return verdicts[i].key < verdicts[j].key })
	for _, v := range verdicts {
		sc := v.score
		// Only rises are alerted on: a drop in tickets is good news (or an
		// outage of the intake, which its own error logs show).
		// The count must be improbable under every baseline the detector
		// trusts, not only the one scoring lately.
		base := math.Max(sc.Expected, sc.Highest)
		if !sc.Anomaly || sc.Observed-base < m.cfg.MinExcess ||
			incident.PoissonTail(int(sc.Observed), math.Max(base, 0.5)) > m.cfg.PValue {
			continue
		}
		if last, ok := m.lastAlert[v.key]; ok && start.Sub(last) < time.Hour {
			continue
		}
		m.lastAlert[v.key] = start
		a := Anomaly{Series: v.key, At: start, Observed: sc.Observed, Expected: sc.Expected, Score: sc.Score, Drivers: drivers(v.key, scores)}
		m.anomalies = append(m.anomalies, a)
		if err := m.raiseAnomaly(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// drivers names the dimension series of metric that rose most above
// their expectation in the same interval.
func drivers(key string, scores map[string]anomaly.Score) []string {
	metric, _, _ := strings.Cut(key, "{")
	type ex struct {
		key    string
		excess float64
	}
	var xs []ex
	for k, sc := range scores {
		if k != key && strings.HasPrefix(k, metric+"{") && sc.Observed-sc.Expected > 0 {
			xs = append(xs, ex{k, sc.Observed - sc.Expected})
		}
	}
	sort.Slice(xs, func(i, j int) bool {
		if xs[i].excess != xs[j].excess {
			return xs[i].excess > xs[j].excess
		}
		return xs[i].key < xs[j].key
	})
	var out []string
	for _, x := range xs[:min(len(xs), 3)] {
		out = append(out, x.key)
	}
	return out
}

func severity(score float64) alert.Severity {
	if score >= 0.95 {
		return alert.SeverityCritical
	}
	return alert.SeverityWarning
}

func (m *Monitor) raiseAnomaly(ctx context.Context, a Anomaly) error {
	metric, dims := splitKey(a.Series)
	title := fmt.Sprintf("%s volume anomaly: %.0f in %v, %.0f expected", a.Series, a.Observed, m.cfg.Interval, a.Expected)
	_, err := m.d.Alerts.Raise(ctx, alert.Alert{
		Key: "anomaly:" + a.Series, Source: alert.SourceAnomaly, Severity: severity(a.Score),
		Title:   title,
		Summary: fmt.Sprintf("since %s; moved most: %s", a.At.UTC().Format(time.RFC3339), strings.Join(a.Drivers, ", ")),
		Evidence: &alert.Evidence{Metric: metric, Expected: round(a.Expected), Observed: a.Observed, Dimensions: dims,
			Candidates: driverCandidates(a.Drivers)},
	})
	return err
}

func driverCandidates(keys []string) []alert.Candidate {
	var out []alert.Candidate
	for _, k := range keys {
		_, dims := splitKey(k)
		for d, v := range dims {
			out = append(out, alert.Candidate{Dimension: d, Value: v})
		}
	}
	return out
}

// splitKey reads "tickets{category=x}" into its metric and dimensions.
func splitKey(key string) (string, map[string]string) {
	metric, rest, ok := strings.Cut(key, "{")
	if !ok {
		return metric, nil
	}
	d, v, _ := strings.Cut(strings.TrimSuffix(rest, "}"), "=")
	return metric, map[string]string{d: v}
}

func round(x float64) float64 { return math.Round(x*10) / 10 }

// Causes ranks root-cause candidates for an incident that started at start.
func (m *Monitor) Causes(start time.Time) []incident.Candidate {
	var series []incident.Series
	for _, s := range m.errs {
		series = append(series, incident.Series{Service: s.service, Template: s.template, Text: s.text,
			Start: s.start, Step: time.Minute, Counts: s.counts, Samples: s.samples})
	}
	sort.Slice(series, func(i, j int) bool {
		return series[i].Service+series[i].Template < series[j].Service+series[j].Template
	})
	return incident.RankCauses(series, start, m.cfg.CauseWindow)
}

func (m *Monitor) raiseIncident(ctx context.Context, inc *incident.Incident) error {
	causes := m.Causes(inc.Start)
	m.causes[inc] = causes
	ev := &alert.Evidence{Metric: "tickets", Observed: float64(inc.Observed), Expected: round(inc.Expected)}
	for _, c := range causes[:min(len(causes), 5)] {
		ev.Candidates = append(ev.Candidates, alert.Candidate{
			Dimension: "log_template", Value: c.Service + "/" + c.Template,
			Before: int64(c.Before), After: int64(c.After), Score: round(c.Score),
		})
	}
	summary := fmt.Sprintf("%d tickets since %s (%.1f expected); categories %v, regions %v",
		len(inc.Tickets), inc.Start.UTC().Format(time.RFC3339), inc.Expected, top(inc.Categories), top(inc.Regions))
	if len(causes) > 0 {
		c := causes[0]
		ev.Samples = c.Samples
		summary += fmt.Sprintf("; likely cause: %s errors %q rose from %.2f to %.2f a minute, %v before the first ticket",
			c.Service, c.Text, c.RateBefore, c.RateAfter, -c.Lag.Round(time.Second))
	}
	// Clusters that burst together from one cause are one incident for
	// ops (complaints in two languages, or about two symptoms, of one
	// outage): they share the alert of their top cause.
	key := fmt.Sprintf("incident:%d", inc.ClusterID)
	if len(causes) > 0 && causes[0].Score >= m.cfg.CauseScore {
		key = "incident:cause:" + causes[0].Service + "/" + causes[0].Template
	}
	_, err := m.d.Alerts.Raise(ctx, alert.Alert{
		Key: key, Source: alert.SourceIncident, Severity: alert.SeverityCritical,
		Title: "Incident: " + strings.Join(inc.Label, " "), Summary: summary, Evidence: ev,
	})
	return err
}

func top(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return keys[:min(len(keys), 3)]
}

// Anomalies returns the volume anomalies alerted on so far.
func (m *Monitor) Anomalies() []Anomaly { return slices.Clone(m.anomalies) }

// Incidents returns the incidents formed so far.
func (m *Monitor) Incidents() []*incident.Incident { return slices.Clone(m.formed) }
