// Package orttest opens the real ONNX Runtime for tests of packages that run
// models. A missing library skips the test on a bare machine and fails it
// where the environment promises one (CI=true or SWITCHBOARD_REQUIRE_ES=1,
// which `make test` sets along with ONNXRUNTIME_LIB).
package orttest

import (
	"os"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/ort"
)

// Required reports whether tests must fail, not skip, without the library.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("SWITCHBOARD_REQUIRE_ES") == "1"
}

// Library returns the ONNX Runtime library path, or skips (fails when
// Required) the test if there is none.
func Library(t testing.TB) string {
	t.Helper()
	lib := ort.LibraryFromEnv()
	why := ""
	switch {
	case lib == "":
		why = "no ONNX Runtime library found"
	default:
		if _, err := os.Stat(lib); err != nil {
			why = "ONNX Runtime library unusable: " + err.Error()
		}
	}
	if why == "" {
		return lib
	}
	if Required() {
		t.Fatalf("%s, and CI/SWITCHBOARD_REQUIRE_ES require it (set ONNXRUNTIME_LIB)", why)
	}
	t.Skipf("%s; `make test` downloads it and sets ONNXRUNTIME_LIB", why)
	return ""
}

// Runtime opens a Runtime on Library with one intra-op thread per session
// (tests share small machines) and closes it when the test ends.
func Runtime(t testing.TB) *ort.Runtime {
	t.Helper()
	rt, err := ort.Open(ort.Options{LibraryPath: Library(t), IntraOpThreads: 1})
	if err != nil {
		t.Fatalf("ort.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Errorf("ort Runtime.Close: %v", err)
		}
	})
	return rt
}
