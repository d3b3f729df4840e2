package nluapi_test

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
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
// table, each operation with its scope, and that its references resolve
// in the fragment or the main document it is merged into.
func TestOpenAPIFragment(t *testing.T) {
	f, raw := readFragment(t)
	api, err := nluapi.New(nluapi.DefaultConfig(), nluapi.Deps{Service: &nlu.Service{}})
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
	for _, m := range regexp.MustCompile(`\$ref: "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(raw), -1) {
		kind, name := m[1], m[2]
		if kind == "schemas" {
			if _, ok := f.Components.Schemas[name]; ok {
				continue
			}
		}
		comps, _ := main["components"].(map[string]any)
		if group, _ := comps[kind].(map[string]any); group[name] == nil {
			t.Errorf("$ref #/components/%s/%s resolves neither in the fragment nor in web/openapi", kind, name)
		}
	}
}

// TestOpenAPISchemasMatchGoTypes checks that the schemas list exactly the
// JSON fields the Go types encode.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	f, _ := readFragment(t)
	for name, typ := range map[string]struct {
		t     reflect.Type
		extra []string
	}{
		"NLUClassification": {reflect.TypeFor[nlu.Classification](), []string{"neighbors"}},
		"NLUNeighbor":       {t: reflect.TypeFor[nluapi.Neighbor]()},
		"NLUIntent":         {t: reflect.TypeFor[nlu.IntentResult]()},
		"NLUSentiment":      {t: reflect.TypeFor[nlu.SentimentResult]()},
		"NLUManifest":       {t: reflect.TypeFor[nlu.Manifest]()},
		"NLUTaskVersions":   {t: reflect.TypeFor[nlu.TaskVersions]()},
		"NLUStatus":         {t: reflect.TypeFor[nlu.Status]()},
		"NLUTaskStatus":     {t: reflect.TypeFor[nlu.TaskStatus]()},
		"NLUModelStatus":    {t: reflect.TypeFor[nlu.ModelStatus]()},
		"NLUShadowReport":   {t: reflect.TypeFor[nlu.ShadowReport]()},
		"NLULatency":        {t: reflect.TypeFor[nlu.Latency]()},
		"NLUDisagreement":   {t: reflect.TypeFor[nlu.Disagreement]()},
		"NLUHealthReport":   {t: reflect.TypeFor[nlu.HealthReport]()},
		"NLUIntentGroup":    {t: reflect.TypeFor[nlu.IntentGroup]()},
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
		want := append(jsonFields(typ.t), typ.extra...)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s properties\n got %v\nwant %v (from %v)", name, got, want, typ.t)
		}
	}
}

// jsonFields lists the JSON member names typ encodes, embedded structs
// flattened.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
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
