package staffing

import (
	"fmt"
	"math"
	"time"
)

// Series is a regular time series: Values[i] is the count for the interval
// starting at Start + i·Step.
type Series struct {
	Start  time.Time     `json:"start"`
	Step   time.Duration `json:"step"`
	Values []float64     `json:"values"`
}

// At returns the start of interval i.
func (s Series) At(i int) time.Time { return s.Start.Add(time.Duration(i) * s.Step) }

// End returns the end of the last interval.
func (s Series) End() time.Time { return s.At(len(s.Values)) }

// ForecastConfig tunes Forecast. The zero value uses the defaults.
type ForecastConfig struct {
	// Seasons is how many past seasons (weeks, or days when the history is
	// shorter than two weeks) the profile averages; default 4.
	Seasons int
	// Decay weighs each older season by this factor relative to the one
	// after it, so recent weeks count more; default 0.7, 1 is a plain mean.
	Decay float64
	// LevelWindow is how many recent intervals estimate the level: the
	// ratio of their actual volume to what the profile predicted for them.
	// Default one day. It lets a forecast follow growth or decline that the
	// seasonal profile lags behind.
	LevelWindow int
	// MaxLevel clamps the level ratio to [1/MaxLevel, MaxLevel] so one odd
	// day (an outage, a holiday) cannot double or halve the next week;
	// default 1.5.
	MaxLevel float64
}

func (c ForecastConfig) withDefaults(day int) ForecastConfig {
	if c.Seasons <= 0 {
		c.Seasons = 4
	}
	if c.Decay <= 0 || c.Decay > 1 {
		c.Decay = 0.7
	}
	if c.LevelWindow <= 0 {
		c.LevelWindow = day
	}
	if c.MaxLevel < 1 {
		c.MaxLevel = 1.5
	}
	return c
}

// Forecast predicts the next horizon intervals after hist: a seasonal
// profile (the same interval of the week in past weeks, weighted towards
// the recent ones; the same interval of the day when there is less than two
// weeks of history) times a level ratio measured over the last day. This is
// the seasonal part of Holt-Winters with a one-shot level instead of
// smoothed level and trend: it needs no fitting, is stable on short or
// gappy histories, and is what contact-centre planners check by eye.
// Missing values (NaN) are skipped. The step must divide a day.
func Forecast(hist Series, horizon int, cfg ForecastConfig) (Series, error) {
	if hist.Step <= 0 || (24*time.Hour)%hist.Step != 0 {
		return Series{}, fmt.Errorf("staffing: forecast: %w: step %v must divide a day", ErrInvalid, hist.Step)
	}
	if horizon < 0 {
		return Series{}, fmt.Errorf("staffing: forecast: %w: negative horizon", ErrInvalid)
	}
	day := int(24 * time.Hour / hist.Step)
	cfg = cfg.withDefaults(day)
	n := len(hist.Values)
	out := Series{Start: hist.End(), Step: hist.Step, Values: make([]float64, horizon)}
	if n == 0 {
		return out, nil
	}
	season := 0
	switch {
	case n >= 2*7*day:
		season = 7 * day
	case n >= 2*day:
		season = day
	}
	if season == 0 {
		// Too short for any seasonality: the mean of what there is.
		m := mean(hist.Values)
		for i := range out.Values {
			out.Values[i] = m
		}
		return out, nil
	}
	// profile(j) predicts interval j (j ≥ 0, possibly beyond the history)
	// from the seasons before it that the history holds and that precede
	// limit (so the level window is judged only on data it did not see).
	profile := func(j, limit int) (float64, bool) {
		var sum, wsum float64
		w := 1.0
		used := 0
		for k := j - season; k >= 0 && used < cfg.Seasons; k -= season {
			if k >= limit {
				continue
			}
			if v := hist.Values[k]; !math.IsNaN(v) {
				sum += w * v
				wsum += w
				used++
			}
			w *= cfg.Decay
		}
		if wsum == 0 {
			return 0, false
		}
		return sum / wsum, true
	}
	level := 1.0
	if win := cfg.LevelWindow; n >= season+win {
		var actual, predicted float64
		for j := n - win; j < n; j++ {
			p, ok := profile(j, n-win)
			if !ok || math.IsNaN(hist.Values[j]) {
				continue
			}
			actual += hist.Values[j]
			predicted += p
		}
		if predicted > 0 && actual > 0 {
			level = math.Min(cfg.MaxLevel, math.Max(1/cfg.MaxLevel, actual/predicted))
		}
	}
	for h := range out.Values {
		p, _ := profile(n+h, n)
		out.Values[h] = math.Max(0, p*level)
	}
	return out, nil
}

func mean(v []float64) float64 {
	var s float64
	k := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			k++
		}
	}
	if k == 0 {
		return 0
	}
	return s / float64(k)
}
