package sip

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

func TestRequestResponses(t *testing.T) {
	s := startServer(t, Config{}, newRecorder(Echo{}))
	tests := []struct {
		name        string
		method      string
		toTag       string
		extra, body string
		want        int
		wantHeader  string // "Name: substring" expected in the response
	}{
		{name: "g729 only", method: "INVITE", extra: "Content-Type: application/sdp", body: offerG729,
			want: 488, wantHeader: `Warning: 305 127.0.0.1 "`},
		{name: "malformed sdp", method: "INVITE", extra: "Content-Type: application/sdp", body: "this is not sdp\n",
			want: 400},
		{name: "no offer", method: "INVITE", want: 488, wantHeader: `Warning: 399 127.0.0.1 "offerless`},
		{name: "not sdp", method: "INVITE", extra: "Content-Type: text/plain", body: "hello\n",
			want: 415, wantHeader: "Accept: application/sdp"},
		{name: "options", method: "OPTIONS", want: 200, wantHeader: "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"},
		{name: "bye without dialog", method: "BYE", toTag: "nope", want: 481},
		{name: "re-invite without dialog", method: "INVITE", toTag: "nope",
			extra: "Content-Type: application/sdp", body: offerPCMU, want: 481},
		{name: "info without dialog", method: "INFO", toTag: "nope", want: 481},
		{name: "cancel without invite", method: "CANCEL", want: 481},
		{name: "unsupported method", method: "MESSAGE", want: 405, wantHeader: "Allow: INVITE"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeer(t, s)
			p.send(p.request(tt.method, fmt.Sprintf("table-%d", i), fmt.Sprintf("tbl%d", i), 1, tt.toTag, tt.extra, tt.body))
			res := p.final()
			if res.StatusCode != tt.want {
				t.Fatalf("status %d %s, want %d\n%s", res.StatusCode, res.Reason, tt.want, res)
			}
			if tt.wantHeader != "" && !strings.Contains(res.String(), tt.wantHeader) {
				t.Errorf("response lacks %q:\n%s", tt.wantHeader, res)
			}
		})
	}
}

// establish sends an INVITE (twice when retransmit is set, as a UDP client
// does when the 100 is lost) and ACKs the 200; it returns the To tag.
func establish(t *testing.T, p *peer, callID string, retransmit bool) string {
	t.Helper()
	inv := p.request("INVITE", callID, callID+"inv", 1, "", "Content-Type: application/sdp", offerPCMU)
	p.send(inv)
	if retransmit {
		time.Sleep(50 * time.Millisecond)
		p.send(inv)
	}
	res := p.final()
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %s", res.StatusCode, res.Reason)
	}
	if res.Contact() == nil || !strings.Contains(string(res.Body()), "m=audio") {
		t.Fatalf("200 lacks Contact or SDP:\n%s", res)
	}
	tag, _ := res.To().Params.Get("tag")
	p.send(p.request("ACK", callID, callID+"ack", 1, tag, "", ""))
	return tag
}

func waitCalls(t *testing.T, rec *recorder, n int) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); rec.count() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("handler called %d times, want %d", rec.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRetransmittedInviteMakesOneCall(t *testing.T) {
	rec := newRecorder(Echo{})
	s := startServer(t, Config{}, rec)
	p := newPeer(t, s)
	tag := establish(t, p, "retrans", true)
	waitCalls(t, rec, 1)
	time.Sleep(200 * time.Millisecond)
	if n := rec.count(); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
	p.send(p.request("BYE", "retrans", "retransbye", 2, tag, "", ""))
	if res := p.final(); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	select {
	case c := <-rec.ended:
		if !errors.Is(c.Err(), ErrRemoteHangup) {
			t.Errorf("ended with %v", c.Err())
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Done not closed after BYE")
	}
}

func TestReInviteHoldResume(t *testing.T) {
	rec := newRecorder(Echo{})
	s := startServer(t, Config{}, rec)
	p := newPeer(t, s)
	tag := establish(t, p, "hold", false)
	waitCalls(t, rec, 1)
	call := rec.calls[0]
	port := call.conn.LocalAddr().String()
	tests := []struct {
		name      string
		offer     string
		wantDir   string
		wantHold  bool
		wantCSeqN int
	}{
		{"hold", strings.Replace(offerPCMU, "a=fmtp:101 0-15\n", "a=fmtp:101 0-15\na=sendonly\n", 1), "a=recvonly", true, 2},
		{"resume", offerPCMU, "a=sendrecv", false, 3},
	}
	for _, tt := range tests {
		p.send(p.request("INVITE", "hold", fmt.Sprintf("hold%d", tt.wantCSeqN), tt.wantCSeqN, tag, "Content-Type: application/sdp", tt.offer))
		res := p.final()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tt.name, res.StatusCode, res.Reason)
		}
		p.send(p.request("ACK", "hold", fmt.Sprintf("holdack%d", tt.wantCSeqN), tt.wantCSeqN, tag, "", ""))
		body := string(res.Body())
		// A missing direction attribute means sendrecv (RFC 4566 §6).
		if !strings.Contains(body, tt.wantDir) && (tt.wantDir != "a=sendrecv" || strings.Contains(body, "only") || strings.Contains(body, "inactive")) {
			t.Errorf("%s: answer lacks %s:\n%s", tt.name, tt.wantDir, body)
		}
		if got := call.Answer().Hold; got != tt.wantHold {
			t.Errorf("%s: Hold = %v, want %v", tt.name, got, tt.wantHold)
		}
		if got := call.conn.LocalAddr().String(); got != port {
			t.Errorf("%s: RTP socket changed from %s to %s", tt.name, port, got)
		}
	}
	p.send(p.request("BYE", "hold", "holdbye", 4, tag, "", ""))
	if res := p.final(); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
}

func TestInviteRateLimit(t *testing.T) {
	s := startServer(t, Config{InviteRate: 0.01, InviteBurst: 1}, newRecorder(Echo{}))
	p := newPeer(t, s)
	for i, want := range []int{488, 503, 503} {
		p.send(p.request("INVITE", fmt.Sprintf("rl%d", i), fmt.Sprintf("rl%d", i), 1, "", "Content-Type: application/sdp", offerG729))
		res := p.final()
		if res.StatusCode != want {
			t.Fatalf("INVITE %d: %d, want %d", i, res.StatusCode, want)
		}
		if want == 503 && res.GetHeader("Retry-After") == nil {
			t.Errorf("503 without Retry-After:\n%s", res)
		}
	}
}

func TestRTPTimeoutHangsUp(t *testing.T) {
	rec := newRecorder(Echo{})
	s := startServer(t, Config{RTPTimeout: 300 * time.Millisecond}, rec)
	p := newPeer(t, s)
	establish(t, p, "rtpto", false)
	// The peer sends no RTP: the server must send BYE; we answer it.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		req, ok := p.read(time.Until(deadline)).(*sipmsg.Request)
		if !ok || req.Method != sipmsg.BYE {
			continue
		}
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
		if _, err := p.conn.WriteToUDP([]byte(res.String()), p.server); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-rec.ended:
			if !errors.Is(c.Err(), ErrRTPTimeout) {
				t.Errorf("ended with %v, want %v", c.Err(), ErrRTPTimeout)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Done not closed")
		}
		return
	}
	t.Fatal("no BYE after the RTP timeout")
}

// TestCloseHangsUpAndLeaksNothing also checks that Close sends BYE to a
// live call and that every goroutine of the server and its calls ends.
func TestCloseHangsUpAndLeaksNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	rec := newRecorder(Echo{})
	s, err := New(Config{Addr: "127.0.0.1:0"}, Deps{Handler: rec, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, s)
	establish(t, p, "shutdown", false)
	waitCalls(t, rec, 1)

	byeSeen := make(chan struct{})
	go func() {
		defer close(byeSeen)
		for {
			req, ok := p.read(5 * time.Second).(*sipmsg.Request)
			if req == nil && !ok {
				return
			}
			if ok && req.Method == sipmsg.BYE {
				res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
				_, _ = p.conn.WriteToUDP([]byte(res.String()), p.server)
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	<-byeSeen
	c := <-rec.ended
	if !errors.Is(c.Err(), ErrShutdown) {
		t.Errorf("call ended with %v, want %v", c.Err(), ErrShutdown)
	}
	// rec's watcher goroutine has ended too once rec.ended was received.
	var after int
	for deadline := time.Now().Add(5 * time.Second); ; {
		after = runtime.NumGoroutine()
		if after <= before || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
