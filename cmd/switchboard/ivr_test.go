package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIVRValidate(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	src := "id: b\nversion: 1\nstart: menu\nnodes:\n  menu:\n    kind: ask\n    prompt: nope\n    intents: {refund: bye}\n    next: bye\n    no_input: {then: bye}\n    no_match: {then: bye}\n  bye: {kind: hangup}\n"
	if err := os.WriteFile(broken, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	demo := filepath.Join("..", "..", "ivr", "flows", "ecommerce.yaml")
	labels := filepath.Join("..", "..", "models", "intent", "2026-11-24.1", "labels.json")
	tests := []struct {
		name string
		args []string
		code int
		want []string // lines of stdout
	}{
		{"demo", []string{"ivr", "validate", "--intents", labels, demo}, 0, nil},
		{"broken", []string{"ivr", "validate", "--intents", labels, broken}, 1, []string{
			broken + `:7:13: node "menu": unknown prompt "nope"`,
			broken + `:8:15: node "menu": unknown intent "refund"`,
		}},
		{"no labels, intents unchecked", []string{"ivr", "validate", "--models-dir", t.TempDir(), broken}, 1, []string{
			broken + `:7:13: node "menu": unknown prompt "nope"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			var got []string
			if s := strings.TrimSpace(stdout.String()); s != "" {
				got = strings.Split(s, "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), strings.Join(tt.want, "\n"))
			}
		})
	}
}
