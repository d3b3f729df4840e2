// Package openapi holds Switchboard's OpenAPI 3 document, written by hand
// in openapi.yaml and embedded in the binary. The web server serves it as
// JSON at /openapi.json; a test in package web checks that it documents
// exactly the routes the server registers, each with its required scope.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var document []byte

// YAML returns the document as written. The slice is a copy.
func YAML() []byte { return append([]byte(nil), document...) }

// JSON returns the document converted to JSON. It converts on every call;
// the server calls it once when it builds its handler. It panics if the
// embedded YAML is invalid, which the package's tests rule out.
func JSON() []byte {
	b, err := toJSON(document)
	if err != nil {
		panic(fmt.Sprintf("openapi: embedded document: %v", err))
	}
	return b
}

// toJSON converts a YAML document to JSON. YAML allows non-string keys
// (an unquoted response code such as 200 is an integer); JSON does not,
// so keys are rendered as strings.
func toJSON(y []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(y, &v); err != nil {
		return nil, err
	}
	v, err := jsonable(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func jsonable(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			x[k] = j
		}
		return x, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = j
		}
		return m, nil
	case []any:
		for i, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			x[i] = j
		}
		return x, nil
	}
	return v, nil
}
