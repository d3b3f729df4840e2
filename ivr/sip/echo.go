package sip

import (
	"context"
	"time"
)

// Echo is a CallHandler for tests and demos that plays the caller's audio
// back to them, so a peer such as SIPp can observe media both ways. With
// HangupAfter set it hangs up (sends BYE) after that long; otherwise it
// echoes until the caller hangs up.
type Echo struct {
	HangupAfter time.Duration
}

// HandleCall echoes the call's frames until the call ends or HangupAfter
// passes.
func (e Echo) HandleCall(ctx context.Context, call *Call) {
	var deadline <-chan time.Time
	if e.HangupAfter > 0 {
		t := time.NewTimer(e.HangupAfter)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case f, ok := <-call.Frames():
			if !ok {
				return
			}
			if f.Concealed {
				continue // nothing heard: send nothing rather than our own silence
			}
			if err := call.WriteFrame(f.Samples); err != nil {
				return
			}
		case <-deadline:
			_ = call.Hangup(ctx)
			return
		case <-ctx.Done():
			return
		}
	}
}

var _ CallHandler = Echo{}
