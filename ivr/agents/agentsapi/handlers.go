package agentsapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/ivr/agents"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// mappings turn agents' error kinds into statuses; this is the only place
// they meet HTTP.
func mappings() problem.Mapper {
	return problem.Mapper{
		{Err: agents.ErrNotFound, Status: http.StatusNotFound},
		{Err: agents.ErrInvalid, Status: http.StatusBadRequest},
		{Err: agents.ErrInUse, Status: http.StatusConflict},
		{Err: es.ErrUnavailable, Status: http.StatusServiceUnavailable},
		{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
		{Err: context.Canceled, Status: http.StatusServiceUnavailable},
	}
}

// fail answers err as a problem; server-side failures are attached to the
// gin context for the access log.
func fail(c *gin.Context, err error) { mappings().Fail(c, err) }

// GroupList is the answer to GET /api/v1/skill-groups.
type GroupList struct {
	Groups []agents.GroupStatus `json:"groups"`
}

// AgentList is the answer to GET /api/v1/agents.
type AgentList struct {
	Agents []agents.Agent `json:"agents"`
}

// GroupInput is the body of PUT /api/v1/skill-groups/:name.
type GroupInput struct {
	Description string `json:"description"`
}

// AgentInput is the body of PUT /api/v1/agents/:id.
type AgentInput struct {
	Name   string   `json:"name"`
	URI    string   `json:"uri"`
	Groups []string `json:"groups"`
	// Password, when given, sets the SIP digest password; omitted keeps
	// the stored one.
	Password string `json:"password,omitempty"`
}

// StateInput is the body of PUT /api/v1/agents/:id/state.
type StateInput struct {
	State string `json:"state"`
}

func (a *API) listGroups(c *gin.Context) {
	c.JSON(http.StatusOK, GroupList{Groups: a.dir.Snapshot()})
}

func (a *API) putGroup(c *gin.Context) {
	var in GroupInput
	if p := problem.DecodeJSON(c, &in, 0); p != nil {
		problem.Write(c, *p)
		return
	}
	g := agents.Group{Name: c.Param("name"), Description: in.Description}
	if err := a.dir.PutGroup(c.Request.Context(), g); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, g)
}

func (a *API) deleteGroup(c *gin.Context) {
	if err := a.dir.DeleteGroup(c.Request.Context(), c.Param("name")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) listAgents(c *gin.Context) {
	group := c.Query("group")
	if group != "" && !slices.ContainsFunc(a.dir.Snapshot(), func(s agents.GroupStatus) bool { return s.Name == group }) {
		fail(c, fmt.Errorf("%w: group %q", agents.ErrNotFound, group))
		return
	}
	c.JSON(http.StatusOK, AgentList{Agents: a.dir.Agents(group)})
}

func (a *API) putAgent(c *gin.Context) {
	var in AgentInput
	if p := problem.DecodeJSON(c, &in, 0); p != nil {
		problem.Write(c, *p)
		return
	}
	ag, err := a.dir.PutAgent(c.Request.Context(), agents.Agent{ID: c.Param("id"), Name: in.Name, URI: in.URI, Groups: in.Groups}, in.Password)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ag)
}

func (a *API) deleteAgent(c *gin.Context) {
	if err := a.dir.DeleteAgent(c.Request.Context(), c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) setState(c *gin.Context) {
	var in StateInput
	if p := problem.DecodeJSON(c, &in, 0); p != nil {
		problem.Write(c, *p)
		return
	}
	s, err := agents.ParseState(in.State)
	if err != nil {
		problem.Write(c, problem.BadRequest(err.Error(), problem.FieldError{Field: "state", Message: "must be available, busy or offline"}))
		return
	}
	ag, err := a.dir.SetState(c.Request.Context(), c.Param("id"), s)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ag)
}
