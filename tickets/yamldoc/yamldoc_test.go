package yamldoc_test

import (
	"errors"
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/yamldoc"
)

type doc struct {
	Name yamldoc.At[string] `yaml:"name"`
	Size yamldoc.At[int]    `yaml:"size"`
}

func (d *doc) UnmarshalYAML(n *yaml.Node) error {
	if err := yamldoc.KnownKeys(n, "doc", "name", "size"); err != nil {
		return err
	}
	type plain doc
	return n.Decode((*plain)(d))
}

func TestProblemsCarryLines(t *testing.T) {
	tests := []struct {
		name, in string
		want     []yamldoc.Problem
	}{
		{"unknown key", "name: a\nsise: 3\n", []yamldoc.Problem{{Line: 2, Message: `unknown key "sise" in doc (want name, size)`}}},
		{"type error", "name: a\nsize: lots\n", []yamldoc.Problem{{Line: 2, Message: "cannot unmarshal !!str `lots` into int"}}},
		{"syntax", "name: [a\n", []yamldoc.Problem{{Line: 1, Message: "did not find expected ',' or ']'"}}},
		{"not a mapping", "- a\n", []yamldoc.Problem{{Line: 1, Message: "doc must be a mapping"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := yaml.Unmarshal([]byte(tt.in), &d)
			if err == nil {
				t.Fatal("decoding succeeded")
			}
			got := yamldoc.Problems(err)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Problems = %+v, want %+v", got, tt.want)
			}
		})
	}
	var d doc
	if err := yaml.Unmarshal([]byte("name: a\n\nsize: 3\n"), &d); err != nil || d.Size.V != 3 || d.Size.Line != 3 {
		t.Fatalf("At = %+v, %v; want 3 on line 3", d.Size, err)
	}
}

func TestParseErrorIsInvalid(t *testing.T) {
	err := error(&yamldoc.ParseError{Doc: "sla: invalid policies", Problems: []yamldoc.Problem{{Line: 4, Message: "bad"}, {Message: "worse"}}})
	if !errors.Is(err, tickets.ErrInvalid) {
		t.Fatal("ParseError does not wrap tickets.ErrInvalid")
	}
	if got, want := err.Error(), "sla: invalid policies; line 4: bad; worse"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
