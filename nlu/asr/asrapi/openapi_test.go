package asrapi_test

import (
	"reflect"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/asr/asrapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

// TestOpenAPIFragment checks openapi.yaml, the part of the OpenAPI document
// this package owns, against the route table and the main document.
func TestOpenAPIFragment(t *testing.T) {
	api, err := asrapi.New(asrapi.DefaultConfig(), asrapi.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	openapitest.CheckFragment(t, "openapi.yaml", api.Routes())
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"ASRTranscript": {Type: reflect.TypeFor[asrapi.Transcript]()},
		"ASRSegment":    {Type: reflect.TypeFor[asr.Result]()},
		"ASRWord":       {Type: reflect.TypeFor[asr.Word]()},
	})
}
