// Package ort is ONNX Runtime for the whole product: the process-wide
// environment, sessions and tensors. It is the only package that imports the
// cgo binding (github.com/yalue/onnxruntime_go); everything else goes through
// Runtime and Session.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// LibraryVersion is the ONNX Runtime release the binding is built against
// (C API version 24); scripts/setup.sh downloads it into
// .cache/onnxruntime/<LibraryVersion>/lib.
const LibraryVersion = "1.24.1"

// Errors callers branch on.
var (
	// ErrLibrary means the ONNX Runtime shared library cannot be found,
	// loaded or initialised, or a different one is already in use.
	ErrLibrary = errors.New("ort: onnxruntime library")
	// ErrShapeMismatch means the model's inputs or outputs (names, element
	// types, ranks, fixed dimensions) differ from what the caller expects,
	// or a tensor passed to Run does not fit them.
	ErrShapeMismatch = errors.New("ort: shape mismatch")
	// ErrBadModel means the model file cannot be parsed (corrupt or truncated).
	ErrBadModel = errors.New("ort: bad model file")
	// ErrClosed means the Runtime or Session was closed.
	ErrClosed = errors.New("ort: closed")
)

// env is the binding's process-global ONNX Runtime environment. The binding
// keeps it in package variables, so this is the one place a global is
// unavoidable: a refcount lets independent Runtimes (the server, tests in
// one binary) share it, and the last Close destroys it.
var env struct {
	mu   sync.Mutex
	refs int
	lib  string
}

// Options configures a Runtime.
type Options struct {
	// LibraryPath is the libonnxruntime shared library; "" means
	// LibraryFromEnv().
	LibraryPath string
	// IntraOpThreads is the default intra-op thread count for sessions
	// (0 = ONNX Runtime's default: one per physical core).
	IntraOpThreads int
	// InterOpThreads is the inter-op thread count for sessions (0 = default).
	InterOpThreads int
}

// Runtime is a handle on the initialised ONNX Runtime environment. Open one
// at start-up and Close it at shutdown; it is safe for concurrent use.
type Runtime struct {
	opts Options

	// mu is held shared by Inspect and Load and exclusively by Close, so
	// the environment is never destroyed under a call that uses it.
	mu     sync.RWMutex
	closed bool

	smu      sync.Mutex
	sessions map[*Session]struct{}
}

// Open initialises the ONNX Runtime environment, or shares it if another
// Runtime already did. A second Open with a different library path fails
// with ErrLibrary: one process can hold only one ONNX Runtime.
func Open(opts Options) (*Runtime, error) {
	if opts.LibraryPath == "" {
		opts.LibraryPath = LibraryFromEnv()
	}
	if opts.LibraryPath == "" {
		return nil, fmt.Errorf("%w: no library found; set ONNXRUNTIME_LIB or run `make setup`", ErrLibrary)
	}
	if opts.IntraOpThreads < 0 || opts.InterOpThreads < 0 {
		return nil, fmt.Errorf("ort: negative thread count (intra %d, inter %d)", opts.IntraOpThreads, opts.InterOpThreads)
	}
	lib, err := filepath.Abs(opts.LibraryPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrLibrary, opts.LibraryPath, err)
	}
	// libonnxruntime.so and .so.1 are usually links to one file: the same
	// library under another name is not a second library.
	if real, err := filepath.EvalSymlinks(lib); err == nil {
		lib = real
	}
	opts.LibraryPath = lib

	env.mu.Lock()
	defer env.mu.Unlock()
	if env.refs > 0 {
		if env.lib != lib {
			return nil, fmt.Errorf("%w: already initialised with %s, cannot also load %s", ErrLibrary, env.lib, lib)
		}
		env.refs++
		return newRuntime(opts), nil
	}
	if _, err := os.Stat(lib); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLibrary, err)
	}
	onnx.SetSharedLibraryPath(lib)
	if err := onnx.InitializeEnvironment(onnx.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("%w: initialise %s: %w", ErrLibrary, lib, err)
	}
	env.refs, env.lib = 1, lib
	return newRuntime(opts), nil
}

func newRuntime(opts Options) *Runtime {
	return &Runtime{opts: opts, sessions: map[*Session]struct{}{}}
}

// Close closes the sessions still open on r and releases r's share of the
// environment; the last Close destroys it. Closing twice is a no-op.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()

	r.smu.Lock()
	open := make([]*Session, 0, len(r.sessions))
	for s := range r.sessions {
		open = append(open, s)
	}
	r.smu.Unlock()

	var errs []error
	for _, s := range open {
		errs = append(errs, s.Close())
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	env.refs--
	if env.refs == 0 {
		env.lib = ""
		if err := onnx.DestroyEnvironment(); err != nil {
			errs = append(errs, fmt.Errorf("%w: destroy environment: %w", ErrLibrary, err))
		}
	}
	return errors.Join(errs...)
}

// LibraryFromEnv returns $ONNXRUNTIME_LIB if set, else the first existing
// library among <repo>/.cache/onnxruntime/<LibraryVersion>/lib (found by
// walking up from the working directory), the executable's directory and
// the usual system locations; "" if none exists.
func LibraryFromEnv() string {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return p
	}
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, ".cache", "onnxruntime", LibraryVersion, "lib", "libonnxruntime.so.1"))
			if parent := filepath.Dir(dir); parent == dir {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates,
			filepath.Join(filepath.Dir(exe), "libonnxruntime.so.1"),
			filepath.Join(filepath.Dir(exe), "..", "lib", "libonnxruntime.so.1"))
	}
	candidates = append(candidates,
		"/usr/local/lib/libonnxruntime.so.1",
		"/usr/lib/libonnxruntime.so.1",
		"/usr/lib/x86_64-linux-gnu/libonnxruntime.so.1",
		"/usr/lib/aarch64-linux-gnu/libonnxruntime.so.1",
	)
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	return ""
}
