package sip

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// runSIPpLoad runs n calls of a scenario at rate calls/s, limit at once.
func runSIPpLoad(t *testing.T, s *Server, scenario string, n, rate, limit int) {
	t.Helper()
	sipp := sippPath(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{scenario, "tone_ulaw.wav"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "testdata", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, s.UDPAddr().String(), "-sf", filepath.Join("testdata", scenario),
		"-t", "u1", "-m", strconv.Itoa(n), "-r", strconv.Itoa(rate), "-l", strconv.Itoa(limit),
		"-p", strconv.Itoa(freeUDPPort(t)), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-timeout", "100s", "-timeout_error", "-trace_err", "-nostdin")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "testdata", "*errors.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), tail(b, 3000))
		}
		t.Fatalf("sipp %s: %v\n%s", scenario, err, tail(out.Bytes(), 2000))
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// waitIdle waits for every call to end and the goroutine count to settle.
func waitIdle(t *testing.T, s *Server, goroutines int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if s.ActiveCalls() == 0 && n <= goroutines {
			return n
		}
		if time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestThousandCallsLeakNothing puts 1,000 real SIP calls through the
// server: half hang up with BYE, half vanish and are ended by the RTP
// timeout. Afterwards no call is left, and goroutines and heap are back
// where they were after a warm-up.
func TestThousandCallsLeakNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 calls")
	}
	sippPath(t)
	// Neither a recorder (it keeps every call) nor the test logger (it
	// keeps every line) here: the heap must hold what the server holds.
	var handled atomic.Int64
	h := CallHandlerFunc(func(ctx context.Context, c *Call) {
		handled.Add(1)
		Echo{}.HandleCall(ctx, c)
	})
	s, err := New(Config{Addr: "127.0.0.1:0", RTPTimeout: time.Second, InviteRate: 1000, InviteBurst: 1000}, Deps{Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	runSIPpLoad(t, s, "uac_short.xml", 50, 50, 50) // warm-up: pools, sipgo's transaction layer
	base := waitIdle(t, s, 0)
	baseHeap := heapAfterGC()

	runSIPpLoad(t, s, "uac_short.xml", 500, 100, 100)
	runSIPpLoad(t, s, "uac_no_bye.xml", 500, 100, 100)
	after := waitIdle(t, s, base)
	// sipgo keeps finished transactions for RFC 3261's timers (Timer J and
	// L: 64*T1 = 32 s over UDP) to absorb retransmissions; they hold
	// memory until then, which is not a leak.
	var afterHeap uint64
	for deadline := time.Now().Add(45 * time.Second); ; {
		afterHeap = heapAfterGC()
		if afterHeap <= baseHeap+4<<20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}

	if got := handled.Load(); got != 1050 {
		t.Errorf("handler ran for %d calls, want 1050", got)
	}
	if n := s.ActiveCalls(); n != 0 {
		t.Errorf("%d calls still up", n)
	}
	t.Logf("goroutines %d → %d; heap %d KiB → %d KiB", base, after, baseHeap>>10, afterHeap>>10)
	if after > base {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after warm-up, %d after 1,000 calls:\n%s", base, after, buf[:runtime.Stack(buf, true)])
	}
	// Every call kept would hold its receiver (jitter buffer) and dialog:
	// tens of KiB each, so 1,000 leaked calls would be tens of MiB.
	if afterHeap > baseHeap+4<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB over 1,000 calls", baseHeap>>10, afterHeap>>10)
	}
}
