package asrapi_test

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/asr/asrapi"
	"github.com/switchboard-cc/switchboard/web/openapi"
)

// fragment is openapi.yaml, the part of the OpenAPI document this package
// owns.
type fragment struct {
	Paths      map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

func readFragment(t *testing.T) (fragment, []byte) {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f fragment
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return f, b
}

// TestOpenAPIFragment checks that the fragment documents exactly the route
// table, each operation with its scope, that its references resolve in the
// fragment or the main document, and that the main document holds the
// fragment's paths and schemas as written here.
func TestOpenAPIFragment(t *testing.T) {
	f, raw := readFragment(t)
	api, err := asrapi.New(asrapi.DefaultConfig(), asrapi.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for path, item := range f.Paths {
		for method, op := range item {
			var o struct {
				OperationID string                `yaml:"operationId"`
				Summary     string                `yaml:"summary"`
				Security    []map[string][]string `yaml:"security"`
				Responses   map[string]any        `yaml:"responses"`
			}
			b, _ := yaml.Marshal(op)
			if err := yaml.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			where := strings.ToUpper(method) + " " + path
			if o.OperationID == "" || o.Summary == "" || len(o.Responses) == 0 || len(o.Security) != 1 || len(o.Security[0]["oauth2"]) != 1 {
				t.Errorf("%s: needs operationId, summary, responses and one oauth2 scope", where)
				continue
			}
			documented[where] = o.Security[0]["oauth2"][0]
		}
	}
	for _, r := range api.Routes() {
		where := r.Method + " " + r.Path
		scope, ok := documented[where]
		switch {
		case !ok:
			t.Errorf("%s is not documented", where)
		case scope != r.Scope:
			t.Errorf("%s documented with scope %s, served with %s", where, scope, r.Scope)
		}
		delete(documented, where)
	}
	for op := range documented {
		t.Errorf("%s is documented but not served", op)
	}

	var main map[string]any
	if err := json.Unmarshal(openapi.JSON(), &main); err != nil {
		t.Fatal(err)
	}
	comps, _ := main["components"].(map[string]any)
	for _, m := range regexp.MustCompile(`\$ref: "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(raw), -1) {
		kind, name := m[1], m[2]
		if kind == "schemas" {
			if _, ok := f.Components.Schemas[name]; ok {
				continue
			}
		}
		if group, _ := comps[kind].(map[string]any); group[name] == nil {
			t.Errorf("$ref #/components/%s/%s resolves neither in the fragment nor in web/openapi", kind, name)
		}
	}

	// The merge is by hand; a fragment edited without it must fail here.
	var frag map[string]any
	if err := yaml.Unmarshal(raw, &frag); err != nil {
		t.Fatal(err)
	}
	fj, err := json.Marshal(frag)
	if err != nil {
		t.Fatalf("fragment as JSON: %v", err)
	}
	var fragJSON struct {
		Paths      map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(fj, &fragJSON); err != nil {
		t.Fatal(err)
	}
	paths, _ := main["paths"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	for p, item := range fragJSON.Paths {
		if !reflect.DeepEqual(paths[p], item) {
			t.Errorf("web/openapi/openapi.yaml path %s differs from the fragment; merge it again", p)
		}
	}
	for s, schema := range fragJSON.Components.Schemas {
		if !reflect.DeepEqual(schemas[s], schema) {
			t.Errorf("web/openapi/openapi.yaml schema %s differs from the fragment; merge it again", s)
		}
	}
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	f, _ := readFragment(t)
	for name, typ := range map[string]reflect.Type{
		"ASRTranscript": reflect.TypeFor[asrapi.Transcript](),
		"ASRSegment":    reflect.TypeFor[asr.Result](),
		"ASRWord":       reflect.TypeFor[asr.Word](),
	} {
		s, ok := f.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		var got []string
		for p := range s.Properties {
			got = append(got, p)
		}
		slices.Sort(got)
		want := jsonFields(typ)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s properties\n got %v\nwant %v (from %v)", name, got, want, typ)
		}
	}
}

// jsonFields lists the JSON member names typ encodes.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
