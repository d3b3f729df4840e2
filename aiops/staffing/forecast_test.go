package staffing_test

import (
	"math"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/staffing"
)

var monday = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// pattern is an hourly volume with a daily shape and quiet weekends.
func pattern(i int) float64 {
	hour, day := i%24, (i/24)%7
	v := 10 + 90*math.Max(0, math.Sin(math.Pi*float64(hour-6)/14))
	if day >= 5 {
		v /= 3
	}
	return math.Round(v)
}

func history(hours int, f func(i int) float64) staffing.Series {
	s := staffing.Series{Start: monday, Step: time.Hour, Values: make([]float64, hours)}
	for i := range s.Values {
		s.Values[i] = f(i)
	}
	return s
}

func TestForecast(t *testing.T) {
	const week = 7 * 24
	tests := []struct {
		name    string
		hist    staffing.Series
		horizon int
		want    func(i int) float64 // i counts from the history's start
	}{
		{"weekly pattern repeats", history(3*week, pattern), 2 * 24, pattern},
		{"a week beyond the history", history(3*week, pattern), week + 24, pattern},
		{"level follows the last day up", history(3*week, func(i int) float64 {
			if i >= 3*week-24 {
				return 1.2 * pattern(i)
			}
			return pattern(i)
		}), 24, func(i int) float64 { return 1.2 * pattern(i) }},
		{"level is clamped", history(3*week, func(i int) float64 {
			if i >= 3*week-24 {
				return 5 * pattern(i)
			}
			return pattern(i)
		}), 24, func(i int) float64 { return 1.5 * pattern(i) }},
		{"gaps are skipped", history(3*week, func(i int) float64 {
			if i%week == 10 && i < week {
				return math.NaN()
			}
			return pattern(i)
		}), 24, pattern},
		{"daily season on a short history", history(3*24, func(i int) float64 { return pattern(i % 24) }), 24,
			func(i int) float64 { return pattern(i % 24) }},
		{"flat mean below two days", history(10, func(i int) float64 { return float64(i) }), 3,
			func(int) float64 { return 4.5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := staffing.Forecast(tt.hist, tt.horizon, staffing.ForecastConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Start.Equal(tt.hist.End()) || got.Step != tt.hist.Step || len(got.Values) != tt.horizon {
				t.Fatalf("forecast %v/%v/%d, want it to follow the history", got.Start, got.Step, len(got.Values))
			}
			n := len(tt.hist.Values)
			for h, v := range got.Values {
				if want := tt.want(n + h); math.Abs(v-want) > 1e-9 {
					t.Fatalf("interval %d (%s) = %v, want %v", h, got.At(h).Format("Mon 15:04"), v, want)
				}
			}
		})
	}
}

func TestForecastInvalidStep(t *testing.T) {
	if _, err := staffing.Forecast(staffing.Series{Step: 7 * time.Hour, Values: []float64{1}}, 1, staffing.ForecastConfig{}); err == nil {
		t.Fatal("a step that does not divide a day was accepted")
	}
}

func TestRecommendAndAdjust(t *testing.T) {
	const step = 30 * time.Minute
	calls := staffing.Series{Start: monday.Add(8 * time.Hour), Step: step, Values: []float64{100, 100, 100, 100}}
	tg := staffing.Targets{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second, MaxOccupancy: 0.85, Shrinkage: 0.3}
	plans, err := staffing.Recommend([]staffing.GroupForecast{{Group: "billing", AHT: 180 * time.Second, Calls: calls}}, tg)
	if err != nil {
		t.Fatal(err)
	}
	p := plans[0]
	for _, s := range p.Slots {
		// 10 Erlangs: 14 on the phones (see TestAgents), 20 scheduled.
		if s.Agents != 14 || s.Scheduled != 20 || math.Abs(s.ServiceLevel-0.888350) > 1e-5 {
			t.Fatalf("slot %+v, want 14 agents, 20 scheduled, SL 0.88835", s)
		}
	}
	// An anomaly at 08:45 raises volume by 30 %: 13 Erlangs need 17 agents
	// (independently computed), 25 scheduled, 5 more, from the 08:30 slot
	// that the anomaly falls in.
	ch, err := staffing.Adjust(p, 1.3, monday.Add(8*time.Hour+45*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := monday.Add(8*time.Hour + 30*time.Minute); !ch.From.Equal(want) {
		t.Errorf("from %v, want %v", ch.From, want)
	}
	if len(ch.Slots) != 3 || ch.MaxAdd != 5 || ch.AgentHours != 7.5 {
		t.Errorf("change %+v, want 3 slots adding 5 (7.5 agent-hours)", ch)
	}
	for _, s := range ch.Slots {
		if s.Planned != 20 || s.Needed != 25 || s.Add != 5 {
			t.Errorf("slot change %+v", s)
		}
	}
	// A drop needs no change.
	ch, err = staffing.Adjust(p, 0.8, monday)
	if err != nil || !ch.From.IsZero() || len(ch.Slots) != 0 {
		t.Errorf("uplift 0.8: %+v, %v; want no change", ch, err)
	}
	if _, err := staffing.Adjust(p, 0, monday); err == nil {
		t.Error("uplift 0 accepted")
	}
}
