package staffingapi_test

import (
	"reflect"
	"testing"

	"github.com/switchboard-cc/switchboard/aiops/staffing"
	"github.com/switchboard-cc/switchboard/aiops/staffing/staffingapi"
	"github.com/switchboard-cc/switchboard/web/openapi/openapitest"
)

func TestOpenAPIFragment(t *testing.T) {
	openapitest.CheckFragment(t, "openapi.yaml", staffingapi.New(nil).Routes())
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	openapitest.CheckSchemas(t, "openapi.yaml", map[string]openapitest.Schema{
		"StaffingAnswer":     {Type: reflect.TypeFor[staffingapi.Answer]()},
		"StaffingPlan":       {Type: reflect.TypeFor[staffing.Plan]()},
		"StaffingTargets":    {Type: reflect.TypeFor[staffing.Targets]()},
		"StaffingSlot":       {Type: reflect.TypeFor[staffing.Slot]()},
		"StaffingChange":     {Type: reflect.TypeFor[staffing.Change]()},
		"StaffingSlotChange": {Type: reflect.TypeFor[staffing.SlotChange]()},
	})
}
