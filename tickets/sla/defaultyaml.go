package sla

import "bytes"

// DefaultYAML returns the built-in policies document that Default parses, so
// a deployment can seed its editable copy from it.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }
