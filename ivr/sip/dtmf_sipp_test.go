package sip

import (
	"context"
	"sync"
	"testing"
)

// digitsHandler collects the caller's keys until the call ends.
type digitsHandler struct {
	mu   sync.Mutex
	keys []byte
}

func (h *digitsHandler) HandleCall(ctx context.Context, c *Call) {
	for {
		select {
		case d, ok := <-c.Digits():
			if !ok {
				return
			}
			h.mu.Lock()
			h.keys = append(h.keys, d.Key)
			h.mu.Unlock()
		case _, ok := <-c.Frames():
			if !ok {
				return
			}
		}
	}
}

// TestSIPpDTMF has SIPp send RFC 4733 telephone-events (play_dtmf) while it
// streams audio: each key arrives once, in order.
func TestSIPpDTMF(t *testing.T) {
	sippPath(t)
	h := &digitsHandler{}
	s := startServer(t, Config{}, h)
	if err := runSIPp(t, s, "uac_dtmf.xml", "u1"); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if string(h.keys) != "123#" {
		t.Errorf("keys %q, want 123#", h.keys)
	}
}
