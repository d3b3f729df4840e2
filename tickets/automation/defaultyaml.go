package automation

import "bytes"

// DefaultYAML returns the built-in rules document that Default parses, so a
// deployment can seed its editable copy from it.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }
