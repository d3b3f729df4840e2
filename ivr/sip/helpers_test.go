package sip

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// recorder is a CallHandler that remembers its calls and delegates to next.
type recorder struct {
	next CallHandler

	mu    sync.Mutex
	calls []*Call
	ended chan *Call
}

func newRecorder(next CallHandler) *recorder {
	return &recorder{next: next, ended: make(chan *Call, 16)}
}

func (r *recorder) HandleCall(ctx context.Context, call *Call) {
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
	go func() { <-call.Done(); r.ended <- call }()
	r.next.HandleCall(ctx, call)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func startServer(t *testing.T, cfg Config, h CallHandler) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := New(cfg, Deps{Handler: h, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// peer is a raw UDP SIP peer for tests that need exact control over the
// bytes (retransmissions, malformed requests).
type peer struct {
	t      *testing.T
	conn   *net.UDPConn
	server *net.UDPAddr
}

func newPeer(t *testing.T, s *Server) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &peer{t: t, conn: c, server: net.UDPAddrFromAddrPort(s.UDPAddr())}
}

func (p *peer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *peer) send(msg string) {
	p.t.Helper()
	msg = strings.ReplaceAll(strings.TrimLeft(msg, "\n"), "\n", "\r\n")
	if _, err := p.conn.WriteToUDP([]byte(msg), p.server); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next message, or nil after the timeout.
func (p *peer) read(timeout time.Duration) sipmsg.Message {
	p.t.Helper()
	buf := make([]byte, 65535)
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, _, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return nil
	}
	m, err := sipmsg.NewParser().ParseSIP(buf[:n])
	if err != nil {
		p.t.Fatalf("parse %q: %v", buf[:n], err)
	}
	return m
}

// final reads until a final response and returns it.
func (p *peer) final() *sipmsg.Response {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m := p.read(time.Until(deadline))
		if res, ok := m.(*sipmsg.Response); ok && res.StatusCode >= 200 {
			return res
		}
	}
	p.t.Fatal("no final response")
	return nil
}

// request builds a request from this peer; extra holds header lines and,
// after a blank line, a body.
func (p *peer) request(method, callID, branch string, cseq int, toTag, extra, body string) string {
	to := fmt.Sprintf("<sip:ivr@%s>", p.server)
	if toTag != "" {
		to += ";tag=" + toTag
	}
	cseqMethod := method
	if method == "ACK" && cseq == 0 {
		cseq = 1
	}
	b := fmt.Sprintf(`%s sip:ivr@%s SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s
From: <sip:caller@127.0.0.1:%d>;tag=caller1
To: %s
Call-ID: %s
CSeq: %d %s
Contact: <sip:caller@127.0.0.1:%d>
Max-Forwards: 70
`, method, p.server, p.port(), branch, p.port(), to, callID, cseq, cseqMethod, p.port())
	if extra != "" {
		b += extra + "\n"
	}
	b += fmt.Sprintf("Content-Length: %d\n\n", len(strings.ReplaceAll(body, "\n", "\r\n")))
	return b + body
}

const (
	offerPCMU = `v=0
o=caller 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 40000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
`
	offerG729 = `v=0
o=caller 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 40000 RTP/AVP 18
a=rtpmap:18 G729/8000
`
)
