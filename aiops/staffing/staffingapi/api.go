// Package staffingapi serves staffing recommendations: GET /api/v1/staffing
// forecasts the next intervals' volume of calls (or tickets) of a skill
// group from the stored history, turns it into agents per interval with
// Erlang C for the asked service level, and — when the latest interval ran
// well above its forecast, as an anomaly does — says how many agents to
// add from when (the schedule change). Scope aiops:read.
package staffingapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/staffing"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// History gives past volume per interval; *ESHistory is one.
type History interface {
	Counts(ctx context.Context, source, group string, from, to time.Time, step time.Duration) (staffing.Series, error)
}

// PathStaffing is the route.
const PathStaffing = "/api/v1/staffing"

// Defaults of the query.
const (
	DefaultStep    = 30 * time.Minute
	DefaultHorizon = 48 // intervals: a day at 30 min
	DefaultAHT     = 180 * time.Second
	historyWeeks   = 4
	// surge is how far above its forecast the latest interval must run for
	// a schedule change to be proposed (20 %).
	surge = 1.2
)

// API serves the route.
type API struct {
	h   History
	now func() time.Time
}

// New returns the API.
func New(h History) *API { return &API{h: h, now: time.Now} }

// Routes is the route table.
func (a *API) Routes() []web.Route {
	return []web.Route{{Method: http.MethodGet, Path: PathStaffing, Scope: auth.ScopeAIOpsRead, Summary: "Staffing recommendation for a skill group"}}
}

// Register adds the route behind guard.
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	rt := a.Routes()[0]
	r.Handle(rt.Method, rt.Path, guard(rt.Scope), a.get)
}

// Answer is the recommendation.
type Answer struct {
	Source string        `json:"source"`
	Group  string        `json:"group,omitempty"`
	Plan   staffing.Plan `json:"plan"`
	// Latest is the last full interval: its volume and what was forecast
	// for it; Uplift is their ratio.
	Latest   float64 `json:"latest"`
	Forecast float64 `json:"latest_forecast"`
	Uplift   float64 `json:"uplift"`
	// Change is the schedule change when Uplift is 1.2 or more.
	Change *staffing.Change `json:"change,omitempty"`
}

func (a *API) get(c *gin.Context) {
	q, errs := parse(c)
	if len(errs) > 0 {
		problem.Write(c, problem.BadRequest("invalid query parameters", errs...))
		return
	}
	ctx := c.Request.Context()
	now := a.now().UTC().Truncate(q.step)
	hist, err := a.h.Counts(ctx, q.source, q.group, now.Add(-historyWeeks*7*24*time.Hour), now, q.step)
	if err != nil {
		_ = c.Error(err)
		problem.Write(c, problem.New(http.StatusServiceUnavailable, "the history could not be read; retry later"))
		return
	}
	ans, err := recommend(hist, q)
	if err != nil {
		if errors.Is(err, staffing.ErrInvalid) {
			problem.Write(c, problem.BadRequest(err.Error()))
			return
		}
		_ = c.Error(err)
		problem.Write(c, problem.New(http.StatusInternalServerError, "no recommendation"))
		return
	}
	ans.Source, ans.Group = q.source, q.group
	c.JSON(http.StatusOK, ans)
}

type query struct {
	source, group string
	step          time.Duration
	horizon       int
	aht           time.Duration
	targets       staffing.Targets
}

func parse(c *gin.Context) (query, []problem.FieldError) {
	q := query{source: c.DefaultQuery("source", "calls"), group: c.Query("group"), step: DefaultStep,
		horizon: DefaultHorizon, aht: DefaultAHT, targets: staffing.DefaultTargets()}
	var errs []problem.FieldError
	bad := func(f, m string) { errs = append(errs, problem.FieldError{Field: f, Message: m}) }
	if q.source != "calls" && q.source != "tickets" {
		bad("source", "calls or tickets")
	}
	dur := func(name string, dst *time.Duration, lo, hi time.Duration) {
		if v := c.Query(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < lo || d > hi {
				bad(name, fmt.Sprintf("a duration from %v to %v", lo, hi))
				return
			}
			*dst = d
		}
	}
	dur("step", &q.step, 5*time.Minute, 24*time.Hour)
	dur("aht", &q.aht, time.Second, 2*time.Hour)
	dur("answer_within", &q.targets.AnswerWithin, time.Second, time.Hour)
	num := func(name string, dst *float64, lo, hi float64) {
		if v := c.Query(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < lo || f > hi {
				bad(name, fmt.Sprintf("a number from %v to %v", lo, hi))
				return
			}
			*dst = f
		}
	}
	num("service_level", &q.targets.ServiceLevel, 0.01, 0.999)
	num("shrinkage", &q.targets.Shrinkage, 0, 0.9)
	num("max_occupancy", &q.targets.MaxOccupancy, 0.1, 1)
	if v := c.Query("horizon"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 7*96 {
			bad("horizon", "intervals, 1 to 672")
		} else {
			q.horizon = n
		}
	}
	if (24*time.Hour)%q.step != 0 {
		bad("step", "must divide a day")
	}
	return q, errs
}

// trimLeading drops the whole days at the start of hist with no volume at
// all: a deployment younger than the history window has not had calls
// there, and counting those days as zeros would halve its forecast.
func trimLeading(hist staffing.Series) staffing.Series {
	perDay := int(24 * time.Hour / hist.Step)
	if perDay <= 0 {
		return hist
	}
	days := 0
	for (days+1)*perDay <= len(hist.Values)-perDay { // keep at least a day
		empty := true
		for _, v := range hist.Values[days*perDay : (days+1)*perDay] {
			if v != 0 {
				empty = false
				break
			}
		}
		if !empty {
			break
		}
		days++
	}
	if days == 0 {
		return hist
	}
	return staffing.Series{Start: hist.At(days * perDay), Step: hist.Step, Values: hist.Values[days*perDay:]}
}

// recommend forecasts the horizon after hist, plans it, and compares the
// last full interval with what was forecast for it.
func recommend(hist staffing.Series, q query) (Answer, error) {
	hist = trimLeading(hist)
	fc, err := staffing.Forecast(hist, q.horizon, staffing.ForecastConfig{})
	if err != nil {
		return Answer{}, err
	}
	plan, err := staffing.RecommendGroup(staffing.GroupForecast{Group: q.group, AHT: q.aht, Calls: fc}, q.targets)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{Plan: plan, Uplift: 1}
	if n := len(hist.Values); n > 1 {
		prev := staffing.Series{Start: hist.Start, Step: hist.Step, Values: hist.Values[:n-1]}
		if last, err := staffing.Forecast(prev, 1, staffing.ForecastConfig{}); err == nil && len(last.Values) == 1 {
			ans.Latest, ans.Forecast = hist.Values[n-1], last.Values[0]
			if ans.Forecast > 0 {
				ans.Uplift = math.Round(ans.Latest/ans.Forecast*100) / 100
			}
		}
	}
	if ans.Uplift >= surge {
		ch, err := staffing.Adjust(plan, ans.Uplift, fc.Start)
		if err != nil {
			return Answer{}, err
		}
		ans.Change = &ch
	}
	return ans, nil
}
