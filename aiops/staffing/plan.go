package staffing

import (
	"fmt"
	"math"
	"time"
)

// GroupForecast is the forecast call volume of one skill group.
type GroupForecast struct {
	Group string `json:"group"`
	// AHT is the group's average handle time (talk + hold + wrap-up).
	AHT   time.Duration `json:"aht"`
	Calls Series        `json:"calls"`
}

// Slot is the staffing of one interval.
type Slot struct {
	Start   time.Time `json:"start"`
	Calls   float64   `json:"calls"`
	Erlangs float64   `json:"erlangs"`
	// Agents is the number needed on the phones; Scheduled adds shrinkage.
	Agents    int `json:"agents"`
	Scheduled int `json:"scheduled"`
	// ServiceLevel, ASA and Occupancy are what Agents achieve.
	ServiceLevel float64       `json:"service_level"`
	ASA          time.Duration `json:"asa"`
	Occupancy    float64       `json:"occupancy"`
}

// Plan is the recommended staffing of one skill group, interval by
// interval.
type Plan struct {
	Group   string        `json:"group"`
	Step    time.Duration `json:"step"`
	AHT     time.Duration `json:"aht"`
	Targets Targets       `json:"targets"`
	Slots   []Slot        `json:"slots"`
}

// Recommend staffs every group's forecast against t.
func Recommend(groups []GroupForecast, t Targets) ([]Plan, error) {
	out := make([]Plan, 0, len(groups))
	for _, g := range groups {
		p, err := RecommendGroup(g, t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// RecommendGroup staffs one group's forecast against t.
func RecommendGroup(g GroupForecast, t Targets) (Plan, error) {
	if err := t.Validate(); err != nil {
		return Plan{}, err
	}
	if g.Calls.Step <= 0 {
		return Plan{}, fmt.Errorf("staffing: group %q: %w: step %v must be positive", g.Group, ErrInvalid, g.Calls.Step)
	}
	p := Plan{Group: g.Group, Step: g.Calls.Step, AHT: g.AHT, Targets: t, Slots: make([]Slot, len(g.Calls.Values))}
	for i, calls := range g.Calls.Values {
		s, err := staff(g.Calls.At(i), calls, g.Calls.Step, g.AHT, t)
		if err != nil {
			return Plan{}, fmt.Errorf("staffing: group %q at %s: %w", g.Group, g.Calls.At(i).Format(time.RFC3339), err)
		}
		p.Slots[i] = s
	}
	return p, nil
}

func staff(start time.Time, calls float64, step, aht time.Duration, t Targets) (Slot, error) {
	if math.IsNaN(calls) || calls < 0 {
		calls = 0
	}
	a := Erlangs(calls, aht, step)
	n, err := Agents(a, aht, t)
	if err != nil {
		return Slot{}, err
	}
	return Slot{
		Start: start, Calls: calls, Erlangs: a,
		Agents: n, Scheduled: Scheduled(n, t.Shrinkage),
		ServiceLevel: ServiceLevel(a, n, aht, t.AnswerWithin),
		ASA:          ASA(a, n, aht),
		Occupancy:    Occupancy(a, n),
	}, nil
}

// SlotChange is the extra staffing one interval needs.
type SlotChange struct {
	Start time.Time `json:"start"`
	// Planned and Needed are scheduled counts (shrinkage included).
	Planned int `json:"planned"`
	Needed  int `json:"needed"`
	Add     int `json:"add"`
}

// Change is a schedule-change recommendation: the agents to add, interval
// by interval, from the first interval that needs them.
type Change struct {
	Group  string  `json:"group"`
	Uplift float64 `json:"uplift"`
	// From is the start of the first interval that needs more agents; zero
	// when the plan already absorbs the uplift.
	From time.Time `json:"from"`
	// MaxAdd is the most agents any interval needs added; AgentHours the
	// added scheduled time in total.
	MaxAdd     int          `json:"max_add"`
	AgentHours float64      `json:"agent_hours"`
	Slots      []SlotChange `json:"slots"`
}

// Adjust recomputes p's intervals that end after from with their volume
// multiplied by uplift (e.g. 1.3 when an anomaly detector sees 30 % more
// calls than forecast) and reports where the plan falls short.
func Adjust(p Plan, uplift float64, from time.Time) (Change, error) {
	if !(uplift > 0) || math.IsInf(uplift, 0) {
		return Change{}, fmt.Errorf("staffing: adjust %q: %w: uplift %v must be positive", p.Group, ErrInvalid, uplift)
	}
	ch := Change{Group: p.Group, Uplift: uplift}
	for _, s := range p.Slots {
		if !s.Start.Add(p.Step).After(from) {
			continue
		}
		ns, err := staff(s.Start, s.Calls*uplift, p.Step, p.AHT, p.Targets)
		if err != nil {
			return Change{}, fmt.Errorf("staffing: adjust %q: %w", p.Group, err)
		}
		add := ns.Scheduled - s.Scheduled
		if add <= 0 {
			continue
		}
		if ch.From.IsZero() {
			ch.From = s.Start
		}
		ch.MaxAdd = max(ch.MaxAdd, add)
		ch.AgentHours += float64(add) * p.Step.Hours()
		ch.Slots = append(ch.Slots, SlotChange{Start: s.Start, Planned: s.Scheduled, Needed: ns.Scheduled, Add: add})
	}
	return ch, nil
}
