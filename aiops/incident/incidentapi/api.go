// Package incidentapi serves incidents over HTTP: list and read them
// (aiops:read), close one or merge one into another (aiops:manage). It is
// a web.Registrar; openapi.yaml here is its fragment of the OpenAPI
// document.
package incidentapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/incident/esstore"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// Store is what the API needs; *esstore.Store is one.
type Store interface {
	Get(ctx context.Context, id string) (*esstore.Incident, error)
	List(ctx context.Context, state esstore.State, size int) ([]esstore.Incident, error)
	Close(ctx context.Context, id, by, note string) (*esstore.Incident, error)
	Merge(ctx context.Context, id, into, by string) (*esstore.Incident, error)
}

// Paths.
const (
	PathIncidents = "/api/v1/incidents"
	PathIncident  = "/api/v1/incidents/:id"
	PathClose     = "/api/v1/incidents/:id/close"
	PathMerge     = "/api/v1/incidents/:id/merge"
)

// API serves the routes.
type API struct{ store Store }

// New returns the API.
func New(store Store) *API { return &API{store: store} }

func (a *API) endpoints() web.Endpoints {
	return web.Endpoints{
		{Route: web.Route{Method: http.MethodGet, Path: PathIncidents, Scope: auth.ScopeAIOpsRead, Summary: "List incidents"}, Handle: a.list},
		{Route: web.Route{Method: http.MethodGet, Path: PathIncident, Scope: auth.ScopeAIOpsRead, Summary: "Get an incident"}, Handle: a.get},
		{Route: web.Route{Method: http.MethodPost, Path: PathClose, Scope: auth.ScopeAIOpsManage, Summary: "Close an incident"}, Handle: a.close},
		{Route: web.Route{Method: http.MethodPost, Path: PathMerge, Scope: auth.ScopeAIOpsManage, Summary: "Merge an incident into another"}, Handle: a.merge},
	}
}

// Routes is the route table.
func (a *API) Routes() []web.Route { return a.endpoints().Routes() }

// Register adds the routes behind guard.
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	a.endpoints().Register(r, guard)
}

var mappings = problem.Mapper{
	{Err: esstore.ErrNotFound, Status: http.StatusNotFound},
	{Err: esstore.ErrConflict, Status: http.StatusConflict},
	{Err: esstore.ErrInvalid, Status: http.StatusBadRequest},
	{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
}

func fail(c *gin.Context, err error) { mappings.Fail(c, err) }

// List is the answer to GET /api/v1/incidents.
type List struct {
	Incidents []esstore.Incident `json:"incidents"`
}

func (a *API) list(c *gin.Context) {
	state := esstore.State(c.Query("state"))
	switch state {
	case "", esstore.Open, esstore.Closed, esstore.Merged:
	default:
		problem.Write(c, problem.BadRequest("state must be open, closed or merged", problem.FieldError{Field: "state", Message: "unknown state"}))
		return
	}
	size := 100
	if v := c.Query("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			problem.Write(c, problem.BadRequest("size must be 1 to 1000", problem.FieldError{Field: "size", Message: "out of range"}))
			return
		}
		size = n
	}
	out, err := a.store.List(c.Request.Context(), state, size)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, List{Incidents: out})
}

func (a *API) get(c *gin.Context) {
	in, err := a.store.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, in)
}

// CloseInput is the body of a close: an optional note.
type CloseInput struct {
	Note string `json:"note,omitempty"`
}

func (a *API) close(c *gin.Context) {
	var in CloseInput
	if c.Request.ContentLength != 0 {
		if p := problem.DecodeJSON(c, &in, 64<<10); p != nil {
			problem.Write(c, *p)
			return
		}
	}
	out, err := a.store.Close(c.Request.Context(), c.Param("id"), auth.Actor(c), in.Note)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// MergeInput names the incident to merge into.
type MergeInput struct {
	Into string `json:"into"`
}

func (a *API) merge(c *gin.Context) {
	var in MergeInput
	if p := problem.DecodeJSON(c, &in, 64<<10); p != nil {
		problem.Write(c, *p)
		return
	}
	if in.Into == "" {
		problem.Write(c, problem.BadRequest("into is required", problem.FieldError{Field: "into", Message: "required"}))
		return
	}
	out, err := a.store.Merge(c.Request.Context(), c.Param("id"), in.Into, auth.Actor(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
