// Package openapitest checks a domain API's OpenAPI fragment — the
// openapi.yaml beside its route table, merged by hand into
// web/openapi/openapi.yaml — against what the package serves: every route
// documented with its scope and nothing else, every reference resolving,
// the main document holding the fragment as written, and each schema
// listing exactly the JSON fields of the Go type it describes. Domain API
// packages call it from their tests.
package openapitest

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/openapi"
)

// fragment is the part of an openapi.yaml fragment the checks read.
type fragment struct {
	Paths      map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

func read(t testing.TB, path string) (fragment, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f fragment
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f, b
}

// CheckFragment checks the fragment at path against routes: each route is
// documented with an operationId, a summary, responses and its one oauth2
// scope, and no other operation is; every #/components reference resolves
// in the fragment or in the main document; and the main document's copy of
// each path and schema equals the fragment's (the merge is by hand, so a
// fragment edited without it fails here).
func CheckFragment(t testing.TB, path string, routes []web.Route) {
	t.Helper()
	f, raw := read(t, path)
	documented := map[string]string{}
	for p, item := range f.Paths {
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
			where := strings.ToUpper(method) + " " + p
			if o.OperationID == "" || o.Summary == "" || len(o.Responses) == 0 || len(o.Security) != 1 || len(o.Security[0]["oauth2"]) != 1 {
				t.Errorf("%s: needs operationId, summary, responses and one oauth2 scope", where)
				continue
			}
			documented[where] = o.Security[0]["oauth2"][0]
		}
	}
	for _, r := range routes {
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

	// Compare as JSON values, the form the main document is served in.
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
			t.Errorf("web/openapi/openapi.yaml path %s differs from %s; merge it again", p, path)
		}
	}
	for s, schema := range fragJSON.Components.Schemas {
		if !reflect.DeepEqual(schemas[s], schema) {
			t.Errorf("web/openapi/openapi.yaml schema %s differs from %s; merge it again", s, path)
		}
	}
}

// Schema is the Go type a schema describes, and properties it has beyond
// the type's JSON fields (added by the API layer).
type Schema struct {
	Type  reflect.Type
	Extra []string
}

// CheckSchemas checks that each named schema of the fragment at path lists
// exactly its Go type's JSON fields (embedded structs flattened) plus Extra.
func CheckSchemas(t testing.TB, path string, schemas map[string]Schema) {
	t.Helper()
	f, _ := read(t, path)
	for name, want := range schemas {
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
		fields := append(JSONFields(want.Type), want.Extra...)
		slices.Sort(fields)
		if !slices.Equal(got, fields) {
			t.Errorf("schema %s properties\n got %v\nwant %v (from %v)", name, got, fields, want.Type)
		}
	}
}

// JSONFields lists the JSON member names typ encodes, embedded structs
// flattened.
func JSONFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, JSONFields(f.Type)...)
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
