// Package vadtest loads the real Silero VAD model for tests of packages that
// listen to callers. A missing model skips the test on a bare machine and
// fails it where the environment promises one (SWITCHBOARD_REQUIRE_MODELS=1,
// which `make test` sets after downloading it).
package vadtest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
	"github.com/switchboard-cc/switchboard/nlu/vad"
)

// Required reports whether tests must fail, not skip, without the model.
func Required() bool { return os.Getenv("SWITCHBOARD_REQUIRE_MODELS") == "1" }

// Dir returns the directory of the downloaded model,
// <repo>/models/vad/<vad.DefaultVersion>, found by walking up from the
// working directory to go.mod; it skips (fails when Required) the test if
// the model file is not there.
func Dir(t testing.TB) string {
	t.Helper()
	why := "no go.mod above the working directory"
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				md := filepath.Join(dir, "models", "vad", vad.DefaultVersion)
				_, err := os.Stat(filepath.Join(md, vad.ModelFile))
				if err == nil {
					return md
				}
				why = "Silero VAD model missing: " + err.Error()
				if !errors.Is(err, fs.ErrNotExist) {
					why = "Silero VAD model unusable: " + err.Error()
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if Required() {
		t.Fatalf("%s, and SWITCHBOARD_REQUIRE_MODELS=1 requires it (scripts/setup.sh downloads it)", why)
	}
	t.Skipf("%s; `make test` (or scripts/setup.sh) downloads it", why)
	return ""
}

// Model loads the model on a test Runtime (one thread) and closes both when
// the test ends.
func Model(t testing.TB) *vad.Model {
	t.Helper()
	dir := Dir(t)
	m, err := vad.Load(orttest.Runtime(t), dir, 1)
	if err != nil {
		t.Fatalf("vad.Load: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
