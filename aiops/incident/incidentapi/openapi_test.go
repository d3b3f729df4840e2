package incidentapi_test

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/switchboard-cc/switchboard/aiops/incident/esstore"
	"github.com/switchboard-cc/switchboard/aiops/incident/incidentapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

func TestOpenAPIFragment(t *testing.T) {
	routes := incidentapi.New(nil).Routes()
	for i, r := range routes {
		routes[i].Path = regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
	}
	openapitest.CheckFragment(t, "openapi.yaml", routes)
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"IncidentList":       {Type: reflect.TypeFor[incidentapi.List]()},
		"Incident":           {Type: reflect.TypeFor[esstore.Incident]()},
		"IncidentCause":      {Type: reflect.TypeFor[esstore.Cause]()},
		"IncidentEvent":      {Type: reflect.TypeFor[esstore.Event]()},
		"IncidentCloseInput": {Type: reflect.TypeFor[incidentapi.CloseInput]()},
		"IncidentMergeInput": {Type: reflect.TypeFor[incidentapi.MergeInput]()},
	})
}
