// Package agentsapi serves the IVR's skill groups and agents over HTTP:
// the groups with their live queue and availability counts, the agents,
// their definitions (including a SIP digest password, stored only as an
// HA1) and their availability. Reads need calls:read, changes
// agents:manage. It is a web.Registrar like nlu/asr/asrapi: one route
// table (Routes) drives registration, the authorization tests and the
// OpenAPI check (openapi.yaml here is the fragment merged into
// web/openapi).
package agentsapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/ivr/agents"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Directory is what the API reads and changes; *agents.Directory is one.
// Implementations must be safe for concurrent use and return errors
// wrapping agents.ErrInvalid, agents.ErrNotFound and agents.ErrInUse for
// those conditions.
type Directory interface {
	Snapshot() []agents.GroupStatus
	PutGroup(ctx context.Context, g agents.Group) error
	DeleteGroup(ctx context.Context, name string) error
	Agents(group string) []agents.Agent
	PutAgent(ctx context.Context, a agents.Agent, password string) (agents.Agent, error)
	DeleteAgent(ctx context.Context, id string) error
	SetState(ctx context.Context, id string, s agents.State) (agents.Agent, error)
}

// API serves the routes. It is safe for concurrent use. It logs nothing
// itself: server-side failures go to the gin context (c.Error), and the
// web server's access log records them with the request ID.
type API struct {
	dir Directory
}

// New returns the API over dir.
func New(dir Directory) *API { return &API{dir: dir} }

// Paths of the routes.
const (
	PathGroups     = "/api/v1/skill-groups"
	PathGroup      = "/api/v1/skill-groups/:name"
	PathAgents     = "/api/v1/agents"
	PathAgent      = "/api/v1/agents/:id"
	PathAgentState = "/api/v1/agents/:id/state"
)

// endpoints is the route table: the one place that says which operations
// exist, what scope each needs and which handler serves it.
func (a *API) endpoints() web.Endpoints {
	return web.Endpoints{
		{Route: web.Route{Method: http.MethodGet, Path: PathGroups, Scope: auth.ScopeCallsRead, Summary: "List skill groups with queue and availability"}, Handle: a.listGroups},
		{Route: web.Route{Method: http.MethodPut, Path: PathGroup, Scope: auth.ScopeAgentsManage, Summary: "Create or update a skill group"}, Handle: a.putGroup},
		{Route: web.Route{Method: http.MethodDelete, Path: PathGroup, Scope: auth.ScopeAgentsManage, Summary: "Delete a skill group"}, Handle: a.deleteGroup},
		{Route: web.Route{Method: http.MethodGet, Path: PathAgents, Scope: auth.ScopeCallsRead, Summary: "List agents"}, Handle: a.listAgents},
		{Route: web.Route{Method: http.MethodPut, Path: PathAgent, Scope: auth.ScopeAgentsManage, Summary: "Create or update an agent"}, Handle: a.putAgent},
		{Route: web.Route{Method: http.MethodDelete, Path: PathAgent, Scope: auth.ScopeAgentsManage, Summary: "Delete an agent"}, Handle: a.deleteAgent},
		{Route: web.Route{Method: http.MethodPut, Path: PathAgentState, Scope: auth.ScopeAgentsManage, Summary: "Set an agent's availability"}, Handle: a.setState},
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
	_ Directory     = (*agents.Directory)(nil)
)
