package sip

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// sippPath returns the sipp binary or skips the test; with
// SWITCHBOARD_REQUIRE_SIPP set a missing sipp fails instead, so CI cannot
// silently lose these tests.
func sippPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_SIPP") != "" {
			t.Fatalf("sipp not found and SWITCHBOARD_REQUIRE_SIPP is set: %v", err)
		}
		t.Skip("sipp not on PATH; `make test` (scripts/test.sh) installs sip-tester and runs this test")
	}
	return p
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSIPp runs one call of a scenario from testdata against s and returns
// SIPp's exit error (nil means every call succeeded).
func runSIPp(t *testing.T, s *Server, scenario, transport string) error {
	t.Helper()
	sipp := sippPath(t)
	dir := t.TempDir()
	for _, f := range []string{scenario, "tone_ulaw.wav"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "testdata", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, s.UDPAddr().String(),
		"-sf", filepath.Join("testdata", scenario),
		"-t", transport,
		"-m", "1", "-l", "1",
		"-p", strconv.Itoa(freeUDPPort(t)),
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-timeout", "15s", "-timeout_error",
		"-trace_err", "-nostdin")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "testdata", "*errors.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), b)
		}
		t.Logf("sipp output (tail):\n%s", tail(out.Bytes(), 3000))
	}
	return err
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func TestSIPp(t *testing.T) {
	tests := []struct {
		name      string
		scenario  string
		transport string
		cfg       Config
		handler   CallHandler
		wantCalls int
		wantEnd   error // why the call ended, when wantCalls is 1
		wantRTP   bool
	}{
		{name: "basic udp", scenario: "uac_basic.xml", transport: "u1", handler: Echo{},
			wantCalls: 1, wantEnd: ErrRemoteHangup, wantRTP: true},
		{name: "basic tcp", scenario: "uac_basic.xml", transport: "t1", handler: Echo{},
			wantCalls: 1, wantEnd: ErrRemoteHangup, wantRTP: true},
		{name: "g729 only is 488", scenario: "uac_488.xml", transport: "u1", handler: Echo{}},
		{name: "cancel while ringing", scenario: "uac_cancel.xml", transport: "u1", handler: Echo{},
			cfg: Config{RingDelay: 3 * time.Second}},
		{name: "server hangs up", scenario: "uac_server_bye.xml", transport: "u1",
			handler: Echo{HangupAfter: time.Second}, wantCalls: 1, wantEnd: ErrLocalHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sippPath(t)
			rec := newRecorder(tt.handler)
			s := startServer(t, tt.cfg, rec)
			if err := runSIPp(t, s, tt.scenario, tt.transport); err != nil {
				t.Fatalf("sipp: %v", err)
			}
			if got := rec.count(); got != tt.wantCalls {
				t.Fatalf("handler called %d times, want %d", got, tt.wantCalls)
			}
			if tt.wantCalls == 0 {
				if n := s.ActiveCalls(); n != 0 {
					t.Errorf("ActiveCalls = %d, want 0", n)
				}
				return
			}
			var call *Call
			select {
			case call = <-rec.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("call not ended (Done not closed)")
			}
			if !errors.Is(call.Err(), tt.wantEnd) {
				t.Errorf("call ended with %v, want %v", call.Err(), tt.wantEnd)
			}
			if tt.wantRTP && call.PacketsReceived() == 0 {
				t.Error("no RTP packets reached the server")
			}
			t.Logf("rtp packets received: %d", call.PacketsReceived())
		})
	}
}
