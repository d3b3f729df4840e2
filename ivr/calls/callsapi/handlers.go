package callsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// mappings turn calls' error kinds into statuses; this is the only place
// they meet HTTP.
func mappings() problem.Mapper {
	return problem.Mapper{
		{Err: calls.ErrNotFound, Status: http.StatusNotFound},
		{Err: calls.ErrInvalid, Status: http.StatusBadRequest},
		{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
		{Err: context.Canceled, Status: http.StatusServiceUnavailable},
	}
}

// fail answers err as a problem; server-side failures are attached to the
// gin context for the access log.
func fail(c *gin.Context, err error) { mappings().Fail(c, err) }

// Page is the answer to a search.
type Page struct {
	Calls  []calls.Record `json:"calls"`
	Total  int            `json:"total"`
	Offset int            `json:"offset"`
	Size   int            `json:"size"`
}

func (a *API) search(c *gin.Context) {
	q, errs := parseQuery(c.Request.URL.Query())
	if len(errs) > 0 {
		problem.Write(c, problem.BadRequest("invalid query parameters", errs...))
		return
	}
	recs, total, err := a.store.Search(c.Request.Context(), q)
	if err != nil {
		fail(c, err)
		return
	}
	if recs == nil {
		recs = []calls.Record{}
	}
	size := q.Size
	if size == 0 {
		size = calls.DefaultPageSize
	}
	c.JSON(http.StatusOK, Page{Calls: recs, Total: total, Offset: q.Offset, Size: size})
}

func (a *API) get(c *gin.Context) {
	r, err := a.store.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// defaultStatsRange is the stats' range when the query gives no from.
const defaultStatsRange = 24 * time.Hour

func (a *API) stats(c *gin.Context) {
	q, errs := parseStatsQuery(c.Request.URL.Query(), time.Now())
	if len(errs) > 0 {
		problem.Write(c, problem.BadRequest("invalid query parameters", errs...))
		return
	}
	st, err := a.store.Stats(c.Request.Context(), q)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// queryParser reads a query string strictly: every parameter must be
// known, single-valued ones may appear once, and each bad value is
// reported with its parameter name as field.
type queryParser struct {
	values url.Values
	known  []string
	errs   []problem.FieldError
}

func (p *queryParser) fail(field, format string, args ...any) {
	p.errs = append(p.errs, problem.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// finish reports the parameters nobody asked for, in a stable order.
func (p *queryParser) finish() []problem.FieldError {
	var unknown []string
	for k := range p.values {
		if !slices.Contains(p.known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		p.fail(k, "unknown parameter")
	}
	return p.errs
}

// one returns a single-valued parameter.
func (p *queryParser) one(name string) (string, bool) {
	p.known = append(p.known, name)
	vs, ok := p.values[name]
	if !ok {
		return "", false
	}
	if len(vs) > 1 {
		p.fail(name, "must be given at most once")
		return "", false
	}
	return vs[0], true
}

// list returns a parameter repeated, comma-separated or both.
func (p *queryParser) list(name string) []string {
	p.known = append(p.known, name)
	var out []string
	for _, v := range p.values[name] {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func (p *queryParser) time(name string) time.Time {
	s, ok := p.one(name)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.fail(name, "must be an RFC 3339 timestamp, e.g. 2026-03-01T00:00:00Z")
	}
	return t
}

func (p *queryParser) int(name string, lo, hi int) int {
	s, ok := p.one(name)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be an integer between %d and %d", lo, hi)
	}
	return n
}

// parseQuery reads GET /api/v1/calls' parameters.
func parseQuery(values url.Values) (calls.Query, []problem.FieldError) {
	p := &queryParser{values: values}
	var q calls.Query
	q.From, q.To = p.time("from"), p.time("to")
	for _, s := range p.list("outcome") {
		o := calls.Outcome(s)
		if !o.Valid() {
			p.fail("outcome", "unknown outcome %q; one of %v", s, calls.Outcomes())
		}
		q.Outcomes = append(q.Outcomes, o)
	}
	q.Caller, _ = p.one("caller")
	q.FlowID, _ = p.one("flow")
	q.Intent, _ = p.one("intent")
	q.Node, _ = p.one("node")
	q.Offset = p.int("offset", 0, calls.MaxOffset)
	q.Size = p.int("size", 1, calls.MaxPageSize)
	return q, p.finish()
}

// parseStatsQuery reads GET /api/v1/calls/stats' parameters; to defaults
// to now and from to a day before to.
func parseStatsQuery(values url.Values, now time.Time) (calls.StatsQuery, []problem.FieldError) {
	p := &queryParser{values: values}
	var q calls.StatsQuery
	q.From, q.To = p.time("from"), p.time("to")
	if _, ok := values["to"]; !ok {
		q.To = now
	}
	if _, ok := values["from"]; !ok {
		q.From = q.To.Add(-defaultStatsRange)
	}
	if s, ok := p.one("interval"); ok {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			p.fail("interval", "must be a positive duration, e.g. 15m, 1h or 24h")
		}
		q.Interval = d
	}
	return q, p.finish()
}
