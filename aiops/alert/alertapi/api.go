// Package alertapi serves AIOps alerts over HTTP: a list filtered by
// state (GET /api/v1/alerts), one alert with its history
// (GET /api/v1/alerts/{id}) under aiops:read, and acknowledge and resolve
// (POST /api/v1/alerts/{id}/ack, …/resolve) under aiops:manage, recorded
// with the caller's identity. It is a web.Registrar like
// ivr/calls/callsapi; openapi.yaml here is its fragment of web/openapi.
package alertapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// Service is what the API needs of the alert manager; *alert.Manager is
// one. It must be safe for concurrent use and return errors wrapping
// alert.ErrNotFound, ErrInvalid and ErrConflict for those conditions.
type Service interface {
	Get(ctx context.Context, id string) (*alert.Alert, error)
	List(ctx context.Context, q alert.Query) ([]alert.Alert, int, error)
	Acknowledge(ctx context.Context, id, by string) (*alert.Alert, error)
	Resolve(ctx context.Context, id, by string) (*alert.Alert, error)
}

// API serves the alert routes. It is safe for concurrent use.
type API struct {
	svc Service
}

// New returns the API over svc.
func New(svc Service) *API { return &API{svc: svc} }

// Paths of the routes.
const (
	PathAlerts  = "/api/v1/alerts"
	PathAlert   = "/api/v1/alerts/:id"
	PathAck     = "/api/v1/alerts/:id/ack"
	PathResolve = "/api/v1/alerts/:id/resolve"
)

func (a *API) endpoints() web.Endpoints {
	return web.Endpoints{
		{Route: web.Route{Method: http.MethodGet, Path: PathAlerts, Scope: auth.ScopeAIOpsRead, Summary: "List alerts"}, Handle: a.list},
		{Route: web.Route{Method: http.MethodGet, Path: PathAlert, Scope: auth.ScopeAIOpsRead, Summary: "Get an alert with its history"}, Handle: a.get},
		{Route: web.Route{Method: http.MethodPost, Path: PathAck, Scope: auth.ScopeAIOpsManage, Summary: "Acknowledge an alert"}, Handle: a.ack},
		{Route: web.Route{Method: http.MethodPost, Path: PathResolve, Scope: auth.ScopeAIOpsManage, Summary: "Resolve an alert"}, Handle: a.resolve},
	}
}

// Routes returns the route table.
func (a *API) Routes() []web.Route { return a.endpoints().Routes() }

// Register adds every route of the table to r, each behind guard(scope).
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	a.endpoints().Register(r, guard)
}

func mappings() problem.Mapper {
	return problem.Mapper{
		{Err: alert.ErrNotFound, Status: http.StatusNotFound},
		{Err: alert.ErrInvalid, Status: http.StatusBadRequest},
		{Err: alert.ErrConflict, Status: http.StatusConflict},
		{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
		{Err: context.Canceled, Status: http.StatusServiceUnavailable},
	}
}

func fail(c *gin.Context, err error) { mappings().Fail(c, err) }

// Page is the answer to a list.
type Page struct {
	Alerts []alert.Alert `json:"alerts"`
	Total  int           `json:"total"`
	Offset int           `json:"offset"`
	Size   int           `json:"size"`
}

func (a *API) list(c *gin.Context) {
	q, errs := parseQuery(c)
	if len(errs) > 0 {
		problem.Write(c, problem.BadRequest("invalid query parameters", errs...))
		return
	}
	list, total, err := a.svc.List(c.Request.Context(), q)
	if err != nil {
		fail(c, err)
		return
	}
	if list == nil {
		list = []alert.Alert{}
	}
	c.JSON(http.StatusOK, Page{Alerts: list, Total: total, Offset: q.Offset, Size: q.PageSize()})
}

// parseQuery reads state (repeatable or comma-separated), key, offset and
// size, strictly: unknown parameters are errors.
func parseQuery(c *gin.Context) (alert.Query, []problem.FieldError) {
	var q alert.Query
	var errs []problem.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, problem.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	values := c.Request.URL.Query()
	var unknown []string
	for k := range values {
		if !slices.Contains([]string{"state", "key", "offset", "size"}, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		bad(k, "unknown parameter")
	}
	for _, v := range values["state"] {
		for s := range strings.SplitSeq(v, ",") {
			st := alert.State(strings.TrimSpace(s))
			if !st.Valid() {
				bad("state", "%q is not one of firing, acknowledged, resolved", st)
				continue
			}
			q.States = append(q.States, st)
		}
	}
	q.Key = values.Get("key")
	num := func(name string, lo, hi int, dst *int) {
		v := values.Get(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(name, "must be an integer from %d to %d", lo, hi)
			return
		}
		*dst = n
	}
	num("offset", 0, 10000, &q.Offset)
	num("size", 1, 100, &q.Size)
	return q, errs
}

func (a *API) get(c *gin.Context) {
	al, err := a.svc.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, al)
}

func (a *API) ack(c *gin.Context) {
	al, err := a.svc.Acknowledge(c.Request.Context(), c.Param("id"), auth.Actor(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, al)
}

func (a *API) resolve(c *gin.Context) {
	al, err := a.svc.Resolve(c.Request.Context(), c.Param("id"), auth.Actor(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, al)
}

var (
	_ web.Registrar = (*API)(nil)
	_ Service       = (*alert.Manager)(nil)
)
