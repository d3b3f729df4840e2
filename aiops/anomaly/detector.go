// Package anomaly provides a causal streaming anomaly detector for one
// numeric time series: each point is scored on arrival, against a baseline
// learned only from the points before it.
//
// The detector runs three Holt-Winters-style models side by side — a level
// alone, a level with a daily profile and a level with a weekly profile —
// and scores each point with the model that has been predicting best
// lately, so a series without cycles is not forced into one and a weekly
// one (weekends) is not judged by its daily shape. Residuals are scaled by a
// robust spread (the median absolute deviation of recent residuals), so a
// few outliers do not inflate the scale that is meant to expose them.
//
// The score is about novelty: each deviation feature (the point, a
// sustained shift, a rise in noise) is compared with the largest the
// series has shown lately, so a bursty series may keep its usual bursts
// and one threshold fits very different series. After a high score,
// lower ones are damped for a refractory period (one incident, one alert),
// and a run of same-sided deviations moves the level (a change point) so
// the detector adapts instead of alerting for ever. All
// state is plain data, so a Detector can be saved and resumed (MarshalJSON,
// UnmarshalJSON) without re-learning or re-alerting.
//
// A Detector is not safe for concurrent use; callers serialise Observe.
package anomaly

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Config tunes a Detector. The zero value of a field means its default;
// the defaults are the one configuration tuned on NAB (see aiops/nab).
type Config struct {
	// Threshold is the score at or above which Score.Anomaly is set.
	Threshold float64 `json:"threshold,omitempty"`
	// Interval is the sampling interval. 0: inferred from the first points
	// (the median of their spacing).
	Interval time.Duration `json:"interval,omitempty"`
	// LevelAlpha is the smoothing of the level: about 1/LevelAlpha points
	// of memory.
	LevelAlpha float64 `json:"level_alpha,omitempty"`
	// SeasonAlpha is the smoothing of each seasonal slot, updated once per
	// cycle, so it is larger than LevelAlpha.
	SeasonAlpha float64 `json:"season_alpha,omitempty"`
	// ScaleWindow is how many recent residuals the robust scale is taken
	// over. It bounds memory with the seasonal profiles.
	ScaleWindow int `json:"scale_window,omitempty"`
	// ClipZ bounds, in robust standard deviations, how far one point can
	// pull the baseline: an outlier must not teach the model that it is
	// normal.
	ClipZ float64 `json:"clip_z,omitempty"`
	// ChangeZ and ChangeRun detect a level shift: ChangeRun consecutive
	// residuals beyond ChangeZ on the same side move the level to the new
	// one at once, so the detector alerts on the shift and then adapts
	// instead of alerting for as long as the clipped updates take.
	ChangeZ   float64 `json:"change_z,omitempty"`
	ChangeRun int     `json:"change_run,omitempty"`
	// DriftAlpha smooths the normalised residual for the second score
	// feature, a sustained small deviation that no single point shows.
	DriftAlpha float64 `json:"drift_alpha,omitempty"`
	// SelectAlpha smooths each model's absolute error, by which the
	// scoring model is chosen. It must span a cycle or more: over a few
	// hours a flat night favours the level model, which then misses the
	// morning's missing rise.
	SelectAlpha float64 `json:"select_alpha,omitempty"`
	// Knee is the smallest deviation record, in robust standard
	// deviations: below it nothing is novel, however quiet the past.
	Knee float64 `json:"knee,omitempty"`
	// Sharpness is how fast the score rises with the ratio of a
	// deviation to the largest recent one (0.5 at a tie).
	Sharpness float64 `json:"sharpness,omitempty"`
	// Memory is how long a deviation record takes to fade by e.
	Memory time.Duration `json:"memory,omitempty"`
	// Refractory is how long after a high score lower scores are damped:
	// one incident should raise one alert, not one per point.
	Refractory time.Duration `json:"refractory,omitempty"`
	// Warmup is the number of points observed before any is scored.
	Warmup int `json:"warmup,omitempty"`
	// GapReset is the gap after which the level restarts from the next
	// point instead of treating the jump across the gap as news.
	GapReset time.Duration `json:"gap_reset,omitempty"`
	// Holidays are dates (YYYY-MM-DD, in HolidayZone) that are judged
	// and learned as the weekday HolidayAs: a contact center is quiet on
	// New Year's Day as on a Sunday, and that is no anomaly. Only the
	// weekly model knows weekdays, so on a holiday it scores the point
	// and the other models neither score nor learn from it.
	Holidays []string `json:"holidays,omitempty"`
	// HolidayZone is the IANA time zone the holiday dates are in (UTC).
	HolidayZone string `json:"holiday_zone,omitempty"`
	// HolidayAs is the weekday a holiday is like ("Sunday").
	HolidayAs string `json:"holiday_as,omitempty"`
}

// calendar is the compiled holiday configuration.
type calendar struct {
	days map[string]bool
	loc  *time.Location
	as   time.Weekday
}

func (c Config) calendar() (calendar, error) {
	cal := calendar{days: map[string]bool{}, loc: time.UTC, as: time.Sunday}
	if c.HolidayZone != "" {
		loc, err := time.LoadLocation(c.HolidayZone)
		if err != nil {
			return cal, fmt.Errorf("anomaly: holiday zone: %w", err)
		}
		cal.loc = loc
	}
	if c.HolidayAs != "" {
		found := false
		for w := time.Sunday; w <= time.Saturday; w++ {
			if strings.EqualFold(w.String(), c.HolidayAs) {
				cal.as, found = w, true
			}
		}
		if !found {
			return cal, fmt.Errorf("anomaly: holiday_as %q is not a weekday name", c.HolidayAs)
		}
	}
	for _, h := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return cal, fmt.Errorf("anomaly: holiday %q: want YYYY-MM-DD", h)
		}
		cal.days[h] = true
	}
	return cal, nil
}

// shift is how far to move t so that its weekly slot is that of the same
// time on the HolidayAs weekday, and whether t falls on a holiday.
func (cal calendar) shift(t time.Time) (time.Duration, bool) {
	if len(cal.days) == 0 {
		return 0, false
	}
	local := t.In(cal.loc)
	if !cal.days[local.Format(time.DateOnly)] {
		return 0, false
	}
	return time.Duration((int(cal.as)-int(local.Weekday())+7)%7) * 24 * time.Hour, true
}

// DefaultConfig returns the tuned defaults.
func DefaultConfig() Config {
	return Config{
		Threshold:   0.5,
		LevelAlpha:  0.05,
		SeasonAlpha: 0.25,
		ScaleWindow: 1000,
		ClipZ:       4,
		ChangeZ:     3,
		ChangeRun:   30,
		DriftAlpha:  0.2,
		Knee:        4,
		SelectAlpha: 0.003,
		Sharpness:   4,
		Memory:      90 * 24 * time.Hour,
		Refractory:  24 * time.Hour,
		Warmup:      24,
		GapReset:    6 * time.Hour,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.Threshold, d.Threshold)
	set(&c.LevelAlpha, d.LevelAlpha)
	set(&c.SeasonAlpha, d.SeasonAlpha)
	set(&c.ClipZ, d.ClipZ)
	set(&c.ChangeZ, d.ChangeZ)
	set(&c.DriftAlpha, d.DriftAlpha)
	set(&c.Knee, d.Knee)
	set(&c.SelectAlpha, d.SelectAlpha)
	set(&c.Sharpness, d.Sharpness)
	if c.Memory == 0 {
		c.Memory = d.Memory
	}
	if c.ScaleWindow == 0 {
		c.ScaleWindow = d.ScaleWindow
	}
	if c.ChangeRun == 0 {
		c.ChangeRun = d.ChangeRun
	}
	if c.Refractory == 0 {
		c.Refractory = d.Refractory
	}
	if c.Warmup == 0 {
		c.Warmup = d.Warmup
	}
	if c.GapReset == 0 {
		c.GapReset = d.GapReset
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Threshold < 0 || c.Threshold > 1:
		return fmt.Errorf("anomaly: threshold %v outside [0,1]", c.Threshold)
	case c.LevelAlpha <= 0 || c.LevelAlpha > 1, c.SeasonAlpha <= 0 || c.SeasonAlpha > 1, c.DriftAlpha <= 0 || c.DriftAlpha > 1:
		return errors.New("anomaly: smoothing factors must be in (0,1]")
	case c.ScaleWindow < 8:
		return errors.New("anomaly: scale window must hold at least 8 residuals")
	case c.Interval < 0, c.Refractory < 0, c.GapReset < 0, c.Warmup < 0, c.ChangeRun < 0:
		return errors.New("anomaly: negative duration or count")
	}
	_, err := c.calendar()
	return err
}

// Score is the verdict on one point.
type Score struct {
	Time     time.Time `json:"time"`
	Observed float64   `json:"observed"`
	// Expected is the baseline's prediction for this point, made before
	// seeing it.
	Expected float64 `json:"expected"`
	// Score is the anomaly score in [0,1]; 0 during warm-up and for
	// skipped points.
	Score float64 `json:"score"`
	// Anomaly is Score >= Config.Threshold.
	Anomaly bool `json:"anomaly"`
	// Skipped is set for a point that was not used: out of order
	// (duplicate or earlier than the last one) or not a finite number.
	Skipped bool `json:"skipped,omitempty"`
	// Model names the baseline used: "level", "daily" or "weekly".
	Model string `json:"model,omitempty"`
	// Highest is the highest prediction among the models able to make
	// one (Expected among them). A caller that tests a count against its
	// expectation can take it, so that a model lagging a steep rise (the
	// level alone, in the morning) does not make an ordinary rise
	// improbable.
	Highest float64 `json:"highest,omitempty"`
}

// Stats counts what the detector has seen.
type Stats struct {
	Observed   int64 `json:"observed"`
	OutOfOrder int64 `json:"out_of_order"`
	Invalid    int64 `json:"invalid"`
	Gaps       int64 `json:"gaps"` // spacing over 1.5 intervals: missing points
	Anomalies  int64 `json:"anomalies"`
}

// Detector scores one series. Create it with New.
type Detector struct {
	cfg Config
	cal calendar
	st  state
}

// state is everything learned; it is what MarshalJSON saves.
type state struct {
	Stats    Stats     `json:"stats"`
	Interval int64     `json:"interval_ns"`
	Deltas   []int64   `json:"deltas,omitempty"` // spacing seen while inferring the interval
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Models   []*model  `json:"models"`
	Active   string    `json:"active"` // the model scoring lately
	// Suppression: the highest raw score in the refractory period and
	// when it came.
	Peak   float64   `json:"peak"`
	PeakAt time.Time `json:"peak_at"`
}

// model is one baseline: a level plus, for seasonal models, one offset per
// slot of the cycle.
type model struct {
	Name     string    `json:"name"`
	Slots    int       `json:"slots"` // 0 for the level-only model
	Bucket   int64     `json:"bucket_ns"`
	Level    float64   `json:"level"`
	HasLevel bool      `json:"has_level"`
	Season   []float64 `json:"season,omitempty"`
	Count    []uint16  `json:"count,omitempty"` // observations per slot, saturating
	// Resid is a ring of recent residuals for the robust scale.
	Resid  []float64 `json:"resid"`
	Pos    int       `json:"pos"`
	Scale  float64   `json:"scale"`
	Stale  int       `json:"stale"` // residuals since Scale was computed
	Err    float64   `json:"err"`   // smoothed absolute residual: picks the model
	ErrN   int       `json:"err_n"`
	Drift  float64   `json:"drift"` // smoothed normalised residual
	Vol    float64   `json:"vol"`   // smoothed absolute normalised residual
	Run    int       `json:"run"`   // consecutive large residuals on one side
	RunSum float64   `json:"run_sum"`
	// Deviation records for novelty scoring.
	Max   [nFeatures]float64 `json:"max"`
	MaxAt time.Time          `json:"max_at"`
}

// New returns a detector with no history.
func New(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cal, _ := cfg.calendar() // checked by Validate
	d := &Detector{cfg: cfg, cal: cal}
	d.st.Models = []*model{{Name: "level"}}
	if cfg.Interval > 0 {
		d.setInterval(int64(cfg.Interval))
	}
	return d, nil
}

// Stats returns the counters.
func (d *Detector) Stats() Stats { return d.st.Stats }

const day = int64(24 * time.Hour)

// setInterval creates the seasonal models once the sampling interval is
// known. Slots are at least a minute wide so that a fast series does not
// make the weekly profile large: at most 10,080 slots.
func (d *Detector) setInterval(iv int64) {
	d.st.Interval = iv
	d.st.Deltas = nil
	bucket := max(iv, int64(time.Minute))
	if day%bucket != 0 && bucket < day {
		// An interval that does not divide a day: use the nearest
		// divisor-friendly bucket, a whole number of minutes.
		bucket = (bucket + int64(time.Minute) - 1) / int64(time.Minute) * int64(time.Minute)
	}
	slots := int(day / bucket)
	if slots < 4 {
		return // coarser than 6 hours: no daily shape to learn
	}
	for _, s := range []struct {
		name string
		n    int
	}{{"daily", slots}, {"weekly", 7 * slots}} {
		d.st.Models = append(d.st.Models, &model{
			Name: s.name, Slots: s.n, Bucket: bucket,
			Season: make([]float64, s.n), Count: make([]uint16, s.n),
		})
	}
}

// Observe scores the point and then learns from it.
func (d *Detector) Observe(t time.Time, v float64) Score {
	st := &d.st
	sc := Score{Time: t, Observed: v, Expected: v}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		st.Stats.Invalid++
		sc.Skipped = true
		return sc
	}
	if st.Stats.Observed > 0 && !t.After(st.Last) {
		// Late points are dropped: the baseline only moves forward, and
		// a point for a moment already judged cannot change that verdict.
		st.Stats.OutOfOrder++
		sc.Skipped = true
		return sc
	}
	gap := false
	if st.Stats.Observed > 0 {
		dt := int64(t.Sub(st.Last))
		if st.Interval == 0 {
			st.Deltas = append(st.Deltas, dt)
			if len(st.Deltas) >= 8 {
				s := slices.Clone(st.Deltas)
				slices.Sort(s)
				d.setInterval(s[len(s)/2])
			}
		} else if dt*2 > st.Interval*3 {
			st.Stats.Gaps++
		}
		gap = dt >= int64(d.cfg.GapReset)
	} else {
		st.First = t
	}

	// On a holiday the weekly model reads the HolidayAs weekday's slots
	// (at) and alone scores and learns.
	shift, holiday := d.cal.shift(t)
	at := func(m *model) time.Time {
		if m.Name == "weekly" {
			return t.Add(shift)
		}
		return t
	}
	var weekly *model
	for _, m := range st.Models {
		if m.Name == "weekly" {
			weekly = m
		}
	}

	// Score with the model that has predicted best lately. A seasonal
	// model needs two cycles of data and a learned slot to compete.
	span := t.Sub(st.First)
	// Hysteresis: another model must beat the current one clearly, so
	// the choice does not flap between night (where the level alone
	// predicts well) and day.
	var best *model
	for _, m := range st.Models {
		if m.Name == st.Active && m.eligible(t, span) {
			best = m
		}
	}
	for _, m := range st.Models {
		if !m.eligible(t, span) || m == best {
			continue
		}
		if best == nil || m.Err < best.Err*0.8 {
			best = m
		}
	}
	st.Active = best.Name
	if holiday {
		// Not made Active: one holiday must not sway the choice.
		best = nil
		if weekly != nil && weekly.eligible(at(weekly), span) {
			best = weekly
		}
	}
	exp := v
	if best != nil {
		exp = best.expect(at(best))
		sc.Highest = exp
		for _, m := range st.Models {
			if (!holiday || m == weekly) && m.eligible(at(m), span) {
				sc.Highest = max(sc.Highest, m.expect(at(m)))
			}
		}
	}
	// Every model keeps its own deviation records, so switching models
	// neither inherits nor forgets the wrong ones.
	raw := 0.0
	for _, m := range st.Models {
		if holiday && m != weekly {
			continue
		}
		if !m.HasLevel || m.ErrN < d.cfg.Warmup || (m.Slots > 0 && m.Count[m.slot(at(m))] == 0) {
			// Before a model has a level, a few residuals and a learned
			// slot its errors measure the start-up, not the series:
			// they set no records.
			continue
		}
		ratio := m.novelty(t, m.features(at(m), v, d.cfg), d.cfg)
		if m == best && st.Stats.Observed >= int64(d.cfg.Warmup) {
			q := math.Pow(ratio, d.cfg.Sharpness)
			raw = q / (1 + q)
		}
	}
	sc.Expected = exp
	if best != nil {
		sc.Model = best.Name
	}
	sc.Score = d.suppress(t, raw)
	sc.Anomaly = sc.Score >= d.cfg.Threshold
	if sc.Anomaly {
		st.Stats.Anomalies++
	}

	for _, m := range st.Models {
		if !holiday || m == weekly {
			m.learn(at(m), v, gap, d.cfg)
		}
	}
	st.Stats.Observed++
	st.Last = t
	return sc
}

// novelty scores deviations against the largest ones this series has
// produced lately rather than against a fixed cut-off. What makes a point
// worth waking someone up is that the series has not done this before: a
// bursty series is allowed its usual bursts, a quiet one is not, and a
// single threshold then works across very different series. The records
// decay (Config.Memory) so that an old incident does not mask a new one
// for ever.
// features are the deviations of v, in robust standard deviations, that
// the model would see: the point itself, the smoothed signed residual (a
// sustained shift no single point shows) and the smoothed absolute
// residual (the series got noisier).
func (m *model) features(t time.Time, v float64, cfg Config) [nFeatures]float64 {
	r := v - m.expect(t)
	s := m.scale()
	z := math.Abs(r) / s
	if r == 0 {
		z = 0
	}
	a := cfg.DriftAlpha
	drift := (1-a)*m.Drift + a*clamp(r/s, -cfg.ClipZ*2, cfg.ClipZ*2)
	vol := (1-a)*m.Vol + a*math.Min(z, cfg.ClipZ*2)
	// The drift is scaled to unit variance for white noise; the
	// volatility is divided by its white-noise mean, √(2/π).
	return [nFeatures]float64{z, math.Abs(drift) / math.Sqrt(a/(2-a)), vol / 0.7979}
}

const nFeatures = 3

func (m *model) novelty(t time.Time, f [nFeatures]float64, cfg Config) float64 {
	if !m.MaxAt.IsZero() {
		k := math.Exp(-float64(t.Sub(m.MaxAt)) / float64(cfg.Memory))
		for i := range m.Max {
			m.Max[i] *= k
		}
	}
	m.MaxAt = t
	ratio := 0.0
	for i, x := range f {
		ratio = max(ratio, x/max(m.Max[i], cfg.Knee))
		m.Max[i] = max(m.Max[i], x)
	}
	return ratio
}

// suppress damps scores that follow a higher one within the refractory
// period. NAB, like an on-call engineer, rewards the first alert of an
// incident and charges for every later one outside its window.
func (d *Detector) suppress(t time.Time, raw float64) float64 {
	st := &d.st
	if t.Sub(st.PeakAt) > d.cfg.Refractory {
		st.Peak = 0
	}
	if raw > st.Peak {
		st.Peak, st.PeakAt = raw, t
		return raw
	}
	return raw * 0.1
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func (m *model) slot(t time.Time) int {
	return int(((t.UnixNano()/m.Bucket)%int64(m.Slots) + int64(m.Slots)) % int64(m.Slots))
}

func (m *model) eligible(t time.Time, span time.Duration) bool {
	if m.Slots == 0 {
		return true
	}
	cycle := time.Duration(int64(m.Slots) * m.Bucket)
	return span >= 2*cycle && m.Count[m.slot(t)] >= 2 && m.ErrN > 0
}

func (m *model) expect(t time.Time) float64 {
	if m.Slots == 0 || m.Count[m.slot(t)] == 0 {
		return m.Level
	}
	return m.Level + m.Season[m.slot(t)]
}

// scale is the robust standard deviation of recent residuals (1.4826 ×
// MAD), recomputed every few points. Its floor keeps a constant series
// from dividing by zero while any real change on it still scores high.
func (m *model) scale() float64 {
	if m.Stale >= 8 || m.Scale == 0 {
		// A mostly flat series with occasional bursts (request counts,
		// key presses) has a MAD of zero: every burst would then be
		// infinitely surprising. The mean absolute residual, which the
		// bursts do move, is the floor.
		m.Scale = max(1.4826*mad(m.Resid), meanAbs(m.Resid))
		m.Stale = 0
	}
	return max(m.Scale, 1e-9*math.Max(1, math.Abs(m.Level)))
}

func (m *model) learn(t time.Time, v float64, gap bool, cfg Config) {
	if !m.HasLevel || gap {
		// Across a long gap the old level is stale: restart it rather
		// than score the whole next stretch against it.
		m.Level, m.HasLevel = v, true
		if m.Slots > 0 && m.Count[m.slot(t)] > 0 {
			m.Level = v - m.Season[m.slot(t)]
		}
		m.Drift, m.Run, m.RunSum = 0, 0, 0
		return
	}
	exp := m.expect(t)
	r := v - exp
	s := m.scale()
	// Residual statistics first, so the scale reflects honest
	// one-step-ahead errors.
	if len(m.Resid) < cfg.ScaleWindow {
		m.Resid = append(m.Resid, r)
	} else {
		m.Resid[m.Pos] = r
		m.Pos = (m.Pos + 1) % cfg.ScaleWindow
	}
	m.Stale++
	// Clipped, so that an incident does not disqualify the model that
	// exposed it.
	m.Err = ewma(m.Err, math.Min(math.Abs(r), cfg.ClipZ*s), cfg.SelectAlpha, m.ErrN)
	m.ErrN++
	m.Drift = (1-cfg.DriftAlpha)*m.Drift + cfg.DriftAlpha*clamp(r/s, -cfg.ClipZ*2, cfg.ClipZ*2)
	m.Vol = (1-cfg.DriftAlpha)*m.Vol + cfg.DriftAlpha*math.Min(math.Abs(r)/s, cfg.ClipZ*2)

	rc := clamp(r, -cfg.ClipZ*s, cfg.ClipZ*s)
	seen := m.Slots == 0 || m.Count[m.slot(t)] > 0
	if seen {
		// On a slot never seen the "residual" is the cycle itself, not
		// a change of level: the first cycle is stored against a fixed
		// level, so the second cycle is predicted by the first.
		m.Level += cfg.LevelAlpha * rc
	}
	if m.Slots > 0 {
		k := m.slot(t)
		// The first few cycles average plainly and unclipped: the
		// initial offset was taken against a level still chasing the
		// cycle, and clipping by a scale learned meanwhile would freeze
		// that error in.
		n := m.Count[k]
		e := v - m.Level - m.Season[k]
		if n >= 3 {
			e = clamp(e, -cfg.ClipZ*s, cfg.ClipZ*s)
		}
		m.Season[k] += max(cfg.SeasonAlpha, 1/float64(n+1)) * e
		if n < math.MaxUint16 {
			m.Count[k]++
		}
	}

	// Change point: a run of large residuals on one side is a new level,
	// not a string of anomalies. Not in the weekly model's first week:
	// there the residual of a slot seen for the first time is the cycle
	// (a weekend), and taking it for a new level would drag the level to
	// the weekend's and the weekend's offsets to nothing. (The daily
	// model keeps its first-day change points: they are its quick start
	// on series whose day has no shape, and NAB scores drop without them:
	// 71.1 → 68.7.)
	firstWeek := m.Name == "weekly" && !seen
	if !firstWeek && math.Abs(r) > cfg.ChangeZ*s && (m.Run == 0 || (r > 0) == (m.RunSum > 0)) {
		m.Run++
		m.RunSum += r
	} else {
		m.Run, m.RunSum = 0, 0
	}
	if m.Run >= cfg.ChangeRun {
		m.Level += m.RunSum / float64(m.Run)
		m.Run, m.RunSum, m.Drift = 0, 0, 0
	}
}

func ewma(prev, x, a float64, n int) float64 {
	if n == 0 {
		return x
	}
	return prev + a*(x-prev)
}

func meanAbs(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range xs {
		t += math.Abs(x)
	}
	return t / float64(len(xs))
}

func mad(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	med := median(s)
	for i, x := range s {
		s[i] = math.Abs(x - med)
	}
	return median(s)
}

func median(s []float64) float64 {
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// snapshot is the serialised form: the configuration travels with the
// state so a resumed detector judges by the same rules.
type snapshot struct {
	Version int    `json:"version"`
	Config  Config `json:"config"`
	State   state  `json:"state"`
}

// MarshalJSON saves the configuration and everything learned.
func (d *Detector) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshot{Version: 1, Config: d.cfg, State: d.st})
}

// UnmarshalJSON restores a detector saved by MarshalJSON; it then
// continues exactly where the saved one stopped, including suppression of
// an alert it had already raised.
func (d *Detector) UnmarshalJSON(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("anomaly: restore: %w", err)
	}
	if s.Version != 1 {
		return fmt.Errorf("anomaly: restore: unknown state version %d", s.Version)
	}
	if err := s.Config.Validate(); err != nil {
		return err
	}
	if len(s.State.Models) == 0 {
		return errors.New("anomaly: restore: state has no models")
	}
	for _, m := range s.State.Models {
		if m.Slots > 0 && (len(m.Season) != m.Slots || len(m.Count) != m.Slots || m.Bucket <= 0) {
			return fmt.Errorf("anomaly: restore: model %s is inconsistent", m.Name)
		}
	}
	// The holiday calendar is the deployment's current one when the
	// receiver has one (holidays are added as the years go by), else the
	// saved one.
	if d.cfg.Holidays != nil {
		s.Config.Holidays, s.Config.HolidayZone, s.Config.HolidayAs = d.cfg.Holidays, d.cfg.HolidayZone, d.cfg.HolidayAs
	}
	cal, err := s.Config.calendar()
	if err != nil {
		return err
	}
	d.cfg, d.cal, d.st = s.Config.withDefaults(), cal, s.State
	return nil
}
