package anomaly

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const step = 5 * time.Minute

// daily is a noisy daily wave: 288 points a day.
func daily(i int, rng *rand.Rand) float64 {
	return 100 + 20*math.Sin(2*math.Pi*float64(i)/288) + rng.NormFloat64()
}

func feed(t *testing.T, d *Detector, n int, f func(i int) float64) []Score {
	t.Helper()
	out := make([]Score, n)
	for i := range n {
		out[i] = d.Observe(t0.Add(time.Duration(i)*step), f(i))
	}
	return out
}

func newDet(t *testing.T) *Detector {
	t.Helper()
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// maxIn returns the highest score in [from, to).
func maxIn(s []Score, from, to int) float64 {
	m := 0.0
	for _, x := range s[from:to] {
		m = max(m, x.Score)
	}
	return m
}

func TestDetector(t *testing.T) {
	const n = 288 * 6
	const at = 288 * 4
	tests := []struct {
		name string
		f    func(i int, rng *rand.Rand) float64
		// The highest score after `at` must be at least hit (0: skip),
		// and the highest score a day after `at` below calm.
		hit, calm float64
	}{
		{"spike", func(i int, r *rand.Rand) float64 {
			if i == at {
				return daily(i, r) + 30
			}
			return daily(i, r)
		}, 0.5, 0.5},
		{"level shift adapts", func(i int, r *rand.Rand) float64 {
			if i >= at {
				return daily(i, r) + 25
			}
			return daily(i, r)
		}, 0.5, 0.5},
		{"seasonal change", func(i int, r *rand.Rand) float64 {
			if i >= at+72 && i < at+216 {
				// the afternoon peak does not come: the wave stays flat
				return 100 + 20 + r.NormFloat64()
			}
			return daily(i, r)
		}, 0.5, 0.5},
		{"no anomaly", daily, 0, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			d := newDet(t)
			s := feed(t, d, n, func(i int) float64 { return tt.f(i, rng) })
			if tt.hit > 0 {
				if got := maxIn(s, at, at+220); got < tt.hit {
					t.Errorf("max score at the anomaly = %.3f, want >= %.2f", got, tt.hit)
				}
			}
			if got := maxIn(s, at+288, n); got >= tt.calm {
				t.Errorf("max score a day later = %.3f, want < %.2f", got, tt.calm)
			}
			if tt.hit == 0 {
				if got := maxIn(s, 288*2, n); got >= d.cfg.Threshold {
					t.Errorf("clean series scored %.3f", got)
				}
			}
		})
	}
}

func TestConstantSeries(t *testing.T) {
	d := newDet(t)
	s := feed(t, d, 2000, func(int) float64 { return 42 })
	for i, x := range s {
		if x.Score != 0 || math.IsNaN(x.Score) || x.Anomaly {
			t.Fatalf("point %d: score %v on a constant series", i, x.Score)
		}
	}
	// A real change on a flat line is news.
	if x := d.Observe(t0.Add(2000*step), 50); x.Score < 0.9 {
		t.Errorf("change on a flat line scored %.3f", x.Score)
	}
}

func TestMissingAndOutOfOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := newDet(t)
	// Every third point missing, plus a six-hour hole.
	for i := range 288 * 4 {
		if i%3 == 1 || (i > 600 && i < 672) {
			continue
		}
		if s := d.Observe(t0.Add(time.Duration(i)*step), daily(i, rng)); i > 700 && s.Score >= 0.5 {
			t.Fatalf("point %d after missing data scored %.3f", i, s.Score)
		}
	}
	if d.Stats().Gaps == 0 {
		t.Error("gaps not counted")
	}
	last := d.st.Last
	for _, ts := range []time.Time{last, last.Add(-step), t0} {
		if s := d.Observe(ts, 1e9); !s.Skipped || s.Score != 0 {
			t.Errorf("late point at %v: %+v", ts, s)
		}
	}
	if s := d.Observe(last.Add(step), math.NaN()); !s.Skipped {
		t.Error("NaN not skipped")
	}
	st := d.Stats()
	if st.OutOfOrder != 3 || st.Invalid != 1 {
		t.Errorf("stats = %+v, want 3 out of order, 1 invalid", st)
	}
	if !d.st.Last.Equal(last) {
		t.Error("a dropped point moved the clock")
	}
}

// TestRestart checks that a detector restored from its saved state goes
// on exactly as the one that never stopped: no re-learning, and no second
// alert for an incident already reported.
func TestRestart(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, 288*5)
	for i := range vals {
		vals[i] = daily(i, rng)
		if i >= 288*4 && i < 288*4+5 {
			vals[i] += 40 // an incident just before the restart
		}
	}
	cut := 288*4 + 3
	ref := newDet(t)
	want := feed(t, ref, len(vals), func(i int) float64 { return vals[i] })

	a := newDet(t)
	feed(t, a, cut, func(i int) float64 { return vals[i] })
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var r Detector
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	for i := cut; i < len(vals); i++ {
		got := r.Observe(t0.Add(time.Duration(i)*step), vals[i])
		if got.Score != want[i].Score || got.Expected != want[i].Expected {
			t.Fatalf("point %d after restart: %+v, want %+v", i, got, want[i])
		}
	}
	if maxIn(want, cut, len(vals)) >= 0.5 {
		t.Error("the incident alerted again after the restart point")
	}
	if err := json.Unmarshal([]byte(`{"version":9}`), &r); err == nil {
		t.Error("unknown version accepted")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Threshold: 2}, {LevelAlpha: -1}, {ScaleWindow: 3}, {Refractory: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestMemoryBounded checks that the saved state stops growing once the
// rings and profiles are full.
func TestMemoryBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	d := newDet(t)
	size := func() int {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	i := 0
	run := func(n int) {
		for range n {
			d.Observe(t0.Add(time.Duration(i)*step), daily(i, rng))
			i++
		}
	}
	run(288 * 14)
	a := size()
	run(288 * 28)
	if b := size(); float64(b) > 1.05*float64(a) {
		t.Errorf("state grew from %d to %d bytes", a, b)
	}
}

// TestHolidays: a series busy on weekdays and quiet at weekends has a
// Wednesday that looks like a Sunday. Unconfigured, that is an anomaly;
// configured as a holiday, it is not, the days after it are judged as
// usual, and a real spike on the holiday is still caught.
func TestHolidays(t *testing.T) {
	// t0 is Monday 2024-01-01; five weeks of 5-minute points.
	const perDay = 288
	const n = perDay * 35
	holiday := 3*7*perDay + 2*perDay // Wednesday of the fourth week
	load := func(day int, i int, rng *rand.Rand) float64 {
		base := 100.0
		if wd := day % 7; wd == 5 || wd == 6 { // Saturday, Sunday
			base = 25
		}
		return base + 0.2*base*math.Sin(2*math.Pi*float64(i%perDay)/perDay) + rng.NormFloat64()*2
	}
	series := func(spike bool) func(i int) float64 {
		rng := rand.New(rand.NewPCG(5, 6))
		return func(i int) float64 {
			day := i / perDay
			if day == holiday/perDay {
				day = 6 // like a Sunday
			}
			v := load(day, i, rng)
			if spike && i == holiday+perDay/2 {
				v += 60
			}
			return v
		}
	}
	date := t0.Add(time.Duration(holiday) * step).Format(time.DateOnly)
	tests := []struct {
		name     string
		cfg      Config
		spike    bool
		wantHigh bool // an anomaly on the holiday
	}{
		{"not configured", Config{}, false, true},
		{"configured", Config{Holidays: []string{date}}, false, false},
		{"configured, with a spike", Config{Holidays: []string{date}, HolidayZone: "UTC", HolidayAs: "sunday"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := feed(t, d, n, series(tt.spike))
			if got := maxIn(s, holiday, holiday+perDay) >= 0.5; got != tt.wantHigh {
				t.Errorf("anomaly on the holiday: %v, want %v (max score %.2f)", got, tt.wantHigh, maxIn(s, holiday, holiday+perDay))
			}
			if !tt.wantHigh || tt.spike {
				if m := maxIn(s, holiday+perDay, holiday+3*perDay); m >= 0.5 {
					t.Errorf("score %.2f in the two days after the holiday", m)
				}
			}
		})
	}
	for _, bad := range []Config{{Holidays: []string{"24/12/2026"}}, {HolidayZone: "Mars/Olympus"}, {HolidayAs: "Caturday"}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// TestRestoreTakesCurrentHolidays: a restored detector judges by the
// holidays configured now, not those it was saved with; restored into a
// bare Detector it keeps the saved ones.
func TestRestoreTakesCurrentHolidays(t *testing.T) {
	old, err := New(Config{Holidays: []string{"2026-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		into *Detector
		want []string
	}{
		{mustNew(t, Config{Holidays: []string{"2026-12-25"}}), []string{"2026-12-25"}},
		{mustNew(t, Config{Holidays: []string{}}), []string{}},
		{&Detector{}, []string{"2026-01-01"}},
	} {
		if err := json.Unmarshal(b, tt.into); err != nil {
			t.Fatal(err)
		}
		if got := tt.into.cfg.Holidays; len(got) != len(tt.want) || len(got) > 0 && got[0] != tt.want[0] {
			t.Errorf("holidays after restore %v, want %v", got, tt.want)
		}
		_, isHoliday := tt.into.cal.shift(time.Date(2026, 12, 25, 12, 0, 0, 0, time.UTC))
		if want := len(tt.want) > 0 && tt.want[0] == "2026-12-25"; isHoliday != want {
			t.Errorf("Christmas a holiday: %v, want %v", isHoliday, want)
		}
	}
}

func mustNew(t *testing.T, cfg Config) *Detector {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHighest: Highest is the top of the eligible models' predictions, so
// never below Expected, and above it where the models disagree (the level
// model lags the daily rise the daily model expects).
func TestHighest(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	d := newDet(t)
	s := feed(t, d, 288*5, func(i int) float64 { return daily(i, rng) })
	above := 0
	for _, x := range s[288*3:] {
		if x.Model == "" {
			continue
		}
		if x.Highest < x.Expected {
			t.Fatalf("%v: highest %.2f below expected %.2f", x.Time, x.Highest, x.Expected)
		}
		if x.Highest > x.Expected+1 {
			above++
		}
	}
	if above == 0 {
		t.Error("Highest never differs from Expected: the other models are not consulted")
	}
}
