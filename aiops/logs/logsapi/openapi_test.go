package logsapi_test

import (
	"reflect"
	"testing"

	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/aiops/logs/logsapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

func TestOpenAPIFragment(t *testing.T) {
	openapitest.CheckFragment(t, "openapi.yaml", logsapi.New(nil).Routes())
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"LogIngestResult": {Type: reflect.TypeFor[logs.Result]()},
		"LogLineError":    {Type: reflect.TypeFor[logs.LineError]()},
	})
}
