// Package callsapi serves the IVR's call records over HTTP: a search
// (GET /api/v1/calls), one record (GET /api/v1/calls/{id}) and the
// dashboard's numbers (GET /api/v1/calls/stats), all under the calls:read
// scope. It is a web.Registrar like nlu/asr/asrapi: one route table
// (Routes) drives registration, the authorization tests and the OpenAPI
// check (openapi.yaml here is the fragment merged into web/openapi).
//
// Recordings are not served here: another package registers
// /api/v1/calls/:id/recording beside these routes, behind its own audited
// scope.
package callsapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Store reads call records; *calls.Store is one. Implementations must be
// safe for concurrent use, return errors wrapping calls.ErrNotFound for a
// missing record and calls.ErrInvalid for a query they refuse.
type Store interface {
	Get(ctx context.Context, id string) (*calls.Record, error)
	Search(ctx context.Context, q calls.Query) ([]calls.Record, int, error)
	Stats(ctx context.Context, q calls.StatsQuery) (*calls.Stats, error)
}

// API serves the call routes. It is safe for concurrent use. It logs
// nothing itself: server-side failures go to the gin context (c.Error),
// and the web server's access log records them with the request ID.
type API struct {
	store Store
}

// New returns the API over store.
func New(store Store) *API { return &API{store: store} }

// Paths of the routes.
const (
	PathCalls = "/api/v1/calls"
	PathCall  = "/api/v1/calls/:id"
	PathStats = "/api/v1/calls/stats"
)

// endpoints is the route table: the one place that says which operations
// exist, what scope each needs and which handler serves it. gin matches
// the static /stats before the :id parameter, so no call id can be
// "stats" (ids are UUIDv7s).
func (a *API) endpoints() web.Endpoints {
	return web.Endpoints{
		{Route: web.Route{Method: http.MethodGet, Path: PathCalls, Scope: auth.ScopeCallsRead, Summary: "Search call records"}, Handle: a.search},
		{Route: web.Route{Method: http.MethodGet, Path: PathStats, Scope: auth.ScopeCallsRead, Summary: "IVR dashboard numbers"}, Handle: a.stats},
		{Route: web.Route{Method: http.MethodGet, Path: PathCall, Scope: auth.ScopeCallsRead, Summary: "Get a call record"}, Handle: a.get},
	}
}

// Routes returns the route table.
func (a *API) Routes() []web.Route { return a.endpoints().Routes() }

// Register adds every route of the table to r, each behind guard(scope).
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	a.endpoints().Register(r, guard)
}

var (
	_ web.Registrar = (*API)(nil)
	_ Store         = (*calls.Store)(nil)
)
