package callsapi_test

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/calls/callsapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

// TestOpenAPIFragment checks openapi.yaml, the part of the OpenAPI document
// this package owns, against the route table and the main document.
// CheckFragment compares paths as written, so gin's :id becomes OpenAPI's
// {id} first.
func TestOpenAPIFragment(t *testing.T) {
	routes := callsapi.New(nil).Routes()
	for i, r := range routes {
		routes[i].Path = regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
	}
	openapitest.CheckFragment(t, "openapi.yaml", routes)
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"CallPage":         {Type: reflect.TypeFor[callsapi.Page]()},
		"CallRecord":       {Type: reflect.TypeFor[calls.Record]()},
		"CallStep":         {Type: reflect.TypeFor[calls.Step]()},
		"CallRecognition":  {Type: reflect.TypeFor[calls.Recognition]()},
		"CallKeyPress":     {Type: reflect.TypeFor[calls.KeyPress]()},
		"CallTransfer":     {Type: reflect.TypeFor[calls.Transfer]()},
		"CallRecordingRef": {Type: reflect.TypeFor[calls.RecordingRef]()},
		"CallStats":        {Type: reflect.TypeFor[calls.Stats]()},
		"CallVolumeBucket": {Type: reflect.TypeFor[calls.VolumeBucket]()},
	})
}
