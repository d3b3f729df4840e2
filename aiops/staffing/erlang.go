// Package staffing turns call volumes into agent counts: the Erlang C
// queueing model (probability of waiting, service level, average speed of
// answer, occupancy), a minimum-agents search against service-level and
// occupancy targets, a seasonal volume forecast per interval, and the
// schedule change an anomaly calls for. It is pure computation: no I/O, no
// clocks, safe for concurrent use.
package staffing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalid is wrapped by every error caused by an argument out of range.
var ErrInvalid = errors.New("staffing: invalid")

// MaxAgents bounds the agent search; a target that needs more is reported
// as an error rather than looping.
const MaxAgents = 100000

// Erlangs returns the offered traffic of calls arriving in one interval,
// each taking aht to handle: calls × AHT / interval.
func Erlangs(calls float64, aht, interval time.Duration) float64 {
	if interval <= 0 {
		return 0
	}
	return calls * aht.Seconds() / interval.Seconds()
}

// ErlangB is the blocking probability of n servers offered a Erlangs. It
// uses the recursion B(0)=1, B(k) = a·B(k-1) / (k + a·B(k-1)), which stays
// within [0, 1] at every step, so it is exact in float64 for agent counts
// where a^n/n! overflows long before.
func ErlangB(a float64, n int) float64 {
	if n < 0 || a < 0 || math.IsNaN(a) {
		return math.NaN()
	}
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC is the probability that a call waits (all n agents busy) with a
// Erlangs offered: C = n·B / (n − a·(1 − B)). The queue is unstable when
// n ≤ a, and every call waits: the result is 1.
func ErlangC(a float64, n int) float64 {
	if n < 0 || a < 0 || math.IsNaN(a) {
		return math.NaN()
	}
	if a == 0 {
		return 0
	}
	if float64(n) <= a {
		return 1
	}
	b := ErlangB(a, n)
	return float64(n) * b / (float64(n) - a*(1-b))
}

// ServiceLevel is the share of calls answered within target when n agents
// handle a Erlangs of calls averaging aht: 1 − C·e^(−(n−a)·target/aht).
func ServiceLevel(a float64, n int, aht, target time.Duration) float64 {
	if float64(n) <= a {
		if a == 0 {
			return 1
		}
		return 0
	}
	if aht <= 0 {
		return 1
	}
	c := ErlangC(a, n)
	return 1 - c*math.Exp(-(float64(n)-a)*target.Seconds()/aht.Seconds())
}

// ASA is the average speed of answer, the mean wait over all calls:
// C·aht / (n − a). It is +Inf for an unstable queue.
func ASA(a float64, n int, aht time.Duration) time.Duration {
	if a == 0 {
		return 0
	}
	if float64(n) <= a {
		return time.Duration(math.MaxInt64)
	}
	secs := ErlangC(a, n) * aht.Seconds() / (float64(n) - a)
	return time.Duration(secs * float64(time.Second))
}

// Occupancy is the share of the agents' time spent on calls: a / n, at
// most 1.
func Occupancy(a float64, n int) float64 {
	if n <= 0 {
		return 1
	}
	return math.Min(1, a/float64(n))
}

// Targets are what a staffing level must achieve.
type Targets struct {
	// ServiceLevel is the share of calls to answer within AnswerWithin,
	// e.g. 0.8 for "80 % in 20 s".
	ServiceLevel float64       `json:"service_level"`
	AnswerWithin time.Duration `json:"answer_within"`
	// MaxOccupancy caps a / n (e.g. 0.85) so agents are not run at 100 %;
	// zero means no cap.
	MaxOccupancy float64 `json:"max_occupancy"`
	// Shrinkage is the share of paid time agents are not available (breaks,
	// training, absence), 0 ≤ Shrinkage < 1; the scheduled count is the
	// on-phone count / (1 − Shrinkage). Zero leaves counts as they are.
	Shrinkage float64 `json:"shrinkage"`
}

// DefaultTargets is the industry's customary 80 % in 20 s with at most
// 85 % occupancy and no shrinkage.
func DefaultTargets() Targets {
	return Targets{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second, MaxOccupancy: 0.85}
}

// Validate checks t.
func (t Targets) Validate() error {
	switch {
	case !(t.ServiceLevel > 0 && t.ServiceLevel < 1):
		return fmt.Errorf("staffing: %w: service level %v must be in (0, 1)", ErrInvalid, t.ServiceLevel)
	case t.AnswerWithin < 0:
		return fmt.Errorf("staffing: %w: negative answer time %v", ErrInvalid, t.AnswerWithin)
	case t.MaxOccupancy < 0 || t.MaxOccupancy > 1:
		return fmt.Errorf("staffing: %w: max occupancy %v must be in [0, 1]", ErrInvalid, t.MaxOccupancy)
	case t.Shrinkage < 0 || t.Shrinkage >= 1:
		return fmt.Errorf("staffing: %w: shrinkage %v must be in [0, 1)", ErrInvalid, t.Shrinkage)
	}
	return nil
}

// Agents returns the fewest agents on the phones that handle a Erlangs of
// calls averaging aht within the targets' service level and occupancy cap.
// Shrinkage is not applied here (see Scheduled). Zero traffic needs zero
// agents.
func Agents(a float64, aht time.Duration, t Targets) (int, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if a < 0 || math.IsNaN(a) || math.IsInf(a, 0) {
		return 0, fmt.Errorf("staffing: %w: traffic %v Erlangs", ErrInvalid, a)
	}
	if aht <= 0 {
		return 0, fmt.Errorf("staffing: %w: average handle time %v must be positive", ErrInvalid, aht)
	}
	if a == 0 {
		return 0, nil
	}
	// Start at the smallest stable count (and the occupancy floor); service
	// level rises monotonically with n from there.
	n := int(math.Floor(a)) + 1
	if t.MaxOccupancy > 0 {
		n = max(n, int(math.Ceil(a/t.MaxOccupancy-1e-9)))
	}
	// B is advanced one agent at a time with the same recursion as ErlangB,
	// so the search costs one step per candidate count.
	start := n
	b := ErlangB(a, n)
	for ; n <= MaxAgents; n++ {
		if n > start {
			b = a * b / (float64(n) + a*b)
		}
		c := float64(n) * b / (float64(n) - a*(1-b))
		sl := 1 - c*math.Exp(-(float64(n)-a)*t.AnswerWithin.Seconds()/aht.Seconds())
		if sl >= t.ServiceLevel {
			return n, nil
		}
	}
	return 0, fmt.Errorf("staffing: %w: %v Erlangs need more than %d agents", ErrInvalid, a, MaxAgents)
}

// AgentsForCalls is Agents for calls arriving in one interval.
func AgentsForCalls(calls float64, interval, aht time.Duration, t Targets) (int, error) {
	if interval <= 0 {
		return 0, fmt.Errorf("staffing: %w: interval %v must be positive", ErrInvalid, interval)
	}
	return Agents(Erlangs(calls, aht, interval), aht, t)
}

// Scheduled converts an on-phone count into the number to schedule,
// rounding up: n / (1 − shrinkage).
func Scheduled(n int, shrinkage float64) int {
	if shrinkage <= 0 || shrinkage >= 1 {
		return n
	}
	return int(math.Ceil(float64(n)/(1-shrinkage) - 1e-9))
}
