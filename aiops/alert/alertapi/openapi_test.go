package alertapi_test

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/alert/alertapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

// TestOpenAPIFragment checks openapi.yaml against the route table and the
// main document (web/openapi/openapi.yaml, where it is merged by hand).
func TestOpenAPIFragment(t *testing.T) {
	routes := alertapi.New(nil).Routes()
	for i, r := range routes {
		routes[i].Path = regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
	}
	openapitest.CheckFragment(t, "openapi.yaml", routes)
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"AlertPage":      {Type: reflect.TypeFor[alertapi.Page]()},
		"Alert":          {Type: reflect.TypeFor[alert.Alert]()},
		"AlertEvidence":  {Type: reflect.TypeFor[alert.Evidence]()},
		"AlertCandidate": {Type: reflect.TypeFor[alert.Candidate]()},
		"AlertEvent":     {Type: reflect.TypeFor[alert.Event]()},
	})
}
