package recordapi_test

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/ivr/record/recordapi"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

// TestOpenAPIFragment checks openapi.yaml, the part of the OpenAPI document
// this package owns, against the route table and the main document.
func TestOpenAPIFragment(t *testing.T) {
	api, err := recordapi.New(recordapi.Deps{Recordings: nopRecordings{}, Audit: recordapi.NewAuditor(nil)})
	if err != nil {
		t.Fatal(err)
	}
	// OpenAPI writes gin's :id as {id}.
	param := regexp.MustCompile(`:(\w+)`)
	var routes []web.Route
	for _, r := range api.Routes() {
		r.Path = param.ReplaceAllString(r.Path, "{$1}")
		routes = append(routes, r)
	}
	openapitest.CheckFragment(t, "openapi.yaml", routes)
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"RecordingAuditList":  {Type: reflect.TypeFor[recordapi.AuditList]()},
		"RecordingAuditEntry": {Type: reflect.TypeFor[recordapi.Entry]()},
	})
}

// nopRecordings has no recordings; the route table needs none.
type nopRecordings struct{}

func (nopRecordings) Open(string) (*os.File, record.Info, error) {
	return nil, record.Info{}, record.ErrNotFound
}
