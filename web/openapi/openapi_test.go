package openapi_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/openapi"
)

func document(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	return doc
}

// lookup follows a local JSON pointer such as #/components/schemas/Ticket.
func lookup(doc map[string]any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// TestReferencesResolve checks that every $ref points into the document.
func TestReferencesResolve(t *testing.T) {
	doc := document(t)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, ok := lookup(doc, ref); !ok {
					t.Errorf("%s: $ref %q does not resolve", path, ref)
				}
			}
			for k, e := range x {
				walk(path+"/"+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("#", doc)
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// TestOperations checks what every operation needs: a unique operationId, a
// summary, a security requirement (empty for public routes, otherwise one
// known scope of the oauth2 scheme) and responses.
func TestOperations(t *testing.T) {
	doc := document(t)
	if v := doc["openapi"]; v != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", v)
	}
	scheme, ok := lookup(doc, "#/components/securitySchemes/oauth2/flows/clientCredentials/scopes")
	if !ok {
		t.Fatal("no oauth2 client credentials scheme")
	}
	var documented []string
	for s := range scheme.(map[string]any) {
		documented = append(documented, s)
	}
	slices.Sort(documented)
	want := auth.AllScopes()
	slices.Sort(want)
	if !slices.Equal(documented, want) {
		t.Errorf("documented scopes %v, want auth.AllScopes() %v", documented, want)
	}

	ids := map[string]string{}
	paths := doc["paths"].(map[string]any)
	for path, item := range paths {
		for _, m := range methods {
			op, ok := item.(map[string]any)[m].(map[string]any)
			if !ok {
				continue
			}
			where := strings.ToUpper(m) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("%s: operationId %q also used by %s", where, id, prev)
			}
			ids[id] = where
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s: no summary", where)
			}
			if r, _ := op["responses"].(map[string]any); len(r) == 0 {
				t.Errorf("%s: no responses", where)
			}
			sec, ok := op["security"].([]any)
			if !ok {
				t.Errorf("%s: no security (use [] for public operations)", where)
				continue
			}
			if strings.HasPrefix(path, "/api/") && len(sec) != 1 {
				t.Errorf("%s: security lists %d requirements, want one scope", where, len(sec))
			}
			for _, req := range sec {
				for name, scopes := range req.(map[string]any) {
					if name != "oauth2" {
						t.Errorf("%s: unknown security scheme %q", where, name)
					}
					for _, s := range scopes.([]any) {
						if !slices.Contains(auth.AllScopes(), s.(string)) {
							t.Errorf("%s: unknown scope %v", where, s)
						}
					}
				}
			}
		}
	}
}

// TestSchemasMatchGoTypes checks that the schemas of the domain types list
// exactly the JSON fields the Go types encode, so the document cannot fall
// behind the code.
func TestSchemasMatchGoTypes(t *testing.T) {
	doc := document(t)
	for name, typ := range map[string]reflect.Type{
		"Ticket":     reflect.TypeFor[tickets.Ticket](),
		"NewTicket":  reflect.TypeFor[tickets.NewTicket](),
		"Patch":      reflect.TypeFor[tickets.Patch](),
		"NewComment": reflect.TypeFor[tickets.NewComment](),
		"Customer":   reflect.TypeFor[tickets.Customer](),
		"Category":   reflect.TypeFor[tickets.Category](),
		"Sentiment":  reflect.TypeFor[tickets.Sentiment](),
		"SLA":        reflect.TypeFor[tickets.SLA](),
		"Comment":    reflect.TypeFor[tickets.Comment](),
		"CSAT":       reflect.TypeFor[tickets.CSAT](),
		"Change":     reflect.TypeFor[tickets.Change](),
		"Metrics":    reflect.TypeFor[tickets.Metrics](),
		"Page":       reflect.TypeFor[tickets.Page](),
		"Stats":      reflect.TypeFor[tickets.Stats](),
		"Bucket":     reflect.TypeFor[tickets.Bucket](),
		"Keyword":    reflect.TypeFor[tickets.Keyword](),
		// The webhook schemas describe tickets/webhook's types as served.
		"WebhookEndpoint": reflect.TypeFor[webhook.Endpoint](),
		"Delivery":        reflect.TypeFor[webhook.Delivery](),
	} {
		s, ok := lookup(doc, "#/components/schemas/"+name+"/properties")
		if !ok {
			t.Errorf("schema %s has no properties", name)
			continue
		}
		var got []string
		for p := range s.(map[string]any) {
			got = append(got, p)
		}
		slices.Sort(got)
		want := jsonFields(typ)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s properties\n got %v\nwant %v (from %v)", name, got, want, typ)
		}
	}
}

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
	slices.Sort(out)
	return out
}

func TestYAMLAndJSONAgree(t *testing.T) {
	if len(openapi.YAML()) == 0 {
		t.Fatal("empty YAML")
	}
	a, b := openapi.JSON(), openapi.JSON()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Error("JSON() is not deterministic")
	}
}
