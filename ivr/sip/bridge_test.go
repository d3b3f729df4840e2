package sip

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSIPpBridge: the caller's phone refuses the REFER (603), so the IVR
// calls the agent itself (SIPp as the agent's phone, answering with PCMA)
// and relays audio both ways until the agent hangs up; then the caller is
// hung up.
func TestSIPpBridge(t *testing.T) {
	sipp := sippPath(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"uas_agent.xml", "tone_ulaw.wav"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "testdata", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	agentPort := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	agent := exec.CommandContext(ctx, sipp, "-sf", filepath.Join("testdata", "uas_agent.xml"), "-t", "u1", "-m", "1",
		"-p", strconv.Itoa(agentPort), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-timeout", "30s", "-timeout_error", "-trace_err", "-nostdin")
	agent.Dir = dir
	var agentOut bytes.Buffer
	agent.Stdout, agent.Stderr = &agentOut, &agentOut
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	target := "sip:agent@127.0.0.1:" + strconv.Itoa(agentPort)

	type result struct {
		referErr  error
		stats     BridgeStats
		bridgeErr error
	}
	results := make(chan result, 1)
	h := CallHandlerFunc(func(ctx context.Context, c *Call) {
		time.Sleep(300 * time.Millisecond)
		var r result
		r.referErr = c.Refer(ctx, target)
		r.stats, r.bridgeErr = c.Bridge(ctx, target, 5*time.Second)
		results <- r
	})
	s := startServer(t, Config{}, h)
	if err := runSIPp(t, s, "uac_refer_refused.xml", "u1"); err != nil {
		t.Fatalf("caller sipp: %v", err)
	}
	if err := agent.Wait(); err != nil {
		t.Fatalf("agent sipp: %v\n%s", err, tail(agentOut.Bytes(), 2000))
	}
	r := <-results
	var re *ReferError
	if !errors.As(r.referErr, &re) || re.Status != 603 {
		t.Errorf("Refer: %v, want a 603 ReferError", r.referErr)
	}
	if r.bridgeErr != nil {
		t.Fatalf("Bridge: %v", r.bridgeErr)
	}
	// Two seconds of the agent talking, and of the caller: about 100
	// packets each way at 50 a second.
	if r.stats.FromAgent < 50 || r.stats.ToAgent < 50 {
		t.Errorf("bridge relayed %+v, want ~100 packets each way", r.stats)
	}
	t.Logf("bridge: %+v", r.stats)
}

// TestBridgeRefused: an agent's phone that does not answer within the ring
// time fails the bridge at once and leaves the caller's call as it was.
func TestBridgeRefused(t *testing.T) {
	sippPath(t)
	got := make(chan error, 1)
	h := CallHandlerFunc(func(ctx context.Context, c *Call) {
		// Nobody listens on this port: the INVITE times out within the ring time.
		_, err := c.Bridge(ctx, "sip:agent@127.0.0.1:"+strconv.Itoa(freeUDPPort(t)), time.Second)
		got <- err
		Echo{HangupAfter: time.Millisecond}.HandleCall(ctx, c)
	})
	s := startServer(t, Config{}, h)
	if err := runSIPp(t, s, "uac_server_bye.xml", "u1"); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	if err := <-got; err == nil {
		t.Fatal("bridge to nobody succeeded")
	}
}
