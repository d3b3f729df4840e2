package staffing_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/staffing"
)

// The reference values come from the worked example in Call Centre Helper,
// "Erlang C Formula – Made Simple with an Easy Worked Example"
// (callcentrehelper.com): 100 calls in 30 minutes, 180 s average handle
// time, i.e. A = 10 Erlangs, target 80 % in 20 s, which needs 14 agents
// (30 % shrinkage: 20 scheduled). Every value below was recomputed
// independently with the textbook factorial form of Erlang C in Python
// (math.factorial, no recursion), and the large-traffic rows with 60-digit
// decimal arithmetic, where float64 factorials overflow.
func TestErlangC(t *testing.T) {
	const aht, target = 180 * time.Second, 20 * time.Second
	tests := []struct {
		a         float64
		n         int
		pWait, sl float64
		asa       float64 // seconds
	}{
		{10, 11, 0.682118, 0.389614, 122.7813},
		{10, 12, 0.449388, 0.640158, 40.4449},
		{10, 13, 0.285270, 0.795595, 17.1162},
		{10, 14, 0.174132, 0.888350, 7.8359},
		{10, 15, 0.102042, 0.941453, 3.6735},
		{250, 260, 0.42023835, math.NaN(), math.NaN()},
		{1000, 1030, 0.24890879, math.NaN(), math.NaN()},
		{1000, 1050, 0.07440177, math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		if got := staffing.ErlangC(tt.a, tt.n); math.Abs(got-tt.pWait) > 5e-6 {
			t.Errorf("ErlangC(%v, %d) = %.7f, want %.7f", tt.a, tt.n, got, tt.pWait)
		}
		if !math.IsNaN(tt.sl) {
			if got := staffing.ServiceLevel(tt.a, tt.n, aht, target); math.Abs(got-tt.sl) > 5e-6 {
				t.Errorf("ServiceLevel(%v, %d) = %.7f, want %.7f", tt.a, tt.n, got, tt.sl)
			}
			if got := staffing.ASA(tt.a, tt.n, aht).Seconds(); math.Abs(got-tt.asa) > 1e-3 {
				t.Errorf("ASA(%v, %d) = %.4fs, want %.4fs", tt.a, tt.n, got, tt.asa)
			}
		}
	}
	if got := staffing.Occupancy(10, 14); math.Abs(got-10.0/14) > 1e-12 {
		t.Errorf("Occupancy(10, 14) = %v", got)
	}
	if got := staffing.ErlangC(10, 10); got != 1 {
		t.Errorf("ErlangC at n = a = %v, want 1 (unstable queue)", got)
	}
	// The recursion stays finite where a^n/n! does not.
	if got := staffing.ErlangC(20000, 20200); math.IsNaN(got) || got <= 0 || got >= 1 {
		t.Errorf("ErlangC(20000, 20200) = %v, want a probability", got)
	}
}

func TestAgents(t *testing.T) {
	aht := 180 * time.Second
	tests := []struct {
		name  string
		calls float64 // per 30 minutes
		tg    staffing.Targets
		want  int
		sched int
	}{
		{"callcentrehelper 80/20", 100, staffing.Targets{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second}, 14, 14},
		{"with 30% shrinkage", 100, staffing.Targets{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second, Shrinkage: 0.3}, 14, 20},
		{"79.5% is met by 13", 100, staffing.Targets{ServiceLevel: 0.795, AnswerWithin: 20 * time.Second}, 13, 13},
		{"occupancy cap binds", 100, staffing.Targets{ServiceLevel: 0.3, AnswerWithin: 20 * time.Second, MaxOccupancy: 0.7}, 15, 15},
		{"A=13", 130, staffing.DefaultTargets(), 17, 17},
		{"A=20", 200, staffing.DefaultTargets(), 24, 24},
		{"no calls", 0, staffing.DefaultTargets(), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := staffing.AgentsForCalls(tt.calls, 30*time.Minute, aht, tt.tg)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("agents = %d, want %d", n, tt.want)
			}
			if s := staffing.Scheduled(n, tt.tg.Shrinkage); s != tt.sched {
				t.Errorf("scheduled = %d, want %d", s, tt.sched)
			}
		})
	}
}

func TestAgentsLargeIsMinimal(t *testing.T) {
	aht, tg := 300*time.Second, staffing.DefaultTargets()
	for _, a := range []float64{500, 5000, 20000} {
		n, err := staffing.Agents(a, aht, tg)
		if err != nil {
			t.Fatal(err)
		}
		if sl := staffing.ServiceLevel(a, n, aht, tg.AnswerWithin); sl < tg.ServiceLevel {
			t.Errorf("a=%v: %d agents give %v", a, n, sl)
		}
		// n-1 must miss one of the targets, or n was not the minimum.
		if sl := staffing.ServiceLevel(a, n-1, aht, tg.AnswerWithin); sl >= tg.ServiceLevel && a/float64(n-1) <= tg.MaxOccupancy {
			t.Errorf("a=%v: %d agents already meet the targets (%v)", a, n-1, sl)
		}
	}
}

func TestAgentsInvalid(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    float64
		aht  time.Duration
		tg   staffing.Targets
	}{
		{"sl 1", 10, time.Minute, staffing.Targets{ServiceLevel: 1}},
		{"negative traffic", -1, time.Minute, staffing.DefaultTargets()},
		{"nan traffic", math.NaN(), time.Minute, staffing.DefaultTargets()},
		{"zero aht", 10, 0, staffing.DefaultTargets()},
		{"shrinkage 1", 10, time.Minute, staffing.Targets{ServiceLevel: 0.8, Shrinkage: 1}},
	} {
		if _, err := staffing.Agents(tt.a, tt.aht, tt.tg); !errors.Is(err, staffing.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
}
