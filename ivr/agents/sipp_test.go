package agents_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestRegisterSIPp registers a phone driven by SIPp, whose digest code is
// independent of the library the registrar uses; a wrong password must
// make the same scenario fail.
func TestRegisterSIPp(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_SIPP") != "" {
			t.Fatalf("sipp not found and SWITCHBOARD_REQUIRE_SIPP is set: %v", err)
		}
		t.Skip("sipp not on PATH; `make test` (scripts/test.sh) installs sip-tester and runs this test")
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", "uac_register.xml"))
	if err != nil {
		t.Fatal(err)
	}
	d := registrarDir(t)
	_, port := registrar(t, d)
	for _, tt := range []struct {
		password string
		ok       bool
	}{{"looking-glass", false}, {"wonderland", true}} {
		local := freeUDPPort(t)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, sipp, fmt.Sprintf("127.0.0.1:%d", port),
			"-sf", scenario, "-s", "alice", "-au", "alice", "-ap", tt.password,
			"-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(local),
			"-timeout", "10s", "-timeout_error", "-nostdin")
		cmd.Dir = t.TempDir()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if (err == nil) != tt.ok {
			t.Fatalf("sipp with password %q: %v, want success %v\n%s", tt.password, err, tt.ok, tail(out.Bytes(), 2000))
		}
		a, _ := d.Agent("alice")
		want := ""
		if tt.ok {
			want = fmt.Sprintf("sip:alice@127.0.0.1:%d", local)
		}
		if a.Contact != want {
			t.Errorf("with password %q: binding %q, want %q", tt.password, a.Contact, want)
		}
	}
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

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
