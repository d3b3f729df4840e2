package nluapi_test

import (
	"reflect"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

// TestOpenAPIFragment checks openapi.yaml, the part of the OpenAPI document
// this package owns, against the route table and the main document.
func TestOpenAPIFragment(t *testing.T) {
	api, err := nluapi.New(nluapi.DefaultConfig(), nluapi.Deps{Service: &nlu.Service{}})
	if err != nil {
		t.Fatal(err)
	}
	openapitest.CheckFragment(t, "openapi.yaml", api.Routes())
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"NLUClassification": {Type: reflect.TypeFor[nlu.Classification](), Extra: []string{"neighbors"}},
		"NLUNeighbor":       {Type: reflect.TypeFor[nluapi.Neighbor]()},
		"NLUIntent":         {Type: reflect.TypeFor[nlu.IntentResult]()},
		"NLUSentiment":      {Type: reflect.TypeFor[nlu.SentimentResult]()},
		"NLUManifest":       {Type: reflect.TypeFor[nlu.Manifest]()},
		"NLUTaskVersions":   {Type: reflect.TypeFor[nlu.TaskVersions]()},
		"NLUStatus":         {Type: reflect.TypeFor[nlu.Status]()},
		"NLUTaskStatus":     {Type: reflect.TypeFor[nlu.TaskStatus]()},
		"NLUModelStatus":    {Type: reflect.TypeFor[nlu.ModelStatus]()},
		"NLUShadowReport":   {Type: reflect.TypeFor[nlu.ShadowReport]()},
		"NLULatency":        {Type: reflect.TypeFor[nlu.Latency]()},
		"NLUDisagreement":   {Type: reflect.TypeFor[nlu.Disagreement]()},
		"NLUHealthReport":   {Type: reflect.TypeFor[nlu.HealthReport]()},
		"NLUIntentGroup":    {Type: reflect.TypeFor[nlu.IntentGroup]()},
	})
}
