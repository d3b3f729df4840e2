package agentsapi_test

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/switchboard-cc/switchboard/ivr/agents"
	"github.com/switchboard-cc/switchboard/ivr/agents/agentsapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

// TestOpenAPIFragment checks openapi.yaml, the part of the OpenAPI document
// this package owns, against the route table and the main document.
// CheckFragment compares paths as written, so gin's :id becomes OpenAPI's
// {id} first.
func TestOpenAPIFragment(t *testing.T) {
	routes := agentsapi.New(nil).Routes()
	for i, r := range routes {
		routes[i].Path = regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
	}
	openapitest.CheckFragment(t, "openapi.yaml", routes)
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"SkillGroupList":   {Type: reflect.TypeFor[agentsapi.GroupList]()},
		"SkillGroupStatus": {Type: reflect.TypeFor[agents.GroupStatus]()},
		"SkillGroup":       {Type: reflect.TypeFor[agents.Group]()},
		"SkillGroupInput":  {Type: reflect.TypeFor[agentsapi.GroupInput]()},
		"AgentList":        {Type: reflect.TypeFor[agentsapi.AgentList]()},
		"Agent":            {Type: reflect.TypeFor[agents.Agent]()},
		"AgentInput":       {Type: reflect.TypeFor[agentsapi.AgentInput]()},
		"AgentStateInput":  {Type: reflect.TypeFor[agentsapi.StateInput]()},
	})
}
