package importer_test

import "gopkg.in/yaml.v3"

// yamlInto decodes a mapping without validating it, so tests can hand
// NewReader a broken one.
func yamlInto(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }
